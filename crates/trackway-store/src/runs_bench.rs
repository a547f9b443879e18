//! The run-table benchmark's data and query shapes (issue 4, issue 15), shared by every
//! backend's bench (`runs-bench` here, `runs_bench` in trackway-postgres) and by the tests that
//! check the backends answer them alike: one generator, one list of shapes, one timing rule.
//!
//! Data (deterministic, xorshift64*): config = 30 floats in [0,1) (`f00`..`f29`), 10 ints in
//! [0,100) (`i00`..`i09`), 8 categorical strings of 10 values (`c00`..`c07`), a bool `flag`
//! and a nested object `model` {depth, width, act}; summary = 20 floats (`s00`..`s19`); ~1 % of
//! runs lack `f01` and `s00` (missing keys); tags from 20 values.

use std::time::Instant;

use serde_json::{Map, Value as Json, json};

use crate::{BulkRun, MetadataStore, Result, RunQuery, parse_filter};

/// Runs per bulk-insert call.
pub const BATCH: usize = 5000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn float(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn make_run(i: usize, rng: &mut Rng) -> BulkRun {
    let mut config = Map::new();
    let missing = rng.below(100) == 0;
    for k in 0..30 {
        if !(missing && k == 1) {
            config.insert(format!("f{k:02}"), json!(rng.float()));
        }
    }
    for k in 0..10 {
        config.insert(format!("i{k:02}"), json!(rng.below(100)));
    }
    for k in 0..8 {
        config.insert(format!("c{k:02}"), json!(format!("cat{}", rng.below(10))));
    }
    config.insert("flag".into(), json!(rng.below(2) == 0));
    config.insert("model".into(), json!({"depth": rng.below(12), "width": 64 * (1 + rng.below(8)), "act": "gelu"}));
    let mut summary = Map::new();
    for k in 0..20 {
        if !(missing && k == 0) {
            summary.insert(format!("s{k:02}"), json!(rng.float()));
        }
    }
    let states = ["finished", "finished", "finished", "failed", "crashed", "running"];
    BulkRun {
        run_id: format!("run{i:07}"),
        name: Some(format!("run-{i}")),
        state: states[rng.below(states.len() as u64) as usize].to_owned(),
        tags: vec![format!("tag{}", rng.below(20))],
        created_at: 1.7e9 + i as f64,
        config,
        summary,
    }
}

/// Generates `n` runs and hands them to `insert` in batches of [`BATCH`]; returns the seconds
/// it took (generation included).
///
/// # Errors
/// What `insert` returns.
pub fn fill(n: usize, mut insert: impl FnMut(&[BulkRun]) -> Result<()>) -> Result<f64> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH.min(n));
    for i in 0..n {
        batch.push(make_run(i, &mut rng));
        if batch.len() == BATCH || i + 1 == n {
            insert(&batch)?;
            batch.clear();
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// One query shape: a label, a filter and an order (`-key` for descending).
pub struct Shape {
    pub label: &'static str,
    pub filter: Json,
    pub order: &'static str,
}

/// The seven benchmarked shapes.
#[must_use]
pub fn shapes() -> Vec<Shape> {
    let s = |label, filter, order| Shape { label, filter, order };
    vec![
        s("no filter, newest first", json!({}), "-created_at"),
        s("config float > x, sort by summary", json!({"config.f01": {"$gt": 0.5}}), "-summary_metrics.s00"),
        s(
            "nested config $in + state, sort by config",
            json!({"config.model.depth": {"$in": [3, 4]}, "state": "finished"}),
            "config.f02",
        ),
        s(
            "config category AND summary range",
            json!({"$and": [{"config.c03": "cat7"}, {"summary_metrics.s01": {"$lt": 0.2}}]}),
            "-created_at",
        ),
        s("tag, sort by summary", json!({"tags": "tag7"}), "-summary_metrics.s02"),
        s("name regex", json!({"display_name": {"$regex": "^run-1234"}}), "-created_at"),
        s(
            "$or of config keys, missing-key aware",
            json!({"$or": [{"config.f01": {"$exists": false}}, {"config.i03": {"$gte": 95}}]}),
            "-summary_metrics.s00",
        ),
    ]
}

/// The query of a shape: its first page of `limit` runs in `entity/project`.
///
/// # Errors
/// A filter the parser refuses (none of [`shapes`]).
pub fn query(shape: &Shape, entity: &str, project: &str, limit: usize, with_total: bool) -> Result<RunQuery> {
    let (order_by, direction) = RunQuery::parse_order(shape.order);
    Ok(RunQuery {
        entity: entity.into(),
        project: project.into(),
        filter: Some(parse_filter(&shape.filter)?),
        order_by,
        direction,
        limit,
        cursor: None,
        with_total,
    })
}

/// Timings of one shape, in milliseconds.
pub struct Timing {
    /// The first run (it may create the key's expression index).
    pub cold: f64,
    /// Median of 5 runs after the cold one.
    pub warm: f64,
    /// The same page without the total count, median of 5 (after one untimed run).
    pub page_only: f64,
    /// The total count of matches.
    pub total: u64,
}

fn median_of_5(store: &dyn MetadataStore, q: &RunQuery) -> Result<f64> {
    let mut ms = Vec::with_capacity(5);
    for _ in 0..5 {
        let t = Instant::now();
        store.query_runs(q)?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[2])
}

/// Times a shape's first page of 50 with its total: cold, then warm (median of 5), then the
/// page alone.
///
/// # Errors
/// What the store returns.
pub fn time_shape(store: &dyn MetadataStore, entity: &str, project: &str, shape: &Shape) -> Result<Timing> {
    let q = query(shape, entity, project, 50, true)?;
    let t = Instant::now();
    let total = store.query_runs(&q)?.total.unwrap_or(0);
    let cold = t.elapsed().as_secs_f64() * 1e3;
    let warm = median_of_5(store, &q)?;
    let q = query(shape, entity, project, 50, false)?;
    store.query_runs(&q)?;
    let page_only = median_of_5(store, &q)?;
    Ok(Timing { cold, warm, page_only, total })
}

/// The header line of [`row`]s.
#[must_use]
pub fn header(backend: &str) -> String {
    format!(
        "{:<44} {:>9} {:>9} {:>9} {:>8}",
        format!("{backend}: filter + sort + page of 50 + total"),
        "cold ms",
        "warm ms",
        "no-total",
        "matches"
    )
}

/// One printed line of timings.
#[must_use]
pub fn row(shape: &Shape, t: &Timing) -> String {
    format!("{:<44} {:>9.1} {:>9.1} {:>9.1} {:>8}", shape.label, t.cold, t.warm, t.page_only, t.total)
}
