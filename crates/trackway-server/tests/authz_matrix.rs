//! The authorization matrix: every operation of the served OpenAPI document × every kind of
//! caller → the expected answer. The operations come from the document, the rules from
//! [`RULES`]: a new route without a rule there fails [`every_route_has_an_access_rule`], and a
//! rule that does not hold fails [`authorization_matrix`].
//!
//! Callers: no key, a wrong key, an expired key, a read-only key (of a team member), a viewer,
//! a member and an admin of team `lab`, the admin of another team (`rival`), and the server
//! admin. Each operation runs against a fresh fixture (mutations cannot leak between rows),
//! callers that must be refused first, so an allowed mutation never changes what a refused
//! caller sees.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::{TestServer, history, ingest_body, run_record};
use serde_json::{Value, json};
use trackway_store::{KeyScope, NewKey, NewReport, NewUser, Role, Visibility};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    /// Sign-in and invite routes: the same answer for every caller (credentials play no part).
    Public,
    /// Any valid key or session; `true`: a change (refused to read-only keys).
    Signed(bool),
    /// Readers of project `lab/proj` (viewer, member, admin, read-only key).
    TeamRead,
    /// Writers of `lab` (member, admin).
    TeamWrite,
    /// Admins of `lab`.
    TeamAdmin,
    /// The server admin only.
    ServerAdmin,
    /// Readers of `lab/proj`, but a refused caller gets `200` with an `error` per run (media).
    TeamReadPerRun,
    /// Readers of `lab/proj` changing something of their own there (a saved view): refused to
    /// read-only keys.
    TeamReadChange,
    /// A list filtered to what the caller may read (reports): anyone, signed in or not, gets
    /// it; a key the server refuses still gets `401`.
    Filtered,
}

/// `(method, path as documented, rule, URI override or "", body)`.
type Row = (&'static str, &'static str, Rule, &'static str, fn() -> Option<Value>);

fn none() -> Option<Value> {
    None
}
fn empty() -> Option<Value> {
    Some(json!({}))
}

const RULES: &[Row] = &[
    ("get", "/api/v1/health", Rule::Public, "", none),
    ("get", "/healthz", Rule::Public, "", none),
    ("get", "/readyz", Rule::Public, "", none),
    ("get", "/metrics", Rule::Public, "", none),
    ("get", "/api/v1/auth/config", Rule::Public, "", none),
    ("post", "/api/v1/auth/login", Rule::Public, "", || {
        Some(json!({"username": "nobody", "password": "wrong-password"}))
    }),
    ("post", "/api/v1/auth/logout", Rule::Public, "", none),
    ("post", "/api/v1/auth/signup", Rule::Public, "", || {
        Some(json!({"username": "newbie", "password": "long-password"}))
    }),
    ("get", "/api/v1/invites/{token}", Rule::Public, "/api/v1/invites/tw_unknown", none),
    ("post", "/api/v1/invites/{token}/accept", Rule::Public, "/api/v1/invites/tw_unknown/accept", empty),
    ("get", "/api/v1/auth/oidc/login", Rule::Public, "", none),
    ("get", "/api/v1/auth/oidc/callback", Rule::Public, "", none),
    ("get", "/api/v1/openapi.json", Rule::Signed(false), "", none),
    ("get", "/api/v1/viewer", Rule::Signed(false), "", none),
    ("get", "/api/v1/entities", Rule::Signed(false), "", none),
    ("get", "/api/v1/projects", Rule::TeamRead, "/api/v1/projects?entity=lab", none),
    ("get", "/api/v1/projects/{entity}/{project}/runs", Rule::TeamRead, "", none),
    ("get", "/api/v1/projects/{entity}/{project}/keys", Rule::TeamRead, "", none),
    (
        "get",
        "/api/v1/projects/{entity}/{project}/groups",
        Rule::TeamRead,
        "/api/v1/projects/lab/proj/groups?by=state",
        none,
    ),
    ("post", "/api/v1/runs", Rule::TeamWrite, "", || Some(json!({"entity": "lab", "project": "proj", "run_id": "r2"}))),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}", Rule::TeamRead, "", none),
    ("patch", "/api/v1/runs/{entity}/{project}/{run_id}", Rule::TeamWrite, "", || Some(json!({"notes": "n"}))),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/history", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/history/keys", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/history/export", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/output", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/files", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/files/{path}", Rule::TeamRead, "", none),
    ("put", "/api/v1/runs/{entity}/{project}/{run_id}/files/{path}", Rule::TeamWrite, "", || Some(json!({"a": 1}))),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/media/keys", Rule::TeamRead, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/thumbnails/{path}", Rule::TeamRead, "", none),
    (
        "get",
        "/api/v1/runs/{entity}/{project}/{run_id}/media",
        Rule::TeamRead,
        "/api/v1/runs/lab/proj/r1/media?key=img",
        none,
    ),
    (
        "get",
        "/api/v1/runs/{entity}/{project}/{run_id}/tables",
        Rule::TeamRead,
        "/api/v1/runs/lab/proj/r1/tables?key=t",
        none,
    ),
    (
        "get",
        "/api/v1/runs/{entity}/{project}/{run_id}/histograms",
        Rule::TeamRead,
        "/api/v1/runs/lab/proj/r1/histograms?key=h",
        none,
    ),
    ("post", "/api/v1/charts/query", Rule::TeamRead, "", || {
        Some(json!({"runs": [{"entity": "lab", "project": "proj", "run_id": "r1"}], "metric": "loss"}))
    }),
    ("post", "/api/v1/media/query", Rule::TeamReadPerRun, "", || {
        Some(json!({"runs": [{"entity": "lab", "project": "proj", "run_id": "r1"}], "key": "img"}))
    }),
    ("post", "/api/v1/ingest", Rule::TeamWrite, "", ingest_r1),
    ("get", "/api/v1/keys", Rule::Signed(false), "", none),
    ("post", "/api/v1/keys", Rule::Signed(true), "", || Some(json!({"name": "ci", "expires_in": 3600}))),
    ("delete", "/api/v1/keys/{id}", Rule::Signed(true), "", none),
    ("put", "/api/v1/viewer/password", Rule::Signed(true), "", || Some(json!({"password": "a-long-password"}))),
    ("get", "/api/v1/admin/users", Rule::ServerAdmin, "", none),
    ("post", "/api/v1/admin/users", Rule::ServerAdmin, "", || Some(json!({"username": "svc", "service": true}))),
    ("patch", "/api/v1/admin/users/{username}", Rule::ServerAdmin, "", || Some(json!({"active": false}))),
    ("post", "/api/v1/admin/users/{username}/keys", Rule::ServerAdmin, "", empty),
    ("get", "/api/v1/admin/audit", Rule::ServerAdmin, "", none),
    ("get", "/api/v1/teams", Rule::Signed(false), "", none),
    ("post", "/api/v1/teams", Rule::Signed(true), "", || Some(json!({"name": "newteam"}))),
    ("get", "/api/v1/teams/{team}/members", Rule::TeamRead, "", none),
    ("put", "/api/v1/teams/{team}/members/{username}", Rule::TeamAdmin, "", || Some(json!({"role": "viewer"}))),
    ("delete", "/api/v1/teams/{team}/members/{username}", Rule::TeamAdmin, "", none),
    ("get", "/api/v1/teams/{team}/invites", Rule::TeamAdmin, "", none),
    ("post", "/api/v1/teams/{team}/invites", Rule::TeamAdmin, "", || Some(json!({"role": "member"}))),
    ("delete", "/api/v1/teams/{team}/invites/{id}", Rule::TeamAdmin, "", none),
    ("get", "/api/v1/projects/{entity}/{project}/visibility", Rule::TeamRead, "", none),
    ("put", "/api/v1/projects/{entity}/{project}/visibility", Rule::TeamAdmin, "", || {
        Some(json!({"visibility": "team"}))
    }),
    ("post", "/api/v1/projects/{entity}/{project}/move", Rule::TeamAdmin, "", || Some(json!({"entity": "lab2"}))),
    // Run edits (docs/api.md "Runs").
    ("delete", "/api/v1/runs/{entity}/{project}/{run_id}", Rule::TeamWrite, "", none),
    ("post", "/api/v1/runs/{entity}/{project}/{run_id}/stop", Rule::TeamWrite, "", none),
    ("post", "/api/v1/runs/{entity}/{project}/{run_id}/move", Rule::TeamWrite, "", || {
        Some(json!({"project": "proj2"}))
    }),
    ("post", "/api/v1/projects/{entity}/{project}/runs/bulk", Rule::TeamWrite, "", || {
        Some(json!({"run_ids": ["r1"], "action": "tag", "tags": ["t"]}))
    }),
    // Saved views: each reader keeps their own.
    ("get", "/api/v1/projects/{entity}/{project}/views", Rule::TeamRead, "", none),
    ("post", "/api/v1/projects/{entity}/{project}/views", Rule::TeamReadChange, "", || {
        Some(json!({"name": "mine", "state": "?smoothing=0.5"}))
    }),
    ("get", "/api/v1/projects/{entity}/{project}/views/{id}", Rule::TeamRead, "", none),
    ("delete", "/api/v1/projects/{entity}/{project}/views/{id}", Rule::TeamReadChange, "", none),
    // Sweeps.
    ("post", "/api/v1/sweeps", Rule::TeamWrite, "", || {
        Some(
            json!({"entity": "lab", "project": "proj", "config": {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}}),
        )
    }),
    ("get", "/api/v1/sweeps/{entity}/{project}", Rule::TeamRead, "", none),
    ("get", "/api/v1/sweeps/{entity}/{project}/{sweep_id}", Rule::TeamRead, "", none),
    ("post", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/control", Rule::TeamWrite, "", || {
        Some(json!({"action": "pause"}))
    }),
    ("post", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/claim", Rule::TeamWrite, "", || {
        Some(json!({"agent": "host-1"}))
    }),
    ("post", "/api/v1/sweeps/{entity}/{project}/{sweep_id}/heartbeat", Rule::TeamWrite, "", || {
        Some(json!({"running": []}))
    }),
    // Artifacts (docs/artifacts.md).
    ("get", "/api/v1/artifacts/{entity}/{project}", Rule::TeamRead, "", none),
    ("post", "/api/v1/artifacts/{entity}/{project}", Rule::TeamWrite, "", || {
        Some(json!({"name": "ds", "type": "dataset", "entries": []}))
    }),
    ("get", "/api/v1/artifacts/{entity}/{project}/{name}", Rule::TeamRead, "", none),
    ("get", "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", Rule::TeamRead, "", none),
    ("patch", "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", Rule::TeamWrite, "", || {
        Some(json!({"add_aliases": ["best"]}))
    }),
    ("delete", "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", Rule::TeamWrite, "", none),
    ("get", "/api/v1/runs/{entity}/{project}/{run_id}/artifacts", Rule::TeamRead, "", none),
    ("post", "/api/v1/runs/{entity}/{project}/{run_id}/artifacts", Rule::TeamWrite, "", || {
        Some(json!({"name": "ds", "type": "dataset", "entries": []}))
    }),
    ("post", "/api/v1/runs/{entity}/{project}/{run_id}/artifacts/used", Rule::TeamWrite, "", || {
        Some(json!({"name": "ds", "selector": "latest"}))
    }),
    ("get", "/api/v1/artifact-blobs/{entity}/{project}/{sha256}", Rule::TeamRead, "", none),
    ("get", "/api/v1/artifact-blobs/{entity}/{project}/{sha256}/upload", Rule::TeamWrite, "", none),
    (
        "put",
        "/api/v1/artifact-blobs/{entity}/{project}/{sha256}",
        Rule::TeamWrite,
        "/api/v1/artifact-blobs/lab/proj/0000000000000000000000000000000000000000000000000000000000000000?offset=0&size=1",
        none,
    ),
    // wandb's protocol (docs/wandb-server.md): its API key is a Trackway key.
    ("post", "/graphql", Rule::Signed(true), "", || Some(json!({"query": "query Viewer { viewer { id entity } }"}))),
    ("post", "/files/{entity}/{project}/{run_id}/file_stream", Rule::TeamWrite, "", || Some(json!({"files": {}}))),
    // Reports (docs/reports.md): report 1 of `lab` is private.
    ("get", "/api/v1/reports/{entity}", Rule::Filtered, "", none),
    ("post", "/api/v1/reports/{entity}", Rule::TeamWrite, "", || Some(json!({"title": "t", "doc": {"blocks": []}}))),
    ("get", "/api/v1/reports/{entity}/{id}", Rule::TeamRead, "", none),
    ("put", "/api/v1/reports/{entity}/{id}", Rule::TeamWrite, "", || {
        Some(json!({"title": "t2", "doc": {"blocks": []}}))
    }),
    ("delete", "/api/v1/reports/{entity}/{id}", Rule::TeamWrite, "", none),
    ("put", "/api/v1/reports/{entity}/{id}/visibility", Rule::TeamAdmin, "", || Some(json!({"visibility": "team"}))),
    ("get", "/api/v1/reports/{entity}/{id}/versions", Rule::TeamRead, "", none),
    ("get", "/api/v1/reports/{entity}/{id}/versions/{version}", Rule::TeamRead, "", none),
    ("post", "/api/v1/reports/{entity}/{id}/versions/{version}/restore", Rule::TeamWrite, "", none),
    ("get", "/api/v1/reports/{entity}/{id}/comments", Rule::TeamRead, "", none),
    ("post", "/api/v1/reports/{entity}/{id}/comments", Rule::TeamReadChange, "", || Some(json!({"text": "nice"}))),
    // Signed by the server instead of a key: an unsigned URL is refused to everyone alike.
    ("put", "/wandb/upload/{entity}/{project}/{run_id}/{path}", Rule::Public, "", none),
    ("put", "/wandb/artifact-upload/{id}/{path}", Rule::Public, "", none),
    ("get", "/wandb/artifact-manifest/{id}", Rule::Public, "", none),
    ("get", "/wandb/artifact-file/{entity}/{project}/{sha256}", Rule::Public, "", none),
];

fn ingest_r1() -> Option<Value> {
    let (mut body, _) = ingest_body("r1", "log-0000000000001", 0, &[history(0, json!({"loss": 1.0}))]);
    body["entity"] = json!("lab");
    body["project"] = json!("proj");
    Some(body)
}

/// The callers, refused ones first.
const CALLERS: &[&str] = &["none", "wrong", "expired", "other", "readonly", "viewer", "member", "admin", "server"];

/// One fixture: team `lab` (admin ada, member max, viewer vic, spare member sam), team `lab2`
/// (admin ada), team `rival` (admin oscar), project `lab/proj` with run `r1` and some history.
struct Fixture {
    s: TestServer,
    keys: Vec<(&'static str, Option<String>)>,
    invite_id: i64,
}

fn user(s: &TestServer, name: &str) {
    s.state.accounts.create_account(&NewUser { username: name.into(), ..NewUser::default() }).expect("user");
}

fn key(s: &TestServer, name: &str, scope: KeyScope, expires_at: Option<f64>) -> String {
    let new = NewKey { username: name.into(), name: None, expires_at, scope };
    s.state.accounts.create_key(&new).expect("key").key
}

async fn fixture() -> Fixture {
    let s = TestServer::new();
    for name in ["ada", "max", "vic", "sam", "oscar"] {
        user(&s, name);
    }
    let st = &s.state;
    st.store.create_team("lab", "ada").expect("lab");
    st.store.create_team("lab2", "ada").expect("lab2");
    st.store.create_team("rival", "oscar").expect("rival");
    st.store.add_member("lab", "max", Role::Member).expect("max");
    st.store.add_member("lab", "vic", Role::Viewer).expect("vic");
    st.store.add_member("lab", "sam", Role::Member).expect("sam");
    let full = KeyScope::default;
    let member = key(&s, "max", full(), None);
    let (status, _) = s
        .call_with(
            "POST",
            "/api/v1/runs",
            Some(&member),
            Some(json!({"entity": "lab", "project": "proj", "run_id": "r1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "fixture run");
    let mut body = ingest_r1().expect("body");
    body["log_id"] = json!("log-0000000000000");
    let mut recs = vec![run_record("r1")];
    recs.push(history(0, json!({"loss": 0.5})));
    let (b, _) = ingest_body("r1", "log-0000000000000", 0, &recs);
    body["records"] = b["records"].clone();
    body["to"] = b["to"].clone();
    assert_eq!(
        s.call_with("POST", "/api/v1/ingest", Some(&member), Some(body)).await.0,
        StatusCode::OK,
        "fixture ingest"
    );
    let report = NewReport {
        entity: "lab".into(),
        title: "Weekly".into(),
        body: r#"{"blocks":[]}"#.into(),
        author: "max".into(),
        visibility: Visibility::Private,
    };
    st.reports.create_report(&report).expect("report");
    let invite_id = st.accounts.create_invite("lab", Role::Viewer, "ada", 4e9).expect("invite").info.id;
    let keys = vec![
        ("none", None),
        ("wrong", Some("tw_0000000000000000000000000000000000000000".to_owned())),
        ("expired", Some(key(&s, "max", full(), Some(1.0)))),
        ("other", Some(key(&s, "oscar", full(), None))),
        ("readonly", Some(key(&s, "max", KeyScope { read_only: true, ..KeyScope::default() }, None))),
        ("viewer", Some(key(&s, "vic", full(), None))),
        ("member", Some(member)),
        ("admin", Some(key(&s, "ada", full(), None))),
        ("server", Some(s.key.clone())),
    ];
    Fixture { s, keys, invite_id }
}

/// What `caller` must get under `rule`: `Ok(())` allowed (neither 401 nor 403), else the status.
fn expected(rule: Rule, caller: &str) -> Result<(), StatusCode> {
    let unauth = ["none", "wrong", "expired"].contains(&caller);
    if rule == Rule::Public {
        return Ok(());
    }
    if rule == Rule::Filtered && caller == "none" {
        return Ok(());
    }
    if unauth {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let allowed = match rule {
        Rule::Public | Rule::Filtered => true,
        Rule::Signed(write) => !(write && caller == "readonly"),
        Rule::TeamRead | Rule::TeamReadPerRun => caller != "other",
        Rule::TeamReadChange => !["other", "readonly"].contains(&caller),
        Rule::TeamWrite => ["member", "admin", "server"].contains(&caller),
        Rule::TeamAdmin => ["admin", "server"].contains(&caller),
        Rule::ServerAdmin => caller == "server",
    };
    if allowed { Ok(()) } else { Err(StatusCode::FORBIDDEN) }
}

fn uri(row: &Row, f: &Fixture) -> String {
    if !row.3.is_empty() {
        return row.3.to_owned();
    }
    let id = if row.1.starts_with("/api/v1/teams/") { f.invite_id } else { 1 };
    row.1
        .replace("{entity}", "lab")
        .replace("{project}", "proj")
        .replace("{run_id}", "r1")
        .replace("{path}", "a.txt")
        .replace("{team}", "lab")
        .replace("{username}", "sam")
        .replace("{id}", &id.to_string())
        .replace("{name}", "ds")
        .replace("{selector}", "latest")
        .replace("{sweep_id}", "sw1")
        .replace("{sha256}", &"0".repeat(64))
        .replace("{version}", "1")
}

/// The per-run error code of a media query answer, if any.
fn per_run_error(body: &Value) -> Option<String> {
    body["runs"].as_array()?.iter().find_map(|r| r["error"]["code"].as_str().map(str::to_owned))
}

async fn check_row(row: &Row) -> Vec<String> {
    let f = fixture().await;
    let mut failures = Vec::new();
    let mut public_status = None;
    for caller in CALLERS {
        let key = f.keys.iter().find(|(c, _)| c == caller).and_then(|(_, k)| k.clone());
        let uri = uri(row, &f);
        let (status, body) = f.s.call_with(&row.0.to_uppercase(), &uri, key.as_deref(), (row.4)()).await;
        let want = expected(row.2, caller);
        let got = if row.2 == Rule::TeamReadPerRun && status == StatusCode::OK {
            match per_run_error(&body).as_deref() {
                Some("unauthorized") => StatusCode::UNAUTHORIZED,
                Some("forbidden") => StatusCode::FORBIDDEN,
                _ => status,
            }
        } else {
            status
        };
        let ok = match want {
            Ok(()) if row.2 == Rule::Public => true,
            Ok(()) => got != StatusCode::UNAUTHORIZED && got != StatusCode::FORBIDDEN,
            Err(code) => got == code,
        };
        if row.2 == Rule::Public && *public_status.get_or_insert(status) != status {
            failures.push(format!("{} {uri} as {caller}: {status}, another caller got {public_status:?}", row.0));
        }
        if !ok {
            failures.push(format!("{} {uri} as {caller}: got {got} {body}, want {want:?}", row.0));
        }
    }
    failures
}

async fn documented_operations() -> BTreeSet<(String, String)> {
    let f = TestServer::new();
    let (status, doc) = f.call("GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_has_an_access_rule() {
    let documented = documented_operations().await;
    let ruled: BTreeSet<(String, String)> = RULES.iter().map(|r| (r.0.to_owned(), r.1.to_owned())).collect();
    let missing: Vec<_> = documented.difference(&ruled).collect();
    assert!(missing.is_empty(), "routes without an access rule in RULES: {missing:?}");
    let stale: Vec<_> = ruled.difference(&documented).collect();
    assert!(stale.is_empty(), "rules for routes that are not served: {stale:?}");
}

#[tokio::test]
async fn authorization_matrix() {
    let documented = documented_operations().await;
    let mut failures = Vec::new();
    for row in RULES.iter().filter(|r| documented.contains(&(r.0.to_owned(), r.1.to_owned()))) {
        failures.extend(check_row(row).await);
    }
    assert!(failures.is_empty(), "{} authorization failures:\n{}", failures.len(), failures.join("\n"));
}
