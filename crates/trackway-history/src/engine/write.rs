//! Ingest: split rows into per-key numeric tail segments and non-numeric side rows.

use std::collections::HashMap;

use super::meta::{self, SeriesMeta, step_to_sql};
use super::pyramid::NLEVELS;
use super::{COALESCE_TAIL_ROWS, COMPACT_TAIL, KEY_RT, KEY_TS, Tables, compact};
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
    let mut bufs: Vec<KeyBuf> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let ts = slot(conn, run, KEY_TS, &mut bufs, &mut index)?;
    let rt = slot(conn, run, KEY_RT, &mut bufs, &mut index)?;
    // Slots of the previous row's keys: rows of one loop nearly always repeat the same keys in
    // the same order, and comparing a few short strings is cheaper than hashing each of them.
    let mut prev: Option<&Map> = None;
    let mut prev_slots: Vec<usize> = Vec::new();
    for row in rows {
        step_to_sql(row.step)?;
        bufs[ts].points.push(row.step, row.ts, KIND_FLOAT);
        bufs[rt].points.push(row.step, row.rt, KIND_FLOAT);
        if !prev.is_some_and(|p| same_keys(p, row.data)) {
            prev_slots.clear();
            for k in row.data.keys() {
                if meta::is_reserved(k) || k == "_step" {
                    return Err(HistoryError::Invalid(format!("history data may not contain {k}")));
                }
                prev_slots.push(slot(conn, run, k, &mut bufs, &mut index)?);
            }
            prev = Some(row.data);
        }
        for (&i, v) in prev_slots.iter().zip(row.data.values()) {
            put_value(conn, &mut bufs[i], row.step, v)?;
        }
    }
    for b in &mut bufs {
        flush(conn, b)?;
    }
    Ok(())
}

fn same_keys(a: &Map, b: &Map) -> bool {
    a.len() == b.len() && a.keys().zip(b.keys()).all(|(x, y)| x == y)
}

fn slot<'a>(
    conn: &mut dyn Tables,
    run: RunKey,
    name: &'a str,
    bufs: &mut Vec<KeyBuf>,
    index: &mut HashMap<&'a str, usize>,
) -> Result<usize> {
    if let Some(&i) = index.get(name) {
        return Ok(i);
    }
    let key = meta::key_id(conn, name)?;
    let mut meta = meta::series_or_new(conn, run, key)?;
    let mut dirty = false;
    if meta.min_level < 0 && meta::is_reserved(name) {
        // _timestamp/_runtime are read as x values, never charted as y: no pyramid.
        meta.min_level = NLEVELS;
        dirty = true;
    }
    bufs.push(KeyBuf { meta, points: Points::default(), dirty });
    index.insert(name, bufs.len() - 1);
    Ok(bufs.len() - 1)
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

fn flush(conn: &mut dyn Tables, b: &mut KeyBuf) -> Result<()> {
    let n = b.points.len();
    if n > 0 {
        let blob = codec::encode_points(&b.points, false)?;
        conn.insert_tail(b.meta.run, b.meta.key, n as i64, &blob)?;
        let (lo, hi) = min_max(&b.points.steps);
        let m = &mut b.meta;
        m.n_tail += n as i64;
        m.tail_rows += 1;
        m.tail_min = Some(m.tail_min.map_or(lo, |t| t.min(lo)));
        m.tail_max = Some(m.tail_max.map_or(hi, |t| t.max(hi)));
        b.dirty = true;
    }
    if b.dirty {
        conn.save_series(&b.meta)?;
    }
    if b.meta.n_tail >= COMPACT_TAIL {
        compact::compact_series(conn, b.meta.run, b.meta.key, true)?;
    } else if b.meta.tail_rows >= COALESCE_TAIL_ROWS {
        compact::coalesce_tail(conn, &mut b.meta)?;
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
