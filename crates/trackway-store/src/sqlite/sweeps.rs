//! [`SweepStore`] on the SQLite database (tables of migration `0007_sweeps.sql`).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, now};
use crate::sweeps::{
    Claim, ClaimStep, Decide, NewSweep, Sweep, SweepStore, SweepTrial, TrialUpdate, check_run_lookup,
    check_sweep_state, check_trial_updates, claim_step, unknown_trial,
};
use crate::{Result, StoreError};

const SWEEP_COLS: &str = "id, entity, project, name, config, method, state, seed, created_at, updated_at, \
     (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = sweeps.id)";
const TRIAL_COLS: &str = "seq, run_id, config, state, metric, settled, agent, claimed_at, ended_at";

fn sweep_row(r: &Row<'_>) -> rusqlite::Result<(Sweep, String)> {
    let config: String = r.get(4)?;
    Ok((
        Sweep {
            id: r.get(0)?,
            entity: r.get(1)?,
            project: r.get(2)?,
            name: r.get(3)?,
            config: serde_json::Value::Null,
            method: r.get(5)?,
            state: r.get(6)?,
            seed: r.get::<_, i64>(7)? as u64,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
            trial_count: r.get::<_, i64>(10)? as u64,
        },
        config,
    ))
}

fn with_config((mut s, config): (Sweep, String)) -> Result<Sweep> {
    s.config = serde_json::from_str(&config)?;
    Ok(s)
}

fn trial_row(r: &Row<'_>) -> rusqlite::Result<(SweepTrial, String)> {
    Ok((
        SweepTrial {
            seq: r.get::<_, i64>(0)? as u64,
            run_id: r.get(1)?,
            config: serde_json::Value::Null,
            state: r.get(3)?,
            metric: r.get(4)?,
            settled: r.get(5)?,
            agent: r.get(6)?,
            claimed_at: r.get(7)?,
            ended_at: r.get(8)?,
        },
        r.get(2)?,
    ))
}

fn get(c: &Connection, id: &str) -> Result<Sweep> {
    let row = c
        .query_row(&format!("SELECT {SWEEP_COLS} FROM sweeps WHERE id = ?1"), [id], sweep_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("sweep {id}")))?;
    with_config(row)
}

fn trials(c: &Connection, id: &str) -> Result<Vec<SweepTrial>> {
    let mut stmt =
        c.prepare_cached(&format!("SELECT {TRIAL_COLS} FROM sweep_trials WHERE sweep_id = ?1 ORDER BY seq"))?;
    let rows = stmt.query_map([id], trial_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut t, config)| {
            t.config = serde_json::from_str(&config)?;
            Ok(t)
        })
        .collect()
}

impl SweepStore for SqliteStore {
    fn create_sweep(&self, s: &NewSweep) -> Result<Sweep> {
        let config = serde_json::to_string(&s.config)?;
        self.write(|tx| {
            let t = now();
            let n = tx.execute(
                "INSERT OR IGNORE INTO sweeps (id, entity, project, name, config, method, state, seed, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?8)",
                params![s.id, s.entity, s.project, s.name, config, s.method, s.seed as i64, t],
            )?;
            if n == 0 {
                return Err(StoreError::AlreadyExists(format!("sweep {}", s.id)));
            }
            get(tx, &s.id)
        })
    }

    fn get_sweep(&self, id: &str) -> Result<Sweep> {
        self.read(|c| get(c, id))
    }

    fn list_sweeps(&self, entity: &str, project: &str) -> Result<Vec<Sweep>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {SWEEP_COLS} FROM sweeps WHERE entity = ?1 AND project = ?2 ORDER BY created_at DESC, id"
            ))?;
            let rows = stmt.query_map([entity, project], sweep_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(with_config).collect()
        })
    }

    fn set_sweep_state(&self, id: &str, state: &str) -> Result<Sweep> {
        check_sweep_state(state)?;
        self.write(|tx| {
            let n =
                tx.execute("UPDATE sweeps SET state = ?2, updated_at = ?3 WHERE id = ?1", params![id, state, now()])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("sweep {id}")));
            }
            get(tx, id)
        })
    }

    fn list_trials(&self, id: &str) -> Result<Vec<SweepTrial>> {
        self.read(|c| {
            get(c, id)?;
            trials(c, id)
        })
    }

    fn claim_trial(&self, id: &str, agent: &str, decide: &mut Decide<'_>) -> Result<Claim> {
        self.write(|tx| {
            let sweep = get(tx, id)?;
            let existing = trials(tx, id)?;
            match claim_step(&sweep, &existing, agent, decide, now()) {
                ClaimStep::Answer(claim) => Ok(claim),
                ClaimStep::Finish => {
                    tx.execute(
                        "UPDATE sweeps SET state = 'finished', updated_at = ?2 WHERE id = ?1",
                        params![id, now()],
                    )?;
                    Ok(Claim::Done("finished".into()))
                }
                ClaimStep::Record(trial) => {
                    tx.execute(
                        "INSERT INTO sweep_trials (sweep_id, seq, run_id, config, state, agent, claimed_at)
                         VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
                        params![
                            id,
                            trial.seq as i64,
                            trial.run_id,
                            serde_json::to_string(&trial.config)?,
                            agent,
                            trial.claimed_at
                        ],
                    )?;
                    tx.execute("UPDATE sweeps SET updated_at = ?2 WHERE id = ?1", params![id, trial.claimed_at])?;
                    Ok(Claim::Trial(trial))
                }
            }
        })
    }

    fn update_trials(&self, id: &str, updates: &[TrialUpdate]) -> Result<()> {
        check_trial_updates(updates)?;
        self.write(|tx| {
            let t = now();
            for u in updates {
                let n = tx.execute(
                    "UPDATE sweep_trials SET
                       state = coalesce(?3, state),
                       metric = coalesce(?4, metric),
                       settled = settled OR ?5,
                       ended_at = CASE WHEN ?3 IS NOT NULL AND ?3 != 'running' THEN coalesce(ended_at, ?6) ELSE ended_at END
                     WHERE sweep_id = ?1 AND run_id = ?2",
                    params![id, u.run_id, u.state, u.metric.filter(|m| m.is_finite()), u.settled, t],
                )?;
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
        let ids = serde_json::to_string(run_ids)?;
        self.read(|c| {
            // The project's sweeps by `sweeps_by_project`, then each one's (sweep_id, run_id) key.
            let mut stmt = c.prepare_cached(
                "SELECT t.run_id, t.sweep_id FROM sweeps s JOIN sweep_trials t ON t.sweep_id = s.id
                 WHERE s.entity = ?1 AND s.project = ?2 AND t.run_id IN (SELECT value FROM json_each(?3))",
            )?;
            let rows = stmt.query_map(params![entity, project, ids], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<HashMap<String, String>>>()?)
        })
    }
}
