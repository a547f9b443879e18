//! The engine's tables in SQLite (the crate's `engine` runs over them). See the crate docs for
//! the layout and the transaction contract.

mod tables;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Transaction;
use trackway_sqlite::{Database, Migration, Synchronous};

use self::tables::SqliteTables;
use crate::engine::{self, Backend, Tables};
use crate::{
    ChartQuery, HistoryRow, HistoryRowRef, HistoryStore, HistoryTx, Result, RunKey, ScanPage, ScanQuery, Series,
};

/// The `hist_*` tables. `IF NOT EXISTS`: databases from before the single migration list made
/// these tables outside it, and this step adopts them.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS hist_key(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS hist_series(
  run INTEGER NOT NULL, key INTEGER NOT NULL,
  n_tail INTEGER NOT NULL DEFAULT 0, tail_rows INTEGER NOT NULL DEFAULT 0,
  tail_min INTEGER, tail_max INTEGER,
  n_chunk INTEGER NOT NULL DEFAULT 0, chunk_min INTEGER, chunk_max INTEGER,
  min_level INTEGER NOT NULL DEFAULT -1,
  has_obj INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hist_tail(id INTEGER PRIMARY KEY, run INTEGER NOT NULL,
  key INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS hist_tail_series ON hist_tail(run, key, id);
CREATE TABLE IF NOT EXISTS hist_chunk(id INTEGER PRIMARY KEY, run INTEGER NOT NULL,
  key INTEGER NOT NULL, start_step INTEGER NOT NULL, end_step INTEGER NOT NULL,
  n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS hist_chunk_series ON hist_chunk(run, key, start_step, end_step);
CREATE TABLE IF NOT EXISTS hist_pyr(id INTEGER PRIMARY KEY, run INTEGER NOT NULL,
  key INTEGER NOT NULL, level INTEGER NOT NULL, first_bucket INTEGER NOT NULL,
  last_bucket INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS hist_pyr_series
  ON hist_pyr(run, key, level, first_bucket, last_bucket);
CREATE TABLE IF NOT EXISTS hist_obj(run INTEGER NOT NULL, key INTEGER NOT NULL,
  step INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY(run, key, step)) WITHOUT ROWID;
";

/// The history engine's migration steps, in order. They are part of the one migration list of
/// the server's database (`trackway-store` appends them to its own steps, append-only, so the
/// numbering never changes); [`SqliteHistory::open`] applies them alone to a history-only file.
pub const MIGRATIONS: &[Migration] = &[Migration::Sql(SCHEMA_V1), Migration::Code(add_tail_rows)];

/// `hist_series.tail_rows` came after the first release of the schema; databases created by
/// then lack it (fresh ones get it from [`SCHEMA_V1`]).
fn add_tail_rows(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut st = tx.prepare("PRAGMA table_info(hist_series)")?;
    let names = st.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<Vec<_>, _>>()?;
    if !names.iter().any(|n| n == "tail_rows") {
        tx.execute_batch("ALTER TABLE hist_series ADD COLUMN tail_rows INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(())
}

/// History in SQLite: chunks + pyramid + live tail, in the tables of a [`Database`] it shares
/// with the metadata store (the same writer connection, the same reader pool).
pub struct SqliteHistory {
    db: Arc<Database>,
    threads: usize,
}

impl SqliteHistory {
    /// The engine over a database whose migrations (including [`MIGRATIONS`]) are applied:
    /// the server's, opened by `trackway-store`.
    #[must_use]
    pub fn over(db: Arc<Database>) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        SqliteHistory { db, threads }
    }

    /// A history-only database file at `path` (benchmarks, tests): opened with
    /// `synchronous=NORMAL` and migrated with [`MIGRATIONS`] alone.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let db = Database::open(path.as_ref(), Synchronous::Normal, None)?;
        db.migrate(MIGRATIONS)?;
        Ok(Self::over(Arc::new(db)))
    }
}

impl Backend for SqliteHistory {
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()> {
        let conn = self.db.reader()?;
        let tx = conn.unchecked_transaction()?; // one consistent snapshot
        f(&mut SqliteTables::new(&tx))
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()> {
        self.db.write(|tx| f(&mut SqliteTables::new(tx)))
    }

    fn threads(&self) -> usize {
        self.threads
    }
}

/// History writes inside a SQLite transaction the caller owns (the metadata store's ingest
/// transaction): the rows commit with the caller's own writes or not at all. It keeps no
/// in-memory state, so rolling the transaction back is always safe. An append may compact a
/// series' tail inside the transaction (tail -> chunks + pyramid).
pub struct SqliteHistoryTx<'a> {
    conn: &'a rusqlite::Connection,
}

impl<'a> SqliteHistoryTx<'a> {
    /// `conn` must be inside a write transaction on a database migrated with [`MIGRATIONS`].
    #[must_use]
    pub fn new(conn: &'a rusqlite::Connection) -> Self {
        SqliteHistoryTx { conn }
    }
}

impl HistoryTx for SqliteHistoryTx<'_> {
    fn append(&mut self, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
        engine::append_refs(&mut SqliteTables::new(self.conn), run, rows)
    }

    fn delete_run(&mut self, run: RunKey) -> Result<()> {
        engine::delete_run_in(&mut SqliteTables::new(self.conn), run)
    }
}

impl HistoryStore for SqliteHistory {
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        engine::append(self, run, rows)
    }

    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>> {
        engine::chart(self, q)
    }

    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
        engine::scan(self, run, q)
    }

    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
        engine::sampled(self, run, keys, samples)
    }

    fn keys(&self, run: RunKey) -> Result<Vec<String>> {
        engine::keys(self, run)
    }

    fn keys_of_runs(&self, runs: &[RunKey]) -> Result<Vec<String>> {
        engine::keys_of_runs(self, runs)
    }

    fn last_objects(&self, run: RunKey) -> Result<Vec<(String, u64, crate::Value)>> {
        engine::last_objects(self, run)
    }

    fn delete_run(&self, run: RunKey) -> Result<()> {
        engine::delete_run(self, run)
    }

    fn compact(&self, run: RunKey) -> Result<()> {
        engine::compact(self, run)
    }
}
