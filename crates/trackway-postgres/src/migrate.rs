//! Versioned migrations, applied on start. Every replica runs [`migrate`] when it starts; an
//! advisory transaction lock makes concurrent starts apply each step exactly once: the first
//! replica applies what is missing while the others wait, then find nothing left to do.

use postgres::Client;

use crate::{PgError, Result};

/// The schema, one step per entry, applied in order; `schema_migrations` records each applied
/// step's number (its position, from 1). Append only.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_history.sql"),
    include_str!("../migrations/0002_metadata.sql"),
    include_str!("../migrations/0003_reports.sql"),
    include_str!("../migrations/0004_artifacts.sql"),
    include_str!("../migrations/0005_views_sweeps_accounts.sql"),
    include_str!("../migrations/0006_run_stop.sql"),
    include_str!("../migrations/0007_history_chunks.sql"),
    include_str!("../migrations/0008_run_table_json.sql"),
];

/// Key of the advisory lock that serialises migrations (any constant unique to Trackway).
const MIGRATION_LOCK: i64 = 0x7472_6163_6b77_6179; // "trackway"

/// Applies the missing steps of [`MIGRATIONS`] in one transaction under the advisory lock.
///
/// # Errors
/// A failed step (nothing of it stays applied), or a database newer than this binary.
pub fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
            version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )?;
    let current: i64 = tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?.get(0);
    if usize::try_from(current).map_or(true, |c| c > MIGRATIONS.len()) {
        return Err(PgError::TooNew { found: current, known: MIGRATIONS.len() });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        let version = i + 1;
        tx.batch_execute(sql).map_err(|source| PgError::Migration { version, source })?;
        let v = i64::try_from(version).unwrap_or(i64::MAX);
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&v])?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit()?;
    Ok(())
}

/// The schema version recorded in the database (`0` before the first migration).
///
/// # Errors
/// The database does not answer.
pub fn schema_version(client: &mut Client) -> Result<i64> {
    let exists: bool = client.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?.get(0))
}

/// `trackway admin migrate` on PostgreSQL: connects to `url`, applies the missing steps (none
/// on a second run) and returns the schema version before and after.
///
/// # Errors
/// A malformed URL, an unreachable server, a failed step, or a database newer than this binary
/// (left untouched).
pub fn migrate_url(url: &str) -> Result<(i64, i64)> {
    let config: postgres::Config = url.parse().map_err(|e: postgres::Error| PgError::Url(e.to_string()))?;
    let mut client = config.connect(postgres::NoTls)?;
    let before = schema_version(&mut client)?;
    migrate(&mut client)?;
    Ok((before, schema_version(&mut client)?))
}
