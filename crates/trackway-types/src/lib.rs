//! Trackway's shared vocabulary, with no I/O: values in Trackway JSON ([`Value`]), run-log
//! records ([`Record`]) and run ids. Every other crate speaks these types.
//!
//! Layout: `value` (the value model and its exact JSON encoding), `record` (one line of a run
//! log, as specified in docs/run-format.md), `paths` (the run-relative file path rule shared by
//! client and server), `limits` (size and name rules of stored input), `summary` (the summary rule).

pub mod limits;
mod paths;
mod record;
pub mod summary;
mod value;

pub use paths::{PathError, validate_rel_path};
pub use record::{
    ConfigRecord, FORMAT_VERSION, FinishRecord, HistoryRecord, IdError, MetaRecord, MetricRecord, Record, RecordError,
    RunRecord, SummaryRecord, validate_run_id,
};
pub use value::{Map, Value, from_json, to_json};

#[cfg(test)]
mod tests;
