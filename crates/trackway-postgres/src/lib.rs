//! Trackway's PostgreSQL backend: the metadata store ([`PgStore`], which also implements the
//! view, sweep and account stores; [`open_storage`] pairs it with the history store on one
//! pool), the history store ([`PgHistory`]: trackway-history's chunk + pyramid engine on
//! PostgreSQL tables, with [`PgHistoryTx`] for writes inside a caller's transaction), versioned migrations applied on start under an
//! advisory lock (so several replicas may start at once), and a pooled synchronous client.
//!
//! The store traits are synchronous (every call is a short transaction, run by the server on a
//! blocking thread), so this crate uses the synchronous `postgres` client (rust-postgres)
//! behind an `r2d2` pool; no async runtime is blocked.
//!
//! `testpg` (feature `testsuite`, and this crate's tests) starts a throwaway PostgreSQL server
//! from the installed binaries for tests.

mod access;
mod accounts;
pub mod artifacts;
mod copy;
mod history;
mod history_batch;
mod history_legacy;
mod meta;
mod migrate;
mod reports;
mod sweeps;
#[cfg(any(test, feature = "testsuite"))]
pub mod testpg;
mod views;

pub use history::{PgHistory, PgHistoryTx};
pub use history_legacy::convert as convert_legacy_history;
pub use meta::{PgStore, open_storage};
pub use migrate::{MIGRATIONS, migrate, migrate_url, schema_version};

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres::{Config, NoTls};

/// Errors of the PostgreSQL backend.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: usize,
        #[source]
        source: postgres::Error,
    },
    #[error("the database has schema version {found}, newer than this binary's {known}")]
    TooNew { found: i64, known: usize },
}

pub type Result<T, E = PgError> = std::result::Result<T, E>;

/// A pool of connections to one database.
pub type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// How the pool is sized and how long a caller waits for a connection.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connect_timeout: std::time::Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions { max_size: 16, connect_timeout: std::time::Duration::from_secs(10) }
    }
}

/// Connects a pool to `url` (`postgres://user:pass@host:port/db`) and applies the migrations.
///
/// # Errors
/// A malformed URL, an unreachable server or a failed migration.
pub fn connect(url: &str, options: &PoolOptions) -> Result<Pool> {
    let config: Config = url.parse().map_err(|e: postgres::Error| PgError::Url(e.to_string()))?;
    let manager = PostgresConnectionManager::new(config, NoTls);
    let pool =
        r2d2::Pool::builder().max_size(options.max_size).connection_timeout(options.connect_timeout).build(manager)?;
    migrate(&mut *pool.get()?)?;
    Ok(pool)
}
