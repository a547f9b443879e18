//! Health, viewer, entities, projects and the OpenAPI document.

use axum::extract::State;
use crate::extract::Query;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::Principal;

use crate::auth::check_access;
use crate::{ApiResult, AppState};

/// The OpenAPI 3.1 description of these routes (hand-written; a test checks it lists them all).
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

pub(crate) async fn health() -> Json<Json_> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

pub(crate) async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI)
}

pub(crate) async fn viewer(Extension(who): Extension<Principal>) -> Json<Json_> {
    let teams: Vec<Json_> = who.memberships.iter().map(|(e, r)| json!({"entity": e, "role": r})).collect();
    Json(json!({"username": who.username, "entity": who.entity, "admin": who.admin, "memberships": teams}))
}

pub(crate) async fn entities(State(state): State<AppState>, Extension(who): Extension<Principal>) -> ApiResult<Json<Json_>> {
    let names = state.blocking(move |s| Ok(s.store.list_entities(&who)?)).await?;
    Ok(Json(Json_::Array(names.into_iter().map(|name| json!({"name": name})).collect())))
}

#[derive(Deserialize)]
pub(crate) struct ProjectsQuery {
    entity: Option<String>,
}

pub(crate) async fn projects(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ProjectsQuery>,
) -> ApiResult<Json<Json_>> {
    let entity = q.entity.unwrap_or_else(|| who.entity.clone());
    check_access(&who, &entity, false)?;
    let projects = state.blocking(move |s| Ok(s.store.list_projects(&entity)?)).await?;
    Ok(Json(serde_json::to_value(projects).map_err(crate::ApiError::internal)?))
}
