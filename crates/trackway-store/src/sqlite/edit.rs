//! Run edits that change where a run lives or whether it exists: delete and move.

use rusqlite::{Transaction, params};
use trackway_history::HistoryStore;

use super::files::{run_file_digests, unreferenced};
use super::ingest::sqlite_history;
use super::runs::{catalogue_keys, ensure_project, load_run, run_pk};
use super::{SqliteStore, now};
use crate::{Result, Run, RunKey, StoreError};

/// Every table that holds rows of one run (besides `runs` and the history engine's), in the
/// order they are cleared before the run row goes (foreign keys are on).
const RUN_TABLES: &[&str] = &["run_tags", "ingest_marks", "run_files", "run_output", "run_output_logs"];

impl SqliteStore {
    /// Deletes the run, its history, console, tags, ingest marks and file records in one
    /// transaction, and returns the digests of its file blobs that nothing else references
    /// (another run's file, an artifact entry), for the caller to free.
    pub(crate) fn delete_run_impl(&self, key: &RunKey) -> Result<Vec<String>> {
        self.write(|tx| {
            let (pk, _) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let digests = run_file_digests(tx, pk)?;
            delete_rows(tx, pk)?;
            unreferenced(tx, digests)
        })
    }

    /// Moves the run to `to_entity/to_project` (created if needed; the entity must exist), keeping
    /// its id, history, files and console. The run id must be free in the target project.
    pub(crate) fn move_run_impl(&self, key: &RunKey, to_entity: &str, to_project: &str) -> Result<Run> {
        // The history engine knows the run's metric keys; they join the target's key catalogue.
        let pk = self.read(|c| run_pk(c, key))?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?.0;
        let history_keys = self.history().keys(pk)?;
        self.write(|tx| {
            let (pk, from) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let to = ensure_project(tx, to_entity, to_project)?;
            if to == from {
                return load_run(tx, pk);
            }
            let target = RunKey { entity: to_entity.into(), project: to_project.into(), run_id: key.run_id.clone() };
            if run_pk(tx, &target)?.is_some() {
                return Err(StoreError::RunExists(target.to_string()));
            }
            tx.execute("UPDATE runs SET project_id = ?2, updated_at = ?3 WHERE pk = ?1", params![pk, to, now()])?;
            tx.execute("UPDATE run_tags SET project_id = ?2 WHERE run_pk = ?1", params![pk, to])?;
            let run = load_run(tx, pk)?;
            for (source, value) in [("config", &run.config), ("summary", &run.summary)] {
                if let Some(obj) = value.as_object() {
                    catalogue_keys(tx, to, source, obj)?;
                }
            }
            let hist: serde_json::Map<String, serde_json::Value> =
                history_keys.iter().map(|k| (k.clone(), serde_json::Value::Null)).collect();
            catalogue_keys(tx, to, "history", &hist)?;
            Ok(run)
        })
    }
}

fn delete_rows(tx: &Transaction<'_>, pk: i64) -> Result<()> {
    sqlite_history(tx).delete_run(pk)?;
    for table in RUN_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE run_pk = ?1"), [pk])?;
    }
    // Artifact versions outlive the run that produced them (as wandb's `delete_artifacts=False`):
    // they keep their files and lose only the lineage edge to this run.
    tx.execute("UPDATE artifact_versions SET producer_run_pk = NULL WHERE producer_run_pk = ?1", [pk])?;
    tx.execute("DELETE FROM artifact_usage WHERE run_pk = ?1", [pk])?;
    tx.execute("DELETE FROM runs WHERE pk = ?1", [pk])?;
    Ok(())
}
