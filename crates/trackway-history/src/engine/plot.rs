//! Chart queries: pyramid + ragged edges + tail for the step axis, joined scans otherwise.

use super::compact::MAX_STEP;
use super::meta::SeriesMeta;
use super::prefetch::{Need, Prefetched, RUNS_PER_READ};
use super::pyramid::{self, LEVEL0_SHIFT, NLEVELS};
use super::{Backend, KEY_RT, KEY_TS, Tables, read, read_with};
use crate::chart::{Buckets, exact_series, step_shift};
use crate::codec::Points;
use crate::{ChartQuery, HistoryError, Result, RunKey, Series, XAxis};

/// A run's raw chunks are read with its group's (not streamed) when it has at most this many
/// compacted points, or the range spans fewer steps (a step holds at most one point).
const PREFETCH_CHUNK_POINTS: i64 = 4 * super::CHUNK as i64;

/// Largest bucket budget honoured per run.
const MAX_BUCKETS: usize = 100_000;

/// What every run of one query shares.
struct Plan {
    x: Option<i64>,
    budget: usize,
    /// Step axis: the common inclusive step range and bucket shift.
    steps: Option<(u64, u64, u32)>,
    x_min: Option<f64>,
    x_max: Option<f64>,
}

/// The metric's and the x axis' key ids and the series statistics of every run, from one snapshot.
type Found = Option<(Option<i64>, Vec<(RunKey, Option<SeriesMeta>)>)>;

fn find_series(t: &mut dyn Tables, q: &ChartQuery) -> Result<Found> {
    let Some(metric) = t.find_key(&q.metric)? else { return Ok(None) };
    let x = match &q.x {
        XAxis::Step => None,
        XAxis::Runtime => t.find_key(KEY_RT)?,
        XAxis::Timestamp => t.find_key(KEY_TS)?,
        XAxis::Metric(name) => t.find_key(name)?,
    };
    if q.x != XAxis::Step && x.is_none() {
        return Ok(None);
    }
    let metas = t.load_series_of_runs(&q.runs, metric)?;
    Ok(Some((x, q.runs.iter().copied().zip(metas).collect())))
}

pub(crate) fn chart(h: &dyn Backend, q: &ChartQuery) -> Result<Vec<Series>> {
    let empty = || q.runs.iter().map(|&run| Series { run, ..Series::default() }).collect();
    // One snapshot for the series statistics; workers read chunks/pages with their own.
    let Some((x, metas)) = read_with(h, |t| find_series(t, q))? else { return Ok(empty()) };
    let budget = q.buckets.clamp(1, MAX_BUCKETS);
    let steps = if q.x == XAxis::Step { step_plan(q, &metas, budget) } else { None };
    if q.x == XAxis::Step && steps.is_none() {
        return Ok(empty());
    }
    let plan = Plan { x, budget, steps, x_min: q.x_min, x_max: q.x_max };
    let threads = if q.runs.len() < 16 { 1 } else { h.threads().clamp(1, q.runs.len()) };
    let per = metas.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            metas.chunks(per).map(|runs| s.spawn(|| read_with(h, |t| chart_runs(t, &plan, runs)))).collect();
        let mut out = Vec::with_capacity(q.runs.len());
        for hd in handles {
            let part = hd.join().map_err(|_| HistoryError::Internal("chart worker panicked".into()))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// The common step range of the query (from x_min/x_max or the runs' data) and bucket shift.
fn step_plan(q: &ChartQuery, metas: &[(RunKey, Option<SeriesMeta>)], budget: usize) -> Option<(u64, u64, u32)> {
    if q.x_min.is_some_and(f64::is_nan) || q.x_max.is_some_and(f64::is_nan) {
        return None;
    }
    let clamp = |v: f64| v.clamp(0.0, MAX_STEP as f64);
    let (mut dlo, mut dhi) = (u64::MAX, 0u64);
    for (a, b) in metas.iter().filter_map(|(_, m)| m.as_ref()?.step_range()) {
        dlo = dlo.min(a);
        dhi = dhi.max(b);
    }
    let lo = q.x_min.map_or(dlo, |v| clamp(v.ceil()) as u64);
    let hi = q.x_max.map_or(dhi, |v| clamp(v.floor()) as u64);
    (lo <= hi).then(|| (lo, hi, step_shift(lo, hi, budget)))
}

fn chart_runs(t: &mut dyn Tables, plan: &Plan, runs: &[(RunKey, Option<SeriesMeta>)]) -> Result<Vec<Series>> {
    let mut out = Vec::with_capacity(runs.len());
    for group in runs.chunks(RUNS_PER_READ) {
        let pre = match plan.steps {
            Some(steps) => prefetch(t, plan, steps, group)?,
            None => Prefetched::default(),
        };
        for (run, m) in group {
            let s = match m {
                None => Series { run: *run, ..Series::default() },
                Some(m) => match plan.steps {
                    Some((lo, hi, shift)) => step_series(t, &pre, m, lo, hi, shift, plan.budget)?,
                    None => x_series(t, m, plan)?,
                },
            };
            out.push(s);
        }
    }
    Ok(out)
}

/// The pyramid pages and tails the group's step series will read, in two batched reads.
fn prefetch(
    t: &mut dyn Tables,
    plan: &Plan,
    (lo, hi, shift): (u64, u64, u32),
    group: &[(RunKey, Option<SeriesMeta>)],
) -> Result<Prefetched> {
    let level = level_of(shift);
    let mut needs = Vec::new();
    let mut key = None;
    for m in group.iter().filter_map(|(_, m)| m.as_ref()) {
        key = Some(m.key);
        let need = match plan_run(m, lo, hi, shift, plan.budget) {
            RunPlan::Empty => continue,
            RunPlan::Raw(lo, hi) => {
                let streamed = m.tail_after_chunks();
                // Raw chunks are held per group only when few: otherwise they stream run by run.
                let few = m.n_chunk <= PREFETCH_CHUNK_POINTS || hi - lo < PREFETCH_CHUNK_POINTS as u64;
                let chunks = (streamed && m.n_chunk > 0 && few).then_some((lo, hi));
                Need { run: m.run, pages: None, chunks, tail: m.n_tail > 0 && streamed }
            }
            RunPlan::Pyramid { lo, hi, cmin, cmax } => Need {
                run: m.run,
                pages: if lo <= cmax { whole_buckets((lo, hi.min(cmax)), (cmin, cmax), level) } else { None },
                chunks: None,
                tail: m.n_tail > 0 && hi > cmax,
            },
        };
        needs.push(need);
    }
    match key {
        Some(key) => Prefetched::read(t, key, level, &needs),
        None => Ok(Prefetched::default()),
    }
}

/// `p` is sorted by step (every resolved or chunk point set is).
fn add_points(b: &mut Buckets, p: &Points, shift: u32) {
    b.add_sorted(&p.steps, &p.vals, shift);
}

fn raw_step_series(
    conn: &mut dyn Tables,
    pre: &Prefetched,
    m: &SeriesMeta,
    lo: u64,
    hi: u64,
    shift: u32,
    budget: usize,
) -> Result<Series> {
    if !m.tail_after_chunks() {
        // The tail rewrites compacted steps: resolve the whole range first.
        let p = read::resolve(conn, m, lo, hi, true, None)?;
        let mut raw = RawOrBuckets::new(budget, shift);
        raw.add(&p);
        return Ok(raw.finish(m.run));
    }
    // Stream chunk by chunk: memory stays bounded by one chunk plus the buckets.
    let mut raw = RawOrBuckets::new(budget, shift);
    match pre.chunks(m.run, (lo, hi)) {
        Some(chunks) => {
            let mut p = Points::default();
            for blob in chunks {
                read::chunk_points(blob, true, lo, hi, &mut p)?;
                raw.add(&p);
            }
        }
        None => read::for_each_chunk(conn, m, lo, hi, true, &mut |p| {
            raw.add(p);
            true
        })?,
    }
    if m.n_tail > 0 {
        raw.add(&tail_points(conn, pre, m, lo, hi)?);
    }
    Ok(raw.finish(m.run))
}

/// The resolved live tail in [lo, hi], from the group's batched read when it holds it.
fn tail_points(conn: &mut dyn Tables, pre: &Prefetched, m: &SeriesMeta, lo: u64, hi: u64) -> Result<Points> {
    match pre.tail(m.run) {
        Some(t) => Ok(read::resolved_tail(t.clone(), lo, hi)),
        None => read::tail_points(conn, m, lo, hi),
    }
}

/// Buckets points, and keeps them raw while they still fit the budget (then the series is exact).
struct RawOrBuckets {
    buckets: Buckets,
    raw: Option<Points>,
    budget: usize,
    shift: u32,
}

impl RawOrBuckets {
    fn new(budget: usize, shift: u32) -> Self {
        RawOrBuckets { buckets: Buckets::with_capacity(budget + 1), raw: Some(Points::default()), budget, shift }
    }
    fn add(&mut self, p: &Points) {
        add_points(&mut self.buckets, p, self.shift);
        if let Some(r) = &mut self.raw {
            if r.len() + p.len() <= self.budget {
                r.extend_from(p, 0, p.len());
            } else {
                self.raw = None;
            }
        }
    }
    fn finish(self, run: RunKey) -> Series {
        match self.raw {
            Some(p) => {
                let xs: Vec<f64> = p.steps.iter().map(|&s| s as f64).collect();
                exact_series(run, &xs, &p.vals)
            }
            None => self.buckets.into_series(run),
        }
    }
}

/// How one run's step series is read.
enum RunPlan {
    Empty,
    /// Raw points (chunks and tail) in [lo, hi].
    Raw(u64, u64),
    /// The pyramid for compacted steps in [lo, hi] (chunks span [cmin, cmax]), then the tail.
    Pyramid {
        lo: u64,
        hi: u64,
        cmin: u64,
        cmax: u64,
    },
}

fn level_of(shift: u32) -> i64 {
    (i64::from(shift) - i64::from(LEVEL0_SHIFT)).min(NLEVELS - 1)
}

fn plan_run(m: &SeriesMeta, lo: u64, hi: u64, shift: u32, budget: usize) -> RunPlan {
    let Some((dlo, dhi)) = m.step_range() else { return RunPlan::Empty };
    let (lo, hi) = (lo.max(dlo), hi.min(dhi));
    if lo > hi {
        return RunPlan::Empty;
    }
    let level = level_of(shift);
    let usable = m.n_chunk > 0 && m.tail_after_chunks() && m.min_level >= 0 && level >= m.min_level;
    if !usable || (m.n_chunk + m.n_tail) as usize <= budget {
        return RunPlan::Raw(lo, hi);
    }
    match (m.chunk_min, m.chunk_max) {
        (Some(cmin), Some(cmax)) => RunPlan::Pyramid { lo, hi, cmin, cmax },
        _ => RunPlan::Raw(lo, hi),
    }
}

fn step_series(
    conn: &mut dyn Tables,
    pre: &Prefetched,
    m: &SeriesMeta,
    lo: u64,
    hi: u64,
    shift: u32,
    budget: usize,
) -> Result<Series> {
    let (lo, hi, cmin, cmax) = match plan_run(m, lo, hi, shift, budget) {
        RunPlan::Empty => return Ok(Series { run: m.run, ..Series::default() }),
        RunPlan::Raw(lo, hi) => return raw_step_series(conn, pre, m, lo, hi, shift, budget),
        RunPlan::Pyramid { lo, hi, cmin, cmax } => (lo, hi, cmin, cmax),
    };
    let level = level_of(shift);
    let mut b = Buckets::with_capacity(((hi >> shift) - (lo >> shift) + 1).min(budget as u64 + 1) as usize);
    if lo <= cmax {
        pyramid_part(conn, pre, m, &mut b, (lo, hi.min(cmax)), (cmin, cmax), level, shift)?;
    }
    if m.n_tail > 0 && hi > cmax {
        add_points(&mut b, &tail_points(conn, pre, m, lo.max(cmax + 1), hi)?, shift);
    }
    if b.total() <= budget as u64 {
        return raw_step_series(conn, pre, m, lo, hi, shift, budget);
    }
    Ok(b.into_series(m.run))
}

/// The whole pyramid buckets of `level` inside the compacted steps [lo, hi] (a bucket cut by the
/// range is still whole when the cut part holds no compacted data), if any.
fn whole_buckets((lo, hi): (u64, u64), (cmin, cmax): (u64, u64), level: i64) -> Option<(u64, u64)> {
    let ls = pyramid::shift_of(level);
    let j_lo = if lo <= cmin { cmin >> ls } else { lo.div_ceil(1 << ls) };
    let j_hi = if hi >= cmax { Some(cmax >> ls) } else { ((hi + 1) >> ls).checked_sub(1) };
    j_hi.filter(|&j| j >= j_lo).map(|j_hi| (j_lo, j_hi))
}

/// Compacted points in [lo, hi]: whole pyramid buckets inside the range, raw chunk points at the edges.
#[allow(clippy::too_many_arguments)]
fn pyramid_part(
    conn: &mut dyn Tables,
    pre: &Prefetched,
    m: &SeriesMeta,
    b: &mut Buckets,
    (lo, hi): (u64, u64),
    (cmin, cmax): (u64, u64),
    level: i64,
    shift: u32,
) -> Result<()> {
    let ls = pyramid::shift_of(level);
    let Some((j_lo, j_hi)) = whole_buckets((lo, hi), (cmin, cmax), level) else {
        let p = read::load_chunks(conn, m, lo, hi, true, None)?;
        add_points(b, &p, shift);
        return Ok(());
    };
    let left_end = j_lo << ls; // first step of the first whole bucket
    if lo > cmin && lo < left_end {
        add_points(b, &read::load_chunks(conn, m, lo, left_end - 1, true, None)?, shift);
    }
    let up = shift - ls;
    let mut merge = |idx: u64, a: &crate::chart::Agg| b.merge(idx >> up, a);
    match pre.pages(m.run, (j_lo, j_hi)) {
        Some(pages) => {
            for blob in pages {
                pyramid::read_page(blob, level, j_lo, j_hi, &mut merge)?;
            }
        }
        None => pyramid::read_level(conn, m, level, j_lo, j_hi, &mut merge)?,
    }
    let right_start = (j_hi + 1) << ls;
    if hi < cmax && right_start <= hi {
        add_points(b, &read::load_chunks(conn, m, right_start, hi, true, None)?, shift);
    }
    Ok(())
}

/// Non-step x axes: join the metric with the x series by step, bucket by x over its range.
/// Work is proportional to the run's points (no pyramid for these axes); memory to one run.
fn x_series(conn: &mut dyn Tables, m: &SeriesMeta, plan: &Plan) -> Result<Series> {
    let empty = Series { run: m.run, ..Series::default() };
    let Some(xm) = plan.x.map(|k| conn.load_series(m.run, k)).transpose()?.flatten() else {
        return Ok(empty);
    };
    let y = read::resolve(conn, m, 0, MAX_STEP, true, None)?;
    let x = read::resolve(conn, &xm, 0, MAX_STEP, true, None)?;
    let inside = |xv: f64| !xv.is_nan() && plan.x_min.is_none_or(|a| xv >= a) && plan.x_max.is_none_or(|z| xv <= z);
    // Pass 1: how many joined points, and their finite x range.
    let (mut n, mut lo, mut hi) = (0usize, f64::INFINITY, f64::NEG_INFINITY);
    join(&y, &x, &mut |_, xv, _| {
        if inside(xv) {
            n += 1;
            if xv.is_finite() {
                lo = lo.min(xv);
                hi = hi.max(xv);
            }
        }
    });
    if n <= plan.budget {
        let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
        join(&y, &x, &mut |_, xv, yv| {
            if inside(xv) {
                xs.push(xv);
                ys.push(yv);
            }
        });
        return Ok(exact_series(m.run, &xs, &ys));
    }
    let lo = plan.x_min.unwrap_or(lo);
    let hi = plan.x_max.unwrap_or(hi);
    let width = if hi > lo { (hi - lo) / plan.budget as f64 } else { 1.0 };
    let top = (plan.budget - 1) as f64;
    let mut b = Buckets::with_capacity(plan.budget);
    join(&y, &x, &mut |step, xv, yv| {
        if inside(xv) {
            let idx = ((xv - lo) / width).floor();
            let idx = if idx.is_nan() { 0.0 } else { idx.clamp(0.0, top) };
            b.add(idx as u64, step, xv, yv);
        }
    });
    Ok(b.into_series(m.run))
}

/// Merge-join two step-sorted series: f(step, x, y) for steps present in both.
fn join(y: &Points, x: &Points, f: &mut dyn FnMut(u64, f64, f64)) {
    let (mut i, mut j) = (0, 0);
    while i < y.len() && j < x.len() {
        match y.steps[i].cmp(&x.steps[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                f(y.steps[i], x.vals[j], y.vals[i]);
                i += 1;
                j += 1;
            }
        }
    }
}
