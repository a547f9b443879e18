//! The one SQLite database of a Trackway data directory.
//!
//! The metadata store (`trackway-store`) and the history engine (`trackway-history`) keep their
//! tables in the same file so that an ingest batch commits history rows and its high-water mark
//! in one transaction. This crate is the single owner of that file:
//!
//! - **One writer.** [`Database::write`] runs a closure in an `IMMEDIATE` transaction on the
//!   only writer connection, behind a mutex. SQLite allows one writer at a time anyway; a single
//!   connection avoids `SQLITE_BUSY` churn between writers (ingest, compaction, on-demand
//!   indexes all queue here).
//! - **One reader pool.** [`Database::reader`] lends a read-only connection (WAL lets readers run
//!   beside the writer); at most [`READER_POOL`] idle ones are kept.
//! - **One migration scheme.** [`Database::migrate`] applies an append-only list of
//!   [`Migration`]s, numbered by position, recording the last one in `PRAGMA user_version`; each
//!   step commits with its version bump or not at all.
//!
//! Durability is chosen at open ([`Synchronous`]): `FULL` (the server) makes a committed
//! transaction survive a power cut, which is what lets ingest acknowledge right after commit.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

/// Idle reader connections kept for reuse; more may be opened under load and are then closed.
pub const READER_POOL: usize = 8;

/// Errors opening or migrating the database. Statement errors inside `read`/`write` closures
/// stay in the caller's own error type.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration {version} failed: {source}")]
    Migration { version: u32, source: rusqlite::Error },
    #[error("database schema version {found} is newer than this build knows ({known}); upgrade Trackway")]
    TooNew { found: u32, known: u32 },
}

/// `PRAGMA synchronous` of every connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// A committed transaction is on disk (survives power loss). The server's setting.
    #[default]
    Full,
    /// Survives a process crash; a power loss may drop the last commits (WAL).
    Normal,
    /// No syncing at all: bulk loaders and benchmarks only.
    Off,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
            Synchronous::Off => "OFF",
        }
    }
}

/// Per-connection setup a user of the database needs (e.g. SQL functions); run on every
/// connection, writer and readers.
pub type ConnectionHook = fn(&Connection) -> rusqlite::Result<()>;

/// One migration step. Its version is its 1-based position in the list handed to
/// [`Database::migrate`]; lists are append-only.
#[derive(Clone, Copy)]
pub enum Migration {
    /// A batch of SQL statements.
    Sql(&'static str),
    /// A step SQL alone cannot express (e.g. adding a column only where it is missing).
    Code(fn(&Transaction<'_>) -> rusqlite::Result<()>),
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Migration::Sql(sql) => write!(f, "Sql({} bytes)", sql.len()),
            Migration::Code(_) => f.write_str("Code(..)"),
        }
    }
}

/// The database file: one writer connection and a pool of readers. Share it behind an `Arc`.
pub struct Database {
    path: PathBuf,
    synchronous: Synchronous,
    hook: Option<ConnectionHook>,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Database {
    /// Opens (creating if needed) the file in WAL mode. Call [`Database::migrate`] next.
    ///
    /// # Errors
    /// When the file cannot be opened or configured.
    pub fn open(path: &Path, synchronous: Synchronous, hook: Option<ConnectionHook>) -> Result<Self, DbError> {
        let writer = open_connection(path, synchronous, hook, false)?;
        Ok(Database {
            path: path.to_owned(),
            synchronous,
            hook,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the steps of `migrations` not applied yet, in order, each in its own transaction
    /// together with its `user_version` bump. Returns the schema version now in force.
    ///
    /// # Errors
    /// When a step fails (that step is rolled back; earlier ones stay), or when the file was
    /// migrated by a newer build.
    pub fn migrate(&self, migrations: &[Migration]) -> Result<u32, DbError> {
        let known = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
        let mut conn = lock(&self.writer);
        loop {
            // IMMEDIATE: another process opening the same file waits instead of racing a step.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if current > known {
                return Err(DbError::TooNew { found: current, known });
            }
            let Some(step) = migrations.get(current as usize) else {
                return Ok(current);
            };
            let version = current + 1;
            let applied = match step {
                Migration::Sql(sql) => tx.execute_batch(sql),
                Migration::Code(f) => f(&tx),
            };
            applied.map_err(|source| DbError::Migration { version, source })?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
            tracing::info!(version, path = %self.path.display(), "applied database migration");
        }
    }

    /// Runs `f` in one `IMMEDIATE` write transaction on the single writer connection; commits
    /// when `f` returns `Ok`, rolls back otherwise.
    ///
    /// # Errors
    /// `f`'s error, or the transaction's.
    pub fn write<T, E: From<rusqlite::Error>>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a pooled read-only connection (a consistent snapshot per statement; open a
    /// transaction inside `f` when several statements must agree).
    ///
    /// # Errors
    /// `f`'s error, or opening a connection.
    pub fn read<T, E: From<rusqlite::Error>>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        let reader = self.reader()?;
        f(&reader)
    }

    /// A pooled read-only connection, returned to the pool when dropped (for work that keeps
    /// one connection across calls, e.g. one per chart worker thread).
    ///
    /// # Errors
    /// When a new connection cannot be opened.
    pub fn reader(&self) -> rusqlite::Result<Reader<'_>> {
        let conn = match lock(&self.readers).pop() {
            Some(c) => c,
            None => open_connection(&self.path, self.synchronous, self.hook, true)?,
        };
        Ok(Reader { conn: Some(conn), pool: &self.readers })
    }
}

/// A pooled read connection; back to the pool on drop.
pub struct Reader<'a> {
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
        if let Some(c) = self.conn.take() {
            let mut pool = lock(self.pool);
            if pool.len() < READER_POOL {
                pool.push(c);
            }
        }
    }
}

/// Locks a mutex, recovering from poisoning: the guarded connections hold no invariants that a
/// panicking holder could break (transactions roll back on drop).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn open_connection(
    path: &Path,
    synchronous: Synchronous,
    hook: Option<ConnectionHook>,
    read_only: bool,
) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", synchronous.pragma())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 16 MiB of private page cache per connection keeps the server's memory bounded; reads go
    // through a shared memory map (file-backed pages the kernel can reclaim), which also skips
    // a copy per page.
    conn.pragma_update(None, "cache_size", -16_384)?;
    conn.pragma_update(None, "mmap_size", 256_i64 << 20)?;
    if let Some(hook) = hook {
        hook(&conn)?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests;
