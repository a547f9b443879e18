//! SQLite implementation of [`crate::ArtifactStore`] (tables of migration `0008_artifacts.sql`).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value as Json;

use super::runs::{ensure_project, project_id, run_pk};
use super::{SqliteStore, now};
use crate::artifacts::{
    ArtifactCollection, ArtifactStore, ArtifactVersion, CommitArtifact, CommitOutcome, LATEST, ManifestEntry,
    RunArtifacts, RunRef, check_commit, check_name, expiry, manifest_digest, parse_version_label,
};
use crate::{Result, RunKey, StoreError};

const VERSION_SELECT: &str = "SELECT v.id, e.name, p.name, c.name, c.type, v.version, v.digest, v.size, \
     v.file_count, v.description, v.metadata, v.created_at, v.producer_run_pk, v.expires_at \
     FROM artifact_versions v JOIN artifact_collections c ON c.id = v.collection_id \
     JOIN projects p ON p.id = c.project_id JOIN entities e ON e.id = p.entity_id";

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid("number out of range".into()))
}

/// A version row without aliases, tags and producer (filled by [`complete`]).
fn version_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Option<i64>, ArtifactVersion)> {
    let metadata: String = r.get(10)?;
    let v = ArtifactVersion {
        entity: r.get(1)?,
        project: r.get(2)?,
        name: r.get(3)?,
        kind: r.get(4)?,
        version: to_u64(r.get(5)?),
        digest: r.get(6)?,
        size: to_u64(r.get(7)?),
        file_count: to_u64(r.get(8)?),
        description: r.get(9)?,
        metadata: serde_json::from_str(&metadata).unwrap_or(Json::Null),
        aliases: Vec::new(),
        tags: Vec::new(),
        created_at: r.get(11)?,
        expires_at: r.get(13)?,
        producer: None,
        consumers: None,
        entries: None,
    };
    Ok((r.get(0)?, r.get(12)?, v))
}

fn strings(c: &Connection, sql: &str, id: i64) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(sql)?;
    Ok(stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

fn run_ref(c: &Connection, pk: i64) -> Result<Option<RunRef>> {
    Ok(c.query_row(
        "SELECT e.name, p.name, r.run_id, r.name FROM runs r JOIN projects p ON p.id = r.project_id \
         JOIN entities e ON e.id = p.entity_id WHERE r.pk = ?1",
        [pk],
        |r| Ok(RunRef { entity: r.get(0)?, project: r.get(1)?, run_id: r.get(2)?, name: r.get(3)? }),
    )
    .optional()?)
}

/// Adds aliases, tags and the producer to a version row.
fn complete(c: &Connection, row: (i64, Option<i64>, ArtifactVersion)) -> Result<ArtifactVersion> {
    let (id, producer, mut v) = row;
    v.aliases = strings(c, "SELECT alias FROM artifact_aliases WHERE version_id = ?1 ORDER BY alias", id)?;
    v.tags = strings(c, "SELECT tag FROM artifact_tags WHERE version_id = ?1 ORDER BY tag", id)?;
    v.producer = match producer {
        Some(pk) => run_ref(c, pk)?,
        None => None,
    };
    Ok(v)
}

fn versions_where(c: &Connection, clause: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<ArtifactVersion>> {
    let mut stmt = c.prepare(&format!("{VERSION_SELECT} WHERE {clause}"))?;
    let rows: Vec<_> = stmt.query_map(args, version_from_row)?.collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|r| complete(c, r)).collect()
}

fn collection_id(c: &Connection, entity: &str, project: &str, name: &str) -> Result<i64> {
    let missing = || StoreError::NotFound(format!("artifact {entity}/{project}/{name}"));
    let pid = project_id(c, entity, project)?.ok_or_else(missing)?;
    c.query_row("SELECT id FROM artifact_collections WHERE project_id = ?1 AND name = ?2", params![pid, name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(missing)
}

/// The id of the version a selector (`vN` or an alias) names.
fn resolve(c: &Connection, coll: i64, selector: &str) -> Result<Option<i64>> {
    Ok(match parse_version_label(selector) {
        Some(n) => c
            .query_row(
                "SELECT id FROM artifact_versions WHERE collection_id = ?1 AND version = ?2",
                params![coll, to_i64(n)?],
                |r| r.get(0),
            )
            .optional()?,
        None => c
            .query_row(
                "SELECT version_id FROM artifact_aliases WHERE collection_id = ?1 AND alias = ?2",
                params![coll, selector],
                |r| r.get(0),
            )
            .optional()?,
    })
}

fn version_id(c: &Connection, entity: &str, project: &str, name: &str, selector: &str) -> Result<(i64, i64)> {
    let coll = collection_id(c, entity, project, name)?;
    let id = resolve(c, coll, selector)?
        .ok_or_else(|| StoreError::NotFound(format!("artifact {entity}/{project}/{name}:{selector}")))?;
    Ok((coll, id))
}

fn load_version(c: &Connection, id: i64) -> Result<ArtifactVersion> {
    versions_where(c, "v.id = ?1", &[&id])?.pop().ok_or_else(|| StoreError::NotFound(format!("artifact version {id}")))
}

fn move_alias(c: &Connection, coll: i64, alias: &str, id: i64) -> Result<()> {
    c.execute(
        "INSERT INTO artifact_aliases (collection_id, alias, version_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (collection_id, alias) DO UPDATE SET version_id = excluded.version_id",
        params![coll, alias, id],
    )?;
    Ok(())
}

/// The collection of a commit, created on first use; a name keeps its first type.
fn ensure_collection(c: &Connection, req: &CommitArtifact) -> Result<i64> {
    let pid = ensure_project(c, &req.entity, &req.project)?;
    let found: Option<(i64, String)> = c
        .query_row(
            "SELECT id, type FROM artifact_collections WHERE project_id = ?1 AND name = ?2",
            params![pid, req.name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        Some((id, kind)) if kind == req.kind => Ok(id),
        Some((_, kind)) => Err(StoreError::Invalid(format!(
            "artifact {} has type {kind:?}, not {:?} (a name keeps its first type)",
            req.name, req.kind
        ))),
        None => {
            c.execute(
                "INSERT INTO artifact_collections (project_id, name, type, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![pid, req.name, req.kind, now()],
            )?;
            Ok(c.last_insert_rowid())
        }
    }
}

fn insert_version(c: &Connection, coll: i64, req: &CommitArtifact, digest: &str, producer: Option<i64>) -> Result<i64> {
    let version: i64 =
        c.query_row("SELECT next_version FROM artifact_collections WHERE id = ?1", [coll], |r| r.get(0))?;
    let size: u64 = req.entries.iter().map(|e| e.size).sum();
    let created_at = now();
    c.execute(
        "INSERT INTO artifact_versions (collection_id, version, digest, size, file_count, description, metadata, \
         producer_run_pk, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            coll,
            version,
            digest,
            to_i64(size)?,
            to_i64(req.entries.len() as u64)?,
            req.description,
            serde_json::to_string(&req.metadata)?,
            producer,
            created_at,
            expiry(created_at, req.ttl)
        ],
    )?;
    let id = c.last_insert_rowid();
    c.execute("UPDATE artifact_collections SET next_version = ?2 WHERE id = ?1", params![coll, version + 1])?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO artifact_entries (version_id, path, sha256, size, ref, ref_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for e in &req.entries {
        stmt.execute(params![id, e.path, e.sha256, to_i64(e.size)?, e.reference, e.ref_digest])?;
    }
    Ok(id)
}

fn entries(c: &Connection, id: i64) -> Result<Vec<ManifestEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT path, sha256, size, ref, ref_digest FROM artifact_entries WHERE version_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(ManifestEntry {
            path: r.get(0)?,
            sha256: r.get(1)?,
            size: to_u64(r.get(2)?),
            reference: r.get(3)?,
            ref_digest: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn consumers(c: &Connection, id: i64) -> Result<Vec<RunRef>> {
    let pks: Vec<i64> = {
        let mut stmt = c.prepare_cached("SELECT run_pk FROM artifact_usage WHERE version_id = ?1 ORDER BY used_at")?;
        stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    pks.into_iter().filter_map(|pk| run_ref(c, pk).transpose()).collect::<Result<_>>()
}

impl SqliteStore {
    fn commit_impl(&self, req: &CommitArtifact) -> Result<CommitOutcome> {
        check_commit(req)?;
        let digest = manifest_digest(&req.entries);
        self.write(|tx| {
            let producer = match &req.run_id {
                Some(run_id) => {
                    let key =
                        RunKey { entity: req.entity.clone(), project: req.project.clone(), run_id: run_id.clone() };
                    Some(run_pk(tx, &key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?.0)
                }
                None => None,
            };
            let coll = ensure_collection(tx, req)?;
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM artifact_versions WHERE collection_id = ?1 AND digest = ?2",
                    params![coll, digest],
                    |r| r.get(0),
                )
                .optional()?;
            let created = existing.is_none();
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = insert_version(tx, coll, req, &digest, producer)?;
                    move_alias(tx, coll, LATEST, id)?;
                    id
                }
            };
            for alias in &req.aliases {
                move_alias(tx, coll, alias, id)?;
            }
            for tag in &req.tags {
                tx.execute("INSERT OR IGNORE INTO artifact_tags (version_id, tag) VALUES (?1, ?2)", params![id, tag])?;
            }
            Ok(CommitOutcome { artifact: load_version(tx, id)?, created })
        })
    }

    fn update_aliases_impl(
        &self,
        at: (&str, &str, &str),
        version: u64,
        add: &[String],
        remove: &[String],
    ) -> Result<ArtifactVersion> {
        for a in add.iter().chain(remove) {
            check_name("alias", a)?;
        }
        let (entity, project, name) = at;
        self.write(|tx| {
            let (coll, id) = version_id(tx, entity, project, name, &format!("v{version}"))?;
            for alias in add {
                move_alias(tx, coll, alias, id)?;
            }
            for alias in remove.iter().filter(|a| a.as_str() != LATEST) {
                tx.execute(
                    "DELETE FROM artifact_aliases WHERE collection_id = ?1 AND alias = ?2 AND version_id = ?3",
                    params![coll, alias, id],
                )?;
            }
            load_version(tx, id)
        })
    }

    fn delete_impl(&self, entity: &str, project: &str, name: &str, version: u64) -> Result<Vec<String>> {
        self.write(|tx| {
            let (coll, id) = version_id(tx, entity, project, name, &format!("v{version}"))?;
            delete_version(tx, coll, id)
        })
    }

    fn set_ttl_impl(&self, at: (&str, &str, &str), version: u64, ttl: Option<u64>) -> Result<ArtifactVersion> {
        let (entity, project, name) = at;
        self.write(|tx| {
            let (_, id) = version_id(tx, entity, project, name, &format!("v{version}"))?;
            let created_at: f64 =
                tx.query_row("SELECT created_at FROM artifact_versions WHERE id = ?1", [id], |r| r.get(0))?;
            tx.execute(
                "UPDATE artifact_versions SET expires_at = ?2 WHERE id = ?1",
                params![id, expiry(created_at, ttl)],
            )?;
            load_version(tx, id)
        })
    }

    fn expire_impl(&self, now: f64) -> Result<Vec<String>> {
        self.write(|tx| {
            let due: Vec<(i64, i64)> = {
                let mut stmt = tx.prepare(
                    "SELECT collection_id, id FROM artifact_versions WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                )?;
                stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
            };
            let mut freed = Vec::new();
            for (coll, id) in due {
                freed.extend(delete_version(tx, coll, id)?);
            }
            freed.sort();
            freed.dedup();
            Ok(freed)
        })
    }
}

/// Deletes one version (moving `latest` to the newest remaining one); returns the digests it
/// listed that nothing references any more.
fn delete_version(tx: &Connection, coll: i64, id: i64) -> Result<Vec<String>> {
    let digests =
        strings(tx, "SELECT DISTINCT sha256 FROM artifact_entries WHERE version_id = ?1 AND sha256 IS NOT NULL", id)?;
    for table in ["artifact_entries", "artifact_aliases", "artifact_tags", "artifact_usage"] {
        tx.execute(&format!("DELETE FROM {table} WHERE version_id = ?1"), [id])?;
    }
    tx.execute("DELETE FROM artifact_versions WHERE id = ?1", [id])?;
    let newest: Option<i64> = tx
        .query_row(
            "SELECT id FROM artifact_versions WHERE collection_id = ?1 ORDER BY version DESC LIMIT 1",
            [coll],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(newest) = newest {
        move_alias(tx, coll, LATEST, newest)?;
    }
    super::files::unreferenced(tx, digests)
}

impl ArtifactStore for SqliteStore {
    fn commit_artifact(&self, req: &CommitArtifact) -> Result<CommitOutcome> {
        self.commit_impl(req)
    }

    fn get_artifact_version(&self, entity: &str, project: &str, name: &str, selector: &str) -> Result<ArtifactVersion> {
        self.read(|c| {
            let (_, id) = version_id(c, entity, project, name, selector)?;
            let mut v = load_version(c, id)?;
            v.entries = Some(entries(c, id)?);
            v.consumers = Some(consumers(c, id)?);
            Ok(v)
        })
    }

    fn list_artifact_collections(
        &self,
        entity: &str,
        project: &str,
        kind: Option<&str>,
    ) -> Result<Vec<ArtifactCollection>> {
        self.read(|c| {
            let Some(pid) = project_id(c, entity, project)? else { return Ok(Vec::new()) };
            let mut stmt = c.prepare(
                "SELECT c.name, c.type, count(v.id), max(v.version), coalesce(sum(v.size), 0), \
                 coalesce(max(v.created_at), c.created_at) FROM artifact_collections c \
                 LEFT JOIN artifact_versions v ON v.collection_id = c.id \
                 WHERE c.project_id = ?1 AND (?2 IS NULL OR c.type = ?2) GROUP BY c.id ORDER BY c.type, c.name",
            )?;
            let rows = stmt.query_map(params![pid, kind], |r| {
                Ok(ArtifactCollection {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    versions: to_u64(r.get(2)?),
                    latest: r.get::<_, Option<i64>>(3)?.map(to_u64),
                    size: to_u64(r.get(4)?),
                    updated_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn list_artifact_versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>> {
        self.read(|c| {
            let coll = collection_id(c, entity, project, name)?;
            versions_where(c, "v.collection_id = ?1 ORDER BY v.version DESC", &[&coll])
        })
    }

    fn update_artifact_aliases(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: u64,
        add: &[String],
        remove: &[String],
    ) -> Result<ArtifactVersion> {
        self.update_aliases_impl((entity, project, name), version, add, remove)
    }

    fn use_artifact(&self, run: &RunKey, entity: &str, project: &str, name: &str, version: u64) -> Result<()> {
        self.write(|tx| {
            let pk = run_pk(tx, run)?.ok_or_else(|| StoreError::RunNotFound(run.to_string()))?.0;
            let (_, id) = version_id(tx, entity, project, name, &format!("v{version}"))?;
            tx.execute(
                "INSERT OR IGNORE INTO artifact_usage (version_id, run_pk, used_at) VALUES (?1, ?2, ?3)",
                params![id, pk, now()],
            )?;
            Ok(())
        })
    }

    fn run_artifacts(&self, run: &RunKey) -> Result<RunArtifacts> {
        self.read(|c| {
            let pk = run_pk(c, run)?.ok_or_else(|| StoreError::RunNotFound(run.to_string()))?.0;
            let logged = versions_where(c, "v.producer_run_pk = ?1 ORDER BY v.created_at", &[&pk])?;
            let used = versions_where(
                c,
                "v.id IN (SELECT version_id FROM artifact_usage WHERE run_pk = ?1) ORDER BY v.created_at",
                &[&pk],
            )?;
            Ok(RunArtifacts { logged, used })
        })
    }

    fn delete_artifact_version(&self, entity: &str, project: &str, name: &str, version: u64) -> Result<Vec<String>> {
        self.delete_impl(entity, project, name, version)
    }

    fn set_artifact_ttl(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: u64,
        ttl: Option<u64>,
    ) -> Result<ArtifactVersion> {
        self.set_ttl_impl((entity, project, name), version, ttl)
    }

    fn expire_artifact_versions(&self, now: f64) -> Result<Vec<String>> {
        self.expire_impl(now)
    }

    fn project_references_blob(&self, entity: &str, project: &str, sha256: &str) -> Result<bool> {
        self.read(|c| {
            let Some(pid) = project_id(c, entity, project)? else { return Ok(false) };
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM artifact_entries a JOIN artifact_versions v ON v.id = a.version_id \
                 JOIN artifact_collections c ON c.id = v.collection_id WHERE a.sha256 = ?1 AND c.project_id = ?2)",
                params![sha256, pid],
                |r| r.get(0),
            )?)
        })
    }
}
