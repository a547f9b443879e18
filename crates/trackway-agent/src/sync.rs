//! Foreground upload of chosen run directories (`trackway sync`), and the list of runs still
//! waiting to upload (`trackway status`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_runlog::{LOG_FILE, SYNCED_MARKER, list_runs};

use crate::Result;
use crate::capture::{CaptureSet, Outcome};
use crate::crash::writer_alive;
use crate::keys::ClientPool;
use crate::uploader::{Overrides, RunUploader, StepResult};

/// Settings of [`sync_run`].
#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub overrides: Overrides,
    /// Give up on a run whose server stays unreachable (or keeps failing) this long.
    pub retry_for: Duration,
    /// Also upload the run's files and system metrics (`trackway-capture`).
    pub capture: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions { overrides: Overrides::default(), retry_for: Duration::from_secs(30), capture: true }
    }
}

/// How one run's sync ended.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncOutcome {
    /// Everything is on the server and the run is marked synced.
    Synced { path: Option<String>, records: u64, bytes: u64 },
    /// It was already marked synced to this target; nothing was sent.
    AlreadySynced,
    /// Everything written so far is on the server; the writer is still running.
    StillRunning { path: Option<String>, records: u64, bytes: u64 },
    /// It could not be uploaded.
    Failed { message: String },
}

impl SyncOutcome {
    pub fn is_ok(&self) -> bool {
        !matches!(self, SyncOutcome::Failed { .. })
    }
}

/// Uploads one run directory in the foreground until the server acknowledged all of it.
/// Offline runs are included. A run whose writer died without finishing is marked crashed.
pub fn sync_run(dir: &Path, opts: &SyncOptions, pool: &mut ClientPool) -> Result<SyncOutcome> {
    if !dir.join(LOG_FILE).is_file() {
        return Ok(SyncOutcome::Failed { message: format!("{} has no {LOG_FILE}", dir.display()) });
    }
    // One uploader per run directory: a live agent uploading this run keeps its lock until the
    // run is synced; two uploaders would write the same cursor.
    let Some(_lock) = trackway_runlog::UploadLock::try_acquire(dir, opts.retry_for)? else {
        return Ok(SyncOutcome::Failed {
            message: "the background agent is uploading this run (see `trackway status`); sync it again once the agent is done".into(),
        });
    };
    let mut up = RunUploader::new(dir, opts.overrides.clone(), Duration::ZERO)?;
    // `synced` is written here, after the files: it means the log *and* the files are there.
    up.defer_marker = opts.capture;
    if up.marked_synced() {
        return Ok(SyncOutcome::AlreadySynced);
    }
    let mut failing_since: Option<Instant> = None;
    loop {
        match up.step(pool) {
            StepResult::Synced => {
                if let Err(message) = sync_capture(dir, &up, opts, pool) {
                    return Ok(SyncOutcome::Failed { message });
                }
                if let (true, Some(key)) = (opts.capture, up.target_key()) {
                    crate::marker::mark_synced(dir, key, true)?;
                }
                return Ok(SyncOutcome::Synced {
                    path: up.remote_path(),
                    records: up.sent_records,
                    bytes: up.sent_bytes,
                });
            }
            StepResult::Progress => failing_since = None,
            StepResult::CaughtUp => {
                // The crash check ran inside `step`; a live writer means the run is not over.
                if up.run.as_ref().is_some_and(writer_alive) {
                    return Ok(SyncOutcome::StillRunning {
                        path: up.remote_path(),
                        records: up.sent_records,
                        bytes: up.sent_bytes,
                    });
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            StepResult::Gone => {
                return Ok(SyncOutcome::Failed { message: "the run directory was deleted".into() });
            }
            StepResult::NoRunRecord => {
                return Ok(SyncOutcome::Failed { message: "the log has no run record".into() });
            }
            StepResult::Failed { message, permanent } => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if permanent || since.elapsed() >= opts.retry_for {
                    return Ok(SyncOutcome::Failed { message });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            StepResult::Waiting | StepResult::Offline => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Uploads the run's files and system metrics once its log is on the server (capture runs here
/// if no agent did it). Bounded by `retry_for`.
fn sync_capture(dir: &Path, up: &RunUploader, opts: &SyncOptions, pool: &mut ClientPool) -> Result<(), String> {
    if !opts.capture {
        return Ok(());
    }
    let Some(remote) = up.remote() else {
        return Err("the run log is on the server, but its cursor does not say which run it is there (written by an older agent): delete upload.json and sync again".into());
    };
    let mut set = CaptureSet::default();
    set.ensure(dir, Some(true));
    set.remotes.insert(dir.to_path_buf(), remote);
    let deadline = Instant::now() + opts.retry_for;
    let unfinished = "the run log is on the server, but some files or system metrics are not (see the messages above); run `trackway sync` again";
    while set.pending() {
        if Instant::now() >= deadline {
            return Err(unfinished.into());
        }
        if !set.tick(pool) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    match set.outcome(dir) {
        Outcome::Failed => Err(unfinished.into()),
        Outcome::Done | Outcome::Open => Ok(()),
    }
}

/// A run directory with data the server has not acknowledged.
#[derive(Clone, Debug)]
pub struct PendingRun {
    pub dir: PathBuf,
    pub run_id: String,
    pub offline: bool,
    pub unsent_bytes: u64,
    pub error: Option<String>,
}

/// The run directories under `root` that are not marked synced, with their unsent bytes.
pub fn pending_runs(root: &Path) -> Result<Vec<PendingRun>> {
    let mut out = Vec::new();
    for info in list_runs(root)? {
        if info.path.join(SYNCED_MARKER).exists() {
            continue;
        }
        let cursor = trackway_runlog::read_cursor(&info.path).ok().flatten();
        let size = std::fs::metadata(info.path.join(LOG_FILE)).map_or(0, |m| m.len());
        let first = first_record_mode(&info.path.join(LOG_FILE));
        let acked = match (&cursor, &first) {
            (Some(c), Some((log_id, _))) if &c.log_id == log_id => c.offset,
            _ => 0,
        };
        out.push(PendingRun {
            dir: info.path,
            run_id: info.run_id,
            offline: first.as_ref().is_some_and(|(_, m)| m.as_deref() == Some("offline")),
            unsent_bytes: size.saturating_sub(acked),
            error: cursor.and_then(|c| c.error),
        });
    }
    Ok(out)
}

fn first_record_mode(log: &Path) -> Option<(String, Option<String>)> {
    let mut reader = trackway_runlog::LogReader::open(log, 0).ok()?;
    match reader.next_entry().ok()??.record {
        Ok(trackway_types::Record::Run(r)) => Some((r.log_id, r.mode)),
        _ => None,
    }
}
