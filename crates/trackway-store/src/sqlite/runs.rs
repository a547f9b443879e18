//! Projects and runs: create-or-resume, get, patch, listings, key catalogue.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value as Json};

use super::{SqliteStore, now};
use crate::json::{flatten_keys, parse_object};
use crate::{
    CreateOutcome, CreateRun, ProjectInfo, ProjectKeys, Result, ResumeMode, Run, RunKey, RunPatch, StoreError,
};

/// Columns selected for a [`Run`], in the order [`run_from_row`] reads them.
pub(crate) const RUN_COLUMNS: &str = "e.name, p.name, r.run_id, r.name, r.state, r.created_at, \
    r.updated_at, r.heartbeat_at, r.exit_code, r.tags, r.notes, r.grp, r.job_type, r.host, \
    r.config, r.summary, r.metadata, r.last_step, r.row_count, r.pk, r.stop_requested_at";
/// How many columns [`RUN_COLUMNS`] has: a query selecting more reads them from this index on.
pub(crate) const RUN_COLUMN_COUNT: usize = 21;
pub(crate) const RUN_FROM: &str = "runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id";

pub(crate) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    let json = |i: usize| -> rusqlite::Result<Json> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
    };
    let tags: Vec<String> = match json(9)? {
        Json::Array(items) => items.into_iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    Ok(Run {
        entity: row.get(0)?,
        project: row.get(1)?,
        run_id: row.get(2)?,
        name: row.get(3)?,
        state: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        heartbeat_at: row.get(7)?,
        exit_code: row.get(8)?,
        tags,
        notes: row.get(10)?,
        group: row.get(11)?,
        job_type: row.get(12)?,
        host: row.get(13)?,
        config: json(14)?,
        summary: json(15)?,
        metadata: json(16)?,
        last_step: row.get(17)?,
        row_count: row.get(18)?,
        pk: row.get(19)?,
        stop_requested_at: row.get(20)?,
    })
}

/// The project's id, if it exists.
pub(crate) fn project_id(c: &Connection, entity: &str, project: &str) -> Result<Option<i64>> {
    Ok(c.query_row(
        "SELECT p.id FROM projects p JOIN entities e ON e.id = p.entity_id WHERE e.name = ?1 AND p.name = ?2",
        params![entity, project],
        |r| r.get(0),
    )
    .optional()?)
}

/// The project's id, creating the project (not the entity) if needed.
pub(crate) fn ensure_project(c: &Connection, entity: &str, project: &str) -> Result<i64> {
    if let Some(id) = project_id(c, entity, project)? {
        return Ok(id);
    }
    let entity_id: i64 = c
        .query_row("SELECT id FROM entities WHERE name = ?1", [entity], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("entity {entity}")))?;
    c.execute(
        "INSERT INTO projects (entity_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![entity_id, project, now()],
    )?;
    Ok(c.last_insert_rowid())
}

/// `(pk, project_id)` of a run.
pub(crate) fn run_pk(c: &Connection, key: &RunKey) -> Result<Option<(i64, i64)>> {
    let Some(project) = project_id(c, &key.entity, &key.project)? else { return Ok(None) };
    Ok(c.query_row("SELECT pk FROM runs WHERE project_id = ?1 AND run_id = ?2", params![project, key.run_id], |r| {
        r.get(0)
    })
    .optional()?
    .map(|pk| (pk, project)))
}

pub(crate) fn load_run(c: &Connection, pk: i64) -> Result<Run> {
    Ok(c.query_row(&format!("SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.pk = ?1"), [pk], run_from_row)?)
}

/// Adds the keys of a config/summary object (flattened) or of a history row to the catalogue.
pub(crate) fn catalogue_keys(c: &Connection, project: i64, source: &str, obj: &Map<String, Json>) -> Result<()> {
    let mut stmt =
        c.prepare_cached("INSERT OR IGNORE INTO project_keys (project_id, source, key, path) VALUES (?1, ?2, ?3, ?4)")?;
    if source == "history" {
        for k in obj.keys() {
            stmt.execute(params![project, source, k, k])?;
        }
        return Ok(());
    }
    for (key, path) in flatten_keys(obj) {
        stmt.execute(params![project, source, key, path])?;
    }
    Ok(())
}

/// Rewrites the run's rows in `run_tags` from its `tags` column (call after any tags change).
pub(crate) fn resync_tags(c: &Connection, pk: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM run_tags WHERE run_pk = ?1")?.execute([pk])?;
    c.prepare_cached(
        "INSERT OR IGNORE INTO run_tags (project_id, tag, run_pk) \
         SELECT r.project_id, j.value, r.pk FROM runs r, json_each(r.tags) j WHERE r.pk = ?1 AND j.type = 'text'",
    )?
    .execute([pk])?;
    Ok(())
}

/// Inserts a new run row in state `running`.
pub(crate) fn insert_run(c: &Connection, project: i64, run_id: &str, req: &CreateRun) -> Result<i64> {
    let t = now();
    let config = req.config.clone().unwrap_or_default();
    let mut metadata = req.metadata.clone().unwrap_or_default();
    if let Some(log_id) = &req.log_id {
        metadata.insert("log_id".into(), Json::String(log_id.clone()));
    }
    c.execute(
        "INSERT INTO runs (project_id, run_id, name, state, created_at, updated_at, heartbeat_at, tags, \
         notes, grp, job_type, host, config, metadata) \
         VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            project,
            run_id,
            req.name,
            req.created_at.unwrap_or(t),
            t,
            serde_json::to_string(&req.tags.clone().unwrap_or_default())?,
            req.notes,
            req.group,
            req.job_type,
            req.host,
            serde_json::to_string(&config)?,
            serde_json::to_string(&metadata)?,
        ],
    )?;
    let pk = c.last_insert_rowid();
    catalogue_keys(c, project, "config", &config)?;
    resync_tags(c, pk)?;
    Ok(pk)
}

/// Marks an existing run as running again and merges the attempt's fields.
pub(crate) fn resume_run(c: &Connection, pk: i64, project: i64, req: &CreateRun) -> Result<()> {
    let (config_text, meta_text): (String, String) =
        c.query_row("SELECT config, metadata FROM runs WHERE pk = ?1", [pk], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut config = parse_object(&config_text)?;
    let mut metadata = parse_object(&meta_text)?;
    if let Some(init) = &req.config {
        config.extend(init.clone());
        catalogue_keys(c, project, "config", init)?;
    }
    if let Some(m) = &req.metadata {
        metadata.extend(m.clone());
    }
    if let Some(log_id) = &req.log_id {
        metadata.insert("log_id".into(), Json::String(log_id.clone()));
    }
    let tags = req.tags.as_ref().filter(|t| !t.is_empty()).map(serde_json::to_string).transpose()?;
    let t = now();
    c.execute(
        "UPDATE runs SET state = 'running', exit_code = NULL, stop_requested_at = NULL, updated_at = ?2, heartbeat_at = ?2, \
         name = COALESCE(?3, name), tags = COALESCE(?4, tags), notes = COALESCE(?5, notes), \
         grp = COALESCE(?6, grp), job_type = COALESCE(?7, job_type), host = COALESCE(?8, host), \
         config = ?9, metadata = ?10 WHERE pk = ?1",
        params![
            pk,
            t,
            req.name,
            tags,
            req.notes,
            req.group,
            req.job_type,
            req.host,
            serde_json::to_string(&config)?,
            serde_json::to_string(&metadata)?
        ],
    )?;
    resync_tags(c, pk)
}

/// Whether the run was created or last resumed by the log `log_id`.
fn same_log(c: &Connection, pk: i64, log_id: Option<&str>) -> Result<bool> {
    let Some(log_id) = log_id else { return Ok(false) };
    let stored: Option<String> =
        c.query_row("SELECT json_extract(metadata, '$.log_id') FROM runs WHERE pk = ?1", [pk], |r| r.get(0))?;
    Ok(stored.as_deref() == Some(log_id))
}

impl SqliteStore {
    pub(crate) fn create_or_resume_impl(&self, req: &CreateRun) -> Result<CreateOutcome> {
        let key = req.key.as_ref().ok_or_else(|| StoreError::Invalid("run key missing".into()))?;
        trackway_types::validate_run_id(&key.run_id).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.write(|tx| {
            let existing = run_pk(tx, key)?;
            let (pk, resumed) = match (existing, req.resume) {
                (Some((pk, _)), Some(ResumeMode::Never)) if same_log(tx, pk, req.log_id.as_deref())? => (pk, false),
                (Some(_), Some(ResumeMode::Never)) => return Err(StoreError::RunExists(key.to_string())),
                (None, Some(ResumeMode::Must)) => return Err(StoreError::RunNotFound(key.to_string())),
                (Some((pk, project)), _) => {
                    resume_run(tx, pk, project, req)?;
                    (pk, true)
                }
                (None, _) => {
                    let project = ensure_project(tx, &key.entity, &key.project)?;
                    (insert_run(tx, project, &key.run_id, req)?, false)
                }
            };
            let run = load_run(tx, pk)?;
            Ok(CreateOutcome { last_step: run.last_step, run, resumed })
        })
    }

    pub(crate) fn get_run_impl(&self, key: &RunKey) -> Result<Run> {
        self.read(|c| {
            let (pk, _) = run_pk(c, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            load_run(c, pk)
        })
    }

    pub(crate) fn patch_run_impl(&self, key: &RunKey, patch: &RunPatch) -> Result<Run> {
        self.write(|tx| {
            let (pk, _) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let tags = patch.tags.as_ref().map(serde_json::to_string).transpose()?;
            tx.execute(
                "UPDATE runs SET name = COALESCE(?2, name), notes = COALESCE(?3, notes), \
                 tags = COALESCE(?4, tags), updated_at = ?5 WHERE pk = ?1",
                params![pk, patch.name, patch.notes, tags, now()],
            )?;
            resync_tags(tx, pk)?;
            load_run(tx, pk)
        })
    }

    pub(crate) fn request_stop_impl(&self, key: &RunKey) -> Result<Run> {
        self.write(|tx| {
            let (pk, _) = run_pk(tx, key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?;
            let changed = tx.execute(
                "UPDATE runs SET stop_requested_at = COALESCE(stop_requested_at, ?2) WHERE pk = ?1 AND state = 'running'",
                params![pk, now()],
            )?;
            let run = load_run(tx, pk)?;
            if changed == 0 {
                return Err(crate::stop_conflict(&run));
            }
            Ok(run)
        })
    }

    pub(crate) fn list_projects_impl(&self, entity: &str) -> Result<Vec<ProjectInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT p.name, (SELECT count(*) FROM runs r WHERE r.project_id = p.id), \
                 (SELECT max(created_at) FROM runs r WHERE r.project_id = p.id) \
                 FROM projects p JOIN entities e ON e.id = p.entity_id WHERE e.name = ?1 ORDER BY p.name",
            )?;
            let rows = stmt.query_map([entity], |r| {
                Ok(ProjectInfo {
                    entity: entity.to_owned(),
                    name: r.get(0)?,
                    run_count: r.get::<_, i64>(1)? as u64,
                    last_run_at: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub(crate) fn project_keys_impl(&self, entity: &str, project: &str) -> Result<ProjectKeys> {
        self.read(|c| {
            let id = project_id(c, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            let mut stmt =
                c.prepare("SELECT source, key FROM project_keys WHERE project_id = ?1 ORDER BY source, key")?;
            let mut keys = ProjectKeys::default();
            let rows = stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (source, key) = row?;
                match source.as_str() {
                    "config" => keys.config.push(key),
                    "summary" => keys.summary.push(key),
                    _ => keys.history.push(key),
                }
            }
            Ok(keys)
        })
    }
}

/// One run for [`SqliteStore::bulk_insert`].
#[derive(Clone, Debug)]
pub struct BulkRun {
    pub run_id: String,
    pub name: Option<String>,
    pub state: String,
    pub tags: Vec<String>,
    pub created_at: f64,
    pub config: Map<String, Json>,
    pub summary: Map<String, Json>,
}

impl SqliteStore {
    /// Inserts many finished runs in one transaction (imports, benchmarks). The project is
    /// created if needed; the entity must exist.
    ///
    /// # Errors
    /// Duplicate run ids, a missing entity, database errors.
    pub fn bulk_insert(&self, entity: &str, project: &str, runs: &[BulkRun]) -> Result<()> {
        self.write(|tx| {
            let project = ensure_project(tx, entity, project)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO runs (project_id, run_id, name, state, created_at, updated_at, tags, config, \
                 summary) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
            )?;
            let mut seen = std::collections::HashSet::new();
            for r in runs {
                stmt.execute(params![
                    project,
                    r.run_id,
                    r.name,
                    r.state,
                    r.created_at,
                    serde_json::to_string(&r.tags)?,
                    serde_json::to_string(&r.config)?,
                    serde_json::to_string(&r.summary)?,
                ])?;
                resync_tags(tx, tx.last_insert_rowid())?;
                for (source, obj) in [("config", &r.config), ("summary", &r.summary)] {
                    if obj.keys().any(|k| !seen.contains(&(source, k.clone()))) {
                        catalogue_keys(tx, project, source, obj)?;
                        seen.extend(obj.keys().map(|k| (source, k.clone())));
                    }
                }
            }
            Ok(())
        })
    }
}
