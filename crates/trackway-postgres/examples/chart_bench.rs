//! The history engine alone (no HTTP route) charting one metric over many runs, on PostgreSQL
//! and on SQLite in the same run, so the two compare as a ratio (issue 15's 1,000-run chart).
//!
//! `cargo run --release -p trackway-postgres --example chart_bench -- [RUNS] [STEPS] [BATCH]`
//! (defaults 1,000 runs × 10,000 steps, appends of 1,000 rows). Every run logs `loss` at every
//! step through `HistoryStore::append` (live tails are left as while runs still log), then the
//! chart of all runs at 1,000 buckets is timed (median of 7). PostgreSQL is a server started from
//! the installed binaries (`trackway_postgres::testpg`, fsync=off) sharing this machine's cores.

use std::time::Instant;

use anyhow::Result;
use trackway_history::{ChartQuery, HistoryRow, HistoryStore, Map, SqliteHistory, Value, XAxis};
use trackway_postgres::{PgHistory, PoolOptions, connect, testpg};

fn rows(run: i64, from: u64, n: u64) -> Vec<HistoryRow> {
    (from..from + n)
        .map(|s| {
            let mut data = Map::new();
            let v = (2.0 * (-(s as f64) / 20_000.0).exp() + 0.01 * ((s * 7 + run as u64) % 13) as f64) as f32;
            data.insert("loss".into(), Value::Float(f64::from(v)));
            HistoryRow { step: s, ts: 1.7e9 + s as f64 * 0.25, rt: s as f64 * 0.25, data }
        })
        .collect()
}

fn fill(h: &dyn HistoryStore, runs: i64, steps: u64, batch: u64) -> Result<f64> {
    let started = Instant::now();
    for run in 1..=runs {
        let mut step = 0;
        while step < steps {
            let n = batch.min(steps - step);
            h.append(run, &rows(run, step, n))?;
            step += n;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Median milliseconds of the chart of every run, and the buckets it returned.
fn chart(h: &dyn HistoryStore, runs: i64) -> Result<(f64, usize)> {
    let q = ChartQuery {
        runs: (1..=runs).collect(),
        metric: "loss".into(),
        x: XAxis::Step,
        x_min: None,
        x_max: None,
        buckets: 1000,
    };
    let mut ms = Vec::new();
    let mut buckets = 0;
    for _ in 0..7 {
        let started = Instant::now();
        let series = h.chart(&q)?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        buckets = series.iter().map(|s| s.x.len()).sum();
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[ms.len() / 2], buckets))
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() -> Result<()> {
    let (runs, steps, batch) = (arg(1, 1000) as i64, arg(2, 10_000), arg(3, 1000).max(1));
    let dir = std::env::temp_dir().join(format!("trackway-chart-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pg = PgHistory::new(connect(&testpg::fresh_database(), &PoolOptions::default())?);
    let sqlite = SqliteHistory::open(dir.join("history.db"))?;
    println!("engine chart bench: {runs} runs x {steps} steps of `loss`, appends of {batch} rows, 1000 buckets");
    for (name, h) in [("PostgreSQL", &pg as &dyn HistoryStore), ("SQLite", &sqlite as &dyn HistoryStore)] {
        let secs = fill(h, runs, steps, batch)?;
        let (ms, buckets) = chart(h, runs)?;
        println!(
            "  {name:10} fill {:>9.0} rows/s   chart of {runs} runs: {ms:>7.1} ms (median of 7), {buckets} buckets",
            (runs as f64) * steps as f64 / secs
        );
    }
    println!("  (test PostgreSQL runs with fsync=off on the same cores)");
    drop(sqlite);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
