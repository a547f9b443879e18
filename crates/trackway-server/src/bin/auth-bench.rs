//! Authorization overhead, measured in one run through the full router (no sockets): ingest
//! throughput and chart-query latency with a server admin's full key and with a member's
//! team-scoped key (entity scope, membership check), interleaved so both see the same disk; and
//! the cost of the authorization step alone (key lookup + scope + membership check), as a share
//! of each request. Usage: `auth-bench [batches] [rows_per_batch] [queries]`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use trackway_store::{KeyScope, NewKey, NewUser, Role};

fn batch(run: &str, from: u64, first_step: u64, rows: u64) -> (Vec<u8>, u64) {
    let mut pos = from;
    let mut records = Vec::new();
    let mut push = |r: Value| {
        let len = r.to_string().len() as u64 + 1;
        records.push(json!([pos, r]));
        pos += len;
    };
    if from == 0 {
        push(json!({"t":"run","v":1,"log_id":"bench-log-000000","run_id":run,"project":"bench","entity":"lab"}));
    }
    for step in first_step..first_step + rows {
        let data: serde_json::Map<String, Value> =
            (0..10).map(|m| (format!("m{m}"), json!((step as f64 * 0.001 + f64::from(m)).sin()))).collect();
        push(json!({"t":"history","step":step,"ts":1.7e9 + step as f64,"data":data}));
    }
    let body = json!({"entity":"lab","project":"bench","run_id":run,"log_id":"bench-log-000000","from":from,"to":pos,"records":records});
    (zstd::encode_all(body.to_string().as_bytes(), 3).unwrap_or_default(), pos)
}

async fn send(
    app: &axum::Router,
    key: &str,
    uri: &str,
    body: Vec<u8>,
    zstd: bool,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut req =
        Request::post(uri).header("authorization", format!("Bearer {key}")).header("content-type", "application/json");
    if zstd {
        req = req.header("content-encoding", "zstd");
    }
    let started = Instant::now();
    let resp = app.clone().oneshot(req.body(Body::from(body))?).await?;
    let took = started.elapsed();
    if !resp.status().is_success() {
        return Err(format!("{uri}: {}", resp.status()).into());
    }
    Ok(took)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = |i: usize, d: u64| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (batches, rows, queries) = (arg(1, 40), arg(2, 2_000), arg(3, 200));
    let dir = std::env::temp_dir().join(format!("trackway-auth-bench-{}", std::process::id()));
    let state = trackway_server::AppState::open(&dir)?;
    state.store.create_user("bench", true)?;
    state.accounts.create_account(&NewUser { username: "max".into(), ..NewUser::default() })?;
    state.store.create_team("lab", "bench")?;
    state.store.add_member("lab", "max", Role::Member)?;
    let full = state.store.create_api_key("bench", None)?.key;
    let scope = KeyScope { entity: Some("lab".into()), ..KeyScope::default() };
    let scoped = state.accounts.create_key(&NewKey { username: "max".into(), scope, ..NewKey::default() })?.key;
    let app = trackway_server::app(state.clone());
    let variants = [("full admin key", full.as_str(), "run-full"), ("team-scoped key", scoped.as_str(), "run-scoped")];

    let mut ingest = [Duration::ZERO; 2];
    let mut pos = [0u64; 2];
    for b in 0..batches {
        for (i, (_, key, run)) in variants.iter().enumerate() {
            let (body, to) = batch(run, pos[i], b * rows, rows);
            pos[i] = to;
            ingest[i] += send(&app, key, "/api/v1/ingest", body, true).await?;
        }
    }
    let mut charts = [Vec::new(), Vec::new()];
    for _ in 0..queries {
        for (i, (_, key, run)) in variants.iter().enumerate() {
            let q = json!({"runs":[{"entity":"lab","project":"bench","run_id":run}],"metric":"m3","buckets":1000});
            charts[i].push(send(&app, key, "/api/v1/charts/query", q.to_string().into_bytes(), false).await?);
        }
    }
    // The authorization step alone: what the middleware and the handler's check do per request.
    let mut auth = [Duration::ZERO; 2];
    let n_auth = 2_000u32;
    for (i, (_, key, _)) in variants.iter().enumerate() {
        let started = Instant::now();
        for _ in 0..n_auth {
            let who = state.accounts.authenticate_key(key, 1.9e9)?.ok_or("key refused")?;
            assert!(who.can_access("lab", true));
        }
        auth[i] = started.elapsed() / n_auth;
    }
    let points = (batches * rows * 10) as f64;
    for (i, (name, _, _)) in variants.iter().enumerate() {
        let per_batch = ingest[i] / u32::try_from(batches)?;
        let chart = median(charts[i].clone());
        println!(
            "auth ({name}): ingest {:.0} points/s; chart query median {:.2} ms; authorization step {:.1} us = {:.2} % of an ingest batch, {:.2} % of a chart query",
            points / ingest[i].as_secs_f64(),
            chart.as_secs_f64() * 1e3,
            auth[i].as_secs_f64() * 1e6,
            100.0 * auth[i].as_secs_f64() / per_batch.as_secs_f64(),
            100.0 * auth[i].as_secs_f64() / chart.as_secs_f64(),
        );
    }
    println!(
        "auth: team-scoped / full key: ingest throughput x{:.3}, chart latency x{:.3}",
        ingest[0].as_secs_f64() / ingest[1].as_secs_f64(),
        median(charts[1].clone()).as_secs_f64() / median(charts[0].clone()).as_secs_f64()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
