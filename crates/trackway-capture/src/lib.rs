//! Everything the agent captures about a run besides its log, and the way back (restore).
//!
//! Entry points for the agent (see docs/capture.md, "Wiring"): [`RunCapture`] bundles all of
//! the following per run; the pieces are public for other callers:
//! - [`capture_run`] once per new run directory: `files/trackway-metadata.json`,
//!   `files/requirements.txt`, `files/diff.patch`, `files/untracked.txt`, `files/code/...`.
//! - [`RunFiles`]: which files to upload and when (`file` records, policies, ignore globs,
//!   live-file watching with [`FileWatcher`]).
//!
//! For the CLI: [`restore()`](restore::restore) and [`pull`](restore::pull) over a
//! [`RunSource`](restore::RunSource): a local run directory or the server's file routes.
pub mod agent;
pub mod cli;
mod code;
pub mod files;
pub mod git;
pub mod media;
mod metadata;
pub mod paths;
mod requirements;
pub mod restore;
mod settings;
mod watcher;

pub use agent::RunCapture;
pub use code::{
    CaptureReport, DIFF_FILE, METADATA_FILE, REQUIREMENTS_FILE, UNTRACKED_FILE, capture_run, write_atomic,
    write_code_files,
};
pub use files::{DEFAULT_DEBOUNCE, FileRecord, Policy, RunFiles, Upload, hash_file};
pub use git::{GitState, git_state, strip_credentials};
pub use metadata::{GpuMeta, Metadata, ProcessInfo, capture_ready, collect_metadata, find_process_record};
pub use paths::{IgnoreGlobs, validate_rel_path};
pub use requirements::{installed_distributions, parse_metadata, requirements_txt};
pub use settings::CaptureSettings;
pub use watcher::FileWatcher;

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("git is not available: {0}")]
    GitUnavailable(String),
    #[error("`git {args}` failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error("invalid file path {path:?}: {reason}")]
    BadPath { path: String, reason: String },
    #[error("invalid record: {0}")]
    BadRecord(String),
    #[error("JSON error: {0}")]
    Json(String),
    #[error(transparent)]
    Restore(#[from] restore::RestoreError),
}

impl CaptureError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CaptureError::Io { path: path.display().to_string(), source }
    }
}
