//! Ingest: applies a batch of run-log records to a run row in one transaction, guarded by the
//! `(run, log_id)` high-water mark so that a resent batch changes nothing.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value as Json};
use trackway_types::summary;
use trackway_types::{HistoryRecord, Record, RunRecord, Value};

use super::files::store_output;
use super::runs::{catalogue_keys, ensure_project, insert_run, run_pk};
use super::step_guard::StepGuard;
use super::{SqliteStore, now};
use crate::json::{apply_config, parse_object, to_json_map};
use crate::{CreateRun, IngestBatch, IngestOutcome, Result, RunKey, StoreError};
use trackway_history::{HistoryRowRef, HistoryTx, SqliteHistoryTx};

impl CreateRun {
    /// The create request a `run` record stands for.
    #[must_use]
    pub fn from_record(key: RunKey, rec: &RunRecord) -> CreateRun {
        let mut metadata = Map::new();
        metadata.insert("settings".into(), Json::Object(to_json_map(&rec.settings)));
        if let Some(pid) = rec.pid {
            metadata.insert("pid".into(), Json::from(pid));
        }
        if let Some(mode) = &rec.mode {
            metadata.insert("mode".into(), Json::from(mode.clone()));
        }
        CreateRun {
            key: Some(key),
            resume: None,
            name: rec.name.clone(),
            tags: Some(rec.tags.clone()),
            notes: rec.notes.clone(),
            group: rec.group.clone(),
            job_type: rec.job_type.clone(),
            host: rec.host.clone(),
            created_at: rec.created_at,
            config: Some(to_json_map(&rec.config)),
            metadata: Some(metadata),
            log_id: Some(rec.log_id.clone()),
        }
    }
}

/// The mutable part of a run row while a batch is applied: the one ingest rule every backend
/// applies (a backend loads the row's fields with [`RunState::new`], applies the batch's
/// records, calls [`RunState::flush_auto_summary`] and writes the fields back). History values
/// are only borrowed while the batch is applied (`pending`) and converted once per key at the
/// end, which keeps ingest cost per point low.
pub struct RunState<'a> {
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub host: Option<String>,
    pub state: String,
    pub exit_code: Option<i64>,
    pub config: Map<String, Json>,
    pub summary: trackway_types::Map,
    pub metadata: Map<String, Json>,
    pub last_step: Option<i64>,
    pub row_count: i64,
    /// The run's stop request ([`crate::MetadataStore::request_stop`]).
    pub stop_requested_at: Option<f64>,
    /// History keys logged by the batch (for the key catalogue), values unused.
    pub history_keys: Map<String, Json>,
    /// Last value of each key logged in this batch, for the automatic summary.
    pending: indexmap::IndexMap<&'a str, Pending<'a>>,
    /// The previous history row's data and the `pending` index of each of its keys: a row
    /// with the same keys in the same order updates `pending` by position, without hashing.
    prev_keys: Option<&'a trackway_types::Map>,
    prev_slots: Vec<usize>,
    last_row: Option<&'a HistoryRecord>,
}

/// The last logged value of one key within a batch, borrowed from the batch; nested maps
/// logged again merge leaf by leaf (the one summary rule, `trackway_types::summary`), so the
/// batch's net effect on the summary is the same as applying each record in turn.
enum Pending<'a> {
    Logged(&'a Value),
    Merged(Value),
}

impl<'a> Pending<'a> {
    fn put(&mut self, v: &'a Value) {
        let prior_map = match self {
            Pending::Logged(Value::Map(m)) => Some(m.clone()),
            Pending::Merged(Value::Map(m)) => Some(std::mem::take(m)),
            _ => None,
        };
        *self = match (prior_map, v) {
            (Some(mut merged), Value::Map(children)) if !children.is_empty() => {
                for (k, c) in children {
                    summary::merge_logged(&mut merged, k.clone(), c.clone(), &mut summary::LastValue);
                }
                Pending::Merged(Value::Map(merged))
            }
            _ => Pending::Logged(v),
        };
    }

    fn into_value(self) -> Value {
        match self {
            Pending::Logged(v) => v.clone(),
            Pending::Merged(v) => v,
        }
    }
}

impl<'a> RunState<'a> {
    fn load(c: &Connection, pk: i64) -> Result<RunState<'a>> {
        let row = c.query_row(
            "SELECT name, tags, notes, grp, job_type, host, state, exit_code, config, summary, \
             metadata, last_step, row_count, stop_requested_at FROM runs WHERE pk = ?1",
            [pk],
            |r| {
                Ok((
                    (r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    (r.get(6)?, r.get(7)?, r.get::<_, String>(8)?, r.get::<_, String>(9)?),
                    (r.get::<_, String>(10)?, r.get(11)?, r.get(12)?, r.get(13)?),
                ))
            },
        )?;
        let (
            (name, tags, notes, group, job_type, host),
            (state, exit_code, config, summary),
            (meta, last_step, row_count, stop_requested_at),
        ) = row;
        let mut s = RunState::new(state, parse_object(&config)?, serde_json::from_str(&summary)?, parse_object(&meta)?);
        (s.name, s.notes, s.group, s.job_type, s.host) = (name, notes, group, job_type, host);
        s.tags = serde_json::from_str(&tags).unwrap_or_default();
        (s.exit_code, s.last_step, s.row_count) = (exit_code, last_step, row_count);
        s.stop_requested_at = stop_requested_at;
        Ok(s)
    }

    /// A state from a run row's state and JSON columns; the other fields start empty and are
    /// set by the backend from its row.
    #[must_use]
    pub fn new(
        state: String,
        config: Map<String, Json>,
        summary: trackway_types::Map,
        metadata: Map<String, Json>,
    ) -> RunState<'a> {
        RunState {
            name: None,
            tags: Vec::new(),
            notes: None,
            group: None,
            job_type: None,
            host: None,
            state,
            exit_code: None,
            config,
            summary,
            metadata,
            last_step: None,
            row_count: 0,
            stop_requested_at: None,
            history_keys: Map::new(),
            pending: indexmap::IndexMap::new(),
            prev_keys: None,
            prev_slots: Vec::new(),
            last_row: None,
        }
    }

    /// Applies one record of the batch (in log order).
    pub fn apply(&mut self, record: &'a Record) {
        match record {
            Record::Run(r) => self.apply_run(r),
            Record::Config(r) => apply_config(&mut self.config, to_json_map(&r.data), &r.remove),
            Record::History(r) => self.apply_history(r),
            Record::Summary(r) => {
                self.flush_auto_summary();
                summary::apply_record(&mut self.summary, r.clone());
            }
            Record::Metric(r) => {
                let metrics = self.metadata.entry("metrics").or_insert_with(|| Json::Object(Map::new()));
                if let (Json::Object(m), Ok(def)) = (metrics, serde_json::to_value(r)) {
                    m.insert(r.name.clone(), def);
                }
            }
            Record::Meta(r) => {
                set_some(&mut self.name, &r.name);
                set_some(&mut self.notes, &r.notes);
                set_some(&mut self.group, &r.group);
                set_some(&mut self.job_type, &r.job_type);
                if let Some(tags) = &r.tags {
                    self.tags.clone_from(tags);
                }
                self.metadata.extend(to_json_map(&r.metadata));
            }
            Record::Finish(r) => {
                self.exit_code = r.exit_code;
                self.state = match (r.crashed, r.exit_code) {
                    (true, _) => "crashed",
                    // Stopped on request (wandb's state for a run stopped from its UI).
                    _ if self.stop_requested_at.is_some() => "killed",
                    (false, Some(code)) if code != 0 => "failed",
                    _ => "finished",
                }
                .to_owned();
                self.metadata.insert("runtime".into(), serde_json::to_value(r.rt).unwrap_or(Json::Null));
            }
            Record::Unknown { .. } => {}
        }
    }

    /// A new log's `run` record: a new attempt of the run.
    fn apply_run(&mut self, r: &RunRecord) {
        set_some(&mut self.name, &r.name);
        set_some(&mut self.notes, &r.notes);
        set_some(&mut self.group, &r.group);
        set_some(&mut self.job_type, &r.job_type);
        set_some(&mut self.host, &r.host);
        if !r.tags.is_empty() {
            self.tags.clone_from(&r.tags);
        }
        self.config.extend(to_json_map(&r.config));
        self.state = "running".to_owned();
        self.exit_code = None;
        self.stop_requested_at = None;
    }

    /// Whether the run's writer should stop: a stop was requested and the run still runs.
    #[must_use]
    pub fn stop_pending(&self) -> bool {
        crate::stop_pending(self.stop_requested_at, &self.state)
    }

    fn apply_history(&mut self, r: &'a HistoryRecord) {
        let step = i64::try_from(r.step).unwrap_or(i64::MAX);
        // Consecutive records with the same step are one row (docs/run-format.md 4).
        if self.last_step != Some(step) {
            self.row_count += 1;
        }
        self.last_step = Some(self.last_step.map_or(step, |s| s.max(step)));
        let same =
            |p: &trackway_types::Map| p.len() == r.data.len() && p.keys().zip(r.data.keys()).all(|(a, b)| a == b);
        if self.prev_keys.is_some_and(same) {
            for (&i, v) in self.prev_slots.iter().zip(r.data.values()) {
                if let Some((_, slot)) = self.pending.get_index_mut(i) {
                    slot.put(v);
                }
            }
        } else {
            self.prev_slots.clear();
            for (k, v) in &r.data {
                // Re-inserting keeps the key's first position, as the summary's order expects.
                let i = match self.pending.get_index_of(k.as_str()) {
                    Some(i) => {
                        if let Some((_, slot)) = self.pending.get_index_mut(i) {
                            slot.put(v);
                        }
                        i
                    }
                    None => self.pending.insert_full(k.as_str(), Pending::Logged(v)).0,
                };
                self.prev_slots.push(i);
            }
            self.prev_keys = Some(&r.data);
        }
        self.last_row = Some(r);
    }

    /// Moves the last logged values (since the previous `summary` record or the batch start)
    /// into the summary and records the keys in the catalogue. The summary rule is the run
    /// log's (`trackway_runlog::RunState`, which `trackway runs show` and resume use): records
    /// apply in log order, a history row sets its top-level keys and `_step`/`_runtime`/
    /// `_timestamp`, a `summary` record sets/replaces/deletes; history logged after a `summary`
    /// record keeps updating the summary (a test compares the two on one log).
    pub fn flush_auto_summary(&mut self) {
        self.prev_keys = None;
        for (k, v) in self.pending.drain(..) {
            if !self.history_keys.contains_key(k) {
                self.history_keys.insert(k.to_owned(), Json::Null);
            }
            summary::merge_logged(&mut self.summary, k.to_owned(), v.into_value(), &mut summary::LastValue);
        }
        if let Some(r) = self.last_row.take() {
            let step = i64::try_from(r.step).map_or(Value::UInt(r.step), Value::Int);
            self.summary.insert("_step".into(), step);
            self.summary.insert("_runtime".into(), Value::Float(r.rt));
            self.summary.insert("_timestamp".into(), Value::Float(r.ts));
        }
    }

    fn save(&self, c: &Connection, pk: i64) -> Result<()> {
        let t = now();
        c.execute(
            "UPDATE runs SET name = ?2, tags = ?3, notes = ?4, grp = ?5, job_type = ?6, host = ?7, \
             state = ?8, exit_code = ?9, config = ?10, summary = ?11, \
             metadata = ?12, last_step = ?13, row_count = ?14, updated_at = ?15, heartbeat_at = ?15, \
             stop_requested_at = ?16 WHERE pk = ?1",
            params![
                pk,
                self.name,
                serde_json::to_string(&self.tags)?,
                self.notes,
                self.group,
                self.job_type,
                self.host,
                self.state,
                self.exit_code,
                serde_json::to_string(&self.config)?,
                serde_json::to_string(&self.summary)?,
                serde_json::to_string(&self.metadata)?,
                self.last_step,
                self.row_count,
                t,
                self.stop_requested_at
            ],
        )?;
        super::runs::resync_tags(c, pk)
    }
}

fn set_some(target: &mut Option<String>, value: &Option<String>) {
    if value.is_some() {
        target.clone_from(value);
    }
}

/// The records of `batch` past the run's high-water `mark` that the ingest rule applies:
/// `Err(OffsetGap)` when the batch starts after the mark, `Ok(None)` when the mark already covers
/// it (a retry: acknowledge, apply nothing), else the new records with history at or below
/// another attempt's last step dropped by `guard` (logged). Every backend calls this one rule.
///
/// # Errors
/// `OffsetGap` when `batch.from` is past `mark`.
pub fn fresh_records<'b>(
    batch: &'b IngestBatch,
    mark: u64,
    guard: &mut StepGuard,
) -> Result<Option<Vec<&'b (u64, Record)>>> {
    if batch.from > mark {
        return Err(StoreError::OffsetGap { expected: mark, from: batch.from });
    }
    if batch.to <= mark {
        return Ok(None);
    }
    let fresh: Vec<&(u64, Record)> = batch
        .records
        .iter()
        .filter(|(pos, _)| *pos >= mark)
        .filter(|(_, r)| match r {
            Record::History(h) => guard.admit(&batch.log_id, i64::try_from(h.step).unwrap_or(i64::MAX)),
            _ => true,
        })
        .collect();
    if guard.dropped > 0 {
        tracing::warn!(run = %batch.key, log_id = %batch.log_id, dropped = guard.dropped,
            "history at or below the run's last step from another attempt was dropped");
    }
    Ok(Some(fresh))
}

/// Positions must be increasing and inside `[from, to)`.
///
/// # Errors
/// `Invalid` naming the first bad position.
pub fn check_positions(batch: &IngestBatch) -> Result<()> {
    if batch.from > batch.to {
        return Err(StoreError::Invalid(format!("from {} is after to {}", batch.from, batch.to)));
    }
    let mut prev: Option<u64> = None;
    for (pos, _) in &batch.records {
        if *pos < batch.from || *pos >= batch.to || prev.is_some_and(|p| p >= *pos) {
            return Err(StoreError::Invalid(format!(
                "record position {pos} is not increasing inside [{}, {})",
                batch.from, batch.to
            )));
        }
        prev = Some(*pos);
    }
    Ok(())
}

/// Whether a stop was requested for the running run `pk` (a retried batch's answer).
fn stop_pending(c: &Connection, pk: i64) -> Result<bool> {
    let (at, state): (Option<f64>, String) =
        c.query_row("SELECT stop_requested_at, state FROM runs WHERE pk = ?1", [pk], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(crate::stop_pending(at, &state))
}

fn read_mark(c: &Connection, pk: i64, log_id: &str) -> Result<u64> {
    let mark: Option<i64> = c
        .query_row("SELECT high_water FROM ingest_marks WHERE run_pk = ?1 AND log_id = ?2", params![pk, log_id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(mark.map_or(0, |m| u64::try_from(m).unwrap_or(0)))
}

impl SqliteStore {
    pub(crate) fn ingest_mark_impl(&self, key: &RunKey, log_id: &str) -> Result<u64> {
        self.read(|c| match run_pk(c, key)? {
            Some((pk, _)) => read_mark(c, pk, log_id),
            None => Ok(0),
        })
    }

    /// Applies a batch; `make_history` gives the history writer over the ingest transaction
    /// ([`sqlite_history`]; tests substitute one that fails).
    pub(crate) fn apply_ingest_impl(&self, batch: &IngestBatch, make_history: MakeHistory) -> Result<IngestOutcome> {
        check_positions(batch)?;
        let to = i64::try_from(batch.to).map_err(|_| StoreError::Invalid("`to` out of range".into()))?;
        self.write(|tx| {
            let (pk, project, created_run) = match run_pk(tx, &batch.key)? {
                Some((pk, project)) => (pk, project, false),
                None => create_from_batch(tx, batch)?,
            };
            let mark = read_mark(tx, pk, &batch.log_id)?;
            let mut guard = StepGuard::load(tx, pk)?;
            let Some(fresh) = fresh_records(batch, mark, &mut guard)? else {
                let stop_requested = stop_pending(tx, pk)?;
                return Ok(IngestOutcome { acked: batch.to, applied: 0, created_run, dropped_rows: 0, stop_requested });
            };
            let mut state = RunState::load(tx, pk)?;
            for (_, record) in &fresh {
                state.apply(record);
            }
            state.flush_auto_summary();
            let rows: Vec<HistoryRowRef<'_>> = fresh
                .iter()
                .filter_map(|(_, r)| if let Record::History(h) = r { Some(row_ref(h)) } else { None })
                .collect();
            let mut history = make_history(tx);
            if !rows.is_empty() {
                history.append(pk, &rows)?;
            }
            apply_capture_records(tx, pk, &batch.log_id, &fresh, &mut *history)?;
            state.save(tx, pk)?;
            guard.save(tx, pk)?;
            catalogue_keys(tx, project, "config", &state.config)?;
            catalogue_keys(tx, project, "summary", &to_json_map(&state.summary))?;
            catalogue_keys(tx, project, "history", &state.history_keys)?;
            tx.execute(
                "INSERT INTO ingest_marks (run_pk, log_id, high_water, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (run_pk, log_id) DO UPDATE SET high_water = max(high_water, excluded.high_water), \
                 updated_at = excluded.updated_at",
                params![pk, batch.log_id, to, now()],
            )?;
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

/// Makes the history writer of one ingest transaction.
pub(crate) type MakeHistory = for<'c> fn(&'c Connection) -> Box<dyn HistoryTx + 'c>;

/// The SQLite history engine writing in the store's transaction (same database, same writer).
pub(crate) fn sqlite_history(tx: &Connection) -> Box<dyn HistoryTx + '_> {
    Box::new(SqliteHistoryTx::new(tx))
}

/// A history record as the history store's borrowed row.
#[must_use]
pub fn row_ref(r: &HistoryRecord) -> HistoryRowRef<'_> {
    HistoryRowRef { step: r.step, ts: r.ts, rt: r.rt, data: &r.data }
}

/// A log replayed without `POST /runs` (sync of an offline run): its `run` record creates the
/// run. Without one the run must already exist.
fn create_from_batch(tx: &Connection, batch: &IngestBatch) -> Result<(i64, i64, bool)> {
    let run_record = batch.records.iter().find_map(|(_, r)| if let Record::Run(r) = r { Some(r) } else { None });
    let Some(rec) = run_record else {
        return Err(StoreError::RunNotFound(batch.key.to_string()));
    };
    let req = CreateRun::from_record(batch.key.clone(), rec);
    let project = ensure_project(tx, &batch.key.entity, &batch.key.project)?;
    let pk = insert_run(tx, project, &batch.key.run_id, &req)?;
    Ok((pk, project, true))
}

/// The capture records of a batch (docs/capture.md): `output` lines go to `run_output`, and
/// `stats` windows to the run's system series (owner `-pk`, see [`crate::capture`]), through
/// the same history writer and transaction as the run's history. Malformed ones were refused by
/// the server already; here they are skipped.
fn apply_capture_records(
    tx: &Connection,
    pk: i64,
    log_id: &str,
    fresh: &[&(u64, Record)],
    history: &mut dyn HistoryTx,
) -> Result<()> {
    let mut lines = Vec::new();
    let mut stats = Vec::new();
    for (_, record) in fresh {
        let Record::Unknown { t, raw } = record else { continue };
        match t.as_str() {
            "output" => lines.extend(crate::capture::parse_output(raw).ok()),
            "stats" => stats.extend(crate::capture::parse_stats(raw).ok()),
            _ => {}
        }
    }
    let refs: Vec<(u64, &str, &str, Option<f64>)> =
        lines.iter().map(|l| (l.line, l.stream.as_str(), l.text.as_str(), l.ts)).collect();
    store_output(tx, pk, log_id, &refs)?;
    if stats.is_empty() {
        return Ok(());
    }
    let created_at: f64 = tx.query_row("SELECT created_at FROM runs WHERE pk = ?1", [pk], |r| r.get(0))?;
    let rows: Vec<HistoryRecord> =
        stats.iter().map(|(ts, data)| crate::capture::stats_row(*ts, data, created_at)).collect();
    let refs: Vec<HistoryRowRef<'_>> = rows.iter().map(row_ref).collect();
    Ok(history.append(crate::capture::system_owner(pk), &refs)?)
}
