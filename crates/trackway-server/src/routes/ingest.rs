//! `POST /api/v1/ingest`: run-log records in, acknowledged only once durable.
//!
//! The envelope is checked first with the rules of the run routes (`trackway_types::limits`):
//! run id, project and entity names, `log_id`, and positions: increasing, inside `[from, to)`,
//! and `to` no further than the records' own bytes plus [`MAX_SKIPPED_BYTES`] of lines the
//! client left out. Records stay unparsed text borrowed from the body; they are parsed, checked
//! and applied one slice at a time ([`slice_bytes`]), each slice in its own transaction, so a
//! request holds its body plus one parsed slice, never every record parsed at once. A slice is
//! applied like a smaller batch by the metadata store, whose transaction also carries the
//! history rows (same backend), so rows, run row and high-water mark commit together
//! (`synchronous=FULL`), and `{"acked": to}` is only sent after the last one.
//!
//! A refused record is answered `400 invalid_record` with its `position`; slices before it
//! may already be stored (the high-water mark says so, and a resend skips them).

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as Json_, json};
use trackway_store::{IngestBatch, IngestOutcome, Principal, RunKey, capture};
use trackway_types::Record;
use trackway_types::limits::{check_name, check_record, check_run_id};

use super::runs::DEFAULT_PROJECT;
use crate::auth::check_access;
use crate::extract::{RawBody, parse_json};
use crate::limits::IngestPermit;
use crate::{ApiError, ApiResult, AppState};

/// Parser threads for one large slice, and the fewest records worth a thread of their own.
const PARSE_THREADS: usize = 4;
const PARSE_CHUNK_MIN: usize = 1024;
/// Bytes of the log a batch may cover without sending them (corrupt lines, records the server
/// refused before): `to - from` may exceed the records' own bytes by at most this much.
pub const MAX_SKIPPED_BYTES: u64 = 64 << 20;
/// Slices are at most 1/16 of the body and at least this many bytes of record text.
const MIN_SLICE_BYTES: usize = 128 << 10;

/// The request; records stay unparsed text borrowed from the body until [`parse_records`].
#[derive(Deserialize)]
pub(crate) struct IngestBody<'a> {
    entity: Option<String>,
    project: Option<String>,
    run_id: String,
    log_id: String,
    #[serde(deserialize_with = "crate::lenient::u64_")]
    from: u64,
    #[serde(deserialize_with = "crate::lenient::u64_")]
    to: u64,
    #[serde(borrow, deserialize_with = "crate::lenient::records")]
    records: Vec<(u64, &'a RawValue)>,
}

type Raw<'a> = (u64, &'a RawValue);

/// A refused record, named by its position.
fn bad_record(pos: u64, e: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidRecord { position: pos, message: e.to_string() }
}

fn parse_records(raw: &[Raw<'_>], run_id: &str, log_id: &str) -> ApiResult<Vec<(u64, Record)>> {
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
        // A panic is a server bug, never a verdict on a record: 500, and the agent retries.
        out.extend(
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(ApiError::internal("record parser panicked")))),
        );
        out
    });
    let mut records = Vec::with_capacity(raw.len());
    for part in parts {
        records.extend(part?);
    }
    Ok(records)
}

fn parse_slice(raw: &[Raw<'_>], run_id: &str, log_id: &str) -> ApiResult<Vec<(u64, Record)>> {
    raw.iter()
        .map(|(pos, text)| {
            let record = Record::parse(text.get().as_bytes()).map_err(|e| bad_record(*pos, e))?;
            check_record(&record).map_err(|e| bad_record(*pos, e))?;
            check_capture_record(&record, run_id, log_id).map_err(|e| bad_record(*pos, e))?;
            Ok((*pos, record))
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

/// The envelope's rules (the same as `POST /runs` for names); returns the run key.
fn check_envelope(body: &IngestBody<'_>, who: &Principal) -> ApiResult<RunKey> {
    let entity = body.entity.clone().unwrap_or_else(|| who.entity.clone());
    let project = body.project.clone().unwrap_or_else(|| DEFAULT_PROJECT.into());
    check_name("entity", &entity).map_err(|e| ApiError::limit(&e))?;
    check_name("project", &project).map_err(|e| ApiError::limit(&e))?;
    check_run_id(&body.run_id).map_err(|e| ApiError::limit(&e))?;
    if body.log_id.is_empty() || body.log_id.len() > 128 || body.log_id.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("log_id must be 1-128 characters, none of them control characters".into()));
    }
    check_positions(body.from, body.to, &body.records)?;
    Ok(RunKey { entity, project, run_id: body.run_id.clone() })
}

/// Positions increase inside `[from, to)`, and `to - from` is the records' bytes (each line
/// with its newline) plus at most [`MAX_SKIPPED_BYTES`] of lines left out.
pub(crate) fn check_positions(from: u64, to: u64, records: &[Raw<'_>]) -> ApiResult<()> {
    if from > to {
        return Err(ApiError::ContentMismatch(format!("from {from} is after to {to}")));
    }
    let mut prev: Option<u64> = None;
    let mut sent = 0u64;
    for (pos, text) in records {
        if *pos < from || *pos >= to || prev.is_some_and(|p| p >= *pos) {
            return Err(ApiError::ContentMismatch(format!(
                "record position {pos} is not increasing inside [{from}, {to})"
            )));
        }
        prev = Some(*pos);
        sent = sent.saturating_add(text.get().len() as u64 + 1);
    }
    let skipped = (to - from).saturating_sub(sent);
    if skipped > MAX_SKIPPED_BYTES {
        return Err(ApiError::ContentMismatch(format!(
            "[from, to) = [{from}, {to}) spans {skipped} bytes more than its records; at most {MAX_SKIPPED_BYTES} may be left out"
        )));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/ingest", operation_id = "ingest", tag = "ingest", request_body = crate::openapi::IngestRequest,
    responses((status = 200, description = "The batch is durable", body = crate::openapi::IngestAck)))]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    _slot: IngestPermit,
    RawBody(bytes): RawBody,
) -> ApiResult<Json<Json_>> {
    // Parsing a large batch takes milliseconds of CPU: it runs on the blocking pool with the
    // store work, not on the async runtime.
    let start = std::time::Instant::now();
    let (outcome, key, finished, points) = state.blocking(move |s| apply(s, &who, &bytes)).await?;
    state.metrics.ingested(outcome.applied, points, outcome.dropped_rows, start.elapsed().as_secs_f64());
    if finished && outcome.applied > 0 {
        compact_in_background(&state, key);
    }
    // `dropped`: history records refused because another attempt already wrote those steps;
    // `stop_requested`: the run was asked to stop (the agent interrupts its training process).
    Ok(Json(json!({"acked": outcome.acked, "applied": outcome.applied, "dropped": outcome.dropped_rows,
        "stop_requested": outcome.stop_requested})))
}

/// Bytes of record text per slice: 1/16 of the body, at least [`MIN_SLICE_BYTES`].
fn slice_bytes(body_len: usize) -> usize {
    (body_len / 16).max(MIN_SLICE_BYTES)
}

/// Splits `records` into slices of about `budget` bytes of text each.
fn slices<'r, 'a>(records: &'r [Raw<'a>], budget: usize) -> impl Iterator<Item = &'r [Raw<'a>]> {
    let mut rest = records;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut used = 0;
        let n = rest.iter().take_while(|(_, t)| {
            used += t.get().len();
            used <= budget
        });
        let n = n.count().max(1);
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

/// Checks, parses and applies one request body, slice by slice; returns the outcome, the run,
/// whether the batch held the run's `finish` and how many history values it carried.
fn apply(s: &AppState, who: &Principal, bytes: &[u8]) -> ApiResult<(IngestOutcome, RunKey, bool, usize)> {
    let body: IngestBody<'_> = parse_json(bytes)?;
    let key = check_envelope(&body, who)?;
    check_access(who, &key.entity, true)?;
    crate::auth::ensure_entity(s, who, &key.entity)?;
    let mut total =
        IngestOutcome { acked: body.to, applied: 0, created_run: false, dropped_rows: 0, stop_requested: false };
    let mut finished = false;
    let mut points = 0;
    let mut from = body.from;
    let mut pieces = slices(&body.records, slice_bytes(bytes.len())).peekable();
    loop {
        let piece = pieces.next().unwrap_or_default();
        // A slice ends where the next one starts; the last one ends at the batch's `to`.
        let to = pieces.peek().and_then(|p| p.first()).map_or(body.to, |(pos, _)| *pos);
        let records = parse_records(piece, &body.run_id, &body.log_id)?;
        for (_, r) in &records {
            match r {
                Record::Finish(_) => finished = true,
                Record::History(h) => points += h.data.len(),
                _ => {}
            }
        }
        let batch = IngestBatch { key: key.clone(), log_id: body.log_id.clone(), from, to, records };
        let outcome = s.store.apply_ingest(&batch)?;
        total.applied += outcome.applied;
        total.dropped_rows += outcome.dropped_rows;
        total.created_run |= outcome.created_run;
        total.acked = outcome.acked;
        total.stop_requested = outcome.stop_requested;
        from = to;
        if pieces.peek().is_none() {
            return Ok((total, key, finished, points));
        }
    }
}

/// A finished run's live tail is compacted into chunks; best effort, off the request path.
fn compact_in_background(state: &AppState, key: RunKey) {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let result = state.store.get_run(&key).map_err(|e| e.to_string()).and_then(|run| {
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
