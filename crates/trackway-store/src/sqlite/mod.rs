//! The embedded SQLite backend.
//!
//! One `trackway_sqlite::Database` owns the file: one writer connection behind a mutex (SQLite
//! allows one writer at a time anyway, and a single connection avoids `SQLITE_BUSY` churn) and
//! one pool of reader connections, which WAL lets run beside the writer. The history engine
//! ([`SqliteStore::history`]) works on the same `Database`: its writes (ingest, compaction,
//! deletes) queue on the same writer, its reads use the same pool, and its tables are created by
//! steps of the same migration list ([`MIGRATIONS`]). Durability: `synchronous=FULL`, so a
//! committed transaction survives a power cut or `kill -9`, which is what lets the server
//! acknowledge an ingest batch right after commit.

mod access;
mod accounts;
mod artifacts;
pub(crate) mod auth;
mod copy;
mod edit;
mod files;
pub(crate) mod ingest;
mod query;
mod reports;
mod runs;
pub(crate) mod step_guard;
mod sweeps;
mod views;

pub use query::RUN_CURSOR_PATTERN;
pub use runs::BulkRun;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use trackway_history::{SQLITE_MIGRATIONS as HISTORY, SqliteHistory};
use trackway_sqlite::{Database, Migration, Synchronous};

use crate::Result;

/// The one migration list of the server's database, for the metadata tables and the history
/// engine's alike, applied in order; `PRAGMA user_version` records the last one applied. Append
/// only: a step's number is its position. Steps 4-5 are the history engine's schema (a
/// database from before this list made those tables itself; step 4 adopts them).
pub const MIGRATIONS: &[Migration] = &[
    Migration::Sql(include_str!("../../migrations/0001_init.sql")),
    Migration::Sql(include_str!("../../migrations/0002_run_table_indexes.sql")),
    Migration::Sql(include_str!("../../migrations/0003_run_files_output.sql")),
    HISTORY[0],
    HISTORY[1],
    Migration::Sql(include_str!("../../migrations/0004_drop_summary_explicit.sql")),
    Migration::Sql(include_str!("../../migrations/0005_last_step_log.sql")),
    Migration::Sql(include_str!("../../migrations/0006_views.sql")),
    Migration::Sql(include_str!("../../migrations/0007_sweeps.sql")),
    Migration::Sql(include_str!("../../migrations/0008_artifacts.sql")),
    Migration::Sql(include_str!("../../migrations/0009_accounts.sql")),
    Migration::Sql(include_str!("../../migrations/0010_reports.sql")),
    Migration::Sql(include_str!("../../migrations/0011_artifact_ttl.sql")),
    Migration::Sql(include_str!("../../migrations/0012_run_stop.sql")),
];

/// How a store is opened.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// `synchronous=FULL` (the default). Bulk loaders (benchmarks) may turn it off.
    pub durable: bool,
    /// The most expression indexes created on demand for config/summary keys.
    pub max_key_indexes: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { durable: true, max_key_indexes: 64 }
    }
}

/// The SQLite metadata store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    db: Arc<Database>,
    options: OpenOptions,
    /// Names of the on-demand key indexes that exist.
    key_indexes: Mutex<HashSet<String>>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database file at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, OpenOptions::default())
    }

    /// [`SqliteStore::open`] with options.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub fn open_with(path: &Path, options: OpenOptions) -> Result<Self> {
        let sync = if options.durable { Synchronous::Full } else { Synchronous::Off };
        let db = Database::open(path, sync, Some(register_regexp))?;
        db.migrate(MIGRATIONS)?;
        let names = db.read(|c| -> Result<HashSet<String>> {
            let mut stmt = c.prepare("SELECT name FROM key_indexes")?;
            Ok(stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<HashSet<_>, _>>()?)
        })?;
        Ok(SqliteStore { db: Arc::new(db), options, key_indexes: Mutex::new(names) })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// The history engine over this store's database (same writer, same readers), the one
    /// [`crate::Storage::open_sqlite`] pairs with the store.
    #[must_use]
    pub fn history(&self) -> SqliteHistory {
        SqliteHistory::over(self.db.clone())
    }

    /// Runs `f` in one write transaction on the database's single writer, committed when it
    /// returns `Ok`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        self.db.write(f)
    }

    /// Runs `f` on a pooled reader connection (a consistent snapshot per statement; wrap in a
    /// transaction inside `f` when several statements must agree).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.db.read(f)
    }
}

/// Locks a mutex, recovering from poisoning: the guarded sets hold no invariants that a
/// panicking holder could break.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `X REGEXP P` (Rust `regex` syntax). Non-text values are matched by their text form; NULL
/// never matches. The compiled pattern is cached per statement.
fn register_regexp(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: Arc<regex::Regex> = ctx
                .get_or_create_aux(0, |v| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                    Ok(regex::Regex::new(v.as_str()?)?)
                })?;
            Ok(match ctx.get_raw(1) {
                ValueRef::Text(t) => re.is_match(&String::from_utf8_lossy(t)),
                ValueRef::Integer(i) => re.is_match(&i.to_string()),
                ValueRef::Real(f) => re.is_match(&f.to_string()),
                ValueRef::Null | ValueRef::Blob(_) => false,
            })
        },
    )?;
    Ok(())
}

/// Current time as Unix seconds.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl crate::MetadataStore for SqliteStore {
    fn user_count(&self) -> Result<u64> {
        self.user_count_impl()
    }
    fn create_user(&self, username: &str, admin: bool) -> Result<crate::Principal> {
        self.create_user_impl(username, admin)
    }
    fn create_team(&self, name: &str, owner: &str) -> Result<()> {
        self.create_team_impl(name, owner)
    }
    fn add_member(&self, entity: &str, username: &str, role: crate::Role) -> Result<()> {
        self.add_member_impl(entity, username, role)
    }
    fn create_api_key(&self, username: &str, label: Option<&str>) -> Result<crate::NewApiKey> {
        self.create_api_key_impl(username, label)
    }
    fn authenticate(&self, api_key: &str) -> Result<Option<crate::Principal>> {
        self.authenticate_impl(api_key)
    }
    fn list_entities(&self, who: &crate::Principal) -> Result<Vec<String>> {
        self.list_entities_impl(who)
    }
    fn entity_exists(&self, name: &str) -> Result<bool> {
        self.entity_exists_impl(name)
    }
    fn list_projects(&self, entity: &str) -> Result<Vec<crate::ProjectInfo>> {
        self.list_projects_impl(entity)
    }
    fn create_or_resume(&self, req: &crate::CreateRun) -> Result<crate::CreateOutcome> {
        self.create_or_resume_impl(req)
    }
    fn get_run(&self, key: &crate::RunKey) -> Result<crate::Run> {
        self.get_run_impl(key)
    }
    fn patch_run(&self, key: &crate::RunKey, patch: &crate::RunPatch) -> Result<crate::Run> {
        self.patch_run_impl(key, patch)
    }
    fn request_stop(&self, key: &crate::RunKey) -> Result<crate::Run> {
        self.request_stop_impl(key)
    }
    fn delete_run(&self, key: &crate::RunKey) -> Result<Vec<String>> {
        self.delete_run_impl(key)
    }
    fn move_run(&self, key: &crate::RunKey, to_entity: &str, to_project: &str) -> Result<crate::Run> {
        self.move_run_impl(key, to_entity, to_project)
    }
    fn query_runs(&self, query: &crate::RunQuery) -> Result<crate::RunPage> {
        self.query_runs_impl(query)
    }
    fn group_runs(
        &self,
        entity: &str,
        project: &str,
        by: &str,
        filter: Option<&crate::Filter>,
    ) -> Result<Vec<crate::GroupCount>> {
        self.group_runs_impl(entity, project, by, filter)
    }
    fn project_keys(&self, entity: &str, project: &str) -> Result<crate::ProjectKeys> {
        self.project_keys_impl(entity, project)
    }
    fn ingest_mark(&self, key: &crate::RunKey, log_id: &str) -> Result<u64> {
        self.ingest_mark_impl(key, log_id)
    }
    fn apply_ingest(&self, batch: &crate::IngestBatch) -> Result<crate::IngestOutcome> {
        self.apply_ingest_impl(batch, ingest::sqlite_history)
    }
    fn put_run_file(&self, key: &crate::RunKey, path: &str, sha256: &str, size: u64) -> Result<crate::PutFileOutcome> {
        self.put_run_file_impl(key, path, sha256, size)
    }
    fn project_file_bytes(&self, key: &crate::RunKey) -> Result<u64> {
        self.project_file_bytes_impl(key)
    }
    fn list_run_files(&self, key: &crate::RunKey) -> Result<Vec<crate::RunFileEntry>> {
        self.list_run_files_impl(key)
    }
    fn list_run_file_versions(&self, key: &crate::RunKey) -> Result<Vec<crate::RunFileVersion>> {
        self.list_run_file_versions_impl(key)
    }
    fn get_run_file(&self, key: &crate::RunKey, path: &str, version: Option<u64>) -> Result<crate::RunFileVersion> {
        self.get_run_file_impl(key, path, version)
    }
    fn merge_metadata(
        &self,
        key: &crate::RunKey,
        patch: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<crate::Run> {
        self.merge_metadata_impl(key, patch)
    }
    fn run_output(&self, key: &crate::RunKey, query: &crate::OutputQuery) -> Result<Vec<crate::OutputLine>> {
        self.run_output_impl(key, query)
    }
    fn rewrite_output(&self, key: &crate::RunKey, log_id: &str, lines: &[crate::OutputLine]) -> Result<usize> {
        self.rewrite_output_impl(key, log_id, lines)
    }
    fn run_pks(&self, entity: &str, project: &str, run_ids: &[String]) -> Result<Vec<Option<i64>>> {
        self.read(|c| {
            let Some(project) = runs::project_id(c, entity, project)? else { return Ok(vec![None; run_ids.len()]) };
            // In-process: a cached statement per id costs microseconds, no round trips to save.
            let mut stmt = c.prepare_cached("SELECT pk FROM runs WHERE project_id = ?1 AND run_id = ?2")?;
            let mut out = Vec::with_capacity(run_ids.len());
            for id in run_ids {
                out.push(rusqlite::OptionalExtension::optional(
                    stmt.query_row(rusqlite::params![project, id], |r| r.get(0)),
                )?);
            }
            Ok(out)
        })
    }
}
