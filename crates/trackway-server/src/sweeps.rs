//! The sweep controller's glue between trackway-sweep's pure rules and the stores: a trial's
//! metric and end come from its run (summary, state, metric history), decisions run inside the
//! sweep store's claim transaction.

use std::collections::HashMap;

use serde_json::Value;
use trackway_store::{Claim, ClaimDecision, RunKey, StoreError, Sweep, SweepTrial, TrialUpdate};
use trackway_sweep::hyperband::History;
use trackway_sweep::{Suggestion, SweepConfig, Trial, TrialState};

use crate::{ApiError, ApiResult, AppState};

/// Odd 64-bit constant (the golden ratio's bits): spreads consecutive trial numbers over seeds.
const SEED_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// The sweep's stored config, parsed again (it was validated when the sweep was created).
pub fn config_of(sweep: &Sweep) -> ApiResult<SweepConfig> {
    trackway_sweep::parse_config(&sweep.config)
        .map_err(|e| ApiError::Internal(format!("stored config of sweep {} no longer parses: {e}", sweep.id)))
}

/// A summary value as a number: the key as written, else a dotted path into nested values.
fn summary_number(summary: &Value, name: &str) -> Option<f64> {
    summary.get(name).or_else(|| name.split('.').try_fold(summary, |v, k| v.get(k))).and_then(Value::as_f64)
}

fn trial_state(s: &str) -> TrialState {
    match s {
        "finished" => TrialState::Finished,
        "failed" => TrialState::Failed,
        "stopped" => TrialState::Stopped,
        _ => TrialState::Running,
    }
}

/// Which sweep each of `runs` is a trial of (run id -> sweep id), from the sweep store (the
/// one record of it): the runs API names it as `sweep`, the workspace groups by it. Only the
/// given runs are looked up (a page of the runs list), never every trial of the project.
pub fn sweep_of_runs(s: &AppState, entity: &str, project: &str, runs: &[String]) -> ApiResult<HashMap<String, String>> {
    Ok(s.sweeps.sweeps_of_runs(entity, project, runs)?)
}

/// Looks at the runs of the trials not yet settled: their metric, and whether they ended.
/// Settled trials cost nothing, so a claim with 1,000 finished trials reads no run.
pub fn refresh(s: &AppState, sweep: &Sweep, cfg: &SweepConfig) -> ApiResult<Vec<SweepTrial>> {
    let trials = s.sweeps.list_trials(&sweep.id)?;
    let mut updates = Vec::new();
    for t in trials.iter().filter(|t| !t.settled) {
        let key = RunKey { entity: sweep.entity.clone(), project: sweep.project.clone(), run_id: t.run_id.clone() };
        match s.store.get_run(&key) {
            Ok(run) => {
                let metric = cfg.metric.as_ref().and_then(|m| summary_number(&run.summary, &m.name));
                let ended = run.state != "running";
                let state = (ended && t.state == "running").then(|| {
                    // A run stopped on request (`killed`) is a stopped trial, as an early stop.
                    match run.state.as_str() {
                        "finished" => "finished",
                        "killed" => "stopped",
                        _ => "failed",
                    }
                    .to_owned()
                });
                if metric != t.metric || state.is_some() || ended {
                    updates.push(TrialUpdate { run_id: t.run_id.clone(), state, metric, settled: ended });
                }
            }
            // the agent said the trial ended but its run never reached the server
            Err(StoreError::RunNotFound(_)) if t.state != "running" => {
                updates.push(TrialUpdate { run_id: t.run_id.clone(), settled: true, ..TrialUpdate::default() });
            }
            Err(StoreError::RunNotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if updates.is_empty() {
        return Ok(trials);
    }
    s.sweeps.update_trials(&sweep.id, &updates)?;
    Ok(s.sweeps.list_trials(&sweep.id)?)
}

/// Hands out the next trial, exactly once (the decision runs in the store's transaction).
pub fn claim(s: &AppState, sweep: &Sweep, agent: &str) -> ApiResult<Claim> {
    let cfg = config_of(sweep)?;
    refresh(s, sweep, &cfg)?;
    let mut decide = |sw: &Sweep, trials: &[SweepTrial]| {
        let seen: Vec<Trial> = trials
            .iter()
            .map(|t| Trial { config: t.config.clone(), metric: t.metric, state: trial_state(&t.state) })
            .collect();
        let seq = trials.len() as u64;
        match trackway_sweep::suggest(&cfg, &seen, sw.seed ^ seq.wrapping_mul(SEED_STEP)) {
            Suggestion::Params(config) => ClaimDecision::Trial { run_id: format!("{}-{seq}", sw.id), config },
            Suggestion::Exhausted => ClaimDecision::Exhausted,
        }
    };
    Ok(s.sweeps.claim_trial(&sweep.id, agent, &mut decide)?)
}

/// A run's values of the metric, at most `limit`, in step order.
fn metric_history(s: &AppState, sweep: &Sweep, run_id: &str, metric: &str, limit: usize) -> ApiResult<Vec<f64>> {
    let key = RunKey { entity: sweep.entity.clone(), project: sweep.project.clone(), run_id: run_id.to_owned() };
    let run = match s.store.get_run(&key) {
        Ok(run) => run,
        Err(StoreError::RunNotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let q = trackway_history::ScanQuery { keys: Some(vec![metric.to_owned()]), limit, ..Default::default() };
    let page = s.history.scan(run.pk, &q)?;
    Ok(page.rows.iter().filter_map(|r| r.data.get(metric).and_then(trackway_types::Value::as_f64)).collect())
}

/// The running trials hyperband stops now; they are marked `stopped` (their runs go on until
/// the agent ends them, and their metric is still collected).
pub fn early_stops(s: &AppState, sweep: &Sweep, trials: &[SweepTrial]) -> ApiResult<Vec<String>> {
    let cfg = config_of(sweep)?;
    let (Some(hb), Some(metric)) = (&cfg.early_terminate, &cfg.metric) else { return Ok(Vec::new()) };
    let limit = hb.bands.last().map_or(1, |b| usize::try_from(*b).unwrap_or(usize::MAX));
    let mut histories = Vec::with_capacity(trials.len());
    for t in trials {
        histories.push((t, metric_history(s, sweep, &t.run_id, &metric.name, limit)?));
    }
    let runs: Vec<History<'_, &str>> = histories
        .iter()
        .map(|(t, v)| History { key: t.run_id.as_str(), running: t.state == "running", values: v })
        .collect();
    let stops: Vec<String> = trackway_sweep::stops(hb, metric, &runs).into_iter().map(str::to_owned).collect();
    if !stops.is_empty() {
        tracing::info!(sweep = %sweep.id, runs = ?stops, "hyperband stops runs");
        let updates: Vec<TrialUpdate> = stops
            .iter()
            .map(|r| TrialUpdate { run_id: r.clone(), state: Some("stopped".into()), ..TrialUpdate::default() })
            .collect();
        s.sweeps.update_trials(&sweep.id, &updates)?;
    }
    Ok(stops)
}

/// The best trial with a metric, by the sweep's goal.
pub fn best<'a>(cfg: &SweepConfig, trials: &'a [SweepTrial]) -> Option<&'a SweepTrial> {
    let metric = cfg.metric.as_ref()?;
    trials
        .iter()
        .filter(|t| t.metric.is_some_and(f64::is_finite))
        .min_by(|a, b| metric.loss(a.metric.unwrap_or(0.0)).total_cmp(&metric.loss(b.metric.unwrap_or(0.0))))
}

/// The new state for a control action on a sweep in state `from`.
pub fn transition(from: &str, action: &str) -> ApiResult<&'static str> {
    let to = match (action, from) {
        ("pause", "running" | "paused") => "paused",
        ("resume", "running" | "paused") => "running",
        ("stop", "running" | "paused" | "finished") => "finished",
        ("cancel", _) => "cancelled",
        ("pause" | "resume" | "stop", _) => {
            return Err(ApiError::BadRequest(format!("cannot {action} a sweep that is {from}")));
        }
        _ => {
            return Err(ApiError::BadRequest(format!(
                "unknown action {action:?}; accepted values: pause, resume, stop, cancel"
            )));
        }
    };
    Ok(to)
}
