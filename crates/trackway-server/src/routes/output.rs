//! `GET /api/v1/runs/{e}/{p}/{id}/output`: the run's console lines (`output` records of its
//! log), for the UI's live console: poll with `after_line` = the last line already shown.

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_store::{OutputQuery, Principal, RunKey};

use crate::auth::check_read;
use crate::{ApiResult, AppState};

const DEFAULT_LINES: usize = 1000;
const MAX_LINES: usize = 10_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OutputParams {
    /// Only lines after this one (the last line already shown).
    after_line: Option<u64>,
    /// Lines per page (1 to 10000, default 1000).
    limit: Option<usize>,
    /// Only lines containing this text.
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/output", operation_id = "runOutput", tag = "files",
    params(crate::openapi::RunPath, OutputParams),
    responses((status = 200, description = "Console lines", body = crate::openapi::OutputPage)))]
pub(crate) async fn lines(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(p): Query<OutputParams>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    let query = OutputQuery {
        after_line: p.after_line,
        limit: p.limit.unwrap_or(DEFAULT_LINES).clamp(1, MAX_LINES),
        contains: p.q.filter(|q| !q.is_empty()),
    };
    let limit = query.limit;
    let lines = state.blocking(move |s| Ok(s.store.run_output(&key, &query)?)).await?;
    // The cursor for the next poll: the last line returned, or the one the client sent.
    let last = lines.last().map(|l| l.line).or(p.after_line);
    Ok(Json(json!({"lines": lines, "after_line": last, "more": lines.len() == limit})))
}
