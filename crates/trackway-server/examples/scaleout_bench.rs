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
//! The chart figures use their own project, `SCALEOUT_CHART=RUNSxSTEPS` (default 1000x100000,
//! the 1,000 runs x 100,000 steps; `0` skips it): one `loss` metric per step (plus the
//! `_timestamp`/`_runtime` every row carries), written through each backend's history store
//! (the ingest figure above already measures the HTTP path; this only loads data). Each chart is
//! the median of 7 queries through the whole route, alternating replicas, at two bucket budgets:
//! the one the web UI asks for with that many runs on a 1,000 px wide card (`buckets()` in
//! web/src/components/chart.ts: 100 for 1,000 runs) and 1,000 buckets per run; and a 5 % zoom.
//!
//! Usage: `scaleout_bench [runs] [steps per run] [rows per batch]` (the ingest figure).

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use trackway_history::HistoryRow;
use trackway_server::{AppState, Backends};
use trackway_store::{CreateRun, RunKey};

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

/// Median milliseconds of 7 chart queries of `metric` over `runs` runs of `project`, and the
/// answer's size on the wire.
async fn chart(
    apps: &[Router],
    key: &str,
    q: &ChartLoad<'_>,
    buckets: u64,
    zoom: Option<(u64, u64)>,
) -> anyhow::Result<(f64, usize)> {
    let list: Vec<Value> = (0..q.runs).map(|r| json!({"project": q.project, "run_id": format!("run{r}")})).collect();
    let mut body = json!({"runs": list, "metric": q.metric, "buckets": buckets});
    if let Some((lo, hi)) = zoom {
        body["x_min"] = json!(lo);
        body["x_max"] = json!(hi);
    }
    let body = body.to_string();
    let (mut ms, mut bytes) = (Vec::new(), 0);
    for i in 0..7 {
        // What Chromium sends: the answer is compressed as a browser would receive it.
        let req = Request::post("/api/v1/charts/query")
            .header("content-type", "application/json")
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .body(Body::from(body.clone()))?;
        let started = Instant::now();
        let out = send(&apps[i % apps.len()], key, req).await?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(out.len() > 2 * q.runs as usize, "chart answer too short: {} bytes", out.len());
        bytes = out.len();
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[ms.len() / 2], bytes))
}

/// What a chart query reads: `runs` runs named `run{i}` of `project`, `steps` steps each.
struct ChartLoad<'a> {
    project: &'a str,
    metric: &'a str,
    runs: u64,
    steps: u64,
}

/// The web UI's bucket budget per run for `runs` runs on a card `width` px wide (chart.ts `buckets()`).
fn ui_buckets(runs: u64, width: f64) -> u64 {
    let base = width.min(1000.0);
    ((base * (10.0 / runs.max(1) as f64).sqrt().min(1.0)).floor() as u64).max(100)
}

/// One generated `loss` row (a decaying curve with float32-origin noise, as a training script logs).
fn loss_row(run: u64, step: u64) -> HistoryRow {
    let s = step as f64;
    let noise = ((run.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ step.wrapping_mul(0xD1B5_4A32_D192_ED03)) >> 11) as f64
        / (1u64 << 53) as f64;
    let loss = 2.0 * (-s / 20_000.0).exp() + 0.3 + 0.05 * noise * (1.0 + (-s / 5000.0).exp());
    let mut data = trackway_history::Map::new();
    data.insert("loss".into(), trackway_history::Value::Float(f64::from(loss as f32)));
    HistoryRow { step, ts: 1.7e9 + 0.25 * s, rt: 0.25 * s, data }
}

/// Creates the chart project's runs and writes their history through the backend's history
/// store, from several threads (one run at a time each). Returns the seconds it took.
fn load_chart_runs(state: &AppState, q: &ChartLoad<'_>) -> anyhow::Result<f64> {
    let started = Instant::now();
    let next = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let r = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if r >= q.runs {
                            return Ok(());
                        }
                        let key =
                            RunKey { entity: "bench".into(), project: q.project.into(), run_id: format!("run{r}") };
                        let pk =
                            state.store.create_or_resume(&CreateRun { key: Some(key), ..CreateRun::default() })?.run.pk;
                        let mut step = 0;
                        while step < q.steps {
                            let rows: Vec<HistoryRow> =
                                (step..q.steps.min(step + 5000)).map(|i| loss_row(r, i)).collect();
                            state.history.append(pk, &rows)?;
                            step += rows.len() as u64;
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| w.join().map_err(|_| anyhow::anyhow!("loader panicked"))?)
    })?;
    Ok(started.elapsed().as_secs_f64())
}

/// Median milliseconds of the same chart asked of the history store directly (no route, no JSON).
fn engine_chart(state: &AppState, q: &ChartLoad<'_>, buckets: u64, zoom: Option<(u64, u64)>) -> anyhow::Result<f64> {
    let ids: Vec<String> = (0..q.runs).map(|r| format!("run{r}")).collect();
    let runs = state.store.run_pks("bench", q.project, &ids)?.into_iter().flatten().collect();
    let query = trackway_history::ChartQuery {
        runs,
        metric: q.metric.into(),
        x: trackway_history::XAxis::Step,
        x_min: zoom.map(|z| z.0 as f64),
        x_max: zoom.map(|z| z.1 as f64),
        buckets: buckets as usize,
    };
    let mut ms = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        state.history.chart(&query)?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[ms.len() / 2])
}

/// `SCALEOUT_CHART=RUNSxSTEPS`; `None` when set to 0.
fn chart_size() -> Option<(u64, u64)> {
    let v = std::env::var("SCALEOUT_CHART").unwrap_or_else(|_| "1000x100000".into());
    let (r, s) = v.split_once('x').unwrap_or((&v, "0"));
    let (r, s) = (r.parse().unwrap_or(0), s.parse().unwrap_or(0));
    (r > 0 && s > 0).then_some((r, s))
}

/// Loads the chart project on `states[0]`'s backend and prints the chart figures.
async fn chart_figures(states: &[AppState], apps: &[Router], key: &str) -> anyhow::Result<()> {
    let Some((runs, steps)) = chart_size() else { return Ok(()) };
    let q = ChartLoad { project: "chart", metric: "loss", runs, steps };
    let secs = tokio::task::block_in_place(|| load_chart_runs(&states[0], &q))?;
    println!("    chart data: {runs} runs x {steps} steps of `loss` loaded through the history store in {secs:.0} s");
    let ui = ui_buckets(runs, 1000.0);
    let zoom = (steps * 2 / 5, steps * 2 / 5 + steps / 20);
    for (label, buckets, zoom) in
        [("UI budget", ui, None), ("1,000 per run", 1000, None), ("1,000 per run, 5 % zoom", 1000, Some(zoom))]
    {
        let (ms, bytes) = chart(apps, key, &q, buckets, zoom).await?;
        let engine = tokio::task::block_in_place(|| engine_chart(&states[0], &q, buckets, zoom))?;
        println!(
            "    chart of {runs} runs x {steps} steps, {label} ({buckets} buckets): {ms:>7.1} ms (median of 7; \
             the history engine alone {engine:.1} ms; {:.1} MB on the wire)",
            bytes as f64 / 1e6
        );
    }
    Ok(())
}

/// The replicas' routers and an API key valid on all of them.
fn replicas(states: &[AppState]) -> anyhow::Result<(Vec<Router>, String)> {
    states[0].store.create_user("bench", true)?;
    let key = states[0].store.create_api_key("bench", None)?.key;
    Ok((states.iter().cloned().map(trackway_server::app).collect(), key))
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
    // SCALEOUT_ONLY=sqlite|postgres measures one backend (while iterating on it).
    let only = std::env::var("SCALEOUT_ONLY").unwrap_or_default();
    for (name, states) in [("PostgreSQL, 2 replicas", pg), ("SQLite, 1 server", sqlite)] {
        if !only.is_empty() && !name.to_lowercase().starts_with(&only) {
            tokio::task::block_in_place(move || drop(states));
            continue;
        }
        let on_pg = states.len() > 1;
        let (apps, key) = tokio::task::block_in_place(|| replicas(&states))?;
        let rate = ingest(&apps, &key, runs, steps, per_batch).await?;
        let q = ChartLoad { project: "bench", metric: "m3", runs, steps };
        let (ms, _) = chart(&apps, &key, &q, 1000, None).await?;
        let bytes = if on_pg { pg_history_bytes(&url)? } else { dir_bytes(&tmp.path().join("single"))? };
        println!(
            "  {name:24} ingest {:>10.0} points/s   chart of these {runs} runs (1,000 buckets): {ms:>7.1} ms (median of 7)   \
             {:.1} B/point on disk ({})",
            rate,
            bytes as f64 / points,
            if on_pg { "history tables with indexes and TOAST" } else { "whole database file and WAL" },
        );
        chart_figures(&states, &apps, &key).await?;
        // The PostgreSQL pools close their connections on a blocking client: not on a runtime worker.
        tokio::task::block_in_place(move || drop((apps, states)));
    }
    if trackway_postgres::testpg::durable() {
        println!("  (PostgreSQL with fsync, synchronous_commit and full_page_writes on; SQLite with synchronous=FULL)");
    } else {
        println!(
            "  (test PostgreSQL runs with fsync=off, TRACKWAY_PG_DURABLE=1 for a durable one; SQLite with synchronous=FULL)"
        );
    }
    Ok(())
}
