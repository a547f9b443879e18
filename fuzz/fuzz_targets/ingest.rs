//! The ingest route's body parser, through the real router: any body sent to
//! `POST /api/v1/ingest` gets an answer in the API's error shape or an ack, never a 5xx.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Server {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    key: String,
    _dir: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = trackway_server::AppState::open(dir.path()).expect("state");
        state.store.create_user("fuzz", true).expect("user");
        let key = state.store.create_api_key("fuzz", None).expect("key").key;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        Server { runtime, app: trackway_server::app(state), key, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = server();
    let req = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {}", s.key))
        .header("content-type", "application/json")
        .body(Body::from(data.to_vec()))
        .expect("request");
    let resp = s.runtime.block_on(s.app.clone().oneshot(req)).expect("infallible");
    let status = resp.status();
    assert!(!status.is_server_error(), "ingest answered {status} to a client's body");
});
