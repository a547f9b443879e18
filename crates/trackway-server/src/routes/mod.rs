//! The `/api/v1` routes (docs/api.md), grouped by resource.
//!
//! Every API route is registered through `routes!` from its handler's `#[utoipa::path]`
//! attribute, which is also what the OpenAPI document is generated from (crate::openapi); its
//! test fails on a route registered any other way.

mod files;
mod history;
mod ingest;
mod media;
mod meta;
mod output;
mod runedit;
mod runs;
mod tables;
mod views;

use axum::Router;
use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState, auth};

pub use ingest::MAX_SKIPPED_BYTES;

/// Whether the request body arrived compressed (`Content-Encoding`), noted before the
/// decompression layer removes the header: a compressed run-file upload must declare its size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WireEncoded(pub bool);

pub(crate) async fn note_wire_encoding(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let encoded = req
        .headers()
        .get(axum::http::header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    req.extensions_mut().insert(WireEncoded(encoded));
    next.run(req).await
}

/// The routes that need an API key, each with its description.
fn authed() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(meta::openapi))
        .routes(routes!(meta::viewer))
        .routes(routes!(meta::entities))
        .routes(routes!(meta::projects))
        .routes(routes!(runs::list))
        .routes(routes!(runs::keys))
        .routes(routes!(runs::groups))
        .routes(routes!(runs::create))
        .routes(routes!(runs::get_one, runs::patch, runedit::delete))
        .routes(routes!(runedit::move_run))
        .routes(routes!(runedit::bulk))
        .routes(routes!(history::rows))
        .routes(routes!(history::export))
        .routes(routes!(history::keys))
        .routes(routes!(files::list))
        .routes(routes!(files::download, files::upload))
        .routes(routes!(output::lines))
        .routes(routes!(media::values))
        .routes(routes!(media::keys))
        .routes(routes!(tables::table))
        .routes(routes!(tables::histograms))
        .routes(routes!(media::query))
        .routes(routes!(history::charts))
        .routes(routes!(ingest::ingest))
        .routes(routes!(views::list, views::save))
        .routes(routes!(views::get_one, views::delete))
}

/// The routes open to anyone.
fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(meta::health))
}

/// Every documented route, for the OpenAPI document.
pub(crate) fn documented_all() -> OpenApiRouter<AppState> {
    public().merge(authed())
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let authed = Router::from(authed()).route_layer(from_fn_with_state(state, auth::require_key));
    Router::from(public()).merge(authed).route("/api/v1/{*rest}", axum::routing::any(unknown_route))
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such API route (see GET /api/v1/openapi.json)".into())
}
