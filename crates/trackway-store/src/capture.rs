//! Records of the automatic capture (docs/capture.md section 1) that the store keeps beside a
//! run's history: `output` lines of `run.jsonl` and the `stream`/`stats` records of the agent's
//! `system.jsonl`. They reach the store as `Record::Unknown`; these parsers check their shape.
//!
//! System metrics are history-like: a `stats` record becomes a history row of the run's
//! **system series**, which the history engine stores under the owner key
//! [`system_owner`]`(run pk) = -pk`, so it can never merge into the run's own history rows. Its
//! step is the record's `ts` in milliseconds (there are no steps; a resumed attempt's new
//! `system.jsonl` therefore never overwrites the old one's points), `_timestamp` is `ts` and
//! `_runtime` is `ts` minus the run's `created_at`.

use trackway_types::{HistoryRecord, Map, Value};

/// The history owner key of a run's system-metrics series.
#[must_use]
pub fn system_owner(run_pk: i64) -> i64 {
    -run_pk
}

/// A console line as the log numbers it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputRecord {
    pub line: u64,
    pub stream: String,
    pub text: String,
    pub ts: Option<f64>,
}

fn number(raw: &Map, key: &str) -> Option<f64> {
    raw.get(key).and_then(Value::as_f64)
}

/// Parses an `output` record: `{"t":"output","stream":"out|err","line":N,"ts":..,"text":..}`.
///
/// # Errors
/// A message naming the field that is missing or malformed.
pub fn parse_output(raw: &Map) -> Result<OutputRecord, String> {
    let line = match raw.get("line") {
        Some(Value::Int(n)) => u64::try_from(*n).map_err(|_| "`line` must not be negative".to_owned())?,
        Some(Value::UInt(n)) => *n,
        _ => return Err("`line` must be a non-negative integer".into()),
    };
    if line > i64::MAX as u64 / 2 {
        return Err("`line` is out of range".into());
    }
    let stream = match raw.get("stream").and_then(Value::as_str) {
        Some(s @ ("out" | "err")) => s.to_owned(),
        _ => return Err("`stream` must be \"out\" or \"err\"".into()),
    };
    let text = raw.get("text").and_then(Value::as_str).ok_or("`text` must be a string")?.to_owned();
    Ok(OutputRecord { line, stream, text, ts: number(raw, "ts") })
}

/// Parses a `stats` record into `(ts, data)`.
///
/// # Errors
/// A message naming the field that is missing or malformed.
pub fn parse_stats(raw: &Map) -> Result<(f64, &Map), String> {
    let ts = number(raw, "ts").filter(|t| t.is_finite() && *t >= 0.0).ok_or("`ts` must be a non-negative number")?;
    let data = raw.get("data").and_then(Value::as_map).ok_or("`data` must be an object")?;
    Ok((ts, data))
}

/// Checks a `stream` header (`{"t":"stream","v":1,"kind":"system","log_id":..,"run_id":..}`)
/// against the batch it came in.
///
/// # Errors
/// When `kind` is not `system` or the header names another run or log.
pub fn check_stream_header(raw: &Map, run_id: &str, log_id: &str) -> Result<(), String> {
    if raw.get("kind").and_then(Value::as_str) != Some("system") {
        return Err("`kind` must be \"system\"".into());
    }
    if raw.get("run_id").and_then(Value::as_str).is_some_and(|r| r != run_id) {
        return Err(format!("the header names another run than {run_id}"));
    }
    if raw.get("log_id").and_then(Value::as_str).is_some_and(|l| l != log_id) {
        return Err(format!("the header's log_id differs from the batch's {log_id}"));
    }
    Ok(())
}

/// The system-series row of a `stats` record of a run created at `created_at`.
#[must_use]
pub fn stats_row(ts: f64, data: &Map, created_at: f64) -> HistoryRecord {
    // ts is finite and non-negative (parse_stats), so the cast saturates at worst.
    let step = (ts * 1000.0).round() as u64;
    HistoryRecord { step, ts, rt: ts - created_at, data: data.clone() }
}
