//! Artifact helpers for `trackway.artifacts`: the download cache's rules (one home:
//! `trackway_cli::artifact_cache`) and reading `s3://` references through the S3 code the server
//! uses for its blob store (`trackway_blob::S3ObjectReader`).

use std::io::{Read, Write};
use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use sha2::{Digest as _, Sha256};

/// Where verified blobs are cached (`$TRACKWAY_CACHE_DIR/artifacts/sha256`).
#[pyfunction]
pub fn artifact_cache_dir() -> String {
    trackway_cli::artifact_cache::cache_dir().to_string_lossy().into_owned()
}

/// Removes least recently used cached blobs down to `target` (`"10GB"`, `"1000"`); returns the
/// bytes freed. A malformed size raises ValueError.
#[pyfunction]
pub fn artifact_cache_cleanup(py: Python<'_>, target: &str) -> PyResult<u64> {
    let target =
        trackway_cli::artifact_cache::parse_size(target).map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
    py.detach(|| trackway_cli::artifact_cache::cleanup(target)).map_err(|e| PyOSError::new_err(format!("{e:#}")))
}

/// Streams the object of an `s3://bucket/key` URL into `dest` (when given) while hashing it;
/// returns `(sha256 hex, size)`. Failures raise OSError.
#[pyfunction]
#[pyo3(signature = (url, dest=None))]
pub fn fetch_s3(py: Python<'_>, url: &str, dest: Option<PathBuf>) -> PyResult<(String, u64)> {
    py.detach(|| fetch(url, dest)).map_err(PyOSError::new_err)
}

fn fetch(url: &str, dest: Option<PathBuf>) -> Result<(String, u64), String> {
    let (mut reader, _) = trackway_blob::S3ObjectReader::open(url).map_err(|e| format!("{url}: {e}"))?;
    let mut out = match &dest {
        Some(p) => Some(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(|e| format!("reading {url}: {e}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
        if let (Some(f), Some(p)) = (out.as_mut(), &dest) {
            f.write_all(&buf[..n]).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    if let (Some(f), Some(p)) = (out, &dest) {
        f.sync_all().map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok((hex::encode(hasher.finalize()), size))
}
