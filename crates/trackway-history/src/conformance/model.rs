//! The model of the documented semantics and the assertions the checks share.

use std::collections::BTreeMap;

use crate::{ChartQuery, HistoryRow, HistoryStore, Map, RunKey, ScanQuery, Series, Value, XAxis};

/// Deterministic pseudo-random numbers (xorshift), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The documented semantics: last write wins per (step, key); ts/rt of the last fragment.
#[derive(Default, Clone)]
pub struct Model {
    pub rows: BTreeMap<u64, HistoryRow>,
}

impl Model {
    pub fn apply(&mut self, rows: &[HistoryRow]) {
        for r in rows {
            let e = self.rows.entry(r.step).or_insert_with(|| HistoryRow {
                step: r.step,
                ts: r.ts,
                rt: r.rt,
                data: Map::new(),
            });
            e.ts = r.ts;
            e.rt = r.rt;
            for (k, v) in &r.data {
                e.data.insert(k.clone(), v.clone());
            }
        }
    }
    /// Numeric points of a key, as the chart sees them.
    pub fn points(&self, key: &str) -> Vec<(u64, f64)> {
        self.rows.values().filter_map(|r| r.data.get(key).and_then(chart_value).map(|v| (r.step, v))).collect()
    }
}

/// The chart value of a stored value (floats, and integers exact as f64).
pub(crate) fn chart_value(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) if i.unsigned_abs() <= 1 << 53 => Some(*i as f64),
        Value::UInt(u) if *u <= 1 << 53 => Some(*u as f64),
        _ => None,
    }
}

pub(crate) fn row(step: u64, pairs: &[(&str, Value)]) -> HistoryRow {
    let data: Map = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    HistoryRow { step, ts: 1_700_000_000.0 + step as f64 * 0.5, rt: step as f64 * 0.5, data }
}

/// Bit-exact value equality (NaN == NaN, -0.0 != 0.0).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
        }
        _ => a == b,
    }
}

/// Read everything through `scan` with a small page size.
pub fn scan_all(s: &dyn HistoryStore, run: RunKey, keys: Option<&[String]>, page: usize) -> Vec<HistoryRow> {
    let mut q = ScanQuery { keys: keys.map(<[String]>::to_vec), limit: page, ..ScanQuery::default() };
    let mut out = Vec::new();
    loop {
        let p = s.scan(run, &q).expect("scan");
        assert!(p.rows.len() <= page, "page larger than limit");
        out.extend(p.rows);
        match p.next_cursor {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
}

pub(crate) fn assert_rows_eq(got: &[HistoryRow], want: &[HistoryRow], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.step, w.step, "{what}: step");
        assert_eq!(g.ts.to_bits(), w.ts.to_bits(), "{what}: ts at step {}", g.step);
        assert_eq!(g.rt.to_bits(), w.rt.to_bits(), "{what}: rt at step {}", g.step);
        assert_eq!(g.data.len(), w.data.len(), "{what}: keys at step {}: {:?} vs {:?}", g.step, g.data, w.data);
        for (k, v) in &w.data {
            let gv = g.data.get(k).unwrap_or_else(|| panic!("{what}: missing {k} at step {}", g.step));
            assert!(same(gv, v), "{what}: {k} at step {}: {gv:?} != {v:?}", g.step);
        }
    }
}

pub(crate) fn assert_store_matches(s: &dyn HistoryStore, run: RunKey, m: &Model, what: &str) {
    assert_store_matches_paged(s, run, m, what, 7);
}

pub(crate) fn assert_store_matches_paged(s: &dyn HistoryStore, run: RunKey, m: &Model, what: &str, page: usize) {
    let want: Vec<HistoryRow> = m.rows.values().cloned().collect();
    assert_rows_eq(&scan_all(s, run, None, page), &want, what);
    assert_rows_eq(&scan_all(s, run, None, 100_000), &want, what);
}

pub(crate) fn odd_values(i: u64) -> Value {
    match i % 12 {
        0 => Value::Float(f64::NAN),
        1 => Value::Float(-0.0),
        2 => Value::Float(f64::INFINITY),
        3 => Value::Float(f64::NEG_INFINITY),
        4 => Value::Int(-(i as i64)),
        5 => Value::UInt(u64::MAX - i),
        6 => Value::Int(i64::MAX - i as i64),
        7 => Value::BigInt("-123456789012345678901234567890".into()),
        8 => Value::Float(1e-300 * i as f64),
        9 => Value::Float(f64::from(i as f32 / 7.0)),
        10 => Value::Int(i as i64),
        _ => Value::Float(i as f64),
    }
}

pub(crate) fn chart(
    s: &dyn HistoryStore,
    run: RunKey,
    metric: &str,
    lo: Option<f64>,
    hi: Option<f64>,
    buckets: usize,
) -> Series {
    let q = ChartQuery { runs: vec![run], metric: metric.into(), x: XAxis::Step, x_min: lo, x_max: hi, buckets };
    let mut v = s.chart(&q).expect("chart");
    assert_eq!(v.len(), 1);
    v.remove(0)
}

/// Expected step-axis buckets from the model (documented alignment rule).
/// (exact, buckets as (index, points)).
pub(crate) type ModelChart = (bool, Vec<(u64, Vec<(u64, f64)>)>);

pub(crate) fn model_chart(pts: &[(u64, f64)], lo: u64, hi: u64, budget: usize) -> ModelChart {
    let inside: Vec<(u64, f64)> = pts.iter().copied().filter(|(s, _)| *s >= lo && *s <= hi).collect();
    if inside.len() <= budget {
        return (true, inside.iter().map(|&(s, v)| (s, vec![(s, v)])).collect());
    }
    let mut k = 0;
    while (hi >> k) - (lo >> k) + 1 > budget as u64 {
        k += 1;
    }
    let mut out: Vec<(u64, Vec<(u64, f64)>)> = Vec::new();
    for (s, v) in inside {
        match out.last_mut() {
            Some((b, items)) if *b == s >> k => items.push((s, v)),
            _ => out.push((s >> k, vec![(s, v)])),
        }
    }
    (false, out)
}

pub(crate) fn feq(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

pub(crate) fn check_series(got: &Series, pts: &[(u64, f64)], lo: u64, hi: u64, budget: usize, what: &str) {
    let (exact, buckets) = model_chart(pts, lo, hi, budget);
    assert_eq!(got.exact, exact, "{what}: exact");
    assert_eq!(got.x.len(), buckets.len(), "{what}: bucket count");
    for arr in [&got.min, &got.max, &got.last, &got.mean] {
        assert_eq!(arr.len(), buckets.len(), "{what}: array lengths");
    }
    assert_eq!(
        got.count.iter().sum::<u64>(),
        buckets.iter().map(|b| b.1.len() as u64).sum::<u64>(),
        "{what}: total count"
    );
    for (i, (_, items)) in buckets.iter().enumerate() {
        let fin: Vec<f64> = items.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
        let (ls, lv) = items[items.len() - 1];
        assert_eq!(got.count[i], items.len() as u64, "{what}: count of bucket {i}");
        assert_eq!(got.nonfinite[i], (items.len() - fin.len()) as u64, "{what}: nonfinite of bucket {i}");
        assert!(feq(got.last[i], lv), "{what}: last of bucket {i}: {} vs {lv}", got.last[i]);
        assert_eq!(got.x[i], ls as f64, "{what}: x of bucket {i}");
        if fin.is_empty() {
            assert!(
                got.min[i].is_nan() && got.max[i].is_nan() && got.mean[i].is_nan(),
                "{what}: empty finite bucket {i}"
            );
            continue;
        }
        let mn = fin.iter().copied().fold(f64::INFINITY, f64::min);
        let mx = fin.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = fin.iter().sum::<f64>() / fin.len() as f64;
        assert!(feq(got.min[i], mn) && feq(got.max[i], mx), "{what}: min/max of bucket {i}");
        assert!((got.mean[i] - mean).abs() <= 1e-9 * (1.0 + mean.abs()), "{what}: mean of bucket {i}");
        assert!(got.min[i] <= got.mean[i] + 1e-9 && got.mean[i] <= got.max[i] + 1e-9, "{what}: mean in band");
        if lv.is_finite() {
            assert!(got.min[i] <= lv && lv <= got.max[i], "{what}: min <= last <= max");
        }
    }
}

/// Compare charts over several ranges and budgets with the model.
pub(crate) fn check_chart_model(s: &dyn HistoryStore, run: RunKey, m: &Model, key: &str, budget: usize, what: &str) {
    let pts = m.points(key);
    let (Some(first), Some(last)) = (pts.first().map(|p| p.0), pts.last().map(|p| p.0)) else { return };
    let span = last - first;
    let ranges = [
        (None, None),
        (Some(first + span / 3), Some(first + span / 3 + span / 20)),
        (Some(first + 129), Some(last - 77)),
        (Some(first + 5), None),
        (None, Some(first + span / 2)),
    ];
    for (lo, hi) in ranges {
        for b in [budget, 1, 10, 333, 5000] {
            let got = chart(s, run, key, lo.map(|v| v as f64), hi.map(|v| v as f64), b);
            let (l, h) = (lo.unwrap_or(first), hi.unwrap_or(last));
            check_series(&got, &pts, l, h, b, &format!("{what} range {lo:?}..{hi:?} budget {b}"));
        }
    }
}

pub(crate) fn loss_rows(from: u64, to: u64, rng: &mut Rng) -> Vec<HistoryRow> {
    (from..to)
        .map(|i| {
            let v = if i % 997 == 0 {
                f64::NAN
            } else {
                f64::from((2.0 * (-(i as f64) / 5000.0).exp() + 0.1 * rng.unit()) as f32)
            };
            row(i, &[("loss", Value::Float(v))])
        })
        .collect()
}

pub(crate) fn random_value(rng: &mut Rng) -> Value {
    match rng.below(20) {
        0 => Value::Str(format!("s{}", rng.below(100))),
        1 => Value::Null,
        2 => Value::Float(f64::NAN),
        3 => Value::Float(if rng.below(2) == 0 { f64::INFINITY } else { f64::NEG_INFINITY }),
        4 | 5 => Value::Int(rng.below(1000) as i64 - 500),
        6 => Value::Bool(true),
        _ => Value::Float(f64::from((rng.unit() * 10.0) as f32)),
    }
}
