//! Artifact blobs (docs/artifacts.md "Upload"): resumable, part-wise uploads of content-addressed
//! files and verified, streamed downloads.
//!
//! A client sends a blob in parts, each `PUT ...?offset=N&size=TOTAL`. The server appends a part
//! only at the end of what it already holds for that digest (`<data dir>/uploads/<sha256>`,
//! fsynced before it answers), so an agent killed mid-upload asks where to continue
//! (`GET .../upload`) and never re-sends a finished part. When the last byte arrives the staged
//! file is hashed into the blob store, and refused if it does not hash to its name.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use trackway_blob::Digest;
use trackway_store::Principal;

use super::files::{ChannelReader, blob_error, pump, stream_reader};
use crate::auth::check_access;
use crate::extract::Query;
use crate::{ApiError, ApiResult, AppState};

/// Partial uploads on the server's disk, and which digests are being appended to right now.
pub struct BlobUploads {
    dir: PathBuf,
    busy: Mutex<HashSet<String>>,
}

impl BlobUploads {
    /// Uses (creating) `dir`; partial uploads left there by an earlier process are kept, so a
    /// client resumes them after a server restart too.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(dir: PathBuf) -> std::io::Result<Arc<Self>> {
        fs::create_dir_all(&dir)?;
        Ok(Arc::new(BlobUploads { dir, busy: Mutex::new(HashSet::new()) }))
    }

    fn staged(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.as_str())
    }

    fn staged_len(&self, digest: &Digest) -> u64 {
        fs::metadata(self.staged(digest)).map_or(0, |m| m.len())
    }
}

/// Releases a digest's append slot when the request ends, however it ends.
struct Slot(Arc<BlobUploads>, String);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.1);
    }
}

fn take_slot(up: &Arc<BlobUploads>, digest: &Digest) -> ApiResult<Slot> {
    let mut busy = up.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !busy.insert(digest.as_str().to_owned()) {
        return Err(ApiError::Busy { what: "another upload of this blob", retry_after: 1 });
    }
    Ok(Slot(up.clone(), digest.as_str().to_owned()))
}

type BlobPath = Path<(String, String, String)>;

fn parse_digest(raw: &str) -> ApiResult<Digest> {
    raw.to_ascii_lowercase()
        .parse()
        .map_err(|_| ApiError::BadRequest("a blob is named by its SHA-256: 64 hexadecimal characters".into()))
}

/// Where an upload stands.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct UploadState {
    /// The blob is in the store: nothing (more) to send.
    stored: bool,
    /// Bytes the server holds; the next part starts here.
    offset: u64,
}

#[utoipa::path(get, path = "/api/v1/artifact-blobs/{entity}/{project}/{sha256}/upload", operation_id = "artifactBlobUploadState", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("sha256" = String, Path, description = "SHA-256 of the blob")),
    responses((status = 200, description = "Where the upload stands", body = UploadState)))]
pub(crate) async fn upload_state(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, _project, sha)): BlobPath,
) -> ApiResult<Json<UploadState>> {
    check_access(&who, &entity, true)?;
    let digest = parse_digest(&sha)?;
    state
        .blocking(move |s| {
            if let Some(size) = s.blobs.size(&digest).map_err(blob_error)? {
                return Ok(Json(UploadState { stored: true, offset: size }));
            }
            Ok(Json(UploadState { stored: false, offset: s.uploads.staged_len(&digest) }))
        })
        .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PartQuery {
    /// Where this part starts; must equal what the server holds (else `offset_gap`).
    offset: u64,
    /// The whole blob's size in bytes.
    size: u64,
}

#[utoipa::path(put, path = "/api/v1/artifact-blobs/{entity}/{project}/{sha256}", operation_id = "uploadArtifactBlobPart", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("sha256" = String, Path, description = "SHA-256 of the whole blob"), PartQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "Where the upload stands after this part", body = UploadState)))]
pub(crate) async fn upload_part(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, _project, sha)): BlobPath,
    Query(q): Query<PartQuery>,
    body: Body,
) -> ApiResult<Json<UploadState>> {
    check_access(&who, &entity, true)?;
    let digest = parse_digest(&sha)?;
    if q.size > state.limits.max_file_bytes {
        return Err(ApiError::FileTooLarge(format!(
            "the blob is {} bytes; the server takes files of at most {} bytes",
            q.size, state.limits.max_file_bytes
        )));
    }
    if state.blobs.exists(&digest).map_err(blob_error)? {
        return Ok(Json(UploadState { stored: true, offset: q.size }));
    }
    let _slot = take_slot(&state.uploads, &digest)?;
    let have = state.uploads.staged_len(&digest);
    if have != q.offset || q.offset > q.size {
        return Err(ApiError::OffsetGap { expected: have, from: q.offset });
    }
    let len = append_part(&state, &digest, body, q.size - q.offset).await?;
    // One line per stored part: operators (and the resume test) see what was sent when.
    tracing::info!(%digest, offset = q.offset, bytes = len - q.offset, "artifact blob part stored");
    if len < q.size {
        return Ok(Json(UploadState { stored: false, offset: len }));
    }
    install(&state, digest).await?;
    Ok(Json(UploadState { stored: true, offset: q.size }))
}

/// Appends the body (at most `room` bytes) to the staged file, fsynced; returns its new length.
async fn append_part(state: &AppState, digest: &Digest, body: Body, room: u64) -> ApiResult<u64> {
    let path = state.uploads.staged(digest);
    let (tx, rx) = mpsc::channel(8);
    let write = state.blocking(move |_| {
        let mut reader = ChannelReader { rx, current: Bytes::new() };
        let io = |e: std::io::Error| ApiError::internal(format!("staging {}: {e}", path.display()));
        let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        let copied = std::io::copy(&mut reader, &mut file);
        // Whatever arrived is kept (fsynced), so a cut part resumes from where it stopped.
        file.sync_all().map_err(io)?;
        copied.map_err(|e| blob_error(trackway_blob::BlobError::Source(e)))?;
        Ok(file.metadata().map_err(io)?.len())
    });
    let (within, len) = tokio::join!(pump(body, tx, room), write);
    if !within {
        return Err(ApiError::Conflict(format!("the part runs past the blob's declared size ({room} bytes left)")));
    }
    len
}

/// Moves a complete staged file into the blob store if it hashes to its name.
async fn install(state: &AppState, digest: Digest) -> ApiResult<()> {
    state
        .blocking(move |s| {
            let path = s.uploads.staged(&digest);
            let mut file = File::open(&path).map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
            let put = s.blobs.put_reader(&mut file as &mut dyn Read).map_err(blob_error);
            let _ = fs::remove_file(&path);
            let put = put?;
            if put.digest != digest {
                // Content nobody had before this upload: drop it rather than keep an orphan.
                if put.created {
                    let _ = s.blobs.delete(&put.digest);
                }
                return Err(ApiError::BadRequest(format!(
                    "the uploaded bytes hash to {}, not {digest}; upload them again",
                    put.digest
                )));
            }
            Ok(())
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/artifact-blobs/{entity}/{project}/{sha256}", operation_id = "downloadArtifactBlob", tag = "artifacts",
    params(("entity" = String, Path), ("project" = String, Path), ("sha256" = String, Path, description = "SHA-256 of the blob")),
    responses((status = 200, description = "The blob's bytes (ETag: its SHA-256)", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, sha)): BlobPath,
) -> ApiResult<Response> {
    check_access(&who, &entity, false)?;
    let digest = parse_digest(&sha)?;
    let (size, reader) = state
        .blocking(move |s| {
            // Only blobs an artifact of this project lists: a digest is no read capability.
            if !s.artifacts.project_references_blob(&entity, &project, digest.as_str())? {
                return Err(ApiError::NotFound(format!("blob {digest} in {entity}/{project}")));
            }
            let size = s
                .blobs
                .size(&digest)
                .map_err(blob_error)?
                .ok_or_else(|| ApiError::NotFound(format!("blob {digest}")))?;
            Ok((size, s.blobs.open(&digest).map_err(blob_error)?))
        })
        .await?;
    let headers = [
        (CONTENT_TYPE, "application/octet-stream".to_owned()),
        (CONTENT_LENGTH, size.to_string()),
        (ETAG, format!("\"{sha}\"")),
    ];
    Ok((headers, stream_reader(reader)).into_response())
}
