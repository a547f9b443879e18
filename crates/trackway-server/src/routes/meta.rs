//! Health, viewer, entities, projects and the OpenAPI document.

use crate::extract::Query;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::Principal;

use crate::auth::{check_access, check_read_blocking};
use crate::{ApiError, ApiResult, AppState};

#[utoipa::path(get, path = "/api/v1/health", operation_id = "health", tag = "meta", security(()),
    responses((status = 200, description = "The server is up", body = crate::openapi::Health)))]
pub(crate) async fn health() -> Json<Json_> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

#[utoipa::path(get, path = "/healthz", operation_id = "liveness", tag = "meta", security(()),
    responses((status = 200, description = "Liveness: the process answers (checks nothing else; see /readyz)", body = crate::openapi::Health)))]
pub(crate) async fn healthz() -> Json<Json_> {
    health().await
}

#[utoipa::path(get, path = "/readyz", operation_id = "readiness", tag = "meta", security(()),
    responses((status = 200, description = "Ready: the metadata database and the blob store answer", body = crate::openapi::Health),
        (status = 503, description = "A dependency does not answer (`not_ready`, naming it)")))]
pub(crate) async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Json_>> {
    state.blocking(|s| crate::metrics::readiness(s).map_err(ApiError::NotReady)).await?;
    Ok(Json(json!({"status": "ready", "version": env!("CARGO_PKG_VERSION")})))
}

#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "meta", security(()),
    responses((status = 200, description = "Prometheus metrics of this replica (text exposition format)", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    crate::metrics::exposition(&state.metrics)
}

#[utoipa::path(get, path = "/api/v1/openapi.json", operation_id = "openapi", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], crate::openapi::json())
}

#[utoipa::path(get, path = "/api/v1/viewer", operation_id = "viewer", tag = "meta",
    responses((status = 200, description = "The key's user", body = crate::openapi::Viewer)))]
pub(crate) async fn viewer(Extension(who): Extension<Principal>) -> Json<Json_> {
    let teams: Vec<Json_> = who.memberships.iter().map(|(e, r)| json!({"entity": e, "role": r})).collect();
    Json(json!({"username": who.username, "entity": who.entity, "admin": who.admin, "memberships": teams}))
}

#[utoipa::path(get, path = "/api/v1/entities", operation_id = "listEntities", tag = "meta",
    responses((status = 200, description = "Entities the key can read", body = Vec<crate::openapi::Entity>)))]
pub(crate) async fn entities(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Json_>> {
    let names = state.blocking(move |s| Ok(s.store.list_entities(&who)?)).await?;
    Ok(Json(Json_::Array(names.into_iter().map(|name| json!({"name": name})).collect())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProjectsQuery {
    /// Defaults to the key's own entity.
    entity: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects", operation_id = "listProjects", tag = "meta", params(ProjectsQuery),
    responses((status = 200, description = "The entity's projects", body = Vec<crate::openapi::Project>)))]
pub(crate) async fn projects(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ProjectsQuery>,
) -> ApiResult<Json<Json_>> {
    let entity = q.entity.unwrap_or_else(|| who.entity.clone());
    if who.can_access(&entity, false) {
        let projects = state.blocking(move |s| Ok(s.store.list_projects(&entity)?)).await?;
        return Ok(Json(serde_json::to_value(projects).map_err(crate::ApiError::internal)?));
    }
    // A non-member sees the projects whose visibility lets them read (team: signed in;
    // public: anyone); with none, the answer is the member check's refusal, as before.
    let projects = state
        .blocking(move |s| {
            let all = s.store.list_projects(&entity)?;
            let readable: Vec<_> =
                all.into_iter().filter(|p| check_read_blocking(s, &who, &entity, &p.name).is_ok()).collect();
            if readable.is_empty() {
                check_access(&who, &entity, false)?;
            }
            Ok(readable)
        })
        .await?;
    Ok(Json(serde_json::to_value(projects).map_err(crate::ApiError::internal)?))
}
