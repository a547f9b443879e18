//! Run edits beyond `PATCH`: delete, move to another project, stop, and bulk tag/untag/delete on a
//! selection of the run table (docs/api.md "Editing runs").

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{Principal, RunKey, RunPatch, StoreError};
use trackway_types::limits;

use super::runs::run_json;
use crate::auth::check_access;
use crate::extract::{JsonBody, Path};
use crate::{ApiError, ApiResult, AppState};

/// The most runs one bulk request may name (one run-table page).
pub(crate) const MAX_BULK_RUNS: usize = 1000;

#[utoipa::path(delete, path = "/api/v1/runs/{entity}/{project}/{run_id}", operation_id = "deleteRun", tag = "runs",
    params(crate::openapi::RunPath),
    responses((status = 200, description = "The run, its history, console and file records are deleted; its file blobs that nothing else references (another run's file, an artifact entry) are freed", body = crate::openapi::RunDeleted)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let key = RunKey { entity, project, run_id };
    let path = key.to_string();
    let freed = state.blocking(move |s| Ok(super::files::free_blobs(s, &s.store.delete_run(&key)?))).await?;
    tracing::info!(run = %path, user = %who.username, blobs_freed = freed, "run deleted");
    Ok(Json(json!({"deleted": [path], "blobs_freed": freed})))
}

/// `POST …/move` body: the target project (and entity, default the run's).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveBody {
    /// Target entity; default the run's own.
    entity: Option<String>,
    /// Target project; created if it does not exist.
    project: String,
}

#[utoipa::path(post, path = "/api/v1/runs/{entity}/{project}/{run_id}/move", operation_id = "moveRun", tag = "runs",
    params(crate::openapi::RunPath), request_body = MoveBody,
    responses((status = 200, description = "The run in its new project", body = crate::openapi::Run)))]
pub(crate) async fn move_run(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<MoveBody>,
) -> ApiResult<Json<Json_>> {
    // The path's entity needs no name check: a bad one names no run (404).
    if let Some(e) = &body.entity {
        limits::check_name("entity", e).map_err(|e| ApiError::limit(&e))?;
    }
    let to_entity = body.entity.unwrap_or_else(|| entity.clone());
    check_access(&who, &entity, true)?;
    check_access(&who, &to_entity, true)?;
    limits::check_name("project", &body.project).map_err(|e| ApiError::limit(&e))?;
    let key = RunKey { entity, project, run_id };
    let run = state.blocking(move |s| Ok(s.store.move_run(&key, &to_entity, &body.project)?)).await?;
    Ok(Json(run_json(&state, &run)?))
}

#[utoipa::path(post, path = "/api/v1/runs/{entity}/{project}/{run_id}/stop", operation_id = "stopRun", tag = "runs",
    params(crate::openapi::RunPath),
    responses((status = 200, description = "The stop is requested (asking again changes nothing): the run's clients are told to stop at their next request to the server (Trackway's agent interrupts the training process with SIGINT; wandb's SDK gets `stopped` on its filestream) and the run ends as `killed`", body = crate::openapi::Run),
        (status = 409, description = "Error: conflict (the run is not running)", content_type = "application/json", body = Object)))]
pub(crate) async fn stop(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let key = RunKey { entity, project, run_id };
    let run = state.blocking(move |s| Ok(s.store.request_stop(&key)?)).await?;
    tracing::info!(run = %run.key(), user = %who.username, "run stop requested");
    Ok(Json(run_json(&state, &run)?))
}

/// What a bulk request does to each named run (a deleted run's file blobs that nothing else
/// references are freed, as by a single delete).
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BulkAction {
    /// Add `tags` to each run (tags it has stay).
    Tag,
    /// Remove `tags` from each run.
    Untag,
    /// Delete each run.
    Delete,
}

/// `POST …/runs/bulk` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkBody {
    /// Run ids of this project (at most 1000); ids that name no run are listed as `missing`.
    #[schema(min_items = 1, max_items = 1000)]
    run_ids: Vec<String>,
    action: BulkAction,
    /// The tags to add or remove (tag/untag; none: nothing changes).
    #[serde(default)]
    #[schema(max_items = 256)]
    tags: Vec<String>,
}

impl BulkBody {
    fn check(&self) -> ApiResult<()> {
        if self.run_ids.is_empty() || self.run_ids.len() > MAX_BULK_RUNS {
            return Err(ApiError::BadRequest(format!("run_ids must name 1 to {MAX_BULK_RUNS} runs")));
        }
        if self.action != BulkAction::Delete {
            if self.tags.iter().any(|t| t.trim().is_empty()) {
                return Err(ApiError::BadRequest("tags must not be blank".into()));
            }
            let fields = limits::RunFields { tags: Some(&self.tags), ..limits::RunFields::default() };
            fields.check().map_err(|e| ApiError::limit(&e))?;
        }
        Ok(())
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{entity}/{project}/runs/bulk", operation_id = "bulkEditRuns", tag = "runs",
    params(crate::openapi::ProjectPath), request_body = BulkBody,
    responses((status = 200, description = "The runs changed and the ids that name no run", body = crate::openapi::BulkResult)))]
pub(crate) async fn bulk(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    JsonBody(body): JsonBody<BulkBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    body.check()?;
    let (changed, missing) = state
        .blocking(move |s| {
            let (mut changed, mut missing) = (Vec::new(), Vec::new());
            for run_id in body.run_ids {
                let key = RunKey { entity: entity.clone(), project: project.clone(), run_id };
                match apply_one(&*s.store, &key, body.action, &body.tags) {
                    Ok(unreferenced) => {
                        super::files::free_blobs(s, &unreferenced);
                        changed.push(key.run_id);
                    }
                    Err(StoreError::RunNotFound(_)) => missing.push(key.run_id),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok((changed, missing))
        })
        .await?;
    Ok(Json(json!({"changed": changed, "missing": missing})))
}

fn apply_one(
    store: &dyn trackway_store::MetadataStore,
    key: &RunKey,
    action: BulkAction,
    tags: &[String],
) -> Result<Vec<String>, StoreError> {
    if action == BulkAction::Delete {
        return store.delete_run(key);
    }
    let mut have = store.get_run(key)?.tags;
    if action == BulkAction::Tag {
        have.extend(tags.iter().filter(|t| !have.contains(t)).cloned().collect::<Vec<_>>());
    } else {
        have.retain(|t| !tags.contains(t));
    }
    store.patch_run(key, &RunPatch { tags: Some(have), ..RunPatch::default() })?;
    Ok(Vec::new())
}
