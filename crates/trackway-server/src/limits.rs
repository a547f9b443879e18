//! Server-wide resource limits (docs/api.md "Limits"): how many ingests run at once, how long a
//! connection may dawdle, how large run files and a project's files may grow. `trackway server`
//! sets them from its flags; tests shorten them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{ApiError, AppState};

/// Resource limits of one server.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Ingest requests processed at once. Each holds at most about 3x its body (its bytes, the
    /// index of its records and one parsed slice at a time), so the server's ingest memory is
    /// bounded by `ingest_concurrency * 3 * body_limit`.
    pub ingest_concurrency: usize,
    /// How long an ingest waits for a free slot before it is answered `503 server_busy` with
    /// `Retry-After`. While it waits its body is not read, so TCP flow control holds the client
    /// back and the wait costs no memory here.
    pub ingest_queue_wait: Duration,
    /// Seconds sent in `Retry-After` when busy.
    pub retry_after_secs: u64,
    /// Largest run file, after decompression.
    pub max_file_bytes: u64,
    /// Most bytes of run files (every version) one project may hold.
    pub project_quota_bytes: u64,
    /// Time a client has to send a request's headers; a keep-alive connection that starts no
    /// new request within it is closed too (the idle timeout).
    pub header_read_timeout: Duration,
    /// Longest gap between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Open connections at most; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// How often artifact versions whose time to live has passed are deleted.
    pub artifact_expiry_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            ingest_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)),
            ingest_queue_wait: Duration::from_secs(30),
            retry_after_secs: 2,
            max_file_bytes: 16 << 30,
            project_quota_bytes: 1 << 40,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            max_connections: 4096,
            artifact_expiry_interval: Duration::from_secs(60),
        }
    }
}

/// The ingest slots of a server: a semaphore sized by [`Limits::ingest_concurrency`].
#[derive(Clone, Debug)]
pub struct IngestSlots(pub(crate) Arc<Semaphore>);

impl IngestSlots {
    #[must_use]
    pub fn new(n: usize) -> IngestSlots {
        IngestSlots(Arc::new(Semaphore::new(n.max(1))))
    }

    /// Takes a slot now, if one is free (tests use it to fill the server).
    #[must_use]
    pub fn try_take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// A held ingest slot. It is taken before the request body is read, so a busy server spends
/// neither memory nor CPU on a request it cannot serve yet.
/// It holds the `ingest_in_flight` gauge up while it lives.
pub(crate) struct IngestPermit(
    #[allow(dead_code)] OwnedSemaphorePermit,
    #[allow(dead_code)] crate::metrics::GaugeGuard,
);

impl<S> FromRequestParts<S> for IngestPermit
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let busy = ApiError::Busy { what: "too many ingests in flight", retry_after: state.limits.retry_after_secs };
        if let Some(p) = state.ingest_slots.try_take() {
            return Ok(IngestPermit(p, state.metrics.in_flight()));
        }
        let waiting = state.metrics.waiting();
        let wait = state.ingest_slots.0.clone().acquire_owned();
        let waited = tokio::time::timeout(state.limits.ingest_queue_wait, wait).await;
        drop(waiting);
        match waited {
            Ok(Ok(p)) => Ok(IngestPermit(p, state.metrics.in_flight())),
            _ => {
                tracing::warn!("ingest refused: every ingest slot is busy");
                Err(busy)
            }
        }
    }
}
