//! Run edits that change where a run lives or whether it exists: delete and move (the same
//! semantics as the SQLite store's, checked by the shared conformance suite).

use postgres::GenericClient;
use serde_json::{Map, Value as Json};
use trackway_history::HistoryTx;
use trackway_store::{Result, Run, RunKey, StoreError};

use super::runs::{catalogue_keys, ensure_project, load_run, run_pk};
use super::{PgStore, db, now};
use crate::PgHistoryTx;

/// Every table that holds rows of one run besides `runs` and the history tables, cleared before
/// the run row goes.
const RUN_TABLES: &[&str] = &["run_tags", "ingest_marks", "run_files", "run_output", "run_output_logs"];

impl PgStore {
    /// Deletes the run with its history, console, tags, ingest marks and file records in one
    /// transaction, and returns the digests of its file blobs that nothing references any more
    /// (the shared rule of `trackway_store::blobrefs`), for the caller to free.
    pub(crate) fn delete_run_impl(&self, key: &RunKey) -> Result<Vec<String>> {
        self.tx(|tx| {
            let (pk, _) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let digests: Vec<String> = tx
                .query("SELECT DISTINCT sha256 FROM run_files WHERE run_pk = $1", &[&pk])
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            PgHistoryTx::new(tx).delete_run(pk)?;
            for table in RUN_TABLES {
                tx.execute(&format!("DELETE FROM {table} WHERE run_pk = $1"), &[&pk]).map_err(db)?;
            }
            tx.execute("DELETE FROM runs WHERE pk = $1", &[&pk]).map_err(db)?;
            unreferenced(tx, digests)
        })
    }

    /// Moves the run to `to_entity/to_project` (created if needed; the entity must exist),
    /// keeping its id, history, files and console; `RunExists` if the id is taken there.
    pub(crate) fn move_run_impl(&self, key: &RunKey, to_entity: &str, to_project: &str) -> Result<Run> {
        self.tx(|tx| {
            let (pk, from) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let to = ensure_project(tx, to_entity, to_project)?;
            if to == from {
                return load_run(tx, pk);
            }
            let target = RunKey { entity: to_entity.into(), project: to_project.into(), run_id: key.run_id.clone() };
            if run_pk(tx, &target)?.is_some() {
                return Err(StoreError::RunExists(target.to_string()));
            }
            tx.execute("UPDATE runs SET project_id = $2, updated_at = $3 WHERE pk = $1", &[&pk, &to, &now()])
                .map_err(db)?;
            tx.execute("UPDATE run_tags SET project_id = $2 WHERE run_pk = $1", &[&pk, &to]).map_err(db)?;
            let run = load_run(tx, pk)?;
            for (source, value) in [("config", &run.config), ("summary", &run.summary)] {
                if let Some(obj) = value.as_object() {
                    catalogue_keys(tx, to, source, obj)?;
                }
            }
            let hist = history_keys(tx, pk)?;
            catalogue_keys(tx, to, "history", &hist)?;
            Ok(run)
        })
    }
}

/// The run's history keys, as the catalogue takes them.
fn history_keys(c: &mut impl GenericClient, pk: i64) -> Result<Map<String, Json>> {
    let keys = trackway_history::engine::keys_in(&mut crate::history::PgTables::new(c), pk)?;
    Ok(keys.into_iter().map(|k| (k, Json::Null)).collect())
}

/// Those of `digests` no reference table names any more. A reference table this database has
/// not created yet (e.g. before its artifact store exists) holds no references.
pub(crate) fn unreferenced(tx: &mut impl GenericClient, digests: Vec<String>) -> Result<Vec<String>> {
    if digests.is_empty() {
        return Ok(digests);
    }
    let mut present = Vec::new();
    for (table, _) in trackway_store::blobrefs::BLOB_REFERENCES {
        let row = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[table]).map_err(db)?;
        if row.get::<_, bool>(0) {
            present.push(*table);
        }
    }
    let sql = trackway_store::blobrefs::referenced_sql(|t| present.contains(&t), "$1");
    let mut out = Vec::new();
    for d in digests {
        if !tx.query_one(sql.as_str(), &[&d]).map_err(db)?.get::<_, bool>(0) {
            out.push(d);
        }
    }
    Ok(out)
}
