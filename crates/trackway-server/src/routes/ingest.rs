//! `POST /api/v1/ingest`: run-log records in, acknowledged only once durable.
//!
//! Every record is parsed before anything is written, so a malformed one rejects the whole
//! batch. The metadata store then applies the batch in one SQLite transaction; inside it the
//! history rows go to the history engine through the same connection, so rows, run row and
//! high-water mark commit together (`synchronous=FULL`: the commit is on disk when it returns),
//! and only then is `{"acked": to}` sent.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as Json_, json};
use trackway_history::HistoryRow;
use trackway_store::{IngestBatch, IngestTx, Principal, RunKey, capture};
use trackway_types::{HistoryRecord, Record};

use super::runs::DEFAULT_PROJECT;
use crate::auth::check_access;
use crate::extract::JsonBody;
use crate::{ApiError, ApiResult, AppState};

#[derive(Deserialize)]
pub(crate) struct IngestBody {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
    log_id: String,
    from: u64,
    to: u64,
    records: Vec<(u64, Box<RawValue>)>,
}

fn parse_records(raw: &[(u64, Box<RawValue>)], run_id: &str, log_id: &str) -> ApiResult<Vec<(u64, Record)>> {
    raw.iter()
        .map(|(pos, text)| {
            let record = Record::parse(text.get().as_bytes()).map_err(|e| e.to_string());
            record
                .and_then(|r| check_capture_record(&r, run_id, log_id).map(|()| (*pos, r)))
                .map_err(|e| ApiError::InvalidRecord(format!("record at position {pos}: {e}")))
        })
        .collect()
}

/// The capture records (docs/capture.md section 1) the store keeps: `output` lines, and the
/// `stream` header and `stats` windows of a `system.jsonl` log. Other unknown types pass.
fn check_capture_record(record: &Record, run_id: &str, log_id: &str) -> Result<(), String> {
    let Record::Unknown { t, raw } = record else { return Ok(()) };
    let checked = match t.as_str() {
        "output" => capture::parse_output(raw).map(|_| ()),
        "stats" => capture::parse_stats(raw).map(|_| ()),
        "stream" => capture::check_stream_header(raw, run_id, log_id),
        _ => Ok(()),
    };
    checked.map_err(|e| format!("invalid `{t}` record: {e}"))
}

fn to_rows(records: &[(u64, &HistoryRecord)]) -> Vec<HistoryRow> {
    records.iter().map(|(_, r)| HistoryRow { step: r.step, ts: r.ts, rt: r.rt, data: r.data.clone() }).collect()
}

pub(crate) async fn ingest(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<IngestBody>,
) -> ApiResult<Json<Json_>> {
    let entity = body.entity.clone().unwrap_or_else(|| who.entity.clone());
    check_access(&who, &entity, true)?;
    if body.log_id.is_empty() || body.log_id.len() > 128 {
        return Err(ApiError::BadRequest("log_id must be 1-128 characters".into()));
    }
    let records = parse_records(&body.records, &body.run_id, &body.log_id)?;
    let finished = records.iter().any(|(_, r)| matches!(r, Record::Finish(_)));
    let batch = IngestBatch {
        key: RunKey { entity, project: body.project.unwrap_or_else(|| DEFAULT_PROJECT.into()), run_id: body.run_id },
        log_id: body.log_id,
        from: body.from,
        to: body.to,
        records,
    };
    let outcome = state
        .blocking(move |s| {
            crate::auth::ensure_entity(s, &who, &batch.key.entity)?;
            let history = s.history.clone();
            let mut sink = move |tx: IngestTx<'_>, run: i64, rows: &[(u64, &HistoryRecord)]| match tx {
                IngestTx::Sqlite(conn) => history.append_tx(conn, run, &to_rows(rows)).map_err(|e| e.to_string()),
            };
            let outcome = s.store.apply_ingest(&batch, &mut sink)?;
            Ok((outcome, batch.key))
        })
        .await?;
    let (outcome, key) = outcome;
    if finished && outcome.applied > 0 {
        compact_in_background(&state, key);
    }
    Ok(Json(json!({"acked": outcome.acked, "applied": outcome.applied})))
}

/// A finished run's live tail is compacted into chunks; best effort, off the request path.
fn compact_in_background(state: &AppState, key: RunKey) {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let result = state
            .store
            .get_run(&key)
            .map_err(|e| e.to_string())
            .and_then(|run| {
                // The run's own series and its system metrics (owner -pk) both end here.
                for owner in [run.pk, capture::system_owner(run.pk)] {
                    trackway_history::HistoryStore::compact(&*state.history, owner).map_err(|e| e.to_string())?;
                }
                Ok(())
            });
        if let Err(error) = result {
            tracing::warn!(run = %key, %error, "compacting a finished run's history failed");
        }
    });
}
