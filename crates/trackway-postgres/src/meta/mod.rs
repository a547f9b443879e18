//! The PostgreSQL [`MetadataStore`]: the SQLite store's tables (migrations/0002_metadata.sql)
//! and rules, through the backend-neutral pieces of `trackway_store::backend` (the ingest state
//! machine, the step guard, key hashing, the filter compiler with a PostgreSQL [`Dialect`]).
//!
//! Every method is one transaction on a pooled connection. Replicas share nothing but the
//! database: ingest locks the run row (`FOR UPDATE`) before reading its high-water mark, so a
//! batch resent to another replica while the first is still applying it waits and then finds it
//! applied; creates use `ON CONFLICT` so concurrent first writers agree on one row.
//!
//! [`Dialect`]: trackway_store::backend::Dialect

pub(crate) mod auth;
mod dialect;
pub(crate) mod edit;
mod files;
mod ingest;
mod query;
pub(crate) mod runs;

pub(crate) use runs::{ensure_project, project_id, run_pk};

use std::sync::Arc;

use postgres::Transaction;
use trackway_store::{MetadataStore, Result, Storage, StoreError};

use crate::{PgHistory, Pool, PoolOptions};

/// Maps a database error into the store's error.
pub(crate) fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Current time as Unix seconds.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The PostgreSQL metadata store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Names of the run-table key indexes known to exist (a cache safe to lose: the database
    /// is asked again).
    key_indexes: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl PgStore {
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        PgStore { pool, key_indexes: Arc::default() }
    }

    /// Runs `f` in one transaction, committed when it returns `Ok`.
    pub(crate) fn tx<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get().map_err(db)?;
        let mut tx = conn.transaction().map_err(db)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

/// Opens the PostgreSQL backend at `url`: migrates, then serves every store — metadata,
/// history, saved views, sweeps, accounts, reports and artifacts — from the one pooled database
/// (ingest writes history in the metadata transaction), so replicas share all of them and keep
/// no state of their own.
///
/// # Errors
/// An unreachable database or a failed migration.
pub fn open_storage(url: &str, options: &PoolOptions) -> Result<Storage> {
    let pool = crate::connect(url, options).map_err(db)?;
    crate::convert_legacy_history(&pool)?;
    let store = Arc::new(PgStore::new(pool.clone()));
    Ok(Storage {
        metadata: store.clone(),
        history: Arc::new(PgHistory::new(pool.clone())),
        views: store.clone(),
        sweeps: store.clone(),
        reports: store.clone(),
        accounts: store,
        artifacts: Arc::new(crate::artifacts::PgArtifacts::new(pool)),
    })
}

impl MetadataStore for PgStore {
    fn user_count(&self) -> Result<u64> {
        self.user_count_impl()
    }
    fn create_user(&self, username: &str, admin: bool) -> Result<trackway_store::Principal> {
        self.create_user_impl(username, admin)
    }
    fn create_team(&self, name: &str, owner: &str) -> Result<()> {
        self.create_team_impl(name, owner)
    }
    fn add_member(&self, entity: &str, username: &str, role: trackway_store::Role) -> Result<()> {
        self.add_member_impl(entity, username, role)
    }
    fn create_api_key(&self, username: &str, label: Option<&str>) -> Result<trackway_store::NewApiKey> {
        self.create_api_key_impl(username, label)
    }
    fn authenticate(&self, api_key: &str) -> Result<Option<trackway_store::Principal>> {
        self.authenticate_impl(api_key)
    }
    fn list_entities(&self, who: &trackway_store::Principal) -> Result<Vec<String>> {
        self.list_entities_impl(who)
    }
    fn entity_exists(&self, name: &str) -> Result<bool> {
        self.entity_exists_impl(name)
    }
    fn list_projects(&self, entity: &str) -> Result<Vec<trackway_store::ProjectInfo>> {
        self.list_projects_impl(entity)
    }
    fn create_or_resume(&self, req: &trackway_store::CreateRun) -> Result<trackway_store::CreateOutcome> {
        self.create_or_resume_impl(req)
    }
    fn get_run(&self, key: &trackway_store::RunKey) -> Result<trackway_store::Run> {
        self.get_run_impl(key)
    }
    fn patch_run(&self, key: &trackway_store::RunKey, patch: &trackway_store::RunPatch) -> Result<trackway_store::Run> {
        self.patch_run_impl(key, patch)
    }
    fn request_stop(&self, key: &trackway_store::RunKey) -> Result<trackway_store::Run> {
        self.request_stop_impl(key)
    }
    fn delete_run(&self, key: &trackway_store::RunKey) -> Result<Vec<String>> {
        self.delete_run_impl(key)
    }
    fn move_run(&self, key: &trackway_store::RunKey, to_entity: &str, to_project: &str) -> Result<trackway_store::Run> {
        self.move_run_impl(key, to_entity, to_project)
    }
    fn query_runs(&self, query: &trackway_store::RunQuery) -> Result<trackway_store::RunPage> {
        self.query_runs_impl(query)
    }
    fn group_runs(
        &self,
        entity: &str,
        project: &str,
        by: &str,
        filter: Option<&trackway_store::Filter>,
    ) -> Result<Vec<trackway_store::GroupCount>> {
        self.group_runs_impl(entity, project, by, filter)
    }
    fn project_keys(&self, entity: &str, project: &str) -> Result<trackway_store::ProjectKeys> {
        self.project_keys_impl(entity, project)
    }
    fn ingest_mark(&self, key: &trackway_store::RunKey, log_id: &str) -> Result<u64> {
        self.ingest_mark_impl(key, log_id)
    }
    fn apply_ingest(&self, batch: &trackway_store::IngestBatch) -> Result<trackway_store::IngestOutcome> {
        self.apply_ingest_impl(batch)
    }
    fn put_run_file(
        &self,
        key: &trackway_store::RunKey,
        path: &str,
        sha256: &str,
        size: u64,
    ) -> Result<trackway_store::PutFileOutcome> {
        self.put_run_file_impl(key, path, sha256, size)
    }
    fn project_file_bytes(&self, key: &trackway_store::RunKey) -> Result<u64> {
        self.project_file_bytes_impl(key)
    }
    fn list_run_files(&self, key: &trackway_store::RunKey) -> Result<Vec<trackway_store::RunFileEntry>> {
        self.list_run_files_impl(key)
    }
    fn list_run_file_versions(&self, key: &trackway_store::RunKey) -> Result<Vec<trackway_store::RunFileVersion>> {
        self.list_run_file_versions_impl(key)
    }
    fn get_run_file(
        &self,
        key: &trackway_store::RunKey,
        path: &str,
        version: Option<u64>,
    ) -> Result<trackway_store::RunFileVersion> {
        self.get_run_file_impl(key, path, version)
    }
    fn merge_metadata(
        &self,
        key: &trackway_store::RunKey,
        patch: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<trackway_store::Run> {
        self.merge_metadata_impl(key, patch)
    }
    fn run_output(
        &self,
        key: &trackway_store::RunKey,
        query: &trackway_store::OutputQuery,
    ) -> Result<Vec<trackway_store::OutputLine>> {
        self.run_output_impl(key, query)
    }
    fn rewrite_output(
        &self,
        key: &trackway_store::RunKey,
        log_id: &str,
        lines: &[trackway_store::OutputLine],
    ) -> Result<usize> {
        self.rewrite_output_impl(key, log_id, lines)
    }
    fn run_pks(&self, entity: &str, project: &str, run_ids: &[String]) -> Result<Vec<Option<i64>>> {
        self.tx(|tx| {
            let mut out = vec![None; run_ids.len()];
            let Some(project) = project_id(tx, entity, project)? else { return Ok(out) };
            let rows = tx
                .query(
                    "SELECT u.i, r.pk FROM unnest($2::text[]) WITH ORDINALITY AS u(id, i) \
                     JOIN runs r ON r.project_id = $1 AND r.run_id = u.id",
                    &[&project, &run_ids],
                )
                .map_err(db)?;
            for row in rows {
                let i: i64 = row.get(0);
                if let Some(slot) = usize::try_from(i - 1).ok().and_then(|i| out.get_mut(i)) {
                    *slot = Some(row.get(1));
                }
            }
            Ok(out)
        })
    }
}
