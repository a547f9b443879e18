//! One agent per root: an exclusive `flock` on `<root>/agent.lock`, released by the kernel when
//! the process dies (even by kill -9), so a stale lock can never block a new agent.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{AgentError, Result};

/// A held agent lock; dropping it releases the lock.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
    pub path: PathBuf,
}

impl AgentLock {
    /// Takes the lock of `root`, creating the root if needed. `Ok(None)` when another live
    /// process holds it. A busy lock is retried briefly: it may be a probe (`init()`,
    /// `trackway status`) holding a shared lock for an instant, which must not make a starting
    /// agent exit.
    pub fn try_acquire(root: &Path) -> Result<Option<AgentLock>> {
        std::fs::create_dir_all(root).map_err(|e| AgentError::io(root, e))?;
        let path = root.join(trackway_runlog::AGENT_LOCK);
        let file = trackway_runlog::try_lock_file(&path, trackway_runlog::lock::LOCK_RETRY)?;
        Ok(file.map(|file| {
            // The holder's pid, for `trackway status` and for tests that must stop it.
            let _ = file.set_len(0).and_then(|()| (&file).write_all(std::process::id().to_string().as_bytes()));
            AgentLock { _file: file, path }
        }))
    }
}

/// Whether a live agent holds the lock of `root`: the shared-lock probe of the SDK, so a status
/// call never makes a starting agent see its lock taken.
pub fn agent_lock_held(root: &Path) -> bool {
    trackway_runlog::agent_alive(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_first_drops() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = AgentLock::try_acquire(tmp.path()).expect("io").expect("free");
        assert!(AgentLock::try_acquire(tmp.path()).expect("io").is_none());
        assert!(agent_lock_held(tmp.path()));
        let pid = std::fs::read_to_string(tmp.path().join("agent.lock")).expect("read");
        assert_eq!(pid, std::process::id().to_string());
        drop(first);
        assert!(!agent_lock_held(tmp.path()));
        assert!(AgentLock::try_acquire(tmp.path()).expect("io").is_some());
    }

    #[test]
    fn a_starting_agent_waits_out_a_probe_instead_of_exiting() {
        // `init()` or `trackway status` probing at the moment the agent starts holds the lock
        // (shared) for an instant; the agent must not take that for another agent.
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join(trackway_runlog::AGENT_LOCK);
        std::fs::write(&path, b"").expect("create");
        let probe = File::open(&path).expect("open");
        probe.try_lock_shared().expect("shared");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(probe);
        });
        let lock = AgentLock::try_acquire(tmp.path()).expect("io");
        release.join().expect("join");
        assert!(lock.is_some(), "the agent gave up because of a probe");
        // And the status probe is a shared one: it never holds the lock against an agent.
        assert!(agent_lock_held(tmp.path()));
    }
}
