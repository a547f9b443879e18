//! The `/api/v1` routes (docs/api.md), grouped by resource.

mod files;
mod history;
mod ingest;
mod media;
mod meta;
mod output;
mod runs;
mod tables;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::{ApiError, AppState, auth};

pub use ingest::MAX_SKIPPED_BYTES;

/// Whether the request body arrived compressed (`Content-Encoding`), noted before the
/// decompression layer removes the header: a compressed run-file upload must declare its size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireEncoded(pub bool);

pub(crate) async fn note_wire_encoding(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let encoded = req
        .headers()
        .get(axum::http::header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    req.extensions_mut().insert(WireEncoded(encoded));
    next.run(req).await
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let authed = Router::new()
        .route("/api/v1/openapi.json", get(meta::openapi))
        .route("/api/v1/viewer", get(meta::viewer))
        .route("/api/v1/entities", get(meta::entities))
        .route("/api/v1/projects", get(meta::projects))
        .route("/api/v1/projects/{entity}/{project}/runs", get(runs::list))
        .route("/api/v1/projects/{entity}/{project}/keys", get(runs::keys))
        .route("/api/v1/projects/{entity}/{project}/groups", get(runs::groups))
        .route("/api/v1/runs", post(runs::create))
        .route("/api/v1/runs/{entity}/{project}/{run_id}", get(runs::get_one).patch(runs::patch))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/history", get(history::rows))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/history/export", get(history::export))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/history/keys", get(history::keys))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/files", get(files::list))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/files/{*path}", get(files::download).put(files::upload))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/output", get(output::lines))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/media", get(media::values))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/media/keys", get(media::keys))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/tables", get(tables::table))
        .route("/api/v1/runs/{entity}/{project}/{run_id}/histograms", get(tables::histograms))
        .route("/api/v1/media/query", post(media::query))
        .route("/api/v1/charts/query", post(history::charts))
        .route("/api/v1/ingest", post(ingest::ingest))
        .route_layer(from_fn_with_state(state, auth::require_key));
    Router::new()
        .route("/api/v1/health", get(meta::health))
        .merge(authed)
        .route("/api/v1/{*rest}", axum::routing::any(unknown_route))
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such API route (see GET /api/v1/openapi.json)".into())
}
