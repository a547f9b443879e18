//! API errors: one JSON shape, a stable `code` per kind (docs/api.md "Errors"), and internals
//! that never reach the client (they are logged with `tracing` instead).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use trackway_store::StoreError;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    RunNotFound(String),
    #[error("{0}")]
    ProjectNotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// One record of an ingest batch is refused; `position` is its log position, so the agent
    /// can skip exactly that record and resend the rest.
    #[error("record at position {position}: {message}")]
    InvalidRecord { position: u64, message: String },
    #[error("{0}")]
    InvalidFilter(String),
    /// A run-file path that fails `validate_rel_path` (absolute, `..`, `\\`, NUL, ...).
    #[error("{0}")]
    InvalidPath(String),
    /// A run id, project or entity name that breaks the naming rule (`trackway_types::limits`).
    #[error("{0}")]
    InvalidName(String),
    /// A value over one of the size limits of `trackway_types::limits` (docs/api.md "Limits").
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    RunExists(String),
    /// A sweep config trackway-sweep refuses: the offending path and what is accepted there.
    #[error("invalid sweep config at {path}: {message}")]
    InvalidSweepConfig { path: String, message: String },
    /// The request contradicts what the server holds: a name that is taken, an artifact's type,
    /// a blob's size.
    #[error("{0}")]
    Conflict(String),
    /// An upload whose bytes do not match what the same request declared about them
    /// (`X-Content-SHA256`, `X-Content-Length`): 409, the body conflicting with its own
    /// description (as `offset_gap` is a batch conflicting with the server's position), not a
    /// malformed request; nothing was recorded.
    #[error("{0}")]
    ContentMismatch(String),
    #[error("batch starts at {from} but the server expects {expected}")]
    OffsetGap { expected: u64, from: u64 },
    #[error("request body is larger than the server's limit")]
    PayloadTooLarge,
    /// The request body stalled for longer than the body-read timeout.
    #[error("the request body stopped arriving; the connection is closed")]
    RequestTimeout,
    /// A run file over the per-file limit, its declared size, or the project's quota.
    #[error("{0}")]
    FileTooLarge(String),
    /// Too many requests of this kind are in flight; retry after `retry_after` seconds.
    #[error("the server is busy ({what}); retry in {retry_after} s")]
    Busy { what: &'static str, retry_after: u64 },
    /// A dependency of this replica (the database, the blob store) does not answer: the
    /// readiness probe's failure, naming it.
    #[error("not ready: {0}")]
    NotReady(String),
    /// The data directory's disk is full: nothing was stored.
    #[error("the server's disk is full; nothing was stored (free space on the server and retry)")]
    InsufficientStorage,
    /// A wrong user name or password, or an account that cannot sign in that way.
    #[error("{0}")]
    InvalidCredentials(String),
    /// A cookie-authenticated change without the session's `X-CSRF-Token` header.
    #[error("missing or wrong X-CSRF-Token header for a cookie-authenticated change")]
    CsrfFailed,
    /// An OpenID Connect sign-in that failed (state, token exchange, ID-token validation).
    #[error("{0}")]
    SsoFailed(String),
    /// Anything the client cannot act on; the message is only logged.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The stable code and HTTP status of this error.
    #[must_use]
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        match self {
            ApiError::Unauthorized(_) => ("unauthorized", StatusCode::UNAUTHORIZED),
            ApiError::Forbidden(_) => ("forbidden", StatusCode::FORBIDDEN),
            ApiError::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
            ApiError::RunNotFound(_) => ("run_not_found", StatusCode::NOT_FOUND),
            ApiError::ProjectNotFound(_) => ("project_not_found", StatusCode::NOT_FOUND),
            ApiError::BadRequest(_) => ("bad_request", StatusCode::BAD_REQUEST),
            ApiError::InvalidRecord { .. } => ("invalid_record", StatusCode::BAD_REQUEST),
            ApiError::InvalidFilter(_) => ("invalid_filter", StatusCode::BAD_REQUEST),
            ApiError::InvalidPath(_) => ("invalid_path", StatusCode::BAD_REQUEST),
            ApiError::InvalidName(_) => ("invalid_name", StatusCode::BAD_REQUEST),
            ApiError::LimitExceeded(_) => ("limit_exceeded", StatusCode::BAD_REQUEST),
            ApiError::RunExists(_) => ("run_exists", StatusCode::CONFLICT),
            ApiError::InvalidSweepConfig { .. } => ("invalid_sweep_config", StatusCode::BAD_REQUEST),
            ApiError::Conflict(_) => ("conflict", StatusCode::CONFLICT),
            ApiError::ContentMismatch(_) => ("content_mismatch", StatusCode::CONFLICT),
            ApiError::OffsetGap { .. } => ("offset_gap", StatusCode::CONFLICT),
            ApiError::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::RequestTimeout => ("request_timeout", StatusCode::REQUEST_TIMEOUT),
            ApiError::FileTooLarge(_) => ("file_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::Busy { .. } => ("server_busy", StatusCode::SERVICE_UNAVAILABLE),
            ApiError::NotReady(_) => ("not_ready", StatusCode::SERVICE_UNAVAILABLE),
            ApiError::InsufficientStorage => ("insufficient_storage", StatusCode::INSUFFICIENT_STORAGE),
            ApiError::InvalidCredentials(_) => ("invalid_credentials", StatusCode::UNAUTHORIZED),
            ApiError::CsrfFailed => ("csrf_failed", StatusCode::FORBIDDEN),
            ApiError::SsoFailed(_) => ("sso_failed", StatusCode::BAD_REQUEST),
            ApiError::Internal(_) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// One error of every kind: the registry the OpenAPI document takes its codes and statuses
    /// from (crate::openapi).
    #[must_use]
    pub fn registry() -> Vec<ApiError> {
        let none = String::new;
        let all = vec![
            ApiError::Unauthorized(none()),
            ApiError::Forbidden(none()),
            ApiError::NotFound(none()),
            ApiError::RunNotFound(none()),
            ApiError::ProjectNotFound(none()),
            ApiError::BadRequest(none()),
            ApiError::InvalidRecord { position: 0, message: none() },
            ApiError::InvalidFilter(none()),
            ApiError::InvalidPath(none()),
            ApiError::InvalidName(none()),
            ApiError::LimitExceeded(none()),
            ApiError::RunExists(none()),
            ApiError::InvalidSweepConfig { path: none(), message: none() },
            ApiError::Conflict(none()),
            ApiError::ContentMismatch(none()),
            ApiError::OffsetGap { expected: 0, from: 0 },
            ApiError::PayloadTooLarge,
            ApiError::RequestTimeout,
            ApiError::FileTooLarge(none()),
            ApiError::Busy { what: "", retry_after: 0 },
            ApiError::NotReady(none()),
            ApiError::InsufficientStorage,
            ApiError::InvalidCredentials(none()),
            ApiError::CsrfFailed,
            ApiError::SsoFailed(none()),
            ApiError::Internal(none()),
        ];
        // No wildcard: a new kind does not compile until it is listed above as well.
        for e in &all {
            match e {
                ApiError::Unauthorized(_)
                | ApiError::Forbidden(_)
                | ApiError::NotFound(_)
                | ApiError::RunNotFound(_)
                | ApiError::ProjectNotFound(_)
                | ApiError::BadRequest(_)
                | ApiError::InvalidRecord { .. }
                | ApiError::InvalidFilter(_)
                | ApiError::InvalidPath(_)
                | ApiError::InvalidName(_)
                | ApiError::LimitExceeded(_)
                | ApiError::RunExists(_)
                | ApiError::InvalidSweepConfig { .. }
                | ApiError::Conflict(_)
                | ApiError::ContentMismatch(_)
                | ApiError::OffsetGap { .. }
                | ApiError::PayloadTooLarge
                | ApiError::RequestTimeout
                | ApiError::FileTooLarge(_)
                | ApiError::Busy { .. }
                | ApiError::NotReady(_)
                | ApiError::InsufficientStorage
                | ApiError::InvalidCredentials(_)
                | ApiError::CsrfFailed
                | ApiError::SsoFailed(_)
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(what.to_string())
    }

    /// A refused id or name, or a value over a size limit.
    #[must_use]
    pub fn limit(e: &trackway_types::limits::LimitError) -> ApiError {
        if e.is_name() { ApiError::InvalidName(e.to_string()) } else { ApiError::LimitExceeded(e.to_string()) }
    }
}

/// SQLite's "database or disk is full" (`SQLITE_FULL`), however deep it is wrapped.
fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

/// `ENOSPC` (or a quota) from the file system.
pub(crate) fn io_is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.respond(false)
    }
}

impl ApiError {
    /// The answer on wandb's protocol routes (`/graphql`, the filestream): the same body plus
    /// GraphQL's `errors: [{"message"}]`, which is where wandb-core reads a refused request's
    /// message (without it the user sees `CommError: <no message>`, e.g. for a wrong key).
    #[must_use]
    pub fn into_wandb_response(self) -> Response {
        self.respond(true)
    }

    fn respond(self, graphql_errors: bool) -> Response {
        let (code, status) = self.code_and_status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut body = json!({"error": {"code": code, "message": self.to_string()}});
        if graphql_errors {
            body["errors"] = json!([{"message": self.to_string()}]);
        }
        match &self {
            ApiError::OffsetGap { expected, .. } => {
                body["expected"] = json!(expected);
                body["error"]["expected"] = json!(expected);
            }
            ApiError::InvalidRecord { position, .. } => body["error"]["position"] = json!(position),
            ApiError::InvalidSweepConfig { path, .. } => body["error"]["path"] = json!(path),
            ApiError::Busy { retry_after, .. } => {
                body["error"]["retry_after"] = json!(retry_after);
                let mut resp = (status, Json(body)).into_response();
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, (*retry_after).into());
                return resp;
            }
            _ => {}
        }
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::RunNotFound(r) => ApiError::RunNotFound(format!("run {r} does not exist")),
            StoreError::RunExists(r) => ApiError::RunExists(format!("run {r} already exists")),
            StoreError::ProjectNotFound(p) => ApiError::ProjectNotFound(format!("project {p} does not exist")),
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} does not exist")),
            StoreError::AlreadyExists(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::InvalidFilter(m) => ApiError::InvalidFilter(format!("invalid filter: {m}")),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            StoreError::Limit(m) => ApiError::LimitExceeded(m),
            StoreError::OffsetGap { expected, from } => ApiError::OffsetGap { expected, from },
            StoreError::Sqlite(e) if is_disk_full(&e) => ApiError::InsufficientStorage,
            // The history rows of an ingest: the history engine's own rule decides.
            StoreError::History(h) => ApiError::from(h),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<trackway_history::HistoryError> for ApiError {
    fn from(e: trackway_history::HistoryError) -> ApiError {
        match e {
            trackway_history::HistoryError::Invalid(m) => ApiError::BadRequest(m),
            trackway_history::HistoryError::Sqlite(e) if is_disk_full(&e) => ApiError::InsufficientStorage,
            trackway_history::HistoryError::Io(e) if io_is_disk_full(&e) => ApiError::InsufficientStorage,
            other => ApiError::Internal(format!("history store: {other}")),
        }
    }
}

/// A blocking task that panicked or was cancelled.
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("blocking task failed: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use trackway_history::HistoryError;

    fn status(e: impl Into<ApiError>) -> (&'static str, StatusCode) {
        e.into().code_and_status()
    }

    #[test]
    fn a_full_disk_is_507_not_a_bare_500() {
        let full = || {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                Some("database or disk is full".into()),
            )
        };
        let want = ("insufficient_storage", StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(status(StoreError::Sqlite(full())), want);
        assert_eq!(status(StoreError::History(HistoryError::Sqlite(full()))), want);
        assert_eq!(status(HistoryError::Sqlite(full())), want);
        assert_eq!(status(HistoryError::Io(std::io::Error::from_raw_os_error(28))), want);
        let body = ApiError::InsufficientStorage.to_string();
        assert!(body.contains("disk is full"), "{body}");
    }

    #[test]
    fn only_caller_mistakes_are_4xx() {
        assert_eq!(status(HistoryError::Invalid("step 1 is above 2^63-1".into())).1, StatusCode::BAD_REQUEST);
        assert_eq!(status(HistoryError::Internal("writer poisoned".into())).1, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status(StoreError::Limit("a run holds at most 10000 file paths".into())).0, "limit_exceeded");
        let other = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), None);
        assert_eq!(status(StoreError::Sqlite(other)).1, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
