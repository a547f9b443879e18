//! MLflow's SQLite tracking store (`sqlite:///mlflow.db`), read-only with `rusqlite`. Only the
//! columns MLflow has kept since 1.x are read: `experiments(experiment_id, name,
//! lifecycle_stage)`, `runs(run_uuid, name, status, start_time, end_time, lifecycle_stage,
//! artifact_uri, experiment_id)`, `params/tags(key, value, run_uuid)`, `metrics(key, value,
//! timestamp, step, run_uuid, is_nan)`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::mlflow::{MlflowRun, Point, Rows, db_run, new_points};
use crate::sink::ImportState;
use crate::{ImportError, Result};

fn open(db: &Path) -> Result<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sql_error(db, &e))
}

fn sql_error(db: &Path, e: &rusqlite::Error) -> ImportError {
    ImportError::Corrupt { path: db.to_path_buf(), offset: 0, reason: e.to_string() }
}

/// A run's local artifact directory from its `artifact_uri` (`file:` URIs and paths; remote
/// artifact stores are skipped). Relative paths are taken from the database's directory.
fn artifact_dir(db: &Path, uri: Option<String>) -> Option<PathBuf> {
    let uri = uri?;
    let path = if let Some(rest) = uri.strip_prefix("file://") {
        PathBuf::from(rest)
    } else if let Some(rest) = uri.strip_prefix("file:") {
        PathBuf::from(rest)
    } else if uri.contains(':') {
        return None;
    } else {
        PathBuf::from(uri)
    };
    let path = if path.is_relative() { db.parent().map_or(path.clone(), |d| d.join(&path)) } else { path };
    path.is_dir().then_some(path)
}

type RunRow = (String, Option<String>, Option<String>, Option<i64>, Option<i64>, Option<String>, String);

/// Every active run of every active experiment.
pub fn discover(db: &Path) -> Result<Vec<MlflowRun>> {
    let conn = open(db)?;
    let mut stmt = conn
        .prepare(
            "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, r.artifact_uri, e.name \
             FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id \
             WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active' \
             ORDER BY r.start_time, r.run_uuid",
        )
        .map_err(|e| sql_error(db, &e))?;
    let rows: Vec<RunRow> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .and_then(Iterator::collect)
        .map_err(|e| sql_error(db, &e))?;
    Ok(rows
        .into_iter()
        .map(|(id, name, status, start, end, uri, experiment)| {
            let finished = matches!(status.as_deref(), Some("FINISHED" | "FAILED" | "KILLED"));
            db_run(db, id, experiment, name, (start, end), finished, artifact_dir(db, uri))
        })
        .collect())
}

fn key_values(conn: &Connection, db: &Path, table: &str, run_id: &str) -> Result<BTreeMap<String, String>> {
    let sql = format!("SELECT key, value FROM {table} WHERE run_uuid = ?1");
    let mut stmt = conn.prepare(&sql).map_err(|e| sql_error(db, &e))?;
    stmt.query_map([run_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))
        .and_then(|rows| rows.map(|r| r.map(|(k, v)| (k, v.unwrap_or_default()))).collect())
        .map_err(|e| sql_error(db, &e))
}

/// (params, tags) of a run.
pub fn params_and_tags(db: &Path, run_id: &str) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let conn = open(db)?;
    Ok((key_values(&conn, db, "params", run_id)?, key_values(&conn, db, "tags", run_id)?))
}

/// Metric points not imported yet, by step (`mlflow::new_points`).
pub fn new_metrics(db: &Path, run_id: &str, state: &mut ImportState) -> Result<Rows> {
    let conn = open(db)?;
    let mut stmt = conn
        .prepare("SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1")
        .map_err(|e| sql_error(db, &e))?;
    let points: Vec<Point> = stmt
        .query_map([run_id], |r| {
            let is_nan: bool = r.get(4)?;
            let value: f64 = r.get(1)?;
            Ok(Point {
                key: r.get(0)?,
                value: if is_nan { f64::NAN } else { value },
                ts_ms: r.get(2)?,
                step: r.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| sql_error(db, &e))?;
    Ok(new_points(points, state))
}
