//! History written before chunks (migration 0001: one row per (run, key, step) in `hist_points`,
//! `hist_steps`, `hist_keys`). [`convert`] runs on start (after the migrations): it moves each
//! run's rows into the chunk + pyramid engine's tables, one run per transaction under the run's
//! history lock, and deletes them, so a database upgraded in place loses nothing and every
//! replica may run it at once (a run already moved is found empty and skipped).

use std::collections::HashMap;

use postgres::GenericClient;
use postgres::types::ToSql;
use trackway_history::{HistoryError, HistoryRow, HistoryRowRef, HistoryTx, Map, Result, RunKey, numeric_value};

use crate::{PgHistoryTx, Pool};

fn db(e: impl std::error::Error + Send + Sync + 'static) -> HistoryError {
    HistoryError::Backend(Box::new(e))
}

/// Moves every run's legacy rows into the engine's tables; returns how many runs were moved.
///
/// # Errors
/// A database failure (the runs moved so far stay moved; the rest are moved on the next start).
pub fn convert(pool: &Pool) -> Result<usize> {
    let mut conn = pool.get().map_err(db)?;
    let runs: Vec<RunKey> =
        conn.query("SELECT DISTINCT run FROM hist_steps", &[]).map_err(db)?.iter().map(|r| r.get(0)).collect();
    let mut moved = 0;
    for run in runs {
        let mut tx = conn.transaction().map_err(db)?;
        let mut h = PgHistoryTx::new(&mut tx);
        // Takes the run's history lock first: a replica doing the same waits, then finds nothing.
        h.append(run, &[])?;
        let mut after = i64::MIN;
        loop {
            let steps = steps_after(&mut tx, run, after)?;
            let Some(&(last, _, _)) = steps.last() else { break };
            let rows = rows_of(&mut tx, run, &steps)?;
            let refs: Vec<HistoryRowRef<'_>> = rows.iter().map(HistoryRowRef::from).collect();
            PgHistoryTx::new(&mut tx).append(run, &refs)?;
            after = last;
        }
        if after > i64::MIN {
            moved += 1;
        }
        for table in ["hist_steps", "hist_keys", "hist_points"] {
            tx.execute(&format!("DELETE FROM {table} WHERE run = $1"), &[&run]).map_err(db)?;
        }
        tx.commit().map_err(db)?;
    }
    if moved > 0 {
        tracing::info!(runs = moved, "moved PostgreSQL history rows into chunks");
    }
    Ok(moved)
}

/// Legacy rows moved per statement batch (bounds the memory of moving a long run).
const PAGE: i64 = 10_000;

/// `(step, ts, rt)` of up to [`PAGE`] steps after `after`, in step order.
fn steps_after<C: GenericClient>(c: &mut C, run: RunKey, after: i64) -> Result<Vec<(i64, f64, f64)>> {
    let rows = c
        .query(
            "SELECT step, ts, rt FROM hist_steps WHERE run = $1 AND step > $2 ORDER BY step LIMIT $3",
            &[&run, &after, &PAGE],
        )
        .map_err(db)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// Full rows of the given steps (keys in the run's first-seen order), in step order.
fn rows_of<C: GenericClient>(c: &mut C, run: RunKey, steps: &[(i64, f64, f64)]) -> Result<Vec<HistoryRow>> {
    let ids: Vec<i64> = steps.iter().map(|s| s.0).collect();
    let params: [&(dyn ToSql + Sync); 2] = [&run, &ids];
    let points = c
        .query(
            "SELECT p.step, p.key, p.num, p.kind, p.val FROM hist_points p \
             JOIN hist_keys k ON k.run = p.run AND k.key = p.key \
             WHERE p.run = $1 AND p.step = ANY($2) ORDER BY p.step, k.seq",
            &params,
        )
        .map_err(db)?;
    let mut data: HashMap<i64, Map> = HashMap::new();
    for p in &points {
        let value = match (p.get::<_, Option<f64>>(2), p.get::<_, Option<i16>>(3), p.get::<_, Option<&str>>(4)) {
            (Some(x), Some(kind), _) => numeric_value(x, u8::try_from(kind).unwrap_or(0)),
            (_, _, Some(json)) => trackway_types::from_json(json)?,
            _ => return Err(HistoryError::Corrupt(format!("point of run {run} without a value"))),
        };
        data.entry(p.get(0)).or_default().insert(p.get::<_, String>(1), value);
    }
    Ok(steps
        .iter()
        .map(|&(step, ts, rt)| HistoryRow {
            step: u64::try_from(step).unwrap_or(0),
            ts,
            rt,
            data: data.remove(&step).unwrap_or_default(),
        })
        .collect())
}
