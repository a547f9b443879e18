//! The agent's side of `trackway-capture` (docs/capture.md section 8): one `RunCapture` per run
//! directory, online and offline, ticked every loop. It captures metadata/code once, samples
//! system metrics into `system.jsonl` while the writer lives, and for online runs uploads the
//! run's files (`PUT .../files/{path}`) and `system.jsonl` once the run exists on the server.
//!
//! Capture never touches `run.jsonl` uploading: its failures are logged and retried slowly, and
//! the `synced` marker keeps meaning "the run log is on the server".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_capture::RunCapture;
use trackway_types::{Record, RunRecord};

use crate::backoff::Backoff;
use crate::crash::{log_has_finish, writer_alive};
use crate::keys::ClientPool;
use crate::stream::{Remote, StreamUploader};

struct Captured {
    cap: RunCapture,
    run: Option<RunRecord>,
    system: StreamUploader,
    files_backoff: Backoff,
    next_files_try: Instant,
    last_crash_check: Instant,
    /// When the run was seen to have ended (its log ends with `finish`, or the writer died).
    ended_at: Option<Instant>,
    /// The last time a file was due or an upload was tried.
    last_activity: Instant,
}

/// Capture state of every run directory the agent (or sync) looks after.
pub(crate) struct CaptureSet {
    /// After the run ended, a capture with nothing due for this long is finished even if
    /// `RunCapture::is_done` disagrees (it must never keep the agent alive forever).
    pub(crate) quiet: Duration,
    runs: BTreeMap<PathBuf, Captured>,
    /// Directories whose capture ended or could not start: never reopened.
    closed: BTreeSet<PathBuf>,
    /// Where each run lives on the server, once its uploader created it.
    pub(crate) remotes: BTreeMap<PathBuf, Remote>,
}

impl Default for CaptureSet {
    fn default() -> Self {
        CaptureSet {
            quiet: Duration::from_secs(3),
            runs: BTreeMap::new(),
            closed: BTreeSet::new(),
            remotes: BTreeMap::new(),
        }
    }
}

impl CaptureSet {
    /// Starts capture for `dir` unless it runs already; `uploads` forces file uploads on (sync
    /// of an offline run). Quietly waits while the log has no `run` record yet.
    pub(crate) fn ensure(&mut self, dir: &Path, uploads: Option<bool>) {
        if self.runs.contains_key(dir) || self.closed.contains(dir) {
            return;
        }
        match RunCapture::open_dir(dir, Instant::now()) {
            Ok(Some(mut cap)) => {
                if let Some(on) = uploads {
                    cap.set_uploads(on);
                }
                let now = Instant::now();
                self.runs.insert(
                    dir.to_path_buf(),
                    Captured {
                        cap,
                        run: first_run_record(dir),
                        system: StreamUploader::new(dir),
                        files_backoff: Backoff::new(
                            Duration::from_secs(1),
                            Duration::from_secs(30),
                        ),
                        next_files_try: now,
                        // Check at the first tick: a finished run need not wait a second.
                        last_crash_check: now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
                        ended_at: None,
                        last_activity: now,
                    },
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "capture disabled for this run");
                self.closed.insert(dir.to_path_buf());
            }
        }
    }

    pub(crate) fn pending(&self) -> bool {
        !self.runs.is_empty()
    }

    /// One tick for every run: capture, sampling, uploads; drops finished ones.
    pub(crate) fn tick(&mut self, pool: &mut ClientPool) {
        let now = Instant::now();
        let unix = crate::unix_now();
        let mut done = Vec::new();
        for (dir, c) in &mut self.runs {
            if !dir.exists() {
                done.push(dir.clone());
                continue;
            }
            check_ended(dir, c, now);
            let uploads = c.cap.tick(now, unix);
            if !uploads.is_empty() {
                c.last_activity = now;
            }
            let remote = self.remotes.get(dir);
            if let Some(remote) = remote {
                upload_files(dir, c, pool, remote, uploads, now);
                if let Ok(client) = pool.get(&remote.base_url) {
                    c.system.step(client, remote);
                }
            }
            // Without a remote (an offline run in the agent) system.jsonl waits for `sync`.
            let system_done = remote.is_none() || c.system.unsent() == 0;
            let quiet = c
                .ended_at
                .is_some_and(|t| now.duration_since(t.max(c.last_activity)) >= self.quiet);
            if system_done && (c.cap.is_done() || quiet) {
                done.push(dir.clone());
            }
        }
        for d in done {
            self.runs.remove(&d);
            self.closed.insert(d);
        }
    }
}

/// Once a second: has the run ended? The agent appends a crashed `finish` only for online runs
/// (sync does it for offline ones), so the capture of an offline run whose writer died is ended
/// here, or the agent would never go idle.
fn check_ended(dir: &Path, c: &mut Captured, now: Instant) {
    if c.ended_at.is_some() || now.duration_since(c.last_crash_check) < Duration::from_secs(1) {
        return;
    }
    c.last_crash_check = now;
    let finished = log_has_finish(&dir.join(trackway_runlog::LOG_FILE)).unwrap_or(false);
    let dead = c.run.as_ref().is_some_and(|r| !writer_alive(r));
    if dead && !finished {
        c.cap.mark_crashed();
    }
    if finished || dead {
        c.ended_at = Some(now);
    }
}

fn upload_files(
    dir: &Path,
    c: &mut Captured,
    pool: &mut ClientPool,
    remote: &Remote,
    uploads: Vec<trackway_capture::Upload>,
    now: Instant,
) {
    if uploads.is_empty() || now < c.next_files_try {
        return;
    }
    let Ok(client) = pool.get(&remote.base_url) else {
        return;
    };
    c.last_activity = now;
    for up in uploads {
        let result = std::fs::read(&up.abs_path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                client
                    .put_file(
                        (&remote.entity, &remote.project, &remote.run_id),
                        &up.path,
                        &bytes,
                        &up.sha256,
                    )
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(_) => {
                if let Err(e) = c.cap.mark_uploaded(&up.path, &up.sha256) {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot record an uploaded file");
                }
                c.files_backoff.reset();
            }
            Err(e) => {
                let wait = c.files_backoff.next_delay();
                tracing::warn!(dir = %dir.display(), file = %up.path, error = %e, retry_in_ms = wait.as_millis() as u64, "file upload failed");
                c.next_files_try = now + wait;
                return;
            }
        }
    }
}

fn first_run_record(dir: &Path) -> Option<RunRecord> {
    let mut reader =
        trackway_runlog::LogReader::open(&dir.join(trackway_runlog::LOG_FILE), 0).ok()?;
    match reader.next_entry().ok()??.record {
        Ok(Record::Run(r)) => Some(r),
        _ => None,
    }
}
