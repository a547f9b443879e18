//! The tracking-server reader against a canned MLflow REST API on 127.0.0.1: every listing
//! answers in two pages, so following `next_page_token` is part of what is checked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use serde_json::json;
use trackway_types::Value;

use crate::mlflow;
use crate::tests::history;

/// The answer to one request line, as MLflow 3 gives it.
fn answer(method: &str, target: &str, body: &str) -> serde_json::Value {
    let paged = body.contains("page_token") || target.contains("page_token");
    match (method, target.split('?').next().unwrap_or_default()) {
        ("POST", "/api/2.0/mlflow/experiments/search") if !paged => {
            json!({"experiments": [{"experiment_id": "0", "name": "Default"}], "next_page_token": "p2"})
        }
        ("POST", "/api/2.0/mlflow/experiments/search") => {
            json!({"experiments": [{"experiment_id": "1", "name": "exp"}]})
        }
        ("POST", "/api/2.0/mlflow/runs/search") if body.contains("\"1\"") => json!({"runs": [{
            "info": {"run_id": "r1", "run_name": "one", "status": "FINISHED", "start_time": 1000, "end_time": 9000},
            "data": {"metrics": [{"key": "loss", "value": 0.25, "timestamp": 3000, "step": 2}],
                     "params": [{"key": "lr", "value": "0.5"}],
                     "tags": [{"key": "team", "value": "x"}, {"key": "mlflow.user", "value": "me"}]}}]}),
        ("POST", "/api/2.0/mlflow/runs/search") => json!({}),
        ("GET", "/api/2.0/mlflow/metrics/get-history") if !paged => json!({"metrics": [
            {"key": "loss", "value": 1.0, "timestamp": 1000, "step": 0},
            {"key": "loss", "value": "NaN", "timestamp": 2000, "step": 1}], "next_page_token": "m2"}),
        ("GET", "/api/2.0/mlflow/metrics/get-history") => {
            json!({"metrics": [{"key": "loss", "value": 0.25, "timestamp": 3000, "step": 2}]})
        }
        ("GET", "/api/2.0/mlflow/artifacts/list") if target.contains("path=d") => {
            json!({"files": [{"path": "d/f.txt", "is_dir": false, "file_size": 4}]})
        }
        ("GET", "/api/2.0/mlflow/artifacts/list") => json!({"files": [{"path": "d", "is_dir": true}]}),
        _ => json!(null),
    }
}

/// Serves `answer` (and `/get-artifact`) on a free port until the test process ends.
fn fake_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut parts = line.split_whitespace();
            let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let out = if target.starts_with("/get-artifact") {
                b"body".to_vec()
            } else {
                answer(method, target, &String::from_utf8_lossy(&body)).to_string().into_bytes()
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", out.len());
            let mut stream = stream;
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&out));
        }
    });
    url
}

#[test]
fn mlflow_server_import_follows_pages_and_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let store = mlflow::store(&fake_server()).unwrap();
    let runs = mlflow::discover(&store).unwrap();
    assert_eq!(runs.iter().map(|r| (r.run_id.as_str(), r.experiment.as_str())).collect::<Vec<_>>(), [("r1", "exp")]);
    let root = dir.path().join("trackway");
    let (run_dir, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (3, 3, 1));
    let rows = history(&run_dir);
    assert_eq!(rows[0].1["loss"], Value::Float(1.0));
    assert!(matches!(rows[1].1["loss"], Value::Float(f) if f.is_nan()));
    assert_eq!(rows[2].1["loss"], Value::Float(0.25));
    assert_eq!(std::fs::read(run_dir.join("files/artifacts/d/f.txt")).unwrap(), b"body");
    let (_, w) = mlflow::import_run(&runs[0], &root, None, None).unwrap();
    assert_eq!((w.rows, w.points, w.files), (0, 0, 0));
}
