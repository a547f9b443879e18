//! Full rows: `scan` pages and `sampled`.

use super::compact::MAX_STEP;
use super::meta::{self, SeriesMeta};
use super::{KEY_RT, KEY_TS, Tables, read};
use crate::codec::{KIND_INT, KIND_UINT, Points};
use crate::{HistoryRow, Map, Result, RunKey, ScanPage, ScanQuery, Value};

/// Rows are discovered in windows of this many steps when a key filter may reject rows.
const WINDOW: usize = 2048;

/// The value a numeric point `(v, kind)` of [`numeric_point`](crate::numeric_point) stands for.
#[must_use]
pub fn value_of(v: f64, kind: u8) -> Value {
    match kind {
        KIND_INT => Value::Int(v as i64),
        KIND_UINT => Value::UInt(v as u64),
        _ => Value::Float(v),
    }
}

/// The series a query reads: the row series (ts, rt) and the data keys.
struct RunSeries {
    ts: SeriesMeta,
    rt: Option<SeriesMeta>,
    keys: Vec<(String, SeriesMeta)>,
    /// True when a key filter is given (rows must hold all keys).
    filtered: bool,
}

fn run_series(conn: &mut dyn Tables, run: RunKey, keys: Option<&[String]>) -> Result<Option<RunSeries>> {
    let all = conn.run_series(run)?;
    let find = |conn: &mut dyn Tables, name: &str| -> Result<Option<SeriesMeta>> {
        match all.iter().find(|(_, n)| n == name) {
            Some((id, _)) => conn.load_series(run, *id),
            None => Ok(None),
        }
    };
    let Some(ts) = find(conn, KEY_TS)? else { return Ok(None) };
    let rt = find(conn, KEY_RT)?;
    let mut out = Vec::new();
    match keys {
        Some(ks) => {
            for k in ks {
                match find(conn, k)? {
                    Some(m) => out.push((k.clone(), m)),
                    None => return Ok(None), // no row can hold a key the run never logged
                }
            }
        }
        None => {
            for (id, name) in all.iter().filter(|(_, n)| !meta::is_reserved(n)) {
                if let Some(m) = conn.load_series(run, *id)? {
                    out.push((name.clone(), m));
                }
            }
        }
    }
    Ok(Some(RunSeries { ts, rt, keys: out, filtered: keys.is_some() }))
}

/// Build the rows at `steps` (sorted, from the ts series), keeping those that hold every key
/// when filtered.
fn build_rows(conn: &mut dyn Tables, rs: &RunSeries, steps: &Points) -> Result<Vec<HistoryRow>> {
    let (Some(&lo), Some(&hi)) = (steps.steps.first(), steps.steps.last()) else { return Ok(Vec::new()) };
    let mut rows: Vec<HistoryRow> = (0..steps.len())
        .map(|i| HistoryRow { step: steps.steps[i], ts: steps.vals[i], rt: f64::NAN, data: Map::new() })
        .collect();
    let find = |s: u64| steps.steps.binary_search(&s).ok();
    if let Some(rt) = &rs.rt {
        let p = read::resolve(conn, rt, lo, hi, true, None)?;
        for i in 0..p.len() {
            if let Some(r) = find(p.steps[i]) {
                rows[r].rt = p.vals[i];
            }
        }
    }
    for (name, m) in &rs.keys {
        if m.has_numeric() {
            let p = read::resolve(conn, m, lo, hi, true, None)?;
            for i in 0..p.len() {
                if let Some(r) = find(p.steps[i]) {
                    rows[r].data.insert(name.clone(), value_of(p.vals[i], p.kinds[i]));
                }
            }
        }
        for (s, json) in read::load_objs(conn, m, lo, hi)? {
            if let Some(r) = find(s) {
                rows[r].data.insert(name.clone(), trackway_types::from_json(&json)?);
            }
        }
    }
    if rs.filtered {
        let n = rs.keys.len();
        rows.retain(|r| r.data.len() == n);
    }
    Ok(rows)
}

pub(crate) fn scan(conn: &mut dyn Tables, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
    let limit = q.limit.max(1);
    let mut lo = q.min_step.unwrap_or(0);
    if let Some(a) = q.after {
        if a >= MAX_STEP {
            return Ok(ScanPage::default());
        }
        lo = lo.max(a + 1);
    }
    let hi = q.max_step.unwrap_or(MAX_STEP).min(MAX_STEP);
    let Some(rs) = run_series(conn, run, q.keys.as_deref())? else { return Ok(ScanPage::default()) };
    let window = if rs.filtered { WINDOW.max(limit + 1) } else { limit + 1 };
    let mut out: Vec<HistoryRow> = Vec::new();
    while lo <= hi && out.len() <= limit {
        let steps = read::resolve(conn, &rs.ts, lo, hi, true, Some(window))?;
        let Some(&last) = steps.steps.last() else { break };
        out.extend(build_rows(conn, &rs, &steps)?);
        if steps.len() < window || last >= hi {
            break;
        }
        lo = last + 1;
    }
    Ok(ScanPage::from_overfetched(out, limit))
}

/// Indices of `samples` evenly spaced items out of `n`, first and last included.
#[must_use]
pub fn sample_indices(n: usize, samples: usize) -> Vec<usize> {
    if samples == 0 || n == 0 {
        return Vec::new();
    }
    if n <= samples {
        return (0..n).collect();
    }
    if samples == 1 {
        return vec![n - 1];
    }
    let mut v: Vec<usize> =
        (0..samples).map(|i| (i as u128 * (n - 1) as u128 / (samples - 1) as u128) as usize).collect();
    v.dedup();
    v
}

pub(crate) fn sampled(
    conn: &mut dyn Tables,
    run: RunKey,
    keys: Option<&[String]>,
    samples: usize,
) -> Result<Vec<HistoryRow>> {
    let Some(rs) = run_series(conn, run, keys)? else { return Ok(Vec::new()) };
    let all = read::resolve(conn, &rs.ts, 0, MAX_STEP, true, None)?;
    let candidates = if rs.filtered { rows_with_all_keys(conn, &rs, all)? } else { all };
    let mut picked = Points::default();
    for i in sample_indices(candidates.len(), samples) {
        picked.push(candidates.steps[i], candidates.vals[i], candidates.kinds[i]);
    }
    build_rows(conn, &rs, &picked)
}

/// The row steps holding every key of the filter.
fn rows_with_all_keys(conn: &mut dyn Tables, rs: &RunSeries, mut rows: Points) -> Result<Points> {
    for (_, m) in &rs.keys {
        let mut have: Vec<u64> = read::resolve(conn, m, 0, MAX_STEP, false, None)?.steps;
        have.extend(read::load_objs(conn, m, 0, MAX_STEP)?.into_iter().map(|(s, _)| s));
        have.sort_unstable();
        let mut kept = Points::default();
        for i in 0..rows.len() {
            if have.binary_search(&rows.steps[i]).is_ok() {
                kept.push(rows.steps[i], rows.vals[i], rows.kinds[i]);
            }
        }
        rows = kept;
    }
    Ok(rows)
}
