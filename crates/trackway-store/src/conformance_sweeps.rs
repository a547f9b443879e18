//! The conformance suite every [`SweepStore`] backend must pass; expand
//! [`sweep_store_conformance!`] with an expression that makes a fresh [`Storage`] (or something
//! that derefs to one). Compiled only for tests and behind the `testsuite` feature.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::{Claim, ClaimDecision, NewSweep, Result, Storage, StoreError, Sweep, SweepStore, SweepTrial, TrialUpdate};

#[macro_export]
macro_rules! sweep_store_conformance {
    ($make:expr) => {
        $crate::sweep_store_conformance!(@cases $make;
            sweeps_create_get_list, claims_follow_state, trial_updates, concurrent_claims_exactly_once,
            sweeps_of_listed_runs);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let store = $make;
                $crate::conformance_sweeps::$case(&*store).expect(stringify!($case));
            }
        )*
    };
}

fn new(id: &str) -> NewSweep {
    NewSweep {
        id: id.into(),
        entity: "alice".into(),
        project: "proj".into(),
        name: Some("s".into()),
        config: json!({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}),
        method: "random".into(),
        seed: 42,
    }
}

/// Decides the next trial as `<sweep>-<seq>` with `x = seq`.
fn next(s: &Sweep, trials: &[SweepTrial]) -> ClaimDecision {
    ClaimDecision::Trial { run_id: format!("{}-{}", s.id, trials.len()), config: json!({"x": trials.len()}) }
}

fn trial(c: Claim) -> SweepTrial {
    match c {
        Claim::Trial(t) => t,
        other => panic!("expected a trial, got {other:?}"),
    }
}

pub fn sweeps_create_get_list(s: &Storage) -> Result<()> {
    let st: &dyn SweepStore = &*s.sweeps;
    let a = st.create_sweep(&new("a1"))?;
    assert_eq!((a.state.as_str(), a.trial_count, a.seed), ("running", 0, 42));
    assert_eq!(a.config["parameters"]["x"]["max"], 1.0);
    assert!(matches!(st.create_sweep(&new("a1")), Err(StoreError::AlreadyExists(_))));
    st.create_sweep(&NewSweep { project: "other".into(), ..new("b2") })?;
    assert_eq!(st.get_sweep("a1")?, a);
    assert!(matches!(st.get_sweep("zz"), Err(StoreError::NotFound(_))));
    let ids: Vec<String> = st.list_sweeps("alice", "proj")?.into_iter().map(|s| s.id).collect();
    assert_eq!(ids, vec!["a1"]);
    assert!(matches!(st.set_sweep_state("a1", "exploded"), Err(StoreError::Invalid(_))));
    assert!(matches!(st.set_sweep_state("zz", "paused"), Err(StoreError::NotFound(_))));
    Ok(())
}

pub fn claims_follow_state(s: &Storage) -> Result<()> {
    let st: &dyn SweepStore = &*s.sweeps;
    st.create_sweep(&new("c1"))?;
    let t0 = trial(st.claim_trial("c1", "agent-a", &mut next)?);
    let t1 = trial(st.claim_trial("c1", "agent-b", &mut next)?);
    assert_eq!((t0.seq, t1.seq), (0, 1));
    assert_eq!((t1.run_id.as_str(), t1.agent.as_deref(), t1.state.as_str()), ("c1-1", Some("agent-b"), "running"));
    st.set_sweep_state("c1", "paused")?;
    assert_eq!(st.claim_trial("c1", "a", &mut next)?, Claim::Paused);
    st.set_sweep_state("c1", "running")?;
    assert_eq!(trial(st.claim_trial("c1", "a", &mut next)?).seq, 2);
    assert_eq!(st.claim_trial("c1", "a", &mut |_, _| ClaimDecision::Exhausted)?, Claim::Done("finished".into()));
    assert_eq!(st.get_sweep("c1")?.state, "finished");
    st.set_sweep_state("c1", "cancelled")?;
    assert_eq!(st.claim_trial("c1", "a", &mut next)?, Claim::Done("cancelled".into()));
    let listed = st.list_trials("c1")?;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2].config, json!({"x": 2}));
    assert_eq!(st.get_sweep("c1")?.trial_count, 3);
    Ok(())
}

pub fn trial_updates(s: &Storage) -> Result<()> {
    let st: &dyn SweepStore = &*s.sweeps;
    st.create_sweep(&new("u1"))?;
    trial(st.claim_trial("u1", "a", &mut next)?);
    trial(st.claim_trial("u1", "a", &mut next)?);
    st.update_trials("u1", &[TrialUpdate { run_id: "u1-0".into(), metric: Some(0.5), ..TrialUpdate::default() }])?;
    st.update_trials(
        "u1",
        &[TrialUpdate { run_id: "u1-1".into(), state: Some("stopped".into()), metric: Some(2.0), settled: true }],
    )?;
    let t = st.list_trials("u1")?;
    assert_eq!((t[0].state.as_str(), t[0].metric, t[0].settled, t[0].ended_at), ("running", Some(0.5), false, None));
    assert_eq!((t[1].state.as_str(), t[1].metric, t[1].settled), ("stopped", Some(2.0), true));
    assert!(t[1].ended_at.is_some());
    let bad = TrialUpdate { run_id: "nope".into(), state: Some("finished".into()), ..TrialUpdate::default() };
    assert!(matches!(st.update_trials("u1", &[bad]), Err(StoreError::Invalid(_))));
    let bad_state = TrialUpdate { run_id: "u1-0".into(), state: Some("zombie".into()), ..TrialUpdate::default() };
    assert!(matches!(st.update_trials("u1", &[bad_state]), Err(StoreError::Invalid(_))));
    Ok(())
}

/// The sweep of each listed run, within the project only; runs that are no trial are absent.
pub fn sweeps_of_listed_runs(s: &Storage) -> Result<()> {
    let st: &dyn SweepStore = &*s.sweeps;
    st.create_sweep(&new("l1"))?;
    st.create_sweep(&new("l2"))?;
    st.create_sweep(&NewSweep { project: "other".into(), ..new("l3") })?;
    for id in ["l1", "l1", "l2", "l3"] {
        trial(st.claim_trial(id, "a", &mut next)?);
    }
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    let got = st.sweeps_of_runs("alice", "proj", &ids(&["l1-1", "l2-0", "l3-0", "plain", "l1-0"]))?;
    let want: HashMap<String, String> =
        [("l1-0", "l1"), ("l1-1", "l1"), ("l2-0", "l2")].iter().map(|(r, s)| ((*r).into(), (*s).into())).collect();
    assert_eq!(got, want, "l3-0 is a trial of another project's sweep");
    assert_eq!(st.sweeps_of_runs("alice", "other", &ids(&["l3-0"]))?.get("l3-0").map(String::as_str), Some("l3"));
    assert!(st.sweeps_of_runs("alice", "proj", &[])?.is_empty());
    assert!(st.sweeps_of_runs("bob", "proj", &ids(&["l1-0"]))?.is_empty());
    let too_many: Vec<String> = (0..=crate::MAX_RUN_LOOKUP).map(|i| format!("r{i}")).collect();
    assert!(matches!(st.sweeps_of_runs("alice", "proj", &too_many), Err(StoreError::Invalid(_))));
    Ok(())
}

/// 8 threads × 25 claims: 200 trials, every sequence number and run id once.
pub fn concurrent_claims_exactly_once(s: &Storage) -> Result<()> {
    let st: &dyn SweepStore = &*s.sweeps;
    st.create_sweep(&new("k1"))?;
    let per_agent: Vec<Result<Vec<SweepTrial>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|a| {
                scope.spawn(move || {
                    (0..25)
                        .map(|_| st.claim_trial("k1", &format!("agent-{a}"), &mut next).map(trial))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("claimer thread")).collect()
    });
    let claimed: Vec<SweepTrial> = per_agent.into_iter().collect::<Result<Vec<_>>>()?.into_iter().flatten().collect();
    let seqs: HashSet<u64> = claimed.iter().map(|t| t.seq).collect();
    let runs: HashSet<&str> = claimed.iter().map(|t| t.run_id.as_str()).collect();
    assert_eq!((claimed.len(), seqs.len(), runs.len()), (200, 200, 200));
    assert_eq!(st.list_trials("k1")?.len(), 200);
    Ok(())
}
