//! Trackway's metadata store: users, API keys, entities (users and teams), memberships,
//! accounts ([`AccountStore`]: invites, scoped keys, sessions, visibility, audit log), projects, runs, ingest high-water marks and run-table queries.
//!
//! Layout:
//! - [`MetadataStore`]: the backend trait (SQLite now, PostgreSQL later), with one conformance
//!   suite in `conformance` that every backend runs (compiled for this crate's tests and behind
//!   the `testsuite` feature for other backends' crates, never into release binaries).
//! - [`Storage`]: what the server holds, a metadata store and the history store of the same
//!   backend as trait objects. Ingest is one transaction across both: the backend's
//!   [`MetadataStore::apply_ingest`] appends the batch's history rows through its own
//!   [`trackway_history::HistoryTx`] inside the transaction that advances the high-water mark.
//! - `model`: the plain data types the trait speaks.
//! - `filter`: the MongoDB-style filter language of the run table (as wandb's public API takes
//!   it), parsed into an AST and compiled to SQL.
//! - `json`: config/summary edits on Trackway JSON (top-level replace, nested delete).
//! - `sqlite`: the embedded backend ([`SqliteStore`]): one `trackway_sqlite::Database` (one
//!   writer connection, one reader pool, one migration list) holding the metadata tables and
//!   the history engine's.
//!
//! The trait is synchronous: every call is a short database transaction. Async callers (the
//! server) run it on a blocking thread.

mod accounts;
pub mod artifacts;
pub mod blobrefs;
pub mod capture;
#[cfg(any(test, feature = "testsuite"))]
pub mod conformance;
pub mod conformance_accounts;
#[cfg(any(test, feature = "testsuite"))]
pub mod conformance_artifacts;
#[cfg(any(test, feature = "testsuite"))]
pub mod conformance_sweeps;
pub mod copy;
mod filter;
pub mod json;
mod model;
pub mod reports;
#[cfg(any(test, feature = "testsuite"))]
pub mod reports_conformance;
pub mod runs_bench;
mod sqlite;
#[cfg(test)]
mod sqlite_tests;
mod sweeps;
pub mod views;
#[cfg(any(test, feature = "testsuite"))]
pub mod views_conformance;

use std::path::Path;
use std::sync::Arc;

use trackway_history::HistoryStore;

pub use accounts::*;
pub use artifacts::ArtifactStore;
pub use filter::{Filter, parse_filter};
pub use model::*;
pub use reports::{NewReport, Report, ReportComment, ReportEdit, ReportInfo, ReportStore, ReportVersion};
pub use sqlite::{BulkRun, MIGRATIONS, OpenOptions, RUN_CURSOR_PATTERN, SqliteStore};
pub use sweeps::{
    Claim, ClaimDecision, ClaimStep, Decide, MAX_RUN_LOOKUP, NewSweep, SWEEP_STATES, Sweep, SweepStore, SweepTrial,
    TRIAL_STATES, TrialUpdate, check_run_lookup, check_sweep_state, check_trial_updates, claim_step, unknown_trial,
};
pub use views::{NewView, SavedView, ViewStore};

/// The backend-neutral rules other backends (trackway-postgres) share with the SQLite store:
/// the ingest state machine, the step guard, API-key hashing, and the filter compiler with its
/// SQL dialects.
pub mod backend {
    pub use crate::filter::{
        Dialect, Field, KeyIndex, Op, Source, SqlBuilder, SqlParam, collect_json_fields, json_path, key_indexes,
        parse_field,
    };
    pub use crate::sqlite::auth::{KEY_PREFIX, generate_key, hash_key, key_prefix, valid_name};
    pub use crate::sqlite::ingest::{RunState, check_positions, fresh_records, row_ref};
    pub use crate::sqlite::step_guard::StepGuard;
}

/// Errors of the metadata store. User errors carry what the API needs; internal ones keep their
/// source for the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("run {0} does not exist")]
    RunNotFound(String),
    #[error("run {0} already exists")]
    RunExists(String),
    #[error("project {0} does not exist")]
    ProjectNotFound(String),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The change was made against an older state (a report saved over someone else's edit).
    #[error("{0}")]
    Conflict(String),
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A size limit of `trackway_types::limits` (files per run, ...).
    #[error("{0}")]
    Limit(String),
    #[error("batch starts at {from} but the server has everything up to {expected}")]
    OffsetGap { expected: u64, from: u64 },
    #[error("history store failed: {0}")]
    History(#[from] trackway_history::HistoryError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Db(#[from] trackway_sqlite::DbError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    /// Another backend's database client failed (PostgreSQL, ...).
    #[error("database: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A storage backend as the server uses it: its metadata store and its history store, which
/// share one database (SQLite: one file, one writer connection), so that
/// [`MetadataStore::apply_ingest`] commits a batch's history rows together with its run row and
/// high-water mark. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    pub metadata: Arc<dyn MetadataStore>,
    pub history: Arc<dyn HistoryStore>,
    /// Saved workspace views, in the same database.
    pub views: Arc<dyn ViewStore>,
    /// Sweep controller state, in the same database.
    pub sweeps: Arc<dyn SweepStore>,
    /// Artifacts (docs/artifacts.md), in the same database.
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Users, teams, keys, sessions, visibility and audit log of the same database.
    pub accounts: Arc<dyn AccountStore>,
    /// Reports (documents of text and live panels), in the same database.
    pub reports: Arc<dyn ReportStore>,
}

impl Storage {
    /// The embedded backend: metadata and history in the SQLite file at `path`, created and
    /// migrated (one migration list for both) if needed.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub fn open_sqlite(path: &Path, options: OpenOptions) -> Result<Storage> {
        let store = Arc::new(SqliteStore::open_with(path, options)?);
        let history = Arc::new(store.history());
        Ok(Storage {
            metadata: store.clone(),
            history,
            views: store.clone(),
            sweeps: store.clone(),
            artifacts: store.clone(),
            reports: store.clone(),
            accounts: store,
        })
    }
}

/// The metadata store. Implementations are `Send + Sync`; each method is one transaction.
pub trait MetadataStore: Send + Sync + 'static {
    // --- users, entities, keys -------------------------------------------------------------
    /// Number of users (0 on a fresh data dir).
    fn user_count(&self) -> Result<u64>;
    /// Creates a user, its personal entity of the same name and an owner membership.
    fn create_user(&self, username: &str, admin: bool) -> Result<Principal>;
    /// Creates a team entity owned by `owner`.
    fn create_team(&self, name: &str, owner: &str) -> Result<()>;
    /// Adds (or changes) a membership.
    fn add_member(&self, entity: &str, username: &str, role: Role) -> Result<()>;
    /// Creates an API key for `username`; the plaintext is returned once and never stored.
    fn create_api_key(&self, username: &str, label: Option<&str>) -> Result<NewApiKey>;
    /// The principal a plaintext key belongs to, or `None` for unknown or revoked keys.
    fn authenticate(&self, api_key: &str) -> Result<Option<Principal>>;
    /// Entities the principal can see (all for admins).
    fn list_entities(&self, who: &Principal) -> Result<Vec<String>>;
    /// Whether the entity exists.
    fn entity_exists(&self, name: &str) -> Result<bool>;

    // --- projects and runs --------------------------------------------------------------
    fn list_projects(&self, entity: &str) -> Result<Vec<ProjectInfo>>;
    /// Create-or-resume with wandb's `resume` semantics (docs/api.md).
    fn create_or_resume(&self, req: &CreateRun) -> Result<CreateOutcome>;
    fn get_run(&self, key: &RunKey) -> Result<Run>;
    fn patch_run(&self, key: &RunKey, patch: &RunPatch) -> Result<Run>;
    /// Asks a running run to stop (wandb's "Stop run"): sets `stop_requested_at` (the first
    /// request's time; asking again changes nothing). Ingest acknowledgements then say
    /// `stop_requested`, a later `finish` makes the run `killed`, and a resume clears it.
    /// `Conflict` when the run is not running, `RunNotFound` when it does not exist.
    fn request_stop(&self, key: &RunKey) -> Result<Run>;
    /// Deletes the run with its history, console, tags and file records. File blobs are
    /// content-addressed and may be shared: it returns the sha256 of each blob of the run that
    /// nothing references any more ([`blobrefs`]), for the caller to remove from the blob store.
    /// `RunNotFound` if it does not exist.
    fn delete_run(&self, key: &RunKey) -> Result<Vec<String>>;
    /// Moves the run to another project (created if needed; the entity must exist), keeping its
    /// id, history, files and console. `RunExists` if the id is taken there.
    fn move_run(&self, key: &RunKey, to_entity: &str, to_project: &str) -> Result<Run>;
    /// One page of the run table.
    fn query_runs(&self, query: &RunQuery) -> Result<RunPage>;
    /// Counts of runs per value of one key (`config.x`, `state`, ...), filtered.
    fn group_runs(&self, entity: &str, project: &str, by: &str, filter: Option<&Filter>) -> Result<Vec<GroupCount>>;
    /// Distinct config, summary and history keys of a project.
    fn project_keys(&self, entity: &str, project: &str) -> Result<ProjectKeys>;

    // --- ingest -------------------------------------------------------------------------
    /// The high-water mark of `(run, log_id)`; 0 when nothing was ingested yet.
    fn ingest_mark(&self, key: &RunKey, log_id: &str) -> Result<u64>;
    /// Applies a batch atomically (see [`IngestBatch`]). The new history records (at or above
    /// the high-water mark, in log order) go to the backend's history store inside the same
    /// transaction: the run's rows under its key (`Run::pk`), and one row per `stats` record of
    /// a `system.jsonl` log under the system series' owner ([`capture::system_owner`]). A
    /// history failure rolls the whole batch back.
    fn apply_ingest(&self, batch: &IngestBatch) -> Result<IngestOutcome>;

    // --- run files, metadata, console -----------------------------------------------------
    /// Records an upload of `path` (already validated; bytes already in the blob store). Content
    /// equal to the latest version records nothing (`created: false`).
    fn put_run_file(&self, key: &RunKey, path: &str, sha256: &str, size: u64) -> Result<PutFileOutcome>;
    /// Bytes of every stored version of every run file in the project of `key` (the quota).
    fn project_file_bytes(&self, key: &RunKey) -> Result<u64>;
    /// The latest version of every path of a run, sorted by path.
    fn list_run_files(&self, key: &RunKey) -> Result<Vec<RunFileEntry>>;
    /// Every version of every path, sorted by path and version.
    fn list_run_file_versions(&self, key: &RunKey) -> Result<Vec<RunFileVersion>>;
    /// One version (`None`: the latest) of a path; `NotFound` when absent.
    fn get_run_file(&self, key: &RunKey, path: &str, version: Option<u64>) -> Result<RunFileVersion>;
    /// Sets top-level keys of the run's metadata (e.g. from `trackway-metadata.json`).
    fn merge_metadata(&self, key: &RunKey, patch: &serde_json::Map<String, serde_json::Value>) -> Result<Run>;
    /// A page of the run's console lines.
    fn run_output(&self, key: &RunKey, query: &OutputQuery) -> Result<Vec<OutputLine>>;
    /// Replaces console lines a log already stored (`line`: the log's own numbering, as its
    /// `output` records count), e.g. a progress bar redrawn with `\r` after the line was sent
    /// (wandb's filestream resends such a line at its old offset). Lines the log has not stored
    /// are left alone: they arrive through `apply_ingest`. Returns how many lines changed.
    fn rewrite_output(&self, key: &RunKey, log_id: &str, lines: &[OutputLine]) -> Result<usize>;
    /// The primary keys of runs of one project, in `run_ids` order (`None`: no such run, or no
    /// such project). One snapshot, and one query where the database allows: routes that touch
    /// many runs at once (a chart of 1,000 runs) must not pay a round trip per run.
    fn run_pks(&self, entity: &str, project: &str, run_ids: &[String]) -> Result<Vec<Option<i64>>>;
}
