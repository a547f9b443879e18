//! Saved workspace views over HTTP: per user, shared, the project default, and the error codes.

mod common;

use axum::http::StatusCode;
use common::TestServer;
use serde_json::json;
use trackway_store::Role;

const VIEWS: &str = "/api/v1/projects/alice/proj/views";

#[tokio::test]
async fn views_are_saved_shared_and_deleted_by_their_owner() {
    let s = TestServer::new();
    let (status, v) = s.call("POST", VIEWS, Some(json!({"name": "lr sweep", "state": "?s=0.8"}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        (v["owner"].as_str(), v["shared"].as_bool(), v["default"].as_bool()),
        (Some("alice"), Some(false), Some(false))
    );
    let id = v["id"].as_i64().expect("id");

    // A viewer of the entity sees only shared views, and cannot make a default.
    s.state.store.create_user("bob", false).expect("bob");
    s.state.store.add_member("alice", "bob", Role::Viewer).expect("member");
    let bob = s.state.store.create_api_key("bob", None).expect("key").key;
    let (_, list) = s.call_with("GET", VIEWS, Some(&bob), None).await;
    assert_eq!(list["views"].as_array().map(Vec::len), Some(0));
    let (status, body) = s.call_with("GET", &format!("{VIEWS}/{id}"), Some(&bob), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, body) =
        s.call_with("POST", VIEWS, Some(&bob), Some(json!({"name": "mine", "state": "?", "default": true}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, _) = s.call_with("POST", VIEWS, Some(&bob), Some(json!({"name": "mine", "state": "?x=1"}))).await;
    assert_eq!(status, StatusCode::OK, "a viewer keeps views of their own");

    let (status, v) =
        s.call("POST", VIEWS, Some(json!({"name": "lr sweep", "state": "?s=0.9", "default": true}))).await;
    assert_eq!((status, v["id"].as_i64(), v["shared"].as_bool()), (StatusCode::OK, Some(id), Some(true)));
    let (_, list) = s.call_with("GET", VIEWS, Some(&bob), None).await;
    let names: Vec<&str> = list["views"].as_array().expect("views").iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(names, ["lr sweep", "mine"], "the default first");
    let (status, body) = s.call_with("DELETE", &format!("{VIEWS}/{id}"), Some(&bob), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = s.call("DELETE", &format!("{VIEWS}/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_views_are_4xx() {
    let s = TestServer::new();
    let (status, body) = s.call("POST", VIEWS, Some(json!({"name": "", "state": "?"}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let big = "x".repeat(64 * 1024 + 1);
    let (status, body) = s.call("POST", VIEWS, Some(json!({"name": "big", "state": big}))).await;
    assert_eq!(body["error"]["code"].as_str(), Some("limit_exceeded"), "{status}");
    assert!(status.is_client_error());
    let (status, _) = s.call("POST", VIEWS, Some(json!({"state": "?"}))).await;
    assert!(status.is_client_error(), "a missing name: {status}");
    let (status, _) = s.call("GET", &format!("{VIEWS}/not-a-number"), None).await;
    assert!(status.is_client_error(), "{status}");
}
