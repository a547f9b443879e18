//! Server-side thumbnails of image run files (docs/media-api.md "Thumbnails"): an image panel of
//! many runs asks for small images instead of downloading every full-size file.
//!
//! A thumbnail is a pure function of the file's content and the requested size, so it is
//! computed on demand and kept in a bounded in-memory cache keyed by (sha256, size) — nothing is
//! stored, and any replica answers the same bytes. Browsers cache it by its ETag.

use std::io::{Cursor, Read};
use std::sync::LazyLock;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, body::Bytes};
use image::{ImageFormat, ImageReader, Limits};
use serde::Deserialize;
use trackway_blob::Digest;
use trackway_store::Principal;

use super::files::{FilePath, file_target};
use crate::auth::check_read;
use crate::extract::Query;
use crate::{ApiError, ApiResult, AppState};

/// Sizes (the longer side, px) a thumbnail is snapped up to, so the cache holds few variants.
const SIZES: [u32; 5] = [64, 128, 256, 512, 1024];
const DEFAULT_SIZE: u32 = 256;
/// Largest source file the server decodes (bigger ones are refused with `limit_exceeded`).
pub(crate) const MAX_SOURCE_BYTES: u64 = 64 << 20;
/// Decoder limits: no image over 16,384 px a side or 512 MiB of pixels is ever allocated.
const MAX_SIDE: u32 = 16_384;
const MAX_ALLOC: u64 = 512 << 20;
/// Bytes of thumbnails kept in memory.
const CACHE_BYTES: u64 = 64 << 20;
/// Thumbnails made at once: each holds its source and decoded pixels in memory.
static MAKING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

type Cached = (Bytes, &'static str);

#[derive(Clone)]
struct ByLen;
impl quick_cache::Weighter<(String, u32), Cached> for ByLen {
    fn weight(&self, _: &(String, u32), v: &Cached) -> u64 {
        v.0.len() as u64 + 64
    }
}

static CACHE: LazyLock<quick_cache::sync::Cache<(String, u32), Cached, ByLen>> =
    LazyLock::new(|| quick_cache::sync::Cache::with_weighter(4096, CACHE_BYTES, ByLen));

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ThumbQuery {
    /// Longest side in pixels, snapped up to 64, 128, 256, 512 or 1024 (larger asks get 1024;
    /// default 256).
    size: Option<u32>,
}

/// The snapped size for a requested one: the smallest offered size at least as large, and the
/// largest (1024) for anything bigger — a size is a hint, never an error.
fn snap(size: Option<u32>) -> u32 {
    let want = size.unwrap_or(DEFAULT_SIZE);
    SIZES.into_iter().find(|&c| c >= want).unwrap_or(SIZES[SIZES.len() - 1])
}

#[utoipa::path(get, path = "/api/v1/runs/{entity}/{project}/{run_id}/thumbnails/{*path}", operation_id = "runFileThumbnail", tag = "media",
    params(crate::openapi::FilePath, ThumbQuery),
    responses((status = 200, description = "The image scaled to fit `size` (PNG, or JPEG for a JPEG source); the file itself when it already fits", content_type = "image/png", body = Vec<u8>),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
        (status = 409, description = "The file is not an image the server can read (`conflict`)")))]
pub(crate) async fn thumbnail(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    path: FilePath,
    Query(q): Query<ThumbQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (key, rel) = file_target(path)?;
    let size = snap(q.size);
    check_read(&state, &who, &key.entity, &key.project).await?;
    let file = {
        let (key, rel) = (key.clone(), rel.clone());
        state.blocking(move |s| Ok(s.store.get_run_file(&key, &rel, None)?)).await?
    };
    let etag = format!("\"{}-{size}\"", file.sha256);
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    if file.size > MAX_SOURCE_BYTES {
        return Err(ApiError::LimitExceeded(format!(
            "{rel} is {} bytes; thumbnails are made of images up to {MAX_SOURCE_BYTES} bytes (download the file instead)",
            file.size
        )));
    }
    let cache_key = (file.sha256.clone(), size);
    let (bytes, mime) = match CACHE.get(&cache_key) {
        Some(hit) => hit,
        None => {
            let _permit = MAKING.acquire().await.map_err(ApiError::internal)?;
            let made = state
                .blocking(move |s| {
                    let digest: Digest = file.sha256.parse().map_err(ApiError::internal)?;
                    let mut src = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
                    s.blobs
                        .open(&digest)
                        .map_err(ApiError::internal)?
                        .read_to_end(&mut src)
                        .map_err(ApiError::internal)?;
                    // 409: the request is well formed; the file it names is not an image.
                    make(&src, size).map_err(|why| ApiError::Conflict(format!("{rel}: {why}")))
                })
                .await?;
            CACHE.insert(cache_key, made.clone());
            made
        }
    };
    let headers = [
        (CONTENT_TYPE, mime.to_owned()),
        (CONTENT_LENGTH, bytes.len().to_string()),
        (ETAG, etag),
        (CACHE_CONTROL, "private, max-age=86400".to_owned()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, bytes).into_response())
}

/// Decodes `src` (bounded), and when its longer side exceeds `size`, scales it to fit and
/// re-encodes it; otherwise the source itself is the thumbnail (no quality lost, no work).
pub(crate) fn make(src: &[u8], size: u32) -> Result<Cached, String> {
    let mut reader = ImageReader::new(Cursor::new(src)).with_guessed_format().map_err(|e| e.to_string())?;
    let Some(format) = reader.format() else {
        return Err("not an image the server can read (png, jpeg, gif, webp, bmp)".into());
    };
    reader.limits(limits());
    let (w, h) = reader.into_dimensions().map_err(|e| format!("cannot read the image: {e}"))?;
    if w.max(h) <= size {
        return Ok((Bytes::copy_from_slice(src), format.to_mime_type()));
    }
    let mut reader = ImageReader::new(Cursor::new(src));
    reader.set_format(format);
    reader.limits(limits());
    let img = reader.decode().map_err(|e| format!("cannot decode the image: {e}"))?;
    let thumb = img.thumbnail(size, size);
    let mut out = Cursor::new(Vec::new());
    let (fmt, mime) =
        if format == ImageFormat::Jpeg { (ImageFormat::Jpeg, "image/jpeg") } else { (ImageFormat::Png, "image/png") };
    let thumb = if fmt == ImageFormat::Jpeg { image::DynamicImage::ImageRgb8(thumb.to_rgb8()) } else { thumb };
    thumb.write_to(&mut out, fmt).map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    Ok((Bytes::from(out.into_inner()), mime))
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    #[test]
    fn large_images_are_scaled_to_fit_keeping_the_aspect_ratio() {
        let (bytes, mime) = make(&png(1000, 500), 256).expect("thumb");
        assert_eq!(mime, "image/png");
        let img = image::load_from_memory(&bytes).expect("decode");
        assert_eq!((img.width(), img.height()), (256, 128));
    }

    #[test]
    fn small_images_are_served_as_they_are() {
        let src = png(28, 28);
        let (bytes, _) = make(&src, 64).expect("thumb");
        assert_eq!(bytes.as_ref(), src.as_slice());
    }

    #[test]
    fn sizes_snap_up_and_large_asks_get_the_largest() {
        assert_eq!(snap(None), 256);
        assert_eq!(snap(Some(200)), 256);
        assert_eq!(snap(Some(0)), 64);
        assert_eq!(snap(Some(1)), 64);
        assert_eq!(snap(Some(4096)), 1024);
        assert_eq!(snap(Some(u32::MAX)), 1024);
    }

    #[test]
    fn non_images_and_huge_declared_sizes_are_refused_without_allocating() {
        assert!(make(b"<html>hello</html>", 256).is_err());
        // A PNG header claiming 100,000 x 100,000 pixels: refused from the header alone.
        let mut forged = png(2, 2);
        forged[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        forged[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(make(&forged, 256).is_err());
    }
}
