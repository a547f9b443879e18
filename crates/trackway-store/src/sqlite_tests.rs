//! The metadata store conformance suite against the SQLite backend, and SQLite specifics: one
//! migration list for metadata and history tables, the ingest transaction spanning both.

use std::ops::Deref;
use std::sync::Arc;

use serde_json::json;
use trackway_history::{HistoryRowRef, HistoryStore, HistoryTx, ScanQuery};
use trackway_types::Record;

use crate::{
    CreateRun, IngestBatch, MIGRATIONS, MetadataStore, OpenOptions, RunKey, SqliteStore, Storage, StoreError,
    account_store_conformance, metadata_store_conformance,
};

/// A store in its own temporary directory, removed when the test ends.
struct Fresh {
    storage: Storage,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl Deref for Fresh {
    type Target = Storage;
    fn deref(&self) -> &Storage {
        &self.storage
    }
}

fn fresh() -> Fresh {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("trackway.db")).expect("open store"));
    let storage = Storage {
        metadata: store.clone(),
        history: Arc::new(store.history()),
        views: store.clone(),
        sweeps: store.clone(),
        artifacts: store.clone(),
        accounts: store.clone(),
        reports: store.clone(),
    };
    Fresh { storage, store, _dir: dir }
}

metadata_store_conformance!(fresh());
crate::sweep_store_conformance!(fresh());

mod views {
    use super::fresh;
    crate::view_store_conformance!(fresh());
}

mod artifacts {
    use super::fresh;
    crate::artifact_store_conformance!(fresh());
}
account_store_conformance!(fresh());

mod reports {
    use super::fresh;
    crate::report_store_conformance!(fresh());
}

fn key() -> RunKey {
    RunKey { entity: "alice".into(), project: "p".into(), run_id: "r1".into() }
}

fn batch(lines: &[&str]) -> IngestBatch {
    let mut pos = 0;
    let mut records = Vec::new();
    for l in lines {
        records.push((pos, Record::parse(l.as_bytes()).expect("record")));
        pos += l.len() as u64 + 1;
    }
    IngestBatch { key: key(), log_id: "log1".into(), from: 0, to: pos, records }
}

/// A history writer that fails after the store has written its own rows.
struct FailingHistory;

impl HistoryTx for FailingHistory {
    fn append(&mut self, _run: i64, _rows: &[HistoryRowRef<'_>]) -> trackway_history::Result<()> {
        Err(trackway_history::HistoryError::Corrupt("disk full".into()))
    }
    fn delete_run(&mut self, _run: i64) -> trackway_history::Result<()> {
        Ok(())
    }
}

fn failing_history(_tx: &rusqlite::Connection) -> Box<dyn HistoryTx + '_> {
    Box::new(FailingHistory)
}

#[test]
fn a_history_failure_rolls_back_the_whole_batch() -> anyhow::Result<()> {
    let s = fresh();
    s.store.create_user("alice", true)?;
    s.store.create_or_resume(&CreateRun { key: Some(key()), ..CreateRun::default() })?;
    let lines =
        [r#"{"t":"config","data":{"lr":0.1}}"#, r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0}}"#];
    let err = s.store.apply_ingest_impl(&batch(&lines), failing_history);
    assert!(matches!(err, Err(StoreError::History(_))), "{err:?}");
    assert_eq!(s.store.ingest_mark(&key(), "log1")?, 0);
    let run = s.store.get_run(&key())?;
    assert_eq!((run.row_count, run.config), (0, json!({})));
    // The real writer then commits both.
    s.store.apply_ingest(&batch(&lines))?;
    let rows = s.storage.history.scan(run.pk, &ScanQuery { limit: 10, ..ScanQuery::default() })?.rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(s.store.get_run(&key())?.config, json!({"lr": 0.1}));
    Ok(())
}

#[test]
fn one_migration_list_creates_metadata_and_history_tables() -> anyhow::Result<()> {
    let s = fresh();
    let conn = rusqlite::Connection::open(s.store.path())?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    assert_eq!(usize::try_from(version)?, MIGRATIONS.len());
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'ingest_marks', 'hist_series', 'hist_chunk') ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(tables, ["hist_chunk", "hist_series", "ingest_marks", "runs"]);
    Ok(())
}

/// A data directory from before the single list: metadata at version 3, history tables made by
/// the history engine itself (first schema: no `tail_rows`). Opening adopts them.
#[test]
fn a_database_from_before_the_single_list_is_adopted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("trackway.db");
    {
        let db = trackway_sqlite::Database::open(&path, trackway_sqlite::Synchronous::Full, None)?;
        db.migrate(&MIGRATIONS[..3])?;
        db.write(|tx| {
            tx.execute_batch(
                "CREATE TABLE hist_series(run INTEGER NOT NULL, key INTEGER NOT NULL,
                   n_tail INTEGER NOT NULL DEFAULT 0, tail_min INTEGER, tail_max INTEGER,
                   n_chunk INTEGER NOT NULL DEFAULT 0, chunk_min INTEGER, chunk_max INTEGER,
                   min_level INTEGER NOT NULL DEFAULT -1, has_obj INTEGER NOT NULL DEFAULT 0,
                   PRIMARY KEY(run, key)) WITHOUT ROWID;",
            )
        })?;
    }
    let store = SqliteStore::open_with(&path, OpenOptions::default())?;
    store.create_user("alice", true)?;
    store.apply_ingest(&batch(&[
        r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1"}"#,
        r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0}}"#,
    ]))?;
    let pk = store.get_run(&key())?.pk;
    assert_eq!(store.history().keys(pk)?, ["loss"]);
    Ok(())
}

/// SQLite-specific: keys used in filters/sorts get an expression index (only catalogued keys),
/// and the query plan uses it instead of scanning every run's JSON.
#[test]
fn filtered_keys_get_expression_indexes() -> anyhow::Result<()> {
    use crate::{Direction, RunQuery, parse_filter};
    let fixture = fresh();
    let store = &fixture.store;
    store.create_user("alice", true)?;
    for i in 0..20 {
        let mut config = serde_json::Map::new();
        config.insert("lr".into(), json!(i as f64 / 10.0));
        let key = RunKey { entity: "alice".into(), project: "p".into(), run_id: format!("r{i}") };
        store.create_or_resume(&CreateRun { key: Some(key), config: Some(config), ..CreateRun::default() })?;
    }
    let query = |filter: serde_json::Value| RunQuery {
        entity: "alice".into(),
        project: "p".into(),
        filter: Some(parse_filter(&filter).expect("filter")),
        order_by: "created_at".into(),
        direction: Direction::Desc,
        limit: 5,
        cursor: None,
        with_total: true,
    };
    assert_eq!(store.query_runs(&query(json!({"config.lr": {"$gte": 1.0}})))?.total, Some(10));
    assert_eq!(store.query_runs(&query(json!({"config.typo": 1})))?.total, Some(0));
    let conn = rusqlite::Connection::open(store.path())?;
    let exprs: Vec<String> =
        conn.prepare("SELECT expr FROM key_indexes")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    // The condition's index is on the key's number form, which answers it without the JSON.
    let number = crate::filter::sqlite_number_form(r#"json_extract(r.config, '$."lr"')"#);
    assert_eq!(exprs, vec![number.replace("(r.config,", "(config,")]);
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN SELECT count(*) FROM runs r WHERE r.project_id = 1 AND {number} >= 1.0"))?
        .query_map([], |r| r.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    assert!(plan.iter().any(|step| step.contains("USING COVERING INDEX kx_")), "plan: {plan:?}");
    Ok(())
}

/// One summary rule: the server's summary of a run equals the run log's replay
/// (`trackway_runlog::load_run_state`, what `trackway runs show` and resume use) for a writer that
/// writes a `summary` record and keeps logging. The server used to freeze its summary at the
/// first `summary` record, and replaced nested values where the SDK merged them.
#[test]
fn the_server_summary_is_the_run_log_replay() -> anyhow::Result<()> {
    let lines = [
        r#"{"t":"run","v":1,"log_id":"log1","run_id":"r1"}"#,
        r#"{"t":"history","step":0,"ts":1.0,"rt":0.5,"data":{"loss":1.0,"acc":0.1}}"#,
        r#"{"t":"summary","set":{"best":0.9}}"#,
        r#"{"t":"history","step":1,"ts":2.0,"rt":1.5,"data":{"loss":0.5}}"#,
        r#"{"t":"summary","full":{"best":{"a":1,"b":2}}}"#,
        r#"{"t":"history","step":2,"ts":3.0,"rt":2.5,"data":{"loss":{"$f":"NaN"},"nested":{"x":1}}}"#,
        r#"{"t":"summary","set":{"y":2},"del":[["best","a"]]}"#,
        r#"{"t":"history","step":3,"ts":4.0,"rt":3.5,"data":{"loss":0.25}}"#,
        r#"{"t":"history","step":4,"ts":5.0,"rt":4.5,"data":{"nested":{"y":2}}}"#,
        r#"{"t":"history","step":5,"ts":6.0,"rt":5.5,"data":{"deep":{"a":{"b":1}}}}"#,
        r#"{"t":"history","step":5,"ts":6.0,"rt":5.5,"data":{"deep":{"a":{"c":2}},"loss":0.25}}"#,
    ];
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("run.jsonl"), lines.join("\n") + "\n")?;
    let replayed = trackway_runlog::load_run_state(dir.path())?;
    let want: serde_json::Value =
        serde_json::from_str(&trackway_types::to_json(&trackway_types::Value::Map(replayed.summary)))?;

    let s = fresh();
    s.store.create_user("alice", true)?;
    // Split over two batches as an agent may send it: the rule must not depend on batching.
    let all = batch(&lines);
    let cut = all.records[4].0;
    let (first, second) = all.records.split_at(4);
    let part = |records: &[(u64, Record)], from, to| IngestBatch { records: records.to_vec(), from, to, ..batch(&[]) };
    s.store.apply_ingest(&part(first, 0, cut))?;
    s.store.apply_ingest(&part(second, cut, all.to))?;
    let got = s.store.get_run(&key())?.summary;
    assert_eq!(got, want, "server summary vs run-log replay");
    assert_eq!(got["loss"], json!(0.25), "history after summary records keeps updating the summary");
    // Nested values merge leaf by leaf (wandb's rule), across rows and across one row's fragments.
    assert_eq!(got["nested"], json!({"x": 1, "y": 2}));
    assert_eq!(got["deep"], json!({"a": {"b": 1, "c": 2}}));
    Ok(())
}

/// Sweep controller state is in the database file: a reopened store (a restarted server) has
/// the sweep, its state and its trials.
#[test]
fn sweep_state_survives_reopen() {
    use crate::{ClaimDecision, NewSweep, SweepStore};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let new = NewSweep {
        id: "r1".into(),
        entity: "alice".into(),
        project: "p".into(),
        name: None,
        config: json!({"method": "grid"}),
        method: "grid".into(),
        seed: 7,
    };
    {
        let store = SqliteStore::open(&path).expect("open");
        store.create_sweep(&new).expect("create");
        let mut next = |_: &crate::Sweep, t: &[crate::SweepTrial]| ClaimDecision::Trial {
            run_id: format!("r1-{}", t.len()),
            config: json!({"a": t.len()}),
        };
        store.claim_trial("r1", "a", &mut next).expect("claim");
        store.set_sweep_state("r1", "paused").expect("pause");
    }
    let store = SqliteStore::open(&path).expect("reopen");
    let sweep = store.get_sweep("r1").expect("sweep");
    assert_eq!((sweep.state.as_str(), sweep.seed, sweep.trial_count), ("paused", 7, 1));
    assert_eq!(store.list_trials("r1").expect("trials")[0].config, json!({"a": 0}));
}
