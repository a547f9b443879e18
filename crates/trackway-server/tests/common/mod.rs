//! Test helpers: a fresh server state in a temp dir, driven through `oneshot` (no sockets).

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use trackway_server::AppState;

pub struct TestServer {
    pub app: Router,
    pub state: AppState,
    pub key: String,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub fn new() -> TestServer {
        Self::with_state(|s| s)
    }

    pub fn with_state(adjust: impl FnOnce(AppState) -> AppState) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = adjust(AppState::open(dir.path()).expect("open state"));
        state.store.create_user("alice", true).expect("user");
        let key = state.store.create_api_key("alice", None).expect("key").key;
        TestServer { app: trackway_server::app(state.clone()), state, key, dir }
    }

    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let key = self.key.clone();
        self.call_with(method, uri, Some(&key), body).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self.app.clone().oneshot(req.body(body).expect("request")).await.expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, value)
    }

    /// Raw response for non-JSON bodies and header checks.
    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let resp = self.app.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes.to_vec())
    }
}

/// `[[pos, record], ...]` with positions as a writer would produce them, and the end position.
pub fn records(from: u64, recs: &[Value]) -> (Value, u64) {
    let mut pos = from;
    let mut out = Vec::new();
    for r in recs {
        out.push(json!([pos, r]));
        pos += r.to_string().len() as u64 + 1;
    }
    (Value::Array(out), pos)
}

pub fn history(step: u64, data: Value) -> Value {
    json!({"t":"history","step":step,"ts":1000.0 + step as f64,"rt":step as f64 * 0.5,"data":data})
}

pub fn ingest_body(run: &str, log: &str, from: u64, recs: &[Value]) -> (Value, u64) {
    let (records, to) = records(from, recs);
    (json!({"project":"p","run_id":run,"log_id":log,"from":from,"to":to,"records":records}), to)
}

pub fn run_record(run: &str) -> Value {
    json!({"t":"run","v":1,"log_id":"log-0000000000000","run_id":run,"project":"p","config":{"lr":0.1}})
}
