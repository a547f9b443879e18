//! Importers that turn other trackers' data into ordinary Trackway run directories
//! (`docs/run-format.md`), which `trackway sync` / the agent then upload idempotently:
//! TensorBoard event files ([`tensorboard`]) and MLflow tracking stores and servers ([`mlflow`]).

pub mod mlflow;
mod mlflow_db;
pub mod mlflow_http;
pub mod proto;
pub mod sink;
pub mod tensorboard;
pub mod tfrecord;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt at byte {offset}: {reason}")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{url}: {reason}")]
    Remote { url: String, reason: String },
    #[error(transparent)]
    Runlog(#[from] trackway_runlog::RunlogError),
}

impl ImportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io { path: path.to_path_buf(), source }
    }
}

pub type Result<T, E = ImportError> = std::result::Result<T, E>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests_http;
