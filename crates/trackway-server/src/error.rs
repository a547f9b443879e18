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
    #[error("{0}")]
    InvalidRecord(String),
    #[error("{0}")]
    InvalidFilter(String),
    /// A run-file path that fails `validate_rel_path` (absolute, `..`, `\\`, NUL, ...).
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    RunExists(String),
    #[error("batch starts at {from} but the server expects {expected}")]
    OffsetGap { expected: u64, from: u64 },
    #[error("request body is larger than the server's limit")]
    PayloadTooLarge,
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
            ApiError::InvalidRecord(_) => ("invalid_record", StatusCode::BAD_REQUEST),
            ApiError::InvalidFilter(_) => ("invalid_filter", StatusCode::BAD_REQUEST),
            ApiError::InvalidPath(_) => ("invalid_path", StatusCode::BAD_REQUEST),
            ApiError::RunExists(_) => ("run_exists", StatusCode::CONFLICT),
            ApiError::OffsetGap { .. } => ("offset_gap", StatusCode::CONFLICT),
            ApiError::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
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
            ApiError::InvalidRecord(none()),
            ApiError::InvalidFilter(none()),
            ApiError::InvalidPath(none()),
            ApiError::RunExists(none()),
            ApiError::OffsetGap { expected: 0, from: 0 },
            ApiError::PayloadTooLarge,
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
                | ApiError::InvalidRecord(_)
                | ApiError::InvalidFilter(_)
                | ApiError::InvalidPath(_)
                | ApiError::RunExists(_)
                | ApiError::OffsetGap { .. }
                | ApiError::PayloadTooLarge
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(what.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut body = json!({"error": {"code": code, "message": self.to_string()}});
        if let ApiError::OffsetGap { expected, .. } = &self {
            body["expected"] = json!(expected);
            body["error"]["expected"] = json!(expected);
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
            StoreError::AlreadyExists(what) => ApiError::BadRequest(format!("{what} already exists")),
            StoreError::InvalidFilter(m) => ApiError::InvalidFilter(format!("invalid filter: {m}")),
            StoreError::Invalid(m) => ApiError::BadRequest(m),
            StoreError::OffsetGap { expected, from } => ApiError::OffsetGap { expected, from },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<trackway_history::HistoryError> for ApiError {
    fn from(e: trackway_history::HistoryError) -> ApiError {
        match e {
            trackway_history::HistoryError::Invalid(m) => ApiError::BadRequest(m),
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
