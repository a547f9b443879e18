//! wandb's wire protocol, spoken by a Trackway server (docs/wandb-server.md).
//!
//! The real `wandb` SDK (its Go core, `wandb-core`) talks to three kinds of endpoint:
//! `POST /graphql` (run create/update, resume status, upload URLs, ...), the filestream
//! (`POST /files/{entity}/{project}/{run}/file_stream`: history, summary, system metrics,
//! console lines, exit), and the upload URLs that `CreateRunFiles` hands out. This crate holds
//! the protocol: which operations exist and what they answer ([`graphql`]), how a filestream
//! request becomes Trackway run-log records ([`filestream`]), the wandb shapes of config and
//! summary ([`shapes`]) and signed upload URLs ([`token`]). It writes nothing itself except
//! through [`trackway_store::MetadataStore`]: every history row, config change, console line and
//! exit goes through `apply_ingest`, the same path as Trackway's own agent, under per-file log
//! ids whose positions are wandb's line offsets, so a retried request changes nothing.
//!
//! The HTTP mounting (axum routes, auth, file bodies) lives in the server
//! (`trackway-server/src/routes/wandb.rs`).

pub mod artifact_ttl;
pub mod artifacts;
pub mod filestream;
pub mod graphql;
pub mod pending;
pub mod public_api;
pub mod shapes;
pub mod token;

/// Errors of the protocol layer.
#[derive(Debug, thiserror::Error)]
pub enum WandbError {
    /// The request is malformed (not the JSON shape wandb sends).
    #[error("{0}")]
    BadRequest(String),
    /// Something the request names does not exist (an artifact id, a draft).
    #[error("{0}")]
    NotFound(String),
    /// The server's own files (artifact drafts) could not be read or written.
    #[error("artifact drafts: {0}")]
    Io(String),
    /// A store error (run not found, invalid names, database failures).
    #[error(transparent)]
    Store(#[from] trackway_store::StoreError),
}

pub type Result<T> = std::result::Result<T, WandbError>;

/// The project a run lands in when wandb names none (Trackway's own default too).
pub const DEFAULT_PROJECT: &str = "uncategorized";

/// The log ids under which each wandb stream is ingested (`ingest_marks` keys them per run).
pub mod logs {
    /// `wandb-history.jsonl`: position = line offset.
    pub const HISTORY: &str = "wandb:history";
    /// `wandb-events.jsonl` (system metrics): position = line offset.
    pub const EVENTS: &str = "wandb:events";
    /// `output.log`: position = line offset.
    pub const OUTPUT: &str = "wandb:output";
    /// Whole-state updates (upsert, summary, exit): each applied at the log's current mark, so
    /// it always applies; they replace state rather than append, so applying twice is harmless.
    pub const STATE: &str = "wandb:state";
}
