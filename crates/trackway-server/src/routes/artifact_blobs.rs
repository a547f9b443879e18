//! Artifact blobs (docs/artifacts.md "Upload"): resumable, part-wise uploads of content-addressed
//! files and verified, streamed downloads.
//!
//! A client sends a blob in parts, each `PUT ...?offset=N&size=TOTAL`. The server appends a part
//! only at the end of what it already holds for that digest (`<data dir>/uploads/<sha256>`), so
//! an agent killed mid-upload asks where to continue (`GET .../upload`) and never re-sends a
//! finished part. Parts are hashed as they are written (the hash state is kept between parts,
//! and rebuilt from the staged bytes after a restart), so when the last byte arrives the staged
//! file is checked against its name, fsynced once and moved into the blob store without being
//! read again (`BlobStore::put_file`).
//!
//! Parts are not fsynced one by one: a part's bytes survive the server process (they are in the
//! file), and only a crash of the machine can lose acknowledged bytes. Then the staged file is
//! shorter than acknowledged (the client is told the offset it holds and resends from there) or
//! its bytes are wrong (the final hash check refuses them and the client sends the blob again),
//! never silently stored. An fsync per 16 MiB part made each part wait for the disk while
//! nothing else moved; one at the end lets the kernel write back while the parts stream in.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;
use trackway_blob::Digest;
use trackway_store::Principal;

use super::files::{ChannelReader, blob_error, pump, stream_reader};
use crate::auth::check_access;
use crate::extract::Query;
use crate::{ApiError, ApiResult, AppState};

/// Hash states kept between parts; beyond this many unfinished uploads the oldest-looking one
/// is dropped (its next part re-reads its staged bytes), so abandoned uploads cannot grow it.
const MAX_HASH_STATES: usize = 256;

/// Partial uploads on the server's disk, which digests are being appended to right now, and
/// the hash of what each staged file holds so far (bytes hashed, state).
pub struct BlobUploads {
    dir: PathBuf,
    busy: Mutex<HashSet<String>>,
    hashing: Mutex<HashMap<String, (u64, Sha256)>>,
}

impl BlobUploads {
    /// Uses (creating) `dir`; partial uploads left there by an earlier process are kept, so a
    /// client resumes them after a server restart too.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(dir: PathBuf) -> std::io::Result<Arc<Self>> {
        fs::create_dir_all(&dir)?;
        Ok(Arc::new(BlobUploads { dir, busy: Mutex::new(HashSet::new()), hashing: Mutex::new(HashMap::new()) }))
    }

    /// The hash of the first `len` staged bytes: the kept state when it covers exactly them,
    /// else (after a restart, or an eviction) hashed from the staged file.
    fn hasher_at(&self, digest: &Digest, len: u64) -> std::io::Result<Sha256> {
        let kept = self.hashing.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(digest.as_str());
        if let Some((_, h)) = kept.filter(|(at, _)| *at == len) {
            return Ok(h);
        }
        let mut h = Sha256::new();
        if len > 0 {
            let mut prefix = File::open(self.staged(digest))?.take(len);
            std::io::copy(&mut prefix, &mut h)?;
        }
        Ok(h)
    }

    fn keep_hasher(&self, digest: &Digest, len: u64, h: Sha256) {
        let mut map = self.hashing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_HASH_STATES
            && !map.contains_key(digest.as_str())
            && let Some(k) = map.keys().next().cloned()
        {
            map.remove(&k);
        }
        map.insert(digest.as_str().to_owned(), (len, h));
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
    install(&state, digest, q.size).await?;
    Ok(Json(UploadState { stored: true, offset: q.size }))
}

/// A file writer that hashes exactly the bytes the file accepted.
struct HashingWriter {
    file: File,
    hasher: Sha256,
    written: u64,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Appends the body (at most `room` bytes) to the staged file, hashed on the way, one write per
/// body chunk; returns its new length.
async fn append_part(state: &AppState, digest: &Digest, body: Body, room: u64) -> ApiResult<u64> {
    let path = state.uploads.staged(digest);
    let (tx, rx) = mpsc::channel(8);
    let digest = digest.clone();
    let write = state.blocking(move |s| {
        let mut reader = ChannelReader { rx, current: Bytes::new() };
        let io = |e: std::io::Error| ApiError::internal(format!("staging {}: {e}", path.display()));
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        let have = file.metadata().map_err(io)?.len();
        let hasher = s.uploads.hasher_at(&digest, have).map_err(io)?;
        let mut out = HashingWriter { file, hasher, written: have };
        let copied = reader.copy_chunks(&mut out);
        // Whatever arrived is kept, so a cut part resumes from where it stopped.
        s.uploads.keep_hasher(&digest, out.written, out.hasher);
        copied.map_err(|e| blob_error(trackway_blob::BlobError::Source(e)))?;
        Ok(out.file.metadata().map_err(io)?.len())
    });
    let (within, len) = tokio::join!(pump(body, tx, room), write);
    if !within {
        return Err(ApiError::Conflict(format!("the part runs past the blob's declared size ({room} bytes left)")));
    }
    len
}

/// Moves a complete staged file into the blob store if it hashes to its name (checked with the
/// hash kept while its parts arrived; the file is fsynced and moved, not read again).
async fn install(state: &AppState, digest: Digest, size: u64) -> ApiResult<()> {
    state
        .blocking(move |s| {
            let path = s.uploads.staged(&digest);
            let io = |e: std::io::Error| ApiError::internal(format!("{}: {e}", path.display()));
            let actual = hex::encode(s.uploads.hasher_at(&digest, size).map_err(io)?.finalize());
            if actual != digest.as_str() {
                let _ = fs::remove_file(&path);
                return Err(ApiError::BadRequest(format!(
                    "the uploaded bytes hash to {actual}, not {digest}; upload them again"
                )));
            }
            File::open(&path).and_then(|f| f.sync_all()).map_err(io)?;
            s.blobs.put_file(&path, &digest).map_err(blob_error)?;
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
            open_blob(s, &digest)
        })
        .await?;
    Ok(blob_response(&sha, size, reader))
}

/// A stored blob's size and a reader of it (`not_found` when the store lacks it).
pub(crate) fn open_blob(s: &AppState, digest: &Digest) -> ApiResult<(u64, Box<dyn std::io::Read + Send>)> {
    let size = s.blobs.size(digest).map_err(blob_error)?.ok_or_else(|| ApiError::NotFound(format!("blob {digest}")))?;
    Ok((size, s.blobs.open(digest).map_err(blob_error)?))
}

/// A blob's bytes streamed, with its length and its SHA-256 as the ETag.
pub(crate) fn blob_response(sha: &str, size: u64, reader: Box<dyn std::io::Read + Send>) -> Response {
    let headers = [
        (CONTENT_TYPE, "application/octet-stream".to_owned()),
        (CONTENT_LENGTH, size.to_string()),
        (ETAG, format!("\"{sha}\"")),
    ];
    (headers, stream_reader(reader)).into_response()
}
