//! Request extraction with the API's error shape: too large -> 413 `payload_too_large`, a body
//! that stalls past the body-read timeout -> 408 `request_timeout`, undecodable or invalid JSON
//! -> 400 `bad_request`; path and query-string errors -> 400 `bad_request` ([`Path`], [`Query`])
//! instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON request body (possibly sent with `Content-Encoding: zstd` or `gzip`).
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A request body not yet parsed, for handlers that parse it borrowing from the bytes (and
/// off the async runtime); [`parse_json`] gives the same errors as [`JsonBody`].
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    /// Collects the body frame by frame into one buffer that grows in place (collecting the
    /// frames first and then copying them would hold the body twice), within
    /// `DefaultBodyLimit`.
    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        use axum::RequestExt;
        use tokio_stream::StreamExt;
        let hint = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .unwrap_or(0)
            .min(1 << 20);
        let mut stream = req.into_limited_body().into_data_stream();
        let mut buf = Vec::with_capacity(hint);
        while let Some(frame) = stream.next().await {
            let chunk = frame.map_err(|e| body_error(&e))?;
            buf.extend_from_slice(&chunk);
        }
        Ok(RawBody(Bytes::from(buf)))
    }
}

/// A body that could not be read: over the limit (413), stalled (408) or broken (400).
fn body_error(e: &axum::Error) -> ApiError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return ApiError::PayloadTooLarge;
        }
        cur = err.source();
    }
    if is_body_timeout(e) {
        return ApiError::RequestTimeout;
    }
    ApiError::BadRequest(format!("cannot read request body: {e}"))
}

/// Parses a JSON body (possibly borrowing from it) with the API's error shape.
pub(crate) fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Whether a body error is the body-read timeout of `RequestBodyTimeoutLayer`.
pub(crate) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Path parameters; a malformed one is `400 bad_request` in the API's error shape.
pub(crate) struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::BadRequest(format!("invalid path parameter: {}", e.body_text())))
    }
}

/// A query string; a malformed one is `400 bad_request` in the API's error shape.
pub(crate) struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text())))
    }
}

/// A history or media page's cursor (`^[0-9]{0,19}$`, as the OpenAPI document states): the
/// last step or line of the previous page; empty or absent is the first page. Exactly what the
/// pattern admits reads (19 digits always fit a u64), so a `+`, spaces or 20 digits are refused.
pub(crate) fn step_cursor(c: Option<&str>) -> Result<Option<u64>, ApiError> {
    match c.filter(|c| !c.is_empty()) {
        Some(c) if c.len() <= 19 && c.bytes().all(|b| b.is_ascii_digit()) => {
            c.parse::<u64>().map(Some).map_err(|_| ApiError::BadRequest("invalid cursor".into()))
        }
        Some(_) => Err(ApiError::BadRequest("invalid cursor: expected up to 19 digits".into())),
        None => Ok(None),
    }
}
