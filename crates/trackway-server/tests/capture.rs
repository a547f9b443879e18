//! Run files, system metrics, console output and Parquet export (docs/capture.md sections 5-7),
//! through the router with `oneshot`.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};

const RUN: &str = "/api/v1/runs/alice/p/r1";

async fn started() -> TestServer {
    let s = TestServer::new();
    let (body, _) = ingest_body("r1", "log-a", 0, &[run_record("r1")]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    s
}

fn sha(bytes: &[u8]) -> String {
    trackway_blob::Digest::of(bytes).as_str().to_owned()
}

async fn put(s: &TestServer, path: &str, bytes: &[u8], digest: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::put(format!("{RUN}/files/{path}")).header("authorization", format!("Bearer {}", s.key));
    if let Some(d) = digest {
        req = req.header("x-content-sha256", d);
    }
    let (status, _, body) = s.raw(req.body(Body::from(bytes.to_vec())).expect("req")).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get_bytes(s: &TestServer, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::get(uri).header("authorization", format!("Bearer {}", s.key)).body(Body::empty()).expect("req");
    s.raw(req).await
}

#[tokio::test]
async fn files_upload_list_download_and_versions() {
    let s = started().await;
    let v1 = b"weights v1".to_vec();
    let (status, out) = put(&s, "ckpt/model.pt", &v1, Some(&sha(&v1))).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!((out["version"].as_u64(), out["created"].as_bool()), (Some(1), Some(true)));
    assert_eq!(
        (out["sha256"].as_str(), out["size"].as_u64(), out["path"].as_str()),
        (Some(sha(&v1).as_str()), Some(10), Some("ckpt/model.pt"))
    );
    // Re-sending the latest content changes nothing.
    let (_, again) = put(&s, "ckpt/model.pt", &v1, None).await;
    assert_eq!((again["version"].as_u64(), again["created"].as_bool()), (Some(1), Some(false)));
    let v2 = b"weights v2, longer".to_vec();
    let (_, out) = put(&s, "ckpt/model.pt", &v2, Some(&sha(&v2).to_uppercase())).await;
    assert_eq!((out["version"].as_u64(), out["created"].as_bool()), (Some(2), Some(true)), "{out}");
    let (_, out) = put(&s, "notes%20and%20more.txt", b"hello", None).await;
    assert_eq!(out["path"], "notes and more.txt", "percent-decoded");
    // Going back to earlier content is a new version.
    let (_, out) = put(&s, "ckpt/model.pt", &v1, None).await;
    assert_eq!(out["version"].as_u64(), Some(3));

    let (status, list) = s.call("GET", &format!("{RUN}/files"), None).await;
    assert_eq!(status, StatusCode::OK);
    let files = list["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{list}");
    assert_eq!(
        (files[0]["path"].as_str(), files[0]["version"].as_u64(), files[0]["versions"].as_u64()),
        (Some("ckpt/model.pt"), Some(3), Some(3))
    );
    assert_eq!(files[0]["sha256"].as_str(), Some(sha(&v1).as_str()));
    let (_, all) = s.call("GET", &format!("{RUN}/files?all=true"), None).await;
    assert_eq!(all["files"].as_array().map(Vec::len), Some(4), "{all}");

    let (status, headers, body) = get_bytes(&s, &format!("{RUN}/files/ckpt/model.pt")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, v1.as_slice()));
    assert_eq!(headers["etag"].to_str().ok(), Some(format!("\"{}\"", sha(&v1)).as_str()));
    let (_, _, body) = get_bytes(&s, &format!("{RUN}/files/ckpt/model.pt?version=2")).await;
    assert_eq!(body, v2);
    let (_, headers, _) = get_bytes(&s, &format!("{RUN}/files/notes%20and%20more.txt")).await;
    assert_eq!(headers["content-type"].to_str().ok(), Some("text/plain"));
    // Served files never run as the API's origin.
    assert_eq!(headers["content-security-policy"].to_str().ok(), Some("sandbox; default-src 'none'"));
    assert_eq!(headers["x-content-type-options"].to_str().ok(), Some("nosniff"));
    let (status, _, _) = get_bytes(&s, &format!("{RUN}/files/ckpt/model.pt?version=9")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get_bytes(&s, &format!("{RUN}/files/missing.txt")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Identical content is stored once in the blob store.
    assert!(s.state.blobs.exists(&sha(&v1).parse().expect("digest")).expect("exists"));
}

#[tokio::test]
async fn files_refuse_bad_paths_digests_and_strangers() {
    let s = started().await;
    for bad in [
        "../x",
        "a/../../etc/passwd",
        "%2e%2e/x",
        "a/%2E%2E/b",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "a%5Cb",
        "a%00b",
        "a//b",
        "./",
        "a/./b",
        "C:/x",
    ] {
        let (status, out) = put(&s, bad, b"x", None).await;
        assert_eq!(
            (status, out["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_path")),
            "PUT {bad}: {out}"
        );
        let (status, _, body) = get_bytes(&s, &format!("{RUN}/files/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "GET {bad}: {}", String::from_utf8_lossy(&body));
    }
    let (status, out) = put(&s, "a.txt", b"abc", Some(&sha(b"abd"))).await;
    assert_eq!((status, out["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("content_mismatch")), "{out}");
    let (status, _) = put(&s, "a.txt", b"abc", Some("nothex")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = s.call("GET", &format!("{RUN}/files"), None).await;
    assert_eq!(list["files"], json!([]), "refused uploads record nothing");
    // Unknown run, missing key, other user's entity.
    let req = Request::put("/api/v1/runs/alice/p/ghost/files/a.txt")
        .header("authorization", format!("Bearer {}", s.key))
        .body(Body::from("x"))
        .expect("req");
    assert_eq!(s.raw(req).await.0, StatusCode::NOT_FOUND);
    let req = Request::put(format!("{RUN}/files/a.txt")).body(Body::from("x")).expect("req");
    assert_eq!(s.raw(req).await.0, StatusCode::UNAUTHORIZED);
    s.state.store.create_user("bob", false).expect("bob");
    let bob = s.state.store.create_api_key("bob", None).expect("key").key;
    let req = Request::put(format!("{RUN}/files/a.txt"))
        .header("authorization", format!("Bearer {bob}"))
        .body(Body::from("x"))
        .expect("req");
    assert_eq!(s.raw(req).await.0, StatusCode::FORBIDDEN);
    let (status, _) = s.call_with("GET", &format!("{RUN}/files"), Some(&bob), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn metadata_file_sets_run_metadata() {
    let s = started().await;
    let doc = json!({"host":"box","os":"Linux","python":"3.11.7","args":["--lr","0.1"],
                     "git":{"commit":"abc123","remote_url":"https://example.com/r.git"}});
    let bytes = serde_json::to_vec(&doc).expect("json");
    assert_eq!(put(&s, "trackway-metadata.json", &bytes, Some(&sha(&bytes))).await.0, StatusCode::OK);
    let (_, run) = s.call("GET", RUN, None).await;
    assert_eq!(run["metadata"]["git"]["commit"], "abc123", "{run}");
    assert_eq!(run["metadata"]["python"], "3.11.7");
    assert!(run["metadata"]["settings"].is_object(), "existing metadata is kept");
    // Not JSON: stored as a file, the metadata stays.
    assert_eq!(put(&s, "trackway-metadata.json", b"not json", None).await.0, StatusCode::OK);
    let (_, run) = s.call("GET", RUN, None).await;
    assert_eq!(run["metadata"]["host"], "box");
}

fn stream_header(log: &str) -> Value {
    json!({"t":"stream","v":1,"kind":"system","log_id":log,"run_id":"r1","run_log_id":"log-a"})
}

fn stats(ts: f64, cpu: f64) -> Value {
    json!({"t":"stats","ts":ts,"samples":15,"window":30.0,"data":{"system/cpu":cpu,"system/memory_percent":40.0}})
}

#[tokio::test]
async fn system_stream_is_a_separate_series() {
    let s = TestServer::new();
    let mut run = run_record("r1");
    run["created_at"] = json!(1000.0);
    let (body, _) =
        ingest_body("r1", "log-a", 0, &[run, history(0, json!({"loss": 1.0})), history(1, json!({"loss": 0.5}))]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    let recs = [stream_header("sys-1"), stats(1030.0, 10.0), stats(1060.0, 20.0), stats(1090.0, 30.0)];
    let (body, to) = ingest_body("r1", "sys-1", 0, &recs);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body.clone())).await;
    assert_eq!((status, ack["acked"].as_u64()), (StatusCode::OK, Some(to)), "{ack}");
    let (_, again) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!(again["applied"], 0, "its own high-water mark");

    let (_, sys) = s.call("GET", &format!("{RUN}/history?stream=system"), None).await;
    let rows = sys["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3, "{sys}");
    assert_eq!(
        (rows[0]["system/cpu"].as_f64(), rows[0]["_timestamp"].as_f64(), rows[0]["_runtime"].as_f64()),
        (Some(10.0), Some(1030.0), Some(30.0))
    );
    let (_, hist) = s.call("GET", &format!("{RUN}/history"), None).await;
    assert_eq!(hist["rows"].as_array().map(Vec::len), Some(2), "system rows never merge into history: {hist}");
    assert!(hist["rows"][0].get("system/cpu").is_none());
    let (_, run) = s.call("GET", RUN, None).await;
    assert_eq!((run["row_count"].as_i64(), run["summary"].get("system/cpu")), (Some(2), None));

    for x in ["_runtime", "_timestamp"] {
        let q = json!({"runs":[{"project":"p","run_id":"r1"}],"metric":"system/cpu","x":x,"stream":"system"});
        let (status, out) = s.call("POST", "/api/v1/charts/query", Some(q)).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["series"][0]["last"], json!([10.0, 20.0, 30.0]), "{out}");
        let want = if x == "_runtime" { json!([30.0, 60.0, 90.0]) } else { json!([1030.0, 1060.0, 1090.0]) };
        assert_eq!(out["series"][0]["x"], want);
    }
    let (_, keys) = s.call("GET", &format!("{RUN}/history/keys?stream=system"), None).await;
    assert_eq!(keys["keys"], json!(["system/cpu", "system/memory_percent"]), "{keys}");
    let (_, keys) = s.call("GET", &format!("{RUN}/history/keys"), None).await;
    assert_eq!(keys["keys"], json!(["loss"]));
    let (status, _) = s.call("GET", &format!("{RUN}/history?stream=gpu"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn system_stream_refuses_bad_records_and_unknown_runs() {
    let s = started().await;
    let mut wrong_run = stream_header("sys-1");
    wrong_run["run_id"] = json!("other");
    let bad = [
        vec![wrong_run],
        vec![stream_header("sys-1"), json!({"t":"stats","ts":"soon","data":{}})],
        vec![stream_header("sys-1"), json!({"t":"stats","ts":1.0,"data":[1]})],
    ];
    for recs in bad {
        let (body, _) = ingest_body("r1", "sys-1", 0, &recs);
        let (status, out) = s.call("POST", "/api/v1/ingest", Some(body)).await;
        assert_eq!((status, out["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_record")), "{out}");
    }
    let (body, _) = ingest_body("ghost", "sys-1", 0, &[stream_header("sys-1"), stats(1.0, 1.0)]);
    let mut body = body;
    body["records"][0][1]["run_id"] = json!("ghost");
    let (status, _) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a system log never creates a run");
}

fn line(n: u64, stream: &str, text: &str) -> Value {
    json!({"t":"output","stream":stream,"line":n,"ts":1000.0 + n as f64,"text":text})
}

#[tokio::test]
async fn console_output_is_stored_and_searchable() {
    let s = TestServer::new();
    let recs = [
        run_record("r1"),
        line(0, "out", "epoch 1 loss 0.25"),
        history(0, json!({"loss": 0.25})),
        line(1, "err", "Warning: slow"),
        line(2, "out", "epoch 2 loss 0.20"),
    ];
    let (body, to) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body.clone())).await.0, StatusCode::OK);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.1["applied"], 0);
    let (status, out) = s.call("GET", &format!("{RUN}/output"), None).await;
    assert_eq!(status, StatusCode::OK);
    let lines = out["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        (lines[1]["stream"].as_str(), lines[1]["text"].as_str(), lines[1]["line"].as_u64()),
        (Some("err"), Some("Warning: slow"), Some(1))
    );
    let (_, page) = s.call("GET", &format!("{RUN}/output?after_line=0&limit=1"), None).await;
    assert_eq!(
        (page["lines"][0]["line"].as_u64(), page["after_line"].as_u64(), page["more"].as_bool()),
        (Some(1), Some(1), Some(true))
    );
    let (_, found) = s.call("GET", &format!("{RUN}/output?q=EPOCH"), None).await;
    assert_eq!(found["lines"].as_array().map(Vec::len), Some(2), "case-insensitive substring");
    // A resumed attempt counts from 0 again; its lines follow the first attempt's.
    let mut resumed = run_record("r1");
    resumed["log_id"] = json!("log-b");
    let (body, _) = ingest_body("r1", "log-b", 0, &[resumed, line(0, "out", "resumed")]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    let (_, tail) = s.call("GET", &format!("{RUN}/output?after_line=2"), None).await;
    assert_eq!(
        (tail["lines"][0]["line"].as_u64(), tail["lines"][0]["text"].as_str()),
        (Some(3), Some("resumed")),
        "{tail}"
    );
    // A malformed output record rejects its batch.
    let (body, _) = ingest_body("r1", "log-a", to, &[json!({"t":"output","stream":"tty","line":3,"text":"x"})]);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.1["error"]["code"], "invalid_record");
}

#[tokio::test]
async fn parquet_export_reads_back() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let s = TestServer::new();
    let mut recs = vec![run_record("r1")];
    recs.extend((0..500).map(|i| history(i, json!({"loss": 1.0 / (i as f64 + 1.0), "epoch": i / 100}))));
    let (body, _) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    let (status, headers, bytes) = get_bytes(&s, &format!("{RUN}/history/export?format=parquet")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"].to_str().ok(), Some("application/vnd.apache.parquet"));
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"), "Parquet magic at both ends");
    let reader = SerializedFileReader::new(axum::body::Bytes::from(bytes)).expect("a valid Parquet file");
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), 500);
    let names: Vec<&str> = meta.schema_descr().columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["_step", "_runtime", "_timestamp", "loss", "epoch"]);
    let (_, _, keyed) = get_bytes(&s, &format!("{RUN}/history/export?format=parquet&keys=loss")).await;
    let reader = SerializedFileReader::new(axum::body::Bytes::from(keyed)).expect("parquet");
    assert_eq!(reader.metadata().file_metadata().schema_descr().num_columns(), 4);
}

#[tokio::test]
async fn files_larger_than_the_json_body_limit_stream_through() {
    let s = started().await;
    let big: Vec<u8> = (0..trackway_server::DEFAULT_BODY_LIMIT + 4096).map(|i| (i % 251) as u8).collect();
    let (status, out) = put(&s, "big.bin", &big, Some(&sha(&big))).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["size"].as_u64(), Some(big.len() as u64));
    let (_, headers, body) = get_bytes(&s, &format!("{RUN}/files/big.bin")).await;
    assert_eq!(headers["content-type"].to_str().ok(), Some("application/octet-stream"));
    assert!(body == big, "download equals the upload");
}
