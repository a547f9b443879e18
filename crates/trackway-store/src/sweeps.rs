//! Sweep controller state: sweeps and the trials handed out, behind a backend-neutral trait.
//! The controller's rules (which trial comes next) are trackway-sweep's; a store only keeps the
//! state and runs the decision inside one transaction, which is what makes a claim exactly-once
//! under concurrent agents.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::Result;

/// Sweep states: `running` hands out trials, `paused` holds them back, `finished` (stopped, or
/// nothing left) and `cancelled` (running trials are told to stop) hand out no more.
pub const SWEEP_STATES: &[&str] = &["running", "paused", "finished", "cancelled"];
/// Trial states.
pub const TRIAL_STATES: &[&str] = &["running", "finished", "failed", "stopped"];

/// A new sweep (the config already validated by the caller).
#[derive(Clone, Debug)]
pub struct NewSweep {
    pub id: String,
    pub entity: String,
    pub project: String,
    pub name: Option<String>,
    pub config: Value,
    pub method: String,
    /// Seeds the controller's draws (per trial: with the trial's sequence number).
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sweep {
    pub id: String,
    pub entity: String,
    pub project: String,
    pub name: Option<String>,
    pub config: Value,
    pub method: String,
    pub state: String,
    #[serde(skip)]
    pub seed: u64,
    pub created_at: f64,
    pub updated_at: f64,
    pub trial_count: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SweepTrial {
    /// 0, 1, 2, ... in claim order.
    pub seq: u64,
    pub run_id: String,
    /// The sampled parameters (the run's locked config).
    pub config: Value,
    pub state: String,
    pub metric: Option<f64>,
    /// The metric is final (the run ended on the server): no need to look again.
    pub settled: bool,
    pub agent: Option<String>,
    pub claimed_at: f64,
    pub ended_at: Option<f64>,
}

/// What the controller decided inside a claim's transaction.
#[derive(Clone, Debug)]
pub enum ClaimDecision {
    Trial {
        run_id: String,
        config: Value,
    },
    /// Nothing left: the sweep becomes `finished`.
    Exhausted,
}

/// The answer to a claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    Trial(SweepTrial),
    /// The sweep is paused: ask again later.
    Paused,
    /// The sweep hands out nothing more (`finished` or `cancelled`).
    Done(String),
}

/// A change to a trial: a new state (setting `ended_at` when it leaves `running`) and/or metric.
#[derive(Clone, Debug, Default)]
pub struct TrialUpdate {
    pub run_id: String,
    pub state: Option<String>,
    pub metric: Option<f64>,
    pub settled: bool,
}

/// The controller's decision function: the sweep and its trials so far → the next trial.
pub type Decide<'a> = dyn FnMut(&Sweep, &[SweepTrial]) -> ClaimDecision + 'a;

/// Sweep state storage. Each method is one transaction of the backend.
pub trait SweepStore: Send + Sync + 'static {
    /// `AlreadyExists` when the id is taken.
    fn create_sweep(&self, sweep: &NewSweep) -> Result<Sweep>;
    /// `NotFound` when absent.
    fn get_sweep(&self, id: &str) -> Result<Sweep>;
    /// A project's sweeps, newest first.
    fn list_sweeps(&self, entity: &str, project: &str) -> Result<Vec<Sweep>>;
    /// Sets the state (one of [`SWEEP_STATES`]; the caller checks the transition).
    fn set_sweep_state(&self, id: &str, state: &str) -> Result<Sweep>;
    /// The trials in claim order.
    fn list_trials(&self, id: &str) -> Result<Vec<SweepTrial>>;
    /// Claims the next trial for `agent`: reads the sweep and its trials, calls `decide` and
    /// records its trial, all in one transaction, so two claims never see the same state.
    fn claim_trial(&self, id: &str, agent: &str, decide: &mut Decide<'_>) -> Result<Claim>;
    /// Applies trial updates (unknown run ids are an `Invalid` error, nothing applied).
    fn update_trials(&self, id: &str, updates: &[TrialUpdate]) -> Result<()>;
    /// Which sweep of the project each of `run_ids` is a trial of (run id -> sweep id); runs
    /// that are no trial are absent. One indexed lookup per sweep of the project, whatever the
    /// number of trials: the runs list asks it for its page's runs only. At most
    /// [`MAX_RUN_LOOKUP`] ids.
    fn sweeps_of_runs(&self, entity: &str, project: &str, run_ids: &[String]) -> Result<HashMap<String, String>>;
}

/// The most run ids one [`SweepStore::sweeps_of_runs`] call takes (a runs-list page holds at
/// most 1,000 runs).
pub const MAX_RUN_LOOKUP: usize = 1000;

/// `Invalid` when a lookup names more than [`MAX_RUN_LOOKUP`] runs.
///
/// # Errors
/// Too many run ids.
pub fn check_run_lookup(run_ids: &[String]) -> Result<()> {
    if run_ids.len() > MAX_RUN_LOOKUP {
        return Err(crate::StoreError::Invalid(format!(
            "{} run ids in one sweep lookup; at most {MAX_RUN_LOOKUP}",
            run_ids.len()
        )));
    }
    Ok(())
}

/// What a claim does, decided from the sweep (read under the backend's lock) and its trials.
#[derive(Clone, Debug)]
pub enum ClaimStep {
    /// Answer without writing (paused, finished, cancelled).
    Answer(Claim),
    /// The controller has nothing left: mark the sweep `finished` and answer `Done("finished")`.
    Finish,
    /// Record this trial (state `running`) and answer it.
    Record(SweepTrial),
}

/// The claim rule every backend runs inside its claim transaction: only a `running` sweep hands
/// out trials; the controller's decision becomes the next trial in sequence, owned by `agent`.
pub fn claim_step(sweep: &Sweep, trials: &[SweepTrial], agent: &str, decide: &mut Decide<'_>, at: f64) -> ClaimStep {
    match sweep.state.as_str() {
        "paused" => return ClaimStep::Answer(Claim::Paused),
        "running" => {}
        other => return ClaimStep::Answer(Claim::Done(other.to_owned())),
    }
    match decide(sweep, trials) {
        ClaimDecision::Exhausted => ClaimStep::Finish,
        ClaimDecision::Trial { run_id, config } => ClaimStep::Record(SweepTrial {
            seq: trials.len() as u64,
            run_id,
            config,
            state: "running".into(),
            metric: None,
            settled: false,
            agent: Some(agent.to_owned()),
            claimed_at: at,
            ended_at: None,
        }),
    }
}

/// `Invalid` unless `state` is one of [`SWEEP_STATES`].
///
/// # Errors
/// An unknown state.
pub fn check_sweep_state(state: &str) -> Result<()> {
    if !SWEEP_STATES.contains(&state) {
        return Err(crate::StoreError::Invalid(format!("unknown sweep state {state:?}")));
    }
    Ok(())
}

/// `Invalid` when an update names a state outside [`TRIAL_STATES`].
///
/// # Errors
/// An unknown trial state.
pub fn check_trial_updates(updates: &[TrialUpdate]) -> Result<()> {
    if let Some(bad) = updates.iter().filter_map(|u| u.state.as_deref()).find(|s| !TRIAL_STATES.contains(s)) {
        return Err(crate::StoreError::Invalid(format!("unknown trial state {bad:?}")));
    }
    Ok(())
}

/// The error for an update naming a run that is not a trial of sweep `id`.
#[must_use]
pub fn unknown_trial(id: &str, run_id: &str) -> crate::StoreError {
    crate::StoreError::Invalid(format!("sweep {id} has no trial with run {run_id}"))
}
