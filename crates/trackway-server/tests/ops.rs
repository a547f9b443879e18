//! Operations routes: `/metrics` (Prometheus text), `/healthz` (liveness) and `/readyz`
//! (readiness: the database and the blob store answer).

mod common;

use std::io::Read;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;
use trackway_blob::{BlobError, BlobStore, Digest, PutOutcome};

use common::{TestServer, history, ingest_body, run_record};

/// The value of one exposition line `series value`.
fn value_of(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_text(s: &TestServer) -> String {
    let (status, body) = s.call_with("GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    body.as_str().expect("text exposition").to_owned()
}

#[tokio::test]
async fn metrics_count_ingest_and_requests_by_route_template() {
    let s = TestServer::new();
    let recs = [run_record("r1"), history(0, json!({"loss": 1.0, "acc": 0.5})), history(1, json!({"loss": 0.5}))];
    let (body, _) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body.clone())).await.0, StatusCode::OK);
    // A retry applies nothing: records are counted once, the request twice.
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    assert_eq!(s.call("GET", "/api/v1/runs/alice/p/r1", None).await.0, StatusCode::OK);
    assert_eq!(s.call("GET", "/api/v1/no/such/route/xyz", None).await.0, StatusCode::NOT_FOUND);

    let text = metrics_text(&s).await;
    assert_eq!(value_of(&text, "trackway_ingest_batches_total"), Some(2.0), "{text}");
    assert_eq!(value_of(&text, "trackway_ingest_records_total"), Some(3.0), "{text}");
    assert_eq!(value_of(&text, "trackway_ingest_points_total"), Some(6.0), "{text}");
    assert_eq!(value_of(&text, "trackway_ingest_in_flight"), Some(0.0), "{text}");
    let ingest = r#"trackway_http_requests_total{method="POST",route="/api/v1/ingest",status="200"}"#;
    assert_eq!(value_of(&text, ingest), Some(2.0), "{text}");
    let run =
        r#"trackway_http_requests_total{method="GET",route="/api/v1/runs/{entity}/{project}/{run_id}",status="200"}"#;
    assert_eq!(value_of(&text, run), Some(1.0), "{text}");
    // Concrete paths never become label values (bounded series count).
    assert!(!text.contains("xyz"), "{text}");
    assert!(text.contains(r#"route="/api/v1/{*rest}",status="404""#), "{text}");
    let latency = r#"trackway_http_request_duration_seconds_count{method="POST",route="/api/v1/ingest"}"#;
    assert_eq!(value_of(&text, latency), Some(2.0), "{text}");
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text() {
    let s = TestServer::new();
    let req = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).expect("request");
    let (status, headers, body) = s.raw(req).await;
    assert_eq!(status, StatusCode::OK);
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = String::from_utf8(body).expect("utf-8");
    assert!(text.contains("# TYPE trackway_ingest_duration_seconds histogram"), "{text}");
}

#[tokio::test]
async fn liveness_and_readiness_answer_on_a_healthy_server() {
    let s = TestServer::new();
    let (status, body) = s.call_with("GET", "/healthz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = s.call_with("GET", "/readyz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")), "{body}");
}

/// A blob store whose every call fails, as an unreachable S3 endpoint does.
struct DownBlobs;

fn down() -> BlobError {
    BlobError::Remote { op: "head", source: "connection refused".into() }
}

impl BlobStore for DownBlobs {
    fn put_reader(&self, _reader: &mut dyn Read) -> Result<PutOutcome, BlobError> {
        Err(down())
    }
    fn get(&self, _digest: &Digest) -> Result<Vec<u8>, BlobError> {
        Err(down())
    }
    fn size(&self, _digest: &Digest) -> Result<Option<u64>, BlobError> {
        Err(down())
    }
    fn delete(&self, _digest: &Digest) -> Result<bool, BlobError> {
        Err(down())
    }
}

#[tokio::test]
async fn readiness_fails_while_the_blob_store_is_down_but_liveness_does_not() {
    let s = TestServer::with_state(|mut st| {
        st.blobs = Arc::new(DownBlobs);
        st
    });
    let (status, body) = s.call_with("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "not_ready");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("blob store"), "{body}");
    assert_eq!(s.call_with("GET", "/healthz", None, None).await.0, StatusCode::OK);
}
