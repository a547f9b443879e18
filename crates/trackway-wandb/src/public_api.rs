//! The read queries of `wandb.Api()` (the Python package) and the history pages `wandb-core`
//! fetches for it: `Run`, `Runs`, `RunFullHistory`, `RunSampledHistory`, `HistoryPage`,
//! `RunParquetHistory`, `RunFiles`, `RunHistoryKeys`, answered from the same stores
//! `trackway.Api()` reads (docs/wandb-server.md "wandb.Api()").
//!
//! Runs are answered in the shape wandb's `RunFragment` selects: config in wandb's
//! `{"key": {"value": ...}}` form and summary as JSON strings, history rows as JSON strings with
//! `_step`/`_runtime`/`_timestamp`. `Runs` takes wandb's MongoDB-style `filters` through
//! Trackway's own filter language (the same documents) and its `order`.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use trackway_history::{HistoryRow, ScanQuery};
use trackway_store::{Direction, Run, RunKey, RunQuery, StoreError, parse_filter};

use crate::graphql::{Ctx, run_key};
use crate::shapes::config_to_wandb;
use crate::{Result, WandbError};

/// Most rows one history request returns (wandb asks for pages of 1,000 and samples of 500).
const MAX_ROWS: usize = 10_000;
/// Most runs on one `Runs` page.
const MAX_PAGE: usize = 1000;

fn iso(ts: f64) -> String {
    chrono::DateTime::from_timestamp_millis((ts * 1000.0) as i64)
        .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A stable integer id for a project (wandb's `projectId`/`internalId` are integers).
fn project_number(entity: &str, project: &str) -> u32 {
    let h = blake3::hash(format!("{entity}/{project}").as_bytes());
    u32::from_le_bytes([h.as_bytes()[0], h.as_bytes()[1], h.as_bytes()[2], h.as_bytes()[3]]) >> 1
}

fn history_keys(ctx: &Ctx<'_>, run: &Run) -> Result<Json> {
    let keys = ctx.history.keys(run.pk).map_err(|e| WandbError::Io(e.to_string()))?;
    let counts: serde_json::Map<String, Json> =
        keys.into_iter().map(|k| (k, json!({"typeCounts": [{"type": "number", "count": run.row_count}]}))).collect();
    Ok(json!({"keys": counts, "lastStep": run.last_step.unwrap_or(-1)}))
}

/// A run as `RunFragment` selects it.
fn run_json(ctx: &Ctx<'_>, run: &Run, full: bool) -> Result<Json> {
    let meta = &run.metadata;
    let commit = meta.get("commit").or_else(|| meta.pointer("/git/commit")).cloned().unwrap_or(Json::Null);
    let mut node = json!({
        "id": format!("run:{}", run.key()), "projectId": project_number(&run.entity, &run.project),
        "name": run.run_id, "displayName": run.name.clone().unwrap_or_else(|| run.run_id.clone()),
        "tags": run.tags, "sweepName": null, "state": run.state, "group": run.group, "jobType": run.job_type,
        "commit": commit, "readOnly": false, "createdAt": iso(run.created_at),
        "heartbeatAt": iso(run.heartbeat_at.unwrap_or(run.updated_at)), "description": run.notes,
        "notes": run.notes, "historyLineCount": run.row_count,
        "user": {"name": run.entity, "username": run.entity},
    });
    if full {
        node["config"] = Json::from(config_to_wandb(&run.config));
        node["summaryMetrics"] = Json::from(run.summary.to_string());
        node["systemMetrics"] = Json::from("{}");
        node["historyKeys"] = history_keys(ctx, run)?;
    }
    Ok(node)
}

fn find_run(ctx: &Ctx<'_>, key: &RunKey) -> Result<Option<Run>> {
    if !ctx.who.can_access(&key.entity, false) {
        return Ok(None);
    }
    match ctx.store.get_run(key) {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::RunNotFound(_) | StoreError::NotFound(_) | StoreError::ProjectNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunVars {
    entity: Option<String>,
    project: Option<String>,
    #[serde(alias = "run", alias = "runName")]
    name: String,
    #[serde(default)]
    samples: Option<usize>,
    #[serde(default)]
    specs: Option<Vec<String>>,
    #[serde(default, rename = "minStep")]
    min_step: Option<i64>,
    #[serde(default, rename = "maxStep")]
    max_step: Option<i64>,
    #[serde(default, rename = "pageSize")]
    page_size: Option<usize>,
    #[serde(default, rename = "fileNames")]
    file_names: Option<Vec<String>>,
    #[serde(default, rename = "fileCursor")]
    file_cursor: Option<String>,
    #[serde(default, rename = "fileLimit")]
    file_limit: Option<usize>,
}

fn project_wrap(key: &RunKey, run: Option<Json>) -> Json {
    json!({"project": {"internalId": project_number(&key.entity, &key.project), "run": run}})
}

/// A history row as wandb returns it: a JSON object with `_step`, `_runtime`, `_timestamp`.
fn row_json(row: &HistoryRow, keys: Option<&[String]>) -> Json {
    let mut obj = match serde_json::to_value(&row.data) {
        Ok(Json::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    if let Some(keys) = keys {
        obj.retain(|k, _| keys.iter().any(|w| w == k));
    }
    obj.insert("_step".into(), Json::from(row.step));
    obj.insert("_runtime".into(), Json::from(row.rt));
    obj.insert("_timestamp".into(), Json::from(row.ts));
    Json::Object(obj)
}

fn history_err(e: trackway_history::HistoryError) -> WandbError {
    WandbError::Io(e.to_string())
}

/// `Run` (and the Python package's `RunState`): one run.
pub(crate) fn run(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let node = find_run(ctx, &key)?.map(|r| run_json(ctx, &r, true)).transpose()?;
    Ok(project_wrap(&key, node))
}

/// `RunFullHistory` (`run.history()` without keys): rows as JSON strings, evenly sampled.
pub(crate) fn full_history(ctx: &Ctx<'_>, v: RunVars, field: &str) -> Result<Json> {
    let samples = v.samples.unwrap_or(500).clamp(1, MAX_ROWS);
    let key = run_key(ctx, v.entity, v.project, v.name);
    let Some(run) = find_run(ctx, &key)? else { return Ok(project_wrap(&key, None)) };
    let rows = if field == "history" {
        ctx.history.sampled(run.pk, None, samples).map_err(history_err)?
    } else {
        ctx.history.sampled(trackway_store::capture::system_owner(run.pk), None, samples).map_err(history_err)?
    };
    let lines: Vec<Json> = rows.iter().map(|r| Json::from(row_json(r, None).to_string())).collect();
    let mut node = serde_json::Map::new();
    node.insert(field.to_owned(), Json::Array(lines));
    Ok(project_wrap(&key, Some(Json::Object(node))))
}

/// `RunSampledHistory`/`SampledHistoryPage`: per spec (`{"keys": [...], "samples": n}`), rows
/// holding those keys.
pub(crate) fn sampled_history(ctx: &Ctx<'_>, v: RunVars, spec_var: Option<Json>) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let Some(run) = find_run(ctx, &key)? else { return Ok(project_wrap(&key, None)) };
    let mut specs = v.specs.unwrap_or_default();
    specs.extend(spec_var.and_then(|s| s.as_str().map(str::to_owned)));
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let spec: Json = serde_json::from_str(&spec).map_err(|e| WandbError::BadRequest(format!("spec: {e}")))?;
        let keys: Vec<String> = spec["keys"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let samples =
            spec["samples"].as_u64().map_or(500, |n| usize::try_from(n).unwrap_or(MAX_ROWS)).clamp(1, MAX_ROWS);
        let metric: Vec<String> = keys.iter().filter(|k| !k.starts_with('_')).cloned().collect();
        let rows = ctx.history.sampled(run.pk, Some(&metric), samples).map_err(history_err)?;
        out.push(Json::Array(rows.iter().map(|r| row_json(r, Some(&keys))).collect()));
    }
    Ok(project_wrap(&key, Some(json!({"sampledHistory": out}))))
}

/// `HistoryPage` (wandb-core's `scan_history`): rows with `minStep <= _step < maxStep`.
pub(crate) fn history_page(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let Some(run) = find_run(ctx, &key)? else { return Ok(project_wrap(&key, None)) };
    let min = u64::try_from(v.min_step.unwrap_or(0)).unwrap_or(0);
    let Some(max) = v.max_step.and_then(|m| u64::try_from(m).ok()).filter(|m| *m > min) else {
        return Ok(project_wrap(&key, Some(json!({"history": []}))));
    };
    let limit = v.page_size.unwrap_or(1000).clamp(1, MAX_ROWS);
    let q = ScanQuery { keys: None, min_step: Some(min), max_step: Some(max - 1), after: None, limit };
    let page = ctx.history.scan(run.pk, &q).map_err(history_err)?;
    let lines: Vec<Json> = page.rows.iter().map(|r| Json::from(row_json(r, None).to_string())).collect();
    Ok(project_wrap(&key, Some(json!({"history": lines}))))
}

/// `RunParquetHistory`: Trackway has no parquet exports, so everything is "live data"
/// (wandb-core then reads the rows through `HistoryPage`).
pub(crate) fn parquet_history(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let node = find_run(ctx, &key)?.map(|_| json!({"parquetHistory": {"parquetUrls": [], "liveData": []}}));
    Ok(project_wrap(&key, node))
}

/// `RunHistoryKeys`.
pub(crate) fn history_keys_query(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let node = find_run(ctx, &key)?.map(|r| history_keys(ctx, &r).map(|k| json!({"historyKeys": k}))).transpose()?;
    Ok(project_wrap(&key, node))
}

/// `RunFiles`: the run's files (latest version of each path) with URLs of
/// `GET /api/v1/runs/.../files/{path}`, which the SDK fetches with its key.
pub(crate) fn files(ctx: &Ctx<'_>, v: RunVars) -> Result<Json> {
    let key = run_key(ctx, v.entity, v.project, v.name);
    let Some(_) = find_run(ctx, &key)? else { return Ok(project_wrap(&key, None)) };
    let mut all = ctx.store.list_run_files(&key)?;
    if let Some(names) = v.file_names.filter(|n| !n.is_empty()) {
        all.retain(|f| names.contains(&f.latest.path));
    }
    let start = v.file_cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(all.len());
    let end = start.saturating_add(v.file_limit.unwrap_or(50).clamp(1, MAX_PAGE)).min(all.len());
    let (e, p, r) = (
        crate::graphql::url_path(&key.entity),
        crate::graphql::url_path(&key.project),
        crate::graphql::url_path(&key.run_id),
    );
    let edges: Vec<Json> = all[start..end]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = &f.latest;
            let url = format!("{}/api/v1/runs/{e}/{p}/{r}/files/{}", ctx.base_url, crate::graphql::url_path(&f.path));
            json!({"cursor": (start + i + 1).to_string(), "node": {"id": format!("file:{}:{}", key, f.path), "name": f.path,
                "url": url, "directUrl": url, "sizeBytes": f.size, "mimetype": null, "updatedAt": iso(f.created_at), "md5": null}})
        })
        .collect();
    let page = json!({"endCursor": end.to_string(), "hasNextPage": end < all.len()});
    Ok(project_wrap(&key, Some(json!({"fileCount": all.len(), "files": {"edges": edges, "pageInfo": page}}))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunsVars {
    entity: Option<String>,
    project: Option<String>,
    cursor: Option<String>,
    per_page: Option<usize>,
    order: Option<String>,
    filters: Option<String>,
}

/// `Runs`: a page of a project's runs, filtered and ordered as asked.
pub(crate) fn runs(ctx: &Ctx<'_>, v: RunsVars, query: &str) -> Result<Json> {
    let entity = v.entity.filter(|e| !e.is_empty()).unwrap_or_else(|| ctx.who.entity.clone());
    let project = v.project.filter(|p| !p.is_empty()).unwrap_or_else(|| crate::DEFAULT_PROJECT.into());
    if !ctx.who.can_access(&entity, false) {
        return Ok(json!({"project": null}));
    }
    let filter = match v.filters.as_deref().map(serde_json::from_str::<Json>) {
        Some(Ok(doc)) if doc.as_object().is_some_and(|m| !m.is_empty()) => Some(parse_filter(&doc)?),
        Some(Err(e)) => return Err(WandbError::BadRequest(format!("filters: {e}"))),
        _ => None,
    };
    let (order_by, direction) = match v.order.as_deref().filter(|o| !o.is_empty()) {
        Some(o) => RunQuery::parse_order(o),
        None => ("created_at".to_owned(), Direction::Desc),
    };
    let q = RunQuery {
        entity: entity.clone(),
        project: project.clone(),
        filter,
        order_by,
        direction,
        limit: v.per_page.unwrap_or(50).clamp(1, MAX_PAGE),
        cursor: v.cursor.filter(|c| !c.is_empty()),
        with_total: true,
    };
    let page = match ctx.store.query_runs(&q) {
        Ok(p) => p,
        Err(StoreError::ProjectNotFound(_) | StoreError::NotFound(_)) => return Ok(json!({"project": null})),
        Err(e) => return Err(e.into()),
    };
    // The lazy listing selects the light fragment (no config, summary, history keys).
    let full = query.contains("...RunFragment");
    let edges: Vec<Json> = page
        .runs
        .iter()
        .map(|r| run_json(ctx, r, full).map(|n| json!({"node": n, "cursor": page.next_cursor})))
        .collect::<Result<_>>()?;
    Ok(json!({"project": {"internalId": project_number(&entity, &project), "readOnly": false,
        "runCount": page.total.unwrap_or(edges.len() as u64),
        "runs": {"edges": edges, "pageInfo": {"endCursor": page.next_cursor, "hasNextPage": page.next_cursor.is_some()}}}}))
}
