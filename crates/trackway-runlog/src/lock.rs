//! Advisory `flock` locks on the files of a root and its run directories: `agent.lock` (one
//! agent per root) and `upload.lock` (one uploader per run directory, the live agent or
//! `trackway sync`). The kernel releases them when the holder dies, even by kill -9, so a stale
//! lock never blocks anyone.
//!
//! Holders take an *exclusive* lock for as long as they work; "is someone holding it" probes
//! take a *shared* lock for an instant, so probes never conflict with each other. A probe can
//! still overlap a holder's first attempt, which is why [`try_lock_file`] retries for a short
//! window before it reports the lock as taken.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{Result, RunlogError};

/// Upload lock inside a run directory.
pub const UPLOAD_LOCK: &str = "upload.lock";

/// How long a would-be holder keeps trying while the lock is busy: longer than any probe holds
/// its shared lock (microseconds), far shorter than a real holder's life.
pub const LOCK_RETRY: Duration = Duration::from_millis(250);
const RETRY_SLEEP: Duration = Duration::from_millis(5);

/// Whether a live process holds `path` exclusively (a shared lock taken for an instant).
#[must_use]
pub fn lock_held(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new().read(true).open(path) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// Whether a live agent holds `<root>/agent.lock`.
#[must_use]
pub fn agent_alive(root: &Path) -> bool {
    lock_held(&root.join(crate::AGENT_LOCK))
}

/// Opens (creating) `path` and takes its exclusive lock, retrying for `retry` while it is busy.
/// `Ok(None)` when another process still holds it after that.
pub fn try_lock_file(path: &Path, retry: Duration) -> Result<Option<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| RunlogError::io(path, e))?;
    let deadline = Instant::now() + retry;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(RETRY_SLEEP);
            }
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(RunlogError::io(path, e)),
        }
    }
}

/// The right to upload one run directory; dropping it releases the lock.
#[derive(Debug)]
pub struct UploadLock {
    _file: File,
}

impl UploadLock {
    /// Takes `<run_dir>/upload.lock`, trying for `wait`: `Ok(None)` when another uploader (the
    /// agent, or `trackway sync`) is still working on this run directory after that.
    pub fn try_acquire(run_dir: &Path, wait: Duration) -> Result<Option<UploadLock>> {
        let file = try_lock_file(&run_dir.join(UPLOAD_LOCK), wait)?;
        Ok(file.map(|f| UploadLock { _file: f }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_do_not_conflict_and_a_holder_waits_out_a_probe() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("agent.lock");
        std::fs::write(&path, b"").expect("create");
        // A probe in progress (a shared lock) ...
        let probe = File::open(&path).expect("open");
        probe.try_lock_shared().expect("shared");
        // ... is not a holder to another probe,
        assert!(!lock_held(&path));
        // ... and a starting holder waits until the probe is over instead of giving up.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(probe);
        });
        let held = try_lock_file(&path, Duration::from_secs(5)).expect("io");
        releaser.join().expect("join");
        assert!(held.is_some());
        assert!(lock_held(&path));
        assert!(try_lock_file(&path, Duration::ZERO).expect("io").is_none());
    }

    #[test]
    fn one_uploader_per_run_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = UploadLock::try_acquire(tmp.path(), Duration::ZERO).expect("io");
        assert!(first.is_some());
        assert!(UploadLock::try_acquire(tmp.path(), Duration::from_millis(20)).expect("io").is_none());
        drop(first);
        assert!(UploadLock::try_acquire(tmp.path(), Duration::ZERO).expect("io").is_some());
    }
}
