//! Server-side ingest throughput: zstd-compressed `POST /api/v1/ingest` batches of history rows
//! (10 float metrics per row) through the full router (decompression, auth, record parsing,
//! one durable SQLite transaction per batch with `synchronous=FULL`), no sockets.
//! Usage: `ingest-bench [rows] [rows_per_batch]`.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;

fn batch(run: &str, from: u64, first_step: u64, rows: u64) -> (Vec<u8>, u64) {
    let mut pos = from;
    let mut records = Vec::with_capacity(rows as usize + 1);
    let mut push = |r: Value| {
        let len = r.to_string().len() as u64 + 1;
        records.push(json!([pos, r]));
        pos += len;
    };
    if from == 0 {
        push(json!({"t":"run","v":1,"log_id":"bench-log-000000","run_id":run,"project":"bench"}));
    }
    for step in first_step..first_step + rows {
        let mut data = serde_json::Map::new();
        for m in 0..10 {
            data.insert(format!("m{m}"), json!((step as f64 * 0.001 + m as f64).sin()));
        }
        push(json!({"t":"history","step":step,"ts":1.7e9 + step as f64,"rt":step as f64 * 0.01,"data":data}));
    }
    let body =
        json!({"project":"bench","run_id":run,"log_id":"bench-log-000000","from":from,"to":pos,"records":records});
    (zstd::encode_all(body.to_string().as_bytes(), 3).unwrap_or_default(), pos)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let per_batch: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let dir = std::env::temp_dir().join(format!("trackway-ingest-bench-{}", std::process::id()));
    let state = trackway_server::AppState::open(&dir)?;
    state.store.create_user("bench", true)?;
    let key = state.store.create_api_key("bench", None)?.key;
    let app = trackway_server::app(state);
    // Bodies are built up front so the timing covers the server only.
    let mut bodies = Vec::new();
    let (mut from, mut step) = (0, 0);
    while step < rows {
        let n = per_batch.min(rows - step);
        let (body, to) = batch("run1", from, step, n);
        bodies.push(body);
        from = to;
        step += n;
    }
    let started = Instant::now();
    for body in bodies {
        let req = Request::post("/api/v1/ingest")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .header("content-encoding", "zstd")
            .body(Body::from(body))?;
        let resp = app.clone().oneshot(req).await?;
        if !resp.status().is_success() {
            return Err(format!("ingest failed: {}", resp.status()).into());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let points = rows * 10;
    println!(
        "server ingest: {rows} rows x 10 metrics in batches of {per_batch}: {secs:.2} s, {:.0} points/s",
        points as f64 / secs
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
