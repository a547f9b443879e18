//! Run edits through the API: rename (PATCH), delete, move, stop, bulk tag/untag/delete; bad
//! input gets 4xx with the registry's codes.

mod common;

use axum::http::StatusCode;
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};

async fn make_runs(s: &TestServer, ids: &[&str]) {
    for id in ids {
        let body = json!({"project":"p","run_id":id,"name":format!("n-{id}"),"tags":["keep"],"config":{"lr":0.1}});
        let (status, body) = s.call("POST", "/api/v1/runs", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

async fn ids(s: &TestServer, project: &str, filter: &str) -> Vec<String> {
    let uri = format!("/api/v1/projects/alice/{project}/runs?order=name&filters={}", urlencode(filter));
    let (status, body) = s.call("GET", &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["runs"].as_array().into_iter().flatten().map(|r| r["run_id"].as_str().unwrap_or("").to_owned()).collect()
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn rename_delete_and_move_one_run() {
    let s = TestServer::new();
    make_runs(&s, &["r1", "r2"]).await;
    let (status, body) = s.call("PATCH", "/api/v1/runs/alice/p/r1", Some(json!({"name":"renamed"}))).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("renamed")));
    let (status, body) = s.call("DELETE", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((status, body["deleted"].clone()), (StatusCode::OK, json!(["alice/p/r1"])));
    let (status, body) = s.call("DELETE", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "run_not_found"));
    assert_eq!(ids(&s, "p", "").await, ["r2"]);

    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/r2/move", Some(json!({"project":"q"}))).await;
    assert_eq!(
        (status, body["project"].as_str(), body["url"].as_str()),
        (StatusCode::OK, Some("q"), Some("/alice/q/runs/r2"))
    );
    assert!(ids(&s, "p", "").await.is_empty());
    assert_eq!(ids(&s, "q", r#"{"config.lr":0.1}"#).await, ["r2"]);
    // The id is taken in the target: 409; a bad project name or an unknown field: 400.
    make_runs(&s, &["r2"]).await;
    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/r2/move", Some(json!({"project":"q"}))).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "run_exists"));
    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/r2/move", Some(json!({"project":""}))).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_name"));
    let (status, _) = s.call("POST", "/api/v1/runs/alice/p/r2/move", Some(json!({"project":"x","to":1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/nope/move", Some(json!({"project":"x"}))).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "run_not_found"));
}

#[tokio::test]
async fn edits_need_write_access() {
    let s = TestServer::new();
    make_runs(&s, &["r1"]).await;
    s.state.store.create_user("bob", false).expect("bob");
    let bob = s.state.store.create_api_key("bob", None).expect("key").key;
    for (method, uri, body) in [
        ("DELETE", "/api/v1/runs/alice/p/r1", None),
        ("POST", "/api/v1/runs/alice/p/r1/move", Some(json!({"project":"q"}))),
        ("POST", "/api/v1/projects/alice/p/runs/bulk", Some(json!({"run_ids":["r1"],"action":"delete"}))),
    ] {
        let (status, body) = s.call_with(method, uri, Some(&bob), body).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{method} {uri}");
    }
    // Nor may bob move his own run into an entity he cannot write.
    let (status, _) = s.call_with("POST", "/api/v1/runs", Some(&bob), Some(json!({"project":"p","run_id":"b1"}))).await;
    assert_eq!(status, StatusCode::OK);
    let to_alice = Some(json!({"entity":"alice","project":"q"}));
    let (status, _) = s.call_with("POST", "/api/v1/runs/bob/p/b1/move", Some(&bob), to_alice).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        s.call_with("POST", "/api/v1/runs/bob/p/b1/move", Some(&bob), Some(json!({"project":"q"}))).await;
    assert_eq!((status, body["project"].as_str()), (StatusCode::OK, Some("q")), "within his own entity");
    assert_eq!(ids(&s, "p", "").await, ["r1"]);
}

#[tokio::test]
async fn bulk_tag_untag_delete() {
    let s = TestServer::new();
    make_runs(&s, &["a", "b", "c"]).await;
    let s = &s;
    let bulk = |body: Value| async move { s.call("POST", "/api/v1/projects/alice/p/runs/bulk", Some(body)).await };
    let (status, body) = bulk(json!({"run_ids":["a","b","zz"],"action":"tag","tags":["best","keep"]})).await;
    assert_eq!(
        (status, body["changed"].clone(), body["missing"].clone()),
        (StatusCode::OK, json!(["a", "b"]), json!(["zz"]))
    );
    assert_eq!(ids(s, "p", r#"{"tags":"best"}"#).await, ["a", "b"]);
    let (_, body) = s.call("GET", "/api/v1/runs/alice/p/a", None).await;
    assert_eq!(body["tags"], json!(["keep", "best"]), "no duplicate tags");
    let (status, _) = bulk(json!({"run_ids":["a"],"action":"untag","tags":["best"]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(s, "p", r#"{"tags":"best"}"#).await, ["b"]);
    let (status, body) = bulk(json!({"run_ids":["a","c"],"action":"delete"})).await;
    assert_eq!((status, body["changed"].clone()), (StatusCode::OK, json!(["a", "c"])));
    assert_eq!(ids(s, "p", "").await, ["b"]);
    for bad in [
        json!({"run_ids":[],"action":"delete"}),
        json!({"run_ids":["b"],"action":"tag","tags":[" "]}),
        json!({"run_ids":["b"],"action":"explode"}),
        json!({"run_ids":vec!["b"; 1001],"action":"delete"}),
    ] {
        let (status, body) = bulk(bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
    }
}

async fn put_file(s: &TestServer, run: &str, path: &str, bytes: &[u8]) {
    let req = axum::http::Request::put(format!("/api/v1/runs/alice/p/{run}/files/{path}"))
        .header("authorization", format!("Bearer {}", s.key))
        .body(axum::body::Body::from(bytes.to_vec()))
        .expect("request");
    let (status, _, body) = s.raw(req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

fn stored(s: &TestServer, bytes: &[u8]) -> bool {
    s.state.blobs.exists(&trackway_blob::Digest::of(bytes)).expect("blob store")
}

/// Deleting a run frees the blobs of its files (media, checkpoints, every version) that no other
/// run's file references; a blob another run still holds stays until its last holder goes, by a
/// single delete or a bulk one.
#[tokio::test]
async fn deleting_runs_frees_the_blobs_only_they_referenced() {
    let s = TestServer::new();
    make_runs(&s, &["r1", "r2", "r3"]).await;
    put_file(&s, "r1", "media/images/a.png", b"only r1 v1").await;
    put_file(&s, "r1", "media/images/a.png", b"only r1 v2").await;
    put_file(&s, "r1", "model.pt", b"shared by r1 and r2").await;
    put_file(&s, "r2", "copy.pt", b"shared by r1 and r2").await;
    put_file(&s, "r3", "own.txt", b"only r3").await;

    let (status, body) = s.call("DELETE", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((status, body["blobs_freed"].as_u64()), (StatusCode::OK, Some(2)), "{body}");
    assert!(!stored(&s, b"only r1 v1") && !stored(&s, b"only r1 v2"), "r1's own blobs are gone");
    assert!(stored(&s, b"shared by r1 and r2"), "the blob r2 holds stays");
    let (status, body) = s.call("GET", "/api/v1/runs/alice/p/r2/files/copy.pt", None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, Some("shared by r1 and r2")));

    let bulk = json!({"run_ids":["r2","r3"],"action":"delete"});
    let (status, body) = s.call("POST", "/api/v1/projects/alice/p/runs/bulk", Some(bulk)).await;
    assert_eq!((status, body["changed"].clone()), (StatusCode::OK, json!(["r2", "r3"])));
    assert!(!stored(&s, b"shared by r1 and r2") && !stored(&s, b"only r3"), "the last holders freed them");
}

/// `POST .../stop`: the writer's ingest answers say `stop_requested` until its finish makes the
/// run `killed`; asking again keeps the first time; an ended or unknown run is refused.
#[tokio::test]
async fn stop_is_told_to_the_writer_and_the_run_ends_killed() {
    let s = TestServer::new();
    let log = "log-0000000000000";
    let (body, to) = ingest_body("r1", log, 0, &[run_record("r1"), history(0, json!({"x": 1}))]);
    let (status, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!((status, ack["stop_requested"].clone()), (StatusCode::OK, json!(false)));
    let (status, run) = s.call("POST", "/api/v1/runs/alice/p/r1/stop", None).await;
    assert_eq!((status, run["state"].as_str()), (StatusCode::OK, Some("running")), "{run}");
    let at = run["stop_requested_at"].as_f64().expect("stop_requested_at");
    let (_, again) = s.call("POST", "/api/v1/runs/alice/p/r1/stop", None).await;
    assert_eq!(again["stop_requested_at"].as_f64(), Some(at), "asking again changes nothing");
    let (body, to) = ingest_body("r1", log, to, &[history(1, json!({"x": 2}))]);
    let (_, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!(ack["stop_requested"], json!(true), "{ack}");
    let finish = json!({"t":"finish","exit_code":130,"ts":1002.0,"rt":1.0});
    let (body, _) = ingest_body("r1", log, to, &[finish]);
    let (_, ack) = s.call("POST", "/api/v1/ingest", Some(body)).await;
    assert_eq!(ack["stop_requested"], json!(false), "an ended run has nothing to stop");
    let (_, run) = s.call("GET", "/api/v1/runs/alice/p/r1", None).await;
    assert_eq!((run["state"].as_str(), run["exit_code"].as_i64()), (Some("killed"), Some(130)));
    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/r1/stop", None).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));
    let (status, body) = s.call("POST", "/api/v1/runs/alice/p/nope/stop", None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "run_not_found"));
}

/// wandb-core reads a refused request's message from GraphQL's `errors` (else the user sees
/// `CommError: <no message>`): the wandb routes add it beside Trackway's `error` object.
#[tokio::test]
async fn a_wrong_key_on_wandbs_routes_answers_graphql_errors_too() {
    let s = TestServer::new();
    let query = Some(json!({"query": "query Viewer { viewer { id } }"}));
    let (status, body) = s.call_with("POST", "/graphql", Some("tw_wrongwrongwrongwrong"), query).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(body["errors"][0]["message"], body["error"]["message"], "{body}");
    let (status, body) = s.call_with("GET", "/api/v1/viewer", Some("tw_wrongwrongwrongwrong"), None).await;
    assert_eq!((status, body.get("errors")), (StatusCode::UNAUTHORIZED, None), "Trackway's own routes: one shape");
}
