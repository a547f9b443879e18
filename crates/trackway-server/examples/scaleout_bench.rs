//! `make bench` (issue 15): ingest and chart queries through two replicas on PostgreSQL, and the
//! same load on one SQLite server in the same run, so the two compare as a ratio.
//!
//! The two replicas are two server states in this process, each with its own connection pool
//! and router, sharing nothing but the database (a real PostgreSQL started from the installed
//! binaries by `trackway_postgres::testpg`); requests alternate between them as a round-robin
//! balancer would send them. Requests go through the whole router (zstd decompression, auth,
//! record parsing, one transaction per batch) without sockets. History lives only in the
//! database, so the blob store plays no part in these figures.
//!
//! Caveat printed with the figures: the test PostgreSQL runs with `fsync=off` (the SQLite server
//! here keeps `synchronous=FULL`), so its ingest figure is an upper bound for a durable setup.
//!
//! Usage: `scaleout_bench [runs] [steps per run] [rows per batch]`.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use trackway_server::{AppState, Backends};

const METRICS: u64 = 10;

/// One zstd ingest body: `rows` history rows of `run` from `first_step`, at log offset `from`.
fn batch(run: &str, from: u64, first_step: u64, rows: u64) -> (Vec<u8>, u64) {
    let mut pos = from;
    let mut records = Vec::with_capacity(rows as usize + 1);
    let mut push = |r: Value| {
        let len = r.to_string().len() as u64 + 1;
        records.push(json!([pos, r]));
        pos += len;
    };
    if from == 0 {
        push(json!({"t":"run","v":1,"log_id":"bench-log-000000","run_id":run,"project":"bench","config":{"lr":0.01}}));
    }
    for step in first_step..first_step + rows {
        let data: serde_json::Map<String, Value> =
            (0..METRICS).map(|m| (format!("m{m}"), json!((step as f64 * 0.001 + m as f64).sin()))).collect();
        push(json!({"t":"history","step":step,"ts":1.7e9 + step as f64,"rt":step as f64 * 0.01,"data":data}));
    }
    let body =
        json!({"project":"bench","run_id":run,"log_id":"bench-log-000000","from":from,"to":pos,"records":records});
    (zstd::encode_all(body.to_string().as_bytes(), 3).unwrap_or_default(), pos)
}

/// Every run's bodies, built before the clock starts.
fn bodies(runs: u64, steps: u64, per_batch: u64) -> Vec<Vec<Vec<u8>>> {
    (0..runs)
        .map(|r| {
            let (mut out, mut from, mut step) = (Vec::new(), 0, 0);
            while step < steps {
                let n = per_batch.min(steps - step);
                let (body, to) = batch(&format!("run{r}"), from, step, n);
                out.push(body);
                (from, step) = (to, step + n);
            }
            out
        })
        .collect()
}

async fn send(app: &Router, key: &str, req: Request<Body>) -> anyhow::Result<Vec<u8>> {
    let mut req = req;
    req.headers_mut().insert("authorization", format!("Bearer {key}").parse()?);
    let resp = app.clone().oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    anyhow::ensure!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&bytes));
    Ok(bytes.to_vec())
}

/// Ingests every run at once (one writer per run, its batches in order), batch `j` of run `r`
/// through replica `(r + j) % replicas`. Returns points per second.
async fn ingest(apps: &[Router], key: &str, runs: u64, steps: u64, per_batch: u64) -> anyhow::Result<f64> {
    let all = bodies(runs, steps, per_batch);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (r, run_bodies) in all.into_iter().enumerate() {
        let (apps, key) = (apps.to_vec(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            for (j, body) in run_bodies.into_iter().enumerate() {
                let req = Request::post("/api/v1/ingest")
                    .header("content-type", "application/json")
                    .header("content-encoding", "zstd")
                    .body(Body::from(body))?;
                send(&apps[(r + j) % apps.len()], &key, req).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok((runs * steps * METRICS) as f64 / started.elapsed().as_secs_f64())
}

/// Median milliseconds of a chart query of one metric over every run (1,000 buckets).
async fn chart(apps: &[Router], key: &str, runs: u64) -> anyhow::Result<f64> {
    let list: Vec<Value> = (0..runs).map(|r| json!({"project": "bench", "run_id": format!("run{r}")})).collect();
    let body = json!({"runs": list, "metric": "m3", "buckets": 1000}).to_string();
    let mut ms = Vec::new();
    for i in 0..7 {
        let req = Request::post("/api/v1/charts/query")
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))?;
        let started = Instant::now();
        send(&apps[i % apps.len()], key, req).await?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[ms.len() / 2])
}

/// The replicas' routers and an API key valid on all of them.
fn replicas(states: Vec<AppState>) -> anyhow::Result<(Vec<Router>, String)> {
    states[0].store.create_user("bench", true)?;
    let key = states[0].store.create_api_key("bench", None)?.key;
    Ok((states.into_iter().map(trackway_server::app).collect(), key))
}

/// Bytes of the history tables (rows, indexes, TOAST) of the PostgreSQL database at `url`.
fn pg_history_bytes(url: &str) -> anyhow::Result<u64> {
    let sql = "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class \
               WHERE relkind = 'r' AND relname LIKE 'hist\\_%'";
    let psql = trackway_postgres::testpg::bin_dir().join("psql");
    let out = std::process::Command::new(psql).args([url, "-tAc", sql]).output()?;
    anyhow::ensure!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// Bytes of the files of a SQLite data directory (database and WAL; metadata included).
fn dir_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let meta = e?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let (runs, steps, per_batch) = (arg(1, 16), arg(2, 10_000), arg(3, 1_000));
    let tmp = tempfile::tempdir()?;
    // testpg blocks on its own client runtime: not on this runtime's worker.
    let url = tokio::task::block_in_place(trackway_postgres::testpg::fresh_database);
    let backends = Backends { database_url: Some(url.clone()), blob_url: None, db_pool_size: 16 };
    let pg: Vec<AppState> = (0..2)
        .map(|i| {
            tokio::task::block_in_place(|| AppState::open_with(&tmp.path().join(format!("replica{i}")), &backends))
        })
        .collect::<Result<_, _>>()?;
    let sqlite = vec![tokio::task::block_in_place(|| AppState::open(&tmp.path().join("single")))?];
    println!("scale-out bench: {runs} runs x {steps} steps x {METRICS} metrics, batches of {per_batch} rows");
    let points = (runs * steps * METRICS) as f64;
    for (name, states) in [("PostgreSQL, 2 replicas", pg), ("SQLite, 1 server", sqlite)] {
        let on_pg = states.len() > 1;
        let (apps, key) = tokio::task::block_in_place(|| replicas(states))?;
        let rate = ingest(&apps, &key, runs, steps, per_batch).await?;
        let ms = chart(&apps, &key, runs).await?;
        let bytes = if on_pg { pg_history_bytes(&url)? } else { dir_bytes(&tmp.path().join("single"))? };
        println!(
            "  {name:24} ingest {:>10.0} points/s   chart of {runs} runs x {steps} steps: {ms:>7.1} ms (median of 7)   \
             {:.1} B/point on disk ({})",
            rate,
            bytes as f64 / points,
            if on_pg { "history tables with indexes and TOAST" } else { "whole database file and WAL" },
        );
        // The PostgreSQL pools close their connections on a blocking client: not on a runtime worker.
        tokio::task::block_in_place(move || drop(apps));
    }
    println!("  (test PostgreSQL runs with fsync=off; SQLite with synchronous=FULL)");
    Ok(())
}
