//! The Trackway server: the HTTP API of docs/api.md over the metadata store
//! ([`trackway_store`]) and the history store ([`trackway_history`]), plus the embedded web UI.
//!
//! Layout:
//! - [`AppState`]: the stores (one SQLite file in the data directory) and settings.
//! - [`app`]: the axum `Router`; tests drive it with `tower::ServiceExt::oneshot`.
//! - [`run`]: serves a bound listener until a shutdown future resolves, then lets in-flight
//!   requests finish; the accept loop (`serve`) applies the connection timeouts and cap.
//! - [`Limits`]: the server-wide resource limits (ingest slots, timeouts, file quotas).
//! - [`bootstrap`]: first start of a data directory (admin user, key, stored login).
//! - `auth`, `error`, `extract`: bearer-key middleware, the error shape, request bodies.
//! - `routes`: handlers grouped by resource; `ui`: the embedded single-page app.

mod auth;
pub mod bootstrap;
mod error;
mod extract;
mod lenient;
mod limits;
pub mod login;
pub mod metrics;
pub mod migrate_copy;
pub mod oidc;
mod openapi;
mod routes;
pub mod schema;
mod serve;
pub mod sweeps;
mod ui;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use trackway_blob::{BlobStore, LocalBlobStore};
use trackway_history::HistoryStore;
use trackway_store::{AccountStore, ArtifactStore, MetadataStore, OpenOptions, Storage, ViewStore};

pub use error::{ApiError, ApiResult};
pub use limits::{IngestSlots, Limits};
pub use login::AuthSettings;
pub use oidc::{GroupMapping, OidcSettings};
pub use routes::MAX_SKIPPED_BYTES;
pub use serve::run;

/// Largest accepted request body, after decompression.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// The database file inside the data directory.
pub const DB_FILE: &str = "trackway.db";
/// The blob store of run files inside the data directory.
pub const BLOB_DIR: &str = "blobs";
/// The key that signs wandb upload URLs, inside the data directory.
pub const URL_KEY_FILE: &str = "wandb-url.key";
/// Partial (resumable) artifact blob uploads inside the data directory.
pub const UPLOAD_DIR: &str = "uploads";
/// wandb artifact drafts (`trackway_wandb::pending`), under the data directory.
pub const WANDB_DRAFT_DIR: &str = "wandb-artifacts";

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("metadata store: {0}")]
    Store(#[from] trackway_store::StoreError),
    #[error("history store: {0}")]
    History(#[from] trackway_history::HistoryError),
    #[error("stored login: {0}")]
    Config(#[from] trackway_config::ConfigError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob store: {0}")]
    Blob(#[from] trackway_blob::BlobError),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] trackway_postgres::PgError),
    #[error("{0}")]
    Backend(String),
}

/// Where the stores live (`trackway server --database-url/--blob-url`); unset: the data dir.
#[derive(Clone, Debug)]
pub struct Backends {
    /// `postgres://user:pass@host:port/db`.
    pub database_url: Option<String>,
    /// `s3://bucket[/prefix]`.
    pub blob_url: Option<String>,
    /// Connections per replica to PostgreSQL.
    pub db_pool_size: u32,
}

impl Default for Backends {
    fn default() -> Self {
        Backends { database_url: None, blob_url: None, db_pool_size: 16 }
    }
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The metadata store. Its `apply_ingest` writes a batch's history rows into `history`
    /// inside the same transaction (one backend, one database: see `trackway_store::Storage`).
    pub store: Arc<dyn MetadataStore>,
    /// The history store of the same backend, for reads, compaction and exports.
    pub history: Arc<dyn HistoryStore>,
    /// Saved workspace views, in the same backend.
    pub views: Arc<dyn ViewStore>,
    /// Sweep controller state (docs/sweeps.md), in the same backend.
    pub sweeps: Arc<dyn trackway_store::SweepStore>,
    /// Run files' bytes, content-addressed (`<data dir>/blobs`); `run_files` in the metadata
    /// store maps (run, path, version) to a digest here.
    pub blobs: Arc<dyn BlobStore>,
    /// Artifacts (docs/artifacts.md), in the metadata store's database; bytes in `blobs`.
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Partial artifact blob uploads (`<data dir>/uploads`).
    pub uploads: Arc<routes::BlobUploads>,
    /// Base URL used in `Run.url` (e.g. `http://127.0.0.1:8767`); `None` gives relative URLs.
    pub public_url: Option<String>,
    pub body_limit: usize,
    /// Server-wide resource limits; change them with [`AppState::with_limits`].
    pub limits: Limits,
    /// Signs the upload URLs handed to the wandb SDK (routes::wandb); its key lives in the data
    /// directory so URLs stay valid across a restart.
    pub wandb_urls: trackway_wandb::token::UrlSigner,
    /// wandb artifacts being uploaded, between `CreateArtifact` and `CommitArtifact`
    /// (`<data dir>/wandb-artifacts`, replica-local like `uploads`).
    pub wandb_drafts: Arc<trackway_wandb::pending::Drafts>,
    /// Ingest requests in flight, at most `limits.ingest_concurrency`.
    pub ingest_slots: IngestSlots,
    /// Users, teams, keys, sessions, visibility and the audit log (same backend and database).
    pub accounts: Arc<dyn AccountStore>,
    /// Reports (docs/reports.md), in the same backend.
    pub reports: Arc<dyn trackway_store::ReportStore>,
    /// How users sign in; change with [`AppState::with_auth`].
    pub auth: Arc<AuthSettings>,
    /// The OpenID Connect client, when `auth.oidc` is set.
    pub(crate) oidc: Option<Arc<oidc::Oidc>>,
    /// Request and ingest counters and latencies (`GET /metrics`).
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Opens (creating if needed) the stores in `data_dir`.
    ///
    /// # Errors
    /// When the directory or the database cannot be created or migrated.
    pub fn open(data_dir: &Path) -> Result<AppState, ServerError> {
        AppState::open_with(data_dir, &Backends::default())
    }

    /// Opens the stores the URLs name: `postgres://...` for metadata + history (else the SQLite
    /// file in `data_dir`) and `s3://bucket[/prefix]` for blobs (else `<data_dir>/blobs`; the
    /// S3 endpoint and credentials come from the `AWS_*` environment). With both remote, a
    /// replica keeps no state another replica needs.
    ///
    /// # Errors
    /// An unknown URL scheme, an unreachable database or store, a failed migration.
    pub fn open_with(data_dir: &Path, backends: &Backends) -> Result<AppState, ServerError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| ServerError::DataDir { path: data_dir.to_owned(), source })?;
        let Storage { metadata, history, views, sweeps, artifacts, accounts, reports } = match &backends.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let options = trackway_postgres::PoolOptions { max_size: backends.db_pool_size, ..Default::default() };
                trackway_postgres::open_storage(url, &options)?
            }
            Some(url) => {
                return Err(ServerError::Backend(format!("unsupported database URL {url:?} (postgres://...)")));
            }
            None => Storage::open_sqlite(&data_dir.join(DB_FILE), OpenOptions::default())?,
        };
        let blobs: Arc<dyn BlobStore> = match &backends.blob_url {
            Some(url) => Arc::new(trackway_blob::S3BlobStore::open(&trackway_blob::S3Options {
                url: url.clone(),
                ..Default::default()
            })?),
            None => Arc::new(LocalBlobStore::open_dir(data_dir.join(BLOB_DIR))?),
        };
        Ok(AppState {
            store: metadata,
            history,
            views,
            sweeps,
            blobs,
            artifacts,
            uploads: routes::BlobUploads::open(data_dir.join(UPLOAD_DIR))?,
            public_url: None,
            body_limit: DEFAULT_BODY_LIMIT,
            ingest_slots: IngestSlots::new(Limits::default().ingest_concurrency),
            limits: Limits::default(),
            wandb_urls: trackway_wandb::token::UrlSigner::new(url_key(data_dir)?),
            wandb_drafts: Arc::new(
                trackway_wandb::pending::Drafts::open(&data_dir.join(WANDB_DRAFT_DIR))
                    .map_err(|e| ServerError::Backend(e.to_string()))?,
            ),
            accounts,
            reports,
            auth: Arc::new(AuthSettings::default()),
            oidc: None,
            metrics: Arc::new(metrics::Metrics::new()),
        })
    }

    /// The same state with other sign-in settings (and an OIDC client for `auth.oidc`).
    #[must_use]
    pub fn with_auth(mut self, auth: AuthSettings) -> AppState {
        self.oidc = auth.oidc.clone().map(|o| Arc::new(oidc::Oidc::new(o)));
        self.auth = Arc::new(auth);
        self
    }

    /// The same state with other limits (and ingest slots sized for them).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.ingest_slots = IngestSlots::new(limits.ingest_concurrency);
        self.limits = limits;
        self
    }

    /// Runs blocking store work on the blocking pool, so the async runtime never waits on SQLite
    /// or fsync.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state)).await?
    }
}

/// The data directory's URL-signing key (`wandb-url.key`, 32 random bytes), created on first use.
fn url_key(data_dir: &Path) -> Result<[u8; 32], ServerError> {
    let path = data_dir.join(URL_KEY_FILE);
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, key)?;
    std::fs::rename(&tmp, &path)?;
    Ok(key)
}

/// The application router.
pub fn app(state: AppState) -> Router {
    let limit = state.body_limit;
    let api = routes::router(state.clone());
    Router::new()
        .merge(api)
        .fallback(ui::serve)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestDecompressionLayer::new().zstd(true))
        .layer(axum::middleware::from_fn(routes::note_wire_encoding))
        .layer(RequestBodyTimeoutLayer::new(state.limits.body_read_timeout))
        // Large JSON answers (a chart of 1,000 runs is megabytes) are compressed on a runtime
        // worker as they stream: the fastest levels keep that to milliseconds per megabyte, and
        // zstd (which browsers accept) is several times faster than gzip at a similar ratio.
        .layer(CompressionLayer::new().gzip(true).zstd(true).quality(tower_http::CompressionLevel::Fastest))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
