//! Starting the background agent, and waiting for it to drain a run's log.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use trackway_runlog::AGENT_LOCK;

/// Agents this process started, reaped on later calls so a quickly exiting agent does not stay a
/// zombie (no thread is started to reap them: the training process stays fork-safe).
static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Whether a live agent holds `<root>/agent.lock`.
///
/// The probe takes a *shared* lock for an instant: probes never block each other, and the agent
/// holds an exclusive lock for its whole life, so a conflict means it is alive. (An agent that
/// starts during a probe must retry its lock briefly rather than exit at once.)
#[must_use]
pub fn agent_alive(root: &Path) -> bool {
    let Ok(file) = OpenOptions::new().read(true).open(root.join(AGENT_LOCK)) else {
        return false;
    };
    probe(&file)
}

fn probe(file: &File) -> bool {
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// Starts `exe agent --root <root>` detached (own process group, stdio to /dev/null) unless a
/// live agent holds `<root>/agent.lock`. Returns true when an agent is (now) running; never
/// fails the caller and never waits for the agent.
pub fn ensure_agent(root: &Path, exe: &Path) -> bool {
    reap();
    if agent_alive(root) {
        return true;
    }
    let _ = std::fs::create_dir_all(root);
    let spawned = Command::new(exe)
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
