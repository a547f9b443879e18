//! The accept loop: HTTP/1.1 connections with the timeouts and the connection cap of
//! [`Limits`] (axum's own `serve` has none, so a client that never finishes its headers or body
//! would hold its connection forever).
//!
//! - Request heads: hyper's `header_read_timeout`, which also runs while a keep-alive connection
//!   waits for its next request, so idle connections are closed after the same time.
//! - Request bodies: `RequestBodyTimeoutLayer` in [`crate::app`] fails a body that sends nothing
//!   for `body_read_timeout`; the request is answered `408` and the connection closed.
//! - At most `max_connections` are served at once; the next `accept` waits for a free slot, so
//!   excess clients queue in the kernel's listen backlog instead of costing memory here.

use std::future::Future;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::{AppState, Limits};

/// Serves `state` on `listener` until `shutdown` resolves; requests already in flight are
/// finished before it returns.
///
/// # Errors
/// When accepting connections fails for a reason other than running out of descriptors.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let expiry = tokio::spawn(expire_artifacts_every(state.clone(), limits.artifact_expiry_interval));
    let app = crate::app(state);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = slots.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends pass; back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop_rx.clone();
        let builder = connection_builder(&limits);
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    // Every connection holds a slot: when all slots are back, every connection has ended.
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    expiry.abort();
    Ok(())
}

/// Deletes expired artifact versions (and frees their blobs) once per `every`.
async fn expire_artifacts_every(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match crate::routes::artifacts::expire_artifacts(&state).await {
            Ok(0) => {}
            Ok(freed) => tracing::info!(blobs_freed = freed, "expired artifact versions deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired artifact versions failed"),
        }
    }
}

fn connection_builder(limits: &Limits) -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    b
}
