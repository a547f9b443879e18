//! The document against the router actually served: every route the router answers is
//! documented with its method, and every documented operation is served.

use std::collections::BTreeSet;

use axum::Router;
use serde_json::Value;

use crate::{ApiError, AppState};

/// Routes the document deliberately leaves out: the catch-all that answers `not_found` for
/// unknown API paths (the UI's fallback is not a route).
const UNDOCUMENTED: &[&str] = &["/api/v1/{*rest}"];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "options", "trace", "connect"];

/// `(method, path)` of every route in `router`, read from its `Debug` form (axum has no route
/// listing). A change in that form makes [`documented_routes_are_served`] fail, not pass.
fn served_routes(router: &Router) -> BTreeSet<(String, String)> {
    let text = format!("{router:?}");
    let id = regex_lite(&text, "RouteId(", ")");
    let mut out = BTreeSet::new();
    for (route_id, rest) in id {
        let Some(methods) = rest.strip_prefix(": MethodRouter(MethodRouter { ") else { continue };
        let methods = &methods[..methods.find(" })").unwrap_or(methods.len())];
        let Some(path) = path_of(&text, &route_id) else { continue };
        for field in methods.split(", ") {
            let Some((name, value)) = field.split_once(": ") else { continue };
            if METHODS.contains(&name) && value != "None" {
                out.insert((name.to_owned(), path.replace("{*", "{")));
            }
        }
    }
    out
}

/// Each `RouteId(<n>)` occurrence with the text after it.
fn regex_lite<'a>(text: &'a str, open: &str, close: &str) -> Vec<(String, &'a str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(close) else { break };
        out.push((after[..j].to_owned(), &after[j + close.len()..]));
        rest = &after[j..];
    }
    out
}

/// The path of a route id, from the node's `paths: {RouteId(n): "/path", ...}` map.
fn path_of(text: &str, route_id: &str) -> Option<String> {
    let key = format!("RouteId({route_id}): \"");
    let start = text.find(&key)? + key.len();
    let end = text[start..].find('"')?;
    Some(text[start..start + end].to_owned())
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(*method).is_some() {
                out.insert(((*method).to_owned(), path.clone()));
            }
        }
    }
    out
}

fn served_app() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::open(dir.path()).expect("state");
    (dir, crate::app(state))
}

fn document() -> Value {
    serde_json::from_str(super::json()).expect("the document is JSON")
}

fn undocumented(router: &Router, doc: &Value) -> Vec<(String, String)> {
    let documented = documented(doc);
    served_routes(router)
        .into_iter()
        .filter(|(_, path)| !UNDOCUMENTED.contains(&path.as_str()))
        .filter(|route| !documented.contains(route))
        .collect()
}

#[test]
fn every_served_route_is_documented() {
    let (_dir, app) = served_app();
    let missing = undocumented(&app, &document());
    assert!(missing.is_empty(), "routes served but missing from the OpenAPI document: {missing:?}");
}

#[test]
fn documented_routes_are_served() {
    let (_dir, app) = served_app();
    let served = served_routes(&app);
    let doc = document();
    let documented = documented(&doc);
    assert!(documented.len() >= 19, "the document lists the API ({} operations)", documented.len());
    let ghosts: Vec<_> = documented.difference(&served).collect();
    assert!(ghosts.is_empty(), "documented but not served (or the router's Debug form changed): {ghosts:?}");
}

#[test]
fn a_route_without_a_description_is_caught() {
    let (_dir, app) = served_app();
    let extra = app.route("/api/v1/extra/{id}", axum::routing::delete(|| async {}));
    let missing = undocumented(&extra, &document());
    assert_eq!(missing, [("delete".to_owned(), "/api/v1/extra/{id}".to_owned())]);
}

#[test]
fn error_codes_come_from_the_registry() {
    let doc = document();
    let codes: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
        .as_array()
        .expect("code enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let registry: Vec<&str> = ApiError::registry().iter().map(|e| e.code_and_status().0).collect();
    assert_eq!(codes, registry);
    // Every operation documents the registry's statuses, e.g. 400 and 500.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            for status in ["400", "404", "500"] {
                assert!(op["responses"][status].is_object(), "{method} {path} documents {status}");
            }
        }
    }
}

#[test]
fn the_document_is_openapi_3_1_with_bearer_auth() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["paths"]["/api/v1/runs/{entity}/{project}/{run_id}/files/{path}"]["put"].is_object());
    assert!(doc["paths"]["/api/v1/health"]["get"]["responses"].get("401").is_none(), "health needs no key");
}
