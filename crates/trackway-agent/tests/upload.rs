//! The uploader against a mock server: exactly-once delivery across retries, restarts, offset
//! gaps, rejected records and crashed writers. The key is given to the pool, not through
//! the environment, so tests can run in parallel.

mod mock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use trackway_agent::{AgentExit, AgentOptions, ClientPool, Overrides, SyncOptions, SyncOutcome, run_agent, sync_run};

const LOG_ID: &str = "00112233445566778899";

/// A run directory with a `run` record, `rows` history rows and optionally `finish`.
fn make_run(root: &Path, id: &str, url: &str, mode: &str, rows: u64, finish: bool, pid: Option<u32>) -> PathBuf {
    let dir = root.join(format!("run-20261128_120000-{id}"));
    std::fs::create_dir_all(dir.join("files")).expect("mkdir");
    let pid = pid.map_or("null".to_string(), |p| p.to_string());
    let mut text = format!(
        "{{\"t\":\"run\",\"v\":1,\"log_id\":\"{LOG_ID}{id}\",\"run_id\":\"{id}\",\"project\":\"p\",\"mode\":\"{mode}\",\"base_url\":\"{url}\",\"pid\":{pid},\"created_at\":1.0}}\n"
    );
    for s in 0..rows {
        text.push_str(&format!("{{\"t\":\"history\",\"step\":{s},\"ts\":1.5,\"rt\":0.5,\"data\":{{\"loss\":{s}.5,\"n\":{{\"$f\":\"NaN\"}}}}}}\n"));
    }
    if finish {
        text.push_str("{\"t\":\"finish\",\"exit_code\":0,\"ts\":2.0,\"rt\":1.0}\n");
    }
    std::fs::write(dir.join("run.jsonl"), text).expect("write log");
    dir
}

fn opts() -> SyncOptions {
    SyncOptions { overrides: Overrides::default(), retry_for: Duration::from_secs(20), capture: false }
}

fn assert_once(mock: &mock::Mock, log_id: &str, expect: usize) {
    let mut pos = mock.positions(log_id);
    let n = pos.len();
    pos.sort_unstable();
    pos.dedup();
    assert_eq!(pos.len(), n, "duplicate positions delivered");
    assert_eq!(n, expect, "records delivered");
}

#[test]
fn sync_delivers_once_and_second_sync_adds_nothing() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = make_run(tmp.path(), "a1", &mock.url, "offline", 500, true, None);
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { records: 502, .. }), "{out:?}");
    assert!(dir.join("synced").exists());
    let cursor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("upload.json")).expect("cursor")).expect("json");
    assert_eq!(cursor["offset"].as_u64(), Some(std::fs::metadata(dir.join("run.jsonl")).expect("meta").len()));
    assert_once(&mock, &format!("{LOG_ID}a1"), 502);
    assert_eq!(sync_run(&dir, &opts(), &mut pool).expect("sync"), SyncOutcome::AlreadySynced);
    assert_once(&mock, &format!("{LOG_ID}a1"), 502);
}

#[test]
fn retries_server_errors_and_survives_lost_cursor() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = make_run(tmp.path(), "b1", &mock.url, "offline", 50, false, Some(4_194_304 + 11));
    mock.state.lock().expect("lock").fail_next = 3;
    let mut pool = ClientPool::with_key("secret");
    // The writer pid cannot exist, so sync marks the run crashed and completes it.
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    let log = std::fs::read_to_string(dir.join("run.jsonl")).expect("log");
    assert!(log.trim_end().ends_with("\"crashed\":true,\"ts\":") || log.contains("\"crashed\":true"));
    assert_once(&mock, &format!("{LOG_ID}b1"), 52);
    // An agent that lost its cursor resends everything: the server drops what it has.
    std::fs::remove_file(dir.join("synced")).expect("rm marker");
    std::fs::remove_file(dir.join("upload.json")).expect("rm cursor");
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    assert_once(&mock, &format!("{LOG_ID}b1"), 52);
}

#[test]
fn offset_gap_rewinds_and_rejected_record_is_skipped_alone() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = make_run(tmp.path(), "c1", &mock.url, "offline", 20, true, None);
    // A cursor ahead of the server (e.g. the server's data was restored from a backup).
    let len = std::fs::metadata(dir.join("run.jsonl")).expect("meta").len();
    let line1 = std::fs::read_to_string(dir.join("run.jsonl")).expect("log").find('\n').expect("nl") as u64 + 1;
    std::fs::write(dir.join("upload.json"), format!("{{\"log_id\":\"{LOG_ID}c1\",\"offset\":{line1}}}"))
        .expect("cursor");
    assert!(line1 < len);
    mock.state.lock().expect("lock").reject_type = Some("finish".into());
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    // The server refuses the finish record: the uploader isolates it, skips it alone and keeps
    // the rest; its position is acknowledged, so the run still completes.
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    assert_once(&mock, &format!("{LOG_ID}c1"), 21);
    let cursor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("upload.json")).expect("cursor")).expect("json");
    assert_eq!(cursor["offset"].as_u64(), Some(len));
}

#[test]
fn a_record_the_server_names_is_skipped_alone_and_nothing_else() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = make_run(tmp.path(), "n1", &mock.url, "offline", 200, true, None);
    let text = std::fs::read_to_string(dir.join("run.jsonl")).expect("log");
    // The position of the 100th history row.
    let bad = text.match_indices('\n').nth(99).map(|(i, _)| i as u64 + 1).expect("line");
    {
        let mut st = mock.state.lock().expect("lock");
        st.reject_position = Some(bad);
        st.bad_request_next = 1;
    }
    let mut pool = ClientPool::with_key("secret");
    // `bad_request` is about the request, not a record: nothing is skipped, the sync stops.
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Failed { .. }), "{out:?}");
    assert_once(&mock, &format!("{LOG_ID}n1"), 0);
    let before = mock.state.lock().expect("lock").requests;
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    // Every record but the named one, with no bisection: refused batch, resend, done.
    assert_once(&mock, &format!("{LOG_ID}n1"), 201);
    assert!(!mock.positions(&format!("{LOG_ID}n1")).contains(&bad));
    let requests = mock.state.lock().expect("lock").requests - before;
    assert!(requests <= 4, "{requests} requests: the agent bisected instead of skipping the named record");
}

#[test]
fn wrong_key_fails_fast_and_is_recorded_in_the_cursor() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = make_run(tmp.path(), "d1", &mock.url, "offline", 3, true, None);
    let mut pool = ClientPool::with_key("wrong");
    let out = sync_run(&dir, &opts(), &mut pool).expect("sync");
    let SyncOutcome::Failed { message } = out else { panic!("{out:?}") };
    assert!(message.contains("unauthorized"), "{message}");
    assert!(!dir.join("synced").exists());
    assert!(mock.positions(&format!("{LOG_ID}d1")).is_empty());
}

#[test]
fn agent_uploads_online_runs_skips_offline_and_exits_when_idle() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let online = make_run(tmp.path(), "e1", &mock.url, "online", 1000, true, None);
    let offline = make_run(tmp.path(), "e2", &mock.url, "offline", 10, true, None);
    let opts = AgentOptions {
        root: tmp.path().to_path_buf(),
        idle_exit: Duration::from_millis(300),
        flush_after: Duration::from_millis(50),
        api_key: Some("secret".into()),
        capture: false,
    };
    assert_eq!(run_agent(&opts).expect("agent"), AgentExit::Idle);
    assert!(online.join("synced").exists());
    assert!(!offline.join("synced").exists());
    assert_once(&mock, &format!("{LOG_ID}e1"), 1002);
    assert!(mock.positions(&format!("{LOG_ID}e2")).is_empty());
}

#[test]
fn live_run_keeps_the_agent_until_its_directory_is_deleted() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    // Our own pid, created now: a live writer, so the agent must neither finish it nor exit.
    let live = make_run(tmp.path(), "f1", &mock.url, "online", 5, false, Some(std::process::id()));
    let log = live.join("run.jsonl");
    let text =
        std::fs::read_to_string(&log).expect("log").replace("\"created_at\":1.0", &format!("\"created_at\":{}", now()));
    std::fs::write(&log, text).expect("write");
    let opts = AgentOptions {
        root: tmp.path().to_path_buf(),
        idle_exit: Duration::from_millis(200),
        flush_after: Duration::from_millis(50),
        api_key: Some("secret".into()),
        capture: false,
    };
    let removed = live.clone();
    let remover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        std::fs::remove_dir_all(&removed).expect("rm run dir");
    });
    assert_eq!(run_agent(&opts).expect("agent"), AgentExit::Idle);
    // The agent may only go idle once the live run is gone: its directory must not exist.
    assert!(!live.exists(), "agent left a live run behind");
    remover.join().expect("remover");
    assert_once(&mock, &format!("{LOG_ID}f1"), 6);
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64()
}

/// An offline run with a saved file (`now`) and the agent's own metadata capture.
fn run_with_file(root: &Path, id: &str, url: &str) -> PathBuf {
    let dir = make_run(root, id, url, "offline", 5, false, None);
    std::fs::write(dir.join("files/model.txt"), b"weights").expect("file");
    let mut log = std::fs::read_to_string(dir.join("run.jsonl")).expect("log");
    log.push_str("{\"t\":\"file\",\"path\":\"model.txt\",\"policy\":\"now\"}\n");
    log.push_str("{\"t\":\"finish\",\"exit_code\":0,\"ts\":2.0,\"rt\":1.0}\n");
    std::fs::write(dir.join("run.jsonl"), log).expect("log");
    dir
}

fn opts_log_only() -> SyncOptions {
    opts()
}

fn with_files() -> SyncOptions {
    SyncOptions { capture: true, ..opts() }
}

fn uploaded_files(mock: &mock::Mock, run_id: &str) -> Vec<String> {
    let s = mock.state.lock().expect("lock");
    let prefix = format!("/{run_id}/files/");
    let mut out: Vec<String> =
        s.files.iter().filter_map(|p| p.split_once(&prefix).map(|(_, f)| f.to_string())).collect();
    out.sort();
    out
}

#[test]
fn sync_to_a_new_target_uploads_the_log_and_files_again() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = run_with_file(tmp.path(), "g1", &mock.url);
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &with_files(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    assert_eq!(uploaded_files(&mock, "g1"), ["model.txt", "trackway-metadata.json"]);
    let out = sync_run(&dir, &with_files(), &mut pool).expect("sync");
    assert_eq!(out, SyncOutcome::AlreadySynced);
    // Another run id on the same server: the log and every file go there too, the marker and
    // cursors untouched (no deleting of `synced` or upload.json).
    let mut copy = with_files();
    copy.overrides.run_id = Some("copy1".into());
    let out = sync_run(&dir, &copy, &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { records: 8, .. }), "{out:?}");
    assert_eq!(uploaded_files(&mock, "copy1"), ["model.txt", "trackway-metadata.json"]);
    assert_eq!(sync_run(&dir, &copy, &mut pool).expect("sync"), SyncOutcome::AlreadySynced);
    assert_eq!(sync_run(&dir, &with_files(), &mut pool).expect("sync"), SyncOutcome::AlreadySynced);
    assert_eq!(uploaded_files(&mock, "g1").len(), 2, "nothing uploaded twice");
}

#[test]
fn a_refused_file_leaves_the_run_unsynced_and_the_next_sync_retries_it() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = run_with_file(tmp.path(), "h1", &mock.url);
    mock.state.lock().expect("lock").refuse_files = 1;
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &with_files(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Failed { .. }), "{out:?}");
    assert!(!dir.join("synced").exists(), "synced means the files too");
    let out = sync_run(&dir, &with_files(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { records: 0, .. }), "{out:?}");
    assert_eq!(uploaded_files(&mock, "h1"), ["model.txt", "trackway-metadata.json"]);
    assert!(dir.join("synced").exists());
}

/// An agent restarted on a run whose log and files an earlier agent uploaded (it died before
/// writing `synced`) finishes at once: no upload is repeated, and the idle exit is not delayed
/// by a timeout.
#[test]
fn restarted_agent_finishes_a_run_whose_files_are_uploaded() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = run_with_file(tmp.path(), "i1", &mock.url);
    let log = std::fs::read_to_string(dir.join("run.jsonl")).expect("log");
    std::fs::write(dir.join("run.jsonl"), log.replace("\"offline\"", "\"online\"")).expect("log");
    let opts = AgentOptions {
        root: tmp.path().to_path_buf(),
        idle_exit: Duration::from_millis(200),
        flush_after: Duration::from_millis(50),
        api_key: Some("secret".into()),
        capture: true,
    };
    // The first agent died after the log was acknowledged, before any file went up.
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &opts_log_only(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    std::fs::remove_file(dir.join("synced")).expect("rm marker");
    assert!(uploaded_files(&mock, "i1").is_empty());
    // The next agent knows the run's server target from the cursor and uploads the files.
    assert_eq!(run_agent(&opts).expect("agent"), AgentExit::Idle);
    assert!(dir.join("synced").exists());
    assert_eq!(uploaded_files(&mock, "i1"), ["model.txt", "trackway-metadata.json"]);
    let requests = mock.state.lock().expect("lock").requests;
    std::fs::remove_file(dir.join("synced")).expect("rm marker");
    assert_eq!(run_agent(&opts).expect("agent"), AgentExit::Idle);
    assert!(dir.join("synced").exists(), "the second agent marks it synced");
    assert_eq!(mock.state.lock().expect("lock").requests, requests, "and sends nothing");
}

/// A log completed under a cursor of an older agent (no `remote`): the agent cannot place the
/// files, so it must let go of the run (unmarked) instead of waiting forever.
#[test]
fn agent_lets_go_of_a_run_whose_remote_is_unknown() {
    let mock = mock::Mock::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = run_with_file(tmp.path(), "j1", &mock.url);
    let log = std::fs::read_to_string(dir.join("run.jsonl")).expect("log");
    std::fs::write(dir.join("run.jsonl"), log.replace("\"offline\"", "\"online\"")).expect("log");
    let mut pool = ClientPool::with_key("secret");
    let out = sync_run(&dir, &opts_log_only(), &mut pool).expect("sync");
    assert!(matches!(out, SyncOutcome::Synced { .. }), "{out:?}");
    std::fs::remove_file(dir.join("synced")).expect("rm marker");
    let mut cursor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("upload.json")).expect("cursor")).expect("json");
    let obj = cursor.as_object_mut().expect("object");
    obj.remove("target");
    obj.remove("remote");
    std::fs::write(dir.join("upload.json"), cursor.to_string()).expect("cursor");
    let opts = AgentOptions {
        root: tmp.path().to_path_buf(),
        idle_exit: Duration::from_millis(200),
        flush_after: Duration::from_millis(50),
        api_key: Some("secret".into()),
        capture: true,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(run_agent(&opts).map_err(|e| e.to_string())));
    let exit = rx.recv_timeout(Duration::from_secs(30)).expect("the agent must not wait forever");
    assert_eq!(exit, Ok(AgentExit::Idle));
    assert!(!dir.join("synced").exists(), "the files are not on the server");
    let out = sync_run(&dir, &with_files(), &mut pool).expect("sync");
    let SyncOutcome::Failed { message } = out else { panic!("{out:?}") };
    assert!(message.contains("upload.json"), "sync says what to do: {message}");
}
