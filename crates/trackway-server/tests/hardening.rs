//! Issue 9 items 2-5, 10, 11, 17: input the server must refuse with a clear 4xx (never store,
//! never 500), back-pressure on ingest, and upload limits.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};
use trackway_server::Limits;

fn code(v: &Value) -> Option<&str> {
    v["error"]["code"].as_str()
}

#[tokio::test]
async fn ingest_checks_names_and_positions_like_the_run_routes() {
    let s = TestServer::new();
    let long = "x".repeat(5000);
    for bad in ["", "a/b", "..", "a\nb", long.as_str()] {
        let mut rec = run_record("r");
        rec["run_id"] = json!(bad);
        let (mut body, _) = ingest_body("r", "log-a", 0, &[rec]);
        body["run_id"] = json!(bad);
        let (status, err) = s.call("POST", "/api/v1/ingest", Some(body)).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("invalid_name")), "run id {bad:?}: {err}");
        let (status, _) = s.call("POST", "/api/v1/runs", Some(json!({"project": "p", "run_id": bad}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "POST /runs agrees on {bad:?}");
    }
    for bad in ["", "a/b", "..", "p\u{0}"] {
        let (mut body, _) = ingest_body("r", "log-a", 0, &[run_record("r")]);
        body["project"] = json!(bad);
        let (status, err) = s.call("POST", "/api/v1/ingest", Some(body)).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("invalid_name")), "project {bad:?}: {err}");
    }
    let (_, projects) = s.call("GET", "/api/v1/projects?entity=alice", None).await;
    assert_eq!(projects.as_array().map(Vec::len), Some(0), "no project was created: {projects}");
    // `to` far past the records would acknowledge (and drop) every later batch of the log.
    let (mut body, to) = ingest_body("r", "log-a", 0, &[run_record("r")]);
    body["to"] = json!(1u64 << 62);
    let (status, err) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, Some("content_mismatch")), "{err}");
    let (body, _) = ingest_body("r", "log-a", 0, &[run_record("r")]);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)), "{ack}");
    let (next, _) = ingest_body("r", "log-a", to, &[history(0, json!({"a": 1}))]);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(next)).await;
    assert_eq!((status, ack["applied"].as_u64()), (StatusCode::OK, Some(1)), "{ack}");
}

#[tokio::test]
async fn a_refused_record_is_named_by_its_position() {
    let s = TestServer::new();
    let recs = [
        run_record("r"),
        history(0, json!({"a": 1})),
        json!({"t":"history","step":18446744073709551615u64,"data":{"a":1}}),
        json!({"t":"history","step":1,"data":{"_runtime":1}}),
        json!({"t":"meta","name":"n".repeat(100_000)}),
    ];
    let (body, _) = ingest_body("r", "log-a", 0, &recs);
    for i in 2..recs.len() {
        let mut b = body.clone();
        b["records"] = json!([body["records"][0], body["records"][1], body["records"][i]]);
        let pos = body["records"][i][0].as_u64();
        let (status, err) = s.call("POST", "/api/v1/ingest", Some(b)).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("invalid_record")), "{err}");
        assert_eq!(err["error"]["position"].as_u64(), pos, "{err}");
    }
}

#[tokio::test]
async fn sizes_are_capped_with_stable_codes() {
    let s = TestServer::new();
    let (status, _) = s.call("POST", "/api/v1/runs", Some(json!({"project": "p", "run_id": "r1"}))).await;
    assert_eq!(status, StatusCode::OK);
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    let patches = [
        json!({"name": "n".repeat(10 << 20)}),
        json!({"tags": tags}),
        json!({"tags": ["t".repeat(1000)]}),
        json!({"notes": "n".repeat(1 << 20)}),
    ];
    for p in patches {
        let (status, err) = s.call("PATCH", "/api/v1/runs/alice/p/r1", Some(p)).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("limit_exceeded")), "{err}");
    }
    let config: serde_json::Map<String, Value> = (0..10_001).map(|i| (format!("k{i}"), json!(i))).collect();
    let deep_key = json!({"k".repeat(600): 1});
    for body in [
        json!({"project": "p", "run_id": "r2", "config": config}),
        json!({"project": "p", "run_id": "r2", "config": deep_key}),
        json!({"project": "p".repeat(200), "run_id": "r2"}),
    ] {
        let (status, err) = s.call("POST", "/api/v1/runs", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(matches!(code(&err), Some("limit_exceeded" | "invalid_name")), "{err}");
    }
    let (_, run) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((&run["name"], &run["tags"]), (&Value::Null, &json!([])), "nothing was stored: {run}");
}

#[tokio::test]
async fn filters_and_query_strings_that_used_to_500_are_400() {
    let s = TestServer::new();
    s.call("POST", "/api/v1/runs", Some(json!({"project": "p", "run_id": "r1", "config": {"a": 1}}))).await;
    let enc = |v: &Value| url_encode(&v.to_string());
    let or: Vec<Value> = (0..1001).map(|i| json!({"config.a": i})).collect();
    let filters = [json!({"config.a\\": 1}), json!({"config.a\u{0}b": 1}), json!({"$or": or})];
    for f in &filters {
        let (status, err) = s.call("GET", &format!("/api/v1/projects/alice/p/runs?filters={}", enc(f)), None).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("invalid_filter")), "{f}: {err}");
    }
    let ok: Vec<Value> = (0..200).map(|i| json!({"config.a": i})).collect();
    let (status, page) =
        s.call("GET", &format!("/api/v1/projects/alice/p/runs?filters={}", enc(&json!({"$or": ok}))), None).await;
    assert_eq!((status, page["total"].as_u64()), (StatusCode::OK, Some(1)), "{page}");
    for uri in [
        "/api/v1/projects/alice/p/runs?limit=abc",
        "/api/v1/runs/alice/p/r1/history?limit=-1",
        "/api/v1/runs/alice/p/r1/files?all=maybe",
    ] {
        let (status, err) = s.call("GET", uri, None).await;
        assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("bad_request")), "{uri}: {err}");
    }
}

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn a_full_ingest_queue_answers_503_with_retry_after() {
    let limits = Limits {
        ingest_concurrency: 1,
        ingest_queue_wait: std::time::Duration::ZERO,
        retry_after_secs: 3,
        ..Limits::default()
    };
    let s = TestServer::with_state(|st| st.with_limits(limits));
    let (body, to) = ingest_body("r", "log-a", 0, &[run_record("r")]);
    let held = s.state.ingest_slots.try_take().expect("a free slot");
    let req = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {}", s.key))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (status, headers, bytes) = s.raw(req).await;
    let err: Value = serde_json::from_slice(&bytes).expect("json error");
    assert_eq!((status, code(&err)), (StatusCode::SERVICE_UNAVAILABLE, Some("server_busy")), "{err}");
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("3"));
    drop(held);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)), "{ack}");
}

async fn put(s: &TestServer, path: &str, body: Vec<u8>, headers: &[(&str, String)]) -> (StatusCode, Value) {
    let mut req = Request::put(format!("/api/v1/runs/alice/p/r1/files/{path}"))
        .header("authorization", format!("Bearer {}", s.key));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let (status, _, bytes) = s.raw(req.body(Body::from(body)).expect("request")).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn compressed_uploads_cannot_expand_past_their_declared_size_or_the_quota() {
    let limits = Limits { max_file_bytes: 4 << 20, project_quota_bytes: 6 << 20, ..Limits::default() };
    let s = TestServer::with_state(|st| st.with_limits(limits));
    s.call("POST", "/api/v1/runs", Some(json!({"project": "p", "run_id": "r1"}))).await;
    // 64 MiB of zeros in a few KiB: a bomb.
    let bomb = zstd::bulk::compress(&vec![0u8; 64 << 20], 3).expect("compress");
    assert!(bomb.len() < 64 << 10);
    let zstd_header = ("content-encoding", "zstd".to_owned());
    let (status, err) = put(&s, "bomb.bin", bomb.clone(), std::slice::from_ref(&zstd_header)).await;
    assert_eq!((status, code(&err)), (StatusCode::BAD_REQUEST, Some("bad_request")), "size must be declared: {err}");
    let (status, err) =
        put(&s, "bomb.bin", bomb.clone(), &[zstd_header.clone(), ("x-content-length", "1000".into())]).await;
    assert_eq!((status, code(&err)), (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")), "{err}");
    let (status, err) =
        put(&s, "bomb.bin", bomb, &[zstd_header.clone(), ("x-content-length", (64u64 << 20).to_string())]).await;
    assert_eq!(
        (status, code(&err)),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")),
        "over the per-file limit: {err}"
    );
    let small = zstd::bulk::compress(&vec![7u8; 3 << 20], 3).expect("compress");
    let (status, out) = put(&s, "a.bin", small, &[zstd_header, ("x-content-length", (3u64 << 20).to_string())]).await;
    assert_eq!((status, out["size"].as_u64()), (StatusCode::OK, Some(3 << 20)), "{out}");
    // Bytes that do not match their own declared digest or size: 409, nothing stored.
    let wrong = ("x-content-sha256", "0".repeat(64));
    let (status, err) = put(&s, "c.bin", b"abc".to_vec(), std::slice::from_ref(&wrong)).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, Some("content_mismatch")), "{err}");
    let (status, err) = put(&s, "c.bin", b"abc".to_vec(), &[("x-content-length", "4".into())]).await;
    assert_eq!((status, code(&err)), (StatusCode::CONFLICT, Some("content_mismatch")), "{err}");
    let (status, err) = put(&s, "b.bin", vec![1u8; 4 << 20], &[]).await;
    assert_eq!((status, code(&err)), (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large")), "project quota: {err}");
    let (_, files) = s.call("GET", "/api/v1/runs/alice/p/r1/files", None).await;
    assert_eq!(files["files"].as_array().map(Vec::len), Some(1), "only the good file is stored: {files}");
}
