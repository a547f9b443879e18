//! wandb's artifact operations over GraphQL, onto Trackway's [`ArtifactStore`].
//!
//! Logging (`run.log_artifact`, sent by `wandb-core`): `CreateArtifact` opens a draft
//! ([`crate::pending`]), `CreateArtifactFiles` hands out one signed upload URL per file,
//! `CreateArtifactManifest`/`UpdateArtifactManifest` one for wandb's manifest, and
//! `CommitArtifact` turns the manifest into a Trackway manifest (MD5s checked against what was
//! uploaded) and commits it through [`ArtifactStore::commit_artifact`], the same call Trackway's
//! own client ends in, so a version logged by either client is the same kind of version.
//! Using and downloading (`run.use_artifact`, `Artifact.download`, sent by the Python package):
//! `ArtifactMembershipByName`/`ArtifactByID` describe a stored version, `FetchArtifactManifest`
//! and `GetArtifactMembershipFileUrls` hand out signed download URLs for the manifest (written
//! in wandb's format, with MD5s) and the blobs, and `UseArtifact` records the lineage edge.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use trackway_store::artifacts::{ArtifactVersion, CommitArtifact, ManifestEntry};

use crate::graphql::{Ctx, run_key};
use crate::pending::{Draft, Resolved, Uploaded, VersionRef};
use crate::{Result, WandbError};

/// The path under which a draft's manifest is uploaded (files are under `files/`).
pub const MANIFEST_UPLOAD: &str = "manifest";

fn iso(ts: f64) -> String {
    chrono::DateTime::from_timestamp_millis((ts * 1000.0) as i64)
        .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

fn project_info(entity: &str, project: &str) -> Json {
    json!({"id": format!("project:{entity}/{project}"), "internalId": format!("project:{entity}/{project}"),
        "name": project, "entity": {"name": entity}})
}

fn collection_info(v: &ArtifactVersion) -> Json {
    json!({"__typename": "ArtifactSequence", "id": format!("seq:{}/{}/{}", v.entity, v.project, v.name),
        "name": v.name, "project": project_info(&v.entity, &v.project)})
}

fn version_ref(v: &ArtifactVersion) -> VersionRef {
    VersionRef { entity: v.entity.clone(), project: v.project.clone(), name: v.name.clone(), version: v.version }
}

fn alias_json(v: &ArtifactVersion, alias: &str) -> Json {
    json!({"__typename": "ArtifactAlias", "id": format!("alias:{}/{}/{}:{alias}", v.entity, v.project, v.name),
        "alias": alias, "artifactCollection": collection_info(v)})
}

/// A stored version as wandb's `ArtifactFragment` selects it.
#[must_use]
pub fn artifact_json(v: &ArtifactVersion) -> Json {
    let tags: Vec<Json> =
        v.tags.iter().map(|t| json!({"__typename": "Tag", "id": format!("tag:{t}"), "name": t})).collect();
    let aliases: Vec<Json> = v.aliases.iter().map(|a| alias_json(v, a)).collect();
    let metadata =
        if v.metadata.as_object().is_some_and(|m| !m.is_empty()) { Some(v.metadata.to_string()) } else { None };
    let (ttl, ttl_inherited) = crate::artifact_ttl::to_wandb(v);
    json!({"__typename": "Artifact", "id": version_ref(v).id(),
        "artifactSequence": collection_info(v), "versionIndex": v.version,
        "artifactType": {"name": v.kind}, "description": v.description, "metadata": metadata,
        "ttlDurationSeconds": ttl, "ttlIsInherited": ttl_inherited, "tags": tags, "historyStep": null,
        "state": "COMMITTED", "size": v.size, "digest": v.digest, "digestAlgorithm": "MANIFEST_MD5",
        "commitHash": null, "fileCount": v.file_count, "createdAt": iso(v.created_at),
        "updatedAt": iso(v.created_at), "aliases": aliases})
}

/// The version an id names; a draft is not one yet.
pub(crate) fn stored(ctx: &Ctx<'_>, id: &str) -> Result<ArtifactVersion> {
    match ctx.drafts.resolve(id)? {
        Resolved::Version(v) => {
            if !ctx.who.can_access(&v.entity, false) {
                return Err(WandbError::NotFound(format!("no artifact with id {id:?}")));
            }
            Ok(ctx.artifacts.get_artifact_version(&v.entity, &v.project, &v.name, &format!("v{}", v.version))?)
        }
        Resolved::Draft(..) => Err(WandbError::BadRequest(format!("artifact {id} is not committed yet"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AliasInput {
    Object { alias: String },
    Plain(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateInput {
    entity_name: String,
    project_name: String,
    run_name: Option<String>,
    artifact_type_name: String,
    artifact_collection_name: Option<String>,
    #[serde(default)]
    artifact_collection_names: Option<Vec<String>>,
    #[serde(default)]
    digest: String,
    description: Option<String>,
    metadata: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<AliasInput>>,
    #[serde(default)]
    tags: Option<Vec<Json>>,
    #[serde(rename = "clientID")]
    client_id: Option<String>,
    /// wandb's `Artifact.ttl` ([`crate::artifact_ttl`]).
    ttl_duration_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InputVars<T> {
    input: T,
}

fn tag_names(tags: Option<Vec<Json>>) -> Vec<String> {
    let name = |t: &Json| t.as_str().or_else(|| t.get("tagName").and_then(Json::as_str)).map(str::to_owned);
    tags.unwrap_or_default().iter().filter_map(name).collect()
}

/// `CreateArtifact`: a draft, answered `PENDING` so the SDK uploads the files.
pub(crate) fn create(ctx: &Ctx<'_>, v: InputVars<CreateInput>) -> Result<Json> {
    let i = v.input;
    (ctx.ensure_writable)(&i.entity_name)?;
    let name = i
        .artifact_collection_name
        .or_else(|| i.artifact_collection_names.and_then(|n| n.into_iter().next()))
        .ok_or_else(|| WandbError::BadRequest("an artifact name is required".into()))?;
    let metadata = match i.metadata.as_deref().map(serde_json::from_str::<Json>) {
        Some(Ok(Json::Object(m))) => m,
        Some(Ok(Json::Null)) | None => serde_json::Map::new(),
        Some(_) => return Err(WandbError::BadRequest("artifact metadata must be a JSON object".into())),
    };
    let aliases = i
        .aliases
        .unwrap_or_default()
        .into_iter()
        .map(|a| match a {
            AliasInput::Object { alias } | AliasInput::Plain(alias) => alias,
        })
        .filter(|a| a != trackway_store::artifacts::LATEST)
        .collect();
    let draft = Draft {
        entity: i.entity_name,
        project: i.project_name,
        run_id: i.run_name.filter(|r| !r.is_empty()),
        name,
        kind: i.artifact_type_name,
        description: i.description,
        metadata,
        aliases,
        tags: tag_names(i.tags),
        digest: i.digest,
        client_id: i.client_id,
        ttl: crate::artifact_ttl::from_wandb(i.ttl_duration_seconds).flatten(),
    };
    trackway_store::artifacts::check_name("artifact name", &draft.name)?;
    trackway_store::artifacts::check_name("artifact type", &draft.kind)?;
    let latest = ctx
        .artifacts
        .list_artifact_versions(&draft.entity, &draft.project, &draft.name)
        .ok()
        .and_then(|vs| vs.first().map(|v| json!({"id": version_ref(v).id()})));
    let id = ctx.drafts.create(&draft)?;
    Ok(json!({"createArtifact": {"artifact": {"id": id, "state": "PENDING",
        "artifactSequence": {"id": format!("seq:{}/{}/{}", draft.entity, draft.project, draft.name), "latestArtifact": latest}}}}))
}

fn draft_of(ctx: &Ctx<'_>, id: &str) -> Result<Draft> {
    match ctx.drafts.resolve(id)? {
        Resolved::Draft(_, d) => Ok(*d),
        Resolved::Version(_) => Err(WandbError::BadRequest(format!("artifact {id} is already committed"))),
    }
}

/// The upload URL of one file of a draft (`files/<path>`) or of its manifest.
fn upload_url(ctx: &Ctx<'_>, id: &str, path: &str) -> String {
    let rel = crate::graphql::url_path(path);
    format!(
        "{}/wandb/artifact-upload/{id}/{rel}?{}",
        ctx.base_url,
        ctx.signer.sign_parts(&["artifact-upload", id, path])
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManifestVars {
    #[serde(rename = "artifactID", alias = "artifactManifestID")]
    artifact_id: String,
    #[serde(default)]
    include_upload: Option<bool>,
}

/// `CreateArtifactManifest`/`UpdateArtifactManifest`: where to `PUT` wandb's manifest. The
/// manifest's id is the draft's (one manifest per draft).
pub(crate) fn manifest(ctx: &Ctx<'_>, field: &str, v: ManifestVars) -> Result<Json> {
    let draft = draft_of(ctx, &v.artifact_id)?;
    (ctx.ensure_writable)(&draft.entity)?;
    let mut file = json!({"id": v.artifact_id});
    if v.include_upload != Some(false) {
        file["uploadUrl"] = Json::from(upload_url(ctx, &v.artifact_id, MANIFEST_UPLOAD));
        file["uploadHeaders"] = json!([]);
    }
    let mut out = serde_json::Map::new();
    out.insert(field.to_owned(), json!({"artifactManifest": {"id": v.artifact_id, "file": file}}));
    Ok(Json::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilesInput {
    artifact_files: Vec<FileSpec>,
}

#[derive(Debug, Deserialize)]
struct FileSpec {
    #[serde(rename = "artifactID")]
    artifact_id: String,
    name: String,
}

/// `CreateArtifactFiles`: one upload URL per file, in the order asked (never multipart).
pub(crate) fn files(ctx: &Ctx<'_>, v: InputVars<FilesInput>) -> Result<Json> {
    let mut edges = Vec::with_capacity(v.input.artifact_files.len());
    for f in &v.input.artifact_files {
        let draft = draft_of(ctx, &f.artifact_id)?;
        (ctx.ensure_writable)(&draft.entity)?;
        trackway_types::validate_rel_path(&f.name).map_err(|e| WandbError::BadRequest(e.to_string()))?;
        let path = format!("files/{}", f.name);
        edges.push(json!({"node": {"storagePath": path, "uploadUrl": upload_url(ctx, &f.artifact_id, &path),
            "uploadHeaders": [], "uploadMultipartUrls": null, "artifact": {"id": f.artifact_id}}}));
    }
    Ok(json!({"createArtifactFiles": {"files": {"edges": edges}}}))
}

/// One entry of wandb's manifest (`contents`).
#[derive(Debug, Deserialize)]
struct WandbEntry {
    #[serde(default)]
    digest: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WandbManifest {
    #[serde(default)]
    contents: std::collections::BTreeMap<String, WandbEntry>,
}

/// wandb's manifest as Trackway entries: each file is the blob uploaded under its path with the
/// MD5 the manifest names, or (not uploaded again: an unchanged file of an earlier version)
/// the blob known under that MD5.
fn entries(ctx: &Ctx<'_>, manifest: &WandbManifest, uploaded: &[Uploaded]) -> Result<Vec<ManifestEntry>> {
    let by_path: std::collections::HashMap<&str, &Uploaded> = uploaded.iter().map(|u| (u.path.as_str(), u)).collect();
    let mut out = Vec::with_capacity(manifest.contents.len());
    for (path, e) in &manifest.contents {
        if let Some(r) = &e.reference {
            let ref_digest = Some(e.digest.clone()).filter(|d| !d.is_empty());
            out.push(ManifestEntry {
                path: path.clone(),
                sha256: None,
                size: e.size.unwrap_or(0),
                reference: Some(r.clone()),
                ref_digest,
            });
            continue;
        }
        let sha = match by_path.get(format!("files/{path}").as_str()) {
            Some(u) if u.md5 == e.digest => u.sha256.clone(),
            Some(u) => {
                return Err(WandbError::BadRequest(format!(
                    "{path}: the uploaded file has MD5 {}, the manifest says {}",
                    u.md5, e.digest
                )));
            }
            None => ctx.drafts.md5.sha_of(&e.digest).ok_or_else(|| {
                WandbError::BadRequest(format!("{path}: the file with MD5 {} was never uploaded", e.digest))
            })?,
        };
        let size = e.size.unwrap_or(0);
        out.push(ManifestEntry { path: path.clone(), sha256: Some(sha), size, reference: None, ref_digest: None });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub(crate) struct IdVars {
    #[serde(rename = "artifactID", alias = "id", alias = "artifact_id")]
    artifact_id: String,
}

/// `CommitArtifact`: the draft becomes a stored version (or names the existing one with the
/// same content).
pub(crate) fn commit(ctx: &Ctx<'_>, v: IdVars) -> Result<Json> {
    let id = v.artifact_id;
    let draft = match ctx.drafts.resolve(&id)? {
        Resolved::Draft(_, d) => *d,
        Resolved::Version(r) => {
            // A retried commit: already done.
            let v = ctx.artifacts.get_artifact_version(&r.entity, &r.project, &r.name, &format!("v{}", r.version))?;
            return Ok(json!({"commitArtifact": {"artifact": {"id": id, "digest": v.digest}}}));
        }
    };
    (ctx.ensure_writable)(&draft.entity)?;
    let uploaded = ctx.drafts.files(&id)?;
    let manifest = uploaded
        .iter()
        .find(|u| u.path == MANIFEST_UPLOAD)
        .ok_or_else(|| WandbError::BadRequest(format!("artifact {id}: its manifest was not uploaded")))?;
    let bytes = ctx.blobs.get(&blob_digest(&manifest.sha256)?).map_err(|e| WandbError::Io(e.to_string()))?;
    let parsed: WandbManifest =
        serde_json::from_slice(&bytes).map_err(|e| WandbError::BadRequest(format!("artifact manifest: {e}")))?;
    let req = CommitArtifact {
        entity: draft.entity.clone(),
        project: draft.project.clone(),
        run_id: draft.run_id.clone(),
        name: draft.name.clone(),
        kind: draft.kind.clone(),
        description: draft.description.clone(),
        metadata: draft.metadata.clone(),
        entries: entries(ctx, &parsed, &uploaded)?,
        aliases: draft.aliases.clone(),
        tags: draft.tags.clone(),
        ttl: draft.ttl,
    };
    let out = ctx.artifacts.commit_artifact(&req)?;
    ctx.drafts.committed(&id, &version_ref(&out.artifact))?;
    tracing::info!(artifact = %format!("{}/{}/{}:v{}", req.entity, req.project, req.name, out.artifact.version),
        created = out.created, "wandb artifact committed");
    Ok(json!({"commitArtifact": {"artifact": {"id": id, "digest": draft.digest}}}))
}

pub(crate) fn blob_digest(sha: &str) -> Result<trackway_blob::Digest> {
    sha.parse().map_err(|e: trackway_blob::DigestError| WandbError::Io(e.to_string()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UseInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: String,
    #[serde(rename = "artifactID")]
    artifact_id: String,
}

/// `UseArtifact` (input object from `wandb-core`, plain variables from the Python package).
pub(crate) fn use_artifact(ctx: &Ctx<'_>, v: UseInput) -> Result<Json> {
    let version = stored(ctx, &v.artifact_id)?;
    let run = run_key(ctx, v.entity_name, v.project_name, v.run_name);
    (ctx.ensure_writable)(&run.entity)?;
    ctx.artifacts.use_artifact(&run, &version.entity, &version.project, &version.name, version.version)?;
    let a = artifact_json(&version);
    Ok(json!({"useArtifact": {"artifact": {"id": a["id"], "digest": a["digest"], "description": a["description"],
        "state": "COMMITTED", "createdAt": a["createdAt"], "metadata": a["metadata"]}}}))
}

/// `UseArtifact` sent either way: `{input: {...}}` or the fields as variables.
pub(crate) fn use_vars(vars: Json) -> Result<UseInput> {
    let body = match vars.get("input") {
        Some(input) => input.clone(),
        None => vars,
    };
    serde_json::from_value(body).map_err(|e| WandbError::BadRequest(format!("variables: {e}")))
}

/// `name:alias` or `name:vN` (no selector: `latest`).
fn split_name(name: &str) -> (&str, &str) {
    name.rsplit_once(':').unwrap_or((name, trackway_store::artifacts::LATEST))
}

fn find(
    ctx: &Ctx<'_>,
    entity: &str,
    project: &str,
    collection: &str,
    selector: &str,
) -> Result<Option<ArtifactVersion>> {
    if !ctx.who.can_access(entity, false) {
        return Ok(None);
    }
    match ctx.artifacts.get_artifact_version(entity, project, collection, selector) {
        Ok(v) => Ok(Some(v)),
        Err(trackway_store::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ByNameVars {
    entity: String,
    project: String,
    name: String,
}

/// `ArtifactMembershipByName`: `name:alias` in a project.
pub(crate) fn membership_by_name(ctx: &Ctx<'_>, v: ByNameVars) -> Result<Json> {
    let (collection, selector) = split_name(&v.name);
    let found = find(ctx, &v.entity, &v.project, collection, selector)?;
    let membership = found.map(|a| {
        let aliases: Vec<Json> = a.aliases.iter().map(|al| alias_json(&a, al)).collect();
        json!({"__typename": "ArtifactCollectionMembership", "id": format!("member:{}", version_ref(&a).id()),
            "versionIndex": a.version, "createdAt": iso(a.created_at), "aliases": aliases,
            "artifactCollection": collection_info(&a), "artifact": artifact_json(&a)})
    });
    let mut project = project_info(&v.entity, &v.project);
    project["artifactCollectionMembership"] = membership.unwrap_or(Json::Null);
    // wandb 0.30's `ArtifactByName` selects `artifact(name:)` on the project instead.
    project["artifact"] = project["artifactCollectionMembership"]["artifact"].clone();
    Ok(json!({"project": project}))
}

/// `ArtifactByID`.
pub(crate) fn by_id(ctx: &Ctx<'_>, v: IdVars) -> Result<Json> {
    let found = match stored(ctx, &v.artifact_id) {
        Ok(a) => Some(artifact_json(&a)),
        Err(WandbError::NotFound(_) | WandbError::Store(trackway_store::StoreError::NotFound(_))) => None,
        Err(e) => return Err(e),
    };
    Ok(json!({"artifact": found}))
}

/// `FetchArtifactManifest`/`ArtifactManifest`: a signed URL for the manifest in wandb's format.
pub(crate) fn fetch_manifest(ctx: &Ctx<'_>, v: IdVars) -> Result<Json> {
    let a = stored(ctx, &v.artifact_id)?;
    let id = version_ref(&a).id();
    let url =
        format!("{}/wandb/artifact-manifest/{id}?{}", ctx.base_url, ctx.signer.sign_parts(&["artifact-manifest", &id]));
    Ok(json!({"artifact": {"currentManifest": {"id": id, "file": {"directUrl": url}}}}))
}

/// The signed download URL of a blob of a project's artifacts.
#[must_use]
pub fn blob_url(base: &str, signer: &crate::token::UrlSigner, entity: &str, project: &str, sha256: &str) -> String {
    let (e, p) = (crate::graphql::url_path(entity), crate::graphql::url_path(project));
    format!(
        "{base}/wandb/artifact-file/{e}/{p}/{sha256}?{}",
        signer.sign_parts(&["artifact-file", entity, project, sha256])
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileUrlVars {
    entity: String,
    project: String,
    collection: String,
    alias: String,
    cursor: Option<String>,
    per_page: Option<usize>,
}

/// `GetArtifactMembershipFileUrls`: the version's files with download URLs, a page at a time
/// (the cursor is the index of the next file).
pub(crate) fn file_urls(ctx: &Ctx<'_>, v: FileUrlVars) -> Result<Json> {
    let Some(a) = find(ctx, &v.entity, &v.project, &v.collection, &v.alias)? else {
        return Ok(json!({"project": null}));
    };
    let entries = a.entries.unwrap_or_default();
    let start = v.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(entries.len());
    let end = start.saturating_add(v.per_page.unwrap_or(1000).clamp(1, 10_000)).min(entries.len());
    let edges: Vec<Json> = entries[start..end]
        .iter()
        .map(|e| {
            let url = e.sha256.as_deref().map(|s| blob_url(ctx.base_url, ctx.signer, &a.entity, &a.project, s));
            json!({"node": {"__typename": "File", "name": e.path, "directUrl": url}})
        })
        .collect();
    let page = json!({"__typename": "PageInfo", "endCursor": end.to_string(), "hasNextPage": end < entries.len()});
    Ok(json!({"project": {"artifactCollection": {"__typename": "ArtifactSequence",
        "artifactMembership": {"files": {"pageInfo": page, "edges": edges}}}}}))
}

/// A stored version's manifest in wandb's format (`GET /wandb/artifact-manifest/{id}`): MD5s
/// from the index, computed from the blob (and remembered) for versions Trackway's own
/// client logged.
///
/// # Errors
/// An unknown version; blob store errors.
pub fn wandb_manifest(
    store: &dyn trackway_store::ArtifactStore,
    drafts: &crate::pending::Drafts,
    blobs: &dyn trackway_blob::BlobStore,
    id: &str,
) -> Result<Json> {
    let Resolved::Version(r) = drafts.resolve(id)? else {
        return Err(WandbError::NotFound(format!("no artifact with id {id:?}")));
    };
    let v = store.get_artifact_version(&r.entity, &r.project, &r.name, &format!("v{}", r.version))?;
    let mut contents = serde_json::Map::new();
    for e in v.entries.unwrap_or_default() {
        let entry = match (&e.sha256, &e.reference) {
            (Some(sha), _) => json!({"digest": md5_of_blob(drafts, blobs, sha)?, "size": e.size}),
            (None, Some(r)) => json!({"digest": e.ref_digest.clone().unwrap_or_default(), "ref": r, "size": e.size}),
            (None, None) => continue,
        };
        contents.insert(e.path, entry);
    }
    Ok(json!({"version": 1, "storagePolicy": "wandb-storage-policy-v1",
        "storagePolicyConfig": {"storageLayout": "V2"}, "contents": contents}))
}

fn md5_of_blob(drafts: &crate::pending::Drafts, blobs: &dyn trackway_blob::BlobStore, sha: &str) -> Result<String> {
    use md5::Digest as _;
    if let Some(m) = drafts.md5.md5_of(sha) {
        return Ok(m);
    }
    let mut reader = blobs.open(&blob_digest(sha)?).map_err(|e| WandbError::Io(e.to_string()))?;
    let mut hasher = md5::Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf).map_err(|e| WandbError::Io(e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let b64 = crate::pending::md5_b64(hasher.finalize().as_slice());
    drafts.md5.remember(sha, &b64)?;
    Ok(b64)
}

/// `ClientIDMapping`: the server id of an artifact the SDK knows by its client id.
pub(crate) fn client_id_mapping(ctx: &Ctx<'_>, vars: &Json) -> Json {
    let server_id = vars.get("clientID").and_then(Json::as_str).and_then(|c| ctx.drafts.by_client_id(c));
    json!({"clientIDMapping": server_id.map(|id| json!({"serverID": id}))})
}
