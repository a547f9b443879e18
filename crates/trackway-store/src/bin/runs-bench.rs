//! Run-table benchmark (issue 4): N runs (default 100,000) with 50 config and 20 summary keys,
//! then filter + sort + first page (50 runs, with the total count) for several query shapes.
//!
//! Data generator (deterministic, xorshift64*): config = 30 floats in [0,1) (`f00`..`f29`),
//! 10 ints in [0,100) (`i00`..`i09`), 8 categorical strings of 10 values (`c00`..`c07`), a
//! bool `flag` and a nested object `model` {depth, width, act}; summary = 20 floats
//! (`s00`..`s19`); ~1 % of runs lack `f01` and `s00` (missing keys); tags from 20 values.
//!
//! Each query is timed cold (first run: it may create the key's expression index) and warm
//! (median of 5). Usage: `runs-bench [N]`.
//!
//! `runs-bench --fill DB ENTITY PROJECT N` only adds N such runs to ENTITY/PROJECT of an existing
//! database (a running server's; the entity must exist): the browser benchmark of the runs
//! table (web/e2e/perf.mjs) fills a real server this way.

use std::time::Instant;

use serde_json::{Map, Value as Json, json};
use trackway_store::{BulkRun, MetadataStore, OpenOptions, RunQuery, SqliteStore, parse_filter};

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

fn load(store: &SqliteStore, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    load_into(store, "bench", "proj", n)
}

fn load_into(store: &SqliteStore, entity: &str, project: &str, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(5000);
    for i in 0..n {
        batch.push(make_run(i, &mut rng));
        if batch.len() == 5000 || i + 1 == n {
            store.bulk_insert(entity, project, &batch)?;
            batch.clear();
        }
    }
    println!("loaded {n} runs (50 config + 20 summary keys) in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn time_query(
    store: &SqliteStore,
    filter: &Json,
    order: &str,
    with_total: bool,
) -> Result<(f64, f64, u64, usize), Box<dyn std::error::Error>> {
    let (order_by, direction) = RunQuery::parse_order(order);
    let q = RunQuery {
        entity: "bench".into(),
        project: "proj".into(),
        filter: Some(parse_filter(filter)?),
        order_by,
        direction,
        limit: 50,
        cursor: None,
        with_total,
    };
    let run = |q: &RunQuery| -> Result<(f64, u64, usize), Box<dyn std::error::Error>> {
        let t = Instant::now();
        let page = store.query_runs(q)?;
        Ok((t.elapsed().as_secs_f64() * 1e3, page.total.unwrap_or(0), page.runs.len()))
    };
    let (cold, total, len) = run(&q)?;
    let mut warm = Vec::new();
    for _ in 0..5 {
        warm.push(run(&q)?.0);
    }
    warm.sort_by(f64::total_cmp);
    Ok((cold, warm[2], total, len))
}

fn fill(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [db, entity, project, n] = args else {
        return Err("usage: runs-bench --fill DB ENTITY PROJECT N".into());
    };
    let store =
        SqliteStore::open_with(std::path::Path::new(db), OpenOptions { durable: false, ..OpenOptions::default() })?;
    load_into(&store, entity, project, n.parse()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--fill") {
        return fill(&args[1..]);
    }
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    // RUNS_BENCH_DIR keeps the database for inspection; by default it is a temp dir, removed.
    let keep = std::env::var_os("RUNS_BENCH_DIR");
    let dir = keep
        .clone()
        .map_or_else(|| std::env::temp_dir().join(format!("trackway-runs-bench-{}", std::process::id())), Into::into);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench.db");
    {
        let loader = SqliteStore::open_with(&path, OpenOptions { durable: false, ..OpenOptions::default() })?;
        loader.create_user("bench", true)?;
        load(&loader, n)?;
    }
    let size = std::fs::metadata(&path)?.len() + std::fs::metadata(dir.join("bench.db-wal")).map_or(0, |m| m.len());
    println!("database size {:.0} MiB", size as f64 / (1 << 20) as f64);
    let store = SqliteStore::open(&path)?;
    let queries: Vec<(&str, Json, &str)> = vec![
        ("no filter, newest first", json!({}), "-created_at"),
        ("config float > x, sort by summary", json!({"config.f01": {"$gt": 0.5}}), "-summary_metrics.s00"),
        (
            "nested config $in + state, sort by config",
            json!({"config.model.depth": {"$in": [3, 4]}, "state": "finished"}),
            "config.f02",
        ),
        (
            "config category AND summary range",
            json!({"$and": [{"config.c03": "cat7"}, {"summary_metrics.s01": {"$lt": 0.2}}]}),
            "-created_at",
        ),
        ("tag, sort by summary", json!({"tags": "tag7"}), "-summary_metrics.s02"),
        ("name regex", json!({"display_name": {"$regex": "^run-1234"}}), "-created_at"),
        (
            "$or of config keys, missing-key aware",
            json!({"$or": [{"config.f01": {"$exists": false}}, {"config.i03": {"$gte": 95}}]}),
            "-summary_metrics.s00",
        ),
    ];
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>8}",
        "filter + sort + first page of 50 + total", "cold ms", "warm ms", "no-total", "matches"
    );
    for (label, filter, order) in &queries {
        let (cold, warm, total, len) = time_query(&store, filter, order, true)?;
        let (_, page_only, _, _) = time_query(&store, filter, order, false)?;
        assert!(len <= 50);
        println!("{label:<44} {cold:>9.1} {warm:>9.1} {page_only:>9.1} {total:>8}");
    }
    drop(store);
    if keep.is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
