//! ensure_agent: spawns when nobody holds the lock, not when a live agent does, never fails.

use std::fs::OpenOptions;
use std::path::Path;
use std::time::{Duration, Instant};

use trackway_sdk::{agent_alive, ensure_agent};

fn wait_for(path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn spawns_detached_agent_unless_lock_is_held() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("trackway");
    // A fake `trackway`: records its arguments.
    let exe = tmp.path().join("fake-trackway");
    let marker = tmp.path().join("started");
    std::fs::write(&exe, format!("#!/bin/sh\necho \"$@\" > {}\n", marker.display())).expect("write");
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");

    assert!(!agent_alive(&root));
    assert!(ensure_agent(&root, &exe));
    assert!(wait_for(&marker), "the agent was started");
    let args = std::fs::read_to_string(&marker).expect("read");
    assert_eq!(args.trim(), format!("agent --root {}", root.display()));

    // A live agent holds the lock: no second spawn.
    std::fs::remove_file(&marker).expect("rm");
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(root.join("agent.lock")).expect("lock");
    lock.lock().expect("flock");
    assert!(agent_alive(&root));
    assert!(ensure_agent(&root, &exe));
    std::thread::sleep(Duration::from_millis(200));
    assert!(!marker.exists(), "no agent started while the lock is held");
    drop(lock);

    // A missing executable: false, no panic.
    assert!(!ensure_agent(&root, &tmp.path().join("missing")));
}
