//! Run files (docs/capture.md section 7): `PUT`/`GET .../files/{*path}` and `GET .../files`.
//!
//! Bytes stream into and out of the blob store (never whole files in memory); the metadata
//! store keeps `(run, path, version) -> sha256`. Every path goes through
//! `trackway_types::validate_rel_path`, the check the agent applies to `file` records, so the
//! two sides accept exactly the same paths.

use std::io::{Read, Write};

use crate::extract::Query;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use trackway_blob::{BlobError, Digest};
use trackway_store::{Principal, RunKey};

use super::WireEncoded;
use crate::auth::{check_access, check_read};
use crate::{ApiError, ApiResult, AppState};

/// The file whose upload sets `Run.metadata` (written by the agent's capture).
/// Run files whose top-level keys are merged into `Run.metadata`: Trackway's own, and the one
/// the wandb SDK uploads (docs/wandb-server.md), so a run looks the same whichever client logged it.
const METADATA_FILES: [&str; 2] = ["trackway-metadata.json", "wandb-metadata.json"];
/// Largest metadata document that is merged into the run row.
const MAX_METADATA_BYTES: u64 = 1 << 20;

pub(super) type FilePath = Result<Path<(String, String, String, String)>, PathRejection>;

/// The run key and the validated run-relative path of a file route.
pub(super) fn file_target(path: FilePath) -> ApiResult<(RunKey, String)> {
    let Path((entity, project, run_id, raw)) =
        path.map_err(|e| ApiError::InvalidPath(format!("invalid file path in the URL: {e}")))?;
    let rel = trackway_types::validate_rel_path(&raw).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
    Ok((RunKey { entity, project, run_id }, rel))
}

/// Feeds a request body, chunk by chunk, to blocking code that reads it.
pub(super) struct ChannelReader {
    pub(super) rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    pub(super) current: Bytes,
}

impl ChannelReader {
    /// Writes what is left of the body into `out` one whole chunk at a time (as hyper read it),
    /// not in `std::io::copy`'s 8 KiB pieces: fewer write calls per byte for large uploads.
    pub(super) fn copy_chunks(&mut self, out: &mut dyn Write) -> std::io::Result<u64> {
        let mut total = 0u64;
        loop {
            if self.current.is_empty() {
                match self.rx.blocking_recv() {
                    Some(Ok(chunk)) => self.current = chunk,
                    Some(Err(e)) => return Err(e),
                    None => return Ok(total),
                }
            }
            out.write_all(&self.current)?;
            total += self.current.len() as u64;
            self.current = Bytes::new();
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Forwards the body to `tx`; returns false when it was larger than `limit` (counted after
/// decompression, so a small compressed body cannot expand past it).
pub(super) async fn pump(body: Body, tx: mpsc::Sender<Result<Bytes, std::io::Error>>, limit: u64) -> bool {
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let item = match chunk {
            Ok(bytes) => {
                total += bytes.len() as u64;
                if total > limit {
                    let _ = tx.send(Err(std::io::Error::other("file too large"))).await;
                    return false;
                }
                Ok(bytes)
            }
            // A stalled body (the body-read timeout) is told apart: it answers 408.
            Err(e) if crate::extract::is_body_timeout(&e) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, e)),
            Err(e) => Err(std::io::Error::other(format!("request body: {e}"))),
        };
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            break;
        }
    }
    true
}

/// `X-Content-SHA256`, when sent: 64 hex characters (compared in lowercase).
fn expected_digest(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("x-content-sha256") else { return Ok(None) };
    let text = v.to_str().unwrap_or("").trim().to_ascii_lowercase();
    text.parse::<Digest>()
        .map(|_| Some(text))
        .map_err(|_| ApiError::BadRequest("X-Content-SHA256 must be 64 hexadecimal characters".into()))
}

/// The decoded size the client declares: `X-Content-Length`, else `Content-Length` of a body
/// sent as it is. A compressed body must declare it, so that it cannot expand past it.
fn declared_size(headers: &HeaderMap, encoded: bool) -> ApiResult<Option<u64>> {
    let parse = |name: &str| -> ApiResult<Option<u64>> {
        headers
            .get(name)
            .map(|v| v.to_str().ok().and_then(|t| t.trim().parse::<u64>().ok()))
            .map(|n| n.ok_or_else(|| ApiError::BadRequest(format!("{name} must be a byte count"))))
            .transpose()
    };
    match (parse("x-content-length")?, encoded) {
        (Some(n), _) => Ok(Some(n)),
        (None, false) => parse(CONTENT_LENGTH.as_str()),
        (None, true) => Err(ApiError::BadRequest(
            "a compressed upload must declare its decompressed size in X-Content-Length".into(),
        )),
    }
}

/// How many decoded bytes this upload may store: its declared size, the per-file limit and
/// what is left of the project's quota, whichever is least. Refuses at once (413) when the
/// declared size is already over.
async fn upload_allowance(state: &AppState, key: &RunKey, declared: Option<u64>) -> ApiResult<u64> {
    let lookup = key.clone();
    // The run must exist before any byte is stored.
    let used = state
        .blocking(move |s| {
            s.store.get_run(&lookup)?;
            Ok(s.store.project_file_bytes(&lookup)?)
        })
        .await?;
    let limits = &state.limits;
    let left = limits.project_quota_bytes.saturating_sub(used);
    let allowed = limits.max_file_bytes.min(left);
    match declared {
        Some(n) if n > limits.max_file_bytes => Err(ApiError::FileTooLarge(format!(
            "the file is {n} bytes; the server takes files of at most {} bytes",
            limits.max_file_bytes
        ))),
        Some(n) if n > left => Err(quota_error(limits.project_quota_bytes, used)),
        Some(n) => Ok(n),
        None => Ok(allowed),
    }
}

fn quota_error(quota: u64, used: u64) -> ApiError {
    ApiError::FileTooLarge(format!("the project's files would exceed its quota of {quota} bytes ({used} used)"))
}

/// Removes the blobs the metadata store reported as referenced by nothing any more (a deleted
/// run's files, a deleted artifact version's entries), once their rows are gone. The request
/// has already succeeded, so a blob that cannot be removed is logged and left as garbage.
/// Returns how many blobs were removed.
pub(crate) fn free_blobs(state: &AppState, digests: &[String]) -> u64 {
    let mut freed = 0;
    for sha in digests {
        let Ok(d) = sha.parse::<trackway_blob::Digest>() else { continue };
        match state.blobs.delete(&d) {
            Ok(removed) => freed += u64::from(removed),
            Err(e) => tracing::warn!(blob = %sha, error = %e, "an unreferenced blob could not be removed"),
        }
    }
    freed
}

pub(super) fn blob_error(e: BlobError) -> ApiError {
    match e {
        BlobError::Source(e) if e.kind() == std::io::ErrorKind::TimedOut => ApiError::RequestTimeout,
        BlobError::Source(e) => ApiError::BadRequest(format!("upload interrupted: {e}")),
        BlobError::Io { source, .. } if crate::error::io_is_disk_full(&source) => ApiError::InsufficientStorage,
        other => ApiError::internal(other),
    }
}

#[utoipa::path(put, path = "/api/v1/runs/{entity}/{project}/{run_id}/files/{*path}", operation_id = "uploadRunFile", tag = "files",
    params(crate::openapi::FilePath,
        ("X-Content-SHA256" = Option<String>, Header, description = "SHA-256 of the content (64 hex characters), checked before it is recorded")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "The stored version", body = crate::openapi::FileUpload)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    path: FilePath,
    headers: HeaderMap,
    encoded: Option<Extension<WireEncoded>>,
    body: Body,
) -> ApiResult<Json<Json_>> {
    let (key, rel) = file_target(path)?;
    check_access(&who, &key.entity, true)?;
    let encoded = encoded.is_some_and(|Extension(WireEncoded(e))| e);
    store_upload(&state, key, rel, &headers, encoded, body).await.map(Json)
}

/// Streams one upload of run file `rel` into the blob store and records it (also the target of
/// the wandb upload URLs, `routes::wandb`).
pub(crate) async fn store_upload(
    state: &AppState,
    key: RunKey,
    rel: String,
    headers: &HeaderMap,
    encoded: bool,
    body: Body,
) -> ApiResult<Json_> {
    let expected = expected_digest(headers)?;
    let declared = declared_size(headers, encoded)?;
    let allowed = upload_allowance(state, &key, declared).await?;
    let (tx, rx) = mpsc::channel(8);
    let store_bytes = state.blocking(move |s| {
        let mut reader = ChannelReader { rx, current: Bytes::new() };
        s.blobs.put_reader(&mut reader).map_err(blob_error)
    });
    let (within_limit, stored) = tokio::join!(pump(body, tx, allowed), store_bytes);
    if !within_limit {
        return Err(ApiError::FileTooLarge(format!("the upload is larger than the {allowed} bytes it may store")));
    }
    let put = stored?;
    if declared.is_some_and(|n| n != put.size) {
        return Err(ApiError::ContentMismatch(format!(
            "the upload holds {} bytes, not the {} declared",
            put.size,
            declared.unwrap_or(0)
        )));
    }
    let sha = put.digest.as_str().to_owned();
    if let Some(want) = expected.filter(|w| *w != sha) {
        return Err(ApiError::ContentMismatch(format!("content hashes to {sha}, not the X-Content-SHA256 {want}")));
    }
    let out = state
        .blocking(move |s| {
            let out = s.store.put_run_file(&key, &rel, &sha, put.size)?;
            if out.created && METADATA_FILES.contains(&rel.as_str()) {
                merge_metadata_file(s, &key, &put.digest, put.size);
            }
            Ok(out)
        })
        .await?;
    let f = &out.file;
    Ok(json!({"path": f.path, "sha256": f.sha256, "size": f.size, "version": f.version,
              "created": out.created, "created_at": f.created_at}))
}

/// Sets `Run.metadata` from an uploaded metadata file ([`METADATA_FILES`], top-level keys). A document
/// that is not a JSON object is kept as a file only; that is logged, not refused, because the
/// upload itself succeeded.
fn merge_metadata_file(s: &AppState, key: &RunKey, digest: &Digest, size: u64) {
    if size > MAX_METADATA_BYTES {
        tracing::warn!(run = %key, size, "the metadata file is too large to merge into the run");
        return;
    }
    let parsed = s
        .blobs
        .get(digest)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice::<Map<String, Json_>>(&b).map_err(|e| e.to_string()));
    let result = parsed.and_then(|doc| s.store.merge_metadata(key, &doc).map(|_| ()).map_err(|e| e.to_string()));
    if let Err(error) = result {
        tracing::warn!(run = %key, %error, "cannot merge the metadata file into the run's metadata");
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Every version of every path instead of the latest of each.
    all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/files", operation_id = "listRunFiles", tag = "files",
    params(crate::openapi::RunPath, ListQuery),
    responses((status = 200, description = "The run's files", body = crate::openapi::FileList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Json_>> {
    check_read(&state, &who, &entity, &project).await?;
    let key = RunKey { entity, project, run_id };
    let all = q.all.unwrap_or(false);
    state
        .blocking(move |s| {
            let files: Vec<Json_> = if all {
                s.store.list_run_file_versions(&key)?.iter().map(|f| json!(f)).collect()
            } else {
                s.store
                    .list_run_files(&key)?
                    .iter()
                    .map(|e| {
                        let f = &e.latest;
                        json!({"path": f.path, "size": f.size, "sha256": f.sha256, "version": f.version,
                               "versions": e.versions, "updated_at": f.created_at})
                    })
                    .collect()
            };
            Ok(Json(json!({"files": files})))
        })
        .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DownloadQuery {
    /// A version number (default: the latest).
    version: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/files/{*path}", operation_id = "downloadRunFile", tag = "files",
    params(crate::openapi::FilePath, DownloadQuery),
    responses((status = 200, description = "The file's bytes (ETag: its SHA-256)", content_type = "application/octet-stream", body = Vec<u8>)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    path: FilePath,
    Query(q): Query<DownloadQuery>,
) -> ApiResult<Response> {
    let (key, rel) = file_target(path)?;
    check_read(&state, &who, &key.entity, &key.project).await?;
    let version = match q.version.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => {
            Some(v.parse::<u64>().map_err(|_| ApiError::BadRequest("version must be a positive integer".into()))?)
        }
        None => None,
    };
    let (file, reader) = state
        .blocking(move |s| {
            let file = s.store.get_run_file(&key, &rel, version)?;
            let digest: Digest = file.sha256.parse().map_err(ApiError::internal)?;
            let reader = s.blobs.open(&digest).map_err(ApiError::internal)?;
            Ok((file, reader))
        })
        .await?;
    let mime = mime_guess::from_path(&file.path).first_or_octet_stream();
    // Run files are anyone-with-write-access content (logged HTML among them): a browser that
    // ever renders one at the API's origin gets it sandboxed, scriptless and unsniffed.
    let headers = [
        (CONTENT_TYPE, mime.essence_str().to_owned()),
        (CONTENT_LENGTH, file.size.to_string()),
        (ETAG, format!("\"{}\"", file.sha256)),
        (CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_owned()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, stream_reader(reader)).into_response())
}

/// A response body read from a blocking reader in 64 KiB chunks.
pub(super) fn stream_reader(mut reader: Box<dyn Read + Send>) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; 64 * 1024];
            let item = match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
}
