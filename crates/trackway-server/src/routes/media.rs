//! Typed references in history (docs/media-api.md): which keys hold media, the values of one
//! key over steps (one run, or many runs in one request), each file reference completed with its
//! download URL and upload state.

use std::collections::HashMap;

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};
use trackway_history::{HistoryRow, ScanQuery};
use trackway_store::{Principal, Run, RunKey};

use crate::auth::{check_read, check_read_blocking};
use crate::extract::JsonBody;
use crate::{ApiError, ApiResult, AppState};

/// Most values per page of one key.
pub(crate) const MAX_PAGE: usize = 10_000;
/// Most steps per run, and most runs, in one multi-run query.
const MAX_QUERY_STEPS: usize = 1_000;
const MAX_QUERY_RUNS: usize = 100;
/// Rows scanned per key to count it (`media/keys`); beyond it the count is a lower bound.
const MAX_COUNT_ROWS: usize = 200_000;

/// The server's record of each uploaded file of a run: path -> (sha256, size).
pub(crate) type RunFiles = HashMap<String, (String, u64)>;

pub(crate) fn run_files(s: &AppState, key: &RunKey) -> ApiResult<RunFiles> {
    Ok(s.store.list_run_files(key)?.into_iter().map(|e| (e.latest.path, (e.latest.sha256, e.latest.size))).collect())
}

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters stay).
fn encode_segment(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `/api/v1/runs/{e}/{p}/{id}/files/{path}` with every segment encoded.
pub(crate) fn file_url(key: &RunKey, path: &str) -> String {
    run_path_url(key, "files", path)
}

/// `/api/v1/runs/{e}/{p}/{id}/thumbnails/{path}` (routes::thumbnails; the UI adds `?size=`).
fn thumbnail_url(key: &RunKey, path: &str) -> String {
    run_path_url(key, "thumbnails", path)
}

fn run_path_url(key: &RunKey, route: &str, path: &str) -> String {
    let mut out = String::from("/api/v1/runs");
    for seg in
        [key.entity.as_str(), key.project.as_str(), key.run_id.as_str(), route].into_iter().chain(path.split('/'))
    {
        out.push('/');
        encode_segment(seg, &mut out);
    }
    out
}

/// Adds `url`, `uploaded` (and `sha256`/`size` when missing) to every file reference inside
/// `v`: top-level references, `images/separated` entries, masks, nested values.
pub(crate) fn annotate(v: &mut Json_, key: &RunKey, files: &RunFiles) {
    match v {
        Json_::Object(m) => {
            let is_file = m.get("_type").and_then(Json_::as_str).is_some_and(|t| t.ends_with("-file") || t == "mask");
            if let (true, Some(path)) = (is_file, m.get("path").and_then(Json_::as_str).map(str::to_owned)) {
                add_file_fields(m, key, files, &path);
                if m.get("_type").and_then(Json_::as_str) == Some("image-file") {
                    m.insert("thumbnail".into(), Json_::from(thumbnail_url(key, &path)));
                }
            }
            if let Some(names) = m.get("filenames").and_then(Json_::as_array) {
                let names: Vec<&str> = names.iter().filter_map(Json_::as_str).collect();
                let urls: Vec<Json_> = names.iter().map(|p| Json_::from(file_url(key, p))).collect();
                let thumbs: Vec<Json_> = names.iter().map(|p| Json_::from(thumbnail_url(key, p))).collect();
                m.insert("urls".into(), Json_::Array(urls));
                m.insert("thumbnails".into(), Json_::Array(thumbs));
            }
            for (k, child) in m.iter_mut() {
                if k != "_type" && k != "path" {
                    annotate(child, key, files);
                }
            }
        }
        Json_::Array(items) => items.iter_mut().for_each(|i| annotate(i, key, files)),
        _ => {}
    }
}

fn add_file_fields(m: &mut Map<String, Json_>, key: &RunKey, files: &RunFiles, path: &str) {
    m.insert("url".into(), Json_::from(file_url(key, path)));
    let stored = files.get(path);
    m.insert("uploaded".into(), Json_::Bool(stored.is_some()));
    if let Some((sha, size)) = stored {
        m.entry("sha256").or_insert_with(|| Json_::from(sha.clone()));
        m.entry("size").or_insert_with(|| Json_::from(*size));
    }
}

/// A value of `row` under `key`, as JSON (Trackway JSON for non-finite numbers).
pub(crate) fn row_value(row: &HistoryRow, key: &str) -> Option<Json_> {
    row.data.get(key).and_then(|v| serde_json::to_value(v).ok())
}

pub(crate) fn typed(v: &Json_) -> Option<&str> {
    v.get("_type").and_then(Json_::as_str)
}

pub(crate) fn get_run(s: &AppState, key: &RunKey) -> ApiResult<Run> {
    Ok(s.store.get_run(key)?)
}

/// Rows holding `key` within `[min, max]` steps, at most `limit`, after the cursor step.
pub(crate) fn scan_key(
    s: &AppState,
    pk: i64,
    key: &str,
    min: Option<u64>,
    max: Option<u64>,
    after: Option<u64>,
    limit: usize,
) -> ApiResult<trackway_history::ScanPage> {
    let q = ScanQuery {
        keys: Some(vec![key.to_owned()]),
        min_step: min,
        max_step: max,
        after,
        limit: limit.clamp(1, MAX_PAGE),
    };
    Ok(s.history.scan(pk, &q)?)
}

/// At most `n` of `items`, evenly spaced, the first and last kept.
pub(crate) fn thin<T>(items: Vec<T>, n: usize) -> Vec<T> {
    let len = items.len();
    if n == 0 || len <= n {
        return items;
    }
    if n == 1 {
        return items.into_iter().last().into_iter().collect();
    }
    let picks: std::collections::BTreeSet<usize> = (0..n).map(|i| i * (len - 1) / (n - 1)).collect();
    items.into_iter().enumerate().filter(|(i, _)| picks.contains(i)).map(|(_, v)| v).collect()
}

fn parse_cursor(c: Option<&str>) -> ApiResult<Option<u64>> {
    crate::extract::step_cursor(c)
}

/// `GET .../media/keys`: keys whose latest non-numeric value in history is a typed reference
/// (not the summary, which the user may overwrite or which `define_metric` may not keep).
#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/media/keys", operation_id = "mediaKeys", tag = "media",
    params(crate::openapi::RunPath),
    responses((status = 200, description = "Keys holding media, with their type and step range (docs/media-api.md)", body = Object)))]
pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    state
        .blocking(move |s| {
            let run = get_run(s, &key)?;
            let mut out = Vec::new();
            for (name, _, last) in s.history.last_objects(run.pk)? {
                let Some(kind) = serde_json::to_value(&last).ok().as_ref().and_then(typed).map(str::to_owned) else {
                    continue;
                };
                let (count, first, last) = key_extent(s, run.pk, &name)?;
                if count > 0 {
                    out.push(
                        json!({"key": name, "type": kind, "count": count, "first_step": first, "last_step": last}),
                    );
                }
            }
            Ok(Json(json!({"keys": out})))
        })
        .await
}

/// How many rows hold `key`, and its first and last step.
fn key_extent(s: &AppState, pk: i64, key: &str) -> ApiResult<(usize, Option<u64>, Option<u64>)> {
    let (mut count, mut first, mut last, mut after) = (0usize, None, None, None);
    while count < MAX_COUNT_ROWS {
        let page = scan_key(s, pk, key, None, None, after, MAX_PAGE)?;
        count += page.rows.len();
        first = first.or(page.rows.first().map(|r| r.step));
        last = page.rows.last().map(|r| r.step).or(last);
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    Ok((count, first, last))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ValuesQuery {
    key: String,
    min_step: Option<u64>,
    max_step: Option<u64>,
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{0,19}$")]
    cursor: Option<String>,
}

/// `GET .../media?key=`: the values of one key over steps, oldest first.
#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/media", operation_id = "mediaValues", tag = "media",
    params(crate::openapi::RunPath, ValuesQuery),
    responses((status = 200, description = "One key's values over steps (docs/media-api.md)", body = Object)))]
pub(crate) async fn values(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<ValuesQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let key = RunKey { entity, project, run_id };
    state
        .blocking(move |s| {
            let run = get_run(s, &key)?;
            let page = scan_key(s, run.pk, &q.key, q.min_step, q.max_step, after, q.limit.unwrap_or(500))?;
            let files = run_files(s, &key)?;
            let items = items_of(&page.rows, &q.key, &key, &files);
            Ok(Json(json!({"key": q.key, "items": items, "next_cursor": page.next_cursor.map(|c| c.to_string())})))
        })
        .await
}

fn items_of(rows: &[HistoryRow], name: &str, key: &RunKey, files: &RunFiles) -> Vec<Json_> {
    rows.iter()
        .filter_map(|r| {
            let mut v = row_value(r, name)?;
            annotate(&mut v, key, files);
            Some(json!({"step": r.step, "value": v}))
        })
        .collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct QueryRun {
    entity: String,
    project: String,
    run_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct MediaQuery {
    runs: Vec<QueryRun>,
    key: String,
    #[serde(default, deserialize_with = "crate::lenient::opt_u64")]
    min_step: Option<u64>,
    #[serde(default, deserialize_with = "crate::lenient::opt_u64")]
    max_step: Option<u64>,
    #[serde(default, deserialize_with = "crate::lenient::opt_usize")]
    steps: Option<usize>,
}

/// `POST /api/v1/media/query`: one key's values for many runs (an image panel in one request).
#[utoipa::path(post, path = "/api/v1/media/query", operation_id = "mediaQuery", tag = "media", request_body = MediaQuery,
    responses((status = 200, description = "One key's values for many runs (docs/media-api.md)", body = Object)))]
pub(crate) async fn query(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(q): JsonBody<MediaQuery>,
) -> ApiResult<Json<Json_>> {
    if q.runs.len() > MAX_QUERY_RUNS {
        return Err(ApiError::BadRequest(format!("at most {MAX_QUERY_RUNS} runs per media query")));
    }
    let steps = q.steps.unwrap_or(100).clamp(1, MAX_QUERY_STEPS);
    state
        .blocking(move |s| {
            let out: Vec<Json_> = q
                .runs
                .iter()
                .map(|r| {
                    let key = RunKey { entity: r.entity.clone(), project: r.project.clone(), run_id: r.run_id.clone() };
                    let result = check_read_blocking(s, &who, &key.entity, &key.project).and_then(|()| run_items(s, &key, &q, steps));
                    let (items, error) = match result {
                        Ok(items) => (items, Json_::Null),
                        Err(e) => (Vec::new(), error_json(&e)),
                    };
                    json!({"entity": key.entity, "project": key.project, "run_id": key.run_id, "items": items, "error": error})
                })
                .collect();
            Ok(Json(json!({"runs": out})))
        })
        .await
}

/// The `error` object of the one error shape, for an error reported inside a 200 answer.
fn error_json(e: &ApiError) -> Json_ {
    let (code, _) = e.code_and_status();
    let message = if matches!(e, ApiError::Internal(_)) { "internal error".to_owned() } else { e.to_string() };
    if let ApiError::Internal(detail) = e {
        tracing::error!(error = %detail, "media query: internal error");
    }
    json!({"code": code, "message": message})
}

fn run_items(s: &AppState, key: &RunKey, q: &MediaQuery, steps: usize) -> ApiResult<Vec<Json_>> {
    let run = get_run(s, key)?;
    let rows = if q.min_step.is_none() && q.max_step.is_none() {
        s.history.sampled(run.pk, Some(std::slice::from_ref(&q.key)), steps)?
    } else {
        thin(scan_key(s, run.pk, &q.key, q.min_step, q.max_step, None, MAX_PAGE)?.rows, steps)
    };
    let files = run_files(s, key)?;
    Ok(items_of(&rows, &q.key, key, &files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotates_nested_references_and_encodes_urls() {
        let key = RunKey { entity: "e".into(), project: "p q".into(), run_id: "r".into() };
        let files: RunFiles = [("media/images/a.png".to_owned(), ("abc".to_owned(), 7))].into_iter().collect();
        let mut v = json!({"_type": "images/separated", "filenames": ["media/images/a.png"],
            "images": [{"_type": "image-file", "path": "media/images/a.png",
                        "masks": {"m": {"_type": "mask", "path": "media/images/mask/b.png"}}}]});
        annotate(&mut v, &key, &files);
        assert_eq!(v["urls"][0], "/api/v1/runs/e/p%20q/r/files/media/images/a.png");
        assert_eq!(v["images"][0]["uploaded"], true);
        assert_eq!(v["images"][0]["sha256"], "abc");
        assert_eq!(v["images"][0]["size"], 7);
        assert_eq!(v["images"][0]["masks"]["m"]["uploaded"], false);
        assert_eq!(v["thumbnails"][0], "/api/v1/runs/e/p%20q/r/thumbnails/media/images/a.png");
        assert_eq!(v["images"][0]["thumbnail"], "/api/v1/runs/e/p%20q/r/thumbnails/media/images/a.png");
        assert!(v["images"][0]["masks"]["m"].get("thumbnail").is_none(), "masks are drawn from the exact pixels");
    }

    #[test]
    fn thinning_keeps_the_ends() {
        assert_eq!(thin((0..10).collect(), 3), vec![0, 4, 9]);
        assert_eq!(thin((0..3).collect::<Vec<i32>>(), 5), vec![0, 1, 2]);
        assert_eq!(thin((0..4).collect(), 1), vec![3]);
    }
}
