//! Hyperparameter sweeps in wandb's format, as pure functions the server's controller calls.
//!
//! - [`config`]: parses and validates a sweep config (`method`, `metric`, `parameters` with
//!   `values`/`value`/`distribution`/`min`/`max`, nested `parameters`, `early_terminate`,
//!   `run_cap`, `command`). This is the one place a sweep config is checked: the server calls
//!   it when a sweep is created and answers the error (offending path + accepted values).
//! - [`suggest`]: the next trial's parameters from the finished and running trials: grid
//!   enumeration, random sampling, Bayesian optimisation ([`tpe`], a tree-structured Parzen
//!   estimator).
//! - [`hyperband`]: which running trials to stop, from their metric histories.
//! - [`command`]: a trial's command line (wandb's `${...}` macros), for command-line agents.
//!
//! Nothing here does I/O; state lives in the caller's store, and randomness comes from a seed
//! the caller passes, so a suggestion is reproducible.

pub mod command;
pub mod config;
pub mod hyperband;
mod rng;
pub mod suggest;
pub mod tpe;

pub use config::{Distribution, Goal, Hyperband, Method, Param, SweepConfig, parse_config};
pub use hyperband::{History, stops};
pub use suggest::{Suggestion, Trial, TrialState, nest, suggest};

/// Errors of this crate.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SweepError {
    /// An invalid sweep config: where, what is wrong and, when the value is one of a set, the
    /// accepted values.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl SweepError {
    pub(crate) fn at(path: &str, message: impl Into<String>) -> Self {
        SweepError::Invalid { path: path.to_owned(), message: message.into() }
    }
}
