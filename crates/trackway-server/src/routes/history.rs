//! History rows, streamed export and chart queries, delegated to the history engine.

use crate::extract::{Path, Query};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use trackway_history::{ChartQuery, HistoryRow, ScanQuery, Value, XAxis, export};
use trackway_store::{Principal, RunKey};

use crate::auth::check_read;
use crate::extract::JsonBody;
use crate::{ApiError, ApiResult, AppState};

/// Most rows per history page, and most runs per chart query.
const MAX_PAGE: usize = 10_000;
const MAX_CHART_RUNS: usize = 5_000;

fn split_keys(keys: Option<&str>) -> Option<Vec<String>> {
    keys.filter(|k| !k.trim().is_empty())
        .map(|k| k.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

/// The history series a request reads: the run's own rows, or (`stream=system`) its system
/// metrics, stored under the owner key `-pk` (trackway_store::capture).
fn series_owner(stream: Option<&str>, pk: i64) -> ApiResult<i64> {
    match stream.unwrap_or("history") {
        "" | "history" => Ok(pk),
        "system" => Ok(trackway_store::capture::system_owner(pk)),
        other => Err(ApiError::BadRequest(format!("unknown stream {other:?} (history, system)"))),
    }
}

fn row_json(row: &HistoryRow) -> Json_ {
    serde_json::to_value(Value::Map(row.to_map())).unwrap_or(Json_::Null)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RowsQuery {
    /// Comma-separated keys (default: all).
    keys: Option<String>,
    min_step: Option<u64>,
    max_step: Option<u64>,
    /// Rows per page (1 to 10000, default 1000).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{0,19}$")]
    cursor: Option<String>,
    /// Instead of a page: this many rows sampled over the whole run.
    samples: Option<usize>,
    /// `history` (default) or `system`.
    stream: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/history", operation_id = "historyRows", tag = "history",
    params(crate::openapi::RunPath, RowsQuery),
    responses((status = 200, description = "One page of history rows", body = crate::openapi::HistoryPage)))]
pub(crate) async fn rows(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<RowsQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    let after = crate::extract::step_cursor(q.cursor.as_deref())?;
    let keys = split_keys(q.keys.as_deref());
    series_owner(q.stream.as_deref(), 0)?;
    state
        .blocking(move |s| {
            let owner = series_owner(q.stream.as_deref(), s.store.get_run(&key)?.pk)?;
            if let Some(samples) = q.samples {
                let rows = s.history.sampled(owner, keys.as_deref(), samples.clamp(1, MAX_PAGE))?;
                return Ok(Json(json!({"rows": rows.iter().map(row_json).collect::<Vec<_>>(), "next_cursor": null})));
            }
            let scan = ScanQuery {
                keys,
                min_step: q.min_step,
                max_step: q.max_step,
                after,
                limit: q.limit.unwrap_or(1000).clamp(1, MAX_PAGE),
            };
            let page = s.history.scan(owner, &scan)?;
            let rows: Vec<Json_> = page.rows.iter().map(row_json).collect();
            Ok(Json(json!({"rows": rows, "next_cursor": page.next_cursor.map(|c| c.to_string())})))
        })
        .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct KeysQuery {
    /// `history` (default) or `system`.
    stream: Option<String>,
}

/// `GET .../history/keys?stream=`: the metric keys of one run's history or system series, in
/// first-seen order (what the UI offers to chart, e.g. the `system/...` keys).
#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/history/keys", operation_id = "historyKeys", tag = "history",
    params(crate::openapi::RunPath, KeysQuery),
    responses((status = 200, description = "The series' keys in first-seen order", body = crate::openapi::HistoryKeys)))]
pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<KeysQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    series_owner(q.stream.as_deref(), 0)?;
    let key = RunKey { entity, project, run_id };
    state
        .blocking(move |s| {
            let owner = series_owner(q.stream.as_deref(), s.store.get_run(&key)?.pk)?;
            Ok(Json(json!({"keys": s.history.keys(owner)?})))
        })
        .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `csv` (default), `jsonl` or `parquet`.
    format: Option<String>,
    /// Comma-separated keys (default: all).
    keys: Option<String>,
    /// `history` (default) or `system`.
    stream: Option<String>,
}

/// Sends what the exporter writes to the response body in 64 KiB chunks; a client that went
/// away turns into a write error, which stops the export.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/history/export", operation_id = "exportHistory", tag = "history",
    params(crate::openapi::RunPath, ExportQuery),
    responses((status = 200, description = "Every row, streamed as a file download", content(
        (String = "text/csv"), (String = "application/x-ndjson"), (Vec<u8> = "application/vnd.apache.parquet")))))]
pub(crate) async fn export(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    check_read(&state, &who, &entity, &project).await?;
    let format = q.format.unwrap_or_else(|| "csv".into());
    let content_type = match format.as_str() {
        "csv" => "text/csv; charset=utf-8",
        "jsonl" => "application/x-ndjson",
        "parquet" => "application/vnd.apache.parquet",
        other => return Err(ApiError::BadRequest(format!("unknown export format {other:?} (csv, jsonl, parquet)"))),
    };
    series_owner(q.stream.as_deref(), 0)?;
    let key = RunKey { entity, project, run_id };
    let lookup = key.clone();
    let run = state.blocking(move |s| Ok(s.store.get_run(&lookup)?)).await?;
    let owner = series_owner(q.stream.as_deref(), run.pk)?;
    let keys = split_keys(q.keys.as_deref());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let history = state.history.clone();
    let kind = format.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(64 * 1024) };
        let result = match kind.as_str() {
            "csv" => export::write_csv(&*history, owner, keys.as_deref(), &mut out),
            "parquet" => export::write_parquet(&*history, owner, keys.as_deref(), &mut out),
            _ => export::write_jsonl(&*history, owner, keys.as_deref(), &mut out),
        };
        let result =
            result.map_err(|e| e.to_string()).and_then(|_| std::io::Write::flush(&mut out).map_err(|e| e.to_string()));
        if let Err(error) = result {
            tracing::warn!(run = %key, %error, "history export stopped");
            // Ends the body with an error, so the client sees a truncated transfer, not a
            // silently short file.
            let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    let what = if owner == run.pk { "history" } else { "system" };
    let filename = format!("{}-{what}.{format}", run.run_id);
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ChartRun {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ChartQuery)]
pub(crate) struct ChartBody {
    runs: Vec<ChartRun>,
    metric: String,
    x: Option<String>,
    x_min: Option<f64>,
    x_max: Option<f64>,
    #[serde(default, deserialize_with = "crate::lenient::opt_usize")]
    buckets: Option<usize>,
    /// `history` (default) or `system` (the agent's system metrics).
    stream: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/charts/query", operation_id = "chartQuery", tag = "history", request_body = ChartBody,
    responses((status = 200, description = "One bucketed series per run", body = crate::openapi::ChartResponse)))]
pub(crate) async fn charts(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<ChartBody>,
) -> ApiResult<Response> {
    if body.runs.len() > MAX_CHART_RUNS {
        return Err(ApiError::BadRequest(format!("at most {MAX_CHART_RUNS} runs per chart query")));
    }
    series_owner(body.stream.as_deref(), 0)?;
    let keys: Vec<RunKey> = body
        .runs
        .into_iter()
        .map(|r| RunKey {
            entity: r.entity.unwrap_or_else(|| who.entity.clone()),
            project: r.project.unwrap_or_else(|| super::runs::DEFAULT_PROJECT.into()),
            run_id: r.run_id,
        })
        .collect();
    // A chart's runs come from a handful of projects: one access check per project.
    let mut checked = std::collections::HashSet::new();
    for k in &keys {
        if checked.insert((k.entity.as_str(), k.project.as_str())) {
            check_read(&state, &who, &k.entity, &k.project).await?;
        }
    }
    let (metric, x, x_min, x_max, buckets, stream) =
        (body.metric, body.x, body.x_min, body.x_max, body.buckets, body.stream);
    state
        .blocking(move |s| {
            let runs = run_pks(s, &keys)?
                .into_iter()
                .map(|pk| series_owner(stream.as_deref(), pk))
                .collect::<Result<_, _>>()?;
            let q = ChartQuery {
                runs,
                metric,
                x: XAxis::parse(x.as_deref().unwrap_or("_step")),
                x_min,
                x_max,
                buckets: buckets.unwrap_or(1000).clamp(1, 100_000),
            };
            let series = s.history.chart(&q)?;
            // Serialised straight from the engine's columns: a 1,000-run chart holds up to 10^6
            // buckets, and an intermediate JSON tree would cost more than the query itself.
            let out =
                ChartOut { series: series.iter().zip(&keys).map(|(s, k)| ChartSeriesOut { key: k, s }).collect() };
            // Sized up front: growing a buffer of tens of megabytes copies it again and again.
            let mut bytes = Vec::with_capacity(128 + series.iter().map(|s| 64 + s.x.len() * 96).sum::<usize>());
            serde_json::to_writer(&mut bytes, &out).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(([(CONTENT_TYPE, "application/json")], bytes).into_response())
        })
        .await
}

/// The runs' primary keys in `keys` order, one store call per project; a missing run is a 404.
fn run_pks(s: &AppState, keys: &[RunKey]) -> ApiResult<Vec<i64>> {
    let mut groups: Vec<((&str, &str), Vec<usize>)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let project = (k.entity.as_str(), k.project.as_str());
        match groups.iter_mut().find(|(p, _)| *p == project) {
            Some((_, members)) => members.push(i),
            None => groups.push((project, vec![i])),
        }
    }
    let mut pks = vec![0; keys.len()];
    for ((entity, project), members) in groups {
        let ids: Vec<String> = members.iter().map(|&i| keys[i].run_id.clone()).collect();
        for (&i, pk) in members.iter().zip(s.store.run_pks(entity, project, &ids)?) {
            pks[i] = pk.ok_or_else(|| ApiError::RunNotFound(format!("run {} does not exist", keys[i])))?;
        }
    }
    Ok(pks)
}

#[derive(serde::Serialize)]
struct ChartOut<'a> {
    series: Vec<ChartSeriesOut<'a>>,
}

/// One run's series as `crate::openapi::ChartResponse` documents it.
struct ChartSeriesOut<'a> {
    key: &'a RunKey,
    s: &'a trackway_history::Series,
}

impl serde::Serialize for ChartSeriesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (k, s) = (self.key, self.s);
        let mut m = ser.serialize_struct("ChartSeries", 11)?;
        m.serialize_field("entity", &k.entity)?;
        m.serialize_field("project", &k.project)?;
        m.serialize_field("run_id", &k.run_id)?;
        // serde_json writes NaN and ±Inf as null, as the documented `Option<f64>` columns say.
        m.serialize_field("x", &s.x)?;
        m.serialize_field("min", &s.min)?;
        m.serialize_field("max", &s.max)?;
        m.serialize_field("last", &s.last)?;
        m.serialize_field("mean", &s.mean)?;
        m.serialize_field("count", &s.count)?;
        m.serialize_field("nonfinite", &s.nonfinite)?;
        m.serialize_field("exact", &s.exact)?;
        m.end()
    }
}
