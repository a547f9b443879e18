//! Ingest: the SQLite store's rule (trackway_store::backend::RunState, StepGuard), applied in
//! one PostgreSQL transaction with the run row locked, guarded by the `(run, log_id)`
//! high-water mark so that a resent batch (to any replica) changes nothing.

use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Transaction};
use trackway_history::{HistoryRowRef, HistoryTx};
use trackway_store::backend::{RunState, StepGuard, check_positions, fresh_records, row_ref};
use trackway_store::json::parse_object;
use trackway_store::{CreateRun, IngestBatch, IngestOutcome, Result, RunKey, StoreError, capture};
use trackway_types::{HistoryRecord, Record};

use super::files::store_output;
use super::runs::{catalogue_keys, ensure_project, insert_run, resync_tags, run_pk};
use super::{PgStore, db, now};
use crate::PgHistoryTx;

// Statements on the ingest path go out as `query_typed` (parameter types given): one round trip
// each, where an untyped `query` first prepares the statement in a round trip of its own.
const I8: Type = Type::INT8;
const TEXT: Type = Type::TEXT;
const F8: Type = Type::FLOAT8;

fn read_mark(c: &mut impl GenericClient, pk: i64, log_id: &str) -> Result<u64> {
    let sql = "SELECT high_water FROM ingest_marks WHERE run_pk = $1 AND log_id = $2";
    let mark: Option<i64> = c.query_typed_opt(sql, &[(&pk, I8), (&log_id, TEXT)]).map_err(db)?.map(|r| r.get(0));
    Ok(mark.map_or(0, |m| u64::try_from(m).unwrap_or(0)))
}

/// `(pk, project_id)` of the batch's run in one statement (`run_pk` takes two).
fn find_run(c: &mut impl GenericClient, key: &RunKey) -> Result<Option<(i64, i64)>> {
    let sql = "SELECT r.pk, p.id FROM entities e JOIN projects p ON p.entity_id = e.id \
               JOIN runs r ON r.project_id = p.id WHERE e.name = $1 AND p.name = $2 AND r.run_id = $3";
    let params: &[(&(dyn ToSql + Sync), Type)] = &[(&key.entity, TEXT), (&key.project, TEXT), (&key.run_id, TEXT)];
    Ok(c.query_typed_opt(sql, params).map_err(db)?.map(|r| (r.get(0), r.get(1))))
}

/// Locks the run row and loads what ingest changes, with the tags as stored (`save_state`
/// rewrites the tag index only when they change).
fn load_state<'a>(c: &mut impl GenericClient, pk: i64) -> Result<(RunState<'a>, StepGuard, String)> {
    let r = c
        .query_typed_one(
            "SELECT name, tags, notes, grp, job_type, host, state, exit_code, config, summary, \
             metadata, last_step, row_count, last_step_log, stop_requested_at FROM runs WHERE pk = $1 FOR UPDATE",
            &[(&pk, I8)],
        )
        .map_err(db)?;
    let mut s = RunState::new(
        r.get(6),
        parse_object(r.get(8))?,
        serde_json::from_str(r.get::<_, &str>(9))?,
        parse_object(r.get(10))?,
    );
    (s.name, s.notes, s.group, s.job_type, s.host) = (r.get(0), r.get(2), r.get(3), r.get(4), r.get(5));
    let tags: String = r.get(1);
    s.tags = serde_json::from_str(&tags).unwrap_or_default();
    (s.exit_code, s.last_step, s.row_count) = (r.get(7), r.get(11), r.get(12));
    s.stop_requested_at = r.get(14);
    let guard = StepGuard { last_step: r.get(11), owner: r.get(13), dropped: 0 };
    Ok((s, guard, tags))
}

fn save_state(c: &mut impl GenericClient, pk: i64, s: &RunState<'_>, guard: &StepGuard, old_tags: &str) -> Result<()> {
    let tags = serde_json::to_string(&s.tags)?;
    let (config, summary, metadata) =
        (serde_json::to_string(&s.config)?, serde_json::to_string(&s.summary)?, serde_json::to_string(&s.metadata)?);
    let params: &[(&(dyn ToSql + Sync), Type)] = &[
        (&pk, I8),
        (&s.name, TEXT),
        (&tags, TEXT),
        (&s.notes, TEXT),
        (&s.group, TEXT),
        (&s.job_type, TEXT),
        (&s.host, TEXT),
        (&s.state, TEXT),
        (&s.exit_code, I8),
        (&config, TEXT),
        (&summary, TEXT),
        (&metadata, TEXT),
        (&s.last_step, I8),
        (&s.row_count, I8),
        (&now(), F8),
        (&guard.owner, TEXT),
        (&s.stop_requested_at, F8),
    ];
    c.execute_typed(
        "UPDATE runs SET name = $2, tags = $3, notes = $4, grp = $5, job_type = $6, host = $7, \
         state = $8, exit_code = $9, config = $10, summary = $11, metadata = $12, last_step = $13, \
         row_count = $14, updated_at = $15, heartbeat_at = $15, last_step_log = $16, stop_requested_at = $17 \
         WHERE pk = $1",
        params,
    )
    .map_err(db)?;
    if tags == old_tags { Ok(()) } else { resync_tags(c, pk) }
}

impl PgStore {
    pub(crate) fn ingest_mark_impl(&self, key: &RunKey, log_id: &str) -> Result<u64> {
        self.tx(|tx| match run_pk(tx, key)? {
            Some((pk, _)) => read_mark(tx, pk, log_id),
            None => Ok(0),
        })
    }

    pub(crate) fn apply_ingest_impl(&self, batch: &IngestBatch) -> Result<IngestOutcome> {
        check_positions(batch)?;
        let to = i64::try_from(batch.to).map_err(|_| StoreError::Invalid("`to` out of range".into()))?;
        self.tx(|tx| {
            let (pk, project, created_run) = match find_run(tx, &batch.key)? {
                Some((pk, project)) => (pk, project, false),
                None => create_from_batch(tx, batch)?,
            };
            // The row lock first: a concurrent apply of the same batch waits here, then sees
            // the mark it advanced.
            let (mut state, mut guard, old_tags) = load_state(tx, pk)?;
            let mark = read_mark(tx, pk, &batch.log_id)?;
            let Some(fresh) = fresh_records(batch, mark, &mut guard)? else {
                let stop_requested = state.stop_pending();
                return Ok(IngestOutcome { acked: batch.to, applied: 0, created_run, dropped_rows: 0, stop_requested });
            };
            for (_, record) in &fresh {
                state.apply(record);
            }
            state.flush_auto_summary();
            let rows: Vec<HistoryRowRef<'_>> = fresh
                .iter()
                .filter_map(|(_, r)| if let Record::History(h) = r { Some(row_ref(h)) } else { None })
                .collect();
            if !rows.is_empty() {
                PgHistoryTx::new(&mut *tx).append(pk, &rows)?;
            }
            apply_capture_records(tx, pk, &batch.log_id, &fresh)?;
            save_state(tx, pk, &state, &guard, &old_tags)?;
            catalogue_keys(tx, project, "config", &state.config)?;
            catalogue_keys(tx, project, "summary", &trackway_store::json::to_json_map(&state.summary))?;
            catalogue_keys(tx, project, "history", &state.history_keys)?;
            tx.execute_typed(
                "INSERT INTO ingest_marks (run_pk, log_id, high_water, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (run_pk, log_id) DO UPDATE SET high_water = greatest(ingest_marks.high_water, \
                 excluded.high_water), updated_at = excluded.updated_at",
                &[(&pk, I8), (&batch.log_id, TEXT), (&to, I8), (&now(), F8)],
            )
            .map_err(db)?;
            Ok(IngestOutcome {
                acked: batch.to,
                applied: fresh.len(),
                created_run,
                dropped_rows: guard.dropped,
                stop_requested: state.stop_pending(),
            })
        })
    }
}

/// A log replayed without `POST /runs`: its `run` record creates the run.
fn create_from_batch(tx: &mut Transaction<'_>, batch: &IngestBatch) -> Result<(i64, i64, bool)> {
    let run_record = batch.records.iter().find_map(|(_, r)| if let Record::Run(r) = r { Some(r) } else { None });
    let Some(rec) = run_record else {
        return Err(StoreError::RunNotFound(batch.key.to_string()));
    };
    let req = CreateRun::from_record(batch.key.clone(), rec);
    let project = ensure_project(tx, &batch.key.entity, &batch.key.project)?;
    match insert_run(tx, project, &batch.key.run_id, &req)? {
        Some(pk) => Ok((pk, project, true)),
        // Created concurrently by another replica: apply to that row.
        None => run_pk(tx, &batch.key)?
            .map(|(pk, p)| (pk, p, false))
            .ok_or_else(|| StoreError::RunNotFound(batch.key.to_string())),
    }
}

/// `output` lines to `run_output`, `stats` windows to the run's system series, in the same
/// transaction (docs/capture.md; the SQLite store's rule).
fn apply_capture_records(tx: &mut Transaction<'_>, pk: i64, log_id: &str, fresh: &[&(u64, Record)]) -> Result<()> {
    let mut lines = Vec::new();
    let mut stats = Vec::new();
    for (_, record) in fresh {
        let Record::Unknown { t, raw } = record else { continue };
        match t.as_str() {
            "output" => lines.extend(capture::parse_output(raw).ok()),
            "stats" => stats.extend(capture::parse_stats(raw).ok()),
            _ => {}
        }
    }
    let refs: Vec<(u64, &str, &str, Option<f64>)> =
        lines.iter().map(|l| (l.line, l.stream.as_str(), l.text.as_str(), l.ts)).collect();
    store_output(tx, pk, log_id, &refs)?;
    if stats.is_empty() {
        return Ok(());
    }
    let created_at: f64 = tx.query_one("SELECT created_at FROM runs WHERE pk = $1", &[&pk]).map_err(db)?.get(0);
    let rows: Vec<HistoryRecord> = stats.iter().map(|(ts, data)| capture::stats_row(*ts, data, created_at)).collect();
    let refs: Vec<HistoryRowRef<'_>> = rows.iter().map(row_ref).collect();
    Ok(PgHistoryTx::new(&mut *tx).append(capture::system_owner(pk), &refs)?)
}
