//! The agent's side of `trackway-capture` (docs/capture.md section 8): one `RunCapture` per run
//! directory, online and offline, ticked every loop. It captures metadata/code once, samples
//! system metrics into `system.jsonl` while the writer lives, and for online runs uploads the
//! run's files (`PUT .../files/{path}`) and `system.jsonl` once the run exists on the server.
//!
//! Capture never touches `run.jsonl` uploading: its failures are logged and retried with their
//! own backoff. A capture ends when [`RunCapture::is_done`] (uploads made by earlier processes
//! count, per target) and `system.jsonl` is acknowledged; the caller writes the `synced` marker
//! only then ([`CaptureSet::outcome`]). Transient failures are retried for as long as the agent
//! runs, like the log itself. A file the server refuses for good (a 4xx) ends the capture as
//! failed instead, so one unacceptable file cannot keep the agent alive forever; the run is then
//! not marked synced, and `trackway sync` tries again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_capture::RunCapture;
use trackway_types::{Record, RunRecord};

use crate::artifacts::ArtifactUploads;
use crate::backoff::Backoff;
use crate::crash::{log_has_finish, writer_alive};
use crate::keys::ClientPool;
use crate::stream::{Remote, StreamUploader};

struct Captured {
    cap: RunCapture,
    run: Option<RunRecord>,
    /// Uploader of `system.jsonl`, once the run's server target is known.
    system: Option<StreamUploader>,
    files_backoff: Backoff,
    next_files_try: Instant,
    last_crash_check: Instant,
    /// The run was seen to have ended (its log ends with `finish`, or the writer died).
    ended: bool,
    /// The server refused a file for good: this process gives up on the run's files.
    refused: bool,
    /// The run's logged and used artifacts (docs/artifacts.md).
    artifacts: ArtifactUploads,
}

/// Longest artifact work per tick, so the logs and system metrics of every run keep flowing
/// while a large artifact uploads.
const ARTIFACT_BUDGET: Duration = Duration::from_millis(500);

/// How a capture ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Still running (or never started).
    Open,
    /// Everything it had to upload is acknowledged (or it could not start: nothing to upload).
    Done,
    /// It stopped with something unacknowledged (refused file, deleted directory).
    Failed,
}

/// Capture state of every run directory the agent (or sync) looks after.
#[derive(Default)]
pub(crate) struct CaptureSet {
    runs: BTreeMap<PathBuf, Captured>,
    /// Directories whose capture ended or could not start, with whether everything was
    /// acknowledged: never reopened.
    closed: BTreeMap<PathBuf, bool>,
    /// Where each run lives on the server, once its uploader created it.
    pub(crate) remotes: BTreeMap<PathBuf, Remote>,
}

impl CaptureSet {
    /// Starts capture for `dir` unless it runs already; `uploads` forces file uploads on (sync
    /// of an offline run). Quietly waits while the log has no `run` record yet.
    pub(crate) fn ensure(&mut self, dir: &Path, uploads: Option<bool>) {
        if self.runs.contains_key(dir) || self.closed.contains_key(dir) {
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
                        system: None,
                        files_backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
                        next_files_try: now,
                        // Check at the first tick: a finished run need not wait a second.
                        last_crash_check: now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
                        ended: false,
                        refused: false,
                        artifacts: ArtifactUploads::open(dir),
                    },
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "capture disabled for this run");
                self.closed.insert(dir.to_path_buf(), true);
            }
        }
    }

    pub(crate) fn pending(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Stops the capture of `dir` as failed (nothing more will be uploaded by this process).
    pub(crate) fn abandon(&mut self, dir: &Path) {
        if self.runs.remove(dir).is_some() {
            tracing::warn!(dir = %dir.display(), "the run's server target is unknown; its files are left to `trackway sync`");
            self.closed.insert(dir.to_path_buf(), false);
        }
    }

    /// How the capture of `dir` stands.
    pub(crate) fn outcome(&self, dir: &Path) -> Outcome {
        match self.closed.get(dir) {
            Some(true) => Outcome::Done,
            Some(false) => Outcome::Failed,
            None => Outcome::Open,
        }
    }

    /// One tick for every run: capture, sampling, uploads; closes finished ones. True when some
    /// run has artifact work it can do right away (the agent then ticks again without sleeping).
    pub(crate) fn tick(&mut self, pool: &mut ClientPool) -> bool {
        let mut more = false;
        let now = Instant::now();
        let unix = crate::unix_now();
        let mut done = Vec::new();
        for (dir, c) in &mut self.runs {
            if !dir.exists() {
                done.push((dir.clone(), false));
                continue;
            }
            check_ended(dir, c, now);
            let remote = self.remotes.get(dir);
            if let Some(remote) = remote {
                c.cap.set_target(&remote.key());
                c.system.get_or_insert_with(|| StreamUploader::new(dir, remote));
            }
            let uploads = c.cap.tick(now, unix);
            if let Some(remote) = remote {
                upload_files(dir, c, pool, remote, uploads, now);
                if let (Ok(client), Some(system)) = (pool.get(&remote.base_url), c.system.as_mut()) {
                    system.step(client, remote);
                }
                if let Ok(client) = pool.get(&remote.base_url) {
                    more |= c.artifacts.run_for(client, remote, ARTIFACT_BUDGET);
                }
            }
            if c.refused || c.artifacts.refused || c.system.as_ref().is_some_and(|s| s.refused) {
                done.push((dir.clone(), false));
            } else if capture_done(c, remote.is_some()) {
                done.push((dir.clone(), true));
            }
        }
        for (d, ok) in done {
            self.runs.remove(&d);
            self.closed.insert(d, ok);
        }
        more
    }
}

/// Everything captured is acknowledged. An offline run in the agent uploads nothing (`sync`
/// does it later); an online one needs its server target first, or the files it has were
/// uploaded nowhere.
fn capture_done(c: &mut Captured, has_remote: bool) -> bool {
    if !has_remote {
        let offline = c.run.as_ref().is_some_and(|r| r.mode.as_deref() == Some("offline"));
        return offline && c.cap.is_done();
    }
    c.cap.is_done() && c.system.as_ref().is_some_and(StreamUploader::caught_up) && c.artifacts.is_done()
}

/// Once a second: has the run ended? The agent appends a crashed `finish` only for online runs
/// (sync does it for offline ones), so the capture of an offline run whose writer died is ended
/// here, or the agent would never go idle.
fn check_ended(dir: &Path, c: &mut Captured, now: Instant) {
    if c.ended || now.duration_since(c.last_crash_check) < Duration::from_secs(1) {
        return;
    }
    c.last_crash_check = now;
    let finished = log_has_finish(&dir.join(trackway_runlog::LOG_FILE)).unwrap_or(false);
    let dead = c.run.as_ref().is_some_and(|r| !writer_alive(r));
    if dead && !finished {
        c.cap.mark_crashed();
    }
    c.ended = finished || dead;
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
    for up in uploads {
        // A file that vanished since `due` is not offered again; nothing to report.
        let Ok(bytes) = std::fs::read(&up.abs_path) else {
            continue;
        };
        let run = (remote.entity.as_str(), remote.project.as_str(), remote.run_id.as_str());
        match client.put_file(run, &up.path, &bytes, &up.sha256) {
            Ok(_) => {
                if let Err(e) = c.cap.mark_uploaded(&up.path, &up.sha256) {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot record an uploaded file");
                }
                c.files_backoff.reset();
            }
            Err(e) if !e.is_retryable() => {
                tracing::warn!(dir = %dir.display(), file = %up.path, error = %e, "the server refused a file; the run is not marked synced (`trackway sync` retries)");
                c.refused = true;
                return;
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
    let mut reader = trackway_runlog::LogReader::open(&dir.join(trackway_runlog::LOG_FILE), 0).ok()?;
    match reader.next_entry().ok()??.record {
        Ok(Record::Run(r)) => Some(r),
        _ => None,
    }
}
