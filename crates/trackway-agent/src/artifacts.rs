//! Artifact uploads of one run directory (docs/artifacts.md "Upload"): the agent's side of
//! `artifact` and `use_artifact` records.
//!
//! The training process only appends a record naming the artifact's files; here, in the
//! agent, each file is hashed (SHA-256), sent in parts of [`PART_BYTES`] unless the server has
//! the blob already (content addressing: identical files are sent once, across versions and
//! projects), and the manifest is committed. [`ArtifactUploads::step`] does one unit of work (a
//! hash, a part, a commit) so the agent loop stays responsive. Finished records are remembered in
//! `artifacts.json` (per server target); a part the server acknowledged is never sent again,
//! because after a restart the agent asks the server where each unfinished blob stands.

use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trackway_client::{Client, ClientError, encode_segment};
use trackway_runlog::LogReader;

use crate::backoff::Backoff;
use crate::stream::Remote;

/// Bytes per upload request: large enough that per-request costs vanish on a LAN, small enough
/// that a cut connection loses little and the agent's memory stays bounded.
pub const PART_BYTES: u64 = 16 << 20;
/// Environment variable overriding [`PART_BYTES`] (64 KiB to 256 MiB; tests use small parts).
pub const PART_BYTES_ENV: &str = "TRACKWAY_ARTIFACT_PART_BYTES";

fn part_bytes() -> u64 {
    std::env::var(PART_BYTES_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(PART_BYTES, |n| n.clamp(64 << 10, 256 << 20))
}
/// The state file of finished records.
pub const STATE_FILE: &str = "artifacts.json";
/// Attempts at a file whose bytes changed while it was being sent.
const MAX_REHASH: u32 = 3;

#[derive(Debug)]
struct FileJob {
    path: String,
    local: Option<PathBuf>,
    sha256: Option<String>,
    size: u64,
    reference: Option<String>,
    ref_digest: Option<String>,
    /// Where the server's copy stands (`None`: not asked yet).
    offset: Option<u64>,
    stored: bool,
    rehashes: u32,
}

#[derive(Debug)]
struct Job {
    pos: u64,
    record: Value,
    files: Vec<FileJob>,
}

/// What the server said about one request, as far as the job is concerned.
enum Failure {
    Retry(String),
    Refused(String),
}

#[derive(Debug)]
pub(crate) struct ArtifactUploads {
    dir: PathBuf,
    reader: Option<LogReader>,
    queue: VecDeque<Job>,
    done: BTreeSet<u64>,
    /// What each committed record (by its `id`) became on the server: `{version, digest, ...}`,
    /// which `Artifact.wait()` in the training process reads.
    results: serde_json::Map<String, Value>,
    target: String,
    backoff: Backoff,
    next_try: Instant,
    /// The server refused a record for good: the run is not marked synced (sync retries).
    pub(crate) refused: bool,
}

fn file_jobs(record: &Value) -> Vec<FileJob> {
    let entries = record.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
    entries
        .iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            FileJob {
                path: s("path").unwrap_or_default(),
                local: s("local").map(PathBuf::from),
                sha256: s("sha256"),
                size: e.get("size").and_then(Value::as_u64).unwrap_or(0),
                reference: s("ref"),
                ref_digest: s("ref_digest"),
                offset: None,
                stored: e.get("ref").is_some(),
                rehashes: 0,
            }
        })
        .collect()
}

fn is_artifact_line(line: &[u8]) -> bool {
    let head = &line[..line.len().min(40)];
    head.windows(14).any(|w| w == b"\"t\":\"artifact\"") || head.windows(18).any(|w| w == b"\"t\":\"use_artifact\"")
}

impl ArtifactUploads {
    pub(crate) fn open(dir: &Path) -> Self {
        ArtifactUploads {
            dir: dir.to_path_buf(),
            reader: LogReader::open(&dir.join(trackway_runlog::LOG_FILE), 0).ok(),
            queue: VecDeque::new(),
            done: BTreeSet::new(),
            results: serde_json::Map::new(),
            target: String::new(),
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(30)),
            next_try: Instant::now(),
            refused: false,
        }
    }

    /// Reads the finished records of `target` (a new target starts over).
    fn set_target(&mut self, target: &str) {
        if self.target == target {
            return;
        }
        self.target = target.to_owned();
        let saved: Value = std::fs::read(self.dir.join(STATE_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let same = saved.get("target").and_then(Value::as_str) == Some(target);
        self.done = if same {
            saved.get("done").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_u64).collect()
        } else {
            BTreeSet::new()
        };
        self.results = match saved.get("results") {
            Some(Value::Object(m)) if same => m.clone(),
            _ => serde_json::Map::new(),
        };
        self.queue.retain(|j| !self.done.contains(&j.pos));
    }

    fn tail(&mut self) {
        let Some(reader) = self.reader.as_mut() else { return };
        while let Ok(Some((pos, _, line))) = reader.next_line() {
            if !is_artifact_line(line) {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(record) => {
                    let files = file_jobs(&record);
                    self.queue.push_back(Job { pos, record, files });
                }
                Err(e) => {
                    tracing::warn!(dir = %self.dir.display(), pos, error = %e, "ignoring a corrupt artifact record")
                }
            }
        }
    }

    /// Every artifact record read so far is on the server (reads new records first).
    pub(crate) fn is_done(&mut self) -> bool {
        self.tail();
        self.queue.iter().all(|j| self.done.contains(&j.pos))
    }

    /// Works for up to `budget`: hashes, parts and commits, in log order. True when work is
    /// left that could go on right away (not waiting out a retry delay).
    pub(crate) fn run_for(&mut self, client: &Client, remote: &Remote, budget: Duration) -> bool {
        self.set_target(&remote.key());
        self.tail();
        let start = Instant::now();
        loop {
            if self.refused || Instant::now() < self.next_try {
                return false;
            }
            let Some(job) = self.queue.front_mut() else { return false };
            if start.elapsed() >= budget {
                return true;
            }
            if self.done.contains(&job.pos) {
                self.queue.pop_front();
                continue;
            }
            match step(job, client, remote) {
                Ok(Some(result)) => {
                    let (pos, id) = (job.pos, job.record.get("id").and_then(Value::as_str).map(str::to_owned));
                    self.queue.pop_front();
                    self.finish(pos, id, result);
                }
                Ok(None) => self.backoff.reset(),
                Err(Failure::Retry(message)) => {
                    let wait = self.backoff.next_delay();
                    tracing::warn!(dir = %self.dir.display(), %message, retry_in_ms = wait.as_millis() as u64, "artifact upload failed");
                    self.next_try = Instant::now() + wait;
                }
                Err(Failure::Refused(message)) => {
                    tracing::warn!(dir = %self.dir.display(), %message, "the server refused an artifact; the run is not marked synced (`trackway sync` retries)");
                    self.refused = true;
                }
            }
        }
    }

    fn finish(&mut self, pos: u64, id: Option<String>, result: Value) {
        self.done.insert(pos);
        if let Some(id) = id {
            self.results.insert(id, result);
        }
        let doc = json!({"target": self.target, "done": self.done, "results": self.results});
        if let Err(e) = trackway_capture::write_atomic(&self.dir.join(STATE_FILE), doc.to_string().as_bytes()) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot record a finished artifact");
        }
    }
}

fn classify(e: ClientError) -> Failure {
    if e.is_retryable() { Failure::Retry(e.to_string()) } else { Failure::Refused(e.to_string()) }
}

/// One unit of work on a job; `Ok(Some(result))` when the job is complete.
fn step(job: &mut Job, client: &Client, remote: &Remote) -> Result<Option<Value>, Failure> {
    if job.record.get("t").and_then(Value::as_str) == Some("use_artifact") {
        return use_artifact(job, client, remote).map(Some);
    }
    if let Some(f) = job.files.iter_mut().find(|f| f.sha256.is_none() && f.reference.is_none()) {
        hash(f)?;
        return Ok(None);
    }
    if let Some(f) = job.files.iter_mut().find(|f| !f.stored) {
        send(f, client, remote)?;
        return Ok(None);
    }
    commit(job, client, remote).map(Some)
}

/// The part of a committed version the training process needs to find it.
fn summary(answer: &Value) -> Value {
    let a = answer.get("artifact").unwrap_or(answer);
    json!({"entity": a.get("entity"), "project": a.get("project"), "name": a.get("name"),
           "version": a.get("version"), "digest": a.get("digest")})
}

fn hash(f: &mut FileJob) -> Result<(), Failure> {
    let local = f.local.as_ref().ok_or_else(|| Failure::Refused(format!("entry {} names no file", f.path)))?;
    let (sha, size) = trackway_capture::hash_file(local)
        .map_err(|e| Failure::Refused(format!("artifact file {}: {e}", local.display())))?;
    f.sha256 = Some(sha);
    f.size = size;
    f.offset = None;
    Ok(())
}

/// Asks where the blob stands (once), then sends the next part.
fn send(f: &mut FileJob, client: &Client, remote: &Remote) -> Result<(), Failure> {
    let sha = f.sha256.clone().unwrap_or_default();
    let at = (remote.entity.as_str(), remote.project.as_str(), sha.as_str());
    let offset = match f.offset {
        Some(o) => o,
        None => {
            let state = client.blob_upload_state(at.0, at.1, at.2).map_err(classify)?;
            f.stored = state.stored;
            f.offset = Some(state.offset);
            return Ok(());
        }
    };
    let part = read_part(f, offset)?;
    match client.put_blob_part(at, offset, f.size, &part) {
        Ok(state) => {
            f.stored = state.stored;
            f.offset = Some(state.offset);
            Ok(())
        }
        Err(ClientError::OffsetGap { expected }) => {
            f.offset = Some(expected);
            Ok(())
        }
        // The bytes changed since they were hashed (a checkpoint rewritten in place): hash again.
        Err(ClientError::Permanent { message, .. }) if message.contains("hash to") && f.rehashes < MAX_REHASH => {
            f.rehashes += 1;
            f.sha256 = None;
            Ok(())
        }
        Err(e) => Err(classify(e)),
    }
}

fn read_part(f: &FileJob, offset: u64) -> Result<Vec<u8>, Failure> {
    let local = f.local.as_ref().ok_or_else(|| Failure::Refused(format!("entry {} names no file", f.path)))?;
    let gone = |e: std::io::Error| Failure::Refused(format!("artifact file {}: {e}", local.display()));
    let mut file = File::open(local).map_err(gone)?;
    file.seek(SeekFrom::Start(offset)).map_err(gone)?;
    let want = part_bytes().min(f.size.saturating_sub(offset));
    let mut part = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    file.take(want).read_to_end(&mut part).map_err(gone)?;
    Ok(part)
}

fn commit(job: &Job, client: &Client, remote: &Remote) -> Result<Value, Failure> {
    let r = &job.record;
    let entries: Vec<Value> = job
        .files
        .iter()
        .map(|f| match &f.reference {
            Some(uri) => json!({"path": f.path, "ref": uri, "ref_digest": f.ref_digest, "size": f.size}),
            None => json!({"path": f.path, "sha256": f.sha256, "size": f.size}),
        })
        .collect();
    let body = json!({
        "name": r.get("name"), "type": r.get("type"), "description": r.get("description"),
        "metadata": r.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "aliases": r.get("aliases").cloned().unwrap_or_else(|| json!([])),
        "tags": r.get("tags").cloned().unwrap_or_else(|| json!([])),
        "ttl": r.get("ttl").cloned().unwrap_or(Value::Null),
        "entries": entries,
    });
    let path = format!("{}/artifacts", run_path(remote));
    let answer = client.request_json("POST", &path, Some(body.to_string().as_bytes())).map_err(classify)?;
    Ok(summary(&answer))
}

fn use_artifact(job: &Job, client: &Client, remote: &Remote) -> Result<Value, Failure> {
    let path = format!("{}/artifacts/used", run_path(remote));
    let answer = client.request_json("POST", &path, Some(job.record.to_string().as_bytes())).map_err(classify)?;
    Ok(summary(&answer))
}

fn run_path(remote: &Remote) -> String {
    format!(
        "/api/v1/runs/{}/{}/{}",
        encode_segment(&remote.entity),
        encode_segment(&remote.project),
        encode_segment(&remote.run_id)
    )
}

/// Uploads local files as artifact blobs of `entity/project` (hash, then resumable parts,
/// nothing sent for blobs the server has) and returns their manifest entries
/// (`{path, sha256, size}`): `trackway artifact put`. Transient failures are retried a few
/// times.
///
/// # Errors
/// A message naming the file and the failure.
pub fn upload_files(
    client: &Client,
    entity: &str,
    project: &str,
    files: &[(String, PathBuf)],
) -> Result<Vec<Value>, String> {
    let remote = Remote {
        base_url: client.base_url().to_owned(),
        entity: entity.into(),
        project: project.into(),
        run_id: String::new(),
    };
    let mut out = Vec::with_capacity(files.len());
    for (path, local) in files {
        let mut job = FileJob {
            path: path.clone(),
            local: Some(local.clone()),
            sha256: None,
            size: 0,
            reference: None,
            ref_digest: None,
            offset: None,
            stored: false,
            rehashes: 0,
        };
        let mut failures = 0;
        while !job.stored {
            let step = if job.sha256.is_none() { hash(&mut job) } else { send(&mut job, client, &remote) };
            match step {
                Ok(()) => failures = 0,
                Err(Failure::Retry(m)) if failures < 5 => {
                    failures += 1;
                    tracing::warn!(file = %path, error = %m, "retrying");
                    std::thread::sleep(Duration::from_millis(500 << failures));
                }
                Err(Failure::Retry(m) | Failure::Refused(m)) => return Err(format!("{path}: {m}")),
            }
        }
        out.push(json!({"path": path, "sha256": job.sha256, "size": job.size}));
    }
    Ok(out)
}
