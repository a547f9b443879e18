//! Run directories and the run log, as specified in `docs/run-format.md`.
//!
//! - [`dirs`]: creating `run-<YYYYmmdd_HHMMSS>-<id>/`, `latest-run`, finding and listing runs.
//! - [`writer`]: [`LogWriter`], the append-only writer (one `write(2)` per record, tail repair).
//! - [`reader`]: [`LogReader`], the incremental reader (stable byte positions, corrupt lines
//!   reported and skipped, an unterminated last line left for later).
//! - [`cursor`]: the agent's upload cursor `upload.json`.
//! - [`state`]: [`load_run_state`], replaying a log into config, summary and row counts.
//! - [`lock`]: the agent and upload locks, and the probe that asks whether they are held.

pub mod cursor;
pub mod dirs;
pub mod lock;
pub mod reader;
pub mod state;
pub mod writer;

pub use cursor::{UploadCursor, read_cursor, write_cursor};
pub use dirs::{RunDir, RunDirInfo, create_run_dir, find_run_dirs, list_runs, parse_run_dir_name, update_latest_run};
pub use lock::{UPLOAD_LOCK, UploadLock, agent_alive, lock_held, try_lock_file};
pub use reader::{Entry, LogReader};
pub use state::{RunState, latest_state, load_run_state};
pub use writer::LogWriter;

/// File names inside a run directory.
pub const LOG_FILE: &str = "run.jsonl";
pub const FILES_DIR: &str = "files";
pub const CURSOR_FILE: &str = "upload.json";
pub const SYNCED_MARKER: &str = "synced";
pub const LATEST_RUN: &str = "latest-run";
pub const AGENT_LOCK: &str = "agent.lock";

/// Errors of this crate. Every variant names the path involved, because the caller (an SDK
/// user, the agent) usually cannot tell which of several files failed.
#[derive(Debug, thiserror::Error)]
pub enum RunlogError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid run id {id:?}: {reason}")]
    BadRunId { id: String, reason: String },
    #[error("{path}: not a run log (first record is not `run`)")]
    NotARunLog { path: std::path::PathBuf },
    #[error("{path}: invalid upload cursor: {reason}")]
    BadCursor { path: std::path::PathBuf, reason: String },
}

impl RunlogError {
    pub(crate) fn io(path: impl Into<std::path::PathBuf>, source: std::io::Error) -> Self {
        RunlogError::Io { path: path.into(), source }
    }
}

pub type Result<T, E = RunlogError> = std::result::Result<T, E>;
