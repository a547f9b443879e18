//! `api_request`: the Python read API (`trackway.Api`) calls the server through the one HTTP
//! client (`trackway-client`: timeouts, error shape, key handling) instead of its own urllib code.

use std::time::Duration;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use trackway_client::{Client, ClientError, ClientOptions};

/// Longest connect phase; the whole call is bounded by `timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One JSON call (`method` GET/POST/PATCH/PUT/DELETE, `path` with its query string); returns
/// the response as JSON text. Failures raise OSError whose message starts with
/// `HTTP <status> <code>:` or `cannot reach <url>:`; a bad URL raises ValueError.
#[pyfunction]
#[pyo3(signature = (base_url, api_key, method, path, body=None, timeout=30.0))]
pub fn api_request(
    py: Python<'_>,
    base_url: &str,
    api_key: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: f64,
) -> PyResult<String> {
    let timeout = Duration::try_from_secs_f64(timeout).unwrap_or(Duration::from_secs(30));
    let opts = ClientOptions { timeout, connect_timeout: CONNECT_TIMEOUT.min(timeout) };
    let client = Client::new(base_url, api_key, &opts).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let answer = py.detach(|| client.request_json(method, path, body.map(str::as_bytes)));
    match answer {
        Ok(v) => Ok(v.to_string()),
        Err(ClientError::Unauthorized { message }) => {
            Err(PyOSError::new_err(format!("HTTP 401 unauthorized: {message}")))
        }
        Err(ClientError::Unreachable { url, reason }) => {
            Err(PyOSError::new_err(format!("cannot reach {url}: {reason}")))
        }
        Err(e @ ClientError::BadUrl { .. }) => Err(PyValueError::new_err(e.to_string())),
        Err(e) => Err(PyOSError::new_err(e.to_string())),
    }
}

/// Downloads an artifact blob to `dest`, verified against `sha256` and never left half-written
/// (`Client::download_blob_to`, docs/artifacts.md "Download"). Returns the size. Failures raise
/// OSError.
#[pyfunction]
#[pyo3(signature = (base_url, api_key, entity, project, sha256, dest))]
pub fn download_blob(
    py: Python<'_>,
    base_url: &str,
    api_key: Option<&str>,
    entity: &str,
    project: &str,
    sha256: &str,
    dest: std::path::PathBuf,
) -> PyResult<u64> {
    let opts = ClientOptions { timeout: Duration::from_secs(60), connect_timeout: CONNECT_TIMEOUT };
    let client = Client::new(base_url, api_key, &opts).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.detach(|| client.download_blob_to((entity, project, sha256), &dest)).map_err(PyOSError::new_err)
}
