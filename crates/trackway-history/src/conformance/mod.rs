//! The conformance suite for [`HistoryStore`] implementations.
//!
//! Every check takes a fresh, empty store and panics (like `assert!`) on a violation, so a
//! backend's test file is one line per check (see `tests/conformance.rs`). Expected results come
//! from a tiny in-memory model of the documented semantics, not from the implementation.

mod model;

pub use model::{Model, Rng, scan_all};
use model::{
    assert_rows_eq, assert_store_matches, assert_store_matches_paged, chart, check_chart_model, check_series, feq,
    loss_rows, odd_values, random_value, row,
};

use crate::{ChartQuery, HistoryRow, HistoryStore, Map, RunKey, ScanQuery, Value, XAxis};

/// One conformance check: panics when the store violates the contract.
pub type Check = fn(&dyn HistoryStore);

/// Every check, by name, for backends that want to loop.
pub const CHECKS: &[(&str, Check)] = &[
    ("round_trip_every_point", round_trip_every_point),
    ("long_series_round_trip", long_series_round_trip),
    ("last_write_wins", last_write_wins),
    ("out_of_order_after_compaction", out_of_order_after_compaction),
    ("rewind_into_the_middle", rewind_into_the_middle),
    ("non_numeric_values", non_numeric_values),
    ("last_objects", last_objects),
    ("sparse_rows_and_key_filter", sparse_rows_and_key_filter),
    ("chart_matches_model", chart_matches_model),
    ("chart_same_for_any_batching", chart_same_for_any_batching),
    ("chart_of_many_runs_keeps_runs_apart", chart_of_many_runs_keeps_runs_apart),
    ("chart_exact_when_small", chart_exact_when_small),
    ("chart_nan_inf", chart_nan_inf),
    ("chart_x_axes", chart_x_axes),
    ("sampled_keeps_first_and_last", sampled_keeps_first_and_last),
    ("delete_run", delete_run),
    ("random_operations", random_operations),
];

pub fn round_trip_every_point(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let mut rng = Rng::new(1);
    let mut step = 0;
    let mut batch = Vec::new();
    for i in 0..3000u64 {
        let mut pairs = vec![("loss", Value::Float(rng.unit()))];
        if i % 3 == 0 {
            pairs.push(("odd", odd_values(i)));
        }
        if i % 50 == 0 {
            pairs.push(("eval/acc", Value::Float(rng.unit())));
        }
        batch.push(row(step, &pairs));
        step += 1 + rng.below(3);
        if rng.below(40) == 0 {
            s.append(1, &batch).expect("append");
            m.apply(&batch);
            batch.clear();
        }
    }
    s.append(1, &batch).expect("append");
    m.apply(&batch);
    assert_store_matches(s, 1, &m, "before compaction");
    s.compact(1).expect("compact");
    assert_store_matches(s, 1, &m, "after compaction");
    let keys = s.keys(1).expect("keys");
    assert_eq!(keys.len(), 3, "{keys:?}");
    s.append(2, &[row(0, &[("other", Value::Str("x".into())), ("loss", Value::Float(1.0))])]).expect("append");
    let union = s.keys_of_runs(&[1, 2, 77]).expect("keys_of_runs");
    assert_eq!(union, vec!["eval/acc", "loss", "odd", "other"]);
    for k in ["loss", "odd", "eval/acc"] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
}

/// Long enough to cross automatic compaction thresholds in typical engines.
pub fn long_series_round_trip(s: &dyn HistoryStore) {
    let mut m = Model::default();
    for b in 0..25u64 {
        let rows: Vec<HistoryRow> = (b * 1000..(b + 1) * 1000)
            .map(|i| row(i, &[("loss", Value::Float(f64::from((1.0 / (1.0 + i as f64)) as f32)))]))
            .collect();
        s.append(5, &rows).expect("append");
        m.apply(&rows);
    }
    assert_store_matches(s, 5, &m, "long series");
    let p = s
        .scan(5, &ScanQuery { min_step: Some(12_345), max_step: Some(12_400), limit: 1000, ..Default::default() })
        .expect("scan");
    assert_eq!(p.rows.len(), 56);
    assert_eq!(p.rows[0].step, 12_345);
    assert_eq!(p.next_cursor, None);
}

pub fn last_write_wins(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let a = vec![
        row(0, &[("a", Value::Float(1.0)), ("b", Value::Float(2.0))]),
        row(0, &[("a", Value::Float(3.0))]), // fragment of the same row: a replaced, b kept
        row(1, &[("a", Value::Int(5))]),
        row(1, &[("a", Value::Str("text".into()))]), // numeric replaced by a string
        row(2, &[("a", Value::Str("x".into()))]),
        row(2, &[("a", Value::Float(7.0))]), // string replaced by a number
    ];
    s.append(2, &a).expect("append");
    m.apply(&a);
    assert_store_matches(s, 2, &m, "within one batch");
    let b =
        vec![row(0, &[("a", Value::Float(9.0))]), row(1, &[("a", Value::Float(10.0))]), row(2, &[("a", Value::Null)])];
    s.append(2, &b).expect("append");
    m.apply(&b);
    assert_store_matches(s, 2, &m, "across batches");
    s.compact(2).expect("compact");
    assert_store_matches(s, 2, &m, "after compaction");
    let series = chart(s, 2, "a", None, None, 100);
    assert_eq!(series.x, vec![0.0, 1.0]);
    assert_eq!(series.last, vec![9.0, 10.0]);
}

pub fn out_of_order_after_compaction(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let first: Vec<HistoryRow> = (100..10_100).map(|i| row(i, &[("v", Value::Float(i as f64))])).collect();
    s.append(3, &first).expect("append");
    m.apply(&first);
    s.compact(3).expect("compact");
    // A resumed run rewinds: steps before, inside and after the compacted range, duplicates.
    let mut rng = Rng::new(3);
    let second: Vec<HistoryRow> = (0..3000)
        .map(|_| {
            let st = rng.below(12_000);
            row(st, &[("v", Value::Float(-(st as f64))), ("w", Value::Float(1.0))])
        })
        .collect();
    s.append(3, &second).expect("append");
    m.apply(&second);
    assert_store_matches(s, 3, &m, "rewrite in tail");
    check_chart_model(s, 3, &m, "v", 64, "rewrite in tail");
    s.compact(3).expect("compact");
    assert_store_matches(s, 3, &m, "rewrite compacted");
    check_chart_model(s, 3, &m, "v", 64, "rewrite compacted");
}

/// A resumed run rewinds into the middle of compacted data, twice, with compactions between.
pub fn rewind_into_the_middle(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let mut rng = Rng::new(9);
    let first = loss_rows(0, 40_000, &mut rng);
    s.append(8, &first).expect("append");
    m.apply(&first);
    s.compact(8).expect("compact");
    for (from, to) in [(15_000u64, 16_500u64), (33_333, 41_000)] {
        let again: Vec<HistoryRow> = (from..to).map(|i| row(i, &[("loss", Value::Float(-(i as f64)))])).collect();
        s.append(8, &again).expect("append");
        m.apply(&again);
        check_chart_model(s, 8, &m, "loss", 1000, &format!("rewind to {from}, live"));
        s.compact(8).expect("compact");
        check_chart_model(s, 8, &m, "loss", 1000, &format!("rewind to {from}, compacted"));
        assert_store_matches_paged(s, 8, &m, &format!("rewind to {from}"), 4999);
    }
}

pub fn non_numeric_values(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let mut img = Map::new();
    img.insert("_type".into(), Value::Str("image-file".into()));
    img.insert("path".into(), Value::Str("media/images/a.png".into()));
    let mut hist = Map::new();
    hist.insert("bins".into(), Value::List(vec![Value::Float(0.0), Value::Float(1.0)]));
    hist.insert("$f".into(), Value::Int(1));
    let rows = vec![
        row(0, &[("img", Value::Map(img)), ("loss", Value::Float(1.0))]),
        row(1, &[("text", Value::Str("héllo, \"world\"\n".into())), ("flag", Value::Bool(true))]),
        row(2, &[("hist", Value::Map(hist)), ("none", Value::Null), ("list", Value::List(vec![Value::Int(1)]))]),
        row(3, &[("big", Value::Int(i64::MIN)), ("loss", Value::Float(0.5))]),
    ];
    s.append(4, &rows).expect("append");
    m.apply(&rows);
    assert_store_matches(s, 4, &m, "non-numeric");
    s.compact(4).expect("compact");
    assert_store_matches(s, 4, &m, "non-numeric compacted");
    assert_eq!(s.keys(4).expect("keys").len(), 8);
    let c = chart(s, 4, "loss", None, None, 10);
    assert_eq!(c.last, vec![1.0, 0.5]);
    let t = chart(s, 4, "text", None, None, 10);
    assert!(t.x.is_empty(), "strings are not charted");
}

/// [`HistoryStore::last_objects`]: each key's non-numeric value at its greatest step, whatever
/// numeric values came later, and none for a key whose only object was overwritten by a number.
pub fn last_objects(s: &dyn HistoryStore) {
    let image = |p: &str| {
        let mut m = Map::new();
        m.insert("_type".into(), Value::Str("image-file".into()));
        m.insert("path".into(), Value::Str(p.into()));
        Value::Map(m)
    };
    let mut rows: Vec<HistoryRow> = (0..50u64).map(|i| row(i, &[("loss", Value::Float(i as f64))])).collect();
    rows.push(row(3, &[("img", image("a.png")), ("note", Value::Str("first".into()))]));
    rows.push(row(20, &[("img", image("b.png"))]));
    rows.push(row(30, &[("img", Value::Float(0.5)), ("gone", Value::Str("x".into()))]));
    rows.push(row(30, &[("gone", Value::Float(1.0))])); // last write wins: a number
    s.append(9, &rows).expect("append");
    let expect = |label: &str| {
        let got = s.last_objects(9).expect("last_objects");
        let got: Vec<(&str, u64, &Value)> = got.iter().map(|(k, st, v)| (k.as_str(), *st, v)).collect();
        let mut want = vec![("img", 20, image("b.png")), ("note", 3, Value::Str("first".into()))];
        want.sort_by(|a, b| a.0.cmp(b.0));
        let mut got_sorted = got.clone();
        got_sorted.sort_by(|a, b| a.0.cmp(b.0));
        let got_owned: Vec<(&str, u64, Value)> = got_sorted.iter().map(|(k, st, v)| (*k, *st, (*v).clone())).collect();
        assert_eq!(got_owned, want, "{label}");
    };
    expect("live");
    s.compact(9).expect("compact");
    expect("compacted");
    assert!(s.last_objects(10).expect("empty run").is_empty());
}

pub fn sparse_rows_and_key_filter(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let rows: Vec<HistoryRow> = (0..500u64)
        .map(|i| {
            let mut p = vec![("train", Value::Float(i as f64))];
            if i % 10 == 0 {
                p.push(("eval", Value::Float(i as f64 / 10.0)));
            }
            if i % 25 == 0 {
                p.push(("note", Value::Str(format!("n{i}"))));
            }
            row(i * 2, &p)
        })
        .collect();
    s.append(6, &rows).expect("append");
    m.apply(&rows);
    for compacted in [false, true] {
        if compacted {
            s.compact(6).expect("compact");
        }
        assert_store_matches(s, 6, &m, "sparse");
        let keys = vec!["eval".to_string(), "note".to_string()];
        let got = scan_all(s, 6, Some(&keys), 3);
        let want: Vec<HistoryRow> = m
            .rows
            .values()
            .filter(|r| keys.iter().all(|k| r.data.contains_key(k)))
            .map(|r| {
                let mut r = r.clone();
                r.data.retain(|k, _| keys.contains(k));
                r
            })
            .collect();
        assert_eq!(want.len(), 10);
        assert_rows_eq(&got, &want, "key filter");
        let none = scan_all(s, 6, Some(&["eval".to_string(), "never".to_string()]), 10);
        assert!(none.is_empty());
    }
}

pub fn chart_matches_model(s: &dyn HistoryStore) {
    let mut m = Model::default();
    let mut rng = Rng::new(7);
    let rows = loss_rows(0, 30_000, &mut rng);
    for c in rows.chunks(3000) {
        s.append(7, c).expect("append");
    }
    m.apply(&rows);
    check_chart_model(s, 7, &m, "loss", 1000, "live");
    s.compact(7).expect("compact");
    check_chart_model(s, 7, &m, "loss", 1000, "compacted");
    // More data after compaction: pyramid + tail.
    let more = loss_rows(30_000, 31_234, &mut rng);
    s.append(7, &more).expect("append");
    m.apply(&more);
    check_chart_model(s, 7, &m, "loss", 1000, "compacted + tail");
}

pub fn chart_same_for_any_batching(s: &dyn HistoryStore) {
    let mut rng = Rng::new(8);
    let rows = loss_rows(0, 20_000, &mut rng);
    s.append(10, &rows).expect("append");
    for c in rows.chunks(7) {
        s.append(11, c).expect("append");
    }
    for (i, c) in rows.chunks(4500).enumerate() {
        s.append(12, c).expect("append");
        if i % 2 == 0 {
            s.compact(12).expect("compact");
        }
    }
    s.append(13, &rows).expect("append");
    s.compact(13).expect("compact");
    for (lo, hi, b) in [(None, None, 1000), (Some(1000.0), Some(2000.0), 100), (Some(333.0), Some(17_777.0), 500)] {
        let q = ChartQuery {
            runs: vec![10, 11, 12, 13, 99],
            metric: "loss".into(),
            x: XAxis::Step,
            x_min: lo,
            x_max: hi,
            buckets: b,
        };
        let got = s.chart(&q).expect("chart");
        assert_eq!(got.len(), 5);
        assert!(got[4].x.is_empty(), "unknown run gives an empty series");
        for other in &got[1..4] {
            assert_eq!(got[0].x, other.x);
            assert_eq!(got[0].count, other.count);
            assert_eq!(got[0].nonfinite, other.nonfinite);
            for (a, b) in [(&got[0].min, &other.min), (&got[0].max, &other.max), (&got[0].last, &other.last)] {
                assert!(a.iter().zip(b.iter()).all(|(x, y)| feq(*x, *y)));
            }
            for (x, y) in got[0].mean.iter().zip(&other.mean) {
                assert!(feq(*x, *y) || (x - y).abs() <= 1e-9 * (1.0 + x.abs()));
            }
        }
    }
}

/// A chart of many runs (more than one batched read or worker takes) whose series are shaped
/// differently: each run's buckets must come from its own pages and tail, none missing. Values
/// differ by run, so another run's page changes min/max/mean; a missed page changes the counts.
pub fn chart_of_many_runs_keeps_runs_apart(s: &dyn HistoryStore) {
    let runs: Vec<RunKey> = (200..350).collect();
    let mut models = Vec::new();
    for (i, &run) in runs.iter().enumerate() {
        let value = |step: u64| Value::Float(run as f64 * 10.0 + 1.0 / (1.0 + step as f64));
        let rows = |a: u64, b: u64| -> Vec<HistoryRow> { (a..b).map(|st| row(st, &[("loss", value(st))])).collect() };
        let n = 300 + 13 * i as u64;
        let mut m = Model::default();
        let put = |batch: Vec<HistoryRow>, m: &mut Model| {
            s.append(run, &batch).expect("append");
            m.apply(&batch);
        };
        match i % 5 {
            0 => put(rows(0, n), &mut m), // live tail only
            4 => {}                       // no data
            shape => {
                put(rows(0, n), &mut m);
                s.compact(run).expect("compact");
                if shape == 2 {
                    put(rows(n, n + 150), &mut m); // pyramid + live tail
                } else if shape == 3 {
                    let rewrite: Vec<HistoryRow> =
                        (10..60).map(|st| row(st, &[("loss", Value::Float(run as f64 * 10.0 + 0.5))])).collect();
                    put(rewrite, &mut m); // the tail rewrites compacted steps
                }
            }
        }
        models.push(m);
    }
    let all: Vec<u64> = models.iter().flat_map(|m| m.points("loss")).map(|p| p.0).collect();
    let (lo, hi) = (all.iter().copied().min().unwrap_or(0), all.iter().copied().max().unwrap_or(0));
    let ranges = [(None, None), (Some(150), Some(1700))];
    for (budget, (x_min, x_max)) in [10, 30, 100, 5000].into_iter().flat_map(|b| ranges.map(|r| (b, r))) {
        let mut q_runs = runs.clone();
        q_runs.push(9999);
        let q = ChartQuery {
            runs: q_runs,
            metric: "loss".into(),
            x: XAxis::Step,
            x_min: x_min.map(|v: u64| v as f64),
            x_max: x_max.map(|v: u64| v as f64),
            buckets: budget,
        };
        let (lo, hi) = (x_min.unwrap_or(lo), x_max.unwrap_or(hi));
        let got = s.chart(&q).expect("chart");
        assert_eq!(got.len(), runs.len() + 1);
        assert!(got[runs.len()].x.is_empty(), "unknown run gives an empty series");
        for ((series, m), &run) in got.iter().zip(&models).zip(&runs) {
            assert_eq!(series.run, run);
            let pts = m.points("loss");
            if pts.is_empty() {
                assert!(series.x.is_empty(), "run {run} has no data");
                continue;
            }
            let what = format!("run {run} of many, budget {budget}, steps {x_min:?}..{x_max:?}");
            check_series(series, &pts, lo, hi, budget, &what);
        }
    }
}

pub fn chart_exact_when_small(s: &dyn HistoryStore) {
    let rows: Vec<HistoryRow> = (0..50u64).map(|i| row(i * 10, &[("y", Value::Float(i as f64))])).collect();
    s.append(20, &rows).expect("append");
    let c = chart(s, 20, "y", None, None, 50);
    assert!(c.exact);
    assert_eq!(c.x.len(), 50);
    assert_eq!(c.min, c.last);
    assert_eq!(c.max, c.last);
    let c = chart(s, 20, "y", None, None, 49);
    assert!(!c.exact);
    assert!(c.x.len() <= 49);
    let c = chart(s, 20, "y", Some(100.0), Some(190.0), 10);
    assert!(c.exact);
    assert_eq!(c.x.len(), 10);
    assert_eq!(c.x[0], 100.0);
}

pub fn chart_nan_inf(s: &dyn HistoryStore) {
    let vals = [1.0, f64::NAN, f64::INFINITY, -2.0, f64::NEG_INFINITY, 3.0, f64::NAN];
    let rows: Vec<HistoryRow> =
        vals.iter().enumerate().map(|(i, v)| row(i as u64, &[("y", Value::Float(*v))])).collect();
    s.append(21, &rows).expect("append");
    for compacted in [false, true] {
        if compacted {
            s.compact(21).expect("compact");
        }
        let c = chart(s, 21, "y", None, None, 1);
        assert!(!c.exact);
        assert_eq!(c.count, vec![7]);
        assert_eq!(c.nonfinite, vec![4]);
        assert_eq!((c.min[0], c.max[0]), (-2.0, 3.0));
        assert!((c.mean[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!(c.last[0].is_nan(), "last is the real last value");
        let e = chart(s, 21, "y", None, None, 100);
        assert!(e.exact);
        assert_eq!(e.last[2], f64::INFINITY);
        assert!(e.min[2].is_nan(), "non-finite points have no min/max/mean");
    }
}

pub fn chart_x_axes(s: &dyn HistoryStore) {
    let rows: Vec<HistoryRow> = (0..2000u64)
        .map(|i| {
            let mut r = row(i, &[("y", Value::Float(i as f64 * 2.0))]);
            if i % 4 == 0 {
                r.data.insert("epoch".into(), Value::Int((i / 4) as i64));
            }
            r
        })
        .collect();
    s.append(22, &rows).expect("append");
    for compacted in [false, true] {
        if compacted {
            s.compact(22).expect("compact");
        }
        let q = |x: XAxis, lo: Option<f64>, hi: Option<f64>, b: usize| {
            let q = ChartQuery { runs: vec![22], metric: "y".into(), x, x_min: lo, x_max: hi, buckets: b };
            s.chart(&q).expect("chart").remove(0)
        };
        let rt = q(XAxis::Runtime, None, None, 5000);
        assert!(rt.exact);
        assert_eq!(rt.x.len(), 2000);
        assert_eq!(rt.x[10], 5.0);
        let ts = q(XAxis::Timestamp, Some(1_700_000_000.0 + 100.0), Some(1_700_000_000.0 + 199.5), 50);
        assert_eq!(ts.count.iter().sum::<u64>(), 200);
        assert!(ts.x.len() <= 50);
        assert!(ts.x.windows(2).all(|w| w[0] < w[1]));
        let ep = q(XAxis::Metric("epoch".into()), None, None, 100);
        assert_eq!(ep.count.iter().sum::<u64>(), 500, "rows holding both keys");
        assert!(ep.x.len() <= 100);
        for i in 0..ep.x.len() {
            assert!(ep.min[i] <= ep.last[i] && ep.last[i] <= ep.max[i]);
            assert_eq!(ep.last[i], ep.x[i] * 8.0, "last pairs with its own x");
        }
    }
}

pub fn sampled_keeps_first_and_last(s: &dyn HistoryStore) {
    let rows: Vec<HistoryRow> = (0..1001u64)
        .map(|i| {
            let mut p = vec![("a", Value::Float(i as f64))];
            if i % 2 == 1 {
                p.push(("b", Value::Str("odd".into())));
            }
            row(i, &p)
        })
        .collect();
    s.append(23, &rows).expect("append");
    let r = s.sampled(23, None, 10).expect("sampled");
    assert_eq!(r.len(), 10);
    assert_eq!((r[0].step, r[9].step), (0, 1000));
    assert!(r.windows(2).all(|w| w[0].step < w[1].step));
    let r = s.sampled(23, Some(&["b".to_string()]), 5).expect("sampled");
    assert_eq!(r.len(), 5);
    assert_eq!((r[0].step, r[4].step), (1, 999));
    assert!(r.iter().all(|x| x.data.len() == 1 && x.data.contains_key("b")));
    assert_eq!(s.sampled(23, None, 5000).expect("sampled").len(), 1001);
}

pub fn delete_run(s: &dyn HistoryStore) {
    let rows: Vec<HistoryRow> =
        (0..10_000u64).map(|i| row(i, &[("a", Value::Float(1.0)), ("s", Value::Str("x".into()))])).collect();
    s.append(30, &rows).expect("append");
    s.append(31, &rows[..10]).expect("append");
    s.compact(30).expect("compact");
    s.delete_run(30).expect("delete");
    assert!(s.keys(30).expect("keys").is_empty());
    assert!(scan_all(s, 30, None, 100).is_empty());
    assert!(chart(s, 30, "a", None, None, 10).x.is_empty());
    assert_eq!(scan_all(s, 31, None, 100).len(), 10, "other runs untouched");
}

/// Random appends (mostly increasing steps, sometimes rewinds and duplicates, type changes),
/// compactions in between; the store must always match the model, and charts must match it.
pub fn random_operations(s: &dyn HistoryStore) {
    for seed in 1..=3u64 {
        let run = 100 + seed as RunKey;
        let mut rng = Rng::new(seed * 7919);
        let mut m = Model::default();
        let mut next = 0u64;
        for op in 0..60 {
            if rng.below(8) == 0 {
                s.compact(run).expect("compact");
            } else {
                let big = rng.below(4) == 0;
                let n = 1 + rng.below(if big { 2000 } else { 150 });
                let mut rows = Vec::new();
                for _ in 0..n {
                    let step = match rng.below(30) {
                        0 => rng.below(next + 1),    // rewind
                        1 => next.saturating_sub(1), // duplicate of the last step
                        _ => {
                            next += 1 + rng.below(2);
                            next
                        }
                    };
                    let mut pairs: Vec<(&str, Value)> = Vec::new();
                    for k in ["a", "b", "c"] {
                        if rng.below(3) != 0 {
                            pairs.push((k, random_value(&mut rng)));
                        }
                    }
                    let mut r = row(step, &pairs);
                    r.ts += rng.unit();
                    rows.push(r);
                }
                s.append(run, &rows).expect("append");
                m.apply(&rows);
            }
            if op % 10 == 9 {
                assert_store_matches_paged(s, run, &m, &format!("seed {seed} op {op}"), 997);
            }
        }
        assert_store_matches_paged(s, run, &m, &format!("seed {seed} end"), 61);
        check_chart_model(s, run, &m, "a", 300, &format!("seed {seed} chart"));
        s.compact(run).expect("compact");
        assert_store_matches_paged(s, run, &m, &format!("seed {seed} compacted"), 61);
        check_chart_model(s, run, &m, "a", 300, &format!("seed {seed} chart compacted"));
    }
}
