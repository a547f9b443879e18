//! The uploader: tails run logs and sends them to the server (docs/run-format.md, docs/api.md).
//!
//! - [`run_agent`]: the background agent for one root (`trackway agent --root R`), one per root
//!   (flock on `<root>/agent.lock`), exits after an idle period.
//! - [`sync_run`]: the same uploader in the foreground for one run directory (`trackway sync`).
//!
//! Invariant: the cursor in `upload.json` only ever moves to a position the server acknowledged
//! as durable, and the `synced` marker is written only when the acknowledged position covers a
//! log that ends with a `finish` record and, when capture is on, the run's `system.jsonl` and
//! every due run file are acknowledged too. Marker, cursors and file state name the server
//! target they are for, so the same run can be synced to another target. Any process may die at any moment; the next agent
//! resends from the cursor and the server's per-log high-water mark drops what it already has.

mod agent;
mod artifacts;
mod backoff;
mod batch;
mod capture;
mod crash;
mod keys;
mod lock;
mod marker;
mod stream;
mod sync;
mod uploader;

use std::path::PathBuf;
use std::time::Duration;

pub use agent::{AgentExit, AgentOptions, run_agent};
pub use artifacts::upload_files as upload_artifact_files;
pub use crash::{append_crash_finish, writer_alive};
pub use keys::{ClientPool, api_key_for, default_base_url};
pub use lock::{AgentLock, agent_lock_held};
pub use marker::{mark_synced, synced_to, target_key};
pub use sync::{PendingRun, SyncOptions, SyncOutcome, pending_runs, sync_run};
pub use uploader::{Overrides, RunUploader, StepResult};

/// Errors of the agent and sync.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Runlog(#[from] trackway_runlog::RunlogError),
    #[error("{0}")]
    Invalid(String),
}

impl AgentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AgentError::Io { path: path.into(), source }
    }
}

pub type Result<T, E = AgentError> = std::result::Result<T, E>;

/// Environment variable: seconds without unsynced online runs after which the agent exits.
pub const IDLE_ENV: &str = "TRACKWAY_AGENT_IDLE_SECONDS";
/// Default idle exit.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Unix time now, as the run format writes times.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
