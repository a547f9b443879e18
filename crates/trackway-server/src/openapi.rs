//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated rather than written:
//! - each handler's `#[utoipa::path]` attribute gives its method, path, parameters and bodies,
//!   and routes/mod.rs registers the handlers from those same attributes
//!   (`utoipa_axum::routes!`), so a route and its description cannot drift apart;
//! - request and query types derive their schemas where they are declared; the bodies that
//!   handlers build with `json!` are described in [`schemas`];
//! - every operation's error responses come from the one registry, [`ApiError::registry`].
//!
//! The test below walks the router actually served and fails on any route the document lacks.

mod accounts;
mod constraints;
mod filter_schema;
mod reports;
mod schemas;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

pub(crate) use accounts::*;
pub(crate) use filter_schema::REF as FILTER_REF;
pub(crate) use reports::*;
pub(crate) use schemas::*;

use crate::ApiError;

/// The document's fixed parts; `paths` come from the router (routes/mod.rs).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Trackway API",
        version = "1",
        description = "Self-hosted experiment tracking. See docs/api.md. Values inside config, summary and \
                       history are Trackway JSON: NaN/Infinity as {\"$f\":...}, big integers as {\"$int\":...}.",
    ),
    servers((url = "/")),
    security(("bearer" = [])),
)]
struct ApiDoc;

/// Security scheme, error responses, and axum's `{*path}` written as OpenAPI's `{path}`.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("API key")).build(),
            ),
        );
        components.schemas.insert("Error".into(), error_schema());
        let paths = std::mem::take(&mut doc.paths.paths);
        for (path, mut item) in paths {
            let ops = [
                (axum::http::Method::GET, &mut item.get),
                (axum::http::Method::PUT, &mut item.put),
                (axum::http::Method::POST, &mut item.post),
                (axum::http::Method::PATCH, &mut item.patch),
                (axum::http::Method::DELETE, &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    if crate::auth::anonymous_may_try(&method, &path) {
                        // Readable without a key when the project is public (docs/teams.md).
                        op.security = Some(vec![
                            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
                            utoipa::openapi::security::SecurityRequirement::default(),
                        ]);
                    }
                    add_error_responses(op);
                }
            }
            doc.paths.paths.insert(path.replace("{*", "{"), item);
        }
    }
}

/// `{"error":{"code","message"}}` with `code` one of the registry's codes.
fn error_schema() -> RefOr<utoipa::openapi::schema::Schema> {
    let codes: Vec<&str> = ApiError::registry().iter().map(|e| e.code_and_status().0).collect();
    let inner = ObjectBuilder::new()
        .property("code", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)))
        .required("code")
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message")
        .property(
            "expected",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("offset_gap: the position the server expects")),
        );
    let outer = ObjectBuilder::new()
        .property("error", inner)
        .required("error")
        .property("expected", ObjectBuilder::new().schema_type(Type::Integer));
    RefOr::T(outer.into())
}

/// Every status the registry can answer, each described by its codes, plus 401 for operations
/// that need a key. Statuses an operation documents itself are kept.
fn add_error_responses(op: &mut Operation) {
    let public = op.security.as_ref().is_some_and(|s| s.iter().all(|r| *r == Default::default()));
    let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for e in ApiError::registry() {
        let (code, status) = e.code_and_status();
        by_status.entry(status.as_u16()).or_default().push(code);
    }
    for (status, codes) in by_status {
        if public && (status == 401 || status == 403) {
            continue;
        }
        op.responses.responses.entry(status.to_string()).or_insert_with(|| error_response(&codes));
    }
}

fn error_response(codes: &[&str]) -> RefOr<Response> {
    let content = Content::new(Some(Ref::from_schema_name("Error")));
    let text = format!("Error: {}", codes.join(", "));
    RefOr::T(ResponseBuilder::new().description(text).content("application/json", content).build())
}

/// The document as served, built once.
pub(crate) fn json() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(crate::routes::documented_all().into_openapi());
        Conventions.modify(&mut doc);
        let mut value = serde_json::to_value(&doc).unwrap_or_default();
        constraints::apply(&mut value);
        serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\":\"openapi: {e}\"}}"))
    });
    &DOC
}

#[cfg(test)]
mod tests;
