//! Online `resume="allow"` in a directory with no local attempt learns the run from the server
//! (issue 9 item 6): steps continue after the server's last step, its config and summary carry
//! on. An unreachable server leaves init() working from the local state.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use trackway_sdk::{InitOptions, Value, init, map};

/// Answers every request with `body`, one connection at a time.
fn fake_server(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn options(dir: &std::path::Path, base_url: String) -> InitOptions {
    InitOptions {
        project: Some("p".into()),
        entity: Some("admin".into()),
        id: Some("r1".into()),
        dir: Some(dir.to_path_buf()),
        mode: Some("online".into()),
        resume: Some("allow".into()),
        base_url: Some(base_url),
        agent_exe: Some(dir.join("no-such-trackway")),
        config: map! { "batch" => 32_i64 },
        ..Default::default()
    }
}

#[test]
fn online_resume_continues_after_the_servers_last_step() {
    let base = fake_server(
        r#"{"entity":"admin","project":"p","run_id":"r1","state":"finished","last_step":41,"row_count":42,
            "tags":[],"config":{"lr":0.5},"summary":{"loss":0.25,"best":{"$f":"NaN"},"_step":41,"_runtime":7.5}}"#,
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let mut run = init(options(tmp.path(), base)).expect("init");
    assert_eq!(run.step(), 42);
    let summary = run.summary();
    assert_eq!(summary.get("loss"), Some(&Value::Float(0.25)));
    assert!(summary.get("best").and_then(Value::as_f64).is_some_and(f64::is_nan));
    run.log(map! { "loss" => 0.125 }).expect("log");
    let log = std::fs::read_to_string(run.dir().expect("dir").join("run.jsonl")).expect("read");
    let first: serde_json::Value = serde_json::from_str(log.lines().next().expect("run record")).expect("json");
    assert_eq!(first["starting_step"], 42);
    assert_eq!(first["config"]["lr"], 0.5); // the run's config restored...
    assert_eq!(first["config"]["batch"], 32); // ...under the new one
    drop(run); // finishes without waiting for an upload (no agent here)
}

#[test]
fn an_unreachable_server_does_not_fail_init() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let tmp = tempfile::tempdir().expect("tmp");
    let run = init(options(tmp.path(), format!("http://127.0.0.1:{port}"))).expect("init");
    assert_eq!(run.step(), 0);
    drop(run); // finishes without waiting for an upload (no agent here)
}
