//! Run files (versions of run-relative paths whose bytes live in a blob store), metadata merged
//! from uploaded files, and the console lines of a run.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value as Json};

use super::runs::{load_run, run_pk};
use super::{SqliteStore, now};
use crate::json::parse_object;
use crate::{OutputLine, OutputQuery, PutFileOutcome, Result, Run, RunFileEntry, RunFileVersion, RunKey, StoreError};

const VERSION_COLUMNS: &str = "path, version, sha256, size, created_at";

fn version_from_row(r: &Row<'_>) -> rusqlite::Result<RunFileVersion> {
    Ok(RunFileVersion {
        path: r.get(0)?,
        version: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        sha256: r.get(2)?,
        size: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        created_at: r.get(4)?,
    })
}

fn existing_pk(c: &Connection, key: &RunKey) -> Result<i64> {
    run_pk(c, key)?.map(|(pk, _)| pk).ok_or_else(|| StoreError::RunNotFound(key.to_string()))
}

fn latest(c: &Connection, pk: i64, path: &str) -> Result<Option<RunFileVersion>> {
    Ok(c.query_row(
        &format!(
            "SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = ?1 AND path = ?2 ORDER BY version DESC LIMIT 1"
        ),
        params![pk, path],
        version_from_row,
    )
    .optional()?)
}

/// The distinct blob digests of every file version of run `pk`.
pub(crate) fn run_file_digests(c: &Connection, pk: i64) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT DISTINCT sha256 FROM run_files WHERE run_pk = ?1")?;
    Ok(stmt.query_map([pk], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Those of `digests` that no row references any more (the shared rule of
/// [`crate::blobrefs`]): garbage in the blob store once the transaction commits.
pub(crate) fn unreferenced(c: &Connection, digests: Vec<String>) -> Result<Vec<String>> {
    let sql = crate::blobrefs::referenced_sql(|_| true, "?1");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut out = Vec::new();
    for d in digests {
        let used: bool = stmt.query_row([&d], |r| r.get(0))?;
        if !used {
            out.push(d);
        }
    }
    Ok(out)
}

/// A new path may not take a run past [`trackway_types::limits::MAX_FILES_PER_RUN`] paths.
fn check_file_count(c: &Connection, pk: i64) -> Result<()> {
    let paths: i64 = c.query_row("SELECT count(DISTINCT path) FROM run_files WHERE run_pk = ?1", [pk], |r| r.get(0))?;
    let max = trackway_types::limits::MAX_FILES_PER_RUN;
    if u64::try_from(paths).unwrap_or(0) >= max {
        return Err(StoreError::Limit(format!("a run holds at most {max} file paths")));
    }
    Ok(())
}

impl SqliteStore {
    /// Bytes of every stored version of every file of the runs of `key`'s project.
    pub(crate) fn project_file_bytes_impl(&self, key: &RunKey) -> Result<u64> {
        self.read(|c| {
            let total: i64 = c.query_row(
                "SELECT coalesce(sum(f.size), 0) FROM run_files f JOIN runs r ON r.pk = f.run_pk \
                 JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id \
                 WHERE e.name = ?1 AND p.name = ?2",
                params![key.entity, key.project],
                |r| r.get(0),
            )?;
            Ok(u64::try_from(total).unwrap_or(0))
        })
    }

    pub(crate) fn put_run_file_impl(
        &self,
        key: &RunKey,
        path: &str,
        sha256: &str,
        size: u64,
    ) -> Result<PutFileOutcome> {
        let size_i = i64::try_from(size).map_err(|_| StoreError::Invalid("file size out of range".into()))?;
        self.write(|tx| {
            let pk = existing_pk(tx, key)?;
            let current = latest(tx, pk, path)?;
            // Re-sending the latest content (a retried upload) changes nothing.
            if let Some(cur) = current.as_ref().filter(|c| c.sha256 == sha256) {
                return Ok(PutFileOutcome { file: cur.clone(), created: false });
            }
            if current.is_none() {
                check_file_count(tx, pk)?;
            }
            let file = RunFileVersion {
                path: path.to_owned(),
                version: current.map_or(1, |c| c.version + 1),
                sha256: sha256.to_owned(),
                size,
                created_at: now(),
            };
            tx.execute(
                "INSERT INTO run_files (run_pk, path, version, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![pk, file.path, i64::try_from(file.version).unwrap_or(i64::MAX), file.sha256, size_i, file.created_at],
            )?;
            Ok(PutFileOutcome { file, created: true })
        })
    }

    pub(crate) fn list_run_files_impl(&self, key: &RunKey) -> Result<Vec<RunFileEntry>> {
        self.read(|c| {
            let pk = existing_pk(c, key)?;
            let mut stmt = c.prepare(
                "SELECT f.path, f.version, f.sha256, f.size, f.created_at FROM run_files f \
                 JOIN (SELECT path, max(version) AS v FROM run_files WHERE run_pk = ?1 GROUP BY path) m \
                 ON m.path = f.path AND m.v = f.version WHERE f.run_pk = ?1 ORDER BY f.path",
            )?;
            let rows = stmt.query_map([pk], version_from_row)?;
            let mut out = Vec::new();
            for latest in rows {
                let latest = latest?;
                out.push(RunFileEntry { versions: latest.version, latest });
            }
            Ok(out)
        })
    }

    pub(crate) fn list_run_file_versions_impl(&self, key: &RunKey) -> Result<Vec<RunFileVersion>> {
        self.read(|c| {
            let pk = existing_pk(c, key)?;
            let mut stmt = c.prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = ?1 ORDER BY path, version"
            ))?;
            let rows = stmt.query_map([pk], version_from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub(crate) fn get_run_file_impl(&self, key: &RunKey, path: &str, version: Option<u64>) -> Result<RunFileVersion> {
        self.read(|c| {
            let pk = existing_pk(c, key)?;
            let found = match version {
                None => latest(c, pk, path)?,
                Some(v) => c
                    .query_row(
                        &format!(
                            "SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = ?1 AND path = ?2 AND version = ?3"
                        ),
                        params![pk, path, i64::try_from(v).unwrap_or(i64::MAX)],
                        version_from_row,
                    )
                    .optional()?,
            };
            found.ok_or_else(|| match version {
                Some(v) => StoreError::NotFound(format!("version {v} of file {path} of run {key}")),
                None => StoreError::NotFound(format!("file {path} of run {key}")),
            })
        })
    }

    pub(crate) fn merge_metadata_impl(&self, key: &RunKey, patch: &Map<String, Json>) -> Result<Run> {
        self.write(|tx| {
            let pk = existing_pk(tx, key)?;
            let text: String = tx.query_row("SELECT metadata FROM runs WHERE pk = ?1", [pk], |r| r.get(0))?;
            let mut meta = parse_object(&text)?;
            for (k, v) in patch {
                meta.insert(k.clone(), v.clone());
            }
            tx.execute(
                "UPDATE runs SET metadata = ?2, updated_at = ?3 WHERE pk = ?1",
                params![pk, serde_json::to_string(&meta)?, now()],
            )?;
            load_run(tx, pk)
        })
    }

    pub(crate) fn rewrite_output_impl(&self, key: &RunKey, log_id: &str, lines: &[OutputLine]) -> Result<usize> {
        if lines.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let pk = existing_pk(tx, key)?;
            let base: Option<i64> = tx
                .query_row(
                    "SELECT base FROM run_output_logs WHERE run_pk = ?1 AND log_id = ?2",
                    params![pk, log_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(base) = base else { return Ok(0) };
            // UPDATE only: a line the log has not stored yet arrives through `apply_ingest`.
            let mut stmt = tx.prepare_cached(
                "UPDATE run_output SET stream = ?3, text = ?4, ts = ?5 WHERE run_pk = ?1 AND line = ?2 \
                 AND (stream, text, ts) IS NOT (?3, ?4, ?5)",
            )?;
            let mut changed = 0;
            for l in lines {
                let n = base.saturating_add(i64::try_from(l.line).unwrap_or(i64::MAX));
                changed += stmt.execute(params![pk, n, l.stream, l.text, l.ts])?;
            }
            Ok(changed)
        })
    }

    pub(crate) fn run_output_impl(&self, key: &RunKey, q: &OutputQuery) -> Result<Vec<OutputLine>> {
        self.read(|c| {
            let pk = existing_pk(c, key)?;
            let after = q.after_line.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX));
            let limit = i64::try_from(q.limit.max(1)).unwrap_or(i64::MAX);
            // `instr` on lower-cased text: a plain substring search, no pattern characters.
            let mut stmt = c.prepare_cached(
                "SELECT line, stream, text, ts FROM run_output WHERE run_pk = ?1 AND line > ?2 \
                 AND (?3 IS NULL OR instr(lower(text), lower(?3)) > 0) ORDER BY line LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![pk, after, q.contains, limit], |r| {
                Ok(OutputLine {
                    line: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    stream: r.get(1)?,
                    text: r.get(2)?,
                    ts: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

/// Stores a batch's new `output` records (`(line, stream, text, ts)` as the log numbers them)
/// inside the ingest transaction. A log's first line fixes its `base`: one past the run's last
/// stored line, so a resumed attempt (which counts from 0 again) follows the previous one.
pub(crate) fn store_output(
    tx: &Connection,
    pk: i64,
    log_id: &str,
    lines: &[(u64, &str, &str, Option<f64>)],
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let base: Option<i64> = tx
        .query_row("SELECT base FROM run_output_logs WHERE run_pk = ?1 AND log_id = ?2", params![pk, log_id], |r| {
            r.get(0)
        })
        .optional()?;
    let base = match base {
        Some(b) => b,
        None => {
            let next: i64 =
                tx.query_row("SELECT coalesce(max(line) + 1, 0) FROM run_output WHERE run_pk = ?1", [pk], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "INSERT INTO run_output_logs (run_pk, log_id, base) VALUES (?1, ?2, ?3)",
                params![pk, log_id, next],
            )?;
            next
        }
    };
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO run_output (run_pk, line, stream, text, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (line, stream, text, ts) in lines {
        let n = base.saturating_add(i64::try_from(*line).unwrap_or(i64::MAX));
        stmt.execute(params![pk, n, stream, text, ts])?;
    }
    Ok(())
}
