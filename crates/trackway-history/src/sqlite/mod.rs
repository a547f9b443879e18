//! The embedded SQLite engine. See the crate docs for the layout and the transaction contract.

mod compact;
mod meta;
mod plot;
mod pyramid;
mod read;
pub(crate) mod scan;
pub(crate) mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::{
    ChartQuery, HistoryError, HistoryRow, HistoryRowRef, HistoryStore, Result, RunKey, ScanPage, ScanQuery, Series,
};

/// Points per compacted chunk.
pub(crate) const CHUNK: usize = 4096;
/// A series' tail is compacted inside `append` once it holds this many points.
pub(crate) const COMPACT_TAIL: i64 = 2 * CHUNK as i64;
/// A series' tail segments are merged into one once there are this many (tiny ingest batches
/// would otherwise make live-tail reads one row per batch).
pub(crate) const COALESCE_TAIL_ROWS: i64 = 64;
/// Reserved series keys for the row's timestamp and runtime.
pub(crate) const KEY_TS: &str = "_timestamp";
pub(crate) const KEY_RT: &str = "_runtime";

const SCHEMA: &str = "
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

/// History in SQLite: chunks + pyramid + live tail, in the server's database file.
pub struct SqliteHistory {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    threads: usize,
}

fn add_column_if_missing(conn: &Connection, table: &str, column: &str, decl: &str) -> Result<()> {
    let mut st = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = st.query_map([], |r| r.get::<_, String>(1))?.collect::<Result<Vec<_>, _>>()?;
    if !names.iter().any(|n| n == column) {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

impl SqliteHistory {
    /// Open (or create) the history tables in the SQLite file at `path` (WAL mode).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let writer = Connection::open(&path)?;
        configure(&writer)?;
        Self::init_schema(&writer)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        Ok(SqliteHistory { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()), threads })
    }

    /// Create the `hist_*` tables if missing. Idempotent; safe inside the server's migrations.
    pub fn init_schema(conn: &Connection) -> Result<()> {
        conn.execute_batch(SCHEMA)?;
        // Columns added after the first version of the schema (databases created by then).
        add_column_if_missing(conn, "hist_series", "tail_rows", "INTEGER NOT NULL DEFAULT 0")?;
        Ok(())
    }

    /// Worker threads used by `chart` (default: available cores, at most 4).
    pub fn set_threads(&mut self, n: usize) {
        self.threads = n.max(1);
    }

    /// Append rows using the caller's connection, which must be inside a transaction (the
    /// server's ingest transaction, so history and its high-water mark commit together).
    /// Keeps no in-memory state, so rolling the transaction back is always safe.
    pub fn append_tx(&self, conn: &Connection, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        write::append(conn, run, rows)
    }

    /// [`Self::append_tx`] for borrowed rows (no copy of the values).
    pub fn append_tx_refs(&self, conn: &Connection, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
        write::append_refs(conn, run, rows)
    }

    /// Compact the live tail of every series of `run` using the caller's transaction.
    pub fn compact_tx(&self, conn: &Connection, run: RunKey) -> Result<()> {
        compact::compact_run(conn, run)
    }

    /// Delete a run's history using the caller's transaction.
    pub fn delete_run_tx(&self, conn: &Connection, run: RunKey) -> Result<()> {
        for t in ["hist_series", "hist_tail", "hist_chunk", "hist_pyr", "hist_obj"] {
            conn.execute(&format!("DELETE FROM {t} WHERE run = ?1"), [run])?;
        }
        Ok(())
    }

    fn with_writer<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().map_err(|_| HistoryError::Invalid("writer poisoned".into()))?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn reader(&self) -> Result<Reader<'_>> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match pooled {
            Some(c) => c,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let c = Connection::open_with_flags(&self.path, flags)?;
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                c
            }
        };
        Ok(Reader { conn: Some(conn), pool: &self.readers })
    }
}

/// A pooled read connection; returned to the pool on drop.
pub(crate) struct Reader<'a> {
    conn: Option<Connection>,
    pool: &'a Mutex<Vec<Connection>>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("reader used after drop"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(c), Ok(mut pool)) = (self.conn.take(), self.pool.lock())
            && pool.len() < 8
        {
            pool.push(c);
        }
    }
}

impl HistoryStore for SqliteHistory {
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        self.with_writer(|c| write::append(c, run, rows))
    }

    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>> {
        plot::chart(self, q)
    }

    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
        let conn = self.reader()?;
        let tx = conn.unchecked_transaction()?; // one consistent snapshot for the page
        scan::scan(&tx, run, q)
    }

    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
        let conn = self.reader()?;
        let tx = conn.unchecked_transaction()?;
        scan::sampled(&tx, run, keys, samples)
    }

    fn keys(&self, run: RunKey) -> Result<Vec<String>> {
        let conn = self.reader()?;
        meta::run_keys(&conn, run)
    }

    fn keys_of_runs(&self, runs: &[RunKey]) -> Result<Vec<String>> {
        let conn = self.reader()?;
        meta::keys_of_runs(&conn, runs)
    }

    fn delete_run(&self, run: RunKey) -> Result<()> {
        self.with_writer(|c| self.delete_run_tx(c, run))
    }

    fn compact(&self, run: RunKey) -> Result<()> {
        self.with_writer(|c| compact::compact_run(c, run))
    }
}
