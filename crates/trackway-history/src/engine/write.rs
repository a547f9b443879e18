//! Ingest: split rows into per-key numeric tail segments and non-numeric side rows.

use std::collections::HashMap;

use super::meta::{self, SeriesMeta, step_to_sql};
use super::pyramid::NLEVELS;
use super::{BlobRow, COALESCE_TAIL_ROWS, COMPACT_TAIL, KEY_RT, KEY_TS, Tables, compact};
use crate::codec::{self, KIND_FLOAT, KIND_INT, KIND_TOMBSTONE, KIND_UINT, Points};
use crate::{HistoryError, HistoryRowRef, Map, Result, RunKey, Value};

/// Largest integer magnitude that is exact as f64.
const EXACT_INT: u64 = 1 << 53;

/// How a value is stored: as a numeric point (value, kind) or beside, as JSON. The kind
/// (float, int, uint) keeps the exact variant.
#[must_use]
pub fn numeric(v: &Value) -> Option<(f64, u8)> {
    match v {
        Value::Float(f) => Some((*f, KIND_FLOAT)),
        Value::Int(i) if i.unsigned_abs() <= EXACT_INT => Some((*i as f64, KIND_INT)),
        Value::UInt(u) if *u <= EXACT_INT => Some((*u as f64, KIND_UINT)),
        _ => None,
    }
}

/// Per-key state while splitting one batch.
struct KeyBuf {
    meta: SeriesMeta,
    points: Points,
    dirty: bool,
}

pub(crate) fn append_refs(conn: &mut dyn Tables, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let names = batch_keys(rows)?;
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut bufs = open_series(conn, run, &names)?;
    let (ts, rt) = (0, 1);
    // Slots of the previous row's keys: rows of one loop nearly always repeat the same keys in
    // the same order, and comparing a few short strings is cheaper than hashing each of them.
    let mut prev: Option<&Map> = None;
    let mut prev_slots: Vec<usize> = Vec::new();
    for row in rows {
        step_to_sql(row.step)?;
        bufs[ts].points.push(row.step, row.ts, KIND_FLOAT);
        bufs[rt].points.push(row.step, row.rt, KIND_FLOAT);
        if !prev.is_some_and(|p| same_keys(p, row.data)) {
            prev_slots = row
                .data
                .keys()
                .map(|k| index.get(k.as_str()).copied())
                .collect::<Option<_>>()
                .ok_or_else(|| HistoryError::Internal("a key of the batch has no series".into()))?;
            prev = Some(row.data);
        }
        for (&i, v) in prev_slots.iter().zip(row.data.values()) {
            put_value(conn, &mut bufs[i], row.step, v)?;
        }
    }
    flush(conn, &mut bufs)
}

/// The batch's distinct keys: the reserved ones first, then the data keys in first-seen order.
fn batch_keys<'a>(rows: &[HistoryRowRef<'a>]) -> Result<Vec<&'a str>> {
    let mut names = vec![KEY_TS, KEY_RT];
    let mut seen: std::collections::HashSet<&str> = names.iter().copied().collect();
    let mut prev: Option<&Map> = None;
    for row in rows {
        if prev.is_some_and(|p| same_keys(p, row.data)) {
            continue;
        }
        for k in row.data.keys() {
            if meta::is_reserved(k) || k == "_step" {
                return Err(HistoryError::Invalid(format!("history data may not contain {k}")));
            }
            if seen.insert(k.as_str()) {
                names.push(k.as_str());
            }
        }
        prev = Some(row.data);
    }
    Ok(names)
}

fn same_keys(a: &Map, b: &Map) -> bool {
    a.len() == b.len() && a.keys().zip(b.keys()).all(|(x, y)| x == y)
}

/// The series of `names` (created where new), in a few statements for the whole batch.
fn open_series(conn: &mut dyn Tables, run: RunKey, names: &[&str]) -> Result<Vec<KeyBuf>> {
    let keys = meta::key_ids(conn, names)?;
    let metas = meta::series_or_new_of_keys(conn, run, &keys)?;
    Ok(names
        .iter()
        .zip(metas)
        .map(|(name, mut meta)| {
            let mut dirty = false;
            if meta.min_level < 0 && meta::is_reserved(name) {
                // _timestamp/_runtime are read as x values, never charted as y: no pyramid.
                meta.min_level = NLEVELS;
                dirty = true;
            }
            KeyBuf { meta, points: Points::default(), dirty }
        })
        .collect())
}

fn put_value(conn: &mut dyn Tables, b: &mut KeyBuf, step: u64, v: &Value) -> Result<()> {
    let (run, key) = (b.meta.run, b.meta.key);
    let st = step_to_sql(step)?;
    if let Some((f, kind)) = numeric(v) {
        if b.meta.has_obj {
            // A numeric write replaces an earlier non-numeric value at this step.
            conn.delete_obj(run, key, st)?;
        }
        b.points.push(step, f, kind);
        return Ok(());
    }
    let json = serde_json::to_string(v)?;
    conn.put_obj(run, key, st, &json)?;
    if !b.meta.has_obj {
        b.meta.has_obj = true;
        b.dirty = true;
    }
    if b.meta.has_numeric() || b.points.len() > 0 {
        // Hide an earlier numeric value at this step: the later write wins.
        b.points.push(step, 0.0, KIND_TOMBSTONE);
    }
    Ok(())
}

/// Every series' new tail segment in one statement, their statistics in another, then the
/// compactions that are due.
fn flush(conn: &mut dyn Tables, bufs: &mut [KeyBuf]) -> Result<()> {
    let mut tails = Vec::new();
    for b in bufs.iter_mut() {
        let n = b.points.len();
        if n == 0 {
            continue;
        }
        let data = codec::encode_points(&b.points, false)?;
        tails.push(BlobRow { run: b.meta.run, key: b.meta.key, level: 0, span: (0, 0), n: n as i64, data });
        let (lo, hi) = min_max(&b.points.steps);
        let m = &mut b.meta;
        m.n_tail += n as i64;
        m.tail_rows += 1;
        m.tail_min = Some(m.tail_min.map_or(lo, |t| t.min(lo)));
        m.tail_max = Some(m.tail_max.map_or(hi, |t| t.max(hi)));
        b.dirty = true;
    }
    conn.insert_tails(&tails)?;
    let dirty: Vec<SeriesMeta> = bufs.iter().filter(|b| b.dirty).map(|b| b.meta.clone()).collect();
    conn.save_series_many(&dirty)?;
    for b in bufs.iter_mut() {
        if b.meta.n_tail >= COMPACT_TAIL {
            compact::compact_loaded(conn, b.meta.clone(), true)?;
        } else if b.meta.tail_rows >= COALESCE_TAIL_ROWS {
            compact::coalesce_tail(conn, &mut b.meta)?;
        }
    }
    Ok(())
}

pub(crate) fn min_max(steps: &[u64]) -> (u64, u64) {
    let mut lo = u64::MAX;
    let mut hi = 0;
    for &s in steps {
        lo = lo.min(s);
        hi = hi.max(s);
    }
    (lo, hi)
}
