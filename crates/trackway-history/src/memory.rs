//! [`MemoryHistory`]: the documented semantics in a few lines over ordered maps. A second,
//! independent backend for the conformance suite (so the suite cannot silently encode quirks of
//! the SQLite engine) and a fast store for other crates' tests. Not for production: nothing is
//! persisted and every query walks the run's rows.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::chart::{Buckets, exact_series, step_shift};
use crate::engine::write::numeric;
use crate::{ChartQuery, HistoryError, HistoryRow, HistoryStore, Result, RunKey, ScanPage, ScanQuery, Series, XAxis};

type Rows = BTreeMap<u64, HistoryRow>;

/// An in-memory history store.
#[derive(Default)]
pub struct MemoryHistory {
    runs: Mutex<HashMap<RunKey, Rows>>,
}

impl MemoryHistory {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, HashMap<RunKey, Rows>>> {
        self.runs.lock().map_err(|_| HistoryError::Internal("memory store poisoned".into()))
    }
}

fn restrict(r: &HistoryRow, keys: Option<&[String]>) -> Option<HistoryRow> {
    let Some(keys) = keys else { return Some(r.clone()) };
    if !keys.iter().all(|k| r.data.contains_key(k)) {
        return None;
    }
    let mut out = r.clone();
    out.data.retain(|k, _| keys.contains(k));
    Some(out)
}

/// (step, x, y) of the rows holding the metric (and the x metric), in step order.
fn points(rows: &Rows, metric: &str, x: &XAxis) -> Vec<(u64, f64, f64)> {
    let mut out = Vec::new();
    for r in rows.values() {
        let Some((y, _)) = r.data.get(metric).and_then(numeric) else { continue };
        let xv = match x {
            XAxis::Step => r.step as f64,
            XAxis::Runtime => r.rt,
            XAxis::Timestamp => r.ts,
            XAxis::Metric(m) => match r.data.get(m).and_then(numeric) {
                Some((v, _)) => v,
                None => continue,
            },
        };
        out.push((r.step, xv, y));
    }
    out
}

fn step_chart(run: RunKey, pts: &[(u64, f64, f64)], (lo, hi, shift): (u64, u64, u32), budget: usize) -> Series {
    let inside: Vec<&(u64, f64, f64)> = pts.iter().filter(|p| p.0 >= lo && p.0 <= hi).collect();
    if inside.len() <= budget {
        let xs: Vec<f64> = inside.iter().map(|p| p.1).collect();
        let ys: Vec<f64> = inside.iter().map(|p| p.2).collect();
        return exact_series(run, &xs, &ys);
    }
    let mut b = Buckets::default();
    for p in inside {
        b.add(p.0 >> shift, p.0, p.1, p.2);
    }
    b.into_series(run)
}

fn x_chart(run: RunKey, pts: &[(u64, f64, f64)], q: &ChartQuery, budget: usize) -> Series {
    let inside: Vec<&(u64, f64, f64)> = pts
        .iter()
        .filter(|p| !p.1.is_nan() && q.x_min.is_none_or(|a| p.1 >= a) && q.x_max.is_none_or(|z| p.1 <= z))
        .collect();
    if inside.len() <= budget {
        let xs: Vec<f64> = inside.iter().map(|p| p.1).collect();
        let ys: Vec<f64> = inside.iter().map(|p| p.2).collect();
        return exact_series(run, &xs, &ys);
    }
    let finite = || inside.iter().map(|p| p.1).filter(|v| v.is_finite());
    let lo = q.x_min.unwrap_or_else(|| finite().fold(f64::INFINITY, f64::min));
    let hi = q.x_max.unwrap_or_else(|| finite().fold(f64::NEG_INFINITY, f64::max));
    let width = if hi > lo { (hi - lo) / budget as f64 } else { 1.0 };
    let mut b = Buckets::default();
    for p in inside {
        let idx = ((p.1 - lo) / width).floor();
        let idx = if idx.is_nan() { 0.0 } else { idx.clamp(0.0, (budget - 1) as f64) };
        b.add(idx as u64, p.0, p.1, p.2);
    }
    b.into_series(run)
}

/// The chart of `q` from each run's `(step, x, y)` points in step order (`pts[i]` belongs to
/// `q.runs[i]`; `y` numeric per [`numeric_point`](crate::numeric_point)). The documented bucket
/// rules over plain points: the reference store's chart, and the one of backends that fetch
/// points with a query (PostgreSQL).
#[must_use]
pub fn chart_points(q: &ChartQuery, pts: &[Vec<(u64, f64, f64)>]) -> Vec<Series> {
    let budget = q.buckets.clamp(1, 100_000);
    if q.x != XAxis::Step {
        return q.runs.iter().zip(pts).map(|(&r, p)| x_chart(r, p, q, budget)).collect();
    }
    let all = pts.iter().flatten();
    let (dlo, dhi) = all.fold((u64::MAX, 0), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let clamp = |v: f64| v.clamp(0.0, i64::MAX as f64);
    let lo = q.x_min.map_or(dlo, |v| clamp(v.ceil()) as u64);
    let hi = q.x_max.map_or(dhi, |v| clamp(v.floor()) as u64);
    if lo > hi || q.x_min.is_some_and(f64::is_nan) || q.x_max.is_some_and(f64::is_nan) {
        return q.runs.iter().map(|&run| Series { run, ..Series::default() }).collect();
    }
    let plan = (lo, hi, step_shift(lo, hi, budget));
    q.runs.iter().zip(pts).map(|(&r, p)| step_chart(r, p, plan, budget)).collect()
}

/// Refuses rows no backend may store: steps above 2^63-1 and the reserved keys in the data.
///
/// # Errors
/// `Invalid` naming the first offending step or key.
pub fn validate_rows<'a>(rows: impl IntoIterator<Item = (u64, &'a crate::Map)>) -> Result<()> {
    for (step, data) in rows {
        if step > i64::MAX as u64 {
            return Err(HistoryError::Invalid(format!("step {step} is above 2^63-1")));
        }
        if let Some(k) = data.keys().find(|k| ["_step", "_runtime", "_timestamp"].contains(&k.as_str())) {
            return Err(HistoryError::Invalid(format!("history data may not contain {k}")));
        }
    }
    Ok(())
}

impl HistoryStore for MemoryHistory {
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        validate_rows(rows.iter().map(|r| (r.step, &r.data)))?;
        let mut runs = self.lock()?;
        let rs = runs.entry(run).or_default();
        for r in rows {
            let e = rs.entry(r.step).or_insert_with(|| HistoryRow { data: Default::default(), ..r.clone() });
            e.ts = r.ts;
            e.rt = r.rt;
            for (k, v) in &r.data {
                e.data.insert(k.clone(), v.clone());
            }
        }
        Ok(())
    }

    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>> {
        let runs = self.lock()?;
        let empty = Rows::new();
        let pts: Vec<Vec<(u64, f64, f64)>> =
            q.runs.iter().map(|r| points(runs.get(r).unwrap_or(&empty), &q.metric, &q.x)).collect();
        Ok(chart_points(q, &pts))
    }

    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
        let runs = self.lock()?;
        let Some(rows) = runs.get(&run) else { return Ok(ScanPage::default()) };
        let lo = q.after.map_or(0, |a| a.saturating_add(1)).max(q.min_step.unwrap_or(0));
        let hi = q.max_step.unwrap_or(u64::MAX);
        let limit = q.limit.max(1);
        if lo > hi {
            return Ok(ScanPage::default());
        }
        let out: Vec<HistoryRow> =
            rows.range(lo..=hi).filter_map(|(_, r)| restrict(r, q.keys.as_deref())).take(limit + 1).collect();
        Ok(ScanPage::from_overfetched(out, limit))
    }

    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
        let runs = self.lock()?;
        let Some(rows) = runs.get(&run) else { return Ok(Vec::new()) };
        let all: Vec<HistoryRow> = rows.values().filter_map(|r| restrict(r, keys)).collect();
        Ok(crate::sample_indices(all.len(), samples).into_iter().map(|i| all[i].clone()).collect())
    }

    fn keys(&self, run: RunKey) -> Result<Vec<String>> {
        let runs = self.lock()?;
        let mut out: Vec<String> = Vec::new();
        for r in runs.get(&run).into_iter().flat_map(BTreeMap::values) {
            for k in r.data.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        Ok(out)
    }

    fn delete_run(&self, run: RunKey) -> Result<()> {
        self.lock()?.remove(&run);
        Ok(())
    }

    fn compact(&self, _run: RunKey) -> Result<()> {
        Ok(())
    }
}
