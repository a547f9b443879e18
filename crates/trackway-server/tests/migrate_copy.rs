//! Moving up (`trackway admin migrate --from sqlite://DIR --to postgres://... --blobs s3://...`):
//! a single-node data directory filled through the API (accounts, a team, runs with history,
//! system metrics, console and files, an artifact, a view, a sweep, a report) is copied to a
//! real PostgreSQL (`testpg`) and SeaweedFS (`testweed`), both started here; a server on the
//! copy answers the API as the original did, with the original API key. A second copy changes
//! nothing; a destination that differs, or that holds someone else's data, is refused.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};
use trackway_blob::testweed::{options, start_weed};
use trackway_blob::{BlobStore, S3BlobStore};
use trackway_server::migrate_copy::{CopyError, CopyReport, Side, copy};
use trackway_server::{AppState, Backends};
use trackway_store::artifacts::{CommitArtifact, ManifestEntry};

const RUN: &str = "/api/v1/runs/alice/p/r1";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

/// Fills the source installation through its API (and the artifact store for one version).
async fn fill(s: &TestServer) {
    let mut run = run_record("r1");
    run["created_at"] = json!(1000.0);
    let output = json!({"t":"output","stream":"out","line":0,"ts":1001.0,"text":"epoch 1 done"});
    let rows: Vec<Value> =
        (0..300).map(|i| history(i, json!({"loss": 1.0 / (i as f64 + 1.0), "note": format!("s{i}")}))).collect();
    let mut recs = vec![run, output];
    recs.extend(rows);
    let (body, _) = ingest_body("r1", "log-a", 0, &recs);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    let sys = [
        json!({"t":"stream","v":1,"kind":"system","log_id":"sys-1","run_id":"r1","run_log_id":"log-a"}),
        json!({"t":"stats","ts":1030.0,"samples":15,"window":30.0,"data":{"system/cpu":12.5}}),
    ];
    let (body, _) = ingest_body("r1", "sys-1", 0, &sys);
    assert_eq!(s.call("POST", "/api/v1/ingest", Some(body)).await.0, StatusCode::OK);
    let req = Request::put(format!("{RUN}/files/ckpt/model.pt"))
        .header("authorization", format!("Bearer {}", s.key))
        .body(Body::from(b"weights v1".to_vec()))
        .expect("request");
    assert_eq!(s.raw(req).await.0, StatusCode::OK);
    for (path, body) in [
        ("/api/v1/teams", json!({"name": "lab"})),
        ("/api/v1/projects/alice/p/views", json!({"name": "v", "state": "?s=1", "default": true})),
        (
            "/api/v1/sweeps",
            json!({"entity": "alice", "project": "p", "config": {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}}),
        ),
        ("/api/v1/reports/alice", json!({"title": "Week 1", "doc": {"blocks": []}})),
    ] {
        let (status, answer) = s.call("POST", path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
}

fn commit_artifact(s: &TestServer) -> String {
    let put = s.state.blobs.put(b"dataset bytes").expect("blob");
    let entry = |path: &str| ManifestEntry {
        path: path.into(),
        sha256: Some(put.digest.as_str().to_owned()),
        size: put.size,
        reference: None,
        ref_digest: None,
    };
    let req = CommitArtifact {
        entity: "alice".into(),
        project: "p".into(),
        run_id: Some("r1".into()),
        name: "data".into(),
        kind: "dataset".into(),
        entries: vec![entry("a.bin"), entry("b.bin")],
        aliases: vec!["best".into()],
        ..CommitArtifact::default()
    };
    s.state.artifacts.commit_artifact(&req).expect("commit");
    put.digest.as_str().to_owned()
}

/// What a client reads: the same answers from the original and from the copy.
async fn answers(s: &TestServer, blob: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in [
        RUN.to_owned(),
        format!("{RUN}/history?limit=1000"),
        format!("{RUN}/history?stream=system"),
        format!("{RUN}/output"),
        format!("{RUN}/files"),
        "/api/v1/projects/alice/p/runs".to_owned(),
        "/api/v1/projects/alice/p/keys".to_owned(),
        format!("{RUN}/artifacts"),
        "/api/v1/teams/lab/members".to_owned(),
        "/api/v1/projects/alice/p/views".to_owned(),
        "/api/v1/sweeps/alice/p".to_owned(),
        "/api/v1/reports/alice".to_owned(),
        "/api/v1/artifacts/alice/p/data/best".to_owned(),
    ] {
        let (status, body) = s.call("GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        out.push((path, body));
    }
    for path in [format!("{RUN}/files/ckpt/model.pt"), format!("/api/v1/artifact-blobs/alice/p/{blob}")] {
        let req = Request::get(&path).header("authorization", format!("Bearer {}", s.key)).body(Body::empty());
        let (status, _, bytes) = s.raw(req.expect("request")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        out.push((path, Value::String(String::from_utf8_lossy(&bytes).into_owned())));
    }
    out
}

fn copied(report: &CopyReport, table: &str) -> (u64, u64) {
    let t = report.tables.iter().find(|t| t.name == table).expect("table in the report");
    (t.rows, t.new)
}

#[test]
fn a_single_node_install_moves_to_postgres_and_s3_and_reads_back_the_same() {
    let rt = runtime();
    let source = TestServer::new();
    rt.block_on(fill(&source));
    let blob = commit_artifact(&source);
    let before = rt.block_on(answers(&source, &blob));

    let weed = start_weed("trackway");
    let s3: Arc<dyn BlobStore> = Arc::new(S3BlobStore::open(&options(&weed, "s3://trackway/moved")).expect("s3"));
    let url = trackway_postgres::testpg::fresh_database();
    let from = Side::sqlite(&format!("sqlite://{}", source.dir.path().display())).expect("source");
    let to = Side::postgres(&url, s3.clone()).expect("destination");
    let report = copy(&from, &to, &mut |_| {}).expect("copy");
    assert_eq!(copied(&report, "runs"), (1, 1));
    assert_eq!(copied(&report, "api_keys"), (1, 1));
    assert_eq!(copied(&report, "artifact_entries"), (2, 2));
    assert_eq!((report.history.series, report.history.rows), (2, 301), "run and system series");
    assert_eq!((report.blobs.copied, report.blobs.present), (2, 0), "the file and the artifact blob");

    let again = copy(&from, &to, &mut |_| {}).expect("second copy");
    assert!(again.tables.iter().all(|t| t.new == 0), "{:?}", again.tables);
    assert_eq!((again.history.copied, again.blobs.copied, again.blobs.present), (0, 0, 2));

    let dir = tempfile::tempdir().expect("replica dir");
    let backends = Backends { database_url: Some(url.clone()), db_pool_size: 4, ..Backends::default() };
    let mut state = AppState::open_with(dir.path(), &backends).expect("a server on the copy");
    state.blobs = s3;
    let replica = TestServer { app: trackway_server::app(state.clone()), state, key: source.key.clone(), dir };
    let after = rt.block_on(answers(&replica, &blob));
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{path} answers the same after the move");
    }
    let (status, body) = rt.block_on(replica.call("POST", "/api/v1/teams", Some(json!({"name": "lab2"}))));
    assert_eq!(status, StatusCode::OK, "new rows get fresh ids after the copied ones: {body}");

    // The destination changed behind the copy's back: the verification names the table.
    replica
        .state
        .store
        .patch_run(
            &trackway_store::RunKey { entity: "alice".into(), project: "p".into(), run_id: "r1".into() },
            &trackway_store::RunPatch { name: Some("renamed".into()), ..Default::default() },
        )
        .expect("rename");
    match copy(&from, &to, &mut |_| {}) {
        Err(CopyError::Mismatch(problems)) => {
            assert!(problems.iter().any(|p| p.starts_with("table runs")), "{problems:?}")
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }

    // Someone else's database is refused before anything is written.
    let foreign = trackway_postgres::testpg::fresh_database();
    let other = Side::postgres(&foreign, Arc::new(trackway_blob::MemBlobStore::new())).expect("other");
    let stores = trackway_postgres::open_storage(&foreign, &trackway_postgres::PoolOptions::default()).expect("open");
    stores.metadata.create_user("mallory", true).expect("user");
    let err = copy(&from, &other, &mut |_| {}).expect_err("refused");
    assert!(matches!(err, CopyError::Foreign(_)), "{err}");
    assert!(err.to_string().contains("mallory"), "{err}");
}

#[test]
fn a_source_that_is_not_an_installation_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    let err = Side::sqlite(&format!("sqlite://{}", dir.path().display())).err().expect("no database");
    assert!(err.to_string().contains("trackway.db is missing"), "{err}");
    let err = Side::sqlite("/data").err().expect("no scheme");
    assert!(err.to_string().contains("expected sqlite://DATA_DIR"), "{err}");
    let err = Side::postgres("mysql://db", Arc::new(trackway_blob::MemBlobStore::new())).err().expect("not postgres");
    assert!(err.to_string().contains("expected postgres://"), "{err}");
    let err = trackway_server::migrate_copy::s3_blobs("gs://bucket").err().expect("not s3");
    assert!(err.to_string().contains("expected s3://"), "{err}");
}
