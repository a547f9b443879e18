//! One agent per root: an exclusive `flock` on `<root>/agent.lock`, released by the kernel when
//! the process dies (even by kill -9), so a stale lock can never block a new agent.

use std::fs::{File, OpenOptions, TryLockError};
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
    /// process holds it.
    pub fn try_acquire(root: &Path) -> Result<Option<AgentLock>> {
        std::fs::create_dir_all(root).map_err(|e| AgentError::io(root, e))?;
        let path = root.join(trackway_runlog::AGENT_LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| AgentError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's pid, for `trackway status` and for tests that must stop it.
                let _ = file
                    .set_len(0)
                    .and_then(|()| (&file).write_all(std::process::id().to_string().as_bytes()));
                Ok(Some(AgentLock { _file: file, path }))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(AgentError::io(&path, e)),
        }
    }
}

/// Whether a live agent holds the lock of `root` (probes by trying to take it).
pub fn agent_lock_held(root: &Path) -> bool {
    let path = root.join(trackway_runlog::AGENT_LOCK);
    let Ok(file) = OpenOptions::new().write(true).open(&path) else {
        return false;
    };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_first_drops() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = AgentLock::try_acquire(tmp.path())
            .expect("io")
            .expect("free");
        assert!(AgentLock::try_acquire(tmp.path()).expect("io").is_none());
        assert!(agent_lock_held(tmp.path()));
        let pid = std::fs::read_to_string(tmp.path().join("agent.lock")).expect("read");
        assert_eq!(pid, std::process::id().to_string());
        drop(first);
        assert!(!agent_lock_held(tmp.path()));
        assert!(AgentLock::try_acquire(tmp.path()).expect("io").is_some());
    }
}
