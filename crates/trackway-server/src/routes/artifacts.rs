//! Artifacts (docs/artifacts.md): commit a version from a run (or without one), list names and
//! versions, read a version with its manifest and lineage, move aliases, delete a version (and
//! the blobs nothing else references), record that a run used a version.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};
use trackway_blob::Digest;
use trackway_store::artifacts::{CommitArtifact, ManifestEntry, parse_version_label};
use trackway_store::{Principal, RunKey};

use super::files::blob_error;
use crate::auth::check_access;
use crate::extract::{JsonBody, Query};
use crate::{ApiError, ApiResult, AppState};

/// Most entries in one manifest (bounded so a commit is one bounded transaction).
const MAX_ENTRIES: usize = 100_000;

/// A version as the API shows it (see `trackway_store::artifacts::ArtifactVersion`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ArtifactVersionDoc {
    entity: String,
    project: String,
    name: String,
    #[schema(rename = "type")]
    kind: String,
    version: u64,
    digest: String,
    size: u64,
    file_count: u64,
    description: Option<String>,
    #[schema(value_type = Object)]
    metadata: Json_,
    aliases: Vec<String>,
    tags: Vec<String>,
    created_at: f64,
    /// When the version is deleted (Unix seconds; its TTL counted from `created_at`), if ever.
    expires_at: Option<f64>,
    #[schema(value_type = Option<Object>)]
    producer: Json_,
    #[schema(value_type = Option<Vec<Object>>)]
    consumers: Json_,
    /// The manifest: `{path, sha256, size}` or `{path, ref, ref_digest, size}`.
    #[schema(value_type = Option<Vec<Object>>)]
    entries: Json_,
}

/// `GET /artifacts/{entity}/{project}`: the names, by type.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ArtifactNamesDoc {
    /// `{name, type, versions, latest, size, updated_at}` per name.
    #[schema(value_type = Vec<Object>)]
    artifacts: Json_,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ArtifactVersionsDoc {
    versions: Vec<ArtifactVersionDoc>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct RunArtifactsDoc {
    logged: Vec<ArtifactVersionDoc>,
    used: Vec<ArtifactVersionDoc>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct DeletedDoc {
    deleted: String,
    blobs_freed: u64,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct CommittedDoc {
    /// False when a version with the same content existed (nothing was created).
    created: bool,
    artifact: ArtifactVersionDoc,
}

/// One file of a manifest: a blob already uploaded (a reference instead of `sha256`:
/// `{"path","ref","ref_digest","size"}`, see docs/artifacts.md).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ManifestEntryDoc {
    path: String,
    sha256: String,
    size: u64,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CommitBody {
    name: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    kind: String,
    description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: Map<String, Json_>,
    #[schema(value_type = Vec<ManifestEntryDoc>)]
    entries: Vec<ManifestEntry>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Time to live in seconds from creation (wandb's `Artifact.ttl`); absent: kept for good.
    #[serde(default, deserialize_with = "crate::lenient::opt_u64")]
    ttl: Option<u64>,
}

/// Every blob a manifest lists must be stored before its version is.
fn check_blobs(s: &AppState, entries: &[ManifestEntry]) -> ApiResult<()> {
    for e in entries {
        let Some(sha) = &e.sha256 else { continue };
        let digest: Digest = sha
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("entry {}: sha256 must be 64 hex characters", e.path)))?;
        match s.blobs.size(&digest).map_err(blob_error)? {
            Some(size) if size == e.size => {}
            Some(size) => {
                return Err(ApiError::BadRequest(format!(
                    "entry {}: blob {sha} has {size} bytes, not {}",
                    e.path, e.size
                )));
            }
            None => return Err(ApiError::NotFound(format!("entry {}: blob {sha} (upload it first)", e.path))),
        }
    }
    Ok(())
}

async fn commit(
    state: AppState,
    who: Principal,
    target: (String, String, Option<String>),
    mut body: CommitBody,
) -> ApiResult<Json<Json_>> {
    lowercase_digests(&mut body);
    let (entity, project, run_id) = target;
    check_access(&who, &entity, true)?;
    if body.entries.len() > MAX_ENTRIES {
        return Err(ApiError::LimitExceeded(format!("a manifest lists at most {MAX_ENTRIES} files")));
    }
    state
        .blocking(move |s| {
            check_blobs(s, &body.entries)?;
            let req = CommitArtifact {
                entity,
                project,
                run_id,
                name: body.name,
                kind: body.kind,
                description: body.description,
                metadata: body.metadata,
                entries: body.entries,
                aliases: body.aliases,
                tags: body.tags,
                ttl: body.ttl,
            };
            let out = s.artifacts.commit_artifact(&req)?;
            Ok(Json(json!({"created": out.created, "artifact": out.artifact})))
        })
        .await
}

#[utoipa::path(post, path = "/api/v1/runs/{entity}/{project}/{run_id}/artifacts", operation_id = "logArtifact", tag = "artifacts",
    params(crate::openapi::RunPath), request_body = CommitBody,
    responses((status = 200, description = "The version (created: false when the same content was logged before)", body = CommittedDoc)))]
pub(crate) async fn log_from_run(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<CommitBody>,
) -> ApiResult<Json<Json_>> {
    commit(state, who, (entity, project, Some(run_id)), body).await
}

/// Digests are stored in lowercase (the blob store's names).
fn lowercase_digests(body: &mut CommitBody) {
    for e in &mut body.entries {
        if let Some(s) = e.sha256.as_mut() {
            s.make_ascii_lowercase();
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only names of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/artifacts/{entity}/{project}", operation_id = "putArtifact", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path)), request_body = CommitBody,
    responses((status = 200, description = "The version, produced by no run", body = CommittedDoc)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    JsonBody(body): JsonBody<CommitBody>,
) -> ApiResult<Json<Json_>> {
    commit(state, who, (entity, project, None), body).await
}

#[utoipa::path(get, path = "/api/v1/artifacts/{entity}/{project}", operation_id = "listArtifacts", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ListQuery),
    responses((status = 200, description = "The project's artifact names by type", body = ArtifactNamesDoc)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state
        .blocking(move |s| {
            let names = s.artifacts.list_artifact_collections(&entity, &project, q.kind.as_deref())?;
            Ok(Json(json!({"artifacts": names})))
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/artifacts/{entity}/{project}/{name}", operation_id = "listArtifactVersions", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "Every version, newest first", body = ArtifactVersionsDoc)))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, name)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state
        .blocking(move |s| Ok(Json(json!({"versions": s.artifacts.list_artifact_versions(&entity, &project, &name)?}))))
        .await
}

type VersionPath = Path<(String, String, String, String)>;

#[utoipa::path(get, path = "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", operation_id = "getArtifactVersion", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("selector" = String, Path, description = "vN or an alias")),
    responses((status = 200, description = "The version with its manifest and lineage", body = ArtifactVersionDoc)))]
pub(crate) async fn get_version(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, name, selector)): VersionPath,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state
        .blocking(move |s| Ok(Json(json!(s.artifacts.get_artifact_version(&entity, &project, &name, &selector)?))))
        .await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AliasPatch {
    #[serde(default)]
    add_aliases: Vec<String>,
    #[serde(default)]
    remove_aliases: Vec<String>,
    /// Time to live in seconds from the version's creation; `null` keeps it for good; absent
    /// leaves it as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    ttl: Option<Option<u64>>,
}

/// A field that is present (its value may be `null`), as opposed to absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<crate::lenient::Int>::deserialize(d).map(|v| Some(v.map(|i| i.0)))
}

/// The version number a selector names now.
fn version_of(s: &AppState, at: (&str, &str, &str), selector: &str) -> ApiResult<u64> {
    match parse_version_label(selector) {
        Some(n) => Ok(n),
        None => Ok(s.artifacts.get_artifact_version(at.0, at.1, at.2, selector)?.version),
    }
}

#[utoipa::path(patch, path = "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", operation_id = "updateArtifactAliases", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("selector" = String, Path, description = "vN or an alias")),
    request_body = AliasPatch,
    responses((status = 200, description = "The version after the aliases moved (all or none)", body = ArtifactVersionDoc)))]
pub(crate) async fn patch_version(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, name, selector)): VersionPath,
    JsonBody(body): JsonBody<AliasPatch>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    state
        .blocking(move |s| {
            let v = version_of(s, (&entity, &project, &name), &selector)?;
            let mut out = s.artifacts.update_artifact_aliases(
                &entity,
                &project,
                &name,
                v,
                &body.add_aliases,
                &body.remove_aliases,
            )?;
            if let Some(ttl) = body.ttl {
                out = s.artifacts.set_artifact_ttl(&entity, &project, &name, v, ttl)?;
            }
            Ok(Json(json!(out)))
        })
        .await
}

#[utoipa::path(delete, path = "/api/v1/artifacts/{entity}/{project}/{name}/{selector}", operation_id = "deleteArtifactVersion", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("name" = String, Path), ("selector" = String, Path, description = "vN or an alias")),
    responses((status = 200, description = "How many blobs were freed", body = DeletedDoc)))]
pub(crate) async fn delete_version(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, name, selector)): VersionPath,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    state
        .blocking(move |s| {
            let v = version_of(s, (&entity, &project, &name), &selector)?;
            let unreferenced = s.artifacts.delete_artifact_version(&entity, &project, &name, v)?;
            let freed = super::files::free_blobs(s, &unreferenced);
            Ok(Json(json!({"deleted": format!("v{v}"), "blobs_freed": freed})))
        })
        .await
}

/// Removes from the blob store the blobs the artifact store reported unreferenced; returns how
/// many existed.
/// Deletes the versions whose time to live has passed and frees their blobs (the server runs
/// this every `Limits::artifact_expiry_interval`); returns the blobs freed.
///
/// # Errors
/// A failing store.
pub(crate) async fn expire_artifacts(state: &AppState) -> ApiResult<u64> {
    state
        .blocking(|s| {
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
            let unreferenced = s.artifacts.expire_artifact_versions(now)?;
            Ok(super::files::free_blobs(s, &unreferenced))
        })
        .await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UseBody {
    /// The artifact's project (default: the run's).
    entity: Option<String>,
    project: Option<String>,
    name: String,
    /// `vN` or an alias.
    selector: String,
}

#[utoipa::path(post, path = "/api/v1/runs/{entity}/{project}/{run_id}/artifacts/used", operation_id = "useArtifact", tag = "artifacts",
    params(crate::openapi::RunPath), request_body = UseBody,
    responses((status = 200, description = "The version now recorded as an input of the run", body = ArtifactVersionDoc)))]
pub(crate) async fn use_version(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<UseBody>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, true)?;
    let a_entity = body.entity.unwrap_or_else(|| entity.clone());
    let a_project = body.project.unwrap_or_else(|| project.clone());
    check_access(&who, &a_entity, false)?;
    state
        .blocking(move |s| {
            let run = RunKey { entity, project, run_id };
            let v = s.artifacts.get_artifact_version(&a_entity, &a_project, &body.name, &body.selector)?;
            s.artifacts.use_artifact(&run, &a_entity, &a_project, &body.name, v.version)?;
            Ok(Json(json!(v)))
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/artifacts", operation_id = "runArtifacts", tag = "artifacts",
    params(crate::openapi::RunPath),
    responses((status = 200, description = "Versions the run logged and used", body = RunArtifactsDoc)))]
pub(crate) async fn of_run(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Json_>> {
    check_access(&who, &entity, false)?;
    state.blocking(move |s| Ok(Json(json!(s.artifacts.run_artifacts(&RunKey { entity, project, run_id })?)))).await
}
