//! Runs: create-or-resume, get, patch, the run table, keys and group counts.

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};
use trackway_store::{CreateRun, Principal, ResumeMode, Run, RunKey, RunPatch, RunQuery, parse_filter};

use trackway_types::limits::{self, LimitError};

use crate::auth::{check_access, check_read};
use crate::extract::JsonBody;
use crate::{ApiError, ApiResult, AppState};

/// Projects used when a run names none (docs/run-format.md).
pub(crate) const DEFAULT_PROJECT: &str = "uncategorized";

/// A run as the API returns it: the stored run plus its `url`.
pub(crate) fn run_json(state: &AppState, run: &Run) -> ApiResult<Json_> {
    let mut v = serde_json::to_value(run).map_err(ApiError::internal)?;
    let path = format!("/{}/{}/runs/{}", run.entity, run.project, run.run_id);
    let url = match &state.public_url {
        Some(base) => format!("{base}{path}"),
        None => path,
    };
    v["url"] = Json_::String(url);
    Ok(v)
}

/// `POST /api/v1/runs` body: the run record's fields plus `resume`.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreateRunRequest)]
pub(crate) struct CreateBody {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
    name: Option<String>,
    tags: Option<Vec<String>>,
    notes: Option<String>,
    group: Option<String>,
    job_type: Option<String>,
    host: Option<String>,
    created_at: Option<f64>,
    config: Option<Map<String, Json_>>,
    settings: Option<Map<String, Json_>>,
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    pid: Option<u32>,
    mode: Option<String>,
    log_id: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::resume_schema)]
    resume: Json_,
}

fn resume_mode(v: &Json_) -> ApiResult<Option<ResumeMode>> {
    Ok(match v {
        Json_::Null | Json_::Bool(false) => None,
        Json_::Bool(true) => Some(ResumeMode::Allow),
        Json_::String(s) => Some(match s.as_str() {
            "allow" => ResumeMode::Allow,
            "must" => ResumeMode::Must,
            "never" => ResumeMode::Never,
            "auto" => ResumeMode::Auto,
            other => {
                return Err(ApiError::BadRequest(format!("resume must be allow, must, never or auto, not {other:?}")));
            }
        }),
        _ => return Err(ApiError::BadRequest("resume must be a string or null".into())),
    })
}

/// The rules of `trackway_types::limits`, as ingest applies them to `run` records.
fn check_create(body: &CreateBody, entity: &str) -> Result<(), LimitError> {
    limits::check_run_id(&body.run_id)?;
    limits::check_name("entity", entity)?;
    limits::check_name("project", body.project.as_deref().unwrap_or(DEFAULT_PROJECT))?;
    limits::RunFields {
        name: body.name.as_deref(),
        notes: body.notes.as_deref(),
        tags: body.tags.as_deref(),
        group: body.group.as_deref(),
        job_type: body.job_type.as_deref(),
        host: body.host.as_deref(),
    }
    .check()?;
    body.config.as_ref().map_or(Ok(()), |c| limits::check_json_map("config", c))?;
    body.settings.as_ref().map_or(Ok(()), |c| limits::check_json_map("settings", c))
}

#[utoipa::path(post, path = "/api/v1/runs", operation_id = "createRun", tag = "runs", request_body = CreateBody,
    responses((status = 200, description = "The run, created or resumed", body = crate::openapi::CreatedRun)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<Json<Json_>> {
    let entity = body.entity.clone().unwrap_or_else(|| who.entity.clone());
    check_access(&who, &entity, true)?;
    check_create(&body, &entity).map_err(|e| ApiError::limit(&e))?;
    let mut metadata = Map::new();
    if let Some(settings) = body.settings {
        metadata.insert("settings".into(), Json_::Object(settings));
    }
    if let Some(pid) = body.pid {
        metadata.insert("pid".into(), json!(pid));
    }
    if let Some(mode) = body.mode {
        metadata.insert("mode".into(), json!(mode));
    }
    let key = RunKey { entity, project: body.project.unwrap_or_else(|| DEFAULT_PROJECT.into()), run_id: body.run_id };
    let req = CreateRun {
        key: Some(key),
        resume: resume_mode(&body.resume)?,
        name: body.name,
        tags: body.tags,
        notes: body.notes,
        group: body.group,
        job_type: body.job_type,
        host: body.host,
        created_at: body.created_at,
        config: body.config,
        metadata: Some(metadata),
        log_id: body.log_id,
    };
    let out = state
        .blocking(move |s| {
            if let Some(key) = &req.key {
                crate::auth::ensure_entity(s, &who, &key.entity)?;
            }
            Ok(s.store.create_or_resume(&req)?)
        })
        .await?;
    Ok(Json(json!({"run": run_json(&state, &out.run)?, "resumed": out.resumed, "last_step": out.last_step})))
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}", operation_id = "getRun", tag = "runs",
    params(crate::openapi::RunPath), responses((status = 200, description = "The run", body = crate::openapi::Run)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    let (sweeps, run) = state
        .blocking(move |s| {
            let run = s.store.get_run(&key)?;
            Ok((crate::sweeps::sweep_of_runs(s, &key.entity, &key.project, std::slice::from_ref(&key.run_id))?, run))
        })
        .await?;
    let mut v = run_json(&state, &run)?;
    v["sweep"] = sweeps.get(&run.run_id).map_or(Json_::Null, |id| Json_::String(id.clone()));
    Ok(Json(v))
}

#[utoipa::path(patch, path = "/api/v1/runs/{entity}/{project}/{run_id}", operation_id = "patchRun", tag = "runs",
    params(crate::openapi::RunPath), request_body = crate::openapi::RunPatch,
    responses((status = 200, description = "The changed run", body = crate::openapi::Run)))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    JsonBody(patch): JsonBody<RunPatch>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let fields = limits::RunFields {
        name: patch.name.as_deref(),
        notes: patch.notes.as_deref(),
        tags: patch.tags.as_deref(),
        ..limits::RunFields::default()
    };
    fields.check().map_err(|e| ApiError::limit(&e))?;
    let key = RunKey { entity, project, run_id };
    let run = state.blocking(move |s| Ok(s.store.patch_run(&key, &patch)?)).await?;
    Ok(Json(run_json(&state, &run)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// A MongoDB-style filter document (JSON), e.g. `{"config.lr": {"$gt": 0.01}}`.
    filters: Option<String>,
    /// A field as in filters, `-` first for descending; default `-created_at`.
    order: Option<String>,
    /// Runs per page (1 to 1000, default 50).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Count the matching runs (default true).
    total: Option<bool>,
}

fn parse_filters(text: Option<&str>) -> ApiResult<Option<trackway_store::Filter>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    let doc: Json_ =
        serde_json::from_str(text).map_err(|e| ApiError::InvalidFilter(format!("filters is not JSON: {e}")))?;
    Ok(Some(parse_filter(&doc)?))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs", operation_id = "listRuns", tag = "runs",
    params(crate::openapi::ProjectPath, ListQuery),
    responses((status = 200, description = "One page of the run table", body = crate::openapi::RunPage)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let (order_by, direction) = RunQuery::parse_order(q.order.as_deref().unwrap_or("-created_at"));
    let query = RunQuery {
        entity,
        project,
        filter: parse_filters(q.filters.as_deref())?,
        order_by,
        direction,
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
        cursor: q.cursor,
        with_total: q.total.unwrap_or(true),
    };
    let (sweeps, page) = state
        .blocking(move |s| {
            let page = s.store.query_runs(&query)?;
            let ids: Vec<String> = page.runs.iter().map(|r| r.run_id.clone()).collect();
            Ok((crate::sweeps::sweep_of_runs(s, &query.entity, &query.project, &ids)?, page))
        })
        .await?;
    let runs = page
        .runs
        .iter()
        .map(|r| {
            let mut v = run_json(&state, r)?;
            v["sweep"] = sweeps.get(&r.run_id).map_or(Json_::Null, |id| Json_::String(id.clone()));
            Ok(v)
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({"runs": runs, "next_cursor": page.next_cursor, "total": page.total})))
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/keys", operation_id = "projectKeys", tag = "runs",
    params(crate::openapi::ProjectPath),
    responses((status = 200, description = "Config, summary and history keys of the project's runs", body = crate::openapi::ProjectKeys)))]
pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let keys = state.blocking(move |s| Ok(s.store.project_keys(&entity, &project)?)).await?;
    Ok(Json(serde_json::to_value(keys).map_err(ApiError::internal)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct GroupQuery {
    /// The key to group by (`config.x`, `state`, ...).
    by: String,
    /// A filter document as in the run table.
    filters: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/groups", operation_id = "groupRuns", tag = "runs",
    params(crate::openapi::ProjectPath, GroupQuery),
    responses((status = 200, description = "Run counts per value of the key", body = crate::openapi::Groups)))]
pub(crate) async fn groups(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    Query(q): Query<GroupQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let filter = parse_filters(q.filters.as_deref())?;
    let groups = state.blocking(move |s| Ok(s.store.group_runs(&entity, &project, &q.by, filter.as_ref())?)).await?;
    Ok(Json(json!({"groups": groups})))
}
