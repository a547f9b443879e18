//! The filestream (`POST /files/{entity}/{project}/{run}/file_stream`) as ingest batches.
//!
//! A request carries chunks of the run's virtual files, each at a line offset:
//! `wandb-history.jsonl` (history rows), `wandb-events.jsonl` (system metrics), `output.log`
//! (console lines, `ERROR ` marks stderr), `wandb-summary.json` (the whole summary, offset 0)
//! and, at the end, `complete`/`exitcode`. Each appendable file becomes one batch of Trackway
//! records under its own log id ([`crate::logs`]) with the line offsets as positions, applied
//! through `MetadataStore::apply_ingest` like the agent's batches: lines below the log's
//! high-water mark (a retry) are skipped, so a resent request changes nothing. The summary and
//! the exit replace state and go through the state log after the rows they follow.
//!
//! A line that is not a valid record is skipped and logged, never refused: wandb does not retry
//! a 400 and would stop streaming the whole run (its "dead filestream").

use std::collections::BTreeMap;

use serde::Deserialize;
use trackway_store::{IngestBatch, MetadataStore, RunKey};
use trackway_types::limits::check_record;
use trackway_types::{FinishRecord, HistoryRecord, Record, SummaryRecord};
use trackway_types::{Map, Value};

use crate::shapes::{parse_object, split_console_line, summary_from_wandb};
use crate::{Result, logs};

pub const HISTORY_FILE: &str = "wandb-history.jsonl";
pub const EVENTS_FILE: &str = "wandb-events.jsonl";
pub const OUTPUT_FILE: &str = "output.log";
pub const SUMMARY_FILE: &str = "wandb-summary.json";

/// One file's chunk: `content` are lines starting at line `offset`.
#[derive(Debug, Deserialize)]
pub struct Chunk {
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub content: Vec<String>,
}

/// The body of one filestream request.
#[derive(Debug, Default, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub files: BTreeMap<String, Chunk>,
    #[serde(default)]
    pub complete: Option<bool>,
    #[serde(default)]
    pub exitcode: Option<i64>,
    #[serde(default)]
    pub preempting: Option<bool>,
}

/// What one request did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub records: usize,
    pub skipped_lines: usize,
}

fn num(v: Option<Value>) -> Option<f64> {
    v.as_ref().and_then(Value::as_f64)
}

/// A history line as a history record: `_step`, `_runtime`, `_timestamp` become its fields.
fn history_record(line: &str, fallback_step: u64) -> Result<Record> {
    let mut data = parse_object(line)?;
    let step = match data.shift_remove("_step") {
        Some(Value::Int(n)) => u64::try_from(n).unwrap_or(fallback_step),
        Some(Value::UInt(n)) => n,
        Some(Value::Float(f)) if f >= 0.0 && f.fract() == 0.0 => f as u64,
        _ => fallback_step,
    };
    let rt = num(data.shift_remove("_runtime")).unwrap_or(0.0);
    let ts = num(data.shift_remove("_timestamp")).unwrap_or(0.0);
    Ok(Record::History(HistoryRecord { step, ts, rt, data }))
}

/// A system-metrics line as a `stats` record: `system.x` becomes Trackway's `system/x`.
fn stats_record(line: &str) -> Result<Record> {
    let doc = parse_object(line)?;
    let ts = doc.get("_timestamp").and_then(Value::as_f64).unwrap_or(0.0);
    let data: Map = doc
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| match k.strip_prefix("system.") {
            Some(rest) => (format!("system/{rest}"), v),
            None => (k, v),
        })
        .collect();
    let mut raw = Map::new();
    raw.insert("ts".into(), Value::Float(ts));
    raw.insert("data".into(), Value::Map(data));
    Ok(Record::Unknown { t: "stats".into(), raw })
}

fn output_record(line: &str, number: u64) -> Record {
    let (stream, ts, text) = split_console_line(line);
    let mut raw = Map::new();
    raw.insert("stream".into(), Value::Str(stream.into()));
    raw.insert("line".into(), Value::UInt(number));
    if let Some(ts) = ts {
        raw.insert("ts".into(), Value::Float(ts));
    }
    raw.insert("text".into(), Value::Str(text.into()));
    Record::Unknown { t: "output".into(), raw }
}

/// The batch of one appendable file's chunk; invalid lines are left out (and counted).
fn line_batch(
    key: &RunKey,
    log_id: &str,
    chunk: &Chunk,
    out: &mut Applied,
    convert: impl Fn(&str, u64) -> Result<Record>,
) -> IngestBatch {
    let mut records = Vec::with_capacity(chunk.content.len());
    for (i, line) in chunk.content.iter().enumerate() {
        let pos = chunk.offset + i as u64;
        match convert(line, pos)
            .and_then(|r| check_record(&r).map(|()| r).map_err(|e| crate::WandbError::BadRequest(e.to_string())))
        {
            Ok(r) => records.push((pos, r)),
            Err(error) => {
                out.skipped_lines += 1;
                tracing::warn!(run = %key, log_id, line = pos, %error, "wandb filestream line skipped");
            }
        }
    }
    let to = chunk.offset + chunk.content.len() as u64;
    IngestBatch { key: key.clone(), log_id: log_id.into(), from: chunk.offset, to, records }
}

/// Applies whole-state records (summary, exit) at the state log's current mark.
///
/// # Errors
/// Store errors.
pub fn apply_state(store: &dyn MetadataStore, key: &RunKey, records: Vec<Record>) -> Result<usize> {
    if records.is_empty() {
        return Ok(0);
    }
    let from = store.ingest_mark(key, logs::STATE)?;
    let to = from + records.len() as u64;
    let records = (from..).zip(records).collect();
    let batch = IngestBatch { key: key.clone(), log_id: logs::STATE.into(), from, to, records };
    Ok(store.apply_ingest(&batch)?.applied)
}

/// `run.mark_preempting()`: the run says it is about to be stopped by its scheduler and will be
/// resumed. Trackway has no run state for that (a run is running until it finishes or crashes),
/// so it is kept as `Run.metadata.preempting` (the time it was announced), readable through the
/// API and shown with the run's metadata.
fn preempting_record() -> Record {
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let mut metadata = Map::new();
    metadata.insert("preempting".into(), Value::Float(ts));
    Record::Meta(trackway_types::MetaRecord { metadata, ..Default::default() })
}

/// Console lines sent again at an offset the output log already covers: wandb redraws a line
/// (a `\r` progress bar) by resending it at its old offset. They replace the stored text (a
/// retried request writes the same text again, which changes nothing); lines past the mark
/// are new and go through the ingest batch.
fn rewrite_console(store: &dyn MetadataStore, key: &RunKey, chunk: &Chunk) -> Result<usize> {
    if chunk.content.is_empty() {
        return Ok(0);
    }
    let mark = store.ingest_mark(key, logs::OUTPUT)?;
    if chunk.offset >= mark {
        return Ok(0);
    }
    let lines: Vec<trackway_store::OutputLine> = chunk
        .content
        .iter()
        .zip(chunk.offset..mark)
        .map(|(line, n)| {
            let (stream, ts, text) = split_console_line(line);
            trackway_store::OutputLine { line: n, stream: stream.into(), text: text.into(), ts }
        })
        .collect();
    Ok(store.rewrite_output(key, logs::OUTPUT, &lines)?)
}

/// The answer to a filestream request. `stopped: true` is wandb's "Stop run": wandb-core
/// answers the SDK's stop poll from it and the SDK interrupts the script's main thread.
#[must_use]
pub fn answer(run: &trackway_store::Run) -> serde_json::Value {
    serde_json::json!({"exitcode": null, "limits": {}, "stopped": run.stop_pending()})
}

/// Turns one line at a line number into a record.
type Convert = fn(&str, u64) -> Result<Record>;

/// Applies one filestream request to the run `key`.
///
/// # Errors
/// Store errors (the SDK retries a 5xx with the same offsets).
pub fn apply(store: &dyn MetadataStore, key: &RunKey, req: &Request) -> Result<Applied> {
    let mut out = Applied::default();
    let streams: [(&str, &str, Convert); 3] = [
        (HISTORY_FILE, logs::HISTORY, history_record),
        (EVENTS_FILE, logs::EVENTS, |l, _| stats_record(l)),
        (OUTPUT_FILE, logs::OUTPUT, |l, n| Ok(output_record(l, n))),
    ];
    let mut runtime = None;
    if let Some(chunk) = req.files.get(OUTPUT_FILE) {
        out.records += rewrite_console(store, key, chunk)?;
    }
    for (file, log_id, convert) in streams {
        let Some(chunk) = req.files.get(file) else { continue };
        let batch = line_batch(key, log_id, chunk, &mut out, convert);
        if let Some(Record::History(h)) = batch.records.last().map(|(_, r)| r) {
            runtime = Some(h.rt);
        }
        out.records += store.apply_ingest(&batch)?.applied;
    }
    let mut state = Vec::new();
    if let Some(line) = req.files.get(SUMMARY_FILE).and_then(|c| c.content.last()) {
        match summary_from_wandb(line) {
            Ok(full) => {
                runtime = full.get("_runtime").and_then(Value::as_f64).or(runtime);
                state.push(Record::Summary(SummaryRecord { full: Some(full), ..SummaryRecord::default() }));
            }
            Err(error) => tracing::warn!(run = %key, %error, "wandb summary skipped"),
        }
    }
    if req.preempting == Some(true) {
        state.push(preempting_record());
    }
    if req.complete == Some(true) {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let rt = runtime.unwrap_or(0.0);
        state.push(Record::Finish(FinishRecord { exit_code: req.exitcode.or(Some(0)), ts, rt, crashed: false }));
    }
    out.records += apply_state(store, key, state)?;
    Ok(out)
}
