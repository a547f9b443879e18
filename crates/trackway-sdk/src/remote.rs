//! What the server knows about a run, for an online resume from a directory or machine that has
//! no (or an older) local attempt: wandb's resume semantics need the run's last step, config and
//! summary, and only the server has them. One bounded request (two when the key's entity must be
//! looked up); the caller decides what to do when the server cannot be asked.

use std::time::Duration;

use serde::Deserialize;
use trackway_client::{Client, ClientError, ClientOptions, encode_segment};
use trackway_types::{Map, Value};

use crate::SdkError;

/// How long `init()` waits for the server's answer about a run it resumes (wandb waits up to
/// 90 s for its resume query; the answer here is one indexed row, so far less is plenty).
pub const REMOTE_RESUME_TIMEOUT: Duration = Duration::from_secs(10);

/// The server a run talks to when no base URL is set anywhere (settings, environment, login).
#[must_use]
pub fn base_url_or_default(base_url: Option<&str>) -> String {
    base_url.map_or_else(|| format!("http://127.0.0.1:{}", trackway_config::DEFAULT_PORT), str::to_owned)
}

/// A run as the server has it (the fields a resume continues from).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RemoteRun {
    pub entity: String,
    pub project: String,
    pub run_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub last_step: Option<u64>,
    #[serde(default)]
    pub row_count: u64,
    /// Trackway JSON (tagged non-finite floats and big integers decode exactly).
    #[serde(default)]
    pub config: Map,
    #[serde(default)]
    pub summary: Map,
}

impl RemoteRun {
    /// The run's `_runtime` so far, from its summary.
    #[must_use]
    pub fn runtime(&self) -> Option<f64> {
        self.summary.get("_runtime").and_then(Value::as_f64)
    }
}

/// `GET /api/v1/runs/{entity}/{project}/{run_id}` within `timeout`. `Ok(None)` when the server
/// has no such run; an error when it could not be asked (unreachable, no key, refused).
///
/// # Errors
/// [`SdkError::Remote`] with the reason.
pub fn fetch_remote_run(
    base_url: &str,
    api_key: Option<&str>,
    entity: Option<&str>,
    project: &str,
    run_id: &str,
    timeout: Duration,
) -> Result<Option<RemoteRun>, SdkError> {
    let opts = ClientOptions { timeout, connect_timeout: timeout.min(Duration::from_secs(5)) };
    let client = Client::new(base_url, api_key, &opts).map_err(remote)?;
    let entity = match entity {
        Some(e) => e.to_owned(),
        None => {
            let viewer = client.viewer().map_err(remote)?;
            viewer.entity.unwrap_or(viewer.username)
        }
    };
    let path =
        format!("/api/v1/runs/{}/{}/{}", encode_segment(&entity), encode_segment(project), encode_segment(run_id));
    match client.get_json(&path) {
        Ok(v) => serde_json::from_value(v).map(Some).map_err(|e| SdkError::Remote(format!("run {path}: {e}"))),
        Err(ClientError::Permanent { status: 404, .. }) => Ok(None),
        Err(e) => Err(remote(e)),
    }
}

fn remote(e: ClientError) -> SdkError {
    SdkError::Remote(e.to_string())
}
