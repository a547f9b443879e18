//! `POST /api/v1/ingest`: run-log records in, acknowledged only once durable.
//!
//! Every record is parsed before anything is written, so a malformed one rejects the whole
//! batch. The metadata store then applies the batch in one transaction; inside it the history
//! rows go to the same backend's history store, so rows, run row and high-water mark commit
//! together (`synchronous=FULL`: the commit is on disk when it returns),
//! and only then is `{"acked": to}` sent.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as Json_, json};
use trackway_store::{IngestBatch, IngestOutcome, Principal, RunKey, capture};
use trackway_types::Record;

use super::runs::DEFAULT_PROJECT;
use crate::auth::check_access;
use crate::extract::{RawBody, parse_json};
use crate::{ApiError, ApiResult, AppState};

/// Parser threads for one large batch, and the fewest records worth a thread of their own.
const PARSE_THREADS: usize = 4;
const PARSE_CHUNK_MIN: usize = 1024;

/// The request; records stay unparsed text borrowed from the body until [`parse_records`].
#[derive(Deserialize)]
pub(crate) struct IngestBody<'a> {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
    log_id: String,
    from: u64,
    to: u64,
    #[serde(borrow)]
    records: Vec<(u64, &'a RawValue)>,
}

fn parse_records(raw: &[(u64, &RawValue)], run_id: &str, log_id: &str) -> ApiResult<Vec<(u64, Record)>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(PARSE_THREADS);
    if threads < 2 || raw.len() < 2 * PARSE_CHUNK_MIN {
        return parse_slice(raw, run_id, log_id);
    }
    // Parsing (float_roundtrip decoding of every value) is a large share of a big batch's CPU
    // and needs no lock: split it over the cores, keeping the records in position order.
    let chunk = raw.len().div_ceil(threads).max(PARSE_CHUNK_MIN);
    let parts: Vec<ApiResult<Vec<(u64, Record)>>> = std::thread::scope(|sc| {
        let mut pieces = raw.chunks(chunk);
        let first = pieces.next().unwrap_or_default();
        let handles: Vec<_> = pieces.map(|p| sc.spawn(move || parse_slice(p, run_id, log_id))).collect();
        let mut out = vec![parse_slice(first, run_id, log_id)];
        out.extend(handles.into_iter().map(|h| {
            h.join().unwrap_or_else(|_| Err(ApiError::InvalidRecord("record parser panicked".into())))
        }));
        out
    });
    let mut records = Vec::with_capacity(raw.len());
    for part in parts {
        records.extend(part?);
    }
    Ok(records)
}

fn parse_slice(raw: &[(u64, &RawValue)], run_id: &str, log_id: &str) -> ApiResult<Vec<(u64, Record)>> {
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

#[utoipa::path(post, path = "/api/v1/ingest", operation_id = "ingest", tag = "ingest", request_body = crate::openapi::IngestRequest,
    responses((status = 200, description = "The batch is durable", body = crate::openapi::IngestAck)))]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    RawBody(bytes): RawBody,
) -> ApiResult<Json<Json_>> {
    // Parsing a large batch takes milliseconds of CPU: it runs on the blocking pool with the
    // store work, not on the async runtime.
    let (outcome, key, finished) = state.blocking(move |s| apply(s, &who, &bytes)).await?;
    if finished && outcome.applied > 0 {
        compact_in_background(&state, key);
    }
    // `dropped`: history records refused because another attempt already wrote those steps.
    Ok(Json(json!({"acked": outcome.acked, "applied": outcome.applied, "dropped": outcome.dropped_rows})))
}

/// Checks, parses and applies one request body; returns the outcome, the run and whether the
/// batch held the run's `finish`.
fn apply(s: &AppState, who: &Principal, bytes: &[u8]) -> ApiResult<(IngestOutcome, RunKey, bool)> {
    let body: IngestBody<'_> = parse_json(bytes)?;
    let entity = body.entity.clone().unwrap_or_else(|| who.entity.clone());
    check_access(who, &entity, true)?;
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
    crate::auth::ensure_entity(s, who, &batch.key.entity)?;
    let outcome = s.store.apply_ingest(&batch)?;
    let IngestBatch { key, records, .. } = batch;
    // Freeing a large batch's values takes a few milliseconds; the answer need not wait.
    if records.len() >= 2 * PARSE_CHUNK_MIN {
        // If no thread can be started, the records are simply freed here.
        let _ = std::thread::Builder::new().name("ingest-free".into()).spawn(move || drop(records));
    }
    Ok((outcome, key, finished))
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
                    state.history.compact(owner).map_err(|e| e.to_string())?;
                }
                Ok(())
            });
        if let Err(error) = result {
            tracing::warn!(run = %key, %error, "compacting a finished run's history failed");
        }
    });
}
