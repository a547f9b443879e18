//! The `/api/v1` routes (docs/api.md), grouped by resource.
//!
//! Every API route is registered through `routes!` from its handler's `#[utoipa::path]`
//! attribute, which is also what the OpenAPI document is generated from (crate::openapi); its
//! test fails on a route registered any other way.

mod artifact_blobs;
pub(crate) mod artifacts;
mod files;
mod history;
mod ingest;
mod media;
mod meta;
mod output;
mod reportdoc;
mod reports;
mod runedit;
mod runs;
mod session;
mod sweeps;
mod tables;
mod teams;
mod thumbnails;
mod users;
mod views;
pub(crate) mod wandb;
mod wandb_artifacts;

use axum::Router;
use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, AppState, auth};

pub use artifact_blobs::BlobUploads;
pub use ingest::MAX_SKIPPED_BYTES;
pub(crate) use reportdoc::ReportDoc;

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
        .routes(routes!(runedit::stop))
        .routes(routes!(runedit::bulk))
        .routes(routes!(history::rows))
        .routes(routes!(history::export))
        .routes(routes!(history::keys))
        .routes(routes!(files::list))
        .routes(routes!(files::download, files::upload))
        .routes(routes!(output::lines))
        .routes(routes!(media::values))
        .routes(routes!(media::keys))
        .routes(routes!(thumbnails::thumbnail))
        .routes(routes!(tables::table))
        .routes(routes!(tables::histograms))
        .routes(routes!(media::query))
        .routes(routes!(history::charts))
        .routes(routes!(ingest::ingest))
        .routes(routes!(views::list, views::save))
        .routes(routes!(views::get_one, views::delete))
        .routes(routes!(sweeps::create))
        .routes(routes!(sweeps::list))
        .routes(routes!(sweeps::get_one))
        .routes(routes!(sweeps::control))
        .routes(routes!(sweeps::claim))
        .routes(routes!(sweeps::heartbeat))
        .routes(routes!(wandb::graphql))
        .routes(routes!(wandb::file_stream))
        .routes(routes!(artifacts::log_from_run, artifacts::of_run))
        .routes(routes!(artifacts::use_version))
        .routes(routes!(artifacts::list, artifacts::put))
        .routes(routes!(artifacts::versions))
        .routes(routes!(artifacts::get_version, artifacts::patch_version, artifacts::delete_version))
        .routes(routes!(artifact_blobs::upload_state))
        .routes(routes!(artifact_blobs::upload_part, artifact_blobs::download))
        .merge(accounts())
        .merge(reports())
}

/// Reports: documents of text and live panels (docs/reports.md).
fn reports() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(reports::list, reports::create))
        .routes(routes!(reports::get_one, reports::save, reports::delete))
        .routes(routes!(reports::set_visibility))
        .routes(routes!(reports::versions))
        .routes(routes!(reports::version))
        .routes(routes!(reports::restore))
        .routes(routes!(reports::comments, reports::comment))
}

/// Users, teams, keys, invites, visibility and the audit log (docs/teams.md).
fn accounts() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(users::list_keys, users::create_key))
        .routes(routes!(users::revoke_key))
        .routes(routes!(users::set_password))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::update_user))
        .routes(routes!(users::create_user_key))
        .routes(routes!(users::audit_log))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::members))
        .routes(routes!(teams::set_member, teams::remove_member))
        .routes(routes!(teams::invites, teams::create_invite))
        .routes(routes!(teams::revoke_invite))
        .routes(routes!(teams::visibility, teams::set_visibility))
        .routes(routes!(teams::move_project))
}

/// The routes open to anyone.
fn public() -> OpenApiRouter<AppState> {
    // The wandb upload URLs carry their own signature instead of a key.
    OpenApiRouter::default()
        .routes(routes!(meta::health))
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::metrics))
        .routes(routes!(wandb::upload))
        .routes(routes!(wandb_artifacts::upload))
        .routes(routes!(wandb_artifacts::manifest))
        .routes(routes!(wandb_artifacts::file))
        .routes(routes!(session::config))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::signup))
        .routes(routes!(session::invite))
        .routes(routes!(session::accept))
        .routes(routes!(session::oidc_login))
        .routes(routes!(session::oidc_callback))
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
