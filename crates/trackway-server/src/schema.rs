//! `trackway admin migrate`: brings a database's schema to this binary's version ahead of a
//! rollout, instead of letting the first replica to start do it. Safe to run again (it applies
//! only what is missing) and while replicas run (PostgreSQL steps run under the same advisory
//! lock as a replica's start; SQLite's under its write lock). A database migrated by a newer
//! binary is refused and left untouched, so a rollback never runs an old binary on a new schema.

use std::path::Path;

use trackway_store::{OpenOptions, Storage};

use crate::{DB_FILE, ServerError};

/// One database's schema version before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaChange {
    /// `sqlite:<path>` or the PostgreSQL URL without its password.
    pub database: String,
    pub before: i64,
    pub after: i64,
}

/// Migrates the database a server with the same settings would use: PostgreSQL at
/// `database_url` when set, else the SQLite file in `data_dir`.
///
/// # Errors
/// A database that cannot be opened or reached, a failed step, or a schema newer than this
/// binary ([`trackway_sqlite::DbError::TooNew`] / [`trackway_postgres::PgError::TooNew`]).
pub fn migrate(data_dir: &Path, database_url: Option<&str>) -> Result<SchemaChange, ServerError> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let (before, after) = trackway_postgres::migrate_url(url)?;
            Ok(SchemaChange { database: without_password(url), before, after })
        }
        Some(url) => Err(ServerError::Backend(format!("unsupported database URL {url:?} (postgres://...)"))),
        None => migrate_sqlite(&data_dir.join(DB_FILE)),
    }
}

fn migrate_sqlite(path: &Path) -> Result<SchemaChange, ServerError> {
    let before = sqlite_version(path)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ServerError::DataDir { path: parent.to_owned(), source })?;
    }
    // Opening the stores applies the one migration list (and refuses a newer file).
    drop(Storage::open_sqlite(path, OpenOptions::default())?);
    Ok(SchemaChange { database: format!("sqlite:{}", path.display()), before, after: sqlite_version(path)? })
}

/// `PRAGMA user_version` of the file, `0` when it does not exist yet.
fn sqlite_version(path: &Path) -> Result<i64, ServerError> {
    if !path.exists() {
        return Ok(0);
    }
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| ServerError::Backend(format!("cannot read {}: {e}", path.display())))?;
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| ServerError::Backend(format!("cannot read {}: {e}", path.display())))
}

/// The URL as it may be printed: its password replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_is_idempotent_on_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = migrate(dir.path(), None).expect("first run");
        assert_eq!(first.before, 0);
        assert!(first.after > 0, "{first:?}");
        let second = migrate(dir.path(), None).expect("second run");
        assert_eq!((second.before, second.after), (first.after, first.after));
    }

    #[test]
    fn a_sqlite_file_newer_than_the_binary_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = migrate(dir.path(), None).expect("migrate").after;
        let path = dir.path().join(DB_FILE);
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", current + 1).expect("bump");
        drop(conn);
        let err = migrate(dir.path(), None).expect_err("newer schema refused");
        assert!(err.to_string().contains("newer than this build"), "{err}");
        assert_eq!(sqlite_version(&path).expect("version"), current + 1, "left untouched");
    }

    #[test]
    fn printed_urls_hide_the_password() {
        assert_eq!(without_password("postgres://tw:secret@db:5432/tw"), "postgres://tw:***@db:5432/tw");
        assert_eq!(without_password("postgres://db/tw"), "postgres://db/tw");
    }
}
