//! Run files (versions of paths whose bytes live in the blob store), metadata merges and the
//! console lines of a run.

use postgres::{GenericClient, Row};
use serde_json::{Map, Value as Json};
use trackway_store::json::parse_object;
use trackway_store::{
    OutputLine, OutputQuery, PutFileOutcome, Result, Run, RunFileEntry, RunFileVersion, RunKey, StoreError,
};

use super::runs::{existing_pk, load_run};
use super::{PgStore, db, now};

const VERSION_COLUMNS: &str = "path, version, sha256, size, created_at";

fn version_from_row(r: &Row) -> RunFileVersion {
    RunFileVersion {
        path: r.get(0),
        version: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        sha256: r.get(2),
        size: u64::try_from(r.get::<_, i64>(3)).unwrap_or(0),
        created_at: r.get(4),
    }
}

fn latest(c: &mut impl GenericClient, pk: i64, path: &str) -> Result<Option<RunFileVersion>> {
    Ok(c.query_opt(
        &format!(
            "SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = $1 AND path = $2 ORDER BY version DESC LIMIT 1"
        ),
        &[&pk, &path],
    )
    .map_err(db)?
    .map(|r| version_from_row(&r)))
}

/// A new path may not take a run past [`trackway_types::limits::MAX_FILES_PER_RUN`] paths.
fn check_file_count(c: &mut impl GenericClient, pk: i64) -> Result<()> {
    let paths: i64 =
        c.query_one("SELECT count(DISTINCT path) FROM run_files WHERE run_pk = $1", &[&pk]).map_err(db)?.get(0);
    let max = trackway_types::limits::MAX_FILES_PER_RUN;
    if u64::try_from(paths).unwrap_or(0) >= max {
        return Err(StoreError::Limit(format!("a run holds at most {max} file paths")));
    }
    Ok(())
}

impl PgStore {
    pub(crate) fn project_file_bytes_impl(&self, key: &RunKey) -> Result<u64> {
        self.tx(|tx| {
            let total: i64 = tx
                .query_one(
                    "SELECT coalesce(sum(f.size), 0)::bigint FROM run_files f JOIN runs r ON r.pk = f.run_pk \
                     JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id \
                     WHERE e.name = $1 AND p.name = $2",
                    &[&key.entity, &key.project],
                )
                .map_err(db)?
                .get(0);
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
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            // Serialises versioning of this run's files across replicas.
            tx.execute("SELECT 1 FROM runs WHERE pk = $1 FOR UPDATE", &[&pk]).map_err(db)?;
            let current = latest(tx, pk, path)?;
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
                "INSERT INTO run_files (run_pk, path, version, sha256, size, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&pk, &file.path, &i64::try_from(file.version).unwrap_or(i64::MAX), &file.sha256, &size_i, &file.created_at],
            )
            .map_err(db)?;
            Ok(PutFileOutcome { file, created: true })
        })
    }

    pub(crate) fn list_run_files_impl(&self, key: &RunKey) -> Result<Vec<RunFileEntry>> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let rows = tx
                .query(
                    "SELECT DISTINCT ON (path) path, version, sha256, size, created_at FROM run_files \
                     WHERE run_pk = $1 ORDER BY path, version DESC",
                    &[&pk],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| {
                    let latest = version_from_row(r);
                    RunFileEntry { versions: latest.version, latest }
                })
                .collect())
        })
    }

    pub(crate) fn list_run_file_versions_impl(&self, key: &RunKey) -> Result<Vec<RunFileVersion>> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let rows = tx
                .query(
                    &format!("SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = $1 ORDER BY path, version"),
                    &[&pk],
                )
                .map_err(db)?;
            Ok(rows.iter().map(version_from_row).collect())
        })
    }

    pub(crate) fn get_run_file_impl(&self, key: &RunKey, path: &str, version: Option<u64>) -> Result<RunFileVersion> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let found = match version {
                None => latest(tx, pk, path)?,
                Some(v) => tx
                    .query_opt(
                        &format!(
                            "SELECT {VERSION_COLUMNS} FROM run_files WHERE run_pk = $1 AND path = $2 AND version = $3"
                        ),
                        &[&pk, &path, &i64::try_from(v).unwrap_or(i64::MAX)],
                    )
                    .map_err(db)?
                    .map(|r| version_from_row(&r)),
            };
            found.ok_or_else(|| match version {
                Some(v) => StoreError::NotFound(format!("version {v} of file {path} of run {key}")),
                None => StoreError::NotFound(format!("file {path} of run {key}")),
            })
        })
    }

    pub(crate) fn merge_metadata_impl(&self, key: &RunKey, patch: &Map<String, Json>) -> Result<Run> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let text: String =
                tx.query_one("SELECT metadata FROM runs WHERE pk = $1 FOR UPDATE", &[&pk]).map_err(db)?.get(0);
            let mut meta = parse_object(&text)?;
            for (k, v) in patch {
                meta.insert(k.clone(), v.clone());
            }
            tx.execute(
                "UPDATE runs SET metadata = $2, updated_at = $3 WHERE pk = $1",
                &[&pk, &serde_json::to_string(&meta)?, &now()],
            )
            .map_err(db)?;
            load_run(tx, pk)
        })
    }

    /// `MetadataStore::rewrite_output`: UPDATE only, as in SQLite.
    pub(crate) fn rewrite_output_impl(&self, key: &RunKey, log_id: &str, lines: &[OutputLine]) -> Result<usize> {
        if lines.is_empty() {
            return Ok(0);
        }
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let base: Option<i64> = tx
                .query_opt("SELECT base FROM run_output_logs WHERE run_pk = $1 AND log_id = $2", &[&pk, &log_id])
                .map_err(db)?
                .map(|r| r.get(0));
            let Some(base) = base else { return Ok(0) };
            let mut changed = 0u64;
            for l in lines {
                let n = base.saturating_add(i64::try_from(l.line).unwrap_or(i64::MAX));
                changed += tx
                    .execute(
                        "UPDATE run_output SET stream = $3, text = $4, ts = $5 WHERE run_pk = $1 AND line = $2 \
                         AND (stream, text, ts) IS DISTINCT FROM ($3, $4, $5)",
                        &[&pk, &n, &l.stream, &l.text, &l.ts],
                    )
                    .map_err(db)?;
            }
            Ok(usize::try_from(changed).unwrap_or(usize::MAX))
        })
    }

    pub(crate) fn run_output_impl(&self, key: &RunKey, q: &OutputQuery) -> Result<Vec<OutputLine>> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let after = q.after_line.map_or(-1, |a| i64::try_from(a).unwrap_or(i64::MAX));
            let limit = i64::try_from(q.limit.max(1)).unwrap_or(i64::MAX);
            // strpos on lower-cased text: a plain substring search, no pattern characters.
            let rows = tx
                .query(
                    "SELECT line, stream, text, ts FROM run_output WHERE run_pk = $1 AND line > $2 \
                     AND ($3::text IS NULL OR strpos(lower(text), lower($3::text)) > 0) ORDER BY line LIMIT $4",
                    &[&pk, &after, &q.contains, &limit],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| OutputLine {
                    line: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                    stream: r.get(1),
                    text: r.get(2),
                    ts: r.get(3),
                })
                .collect())
        })
    }
}

/// Stores a batch's new `output` lines: a log's first line fixes its `base`, one past the run's
/// last stored line, so a resumed attempt (counting from 0 again) follows the previous one.
pub(crate) fn store_output(
    tx: &mut impl GenericClient,
    pk: i64,
    log_id: &str,
    lines: &[(u64, &str, &str, Option<f64>)],
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let base: Option<i64> = tx
        .query_opt("SELECT base FROM run_output_logs WHERE run_pk = $1 AND log_id = $2", &[&pk, &log_id])
        .map_err(db)?
        .map(|r| r.get(0));
    let base = match base {
        Some(b) => b,
        None => {
            let next: i64 = tx
                .query_one("SELECT coalesce(max(line) + 1, 0)::bigint FROM run_output WHERE run_pk = $1", &[&pk])
                .map_err(db)?
                .get(0);
            tx.execute(
                "INSERT INTO run_output_logs (run_pk, log_id, base) VALUES ($1, $2, $3)",
                &[&pk, &log_id, &next],
            )
            .map_err(db)?;
            next
        }
    };
    // One row per line number (a repeated line replaces the earlier one, as in SQLite).
    let by_line: std::collections::BTreeMap<i64, (&str, &str, Option<f64>)> = lines
        .iter()
        .map(|(line, stream, text, ts)| {
            (base.saturating_add(i64::try_from(*line).unwrap_or(i64::MAX)), (*stream, *text, *ts))
        })
        .collect();
    let nums: Vec<i64> = by_line.keys().copied().collect();
    let streams: Vec<&str> = by_line.values().map(|v| v.0).collect();
    let texts: Vec<&str> = by_line.values().map(|v| v.1).collect();
    let tss: Vec<Option<f64>> = by_line.values().map(|v| v.2).collect();
    tx.execute(
        "INSERT INTO run_output (run_pk, line, stream, text, ts) \
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::float8[]) AS u(l, s, t, ts) \
         ON CONFLICT (run_pk, line) DO UPDATE SET stream = excluded.stream, text = excluded.text, ts = excluded.ts",
        &[&pk, &nums, &streams, &texts, &tss],
    )
    .map_err(db)?;
    Ok(())
}
