//! The signed URLs of wandb's artifact protocol (docs/wandb-server.md "Artifacts"): uploads of a
//! draft's files and manifest, and downloads of a stored version's manifest (in wandb's format)
//! and blobs. The GraphQL operations that hand them out are in `trackway_wandb::artifacts`; like
//! presigned object-store URLs they carry no key, the signature is the credential.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use tokio::sync::mpsc;
use trackway_wandb::artifacts::{MANIFEST_UPLOAD, wandb_manifest};
use trackway_wandb::pending::{Md5Reader, Uploaded};

use super::files::{ChannelReader, blob_error, pump};
use crate::extract::Query;
use crate::{ApiError, ApiResult, AppState};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Signature {
    /// Unix time after which the URL is refused.
    expires: u64,
    /// The server's signature of the URL's path and expiry.
    sig: String,
}

fn check(state: &AppState, parts: &[&str], sig: &Signature) -> ApiResult<()> {
    if state.wandb_urls.verify_parts(parts, sig.expires, &sig.sig) {
        return Ok(());
    }
    Err(ApiError::Forbidden("the URL is invalid or has expired".into()))
}

#[utoipa::path(put, path = "/wandb/artifact-upload/{id}/{*path}", operation_id = "wandbArtifactUpload", tag = "wandb",
    security(()),
    params(("id" = String, Path, description = "The artifact draft (from `CreateArtifact`)"),
        ("path" = String, Path, description = "`manifest`, or `files/` and the file's path in the artifact"), Signature),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "The file is stored (its SHA-256 and MD5)", body = Object),
        (status = 403, description = "Error: forbidden (the signature is wrong or expired)", content_type = "application/json", body = Object),
        (status = 404, description = "Error: not_found (no such draft: it was committed or expired)", content_type = "application/json", body = Object)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    Query(sig): Query<Signature>,
    body: Body,
) -> ApiResult<Json<Json_>> {
    check(&state, &["artifact-upload", &id, &path], &sig)?;
    if path != MANIFEST_UPLOAD {
        let rel = path.strip_prefix("files/").unwrap_or_default();
        trackway_types::validate_rel_path(rel).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
    }
    let limit = state.limits.max_file_bytes;
    let (tx, rx) = mpsc::channel(8);
    let store_bytes = state.blocking(move |s| {
        let mut reader = Md5Reader::new(ChannelReader { rx, current: Bytes::new() });
        let put = s.blobs.put_reader(&mut reader).map_err(blob_error)?;
        Ok((put, reader.finish()))
    });
    let (within_limit, stored) = tokio::join!(pump(body, tx, limit), store_bytes);
    if !within_limit {
        return Err(ApiError::FileTooLarge(format!("the server takes files of at most {limit} bytes")));
    }
    let (put, md5) = stored?;
    let file = Uploaded { path, sha256: put.digest.as_str().to_owned(), size: put.size, md5 };
    let answer = json!({"sha256": file.sha256, "md5": file.md5, "size": file.size});
    state.blocking(move |s| Ok(s.wandb_drafts.add_file(&id, &file)?)).await?;
    Ok(Json(answer))
}

#[utoipa::path(get, path = "/wandb/artifact-manifest/{id}", operation_id = "wandbArtifactManifest", tag = "wandb",
    security(()),
    params(("id" = String, Path, description = "A stored artifact version's wandb id"), Signature),
    responses((status = 200, description = "The version's manifest in wandb's format (paths, MD5s, sizes, references)", body = Object),
        (status = 403, description = "Error: forbidden (the signature is wrong or expired)", content_type = "application/json", body = Object)))]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(sig): Query<Signature>,
) -> ApiResult<Json<Json_>> {
    check(&state, &["artifact-manifest", &id], &sig)?;
    let doc = state.blocking(move |s| Ok(wandb_manifest(&*s.artifacts, &s.wandb_drafts, &*s.blobs, &id)?)).await?;
    Ok(Json(doc))
}

#[utoipa::path(get, path = "/wandb/artifact-file/{entity}/{project}/{sha256}", operation_id = "wandbArtifactFile", tag = "wandb",
    security(()),
    params(("entity" = String, Path), ("project" = String, Path), ("sha256" = String, Path, description = "SHA-256 of the blob"), Signature),
    responses((status = 200, description = "The blob's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "Error: forbidden (the signature is wrong or expired)", content_type = "application/json", body = Object)))]
pub(crate) async fn file(
    State(state): State<AppState>,
    Path((entity, project, sha)): Path<(String, String, String)>,
    Query(sig): Query<Signature>,
) -> ApiResult<Response> {
    check(&state, &["artifact-file", &entity, &project, &sha], &sig)?;
    let digest: trackway_blob::Digest =
        sha.parse().map_err(|e: trackway_blob::DigestError| ApiError::BadRequest(e.to_string()))?;
    let (size, reader) = state.blocking(move |s| super::artifact_blobs::open_blob(s, &digest)).await?;
    Ok(super::artifact_blobs::blob_response(&sha, size, reader))
}
