//! Logged tables served page by page, sorted and filtered here (the UI never holds a whole
//! table to sort it), and all histograms of one key in one request (docs/media-api.md).

use std::cmp::Ordering;

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};
use trackway_blob::Digest;
use trackway_history::HistoryRow;
use trackway_store::{Principal, RunKey, StoreError};

use super::media::{MAX_PAGE, annotate, get_run, row_value, run_files, scan_key, thin, typed};
use crate::auth::check_read;
use crate::{ApiError, ApiResult, AppState};

/// Largest table file read (a 10,000-row history table is far smaller).
const MAX_TABLE_BYTES: u64 = 256 << 20;
/// Most rows of an incremental table put together from its increments.
const MAX_INCREMENTAL_ROWS: usize = 200_000;
const OPS: [&str; 8] = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$contains", "$in"];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TableQuery {
    key: String,
    step: Option<u64>,
    offset: Option<usize>,
    limit: Option<usize>,
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(pattern = "^(?:asc|desc)$")]
    order: Option<String>,
    filter: Option<String>,
    q: Option<String>,
}

struct Table {
    columns: Vec<String>,
    column_types: Json_,
    rows: Vec<Json_>,
}

/// `GET .../tables?key=`: one page of a logged table.
#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/tables", operation_id = "runTable", tag = "media",
    params(crate::openapi::RunPath, TableQuery),
    responses((status = 200, description = "One page of a logged table (docs/media-api.md)", body = Object)))]
pub(crate) async fn table(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<TableQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let desc = match q.order.as_deref().unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(ApiError::BadRequest(format!("order must be asc or desc, not {other:?}")));
        }
    };
    let key = RunKey { entity, project, run_id };
    state
        .blocking(move |s| {
            let run = get_run(s, &key)?;
            let (step, table) = find_table(s, &key, run.pk, &q.key, q.step)?;
            let filter = parse_filter(q.filter.as_deref(), &table.columns)?;
            let sort = match q.sort.as_deref().filter(|c| !c.is_empty()) {
                Some(c) => Some(column_index(&table.columns, c)?),
                None => None,
            };
            let mut order: Vec<usize> =
                (0..table.rows.len()).filter(|&i| row_matches(&table.rows[i], &filter, q.q.as_deref())).collect();
            if let Some(col) = sort {
                order.sort_by(|&a, &b| compare_cells(cell(&table.rows[a], col), cell(&table.rows[b], col), desc));
            }
            let (offset, limit) = (q.offset.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, MAX_PAGE));
            let files = run_files(s, &key)?;
            let page: Vec<Json_> = order
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&i| {
                    let mut cells = table.rows[i].clone();
                    annotate(&mut cells, &key, &files);
                    json!({"index": i, "cells": cells})
                })
                .collect();
            Ok(Json(json!({"key": q.key, "step": step, "columns": table.columns, "column_types": table.column_types,
                           "nrows": table.rows.len(), "total": order.len(), "offset": offset, "rows": page})))
        })
        .await
}

/// The table under `name` at `step` (default: the latest step holding it).
fn find_table(s: &AppState, key: &RunKey, pk: i64, name: &str, step: Option<u64>) -> ApiResult<(u64, Table)> {
    let (step, value) = value_at(s, pk, name, step)?;
    let (step, value) = match typed(&value) {
        Some("custom-chart") => {
            let table_key = value.get("table_key").and_then(Json_::as_str).unwrap_or_default().to_owned();
            value_at(s, pk, &table_key, Some(step))?
        }
        _ => (step, value),
    };
    if typed(&value) != Some("table-file") {
        return Err(ApiError::BadRequest(format!("{name:?} at step {step} is not a table")));
    }
    if value.get("log_mode").and_then(Json_::as_str) != Some("INCREMENTAL") {
        return Ok((step, load_table(s, key, &value)?));
    }
    // An incremental table is every increment logged up to this step, in order.
    let mut all: Option<Table> = None;
    for row in scan_key(s, pk, name, None, Some(step), None, MAX_PAGE)?.rows {
        let Some(v) = row_value(&row, name).filter(|v| typed(v) == Some("table-file")) else {
            continue;
        };
        let part = load_table(s, key, &v)?;
        match all.as_mut() {
            Some(t) if t.rows.len() + part.rows.len() <= MAX_INCREMENTAL_ROWS => t.rows.extend(part.rows),
            Some(_) => break,
            None => all = Some(part),
        }
    }
    all.map(|t| (step, t)).ok_or_else(|| ApiError::NotFound(format!("no table under {name:?}")))
}

fn value_at(s: &AppState, pk: i64, name: &str, step: Option<u64>) -> ApiResult<(u64, Json_)> {
    let row: Option<HistoryRow> = match step {
        Some(st) => scan_key(s, pk, name, Some(st), Some(st), None, 1)?.rows.into_iter().next(),
        None => s.history.sampled(pk, Some(&[name.to_owned()]), 2)?.into_iter().last(),
    };
    row.and_then(|r| row_value(&r, name).map(|v| (r.step, v))).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no value under {name:?}{}",
            step.map(|s| format!(" at step {s}")).unwrap_or_default()
        ))
    })
}

fn load_table(s: &AppState, key: &RunKey, reference: &Json_) -> ApiResult<Table> {
    let path = reference.get("path").and_then(Json_::as_str).unwrap_or_default();
    let file = match s.store.get_run_file(key, path, None) {
        Ok(f) => f,
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::NotFound("table file not uploaded yet".into()));
        }
        Err(e) => return Err(e.into()),
    };
    if file.size > MAX_TABLE_BYTES {
        return Err(ApiError::BadRequest(format!(
            "the table file is {} bytes, over the {MAX_TABLE_BYTES} byte limit",
            file.size
        )));
    }
    let digest: Digest = file.sha256.parse().map_err(ApiError::internal)?;
    let bytes = s.blobs.get(&digest).map_err(ApiError::internal)?;
    let mut doc: Map<String, Json_> =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("{path} is not a table file: {e}")))?;
    let columns: Vec<String> = match doc.remove("columns") {
        Some(Json_::Array(c)) => {
            c.into_iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
        }
        _ => Vec::new(),
    };
    let rows = match doc.remove("data") {
        Some(Json_::Array(rows)) => rows,
        _ => Vec::new(),
    };
    Ok(Table { columns, column_types: doc.remove("column_types").unwrap_or(Json_::Null), rows })
}

fn column_index(columns: &[String], name: &str) -> ApiResult<usize> {
    columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| ApiError::InvalidFilter(format!("unknown column {name:?} (columns: {})", columns.join(", "))))
}

fn cell(row: &Json_, col: usize) -> &Json_ {
    row.get(col).unwrap_or(&Json_::Null)
}

type Filter = Vec<(usize, String, Json_)>;

fn parse_filter(text: Option<&str>, columns: &[String]) -> ApiResult<Filter> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let doc: Map<String, Json_> = serde_json::from_str(text)
        .map_err(|e| ApiError::InvalidFilter(format!("filter must be a JSON object: {e}")))?;
    let mut out = Vec::new();
    for (col, ops) in doc {
        let i = column_index(columns, &col)?;
        let Json_::Object(ops) = ops else {
            return Err(ApiError::InvalidFilter(format!("filter on {col:?} must be an object {{\"$op\": value}}")));
        };
        for (op, v) in ops {
            if !OPS.contains(&op.as_str()) {
                return Err(ApiError::InvalidFilter(format!("unknown operator {op} (one of {})", OPS.join(" "))));
            }
            if op == "$in" && !v.is_array() {
                return Err(ApiError::InvalidFilter("$in takes an array".into()));
            }
            out.push((i, op, v));
        }
    }
    Ok(out)
}

fn row_matches(row: &Json_, filter: &[(usize, String, Json_)], q: Option<&str>) -> bool {
    let text_ok = q.filter(|t| !t.is_empty()).is_none_or(|t| {
        let t = t.to_ascii_lowercase();
        row.as_array()
            .is_some_and(|cells| cells.iter().any(|c| c.as_str().is_some_and(|s| s.to_ascii_lowercase().contains(&t))))
    });
    text_ok && filter.iter().all(|(col, op, v)| op_holds(cell(row, *col), op, v))
}

fn op_holds(cell: &Json_, op: &str, v: &Json_) -> bool {
    let ord = || match (cell, v) {
        (Json_::Number(a), Json_::Number(b)) => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        (Json_::String(a), Json_::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        "$eq" => same(cell, v),
        "$ne" => !same(cell, v),
        "$gt" => ord() == Some(Ordering::Greater),
        "$gte" => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        "$lt" => ord() == Some(Ordering::Less),
        "$lte" => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        "$contains" => match (cell, v) {
            (Json_::String(a), Json_::String(b)) => a.to_ascii_lowercase().contains(&b.to_ascii_lowercase()),
            (Json_::Array(items), _) => items.iter().any(|i| same(i, v)),
            _ => false,
        },
        _ => v.as_array().is_some_and(|vs| vs.iter().any(|x| same(cell, x))),
    }
}

/// Equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Json_, b: &Json_) -> bool {
    match (a, b) {
        (Json_::Number(x), Json_::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Numbers, then strings, then booleans, then everything else; null (and missing) always last.
fn compare_cells(a: &Json_, b: &Json_, desc: bool) -> Ordering {
    let rank = |v: &Json_| match v {
        Json_::Number(_) => 0,
        Json_::String(_) => 1,
        Json_::Bool(_) => 2,
        Json_::Null => 4,
        _ => 3,
    };
    let (ra, rb) = (rank(a), rank(b));
    if ra == 4 || rb == 4 || ra != rb {
        return ra.cmp(&rb);
    }
    let ord = match (a, b) {
        (Json_::Number(x), Json_::Number(y)) => {
            x.as_f64().unwrap_or(f64::NAN).partial_cmp(&y.as_f64().unwrap_or(f64::NAN)).unwrap_or(Ordering::Equal)
        }
        (Json_::String(x), Json_::String(y)) => x.cmp(y),
        (Json_::Bool(x), Json_::Bool(y)) => x.cmp(y),
        _ => media_key(a).cmp(&media_key(b)),
    };
    if desc { ord.reverse() } else { ord }
}

fn media_key(v: &Json_) -> String {
    v.get("path").and_then(Json_::as_str).map_or_else(|| v.to_string(), str::to_owned)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistogramsQuery {
    key: String,
    min_step: Option<u64>,
    max_step: Option<u64>,
    samples: Option<usize>,
}

/// `GET .../histograms?key=`: every histogram of one key over steps, for a heatmap.
#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/histograms", operation_id = "runHistograms", tag = "media",
    params(crate::openapi::RunPath, HistogramsQuery),
    responses((status = 200, description = "Every histogram of one key over steps (docs/media-api.md)", body = Object)))]
pub(crate) async fn histograms(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<HistogramsQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    let samples = q.samples.unwrap_or(500).clamp(1, MAX_PAGE);
    state
        .blocking(move |s| {
            let run = get_run(s, &key)?;
            let rows = if q.min_step.is_none() && q.max_step.is_none() {
                s.history.sampled(run.pk, Some(std::slice::from_ref(&q.key)), samples)?
            } else {
                thin(scan_key(s, run.pk, &q.key, q.min_step, q.max_step, None, MAX_PAGE)?.rows, samples)
            };
            Ok(Json(histogram_series(&q.key, &rows)))
        })
        .await
}

fn histogram_series(name: &str, rows: &[HistoryRow]) -> Json_ {
    let (mut lo, mut hi, mut max_count) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    let mut steps = Vec::new();
    let mut hists = Vec::new();
    for row in rows {
        let Some(v) = row_value(row, name).filter(|v| typed(v) == Some("histogram")) else {
            continue;
        };
        let nums = |k: &str| -> Vec<f64> {
            v.get(k).and_then(Json_::as_array).map(|a| a.iter().filter_map(Json_::as_f64).collect()).unwrap_or_default()
        };
        let (bins, values) = (nums("bins"), nums("values"));
        lo = bins.first().map_or(lo, |b| lo.min(*b));
        hi = bins.last().map_or(hi, |b| hi.max(*b));
        max_count = values.iter().fold(max_count, |m, c| m.max(*c));
        steps.push(row.step);
        hists.push(json!({"step": row.step, "bins": v.get("bins"), "values": v.get("values")}));
    }
    let finite = |x: f64| if x.is_finite() { json!(x) } else { Json_::Null };
    json!({"key": name, "steps": steps, "histograms": hists, "min": finite(lo), "max": finite(hi), "max_count": max_count})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_numbers_then_strings_with_nulls_last_both_ways() {
        let mut v = [json!(3), Json_::Null, json!("b"), json!(1.5), json!("a")];
        v.sort_by(|a, b| compare_cells(a, b, false));
        assert_eq!(v, [json!(1.5), json!(3), json!("a"), json!("b"), Json_::Null]);
        v.sort_by(|a, b| compare_cells(a, b, true));
        assert_eq!(v, [json!(3), json!(1.5), json!("b"), json!("a"), Json_::Null]);
    }

    #[test]
    fn filters_by_operator_and_rejects_unknown_ones() -> Result<(), Box<dyn std::error::Error>> {
        let cols = vec!["n".to_owned(), "s".to_owned()];
        let f = parse_filter(Some(r#"{"n":{"$gte":2,"$lt":5},"s":{"$contains":"CA"}}"#), &cols)
            .map_err(|e| e.to_string())?;
        assert!(row_matches(&json!([2, "cat"]), &f, None));
        assert!(!row_matches(&json!([5, "cat"]), &f, None));
        assert!(!row_matches(&json!([3, "dog"]), &f, None));
        assert!(row_matches(&json!([1, "Dog"]), &[], Some("do")));
        assert!(parse_filter(Some(r#"{"x":{"$eq":1}}"#), &cols).is_err());
        assert!(parse_filter(Some(r#"{"n":{"$regex":"a"}}"#), &cols).is_err());
        assert!(parse_filter(Some(r#"{"n":{"$in":3}}"#), &cols).is_err());
        Ok(())
    }
}
