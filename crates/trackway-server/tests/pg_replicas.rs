//! Two server replicas on one PostgreSQL database (a throwaway server from `testpg`), each with
//! its own data dir: what one replica's API writes in teams, saved views, sweeps and the audit
//! log, the other's API serves, and sweep trials claimed through both are handed out once.
//! Nothing but artifacts may come from a replica's local SQLite file.

mod common;

use axum::http::StatusCode;
use common::TestServer;
use serde_json::json;
use trackway_server::{AppState, Backends};

fn replica(url: &str, key: Option<&str>) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let backends = Backends { database_url: Some(url.to_owned()), db_pool_size: 4, ..Backends::default() };
    let state = AppState::open_with(dir.path(), &backends).expect("open a replica");
    let key = match key {
        Some(k) => k.to_owned(),
        None => {
            state.store.create_user("alice", true).expect("user");
            state.store.create_api_key("alice", None).expect("key").key
        }
    };
    TestServer { app: trackway_server::app(state.clone()), state, key, dir }
}

/// The database client is synchronous (the server calls it on blocking threads), so the
/// replicas are opened and the stores read outside the async runtime that drives the API calls.
#[test]
fn two_replicas_share_teams_views_sweeps_and_audit() {
    let url = trackway_postgres::testpg::fresh_database();
    let a = replica(&url, None);
    let b = replica(&url, Some(&a.key));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(through_the_api(&a, &b));
    a.state.accounts.audit(Some("alice"), "test.mark", None, &json!({})).expect("audit");
    let entries = b.state.accounts.audit_log(5, None).expect("audit log");
    assert!(entries.iter().any(|e| e.action == "test.mark"));
    assert_eq!(b.state.accounts.list_members("lab").expect("members").len(), 1);
}

async fn through_the_api(a: &TestServer, b: &TestServer) {
    let (status, body) = a.call("POST", "/api/v1/teams", Some(json!({"name": "lab"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = b.call("GET", "/api/v1/teams/lab/members", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains("alice"), "the team made on replica a is served by b: {body}");

    let views = "/api/v1/projects/alice/proj/views";
    let (status, body) = a.call("POST", views, Some(json!({"name": "v", "state": "?s=1", "default": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = b.call("GET", views, None).await;
    assert_eq!(list["views"][0]["state"], "?s=1", "{list}");

    let config = json!({"method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}});
    let (status, body) =
        a.call("POST", "/api/v1/sweeps", Some(json!({"entity": "alice", "project": "proj", "config": config}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claim = format!("/api/v1/sweeps/alice/proj/{}/claim", body["sweep"]["id"].as_str().expect("sweep id"));
    let mut runs = Vec::new();
    for (i, r) in [b, a, b].into_iter().enumerate() {
        let (status, body) = r.call("POST", &claim, Some(json!({"agent": format!("agent-{i}")}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["trial"]["seq"], i, "claims through either replica continue one sequence: {body}");
        runs.push(body["trial"]["run_id"].as_str().expect("run id").to_owned());
    }
    runs.sort();
    runs.dedup();
    assert_eq!(runs.len(), 3, "three different runs");
    let (_, body) = a.call("POST", &claim, Some(json!({"agent": "late"}))).await;
    assert!(body.get("trial").is_none(), "the 3-point grid is exhausted on both replicas: {body}");
}
