//! Saved workspace views (`trackway_store::ViewStore`): list, save (upsert by name), get and
//! delete, per project and per user. Anyone who can read the project keeps their own views and
//! sees the shared ones; making a view the project's default needs write access.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{NewView, Principal};

use crate::auth::check_access;
use crate::extract::{JsonBody, Path};
use crate::{ApiError, ApiResult, AppState};

/// A view's state as the UI keeps it: the workspace's URL query string.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SaveViewBody {
    /// 1 to 128 characters, not all blank; saving again under the same name replaces the
    /// caller's view.
    #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
    name: String,
    /// The workspace state (the UI stores its URL query), at most 64 KiB.
    state: String,
    /// Visible to everyone who can read the project.
    #[serde(default)]
    shared: bool,
    /// Make it the project's default view (needs write access; implies shared).
    #[serde(default)]
    default: bool,
}

fn view_json(v: &trackway_store::SavedView) -> ApiResult<Json_> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/views", operation_id = "listViews", tag = "views",
    params(crate::openapi::ProjectPath),
    responses((status = 200, description = "The caller's views and the shared ones, the project default first", body = crate::openapi::ViewList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    let views = state.blocking(move |s| Ok(s.views.list_views(&entity, &project, &who.username)?)).await?;
    let list = views.iter().map(view_json).collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({ "views": list })))
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/views", operation_id = "saveView", tag = "views",
    params(crate::openapi::ProjectPath), request_body = SaveViewBody,
    responses((status = 200, description = "The saved view", body = crate::openapi::View)))]
pub(crate) async fn save(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    JsonBody(body): JsonBody<SaveViewBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, body.default)?;
    let view = NewView {
        entity,
        project,
        owner: who.username.clone(),
        name: body.name,
        state: body.state,
        shared: body.shared,
        default: body.default,
    };
    let saved = state.blocking(move |s| Ok(s.views.save_view(&view)?)).await?;
    tracing::debug!(id = saved.id, name = %saved.name, "view saved");
    Ok(Json(view_json(&saved)?))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/views/{id}", operation_id = "getView", tag = "views",
    params(crate::openapi::ViewPath),
    responses((status = 200, description = "The view (the caller's own or a shared one)", body = crate::openapi::View)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, i64)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    let v = state.blocking(move |s| Ok(s.views.get_view(&entity, &project, id, &who.username)?)).await?;
    Ok(Json(view_json(&v)?))
}

#[utoipa::path(delete, path = "/api/v1/projects/{entity}/{project}/views/{id}", operation_id = "deleteView", tag = "views",
    params(crate::openapi::ViewPath),
    responses((status = 200, description = "Deleted (only the owner can)", body = crate::openapi::Deleted)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, i64)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state.blocking(move |s| Ok(s.views.delete_view(&entity, &project, id, &who.username)?)).await?;
    Ok(Json(json!({ "deleted": true })))
}
