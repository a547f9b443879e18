//! RunCapture, the agent's per-run hook: capture once, system.jsonl on cadence, file uploads.
mod common;

use std::time::{Duration, Instant};

use common::{run_dir, write};
use trackway_capture::RunCapture;

#[test]
fn run_capture_drives_metrics_capture_and_uploads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let settings = serde_json::json!({"stats_sample_seconds": 0.05, "stats_window_seconds": 0.1});
    let run = run_dir(tmp.path(), "hook1", serde_json::json!({"argv": ["x.py"], "python": "3.11.7"}), settings);
    let mut record: serde_json::Value = common::first_record(&run);
    record["host"] = sysinfo_host().into();
    let start = Instant::now();
    let mut cap = RunCapture::open(&run, &record, start);
    assert!(cap.next_sample_due().is_some(), "a local live pid is sampled");
    write(&run.join("files/model.txt"), b"m1");
    cap.on_record(&serde_json::json!({"t": "file", "path": "model.txt", "policy": "end"})).expect("file record");
    assert!(cap.on_record(&serde_json::json!({"t": "file", "path": "../x", "policy": "now"})).is_err());

    // Synthetic clock for the sampler: 4 ticks of 50 ms close two 100 ms windows.
    let mut uploads = Vec::new();
    for i in 1..=4 {
        uploads.extend(cap.tick(start + Duration::from_millis(50 * i), 0.0));
    }
    let paths: Vec<&str> = uploads.iter().map(|u| u.path.as_str()).collect();
    assert!(paths.contains(&"trackway-metadata.json"), "capture ran (process record present): {paths:?}");
    assert!(!paths.contains(&"model.txt"), "`end` files wait for the finish");
    for u in &uploads {
        cap.mark_uploaded(&u.path, &u.sha256).expect("mark");
    }
    let sys = std::fs::read_to_string(run.join("system.jsonl")).expect("system.jsonl");
    let lines: Vec<serde_json::Value> = sys.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines[0]["t"], "stream");
    assert_eq!(lines.iter().filter(|l| l["t"] == "stats").count(), 2, "two closed windows: {sys}");
    assert!(lines[1]["data"]["system/proc.memory.rssMB"].as_f64().is_some_and(|v| v > 0.0));

    cap.on_record(&serde_json::json!({"t": "finish", "exit_code": 0})).expect("finish");
    assert!(!cap.is_done());
    let last = cap.tick(start + Duration::from_secs(1), 0.0);
    assert_eq!(last.iter().map(|u| u.path.as_str()).collect::<Vec<_>>(), ["model.txt"]);
    for u in &last {
        cap.mark_uploaded(&u.path, &u.sha256).expect("mark");
    }
    assert!(cap.is_done());
    assert!(cap.next_sample_due().is_none(), "no sampling after finish");
}

#[test]
fn disabled_stats_and_foreign_runs_write_no_system_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = run_dir(tmp.path(), "off", serde_json::json!({}), serde_json::json!({"disable_stats": true}));
    let cap = RunCapture::open(&run, &common::first_record(&run), Instant::now());
    assert!(cap.next_sample_due().is_none());
    let run2 = run_dir(tmp.path(), "foreign", serde_json::json!({}), serde_json::json!({}));
    let mut rec = common::first_record(&run2);
    rec["host"] = "some-other-machine".into();
    let cap2 = RunCapture::open(&run2, &rec, Instant::now());
    assert!(cap2.next_sample_due().is_none(), "a run from another host is not sampled here");
    assert!(!run.join("system.jsonl").exists() && !run2.join("system.jsonl").exists());
}

fn sysinfo_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

#[test]
fn run_capture_tails_file_and_finish_records_itself() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tempdir");
    let run =
        run_dir(tmp.path(), "tail1", serde_json::json!({"argv": ["x.py"]}), serde_json::json!({"disable_stats": true}));
    let start = Instant::now();
    let mut cap = RunCapture::open_dir(&run, start).expect("open").expect("has a run record");
    assert!(RunCapture::open_dir(&tmp.path().join("nope"), start).expect("missing dir").is_none());
    write(&run.join("files/a.txt"), b"a");
    write(&run.join("files/b.txt"), b"b");
    let mut log = std::fs::OpenOptions::new().append(true).open(run.join("run.jsonl")).expect("log");
    writeln!(log, r#"{{"t":"file","path":"a.txt","policy":"now"}}"#).expect("w");
    writeln!(log, r#"{{"policy":"end","t":"file","path":"b.txt"}}"#).expect("w"); // any key order
    writeln!(log, r#"{{"t":"file","path":"/etc/passwd","policy":"now"}}"#).expect("w"); // refused
    let due: Vec<String> = cap.tick(start, 0.0).into_iter().map(|u| u.path).collect();
    assert!(due.contains(&"a.txt".to_string()) && !due.contains(&"b.txt".to_string()), "{due:?}");
    writeln!(log, r#"{{"t":"finish","exit_code":0,"ts":1.0,"rt":1.0}}"#).expect("w");
    let due: Vec<String> = cap.tick(start, 0.0).into_iter().map(|u| u.path).collect();
    assert!(due.contains(&"b.txt".to_string()), "`end` file due after the finish record: {due:?}");
    assert!(!due.iter().any(|p| p.contains("passwd")));
}

/// A training process whose busy worker is a child: the run's system metrics show the work.
#[test]
fn child_process_cpu_is_attributed_to_the_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut trainer =
        std::process::Command::new("sh").arg("-c").arg("sh -c 'while :; do :; done' & wait").spawn().expect("spawn");
    let settings = serde_json::json!({"stats_sample_seconds": 0.1, "stats_window_seconds": 0.3});
    let run = run_dir(tmp.path(), "child", serde_json::json!({}), settings);
    let mut rec = common::first_record(&run);
    rec["pid"] = trainer.id().into();
    rec["host"] = sysinfo_host().into();
    let mut cap = RunCapture::open(&run, &rec, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stats = Vec::new();
    while stats.len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        cap.tick(Instant::now(), 0.0);
        let text = std::fs::read_to_string(run.join("system.jsonl")).unwrap_or_default();
        stats = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["t"] == "stats")
            .collect();
    }
    let all = trackway_sysmon::proctree::scan_all();
    for p in trackway_sysmon::proctree::tree_of(trainer.id(), &all).iter().rev() {
        let _ = std::process::Command::new("kill").arg("-9").arg(p.pid.to_string()).status();
    }
    let _ = trainer.wait();
    assert_eq!(stats.len(), 3, "three 0.3 s windows");
    for s in &stats {
        // exact cadence is checked on a synthetic clock in trackway-sysmon; here only >= 1
        assert!(s["samples"].as_u64().is_some_and(|n| n >= 1), "{s}");
        assert!(s["data"]["system/proc.count"].as_f64().is_some_and(|n| n >= 2.0), "root and worker: {s}");
    }
    let best = stats.iter().filter_map(|s| s["data"]["system/proc.cpu.percent"].as_f64()).fold(0.0, f64::max);
    assert!(best > 10.0, "the busy child's CPU is billed to the run (best window {best:.1} % of a core)");
}

#[test]
fn offline_runs_capture_locally_and_upload_only_when_sync_asks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run =
        run_dir(tmp.path(), "off1", serde_json::json!({"argv": ["x.py"]}), serde_json::json!({"disable_stats": true}));
    let mut rec = common::first_record(&run);
    rec["mode"] = "offline".into();
    let start = Instant::now();
    let mut cap = RunCapture::open(&run, &rec, start);
    assert!(cap.tick(start, 0.0).is_empty(), "offline: nothing offered for upload");
    assert!(run.join("files/trackway-metadata.json").is_file(), "but captured locally");
    cap.on_record(&serde_json::json!({"t": "finish", "exit_code": 0})).expect("finish");
    cap.tick(start, 0.0);
    assert!(cap.is_done(), "the background agent can let go of a finished offline run");
    // `sync` later: same hook, uploads on.
    let mut synced = RunCapture::open(&run, &rec, start);
    synced.set_uploads(true);
    synced.on_record(&serde_json::json!({"t": "finish", "exit_code": 0})).expect("finish");
    let ups: Vec<String> = synced.tick(start, 0.0).into_iter().map(|u| u.path).collect();
    assert!(ups.contains(&"trackway-metadata.json".to_string()), "{ups:?}");
    assert!(!synced.is_done());
}

/// A restarted agent (or a second `sync`) opens a finished run whose files an earlier process
/// uploaded: nothing is offered and the capture is done at once, with no timeout involved.
#[test]
fn restarted_capture_of_an_uploaded_run_is_done() {
    use std::io::Write;
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = run_dir(
        tmp.path(),
        "again1",
        serde_json::json!({"argv": ["x.py"]}),
        serde_json::json!({"disable_stats": true}),
    );
    write(&run.join("files/a.txt"), b"a");
    write(&run.join("files/b.txt"), b"b");
    let mut log = std::fs::OpenOptions::new().append(true).open(run.join("run.jsonl")).expect("log");
    writeln!(log, r#"{{"t":"file","path":"a.txt","policy":"now"}}"#).expect("w");
    writeln!(log, r#"{{"t":"file","path":"b.txt","policy":"live"}}"#).expect("w");
    writeln!(log, r#"{{"t":"finish","exit_code":0,"ts":1.0,"rt":1.0}}"#).expect("w");
    let start = Instant::now();
    let mut first = RunCapture::open_dir(&run, start).expect("open").expect("run record");
    first.set_target("http://s e/p/again1");
    let ups = first.tick(start, 0.0);
    assert!(ups.len() >= 3, "a.txt, b.txt and the captured metadata: {ups:?}");
    for up in ups {
        first.mark_uploaded(&up.path, &up.sha256).expect("mark");
    }
    assert!(first.tick(start, 0.0).is_empty());
    assert!(first.is_done());
    drop(first);
    let mut second = RunCapture::open_dir(&run, start).expect("open").expect("run record");
    second.set_target("http://s e/p/again1");
    assert!(second.tick(start, 0.0).is_empty(), "nothing is uploaded twice");
    assert!(second.is_done(), "the earlier uploads count, so the agent can let go");
    // The same run for a new target is not done until that target has the files.
    let mut third = RunCapture::open_dir(&run, start).expect("open").expect("run record");
    third.set_target("http://s e/p/copy");
    assert!(third.tick(start, 0.0).len() >= 3);
    assert!(!third.is_done());
}
