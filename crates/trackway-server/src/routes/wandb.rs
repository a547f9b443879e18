//! wandb's wire protocol (docs/wandb-server.md), mounted next to `/api/v1`: `POST /graphql`,
//! the filestream and the signed upload URLs. The protocol itself (operations, record mapping)
//! is `trackway_wandb`; this module is the HTTP side: auth (the same keys, also as wandb's
//! `Basic api:<key>`), the blocking pool, the ingest slots and the run-file upload path that
//! `PUT .../files/{path}` uses.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value as Json_;
use trackway_store::{Principal, RunKey};
use trackway_types::limits::check_run_id;
use trackway_wandb::{WandbError, filestream, graphql};

use super::WireEncoded;
use crate::auth::{check_access, ensure_entity};
use crate::extract::{Query, RawBody, parse_json};
use crate::limits::IngestPermit;
use crate::{ApiError, ApiResult, AppState};

impl From<WandbError> for ApiError {
    fn from(e: WandbError) -> ApiError {
        match e {
            WandbError::BadRequest(m) => ApiError::BadRequest(m),
            WandbError::NotFound(m) => ApiError::NotFound(m),
            WandbError::Io(m) => ApiError::internal(m),
            WandbError::Store(s) => ApiError::from(s),
        }
    }
}

/// Whether `route` (a matched route template) is one of wandb's own protocol routes, whose
/// errors wandb-core reads in GraphQL's shape ([`ApiError::into_wandb_response`]).
pub(crate) fn is_protocol_route(route: &str) -> bool {
    route == "/graphql" || (route.starts_with("/files/") && route.ends_with("/file_stream"))
}

/// A JSON object body as `T` (serde would also build a struct from a JSON array).
fn parse_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let value: Json_ = parse_json(bytes)?;
    if !value.is_object() {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))
}

/// `http://host:port` as the SDK reached this server (or the configured public URL).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

#[utoipa::path(post, path = "/graphql", operation_id = "wandbGraphql", tag = "wandb",
    request_body = Object,
    responses((status = 200, description = "A GraphQL response (`data`, or `errors` for operations Trackway does not serve)", body = Object)))]
pub(crate) async fn graphql(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> ApiResult<Json<Json_>> {
    let base = base_url(&state, &headers);
    let answer = state
        .blocking(move |s| {
            let req: graphql::Request = parse_object(&bytes)?;
            let ensure = |entity: &str| -> trackway_wandb::Result<()> {
                check_access(&who, entity, true)
                    .and_then(|()| ensure_entity(s, &who, entity))
                    .map_err(|e| WandbError::BadRequest(e.to_string()))
            };
            let ctx = graphql::Ctx {
                store: &*s.store,
                history: &*s.history,
                artifacts: &*s.artifacts,
                blobs: &*s.blobs,
                drafts: &s.wandb_drafts,
                who: &who,
                base_url: &base,
                signer: &s.wandb_urls,
                ensure_writable: &ensure,
            };
            match graphql::execute(&ctx, &req) {
                // A refused request is a GraphQL error: the SDK shows its message.
                Err(WandbError::BadRequest(m) | WandbError::NotFound(m)) => Ok(graphql::error_answer(&m)),
                other => Ok(other?),
            }
        })
        .await?;
    Ok(Json(answer))
}

#[utoipa::path(post, path = "/files/{entity}/{project}/{run_id}/file_stream", operation_id = "wandbFileStream", tag = "wandb",
    params(crate::openapi::RunPath),
    request_body = Object,
    responses((status = 200, description = "The request is durable", body = Object)))]
pub(crate) async fn file_stream(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((entity, project, run_id)): Path<(String, String, String)>,
    _slot: IngestPermit,
    RawBody(bytes): RawBody,
) -> ApiResult<Json<Json_>> {
    check_run_id(&run_id).map_err(|e| ApiError::limit(&e))?;
    check_access(&who, &entity, true)?;
    let key = RunKey { entity, project, run_id };
    let answer = state
        .blocking(move |s| {
            let req: filestream::Request = parse_object(&bytes)?;
            // The SDK streams only runs it created with `UpsertBucket`: anything else is 404,
            // like the other run routes.
            let run = s.store.get_run(&key)?;
            let applied = filestream::apply(&*s.store, &key, &req)?;
            tracing::debug!(run = %key, records = applied.records, skipped = applied.skipped_lines, "wandb filestream");
            Ok(filestream::answer(&run))
        })
        .await?;
    Ok(Json(answer))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct Signature {
    /// Unix time after which the URL is refused.
    expires: u64,
    /// The server's signature of run, path and expiry.
    sig: String,
}

#[utoipa::path(put, path = "/wandb/upload/{entity}/{project}/{run_id}/{*path}", operation_id = "wandbUpload", tag = "wandb",
    security(()), params(crate::openapi::FilePath, Signature),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "The stored version", body = crate::openapi::FileUpload),
        (status = 403, description = "Error: forbidden (the signature is wrong for this run and path, or expired)", content_type = "application/json", body = Object)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    Path((entity, project, run_id, raw)): Path<(String, String, String, String)>,
    Query(sig): Query<Signature>,
    headers: HeaderMap,
    encoded: Option<Extension<WireEncoded>>,
    body: Body,
) -> ApiResult<Json<Json_>> {
    let key = RunKey { entity, project, run_id };
    // The URL is the credential (like a presigned object-store URL): the SDK sends no key here.
    if !state.wandb_urls.verify(&key, &raw, sig.expires, &sig.sig) {
        return Err(ApiError::Forbidden("the upload URL is invalid or has expired".into()));
    }
    let rel = trackway_types::validate_rel_path(&raw).map_err(|e| ApiError::InvalidPath(e.to_string()))?;
    let encoded = encoded.is_some_and(|Extension(WireEncoded(e))| e);
    super::files::store_upload(&state, key, rel, &headers, encoded, body).await.map(Json)
}
