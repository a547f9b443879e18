//! History store benchmark: ingest rate, stored bytes per point, chart latency, peak RSS.
//!
//! `cargo run --release -p trackway-history --bin history-bench -- [RUNS] [STEPS] [BATCH]`
//! (defaults 1000 runs × 100,000 steps, 1,000 rows per append). Env `HISTORY_BENCH_DB` keeps the
//! database at that path instead of a temporary directory.
//!
//! Generator (deterministic): one metric `loss` per row, logged every step, a float32-origin
//! loss curve `f32(2·exp(-step/20000) + 0.3 + 0.05·u·(1 + exp(-step/5000)))` with `u` uniform in
//! [0,1), stored as f64 (what Python's `float(tensor.item())` logs); `_timestamp` =
//! 1.7e9 + 0.25·step + uniform jitter in [0, 10 ms) at full f64 precision; `_runtime` =
//! `_timestamp` - start (full precision too). `HISTORY_BENCH_METRICS=N` logs N metrics per row
//! instead of one (`loss` plus `m1`.. with other decays and noise levels, same float32 origin),
//! to see the per-row `_timestamp`/`_runtime` cost amortised as in real training logs.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::Connection;
use trackway_history::{ChartQuery, HistoryRow, HistoryStore, Map, SqliteHistory, Value, XAxis};

struct Gen(u64);

impl Gen {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn vm_hwm_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn metrics() -> usize {
    std::env::var("HISTORY_BENCH_METRICS").ok().and_then(|v| v.parse().ok()).unwrap_or(1usize).max(1)
}

fn metric_name(k: usize) -> String {
    if k == 0 { "loss".to_string() } else { format!("m{k}") }
}

fn fill(rows: &mut [HistoryRow], first: u64, g: &mut Gen) {
    for (i, r) in rows.iter_mut().enumerate() {
        let step = first + i as u64;
        let s = step as f64;
        r.step = step;
        r.ts = 1.7e9 + 0.25 * s + 0.01 * g.unit();
        r.rt = r.ts - 1.7e9;
        for (k, v) in r.data.values_mut().enumerate() {
            let kf = k as f64;
            let tau = 20_000.0 * (1.0 + kf * 0.37);
            let val = (2.0 + kf) * (-s / tau).exp()
                + 0.3 / (1.0 + kf)
                + 0.05 * (1.0 + kf * 0.1) * g.unit() * (1.0 + (-s / 5000.0).exp());
            *v = Value::Float(f64::from(val as f32));
        }
    }
}

fn ingest(h: &SqliteHistory, runs: i64, steps: u64, batch: usize) -> Result<Duration> {
    let mut rows: Vec<HistoryRow> = (0..batch)
        .map(|_| {
            let mut data = Map::new();
            for k in 0..metrics() {
                data.insert(metric_name(k), Value::Float(0.0));
            }
            HistoryRow { step: 0, ts: 0.0, rt: 0.0, data }
        })
        .collect();
    let mut spent = Duration::ZERO;
    let t_all = Instant::now();
    for run in 1..=runs {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15 ^ run as u64);
        let mut first = 0;
        while first < steps {
            let n = batch.min((steps - first) as usize);
            fill(&mut rows[..n], first, &mut g);
            let t = Instant::now();
            h.append(run, &rows[..n])?;
            spent += t.elapsed();
            first += n as u64;
        }
        if run % 100 == 0 {
            let pts = run as f64 * steps as f64 * metrics() as f64;
            eprintln!("  ingested {run} runs, {:.2} M metric points/s so far", pts / spent.as_secs_f64() / 1e6);
        }
    }
    eprintln!("  ingest wall time incl. data generation: {:.1} s", t_all.elapsed().as_secs_f64());
    Ok(spent)
}

fn table_bytes(conn: &Connection, sql: &str) -> Result<i64> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))?.unwrap_or(0))
}

fn sizes(path: &std::path::Path, points: f64) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let by_key = |k: &str, table: &str| -> Result<i64> {
        table_bytes(
            &conn,
            &format!("SELECT sum(length(data)) FROM {table} WHERE key = (SELECT id FROM hist_key WHERE name = '{k}')"),
        )
    };
    let loss_chunks = by_key("loss", "hist_chunk")?;
    let loss_pyr = by_key("loss", "hist_pyr")?;
    let ts = by_key("_timestamp", "hist_chunk")?;
    let rt = by_key("_runtime", "hist_chunk")?;
    let tail = table_bytes(&conn, "SELECT sum(length(data)) FROM hist_tail")?;
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let file = (pages * page) as f64;
    println!("stored bytes per point (points = {points:.0}):");
    println!("  loss values+steps (chunks)       {:.3} B/pt", loss_chunks as f64 / points);
    println!("  loss pyramid                     {:.3} B/pt", loss_pyr as f64 / points);
    println!("  loss total (chunks + pyramid)    {:.3} B/pt", (loss_chunks + loss_pyr) as f64 / points);
    println!("  row _timestamp (f64, full prec.) {:.3} B/row", ts as f64 / points);
    println!("  row _runtime   (f64, full prec.) {:.3} B/row", rt as f64 / points);
    println!("  tail left uncompacted            {tail} B");
    let m = metrics() as f64;
    if m > 1.0 {
        let all_pts = points * m;
        let chunks = table_bytes(&conn, "SELECT sum(length(data)) FROM hist_chunk")?;
        let pyr = table_bytes(&conn, "SELECT sum(length(data)) FROM hist_pyr")?;
        println!(
            "  all {m} metrics + row ts/rt, per metric point: {:.3} B/pt (chunks {:.3} + pyramid {:.3})",
            (chunks + pyr) as f64 / all_pts,
            chunks as f64 / all_pts,
            pyr as f64 / all_pts
        );
        println!("  SQLite file per metric point     {:.3} B/pt", (pages * page) as f64 / all_pts);
    }
    println!("  SQLite file (all tables, pages)  {:.3} B/pt = {:.1} MiB", file / points, file / 1048576.0);
    Ok(())
}

/// User+system CPU seconds of this process so far (from /proc, 10 ms resolution).
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (tick(11) + tick(12)) / 100.0
}

fn time_chart(h: &SqliteHistory, q: &ChartQuery, label: &str) -> Result<()> {
    if std::env::var("HISTORY_BENCH_ONLY").is_ok_and(|o| !label.starts_with(&o)) {
        return Ok(());
    }
    let reps = std::env::var("HISTORY_BENCH_REPEAT").ok().and_then(|r| r.parse().ok()).unwrap_or(5usize).max(1);
    let mut times = Vec::new();
    let mut buckets = 0;
    let mut exact = 0;
    let cpu0 = cpu_seconds();
    for _ in 0..reps {
        let t = Instant::now();
        let s = h.chart(q)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        buckets = s.iter().map(|x| x.x.len()).sum();
        exact = s.iter().filter(|x| x.exact).count();
    }
    let cpu_ms = (cpu_seconds() - cpu0) * 1e3 / reps as f64;
    times.sort_by(f64::total_cmp);
    println!(
        "chart {label}: {} runs, {buckets} buckets total ({exact} exact series): min {:.1} ms, median {:.1} ms, max {:.1} ms wall; {cpu_ms:.0} ms CPU per query",
        q.runs.len(),
        times[0],
        times[reps / 2],
        times[reps - 1]
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (runs, steps, batch) = (arg(0, 1000) as i64, arg(1, 100_000), arg(2, 1000) as usize);
    let dir = tempfile::tempdir()?;
    let path = std::env::var_os("HISTORY_BENCH_DB").map_or_else(|| dir.path().join("bench.db"), Into::into);
    // HISTORY_BENCH_QUERY_ONLY=1 with HISTORY_BENCH_DB reuses a database from an earlier run.
    let query_only = std::env::var_os("HISTORY_BENCH_QUERY_ONLY").is_some() && path.exists();
    if !query_only {
        let _ = std::fs::remove_file(&path);
    }
    println!(
        "history-bench: {runs} runs x {steps} steps, {} metric(s) per row, {batch} rows per append, db {}",
        metrics(),
        path.display()
    );
    let h = SqliteHistory::open(&path).context("open")?;

    if !query_only {
        load(&h, &path, runs, steps, batch)?;
    }
    query(&h, runs, steps)?;
    println!("peak RSS (VmHWM) of the whole benchmark: {:.1} MiB", vm_hwm_mib());
    Ok(())
}

fn load(h: &SqliteHistory, path: &std::path::Path, runs: i64, steps: u64, batch: usize) -> Result<()> {
    let points = runs as f64 * steps as f64;
    let m = metrics() as f64;
    let spent = ingest(h, runs, steps, batch)?;
    println!(
        "ingest (append calls incl. automatic compaction): {:.1} s, {:.2} M metric points/s = {:.2} M rows/s of {m} metric(s) ({:.2} M values/s incl. _timestamp/_runtime)",
        spent.as_secs_f64(),
        m * points / spent.as_secs_f64() / 1e6,
        points / spent.as_secs_f64() / 1e6,
        (m + 2.0) * points / spent.as_secs_f64() / 1e6
    );
    if std::env::var_os("HISTORY_BENCH_LIVE").is_some() {
        // Leave every run's live tail (as while runs are still logging) to time charts over it.
        println!("HISTORY_BENCH_LIVE: no final compaction, runs keep their live tails");
    } else {
        let t = Instant::now();
        for run in 1..=runs {
            h.compact(run)?;
        }
        println!("final compaction of remaining tails: {:.1} s", t.elapsed().as_secs_f64());
    }
    println!("peak RSS after ingest: {:.1} MiB", vm_hwm_mib());
    sizes(path, points)
}

fn query(h: &SqliteHistory, runs: i64, steps: u64) -> Result<()> {
    let all: Vec<i64> = (1..=runs).collect();
    let full = ChartQuery {
        runs: all.clone(),
        metric: "loss".into(),
        x: XAxis::Step,
        x_min: None,
        x_max: None,
        buckets: 1000,
    };
    time_chart(h, &full, "full range, 1000 buckets")?;
    let mid = steps as f64 / 2.0;
    let half = steps as f64 * 0.025;
    let zoom =
        ChartQuery { x_min: Some((mid - half).floor()), x_max: Some((mid + half).floor() - 1.0), ..full.clone() };
    time_chart(h, &zoom, "5% zoom, 1000 buckets")?;
    let few = ChartQuery { runs: all[..runs.min(10) as usize].to_vec(), buckets: 2000, ..full.clone() };
    time_chart(h, &few, "10 runs full range, 2000 buckets")?;
    let rt = ChartQuery { runs: all[..runs.min(10) as usize].to_vec(), x: XAxis::Runtime, ..full.clone() };
    time_chart(h, &rt, "10 runs x=_runtime (scan path), 1000 buckets")?;
    time_export(h)
}

fn time_export(h: &SqliteHistory) -> Result<()> {
    let mut sink = CountingSink(0);
    let t = Instant::now();
    let rows = trackway_history::export::write_csv(h, 1, None, &mut sink)?;
    let csv = t.elapsed().as_secs_f64();
    let mut pq = CountingSink(0);
    let t = Instant::now();
    trackway_history::export::write_parquet(h, 1, None, &mut pq)?;
    let parquet = t.elapsed().as_secs_f64();
    println!(
        "export run 1 ({rows} rows): CSV {:.0} ms ({:.1} MB), Parquet {:.0} ms ({:.2} MB, {:.2} B/row)",
        csv * 1e3,
        sink.0 as f64 / 1e6,
        parquet * 1e3,
        pq.0 as f64 / 1e6,
        pq.0 as f64 / rows.max(1) as f64
    );
    Ok(())
}

/// Counts bytes written (export throughput without disk I/O).
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
