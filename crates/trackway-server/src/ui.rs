//! The web UI: `web/dist` embedded with rust-embed (read from disk in debug builds). Unknown
//! non-API paths get `index.html` so the single-page app can route them; a build without the
//! UI (only `web/dist/.gitkeep`, no Node) serves a small built-in page instead.

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/dist/"]
struct Assets;

const FALLBACK_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trackway</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Trackway server</h1>
<p>The server is running. This build does not include the web UI
(build it with <code>make web</code>, which writes <code>web/dist</code>, then rebuild the server).</p>
<p>API: <code>/api/v1/health</code>, description at <code>/api/v1/openapi.json</code> (needs an API key).</p>
</body></html>"#;

fn asset(path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // Vite puts content hashes in asset names, so those can be cached forever; index.html not.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    Some(
        (
            [(CONTENT_TYPE, mime.as_ref().to_owned()), (CACHE_CONTROL, cache.to_owned())],
            Body::from(file.data.into_owned()),
        )
            .into_response(),
    )
}

pub(crate) async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return ApiError::NotFound("no such API route".into()).into_response();
    }
    if let Some(resp) = asset(if path.is_empty() { "index.html" } else { path }) {
        return resp;
    }
    if let Some(resp) = asset("index.html") {
        return resp;
    }
    (StatusCode::OK, [(CONTENT_TYPE, "text/html; charset=utf-8")], FALLBACK_PAGE).into_response()
}
