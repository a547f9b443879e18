//! [`SweepStore`] on PostgreSQL (tables `sweeps`, `sweep_trials`, migration 0003), with the
//! claim rule of `trackway_store::claim_step`.
//!
//! A claim locks the sweep's row (`SELECT ... FOR UPDATE`) before it reads the trials, so claims
//! of one sweep run one after another across every connection of every replica; each then reads
//! the trials the previous one committed (READ COMMITTED takes a fresh snapshot per statement)
//! and hands out the next sequence number exactly once. `SKIP LOCKED` would not do here: the
//! controller's next trial depends on all trials before it, so a claimer must wait, not skip.

use std::collections::HashMap;

use postgres::{GenericClient, Row};
use trackway_store::{
    Claim, ClaimStep, Decide, NewSweep, Result, StoreError, Sweep, SweepStore, SweepTrial, TrialUpdate,
    check_run_lookup, check_sweep_state, check_trial_updates, claim_step, unknown_trial,
};

use crate::meta::{PgStore, db, now};

const SWEEP_COLS: &str = "id, entity, project, name, config, method, state, seed, created_at, updated_at, \
     (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = sweeps.id)";
const TRIAL_COLS: &str = "seq, run_id, config, state, metric, settled, agent, claimed_at, ended_at";

/// Seeds are u64 in the API and BIGINT here: the bits are kept (no range error).
fn seed_to_db(seed: u64) -> i64 {
    i64::from_ne_bytes(seed.to_ne_bytes())
}

fn sweep_row(r: &Row) -> Result<Sweep> {
    Ok(Sweep {
        id: r.get(0),
        entity: r.get(1),
        project: r.get(2),
        name: r.get(3),
        config: serde_json::from_str(r.get::<_, &str>(4))?,
        method: r.get(5),
        state: r.get(6),
        seed: u64::from_ne_bytes(r.get::<_, i64>(7).to_ne_bytes()),
        created_at: r.get(8),
        updated_at: r.get(9),
        trial_count: r.get::<_, i64>(10).unsigned_abs(),
    })
}

fn trial_row(r: &Row) -> Result<SweepTrial> {
    Ok(SweepTrial {
        seq: r.get::<_, i64>(0).unsigned_abs(),
        run_id: r.get(1),
        config: serde_json::from_str(r.get::<_, &str>(2))?,
        state: r.get(3),
        metric: r.get(4),
        settled: r.get(5),
        agent: r.get(6),
        claimed_at: r.get(7),
        ended_at: r.get(8),
    })
}

/// The sweep `id`; `lock` takes its row lock until the transaction ends.
fn get(c: &mut impl GenericClient, id: &str, lock: bool) -> Result<Sweep> {
    let sql = format!("SELECT {SWEEP_COLS} FROM sweeps WHERE id = $1{}", if lock { " FOR UPDATE" } else { "" });
    let row = c.query_opt(&sql, &[&id]).map_err(db)?.ok_or_else(|| StoreError::NotFound(format!("sweep {id}")))?;
    sweep_row(&row)
}

fn trials(c: &mut impl GenericClient, id: &str) -> Result<Vec<SweepTrial>> {
    let sql = format!("SELECT {TRIAL_COLS} FROM sweep_trials WHERE sweep_id = $1 ORDER BY seq");
    c.query(&sql, &[&id]).map_err(db)?.iter().map(trial_row).collect()
}

fn record_trial(c: &mut impl GenericClient, id: &str, t: &SweepTrial) -> Result<()> {
    let seq = i64::try_from(t.seq).map_err(|_| StoreError::Invalid("too many trials".into()))?;
    c.execute(
        "INSERT INTO sweep_trials (sweep_id, seq, run_id, config, state, agent, claimed_at) \
         VALUES ($1, $2, $3, $4, 'running', $5, $6)",
        &[&id, &seq, &t.run_id, &serde_json::to_string(&t.config)?, &t.agent, &t.claimed_at],
    )
    .map_err(db)?;
    c.execute("UPDATE sweeps SET updated_at = $2 WHERE id = $1", &[&id, &t.claimed_at]).map_err(db)?;
    Ok(())
}

impl SweepStore for PgStore {
    fn create_sweep(&self, s: &NewSweep) -> Result<Sweep> {
        let config = serde_json::to_string(&s.config)?;
        self.tx(|tx| {
            let n = tx
                .execute(
                    "INSERT INTO sweeps (id, entity, project, name, config, method, state, seed, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $8) ON CONFLICT (id) DO NOTHING",
                    &[&s.id, &s.entity, &s.project, &s.name, &config, &s.method, &seed_to_db(s.seed), &now()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::AlreadyExists(format!("sweep {}", s.id)));
            }
            get(tx, &s.id, false)
        })
    }

    fn get_sweep(&self, id: &str) -> Result<Sweep> {
        self.tx(|tx| get(tx, id, false))
    }

    fn list_sweeps(&self, entity: &str, project: &str) -> Result<Vec<Sweep>> {
        self.tx(|tx| {
            let sql = format!(
                "SELECT {SWEEP_COLS} FROM sweeps WHERE entity = $1 AND project = $2 ORDER BY created_at DESC, id"
            );
            tx.query(&sql, &[&entity, &project]).map_err(db)?.iter().map(sweep_row).collect()
        })
    }

    fn set_sweep_state(&self, id: &str, state: &str) -> Result<Sweep> {
        check_sweep_state(state)?;
        self.tx(|tx| {
            let n = tx
                .execute("UPDATE sweeps SET state = $2, updated_at = $3 WHERE id = $1", &[&id, &state, &now()])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("sweep {id}")));
            }
            get(tx, id, false)
        })
    }

    fn list_trials(&self, id: &str) -> Result<Vec<SweepTrial>> {
        self.tx(|tx| {
            get(tx, id, false)?;
            trials(tx, id)
        })
    }

    fn claim_trial(&self, id: &str, agent: &str, decide: &mut Decide<'_>) -> Result<Claim> {
        self.tx(|tx| {
            let sweep = get(tx, id, true)?;
            let existing = trials(tx, id)?;
            match claim_step(&sweep, &existing, agent, decide, now()) {
                ClaimStep::Answer(claim) => Ok(claim),
                ClaimStep::Finish => {
                    tx.execute("UPDATE sweeps SET state = 'finished', updated_at = $2 WHERE id = $1", &[&id, &now()])
                        .map_err(db)?;
                    Ok(Claim::Done("finished".into()))
                }
                ClaimStep::Record(trial) => {
                    record_trial(tx, id, &trial)?;
                    Ok(Claim::Trial(trial))
                }
            }
        })
    }

    fn update_trials(&self, id: &str, updates: &[TrialUpdate]) -> Result<()> {
        check_trial_updates(updates)?;
        self.tx(|tx| {
            let t = now();
            for u in updates {
                let n = tx
                    .execute(
                        "UPDATE sweep_trials SET \
                           state = coalesce($3, state), \
                           metric = coalesce($4, metric), \
                           settled = settled OR $5, \
                           ended_at = CASE WHEN $3 IS NOT NULL AND $3 <> 'running' \
                                      THEN coalesce(ended_at, $6) ELSE ended_at END \
                         WHERE sweep_id = $1 AND run_id = $2",
                        &[&id, &u.run_id, &u.state, &u.metric.filter(|m| m.is_finite()), &u.settled, &t],
                    )
                    .map_err(db)?;
                if n == 0 {
                    return Err(unknown_trial(id, &u.run_id));
                }
            }
            Ok(())
        })
    }

    fn sweeps_of_runs(&self, entity: &str, project: &str, run_ids: &[String]) -> Result<HashMap<String, String>> {
        check_run_lookup(run_ids)?;
        if run_ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.tx(|tx| {
            // The project's sweeps by `sweeps_by_project`, then each one's (sweep_id, run_id) key.
            let rows = tx
                .query(
                    "SELECT t.run_id, t.sweep_id FROM sweeps s JOIN sweep_trials t ON t.sweep_id = s.id \
                     WHERE s.entity = $1 AND s.project = $2 AND t.run_id = ANY($3)",
                    &[&entity, &project, &run_ids],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }
}
