//! `make bench`: how long the sweep controller takes to answer a claim once a sweep has 1,000
//! finished trials (random and bayes), through the same code the claim route runs (refresh of
//! unsettled trials, the TPE suggestion inside the store's write transaction, the insert).
//! Target (issue 17): ≤ 20 ms per claim. Also: what naming each run's sweep costs a runs-list
//! request (`sweeps::sweep_of_runs` for a first page of 100 run ids) in a project holding both
//! sweeps' 2,200 trials.

use std::time::Instant;

use serde_json::json;
use trackway_server::AppState;
use trackway_store::{Claim, NewSweep, TrialUpdate};

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let state = AppState::open(dir.path())?;
    for method in ["random", "bayes"] {
        let id = format!("bench-{method}");
        let config = json!({"method": method, "metric": {"name": "f", "goal": "minimize"}, "parameters": {
            "x": {"min": -5.0, "max": 10.0}, "y": {"min": 0.0, "max": 15.0},
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "opt": {"values": ["adam", "sgd", "rmsprop"]}}});
        let new = NewSweep {
            id: id.clone(),
            entity: "bench".into(),
            project: "p".into(),
            name: None,
            config,
            method: method.into(),
            seed: 1,
        };
        let sweep = state.sweeps.create_sweep(&new)?;
        // 1,000 finished trials with metrics (as the refresh leaves them once their runs ended)
        for _ in 0..1000 {
            let Claim::Trial(t) =
                trackway_server::sweeps::claim(&state, &sweep, "bench").map_err(|e| anyhow::anyhow!("{e}"))?
            else {
                anyhow::bail!("no trial")
            };
            let (x, y) = (t.config["x"].as_f64().unwrap_or(0.0), t.config["y"].as_f64().unwrap_or(0.0));
            let f = (y - 0.129 * x * x + 1.59 * x - 6.0).powi(2) + 9.6 * x.cos() + 10.0;
            let update =
                TrialUpdate { run_id: t.run_id, state: Some("finished".into()), metric: Some(f), settled: true };
            state.sweeps.update_trials(&id, &[update])?;
        }
        let mut times = Vec::new();
        for _ in 0..100 {
            let start = Instant::now();
            let out = trackway_server::sweeps::claim(&state, &sweep, "bench").map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(matches!(out, Claim::Trial(_)), "claim refused");
        }
        times.sort_by(f64::total_cmp);
        println!(
            "sweep claim ({method}, 1000 finished trials): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target ≤ 20 ms)",
            times[50], times[98], times[99]
        );
    }
    // A page of 100 runs: 50 trials of each sweep (the page the runs list shows first).
    let page: Vec<String> = (0..50).flat_map(|i| [format!("bench-random-{i}"), format!("bench-bayes-{i}")]).collect();
    let mut times = Vec::new();
    for _ in 0..100 {
        let start = Instant::now();
        let names =
            trackway_server::sweeps::sweep_of_runs(&state, "bench", "p", &page).map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(names.len() == page.len(), "{} of {} trial runs named", names.len(), page.len());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "runs list: naming the sweep of a page's 100 runs (2 sweeps, 2200 trials): p50 {:.2} ms, p99 {:.2} ms",
        times[50], times[98]
    );
    Ok(())
}
