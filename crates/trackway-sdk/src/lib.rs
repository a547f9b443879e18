//! Trackway's Rust SDK: log metrics from a Rust training program, and the run semantics that
//! the Python package (`trackway._native`) shares.
//!
//! ```no_run
//! use trackway_sdk::{InitOptions, Value, map};
//!
//! let mut run = trackway_sdk::init(InitOptions { project: Some("demo".into()), ..Default::default() })?;
//! run.config_update(map! { "lr" => 0.001 })?;
//! for step in 0..10 {
//!     run.log(map! { "loss" => 1.0 / (step as f64 + 1.0), "epoch" => i64::from(step) })?;
//! }
//! run.finish(Some(0))?;
//! # Ok::<(), trackway_sdk::SdkError>(())
//! ```
//!
//! `log` appends one record to the run log (`<dir>/trackway/run-<time>-<id>/run.jsonl`) with one
//! `write(2)` and returns; it never touches the network. The background agent
//! (`trackway agent`, started by [`init`] in online mode) uploads the log.
//!
//! Modules: [`settings`] (resolution of settings), [`engine`] (step/commit and summary rules),
//! [`metrics`] (`define_metric`), [`agent`] (agent spawn and upload wait).

pub mod agent;
mod encode;
pub mod engine;
mod ids;
pub mod metrics;
pub mod remote;
mod run;
pub mod settings;

pub use agent::{agent_alive, ensure_agent};
pub use engine::{Logged, ResumeState, RunCore, StartInfo};
pub use ids::{new_log_id, new_run_id};
pub use metrics::MetricDef;
pub use remote::{RemoteRun, fetch_remote_run};
pub use run::{InitOptions, Run, init, resume_state};
pub use settings::{Mode, Settings};
pub use trackway_types::{Map, Value};

/// Errors of the SDK.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error(transparent)]
    Runlog(#[from] trackway_runlog::RunlogError),
    #[error("invalid setting {key}={value:?}: {reason}")]
    InvalidSetting { key: String, value: String, reason: String },
    #[error("invalid metric definition: {0}")]
    InvalidMetric(String),
    #[error("the run is finished")]
    Finished,
    #[error("summary key {0:?} does not exist")]
    MissingKey(String),
    #[error("empty key path")]
    EmptyPath,
    #[error("resume: {0}")]
    Resume(String),
    /// The server could not be asked about a run (unreachable, no key, refused).
    #[error("server: {0}")]
    Remote(String),
}

/// Builds a [`Map`] from `key => value` pairs; values go through `Value::from`.
#[macro_export]
macro_rules! map {
    () => { $crate::Map::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = $crate::Map::new();
        $( m.insert(::std::string::String::from($k), $crate::Value::from($v)); )+
        m
    }};
}
