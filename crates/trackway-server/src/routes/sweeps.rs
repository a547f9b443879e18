//! Sweeps (docs/sweeps.md): create (the config validated by trackway-sweep), list, read, control,
//! and the agents' claim and heartbeat. The controller's rules live in trackway-sweep and
//! `crate::sweeps`; this file only speaks HTTP.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{Claim, NewSweep, Principal, Sweep, TrialUpdate};
use trackway_types::limits;

use crate::auth::check_access;
use crate::extract::{JsonBody, Path};
use crate::sweeps as ctl;
use crate::{ApiError, ApiResult, AppState};

/// `{entity}/{project}` of the sweep list.
#[derive(utoipa::IntoParams)]
#[allow(dead_code)] // read by utoipa's derive only (the OpenAPI document)
#[into_params(parameter_in = Path)]
pub(crate) struct ProjectPath {
    entity: String,
    project: String,
}

/// `{entity}/{project}/{sweep_id}` of one sweep.
#[derive(utoipa::IntoParams)]
#[allow(dead_code)] // read by utoipa's derive only (the OpenAPI document)
#[into_params(parameter_in = Path)]
pub(crate) struct SweepPath {
    entity: String,
    project: String,
    sweep_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateSweep {
    entity: Option<String>,
    project: Option<String>,
    name: Option<String>,
    /// The sweep config in wandb's format (the YAML file as JSON).
    #[schema(value_type = SweepConfigDoc)]
    config: Json_,
}

/// The sweep config as this document describes it: the common subset (categorical `values`).
/// The whole format (distributions, nested parameters, early_terminate, command, program) is
/// docs/sweeps.md; trackway-sweep's `parse_config` is what decides.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // describes the document only
pub(crate) struct SweepConfigDoc {
    method: MethodDoc,
    /// Required by method bayes and by early_terminate (openapi::constraints writes the rule).
    metric: Option<MetricDoc>,
    /// 1 to 4 here (openapi::constraints), so that a grid stays within trackway-sweep's bound.
    parameters: std::collections::BTreeMap<String, ParamDoc>,
    #[schema(minimum = 1)]
    run_cap: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // describes the document only
pub(crate) enum MethodDoc {
    Grid,
    Random,
    Bayes,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // describes the document only
pub(crate) struct MetricDoc {
    #[schema(min_length = 1)]
    name: String,
    goal: Option<GoalDoc>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // describes the document only
pub(crate) enum GoalDoc {
    Minimize,
    Maximize,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // describes the document only
pub(crate) struct ParamDoc {
    #[schema(min_items = 1, max_items = 16, value_type = Vec<Object>)]
    values: Vec<Json_>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ControlBody {
    /// pause, resume, stop (no new trials) or cancel (running trials are stopped too).
    #[schema(pattern = "^(?:pause|resume|stop|cancel)$")]
    action: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ClaimBody {
    /// The agent's name (host and process), recorded with the trial.
    #[schema(max_length = 256)]
    agent: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TrialEnd {
    run_id: String,
    /// finished or failed.
    state: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct HeartbeatBody {
    /// Run ids of the trials the agent is running now.
    #[serde(default)]
    #[schema(max_items = 5000)]
    running: Vec<String>,
    /// Trials that ended since the last heartbeat.
    #[serde(default)]
    #[schema(max_items = 5000)]
    ended: Vec<TrialEnd>,
}

fn new_sweep_id() -> ApiResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

fn seed() -> ApiResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(u64::from_le_bytes(bytes) >> 1) // stored as a non-negative i64
}

/// The sweep, if it belongs to the path's project.
fn sweep_at(s: &AppState, entity: &str, project: &str, id: &str) -> ApiResult<Sweep> {
    let sweep = s.sweeps.get_sweep(id)?;
    if sweep.entity != entity || sweep.project != project {
        return Err(ApiError::NotFound(format!("sweep {id} does not exist in {entity}/{project}")));
    }
    Ok(sweep)
}

#[utoipa::path(post, path = "/api/v1/sweeps", operation_id = "createSweep", tag = "sweeps", request_body = CreateSweep,
    responses((status = 200, description = "The sweep", body = Object)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<CreateSweep>,
) -> ApiResult<Json<Json_>> {
    let entity = body.entity.unwrap_or_else(|| who.entity.clone());
    let project = body.project.unwrap_or_else(|| crate::routes::runs::DEFAULT_PROJECT.into());
    check_access(&who, &entity, true)?;
    limits::check_name("project", &project).map_err(|e| ApiError::limit(&e))?;
    let cfg = trackway_sweep::parse_config(&body.config).map_err(|e| match e {
        trackway_sweep::SweepError::Invalid { path, message } => ApiError::InvalidSweepConfig { path, message },
    })?;
    let method = format!("{:?}", cfg.method).to_lowercase();
    let new =
        NewSweep { id: new_sweep_id()?, entity, project, name: body.name, config: body.config, method, seed: seed()? };
    let sweep = state
        .blocking(move |s| {
            crate::auth::ensure_entity(s, &who, &new.entity)?;
            Ok(s.sweeps.create_sweep(&new)?)
        })
        .await?;
    Ok(Json(json!({"sweep": sweep})))
}

#[utoipa::path(get, path = "/api/v1/sweeps/{entity}/{project}", operation_id = "listSweeps", tag = "sweeps",
    params(ProjectPath), responses((status = 200, description = "The project's sweeps, newest first", body = Object)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    let sweeps = state.blocking(move |s| Ok(s.sweeps.list_sweeps(&entity, &project)?)).await?;
    Ok(Json(json!({"sweeps": sweeps})))
}

#[utoipa::path(get, path = "/api/v1/sweeps/{entity}/{project}/{sweep_id}", operation_id = "getSweep", tag = "sweeps",
    params(SweepPath), responses((status = 200, description = "The sweep, its trials and the best one", body = Object)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state
        .blocking(move |s| {
            let sweep = sweep_at(s, &entity, &project, &id)?;
            let cfg = ctl::config_of(&sweep)?;
            let trials = ctl::refresh(s, &sweep, &cfg)?;
            let best = ctl::best(&cfg, &trials).map(|t| t.run_id.clone());
            let metric =
                cfg.metric.as_ref().map(|m| json!({"name": m.name, "goal": format!("{:?}", m.goal).to_lowercase()}));
            let params: Vec<String> = cfg.params.iter().map(trackway_sweep::Param::name).collect();
            Ok(Json(json!({"sweep": sweep, "trials": trials, "best_run_id": best, "metric": metric,
                "parameters": params, "grid_size": cfg.grid_size(), "run_cap": cfg.run_cap})))
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/sweeps/{entity}/{project}/{sweep_id}/control", operation_id = "controlSweep",
    tag = "sweeps", params(SweepPath), request_body = ControlBody,
    responses((status = 200, description = "The sweep in its new state", body = Object)))]
pub(crate) async fn control(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<ControlBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    state
        .blocking(move |s| {
            let sweep = sweep_at(s, &entity, &project, &id)?;
            let to = ctl::transition(&sweep.state, &body.action)?;
            Ok(Json(json!({"sweep": s.sweeps.set_sweep_state(&id, to)?})))
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/sweeps/{entity}/{project}/{sweep_id}/claim", operation_id = "claimTrial",
    tag = "sweeps", params(SweepPath), request_body = ClaimBody,
    responses((status = 200, description = "A trial (`trial`), or `paused`, or `done` with the sweep's state", body = Object)))]
pub(crate) async fn claim(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<ClaimBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    if body.agent.chars().count() > 256 {
        return Err(ApiError::BadRequest("agent names are at most 256 characters".into()));
    }
    state
        .blocking(move |s| {
            let sweep = sweep_at(s, &entity, &project, &id)?;
            Ok(Json(match ctl::claim(s, &sweep, &body.agent)? {
                Claim::Trial(t) => json!({"trial": t, "program": sweep.config.get("program"),
                    "command": ctl::config_of(&sweep)?.command}),
                Claim::Paused => json!({"paused": true}),
                Claim::Done(state) => json!({"done": true, "state": state}),
            }))
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/sweeps/{entity}/{project}/{sweep_id}/heartbeat", operation_id = "sweepHeartbeat",
    tag = "sweeps", params(SweepPath), request_body = HeartbeatBody,
    responses((status = 200, description = "The agent's runs to stop now, and the sweep's state", body = Object)))]
pub(crate) async fn heartbeat(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<HeartbeatBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    if body.running.len() + body.ended.len() > 10_000 {
        return Err(ApiError::BadRequest("at most 10000 runs per heartbeat".into()));
    }
    if let Some(bad) = body.ended.iter().find(|e| !matches!(e.state.as_str(), "finished" | "failed")) {
        return Err(ApiError::BadRequest(format!("ended state must be finished or failed, not {:?}", bad.state)));
    }
    state.blocking(move |s| heartbeat_blocking(s, &entity, &project, &id, &body)).await
}

fn heartbeat_blocking(
    s: &AppState,
    entity: &str,
    project: &str,
    id: &str,
    body: &HeartbeatBody,
) -> ApiResult<Json<Json_>> {
    let sweep = sweep_at(s, entity, project, id)?;
    let trials = s.sweeps.list_trials(id)?;
    // an agent's report of an end never overwrites `stopped`: the controller ended that trial
    let ended: Vec<TrialUpdate> = body
        .ended
        .iter()
        .filter(|e| trials.iter().any(|t| t.run_id == e.run_id && t.state == "running"))
        .map(|e| TrialUpdate { run_id: e.run_id.clone(), state: Some(e.state.clone()), ..TrialUpdate::default() })
        .collect();
    s.sweeps.update_trials(id, &ended)?;
    let cfg = ctl::config_of(&sweep)?;
    let trials = ctl::refresh(s, &sweep, &cfg)?;
    ctl::early_stops(s, &sweep, &trials)?;
    let trials = s.sweeps.list_trials(id)?;
    let stop: Vec<&String> = body
        .running
        .iter()
        .filter(|r| sweep.state == "cancelled" || trials.iter().any(|t| &t.run_id == *r && t.state == "stopped"))
        .collect();
    if sweep.state == "cancelled" {
        let cancelled: Vec<TrialUpdate> = trials
            .iter()
            .filter(|t| t.state == "running" && stop.contains(&&t.run_id))
            .map(|t| TrialUpdate { run_id: t.run_id.clone(), state: Some("stopped".into()), ..TrialUpdate::default() })
            .collect();
        s.sweeps.update_trials(id, &cancelled)?;
    }
    Ok(Json(json!({"stop": stop, "state": sweep.state})))
}
