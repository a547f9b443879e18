//! Run files: which files under `<run dir>/files/` the agent uploads, and when.
//!
//! A file is uploaded only when something asked for it: a `file` record in the run log
//! (`{"t":"file","path":"model.pt","policy":"live"}`, written by `save()` and by console
//! capture for `output.log`) or the agent's own capture ([`crate::capture_run`]). Policies:
//! `now` once, `end` when the run finishes, `live` whenever it changes (debounced, see
//! [`FileWatcher`]) and once more at the end. Unchanged content is never uploaded twice, and
//! files matching the ignore globs are never uploaded at all.
//!
//! The agent loop: feed records to [`RunFiles::add`], call [`RunFiles::due`] each tick (with
//! `finishing = true` once after the run's `finish` record), upload each [`Upload`] (`PUT
//! /api/v1/runs/{e}/{p}/{id}/files/{path}`), then [`RunFiles::mark_uploaded`]. Upload state is
//! kept in `<run dir>/files-uploaded.json` so a restarted agent does not upload again. It is kept
//! per server target ([`RunFiles::set_target`]: base URL and `entity/project/run_id`), because
//! what one server has says nothing about another: `trackway sync --id NEW` uploads everything.
//! Shape: `{"v":2,"targets":{"<target>":{"<path>":"<sha256>"}}}`; the flat `{"<path>":"<sha256>"}`
//! of older agents is read as the unnamed target `""`. Each acknowledged upload is appended as one
//! line `{"target","path","sha256"}` to `files-uploaded.jsonl` and the snapshot is rewritten only
//! when that journal outgrows it, so a run of N media files costs O(N) bytes of state writes, not
//! O(N²) (a whole-file rewrite per upload did).
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::CaptureError;
use crate::paths::{IgnoreGlobs, validate_rel_path};
use crate::watcher::FileWatcher;

pub const UPLOAD_STATE_FILE: &str = "files-uploaded.json";
/// Uploads acknowledged since the snapshot was last written, one JSON line each.
pub const UPLOAD_JOURNAL_FILE: &str = "files-uploaded.jsonl";
/// The journal is folded into the snapshot once it holds this many lines and more lines than the
/// snapshot has entries (amortised O(1) per upload).
const JOURNAL_MIN_LINES: usize = 1024;
/// Quiet time before a changed `live` file is uploaded.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Live,
    Now,
    End,
}

/// `{"t":"file","path":...,"policy":...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub policy: Policy,
}

impl FileRecord {
    pub fn new(path: &str, policy: Policy) -> Self {
        FileRecord { path: path.to_string(), policy }
    }

    /// Parses a run-log record of type `file`; the path is validated.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, CaptureError> {
        if v.get("t").and_then(|t| t.as_str()) != Some("file") {
            return Err(CaptureError::BadRecord("not a `file` record".into()));
        }
        let rec: FileRecord = serde_json::from_value(v.clone()).map_err(|e| CaptureError::BadRecord(e.to_string()))?;
        Ok(FileRecord { path: validate_rel_path(&rec.path)?, policy: rec.policy })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"t": "file", "path": self.path, "policy": self.policy})
    }
}

/// One file to upload now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// Run-relative path (the `{path}` of the files route).
    pub path: String,
    /// Where to read it (symlinks already resolved by the OS on open).
    pub abs_path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

struct Tracked {
    policy: Policy,
    /// Changed since the last upload decision (watcher event, or newly registered).
    changed: bool,
    /// Handed out by `due` and not yet confirmed by `mark_uploaded`: offered again next time,
    /// so a failed upload is retried.
    pending: bool,
    /// The end-of-run check of a `live`/`end` file happened (each file is hashed once at the
    /// end, not on every tick until the agent lets go of the run).
    final_done: bool,
}

/// `files-uploaded.json`: per target, path -> sha256 of the content that target acknowledged.
#[derive(Default, Serialize, Deserialize)]
struct UploadState {
    v: u32,
    targets: BTreeMap<String, BTreeMap<String, String>>,
}

/// One journal line.
#[derive(Serialize, Deserialize)]
struct JournalLine {
    target: String,
    path: String,
    sha256: String,
}

impl UploadState {
    /// The snapshot with the journal replayed onto it. A torn or unreadable line is skipped:
    /// losing an entry only costs bandwidth (the server ignores a PUT of content it has).
    fn load_with_journal(snapshot: &Path, journal: &Path) -> (Self, usize) {
        let mut state = Self::load(snapshot);
        let Ok(bytes) = fs::read(journal) else { return (state, 0) };
        let mut lines = 0;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            if let Ok(j) = serde_json::from_slice::<JournalLine>(line) {
                state.targets.entry(j.target).or_default().insert(j.path, j.sha256);
            }
        }
        (state, lines)
    }

    fn entries(&self) -> usize {
        self.targets.values().map(BTreeMap::len).sum()
    }

    fn load(path: &Path) -> Self {
        let Ok(bytes) = fs::read(path) else { return UploadState::default() };
        if let Ok(state) = serde_json::from_slice::<UploadState>(&bytes) {
            return state;
        }
        match serde_json::from_slice::<BTreeMap<String, String>>(&bytes) {
            Ok(flat) => UploadState { v: 2, targets: BTreeMap::from([(String::new(), flat)]) },
            Err(e) => {
                // Losing the state only costs bandwidth: the server ignores a PUT of the content
                // it already has.
                tracing::warn!(path = %path.display(), error = %e, "unreadable upload state; uploading again");
                UploadState::default()
            }
        }
    }
}

pub struct RunFiles {
    files_dir: PathBuf,
    state_path: PathBuf,
    journal_path: PathBuf,
    /// Lines in the journal since the snapshot was last written.
    journal_lines: usize,
    ignore: IgnoreGlobs,
    tracked: BTreeMap<String, Tracked>,
    state: UploadState,
    /// The server target uploads go to (`""` until [`RunFiles::set_target`]).
    target: String,
    /// What `target` acknowledged: path -> sha256 (a copy of `state.targets[target]`).
    uploaded: BTreeMap<String, String>,
    watcher: FileWatcher,
    /// path -> (len, mtime, sha256): an unchanged file is not read again (a retried upload of a
    /// large checkpoint would otherwise be re-hashed on every tick).
    hashes: BTreeMap<String, (u64, std::time::SystemTime, String)>,
}

impl RunFiles {
    pub fn open(run_dir: &Path, ignore: IgnoreGlobs, debounce: Duration) -> Self {
        let state_path = run_dir.join(UPLOAD_STATE_FILE);
        let journal_path = run_dir.join(UPLOAD_JOURNAL_FILE);
        let (state, journal_lines) = UploadState::load_with_journal(&state_path, &journal_path);
        let uploaded = state.targets.get("").cloned().unwrap_or_default();
        let mut files = RunFiles {
            files_dir: run_dir.join("files"),
            state_path,
            journal_path,
            journal_lines,
            ignore,
            tracked: BTreeMap::new(),
            state,
            target: String::new(),
            uploaded,
            watcher: FileWatcher::new(debounce),
            hashes: BTreeMap::new(),
        };
        if files.journal_lines > 0 {
            // Fold it in now, so appends start on a clean line even after a torn write.
            if let Err(e) = files.write_snapshot() {
                tracing::warn!(error = %e, "cannot fold the upload journal into its snapshot");
            }
        }
        files
    }

    /// Registers a file (a later record for the same path replaces its policy).
    pub fn add(&mut self, rec: &FileRecord) -> Result<(), CaptureError> {
        let path = validate_rel_path(&rec.path)?;
        if rec.policy == Policy::Live {
            self.watcher.watch(&path, &self.files_dir.join(&path));
        }
        self.tracked.insert(path, Tracked { policy: rec.policy, changed: true, pending: false, final_done: false });
        Ok(())
    }

    /// Chooses the server target (for example `http://host:8080 entity/project/run_id`) whose
    /// acknowledged uploads count. Switching targets makes every file due again, as if newly
    /// registered, and compares it with what the new target has.
    pub fn set_target(&mut self, target: &str) {
        if self.target == target {
            return;
        }
        self.target = target.to_string();
        self.uploaded = self.state.targets.get(target).cloned().unwrap_or_default();
        for t in self.tracked.values_mut() {
            *t = Tracked { policy: t.policy, changed: true, pending: false, final_done: false };
        }
    }

    /// The current target (`""` until [`RunFiles::set_target`]).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether an ignore glob keeps `path` local.
    pub fn should_upload(&self, path: &str) -> bool {
        self.ignore.should_upload(path)
    }

    /// Files to upload now. `finishing`: the run ended, so `end` files and the final state of
    /// `live` files are due too.
    pub fn due(&mut self, now: Instant, finishing: bool) -> Vec<Upload> {
        for rel in self.watcher.poll(now) {
            // After the end-of-run upload a file is settled: a writer that keeps touching it
            // (another program) must not keep the run from ever finishing.
            if let Some(t) = self.tracked.get_mut(&rel).filter(|t| !t.final_done) {
                t.changed = true;
            }
        }
        let mut out = Vec::new();
        let hashes = &mut self.hashes;
        for (path, t) in &mut self.tracked {
            let wanted = t.pending
                || match t.policy {
                    Policy::Now => !self.uploaded.contains_key(path),
                    Policy::Live => t.changed || (finishing && !t.final_done),
                    Policy::End => finishing && !t.final_done,
                };
            if !wanted || !self.ignore.should_upload(path) {
                if t.policy == Policy::Now && !t.pending {
                    // A `now` file this target already has (an earlier process uploaded it) or
                    // that stays local: nothing will ever be due, so it is settled.
                    t.changed = false;
                }
                continue;
            }
            let abs = self.files_dir.join(path);
            // Only a retry of an unconfirmed upload trusts the (len, mtime) cache: a change
            // event or the end-of-run check always reads the file (mtimes are coarse).
            let final_check = finishing && !t.final_done;
            let retry_only = t.pending && !t.changed && !final_check;
            let hashed = cached_hash(hashes, path, &abs, retry_only);
            if finishing {
                t.final_done = true;
            }
            let (sha256, size) = match hashed {
                Ok(h) => h,
                Err(e) => {
                    if finishing {
                        t.changed = false; // still missing at the end: nothing to upload
                        if let Ok(link) = fs::read_link(&abs) {
                            // save()d from a place that is gone: say so, never skip it silently
                            tracing::warn!(path = %path, source = %link.display(), "saved file cannot be uploaded: its source no longer exists");
                        }
                    }
                    if e.kind() == std::io::ErrorKind::NotFound {
                        t.pending = false; // deleted after a failed upload: nothing to retry
                    }
                    continue; // not written yet: retry later
                }
            };
            t.changed = false;
            t.pending = self.uploaded.get(path) != Some(&sha256);
            if t.pending {
                out.push(Upload { path: path.clone(), abs_path: abs, sha256, size });
            }
        }
        out
    }

    /// Records a successful upload: one line appended to the journal, which is folded into the
    /// snapshot (written atomically) once it outgrows it.
    pub fn mark_uploaded(&mut self, path: &str, sha256: &str) -> Result<(), CaptureError> {
        if let Some(t) = self.tracked.get_mut(path) {
            t.pending = false;
        }
        self.uploaded.insert(path.to_string(), sha256.to_string());
        self.state.targets.entry(self.target.clone()).or_default().insert(path.to_string(), sha256.to_string());
        if self.journal_lines >= JOURNAL_MIN_LINES.max(self.state.entries()) {
            return self.write_snapshot();
        }
        let line = JournalLine { target: self.target.clone(), path: path.to_string(), sha256: sha256.to_string() };
        let mut bytes = serde_json::to_vec(&line).map_err(|e| CaptureError::Json(e.to_string()))?;
        bytes.push(b'\n');
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal_path)
            .map_err(|e| CaptureError::io(&self.journal_path, e))?;
        f.write_all(&bytes).map_err(|e| CaptureError::io(&self.journal_path, e))?;
        self.journal_lines += 1;
        Ok(())
    }

    /// Writes the whole state as the snapshot, then empties the journal (replaying a journal
    /// onto a snapshot that already holds it is harmless, so a crash in between loses nothing).
    fn write_snapshot(&mut self) -> Result<(), CaptureError> {
        self.state.v = 2;
        let json = serde_json::to_vec(&self.state).map_err(|e| CaptureError::Json(e.to_string()))?;
        crate::code::write_atomic(&self.state_path, &json)?;
        fs::File::create(&self.journal_path).map_err(|e| CaptureError::io(&self.journal_path, e))?;
        self.journal_lines = 0;
        Ok(())
    }

    /// True when nothing is left to upload for a finished run: no upload pending or changed,
    /// every `now` file uploaded (or absent), and the end-of-run check of every `live`/`end` file
    /// done (call `due(.., true)` first). Cheap: no file is read.
    pub fn all_uploaded(&self) -> bool {
        self.tracked.iter().filter(|(p, _)| self.ignore.should_upload(p)).all(|(p, t)| {
            let settled = !t.pending && !t.changed;
            match t.policy {
                Policy::Now => settled && (self.uploaded.contains_key(p) || !self.files_dir.join(p).exists()),
                Policy::Live | Policy::End => settled && t.final_done,
            }
        })
    }
}

fn cached_hash(
    cache: &mut BTreeMap<String, (u64, std::time::SystemTime, String)>,
    path: &str,
    abs: &Path,
    trust_cache: bool,
) -> std::io::Result<(String, u64)> {
    let meta = fs::metadata(abs)?;
    let mtime = meta.modified()?;
    if trust_cache
        && let Some((len, t, sha)) = cache.get(path)
        && *len == meta.len()
        && *t == mtime
    {
        return Ok((sha.clone(), *len));
    }
    let (sha, size) = hash_file(abs)?;
    cache.insert(path.to_string(), (size, mtime, sha.clone()));
    Ok((sha, size))
}

/// SHA-256 (hex) and size of a file, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(h.finalize()), size))
}
