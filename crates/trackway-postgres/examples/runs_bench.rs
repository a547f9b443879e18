//! `make bench` (issues 4 and 15): the 100,000-run table — filter + sort + first page of 50 with
//! the total count — on SQLite and on PostgreSQL in one run, through the backend-neutral
//! `MetadataStore`, so the same query objects run on both (the data and the shapes:
//! `trackway_store::runs_bench`). Each shape is timed cold (first run: it may create the key's
//! expression index) and warm (median of 5); both backends must count the same matches.
//!
//! PostgreSQL is a throwaway server started from the installed binaries (`testpg`: default
//! settings but `fsync=off`, so 128 MB of shared buffers for a ~250 MB runs table); when they
//! are absent the PostgreSQL half is skipped with a line saying so.
//!
//! Usage: `runs_bench [N]` (default 100,000). `RUNS_BENCH_PG_URL=postgres://...` uses that
//! (empty) database instead of a throwaway server; `RUNS_BENCH_ONLY=postgres|sqlite` runs one
//! backend.

use std::time::Instant;

use trackway_postgres::{PgStore, PoolOptions, testpg};
use trackway_store::runs_bench::{self, Shape, Timing};
use trackway_store::{MetadataStore, OpenOptions, SqliteStore};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn time_all(store: &dyn MetadataStore, shapes: &[Shape]) -> AnyResult<Vec<Timing>> {
    shapes.iter().map(|s| Ok(runs_bench::time_shape(store, "bench", "proj", s)?)).collect()
}

fn sqlite(n: usize, shapes: &[Shape], dir: &std::path::Path) -> AnyResult<Vec<Timing>> {
    let path = dir.join("bench.db");
    {
        let loader = SqliteStore::open_with(&path, OpenOptions { durable: false, ..OpenOptions::default() })?;
        loader.create_user("bench", true)?;
        let secs = runs_bench::fill(n, |batch| loader.bulk_insert("bench", "proj", batch))?;
        println!("SQLite: loaded {n} runs in {secs:.1} s");
    }
    time_all(&SqliteStore::open(&path)?, shapes)
}

fn postgres(n: usize, shapes: &[Shape]) -> AnyResult<Vec<Timing>> {
    let url = std::env::var("RUNS_BENCH_PG_URL").unwrap_or_else(|_| testpg::fresh_database());
    let pool = trackway_postgres::connect(&url, &PoolOptions { max_size: 4, ..PoolOptions::default() })?;
    let store = PgStore::new(pool.clone());
    store.create_user("bench", true)?;
    let secs = runs_bench::fill(n, |batch| store.bulk_insert("bench", "proj", batch))?;
    // What autovacuum would soon do to a table this size: statistics and the visibility map.
    let started = Instant::now();
    pool.get()?.batch_execute("VACUUM ANALYZE")?;
    let vacuum = started.elapsed().as_secs_f64();
    println!("PostgreSQL: loaded {n} runs in {secs:.1} s, then VACUUM ANALYZE in {vacuum:.1} s");
    time_all(&store, shapes)
}

fn main() -> AnyResult<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let shapes = runs_bench::shapes();
    let dir = tempfile::Builder::new().prefix("trackway-runs-bench-").tempdir()?;
    let only = std::env::var("RUNS_BENCH_ONLY").unwrap_or_default();
    let lite = if only == "postgres" { None } else { Some(sqlite(n, &shapes, dir.path())?) };
    let pg = if only == "sqlite" {
        None
    } else if std::env::var_os("RUNS_BENCH_PG_URL").is_some() || testpg::bin_dir().join("initdb").exists() {
        Some(postgres(n, &shapes)?)
    } else {
        println!("PostgreSQL: SKIPPED, no server binaries in {} (set TRACKWAY_PG_BIN)", testpg::bin_dir().display());
        None
    };
    println!(
        "{:<44} {:>23} {:>23} {:>8}",
        format!("{n} runs: filter + sort + page of 50 + total"),
        "SQLite cold/warm/page",
        "PostgreSQL cold/warm/page",
        "matches"
    );
    let cell = |t: &Timing| format!("{:.1}/{:.1}/{:.1}", t.cold, t.warm, t.page_only);
    for (i, shape) in shapes.iter().enumerate() {
        let (l, p) = (lite.as_ref().map(|l| &l[i]), pg.as_ref().map(|p| &p[i]));
        if let (Some(l), Some(p)) = (l, p)
            && l.total != p.total
        {
            return Err(format!("{}: SQLite counts {}, PostgreSQL {}", shape.label, l.total, p.total).into());
        }
        let total = l.or(p).map_or(0, |t| t.total);
        let show = |t: Option<&Timing>| t.map_or_else(|| "-".to_owned(), cell);
        println!("{:<44} {:>23} {:>23} {:>8}", shape.label, show(l), show(p), total);
    }
    println!("(ms; warm = median of 5 after the cold run; page = the same page without the total)");
    Ok(())
}
