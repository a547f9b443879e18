//! Run-table benchmark on SQLite (issue 4): N runs (default 100,000) with 50 config and 20
//! summary keys, then filter + sort + first page (50 runs, with the total count) for the query
//! shapes of [`trackway_store::runs_bench`], each timed cold (first run: it may create the
//! key's expression index) and warm (median of 5). Usage: `runs-bench [N]`.
//!
//! The same figures for SQLite and PostgreSQL in one run: `cargo run --release -p
//! trackway-postgres --example runs_bench` (trackway-postgres depends on this crate, not the
//! other way round).
//!
//! `runs-bench --fill DB ENTITY PROJECT N` only adds N such runs to ENTITY/PROJECT of an existing
//! database (a running server's; the entity must exist): the browser benchmark of the runs
//! table (web/e2e/perf.mjs) fills a real server this way.

use trackway_store::{MetadataStore, OpenOptions, SqliteStore, runs_bench};

fn open_for_fill(path: &std::path::Path) -> trackway_store::Result<SqliteStore> {
    SqliteStore::open_with(path, OpenOptions { durable: false, ..OpenOptions::default() })
}

fn load(store: &SqliteStore, entity: &str, project: &str, n: usize) -> trackway_store::Result<()> {
    let secs = runs_bench::fill(n, |batch| store.bulk_insert(entity, project, batch))?;
    println!("loaded {n} runs (50 config + 20 summary keys) in {secs:.1} s");
    Ok(())
}

fn fill(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [db, entity, project, n] = args else {
        return Err("usage: runs-bench --fill DB ENTITY PROJECT N".into());
    };
    let store = open_for_fill(std::path::Path::new(db))?;
    Ok(load(&store, entity, project, n.parse()?)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--fill") {
        return fill(&args[1..]);
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    // RUNS_BENCH_DIR keeps the database for inspection; by default it is a temp dir, removed.
    let keep = std::env::var_os("RUNS_BENCH_DIR");
    let dir = keep
        .clone()
        .map_or_else(|| std::env::temp_dir().join(format!("trackway-runs-bench-{}", std::process::id())), Into::into);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench.db");
    {
        let loader = open_for_fill(&path)?;
        loader.create_user("bench", true)?;
        load(&loader, "bench", "proj", n)?;
    }
    let size = std::fs::metadata(&path)?.len() + std::fs::metadata(dir.join("bench.db-wal")).map_or(0, |m| m.len());
    println!("database size {:.0} MiB", size as f64 / (1 << 20) as f64);
    let store = SqliteStore::open(&path)?;
    println!("{}", runs_bench::header("SQLite"));
    for shape in runs_bench::shapes() {
        let t = runs_bench::time_shape(&store, "bench", "proj", &shape)?;
        println!("{}", runs_bench::row(&shape, &t));
    }
    drop(store);
    if keep.is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
