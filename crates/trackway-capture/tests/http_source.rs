//! Restore and pull through the server's file routes (docs/capture.md), against a minimal
//! in-test HTTP server that serves a local run directory on port 0.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use common::{first_record, git, run_dir, tree, write};
use trackway_capture::CaptureError;
use trackway_capture::capture_run;
use trackway_capture::restore::{
    HttpRunSource, LocalRunSource, RestoreError, RestoreOptions, RunSource, pull, restore,
};

const KEY: &str = "test-key";

/// Answers GET /api/v1/runs/e/p/{id}[/files[/{path}]] from `src`, like the proposed routes.
fn serve(src: Arc<LocalRunSource>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("authorization: ") {
                    auth = v.trim().to_string();
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, body) = route(&src, &path, &auth);
            let mut s = stream;
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn route(src: &LocalRunSource, path: &str, auth: &str) -> (&'static str, Vec<u8>) {
    let err =
        |code: &str, msg: &str| serde_json::json!({"error": {"code": code, "message": msg}}).to_string().into_bytes();
    if auth != format!("bearer {}", KEY.to_ascii_lowercase()) {
        return ("401 Unauthorized", err("unauthorized", "bad api key"));
    }
    let prefix = format!("/api/v1/runs/e/p/{}", src.run_id());
    let Some(rest) = path.strip_prefix(&prefix) else { return ("404 Not Found", err("run_not_found", "no such run")) };
    match rest {
        "" => {
            let run = serde_json::json!({"run_id": src.run_id(), "config": src.config().expect("config"), "metadata": src.metadata().expect("meta")});
            ("200 OK", run.to_string().into_bytes())
        }
        "/files" => {
            let files: Vec<_> = src
                .list_files()
                .expect("list")
                .into_iter()
                .map(|f| serde_json::json!({"path": f.path, "size": f.size, "sha256": f.sha256}))
                .collect();
            ("200 OK", serde_json::json!({"files": files}).to_string().into_bytes())
        }
        r => match r.strip_prefix("/files/").map(percent_decode).map(|p| src.read_file(&p)) {
            Some(Ok(bytes)) => ("200 OK", bytes),
            _ => ("404 Not Found", err("not_found", "no such file")),
        },
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn restore_and_pull_over_http_reproduce_the_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("train.py"), b"a = 1\n");
    write(&repo.join("lib/util.py"), b"def f():\n    return 1\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    write(&repo.join("train.py"), b"a = 2\nb = [1, 2]\n");
    write(&repo.join("lib/util.py"), b"def f():\n    return 42\n");
    let process = serde_json::json!({"code_path": repo.join("train.py"), "cwd": repo, "argv": ["train.py"]});
    let run = run_dir(&tmp.path().join("runs"), "httprun", process, serde_json::json!({"save_code": true}));
    capture_run(&run, &first_record(&run)).expect("capture");
    write(&run.join("files/media/img one.png"), &[0x89, b'P', b'N', b'G', 0, 1, 2]);

    let base = serve(Arc::new(LocalRunSource::open(&run).expect("local")));
    let src = HttpRunSource::new(&base, KEY, "e", "p", "httprun");
    let fresh = tmp.path().join("fresh");
    git(tmp.path(), &["clone", "-q", repo.to_str().expect("utf8"), fresh.to_str().expect("utf8")]);
    let opts = RestoreOptions { files_out: Some(tmp.path().join("pulled")), ..RestoreOptions::default() };
    let report = restore(&src, &fresh, &opts).expect("restore over http");
    assert!(report.patch_applied);
    assert_eq!(tree(&repo, &[".git"]), tree(&fresh, &[".git", "trackway"]));
    assert!(
        std::fs::read_to_string(fresh.join("trackway/config.yaml")).expect("yaml").contains("\"epochs\":\n  value: 3")
    );
    assert_eq!(
        std::fs::read(tmp.path().join("pulled/media/img one.png")).expect("png"),
        [0x89, b'P', b'N', b'G', 0, 1, 2]
    );
    let again = pull(&src, &tmp.path().join("pulled")).expect("pull again");
    assert!(again.downloaded.is_empty(), "identical files are skipped: {again:?}");

    let bad = HttpRunSource::new(&base, "wrong", "e", "p", "httprun");
    match pull(&bad, &tmp.path().join("x")) {
        Err(CaptureError::Restore(RestoreError::Http { status: 401, message, .. })) => {
            assert_eq!(message, "bad api key")
        }
        other => panic!("expected a 401 error, got {other:?}"),
    }
    let missing = HttpRunSource::new(&base, KEY, "e", "p", "nope");
    assert!(matches!(missing.list_files(), Err(CaptureError::Restore(RestoreError::Http { status: 404, .. }))));
}
