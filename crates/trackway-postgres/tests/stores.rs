//! The ViewStore, SweepStore and AccountStore conformance suites (the ones the SQLite store
//! passes) against PostgreSQL, plus what only several replicas can show: two stores opened on
//! one database (two pools, as two replicas hold) claim sweep trials exactly once, accept an
//! invite once, and see each other's views, sessions and keys.

use std::collections::HashSet;

use serde_json::json;
use trackway_postgres::{PoolOptions, open_storage, testpg};
use trackway_store::{
    Claim, ClaimDecision, NewSweep, NewUser, NewView, Role, Storage, StoreError, Sweep, SweepTrial, UserPatch,
};

fn open(url: &str) -> Storage {
    open_storage(url, &PoolOptions { max_size: 4, ..PoolOptions::default() }).expect("open")
}

fn storage() -> Box<Storage> {
    Box::new(open(&testpg::fresh_database()))
}

mod views {
    trackway_store::view_store_conformance!(super::storage());
}

mod sweeps {
    trackway_store::sweep_store_conformance!(super::storage());
}

mod accounts {
    trackway_store::account_store_conformance!(super::storage());
}

/// Two replicas of one database.
fn replicas() -> (Storage, Storage) {
    let url = testpg::fresh_database();
    (open(&url), open(&url))
}

fn next(s: &Sweep, trials: &[SweepTrial]) -> ClaimDecision {
    ClaimDecision::Trial { run_id: format!("{}-{}", s.id, trials.len()), config: json!({"x": trials.len()}) }
}

/// 2 replicas × 4 agents × 15 claims on one sweep, on 8 connections: every sequence number and
/// run id handed out once, and the controller saw each previous trial (seq == trials so far).
#[test]
fn sweep_claims_across_replicas_are_exactly_once() {
    let (a, b) = replicas();
    let sweep = NewSweep {
        id: "multi".into(),
        entity: "alice".into(),
        project: "proj".into(),
        name: None,
        config: json!({"method": "random"}),
        method: "random".into(),
        seed: u64::MAX,
    };
    a.sweeps.create_sweep(&sweep).expect("create");
    assert_eq!(b.sweeps.get_sweep("multi").expect("seen by the other replica").seed, u64::MAX);
    let claimed: Vec<SweepTrial> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let replica = if i % 2 == 0 { &a } else { &b };
                scope.spawn(move || {
                    (0..15)
                        .map(|_| match replica.sweeps.claim_trial("multi", &format!("agent-{i}"), &mut next) {
                            Ok(Claim::Trial(t)) => t,
                            other => panic!("expected a trial, got {other:?}"),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("claimer")).collect()
    });
    let seqs: HashSet<u64> = claimed.iter().map(|t| t.seq).collect();
    let runs: HashSet<&str> = claimed.iter().map(|t| t.run_id.as_str()).collect();
    assert_eq!((claimed.len(), seqs.len(), runs.len()), (120, 120, 120));
    assert!(claimed.iter().all(|t| t.run_id == format!("multi-{}", t.seq)));
    assert_eq!(a.sweeps.get_sweep("multi").expect("sweep").trial_count, 120);
}

/// One invite accepted from both replicas at once by 6 users: exactly one acceptance.
#[test]
fn an_invite_is_accepted_once_across_replicas() {
    let (a, b) = replicas();
    a.metadata.create_user("alice", true).expect("alice");
    a.metadata.create_team("lab", "alice").expect("team");
    for i in 0..6 {
        b.accounts.create_account(&NewUser { username: format!("u{i}"), ..NewUser::default() }).expect("user");
    }
    let invite = a.accounts.create_invite("lab", Role::Member, "alice", 4e9).expect("invite");
    let results: Vec<Result<_, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (replica, token) = (if i % 2 == 0 { &a } else { &b }, &invite.token);
                scope.spawn(move || replica.accounts.accept_invite(token, &format!("u{i}"), 1e9))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("acceptor")).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(r, Err(StoreError::Invalid(_)))));
    assert_eq!(b.accounts.list_members("lab").expect("members").len(), 2);
}

/// What one replica writes, the other reads: a shared view, a session, a key, a deactivation,
/// the audit log.
#[test]
fn replicas_share_views_sessions_keys_and_audit() {
    let (a, b) = replicas();
    let alice = a.metadata.create_user("alice", true).expect("alice");
    let view = NewView {
        entity: "alice".into(),
        project: "p".into(),
        owner: "alice".into(),
        name: "v".into(),
        state: "?s=1".into(),
        shared: true,
        default: true,
    };
    let saved = a.views.save_view(&view).expect("save");
    assert_eq!(b.views.get_view("alice", "p", saved.id, "bob").expect("shared").state, "?s=1");
    let session = a.accounts.create_session(alice.user_id, 4e9).expect("session");
    assert!(b.accounts.session(&session.token, 1e9).expect("session").is_some());
    let key = b.metadata.create_api_key("alice", None).expect("key");
    assert!(a.metadata.authenticate(&key.key).expect("auth").is_some());
    b.accounts.update_user("alice", &UserPatch { active: Some(false), ..UserPatch::default() }).expect("deactivate");
    assert!(a.metadata.authenticate(&key.key).expect("auth").is_none(), "deactivated on the other replica");
    assert!(a.accounts.session(&session.token, 1e9).expect("session").is_none());
    a.accounts.audit(Some("alice"), "user.update", Some("alice"), &json!({})).expect("audit");
    assert_eq!(b.accounts.audit_log(10, None).expect("log")[0].action, "user.update");
}
