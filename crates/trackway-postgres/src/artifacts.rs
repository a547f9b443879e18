//! The PostgreSQL [`ArtifactStore`] (tables of `migrations/0003_artifacts.sql`): the SQLite
//! store's rules (`trackway_store::sqlite::artifacts`) on a shared database, so every replica
//! sees the same versions. A commit locks its collection row (`FOR UPDATE`), so concurrent
//! commits of one name get consecutive version numbers and agree on identical content.

use postgres::{GenericClient, Row};
use serde_json::Value as Json;
use trackway_store::artifacts::{
    ArtifactCollection, ArtifactStore, ArtifactVersion, CommitArtifact, CommitOutcome, LATEST, ManifestEntry,
    RunArtifacts, RunRef, check_commit, check_name, expiry, manifest_digest, parse_version_label,
};
use trackway_store::{Result, RunKey, StoreError};

use crate::Pool;
use crate::meta::{db, ensure_project, now, project_id, run_pk};

const VERSION_SELECT: &str = "SELECT v.id, e.name, p.name, c.name, c.type, v.version, v.digest, v.size, \
     v.file_count, v.description, v.metadata, v.created_at, v.producer_run_pk, v.expires_at \
     FROM artifact_versions v JOIN artifact_collections c ON c.id = v.collection_id \
     JOIN projects p ON p.id = c.project_id JOIN entities e ON e.id = p.entity_id";

/// The PostgreSQL artifact store. Cheap to clone.
#[derive(Clone)]
pub struct PgArtifacts {
    pool: Pool,
}

impl PgArtifacts {
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        PgArtifacts { pool }
    }

    fn tx<T>(&self, f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get().map_err(db)?;
        let mut tx = conn.transaction().map_err(db)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid("number out of range".into()))
}

type VersionRow = (i64, Option<i64>, ArtifactVersion);

fn version_from_row(r: &Row) -> VersionRow {
    let metadata: String = r.get(10);
    let v = ArtifactVersion {
        entity: r.get(1),
        project: r.get(2),
        name: r.get(3),
        kind: r.get(4),
        version: to_u64(r.get(5)),
        digest: r.get(6),
        size: to_u64(r.get(7)),
        file_count: to_u64(r.get(8)),
        description: r.get(9),
        metadata: serde_json::from_str(&metadata).unwrap_or(Json::Null),
        aliases: Vec::new(),
        tags: Vec::new(),
        created_at: r.get(11),
        expires_at: r.get(13),
        producer: None,
        consumers: None,
        entries: None,
    };
    (r.get(0), r.get(12), v)
}

fn strings(c: &mut impl GenericClient, sql: &str, id: i64) -> Result<Vec<String>> {
    Ok(c.query(sql, &[&id]).map_err(db)?.iter().map(|r| r.get(0)).collect())
}

fn run_ref(c: &mut impl GenericClient, pk: i64) -> Result<Option<RunRef>> {
    let row = c
        .query_opt(
            "SELECT e.name, p.name, r.run_id, r.name FROM runs r JOIN projects p ON p.id = r.project_id \
             JOIN entities e ON e.id = p.entity_id WHERE r.pk = $1",
            &[&pk],
        )
        .map_err(db)?;
    Ok(row.map(|r| RunRef { entity: r.get(0), project: r.get(1), run_id: r.get(2), name: r.get(3) }))
}

/// Adds aliases, tags and the producer to a version row.
fn complete(c: &mut impl GenericClient, row: VersionRow) -> Result<ArtifactVersion> {
    let (id, producer, mut v) = row;
    v.aliases = strings(c, "SELECT alias FROM artifact_aliases WHERE version_id = $1 ORDER BY alias", id)?;
    v.tags = strings(c, "SELECT tag FROM artifact_tags WHERE version_id = $1 ORDER BY tag", id)?;
    v.producer = match producer {
        Some(pk) => run_ref(c, pk)?,
        None => None,
    };
    Ok(v)
}

fn versions_where(
    c: &mut impl GenericClient,
    clause: &str,
    args: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<ArtifactVersion>> {
    let rows: Vec<VersionRow> =
        c.query(&format!("{VERSION_SELECT} WHERE {clause}"), args).map_err(db)?.iter().map(version_from_row).collect();
    rows.into_iter().map(|r| complete(c, r)).collect()
}

fn collection_id(c: &mut impl GenericClient, entity: &str, project: &str, name: &str) -> Result<i64> {
    let missing = || StoreError::NotFound(format!("artifact {entity}/{project}/{name}"));
    let pid = project_id(c, entity, project)?.ok_or_else(missing)?;
    let row = c
        .query_opt("SELECT id FROM artifact_collections WHERE project_id = $1 AND name = $2", &[&pid, &name])
        .map_err(db)?;
    row.map(|r| r.get(0)).ok_or_else(missing)
}

/// `(collection, version id)` of the version a selector (`vN` or an alias) names.
fn version_id(c: &mut impl GenericClient, at: (&str, &str, &str), selector: &str) -> Result<(i64, i64)> {
    let (entity, project, name) = at;
    let coll = collection_id(c, entity, project, name)?;
    let row = match parse_version_label(selector) {
        Some(n) => c
            .query_opt(
                "SELECT id FROM artifact_versions WHERE collection_id = $1 AND version = $2",
                &[&coll, &to_i64(n)?],
            )
            .map_err(db)?,
        None => c
            .query_opt(
                "SELECT version_id FROM artifact_aliases WHERE collection_id = $1 AND alias = $2",
                &[&coll, &selector],
            )
            .map_err(db)?,
    };
    let id = row
        .map(|r| r.get(0))
        .ok_or_else(|| StoreError::NotFound(format!("artifact {entity}/{project}/{name}:{selector}")))?;
    Ok((coll, id))
}

fn load_version(c: &mut impl GenericClient, id: i64) -> Result<ArtifactVersion> {
    versions_where(c, "v.id = $1", &[&id])?.pop().ok_or_else(|| StoreError::NotFound(format!("artifact version {id}")))
}

fn move_alias(c: &mut impl GenericClient, coll: i64, alias: &str, id: i64) -> Result<()> {
    c.execute(
        "INSERT INTO artifact_aliases (collection_id, alias, version_id) VALUES ($1, $2, $3) \
         ON CONFLICT (collection_id, alias) DO UPDATE SET version_id = excluded.version_id",
        &[&coll, &alias, &id],
    )
    .map_err(db)?;
    Ok(())
}

/// The collection of a commit, created on first use and locked for this transaction; a name
/// keeps its first type.
fn ensure_collection(c: &mut impl GenericClient, req: &CommitArtifact) -> Result<i64> {
    let pid = ensure_project(c, &req.entity, &req.project)?;
    c.execute(
        "INSERT INTO artifact_collections (project_id, name, type, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project_id, name) DO NOTHING",
        &[&pid, &req.name, &req.kind, &now()],
    )
    .map_err(db)?;
    let row = c
        .query_one(
            "SELECT id, type FROM artifact_collections WHERE project_id = $1 AND name = $2 FOR UPDATE",
            &[&pid, &req.name],
        )
        .map_err(db)?;
    let kind: String = row.get(1);
    if kind != req.kind {
        return Err(StoreError::Invalid(format!(
            "artifact {} has type {kind:?}, not {:?} (a name keeps its first type)",
            req.name, req.kind
        )));
    }
    Ok(row.get(0))
}

fn insert_version(
    c: &mut impl GenericClient,
    coll: i64,
    req: &CommitArtifact,
    digest: &str,
    producer: Option<i64>,
) -> Result<i64> {
    let version: i64 =
        c.query_one("SELECT next_version FROM artifact_collections WHERE id = $1", &[&coll]).map_err(db)?.get(0);
    let size = to_i64(req.entries.iter().map(|e| e.size).sum())?;
    let created_at = now();
    let id: i64 = c
        .query_one(
            "INSERT INTO artifact_versions (collection_id, version, digest, size, file_count, description, metadata, \
             producer_run_pk, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &coll,
                &version,
                &digest,
                &size,
                &to_i64(req.entries.len() as u64)?,
                &req.description,
                &serde_json::to_string(&req.metadata)?,
                &producer,
                &created_at,
                &expiry(created_at, req.ttl),
            ],
        )
        .map_err(db)?
        .get(0);
    c.execute("UPDATE artifact_collections SET next_version = $2 WHERE id = $1", &[&coll, &(version + 1)])
        .map_err(db)?;
    let stmt = c
        .prepare(
            "INSERT INTO artifact_entries (version_id, path, sha256, size, ref, ref_digest) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .map_err(db)?;
    for e in &req.entries {
        c.execute(&stmt, &[&id, &e.path, &e.sha256, &to_i64(e.size)?, &e.reference, &e.ref_digest]).map_err(db)?;
    }
    Ok(id)
}

fn entries(c: &mut impl GenericClient, id: i64) -> Result<Vec<ManifestEntry>> {
    let rows = c
        .query(
            "SELECT path, sha256, size, ref, ref_digest FROM artifact_entries WHERE version_id = $1 ORDER BY path",
            &[&id],
        )
        .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| ManifestEntry {
            path: r.get(0),
            sha256: r.get(1),
            size: to_u64(r.get(2)),
            reference: r.get(3),
            ref_digest: r.get(4),
        })
        .collect())
}

fn consumers(c: &mut impl GenericClient, id: i64) -> Result<Vec<RunRef>> {
    let pks: Vec<i64> = c
        .query("SELECT run_pk FROM artifact_usage WHERE version_id = $1 ORDER BY used_at", &[&id])
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    pks.into_iter().filter_map(|pk| run_ref(c, pk).transpose()).collect()
}

/// Deletes one version (its entries, aliases, tags and uses cascade), moves `latest` to the
/// newest remaining one; returns the digests it listed that nothing references any more.
fn delete_version(c: &mut impl GenericClient, coll: i64, id: i64) -> Result<Vec<String>> {
    let digests =
        strings(c, "SELECT DISTINCT sha256 FROM artifact_entries WHERE version_id = $1 AND sha256 IS NOT NULL", id)?;
    c.execute("DELETE FROM artifact_versions WHERE id = $1", &[&id]).map_err(db)?;
    let newest = c
        .query_opt("SELECT id FROM artifact_versions WHERE collection_id = $1 ORDER BY version DESC LIMIT 1", &[&coll])
        .map_err(db)?;
    if let Some(newest) = newest {
        move_alias(c, coll, LATEST, newest.get(0))?;
    }
    crate::meta::edit::unreferenced(c, digests)
}

impl PgArtifacts {
    fn commit_impl(&self, req: &CommitArtifact) -> Result<CommitOutcome> {
        check_commit(req)?;
        let digest = manifest_digest(&req.entries);
        self.tx(|tx| {
            let producer = match &req.run_id {
                Some(run_id) => {
                    let key =
                        RunKey { entity: req.entity.clone(), project: req.project.clone(), run_id: run_id.clone() };
                    Some(run_pk(tx, &key)?.ok_or_else(|| StoreError::RunNotFound(key.to_string()))?.0)
                }
                None => None,
            };
            let coll = ensure_collection(tx, req)?;
            let existing = tx
                .query_opt(
                    "SELECT id FROM artifact_versions WHERE collection_id = $1 AND digest = $2",
                    &[&coll, &digest],
                )
                .map_err(db)?
                .map(|r| r.get::<_, i64>(0));
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
                tx.execute(
                    "INSERT INTO artifact_tags (version_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id, tag],
                )
                .map_err(db)?;
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
        self.tx(|tx| {
            let (coll, id) = version_id(tx, at, &format!("v{version}"))?;
            for alias in add {
                move_alias(tx, coll, alias, id)?;
            }
            for alias in remove.iter().filter(|a| a.as_str() != LATEST) {
                tx.execute(
                    "DELETE FROM artifact_aliases WHERE collection_id = $1 AND alias = $2 AND version_id = $3",
                    &[&coll, alias, &id],
                )
                .map_err(db)?;
            }
            load_version(tx, id)
        })
    }

    fn expire_impl(&self, now: f64) -> Result<Vec<String>> {
        self.tx(|tx| {
            let due: Vec<(i64, i64)> = tx
                .query(
                    "SELECT collection_id, id FROM artifact_versions WHERE expires_at IS NOT NULL AND expires_at <= $1 \
                     ORDER BY id FOR UPDATE",
                    &[&now],
                )
                .map_err(db)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
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

impl ArtifactStore for PgArtifacts {
    fn commit_artifact(&self, req: &CommitArtifact) -> Result<CommitOutcome> {
        self.commit_impl(req)
    }

    fn get_artifact_version(&self, entity: &str, project: &str, name: &str, selector: &str) -> Result<ArtifactVersion> {
        self.tx(|tx| {
            let (_, id) = version_id(tx, (entity, project, name), selector)?;
            let mut v = load_version(tx, id)?;
            v.entries = Some(entries(tx, id)?);
            v.consumers = Some(consumers(tx, id)?);
            Ok(v)
        })
    }

    fn list_artifact_collections(
        &self,
        entity: &str,
        project: &str,
        kind: Option<&str>,
    ) -> Result<Vec<ArtifactCollection>> {
        self.tx(|tx| {
            let Some(pid) = project_id(tx, entity, project)? else { return Ok(Vec::new()) };
            let rows = tx
                .query(
                    "SELECT c.name, c.type, count(v.id), max(v.version), coalesce(sum(v.size), 0)::BIGINT, \
                     coalesce(max(v.created_at), c.created_at) FROM artifact_collections c \
                     LEFT JOIN artifact_versions v ON v.collection_id = c.id \
                     WHERE c.project_id = $1 AND ($2::TEXT IS NULL OR c.type = $2) GROUP BY c.id ORDER BY c.type, c.name",
                    &[&pid, &kind],
                )
                .map_err(db)?;
            Ok(rows
                .iter()
                .map(|r| ArtifactCollection {
                    name: r.get(0),
                    kind: r.get(1),
                    versions: to_u64(r.get(2)),
                    latest: r.get::<_, Option<i64>>(3).map(to_u64),
                    size: to_u64(r.get(4)),
                    updated_at: r.get(5),
                })
                .collect())
        })
    }

    fn list_artifact_versions(&self, entity: &str, project: &str, name: &str) -> Result<Vec<ArtifactVersion>> {
        self.tx(|tx| {
            let coll = collection_id(tx, entity, project, name)?;
            versions_where(tx, "v.collection_id = $1 ORDER BY v.version DESC", &[&coll])
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
        self.tx(|tx| {
            let pk = run_pk(tx, run)?.ok_or_else(|| StoreError::RunNotFound(run.to_string()))?.0;
            let (_, id) = version_id(tx, (entity, project, name), &format!("v{version}"))?;
            tx.execute(
                "INSERT INTO artifact_usage (version_id, run_pk, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&id, &pk, &now()],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn run_artifacts(&self, run: &RunKey) -> Result<RunArtifacts> {
        self.tx(|tx| {
            let pk = run_pk(tx, run)?.ok_or_else(|| StoreError::RunNotFound(run.to_string()))?.0;
            let logged = versions_where(tx, "v.producer_run_pk = $1 ORDER BY v.created_at", &[&pk])?;
            let used = versions_where(
                tx,
                "v.id IN (SELECT version_id FROM artifact_usage WHERE run_pk = $1) ORDER BY v.created_at",
                &[&pk],
            )?;
            Ok(RunArtifacts { logged, used })
        })
    }

    fn delete_artifact_version(&self, entity: &str, project: &str, name: &str, version: u64) -> Result<Vec<String>> {
        self.tx(|tx| {
            let (coll, id) = version_id(tx, (entity, project, name), &format!("v{version}"))?;
            delete_version(tx, coll, id)
        })
    }

    fn set_artifact_ttl(
        &self,
        entity: &str,
        project: &str,
        name: &str,
        version: u64,
        ttl: Option<u64>,
    ) -> Result<ArtifactVersion> {
        self.tx(|tx| {
            let (_, id) = version_id(tx, (entity, project, name), &format!("v{version}"))?;
            let created_at: f64 =
                tx.query_one("SELECT created_at FROM artifact_versions WHERE id = $1", &[&id]).map_err(db)?.get(0);
            tx.execute("UPDATE artifact_versions SET expires_at = $2 WHERE id = $1", &[&id, &expiry(created_at, ttl)])
                .map_err(db)?;
            load_version(tx, id)
        })
    }

    fn expire_artifact_versions(&self, now: f64) -> Result<Vec<String>> {
        self.expire_impl(now)
    }

    fn project_references_blob(&self, entity: &str, project: &str, sha256: &str) -> Result<bool> {
        self.tx(|tx| {
            let Some(pid) = project_id(tx, entity, project)? else { return Ok(false) };
            Ok(tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM artifact_entries a JOIN artifact_versions v ON v.id = a.version_id \
                     JOIN artifact_collections c ON c.id = v.collection_id WHERE a.sha256 = $1 AND c.project_id = $2)",
                    &[&sha256, &pid],
                )
                .map_err(db)?
                .get(0))
        })
    }
}
