//! Projects and runs: create-or-resume, get, patch, listings, key catalogue.

use postgres::types::Type;
use postgres::{GenericClient, Row};
use serde_json::{Map, Value as Json};
use trackway_store::json::{flatten_keys, parse_object};
use trackway_store::{
    CreateOutcome, CreateRun, ProjectInfo, ProjectKeys, Result, ResumeMode, Run, RunKey, RunPatch, StoreError,
};

use super::{PgStore, db, now};

/// Columns selected for a [`Run`], in the order [`run_from_row`] reads them.
pub(crate) const RUN_COLUMNS: &str = "e.name, p.name, r.run_id, r.name, r.state, r.created_at, \
    r.updated_at, r.heartbeat_at, r.exit_code, r.tags, r.notes, r.grp, r.job_type, r.host, \
    r.config, r.summary, r.metadata, r.last_step, r.row_count, r.pk, r.stop_requested_at";
/// How many columns [`RUN_COLUMNS`] has: a query selecting more reads them from this index on.
pub(crate) const RUN_COLUMN_COUNT: usize = 21;
pub(crate) const RUN_FROM: &str = "runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id";

pub(crate) fn run_from_row(row: &Row) -> Result<Run> {
    let json = |i: usize| -> Result<Json> { Ok(serde_json::from_str(row.get::<_, &str>(i))?) };
    let tags: Vec<String> = match json(9)? {
        Json::Array(items) => items.into_iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    Ok(Run {
        entity: row.get(0),
        project: row.get(1),
        run_id: row.get(2),
        name: row.get(3),
        state: row.get(4),
        created_at: row.get(5),
        updated_at: row.get(6),
        heartbeat_at: row.get(7),
        exit_code: row.get(8),
        tags,
        notes: row.get(10),
        group: row.get(11),
        job_type: row.get(12),
        host: row.get(13),
        config: json(14)?,
        summary: json(15)?,
        metadata: json(16)?,
        last_step: row.get(17),
        row_count: row.get(18),
        pk: row.get(19),
        stop_requested_at: row.get(20),
    })
}

pub(crate) fn project_id(c: &mut impl GenericClient, entity: &str, project: &str) -> Result<Option<i64>> {
    Ok(c.query_opt(
        "SELECT p.id FROM projects p JOIN entities e ON e.id = p.entity_id WHERE e.name = $1 AND p.name = $2",
        &[&entity, &project],
    )
    .map_err(db)?
    .map(|r| r.get(0)))
}

/// The project's id, creating the project (not the entity) if needed; concurrent creators
/// agree on one row.
pub(crate) fn ensure_project(c: &mut impl GenericClient, entity: &str, project: &str) -> Result<i64> {
    if let Some(id) = project_id(c, entity, project)? {
        return Ok(id);
    }
    let entity_id: i64 = c
        .query_opt("SELECT id FROM entities WHERE name = $1", &[&entity])
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("entity {entity}")))?
        .get(0);
    c.execute(
        "INSERT INTO projects (entity_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (entity_id, name) DO NOTHING",
        &[&entity_id, &project, &now()],
    )
    .map_err(db)?;
    project_id(c, entity, project)?.ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))
}

/// `(pk, project_id)` of a run.
pub(crate) fn run_pk(c: &mut impl GenericClient, key: &RunKey) -> Result<Option<(i64, i64)>> {
    let Some(project) = project_id(c, &key.entity, &key.project)? else { return Ok(None) };
    Ok(c.query_opt("SELECT pk FROM runs WHERE project_id = $1 AND run_id = $2", &[&project, &key.run_id])
        .map_err(db)?
        .map(|r| (r.get(0), project)))
}

pub(crate) fn existing_pk(c: &mut impl GenericClient, key: &RunKey) -> Result<i64> {
    run_pk(c, key)?.map(|(pk, _)| pk).ok_or_else(|| StoreError::RunNotFound(key.to_string()))
}

pub(crate) fn load_run(c: &mut impl GenericClient, pk: i64) -> Result<Run> {
    let row = c.query_one(&format!("SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.pk = $1"), &[&pk]).map_err(db)?;
    run_from_row(&row)
}

/// Adds the keys of a config/summary object (flattened) or of a history row to the catalogue.
pub(crate) fn catalogue_keys(
    c: &mut impl GenericClient,
    project: i64,
    source: &str,
    obj: &Map<String, Json>,
) -> Result<()> {
    let pairs: Vec<(String, String)> =
        if source == "history" { obj.keys().map(|k| (k.clone(), k.clone())).collect() } else { flatten_keys(obj) };
    if pairs.is_empty() {
        return Ok(());
    }
    let (keys, paths): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    // Typed: one round trip (it runs in every ingest transaction).
    c.execute_typed(
        "INSERT INTO project_keys (project_id, source, key, path) SELECT $1, $2, * FROM unnest($3::text[], $4::text[]) \
         ON CONFLICT DO NOTHING",
        &[(&project, Type::INT8), (&source, Type::TEXT), (&keys, Type::TEXT_ARRAY), (&paths, Type::TEXT_ARRAY)],
    )
    .map_err(db)?;
    Ok(())
}

/// Rewrites the run's rows in `run_tags` from its `tags` column (call after any tags change).
pub(crate) fn resync_tags(c: &mut impl GenericClient, pk: i64) -> Result<()> {
    c.execute("DELETE FROM run_tags WHERE run_pk = $1", &[&pk]).map_err(db)?;
    c.execute(
        "INSERT INTO run_tags (project_id, tag, run_pk) SELECT r.project_id, j #>> '{}', r.pk \
         FROM runs r, jsonb_array_elements(r.tags::jsonb) j WHERE r.pk = $1 AND jsonb_typeof(j) = 'string' \
         ON CONFLICT DO NOTHING",
        &[&pk],
    )
    .map_err(db)?;
    Ok(())
}

/// Inserts a new run row in state `running`; `None` when a concurrent writer created it first.
pub(crate) fn insert_run(
    c: &mut impl GenericClient,
    project: i64,
    run_id: &str,
    req: &CreateRun,
) -> Result<Option<i64>> {
    let t = now();
    let config = req.config.clone().unwrap_or_default();
    let mut metadata = req.metadata.clone().unwrap_or_default();
    if let Some(log_id) = &req.log_id {
        metadata.insert("log_id".into(), Json::String(log_id.clone()));
    }
    let row = c
        .query_opt(
            "INSERT INTO runs (project_id, run_id, name, state, created_at, updated_at, heartbeat_at, tags, \
             notes, grp, job_type, host, config, metadata) \
             VALUES ($1, $2, $3, 'running', $4, $5, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (project_id, run_id) DO NOTHING RETURNING pk",
            &[
                &project,
                &run_id,
                &req.name,
                &req.created_at.unwrap_or(t),
                &t,
                &serde_json::to_string(&req.tags.clone().unwrap_or_default())?,
                &req.notes,
                &req.group,
                &req.job_type,
                &req.host,
                &serde_json::to_string(&config)?,
                &serde_json::to_string(&metadata)?,
            ],
        )
        .map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    let pk: i64 = row.get(0);
    catalogue_keys(c, project, "config", &config)?;
    resync_tags(c, pk)?;
    Ok(Some(pk))
}

/// Marks an existing run as running again and merges the attempt's fields.
fn resume_run(c: &mut impl GenericClient, pk: i64, project: i64, req: &CreateRun) -> Result<()> {
    let row = c.query_one("SELECT config, metadata FROM runs WHERE pk = $1 FOR UPDATE", &[&pk]).map_err(db)?;
    let mut config = parse_object(row.get(0))?;
    let mut metadata = parse_object(row.get(1))?;
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
    c.execute(
        "UPDATE runs SET state = 'running', exit_code = NULL, stop_requested_at = NULL, updated_at = $2, heartbeat_at = $2, \
         name = COALESCE($3, name), tags = COALESCE($4, tags), notes = COALESCE($5, notes), \
         grp = COALESCE($6, grp), job_type = COALESCE($7, job_type), host = COALESCE($8, host), \
         config = $9, metadata = $10 WHERE pk = $1",
        &[
            &pk,
            &now(),
            &req.name,
            &tags,
            &req.notes,
            &req.group,
            &req.job_type,
            &req.host,
            &serde_json::to_string(&config)?,
            &serde_json::to_string(&metadata)?,
        ],
    )
    .map_err(db)?;
    resync_tags(c, pk)
}

/// Whether the run was created or last resumed by the log `log_id`.
fn same_log(c: &mut impl GenericClient, pk: i64, log_id: Option<&str>) -> Result<bool> {
    let Some(log_id) = log_id else { return Ok(false) };
    let stored: Option<String> =
        c.query_one("SELECT metadata::jsonb ->> 'log_id' FROM runs WHERE pk = $1", &[&pk]).map_err(db)?.get(0);
    Ok(stored.as_deref() == Some(log_id))
}

impl PgStore {
    pub(crate) fn create_or_resume_impl(&self, req: &CreateRun) -> Result<CreateOutcome> {
        let key = req.key.as_ref().ok_or_else(|| StoreError::Invalid("run key missing".into()))?;
        trackway_types::validate_run_id(&key.run_id).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.tx(|tx| {
            let (pk, resumed) = loop {
                let existing = run_pk(tx, key)?;
                break match (existing, req.resume) {
                    (Some((pk, _)), Some(ResumeMode::Never)) if same_log(tx, pk, req.log_id.as_deref())? => (pk, false),
                    (Some(_), Some(ResumeMode::Never)) => return Err(StoreError::RunExists(key.to_string())),
                    (None, Some(ResumeMode::Must)) => return Err(StoreError::RunNotFound(key.to_string())),
                    (Some((pk, project)), _) => {
                        resume_run(tx, pk, project, req)?;
                        (pk, true)
                    }
                    (None, _) => {
                        let project = ensure_project(tx, &key.entity, &key.project)?;
                        match insert_run(tx, project, &key.run_id, req)? {
                            Some(pk) => (pk, false),
                            // Another replica created it meanwhile: decide again on its row.
                            None => continue,
                        }
                    }
                };
            };
            let run = load_run(tx, pk)?;
            Ok(CreateOutcome { last_step: run.last_step, run, resumed })
        })
    }

    pub(crate) fn get_run_impl(&self, key: &RunKey) -> Result<Run> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            load_run(tx, pk)
        })
    }

    pub(crate) fn patch_run_impl(&self, key: &RunKey, patch: &RunPatch) -> Result<Run> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let tags = patch.tags.as_ref().map(serde_json::to_string).transpose()?;
            tx.execute(
                "UPDATE runs SET name = COALESCE($2, name), notes = COALESCE($3, notes), \
                 tags = COALESCE($4, tags), updated_at = $5 WHERE pk = $1",
                &[&pk, &patch.name, &patch.notes, &tags, &now()],
            )
            .map_err(db)?;
            resync_tags(tx, pk)?;
            load_run(tx, pk)
        })
    }

    pub(crate) fn request_stop_impl(&self, key: &RunKey) -> Result<Run> {
        self.tx(|tx| {
            let pk = existing_pk(tx, key)?;
            let changed = tx
                .execute(
                    "UPDATE runs SET stop_requested_at = COALESCE(stop_requested_at, $2) WHERE pk = $1 AND state = 'running'",
                    &[&pk, &now()],
                )
                .map_err(db)?;
            let run = load_run(tx, pk)?;
            if changed == 0 {
                return Err(trackway_store::stop_conflict(&run));
            }
            Ok(run)
        })
    }

    pub(crate) fn list_projects_impl(&self, entity: &str) -> Result<Vec<ProjectInfo>> {
        self.tx(|tx| {
            let rows = tx
                .query(
                    "SELECT p.name, (SELECT count(*) FROM runs r WHERE r.project_id = p.id), \
                     (SELECT max(created_at) FROM runs r WHERE r.project_id = p.id) \
                     FROM projects p JOIN entities e ON e.id = p.entity_id WHERE e.name = $1 ORDER BY p.name",
                    &[&entity],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| ProjectInfo {
                    entity: entity.to_owned(),
                    name: r.get(0),
                    run_count: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    last_run_at: r.get(2),
                })
                .collect())
        })
    }

    pub(crate) fn project_keys_impl(&self, entity: &str, project: &str) -> Result<ProjectKeys> {
        self.tx(|tx| {
            let id = project_id(tx, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            let rows = tx
                .query("SELECT source, key FROM project_keys WHERE project_id = $1 ORDER BY source, key", &[&id])
                .map_err(db)?;
            let mut keys = ProjectKeys::default();
            for r in &rows {
                let key: String = r.get(1);
                match r.get::<_, &str>(0) {
                    "config" => keys.config.push(key),
                    "summary" => keys.summary.push(key),
                    _ => keys.history.push(key),
                }
            }
            Ok(keys)
        })
    }
}

impl PgStore {
    /// Inserts many runs in one transaction (imports, benchmarks), as `SqliteStore::bulk_insert`
    /// does: one multi-row `INSERT ... SELECT FROM unnest(...)` per call, then their tags and
    /// the key catalogue in one statement each. The project is created if needed; the entity
    /// must exist.
    ///
    /// # Errors
    /// Duplicate run ids, a missing entity, database errors.
    pub fn bulk_insert(&self, entity: &str, project: &str, runs: &[trackway_store::BulkRun]) -> Result<()> {
        let mut cols: [Vec<String>; 5] = Default::default();
        let mut names = Vec::with_capacity(runs.len());
        let mut created = Vec::with_capacity(runs.len());
        for r in runs {
            cols[0].push(r.run_id.clone());
            cols[1].push(r.state.clone());
            cols[2].push(serde_json::to_string(&r.tags)?);
            cols[3].push(serde_json::to_string(&r.config)?);
            cols[4].push(serde_json::to_string(&r.summary)?);
            names.push(r.name.clone());
            created.push(r.created_at);
        }
        self.tx(|tx| {
            let project = ensure_project(tx, entity, project)?;
            tx.execute(
                "INSERT INTO runs (project_id, run_id, name, state, created_at, updated_at, tags, config, summary) \
                 SELECT $1, u.id, u.name, u.state, u.created, u.created, u.tags, u.config, u.summary \
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[]) \
                 AS u(id, name, state, created, tags, config, summary)",
                &[&project, &cols[0], &names, &cols[1], &created, &cols[2], &cols[3], &cols[4]],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO run_tags (project_id, tag, run_pk) SELECT r.project_id, j #>> '{}', r.pk \
                 FROM runs r, jsonb_array_elements(r.tags::jsonb) j \
                 WHERE r.project_id = $1 AND r.run_id = ANY($2) AND jsonb_typeof(j) = 'string' ON CONFLICT DO NOTHING",
                &[&project, &cols[0]],
            )
            .map_err(db)?;
            catalogue_bulk(tx, project, runs)
        })
    }
}

/// Catalogues the keys of every run's config and summary, each distinct key set once.
fn catalogue_bulk(c: &mut impl GenericClient, project: i64, runs: &[trackway_store::BulkRun]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for r in runs {
        for (source, obj) in [("config", &r.config), ("summary", &r.summary)] {
            if obj.keys().any(|k| !seen.contains(&(source, k.clone()))) {
                catalogue_keys(c, project, source, obj)?;
                seen.extend(obj.keys().map(|k| (source, k.clone())));
            }
        }
    }
    Ok(())
}
