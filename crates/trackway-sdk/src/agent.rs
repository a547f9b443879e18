//! Starting the background agent, and waiting for it to drain a run's log.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Agents this process started, reaped on later calls so a quickly exiting agent does not stay a
/// zombie (no thread is started to reap them: the training process stays fork-safe).
static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Whether a live agent holds `<root>/agent.lock` (the one probe, shared with `trackway
/// status`: it takes a shared lock for an instant, and a starting agent retries its lock).
pub use trackway_runlog::agent_alive;

/// Starts `exe agent --root <root>` detached (own process group, stdio to /dev/null) unless a
/// live agent holds `<root>/agent.lock`. Returns true when an agent is (now) running; never
/// fails the caller and never waits for the agent.
pub fn ensure_agent(root: &Path, exe: &Path) -> bool {
    ensure_agent_with(root, exe, &[] as &[&OsStr])
}

/// [`ensure_agent`] for a launcher that needs leading arguments before `agent`, e.g. the
/// Python package's `python -c <run trackway._cli> agent --root <root>` (its CLI lives in the
/// extension).
pub fn ensure_agent_with<S: AsRef<OsStr>>(root: &Path, exe: &Path, args: &[S]) -> bool {
    reap();
    if agent_alive(root) {
        return true;
    }
    let _ = std::fs::create_dir_all(root);
    let spawned = Command::new(exe)
        .args(args)
        .arg("agent")
        .arg("--root")
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Out of the terminal's foreground group: Ctrl-C on the training script must not kill
        // the agent, which has to outlive it to finish the upload.
        .process_group(0)
        .spawn();
    match spawned {
        Ok(child) => {
            if let Ok(mut children) = CHILDREN.lock() {
                children.push(child);
            }
            true
        }
        Err(e) => {
            tracing::debug!("could not start the agent {}: {e}", exe.display());
            false
        }
    }
}

/// How often the logging path checks that the agent is still alive.
const AGENT_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Restarts a dead agent (killed, crashed, OOM) from the logging path, so a run never stays
/// unuploaded while its process lives: at most one lock probe per [`AGENT_CHECK_EVERY`], and a
/// start only when the probe finds the lock free.
#[derive(Debug)]
pub struct AgentWatch {
    root: PathBuf,
    exe: PathBuf,
    args: Vec<OsString>,
    next_check: Instant,
}

impl AgentWatch {
    #[must_use]
    pub fn new(root: &Path, exe: &Path) -> Self {
        Self::with_args(root, exe, Vec::new())
    }

    /// A watch whose restarts run `exe *args agent --root <root>` (see [`ensure_agent_with`]).
    #[must_use]
    pub fn with_args(root: &Path, exe: &Path, args: Vec<OsString>) -> Self {
        AgentWatch {
            root: root.to_path_buf(),
            exe: exe.to_path_buf(),
            args,
            next_check: Instant::now() + AGENT_CHECK_EVERY,
        }
    }

    /// Cheap when called often: a clock read, and a probe when the period has passed.
    pub fn poke(&mut self) {
        let now = Instant::now();
        if now >= self.next_check {
            self.next_check = now + AGENT_CHECK_EVERY;
            ensure_agent_with(&self.root, &self.exe, &self.args);
        }
    }

    /// Probes now, restarting the agent if needed (`finish()`); true when one is running.
    pub fn ensure_now(&mut self) -> bool {
        self.next_check = Instant::now() + AGENT_CHECK_EVERY;
        ensure_agent_with(&self.root, &self.exe, &self.args)
    }
}

/// Where the upload of one log stands, for `finish()`'s message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadState {
    /// Bytes of the log the server has not acknowledged yet.
    pub unsent_bytes: u64,
    /// History records the server dropped (steps another attempt had written).
    pub dropped: u64,
    /// The agent's last error, if its last attempt failed.
    pub error: Option<String>,
}

/// Reads `<run_dir>/upload.json` against the log's current length.
#[must_use]
pub fn upload_state(run_dir: &Path, log_path: &Path, log_id: &str) -> UploadState {
    let len = std::fs::metadata(log_path).map_or(0, |m| m.len());
    match trackway_runlog::read_cursor(run_dir) {
        Ok(Some(c)) if c.log_id == log_id => {
            UploadState { unsent_bytes: len.saturating_sub(c.offset), dropped: c.dropped, error: c.error }
        }
        _ => UploadState { unsent_bytes: len, ..UploadState::default() },
    }
}

fn reap() {
    if let Ok(mut children) = CHILDREN.lock() {
        children.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }
}

/// How often [`wait_uploaded`] looks at the upload cursor.
const WAIT_POLL: Duration = Duration::from_millis(5);

/// Polls `<run_dir>/upload.json` until its offset covers the whole log (`log_path`'s length) for
/// `log_id`, or the timeout passes. Returns false early when the cursor reports an error and
/// made no progress for a second.
#[must_use]
pub fn wait_uploaded(run_dir: &Path, log_path: &Path, log_id: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut last_offset = None;
    let mut last_progress = Instant::now();
    loop {
        let len = std::fs::metadata(log_path).map_or(0, |m| m.len());
        if let Ok(Some(c)) = trackway_runlog::read_cursor(run_dir) {
            if c.log_id == log_id && c.offset >= len {
                return true;
            }
            if last_offset != Some(c.offset) {
                last_offset = Some(c.offset);
                last_progress = Instant::now();
            } else if c.error.is_some() && last_progress.elapsed() >= Duration::from_secs(1) {
                return false;
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        // A short poll: the wait is bounded and each check is a stat and a small read, while
        // every millisecond of poll interval is added to `finish()` on average by half.
        std::thread::sleep((deadline - now).min(WAIT_POLL));
    }
}
