//! The background agent: one blocking loop per root that polls the run directories.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trackway_runlog::{SYNCED_MARKER, UploadLock, list_runs};

use crate::capture::{CaptureSet, Outcome};
use crate::keys::ClientPool;
use crate::lock::AgentLock;
use crate::uploader::{Overrides, RunUploader, StepResult};
use crate::{DEFAULT_IDLE, IDLE_ENV, Result};

/// How often the loop wakes when there is nothing to send at once.
const POLL: Duration = Duration::from_millis(50);
/// How often it wakes while a run holds unsent rows that wait to be batched: the wait ends early
/// when the log stops growing or gets its `finish`, and `finish()` is waiting for exactly that.
const PENDING_POLL: Duration = Duration::from_millis(10);
/// How often the root is listed for new run directories.
const SCAN_EVERY: Duration = Duration::from_millis(500);
/// A directory whose log still has no `run` record after this long is ignored (an aborted init).
const EMPTY_RUN_GRACE: Duration = Duration::from_secs(60);

/// Settings of [`run_agent`].
#[derive(Clone, Debug)]
pub struct AgentOptions {
    pub root: PathBuf,
    /// Exit after this long without unsynced online runs.
    pub idle_exit: Duration,
    /// Longest time new rows wait to be batched.
    pub flush_after: Duration,
    /// A key that wins over the environment and stored logins (tests).
    pub api_key: Option<String>,
    /// Run `trackway-capture` (metadata, code, system metrics, file uploads) for each run.
    pub capture: bool,
}

impl AgentOptions {
    /// Defaults, with the idle time from `TRACKWAY_AGENT_IDLE_SECONDS` when set.
    pub fn for_root(root: &Path) -> Self {
        let idle = std::env::var(IDLE_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(DEFAULT_IDLE, Duration::from_secs_f64);
        AgentOptions {
            root: root.to_path_buf(),
            idle_exit: idle,
            flush_after: Duration::from_millis(250),
            api_key: None,
            capture: true,
        }
    }
}

/// Why [`run_agent`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentExit {
    /// Another agent holds the lock of this root.
    AlreadyRunning,
    /// No unsynced online run for the idle period.
    Idle,
}

/// Runs the agent for `opts.root` until it has been idle for `opts.idle_exit`.
pub fn run_agent(opts: &AgentOptions) -> Result<AgentExit> {
    let Some(mut lock) = AgentLock::try_acquire(&opts.root)? else {
        return Ok(AgentExit::AlreadyRunning);
    };
    tracing::info!(root = %opts.root.display(), pid = std::process::id(), "agent started");
    let mut state = Loop {
        runs: BTreeMap::new(),
        ignored: BTreeSet::new(),
        synced: BTreeSet::new(),
        first_seen: BTreeMap::new(),
        upload_locks: BTreeMap::new(),
        captures: CaptureSet::default(),
        log_done: BTreeMap::new(),
        pool: ClientPool { key: opts.api_key.clone(), ..ClientPool::default() },
    };
    loop {
        state.serve(opts)?;
        // Release the lock before the last look, so a run started while we were deciding to
        // exit either sees no agent (and starts one) or is found by this final scan.
        drop(lock);
        state.scan(opts)?;
        if !state.has_pending() {
            tracing::info!(root = %opts.root.display(), "agent idle; exiting");
            return Ok(AgentExit::Idle);
        }
        match AgentLock::try_acquire(&opts.root)? {
            Some(l) => lock = l,
            None => return Ok(AgentExit::AlreadyRunning),
        }
    }
}

struct Loop {
    runs: BTreeMap<PathBuf, RunUploader>,
    /// Synced, offline or abandoned directories: no uploader is started for them again.
    ignored: BTreeSet<PathBuf>,
    /// Directories already marked synced when found: no capture either.
    synced: BTreeSet<PathBuf>,
    captures: CaptureSet,
    /// Runs whose log is fully acknowledged, with their target, waiting for their capture to
    /// finish before `synced` is written (it means files and system metrics too).
    log_done: BTreeMap<PathBuf, String>,
    first_seen: BTreeMap<PathBuf, Instant>,
    /// The upload lock of every run directory this agent uploads (see `trackway_runlog::lock`).
    upload_locks: BTreeMap<PathBuf, UploadLock>,
    pool: ClientPool,
}

impl Loop {
    /// Serves runs until idle for the idle period.
    fn serve(&mut self, opts: &AgentOptions) -> Result<()> {
        let mut idle_since: Option<Instant> = None;
        let mut last_scan: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if last_scan.is_none_or(|t| now.duration_since(t) >= SCAN_EVERY) {
                self.scan(opts)?;
                last_scan = Some(now);
            }
            let (busy, pending) = self.step_all();
            let busy = self.captures.tick(&mut self.pool) || busy;
            self.write_markers();
            if self.has_pending() {
                idle_since = None;
            } else if now.duration_since(*idle_since.get_or_insert(now)) >= opts.idle_exit {
                return Ok(());
            }
            if !busy {
                std::thread::sleep(if pending { PENDING_POLL } else { POLL });
            }
        }
    }

    /// Adds new run directories; returns nothing, errors only on an unreadable root.
    fn scan(&mut self, opts: &AgentOptions) -> Result<()> {
        for info in list_runs(&opts.root)? {
            if self.synced.contains(&info.path) {
                continue;
            }
            if !self.runs.contains_key(&info.path) && !self.ignored.contains(&info.path) {
                if info.path.join(SYNCED_MARKER).exists() {
                    self.synced.insert(info.path);
                    continue;
                }
                let mut up = RunUploader::new(&info.path, Overrides::default(), opts.flush_after)?;
                up.skip_offline = true;
                up.defer_marker = opts.capture;
                self.first_seen.insert(info.path.clone(), Instant::now());
                self.runs.insert(info.path.clone(), up);
            }
            // Capture runs for offline runs too (they are written locally, `sync` uploads them).
            if opts.capture {
                self.captures.ensure(&info.path, None);
            }
        }
        Ok(())
    }

    /// One step for every run: whether some run made progress and may have more right away,
    /// and whether some run holds rows waiting to be batched.
    fn step_all(&mut self) -> (bool, bool) {
        let mut busy = false;
        let mut pending = false;
        let mut drop_dirs = Vec::new();
        for (dir, up) in &mut self.runs {
            // One uploader per run directory: while `trackway sync` holds its lock, wait.
            if !self.upload_locks.contains_key(dir) {
                match UploadLock::try_acquire(dir, Duration::ZERO) {
                    Ok(Some(lock)) => {
                        self.upload_locks.insert(dir.clone(), lock);
                    }
                    _ => continue,
                }
            }
            let result = up.step(&mut self.pool);
            if matches!(result, StepResult::Failed { permanent: true, .. }) {
                // Waiting out a refusal (a bad key): let `trackway sync` try meanwhile.
                self.upload_locks.remove(dir);
            }
            if !self.captures.remotes.contains_key(dir)
                && let Some(remote) = up.remote()
            {
                self.captures.remotes.insert(dir.clone(), remote);
            }
            match result {
                StepResult::Progress => busy = true,
                StepResult::Waiting => pending = true,
                StepResult::Synced => {
                    match (up.defer_marker, up.target_key(), up.remote()) {
                        (true, Some(key), Some(_)) => {
                            self.log_done.insert(dir.clone(), key.to_string());
                        }
                        // A log completed by an older agent whose cursor does not name the run
                        // on the server: its files cannot be placed, so capture stops here
                        // (no `synced`; `trackway sync` explains what to do).
                        (true, _, None) => self.captures.abandon(dir),
                        _ => {}
                    }
                    drop_dirs.push(dir.clone())
                }
                StepResult::Offline | StepResult::Gone => drop_dirs.push(dir.clone()),
                StepResult::NoRunRecord => {
                    let seen = self.first_seen.get(dir).copied().unwrap_or_else(Instant::now);
                    if seen.elapsed() >= EMPTY_RUN_GRACE {
                        tracing::warn!(dir = %dir.display(), "no run record; ignoring this directory");
                        drop_dirs.push(dir.clone());
                    }
                }
                _ => {}
            }
        }
        for d in drop_dirs {
            self.runs.remove(&d);
            self.first_seen.remove(&d);
            if !self.log_done.contains_key(&d) {
                self.upload_locks.remove(&d);
            }
            self.ignored.insert(d);
        }
        (busy, pending)
    }

    /// `synced` for runs whose log and capture are both acknowledged. A capture that failed
    /// (a refused file) leaves the run unmarked, so `trackway sync` can retry it.
    fn write_markers(&mut self) {
        let captures = &self.captures;
        let locks = &mut self.upload_locks;
        self.log_done.retain(|dir, key| {
            let keep = match captures.outcome(dir) {
                Outcome::Open => true,
                Outcome::Failed => false,
                Outcome::Done => {
                    if let Err(e) = crate::marker::mark_synced(dir, key, true) {
                        tracing::warn!(dir = %dir.display(), error = %e, "cannot write the synced marker");
                    }
                    false
                }
            };
            if !keep {
                locks.remove(dir); // uploaded (or given up): `trackway sync` may take over
            }
            keep
        });
    }

    fn has_pending(&self) -> bool {
        !self.runs.is_empty() || self.captures.pending()
    }
}
