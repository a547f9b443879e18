//! The upload half of the proposed file routes: the agent's `live` file edited three times ends
//! up as three content-addressed versions on a (minimal, in-test) server; downloads and pull
//! see the final content.
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::write;
use trackway_blob::{BlobStore, Digest, MemBlobStore};
use trackway_capture::restore::{HttpRunSource, RunSource, pull};
use trackway_capture::{FileRecord, IgnoreGlobs, Policy, RunFiles};
use trackway_client::{Client, ClientOptions};

#[derive(Default)]
struct Server {
    blobs: MemBlobStore,
    /// path -> versions (digests), newest last
    files: Mutex<BTreeMap<String, Vec<Digest>>>,
}

impl Server {
    fn put(&self, path: &str, body: &[u8], claimed: &str) -> (&'static str, String) {
        let digest = Digest::of(body);
        if digest.as_str() != claimed {
            return ("400 Bad Request", r#"{"error":{"code":"bad_request","message":"sha256 mismatch"}}"#.into());
        }
        self.blobs.put(body).expect("put blob");
        let mut files = self.files.lock().expect("lock");
        let versions = files.entry(path.to_string()).or_default();
        let created = versions.last() != Some(&digest); // same content as the current version: no-op
        if created {
            versions.push(digest.clone());
        }
        let v = serde_json::json!({"path": path, "sha256": digest.as_str(), "size": body.len(), "version": versions.len(), "created": created});
        ("200 OK", v.to_string())
    }

    fn get(&self, rest: &str) -> (&'static str, Vec<u8>) {
        let files = self.files.lock().expect("lock");
        if rest == "/files" {
            let list: Vec<_> = files
                .iter()
                .map(|(p, v)| {
                    let d = v.last().expect("a version");
                    let size = self.blobs.size(d).expect("size").unwrap_or(0);
                    serde_json::json!({"path": p, "sha256": d.as_str(), "size": size, "versions": v.len()})
                })
                .collect();
            return ("200 OK", serde_json::json!({"files": list}).to_string().into_bytes());
        }
        match rest.strip_prefix("/files/").and_then(|p| files.get(p)).and_then(|v| v.last()) {
            Some(d) => ("200 OK", self.blobs.get(d).expect("blob")),
            None => ("404 Not Found", br#"{"error":{"code":"not_found","message":"no such file"}}"#.to_vec()),
        }
    }
}

fn serve(state: Arc<Server>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let (mut len, mut sha) = (0usize, String::new());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                } else if let Some(v) = lower.strip_prefix("x-content-sha256:") {
                    sha = v.trim().to_string();
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let mut parts = first.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let rest = path.strip_prefix("/api/v1/runs/e/p/r1").unwrap_or("");
            let (status, out) = match method {
                "PUT" => {
                    let (s, b) = state.put(rest.strip_prefix("/files/").unwrap_or(""), &body, &sha);
                    (s, b.into_bytes())
                }
                _ => state.get(rest),
            };
            let mut s = stream;
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", out.len());
            let _ = s.write_all(&out);
        }
    });
    format!("http://{addr}")
}

fn wait_due(files: &mut RunFiles) -> Vec<trackway_capture::Upload> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        let due = files.due(Instant::now(), false);
        if !due.is_empty() {
            return due;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Vec::new()
}

#[test]
fn live_file_uploaded_three_times_is_three_versions_on_the_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("run");
    write(&run.join("files/metrics.csv"), b"step,loss\n");
    let server = Arc::new(Server::default());
    let base = serve(Arc::clone(&server));
    let client = HttpRunSource::new(&base, "k", "e", "p", "r1");
    // The agent's uploads go through the one HTTP client.
    let uploader = Client::new(&base, Some("k"), &ClientOptions::default()).expect("client");
    let put = |path: &str, bytes: &[u8], sha: &str| uploader.put_file(("e", "p", "r1"), path, bytes, sha);
    let mut files = RunFiles::open(&run, IgnoreGlobs::default(), Duration::from_millis(100));
    files.add(&FileRecord::new("metrics.csv", Policy::Live)).expect("add");
    let mut contents = vec![b"step,loss\n".to_vec()];
    for edit in 0..=3 {
        if edit > 0 {
            let mut c = contents.last().expect("content").clone();
            c.extend_from_slice(format!("{edit},0.{edit}\n").as_bytes());
            std::fs::write(run.join("files/metrics.csv"), &c).expect("edit");
            contents.push(c);
        }
        for up in wait_due(&mut files) {
            let bytes = std::fs::read(&up.abs_path).expect("read");
            let answer = put(&up.path, &bytes, &up.sha256).expect("put");
            assert_eq!(answer["version"], edit + 1);
            files.mark_uploaded(&up.path, &up.sha256).expect("mark");
        }
    }
    let versions = server.files.lock().expect("lock")["metrics.csv"].clone();
    assert_eq!(versions.len(), 4, "initial upload + three edits");
    assert_eq!(server.blobs.len(), 4);
    for (v, content) in versions.iter().zip(&contents) {
        assert_eq!(&server.blobs.get(v).expect("blob"), content, "every version keeps its content");
    }
    // Re-sending the current content is a no-op; a wrong digest is refused.
    let last = contents.last().expect("last");
    assert_eq!(put("metrics.csv", last, Digest::of(last).as_str()).expect("same")["created"], false);
    assert!(put("metrics.csv", b"x", Digest::of(b"y").as_str()).is_err());
    // Download sees the final content.
    assert_eq!(&client.read_file("metrics.csv").expect("get"), last);
    let pulled = pull(&client, &tmp.path().join("pulled")).expect("pull");
    assert_eq!(pulled.downloaded, ["metrics.csv"]);
    assert_eq!(&std::fs::read(tmp.path().join("pulled/metrics.csv")).expect("read"), last);
}
