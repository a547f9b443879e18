//! A tiny in-process HTTP server that implements the ingest contract of docs/api.md (high-water
//! mark per log, offset gaps, atomic batches) so the uploader can be tested without the real
//! server, including failures the real one rarely produces on demand.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct State {
    /// Every applied record: (log_id, position, record JSON).
    pub records: Vec<(String, u64, serde_json::Value)>,
    pub marks: HashMap<String, u64>,
    pub created: Vec<serde_json::Value>,
    /// Answer the next N requests with 503.
    pub fail_next: usize,
    /// Reject (400 invalid_record) any batch holding a record with this `t`.
    pub reject_type: Option<String>,
    /// Reject (400 invalid_record, naming the position) any batch holding this position.
    pub reject_position: Option<u64>,
    /// Answer the next N ingests with 400 bad_request (an error about the request, not a record).
    pub bad_request_next: usize,
    pub requests: usize,
    /// Paths of accepted run-file uploads (`PUT .../files/...`), in order.
    pub files: Vec<String>,
    /// Refuse (400 bad_request) the next N run-file uploads.
    pub refuse_files: usize,
}

pub struct Mock {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl Mock {
    pub fn start() -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        Mock { url, state }
    }

    pub fn positions(&self, log_id: &str) -> Vec<u64> {
        let s = self.state.lock().expect("lock");
        s.records.iter().filter(|r| r.0 == log_id).map(|r| r.1).collect()
    }
}

fn serve(conn: TcpStream, st: &Mutex<State>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let parts: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (mut len, mut zstd, mut auth) = (0usize, false, false);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            zstd |= lower.starts_with("content-encoding:") && lower.contains("zstd");
            auth |= lower == "authorization: bearer secret";
        }
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if zstd {
            body = zstd::decode_all(&body[..]).expect("zstd body");
        }
        let (status, reply) = route(st, parts.get(1).map_or("", String::as_str), &body, auth);
        let text = reply.to_string();
        let head =
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", text.len());
        if out.write_all(head.as_bytes()).and_then(|()| out.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

fn err(code: &str) -> serde_json::Value {
    serde_json::json!({"error": {"code": code, "message": code}})
}

fn route(st: &Mutex<State>, path: &str, body: &[u8], auth: bool) -> (u16, serde_json::Value) {
    let mut s = st.lock().expect("lock");
    s.requests += 1;
    if s.fail_next > 0 {
        s.fail_next -= 1;
        return (503, err("internal"));
    }
    if !auth {
        return (401, err("unauthorized"));
    }
    if path.contains("/files/") {
        if s.refuse_files > 0 {
            s.refuse_files -= 1;
            return (400, err("bad_request"));
        }
        s.files.push(path.to_string());
        return (200, serde_json::json!({"created": true, "size": body.len()}));
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (400, err("bad_request"));
    };
    match path {
        "/api/v1/runs" => {
            s.created.push(v.clone());
            let project = v["project"].as_str().unwrap_or("uncategorized").to_string();
            let run = serde_json::json!({"entity": v["entity"].as_str().unwrap_or("admin"), "project": project, "run_id": v["run_id"]});
            (200, serde_json::json!({"run": run, "resumed": false, "last_step": null}))
        }
        "/api/v1/ingest" => ingest(&mut s, &v),
        _ => (404, err("not_found")),
    }
}

fn ingest(s: &mut State, v: &serde_json::Value) -> (u16, serde_json::Value) {
    let log_id = v["log_id"].as_str().unwrap_or("").to_string();
    let (from, to) = (v["from"].as_u64().unwrap_or(0), v["to"].as_u64().unwrap_or(0));
    let mark = s.marks.get(&log_id).copied().unwrap_or(0);
    if from > mark {
        let mut e = err("offset_gap");
        e["expected"] = mark.into();
        return (409, e);
    }
    let recs = v["records"].as_array().cloned().unwrap_or_default();
    if s.bad_request_next > 0 {
        s.bad_request_next -= 1;
        return (400, err("bad_request"));
    }
    if let Some(bad) = s.reject_position
        && recs.iter().any(|r| r[0].as_u64() == Some(bad))
    {
        let mut e = err("invalid_record");
        e["error"]["position"] = bad.into();
        return (400, e);
    }
    if let Some(bad) = &s.reject_type
        && recs.iter().any(|r| r[1]["t"].as_str() == Some(bad))
    {
        return (400, err("invalid_record"));
    }
    for r in recs {
        let pos = r[0].as_u64().unwrap_or(0);
        if pos >= mark {
            s.records.push((log_id.clone(), pos, r[1].clone()));
        }
    }
    s.marks.insert(log_id, mark.max(to));
    (200, serde_json::json!({"acked": mark.max(to)}))
}
