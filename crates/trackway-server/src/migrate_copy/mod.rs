//! Moving a single-node installation up (`trackway admin migrate --from sqlite://DIR --to
//! postgres://... --blobs s3://...`, docs/deploy.md "Moving up"): every store is copied through
//! the backend-neutral traits, read from the source's and written through the destination's —
//! the metadata tables (users, keys, teams, projects, runs, console, files, views, sweeps,
//! accounts, reports, artifacts) as rows of `trackway_store::copy::TABLES` with their ids,
//! history series through `HistoryStore` (each backend keeps its own layout), and the blobs the
//! copied run files and artifact versions name through `BlobStore`.
//!
//! Verified: each table's row count and checksum are compared on both sides after the copy,
//! each history series' rows are hashed on both sides, and each blob is hashed as it is written
//! (its name is its SHA-256) or, when already there, its size compared. Idempotent and
//! resumable: rows keep their keys and existing ones are left alone, a series already equal is
//! skipped, a blob already stored is not sent again — run it again after an interruption and it
//! finishes the rest. Stop the source server first: rows it writes during the copy fail the
//! verification.

mod blobs;
mod history;

use std::path::PathBuf;
use std::sync::Arc;

use trackway_blob::{BlobError, BlobStore, LocalBlobStore};
use trackway_history::{HistoryError, HistoryStore};
use trackway_store::copy::{Cell, TABLES, Table, TableRows, check_schema, checksum, for_each_page};
use trackway_store::{OpenOptions, SqliteStore, StoreError};

pub use blobs::BlobReport;
pub use history::HistoryReport;

use crate::{BLOB_DIR, DB_FILE};

/// Rows read and written per page.
const PAGE: usize = 1000;

/// Errors of a copy. Each names what to fix; a failed verification lists every difference.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Usage(String),
    #[error("the {side} database does not match this binary's copy catalogue:\n  {}", .problems.join("\n  "))]
    Schema { side: &'static str, problems: Vec<String> },
    #[error(
        "the destination already holds other data ({0}); copy into an empty database (or the one an interrupted copy of this source wrote)"
    )]
    Foreign(String),
    #[error("{what}: {source}")]
    Store {
        what: String,
        #[source]
        source: StoreError,
    },
    #[error("history of {what}: {source}")]
    History {
        what: String,
        #[source]
        source: HistoryError,
    },
    #[error("blob {digest}: {source}")]
    Blob {
        digest: String,
        #[source]
        source: BlobError,
    },
    #[error("verification failed:\n  {}", .0.join("\n  "))]
    Mismatch(Vec<String>),
}

/// One side of a copy: a backend's stores as trait objects.
#[derive(Clone)]
pub struct Side {
    pub rows: Arc<dyn TableRows>,
    pub history: Arc<dyn HistoryStore>,
    pub blobs: Arc<dyn BlobStore>,
}

impl Side {
    /// The single-node installation at `sqlite://DIR` (its `trackway.db` and `blobs/`).
    ///
    /// # Errors
    /// Another URL form, a directory without a database, a file that cannot be opened.
    pub fn sqlite(url: &str) -> Result<Side, CopyError> {
        let dir = url
            .strip_prefix("sqlite://")
            .map(PathBuf::from)
            .ok_or_else(|| CopyError::Usage(format!("--from {url:?}: expected sqlite://DATA_DIR")))?;
        let db = dir.join(DB_FILE);
        if !db.is_file() {
            return Err(CopyError::Usage(format!(
                "no Trackway data directory at {} ({} is missing)",
                dir.display(),
                db.display()
            )));
        }
        let store = Arc::new(
            SqliteStore::open_with(&db, OpenOptions::default())
                .map_err(|source| CopyError::Store { what: format!("open {}", db.display()), source })?,
        );
        let blobs = LocalBlobStore::open_dir(dir.join(BLOB_DIR))
            .map_err(|source| CopyError::Blob { digest: format!("store {}", dir.join(BLOB_DIR).display()), source })?;
        Ok(Side { history: Arc::new(store.history()), rows: store, blobs: Arc::new(blobs) })
    }

    /// PostgreSQL at `database_url` (migrated to this binary's schema first) with `blobs`.
    ///
    /// # Errors
    /// Another URL form, an unreachable database, a failed migration.
    pub fn postgres(database_url: &str, blobs: Arc<dyn BlobStore>) -> Result<Side, CopyError> {
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(CopyError::Usage(format!("--to {database_url:?}: expected postgres://user:pass@host:port/db")));
        }
        let options = trackway_postgres::PoolOptions { max_size: 4, ..Default::default() };
        let open = |source| CopyError::Store { what: "connect to the destination database".into(), source };
        let storage = trackway_postgres::open_storage(database_url, &options).map_err(open)?;
        let pool =
            trackway_postgres::connect(database_url, &options).map_err(|e| open(StoreError::Backend(Box::new(e))))?;
        Ok(Side { rows: Arc::new(trackway_postgres::PgStore::new(pool)), history: storage.history, blobs })
    }
}

/// The S3 store at `s3://bucket[/prefix]` (endpoint and credentials from the `AWS_*`
/// environment, as `trackway server --blob-url` reads them).
///
/// # Errors
/// Another URL form or an invalid configuration.
pub fn s3_blobs(url: &str) -> Result<Arc<dyn BlobStore>, CopyError> {
    if !url.starts_with("s3://") {
        return Err(CopyError::Usage(format!("--blobs {url:?}: expected s3://bucket[/prefix]")));
    }
    let options = trackway_blob::S3Options { url: url.to_owned(), ..Default::default() };
    let store = trackway_blob::S3BlobStore::open(&options)
        .map_err(|source| CopyError::Blob { digest: format!("store {url}"), source })?;
    Ok(Arc::new(store))
}

/// What one table's copy did and what was verified.
#[derive(Clone, Debug)]
pub struct TableReport {
    pub name: &'static str,
    pub rows: u64,
    /// Rows the destination did not have yet.
    pub new: u64,
    /// The checksum both sides agree on.
    pub checksum: String,
}

/// What a copy did.
#[derive(Clone, Debug, Default)]
pub struct CopyReport {
    pub tables: Vec<TableReport>,
    pub history: HistoryReport,
    pub blobs: BlobReport,
}

fn store_err(what: impl Into<String>) -> impl FnOnce(StoreError) -> CopyError {
    let what = what.into();
    move |source| CopyError::Store { what, source }
}

/// Copies everything from `from` to `to` and verifies it; `log` gets one line per step.
///
/// # Errors
/// See [`CopyError`]. Whatever was copied before an error stays; running again continues.
pub fn copy(from: &Side, to: &Side, log: &mut dyn FnMut(&str)) -> Result<CopyReport, CopyError> {
    for (side, s) in [("source", from), ("destination", to)] {
        let problems = check_schema(&s.rows.schema().map_err(store_err(format!("read the {side} schema")))?);
        if !problems.is_empty() {
            return Err(CopyError::Schema { side, problems });
        }
    }
    refuse_foreign(from, to)?;
    let mut report = CopyReport::default();
    for table in TABLES {
        let new = copy_table(from, to, table, &mut report.blobs)?;
        log(&format!("{}: {new} new rows", table.name));
        report.tables.push(TableReport { name: table.name, rows: 0, new, checksum: String::new() });
    }
    report.history = history::copy_all(from, to, log)?;
    log(&format!(
        "blobs: {} copied ({} bytes), {} already there",
        report.blobs.copied, report.blobs.bytes, report.blobs.present
    ));
    let mut problems = verify_tables(from, to, &mut report.tables)?;
    if report.blobs.missing_count > 0 {
        problems.push(format!(
            "{} blobs are referenced but missing in the source store: {}",
            report.blobs.missing_count,
            report.blobs.missing.join(", ")
        ));
    }
    problems.extend(report.history.differing.iter().cloned());
    if problems.is_empty() { Ok(report) } else { Err(CopyError::Mismatch(problems)) }
}

/// A destination is either empty or a (partial) copy of this source: its first users agree.
fn refuse_foreign(from: &Side, to: &Side) -> Result<(), CopyError> {
    let users = trackway_store::copy::table("users").ok_or_else(|| CopyError::Usage("no users table".into()))?;
    let first =
        |s: &Side, side: &str| s.rows.read_rows(users, None, 1).map_err(store_err(format!("read {side} users")));
    let theirs = first(to, "destination")?;
    match theirs.first() {
        Some(row) if first(from, "source")?.first() != Some(row) => {
            let name = match row.get(1) {
                Some(Cell::Text(n)) => n.clone(),
                _ => String::new(),
            };
            Err(CopyError::Foreign(format!("its first user is {name:?}, not the source's")))
        }
        _ => Ok(()),
    }
}

/// Copies one table page by page (and the blobs its rows name), then moves its id generator.
fn copy_table(from: &Side, to: &Side, table: &Table, blobs: &mut BlobReport) -> Result<u64, CopyError> {
    let mut new = 0;
    let sha = matches!(table.name, "run_files" | "artifact_entries").then(|| table.column("sha256")).flatten();
    for_each_page(from.rows.as_ref(), table, PAGE, |rows| {
        if let Some(col) = sha {
            blobs::copy_named(from, to, rows, col, blobs)?;
        }
        new += to.rows.insert_rows(table, rows).map_err(store_err(format!("write {}", table.name)))?;
        Ok::<_, CopyError>(())
    })
    .map_err(|e| match e {
        CopyError::Store { what, source } if what.is_empty() => {
            CopyError::Store { what: format!("read {}", table.name), source }
        }
        other => other,
    })?;
    to.rows.finish_table(table).map_err(store_err(format!("move the id sequence of {}", table.name)))?;
    Ok(new)
}

/// Compares every table's row count and checksum on both sides.
fn verify_tables(from: &Side, to: &Side, reports: &mut [TableReport]) -> Result<Vec<String>, CopyError> {
    let mut problems = Vec::new();
    for (table, report) in TABLES.iter().zip(reports.iter_mut()) {
        let a =
            checksum(from.rows.as_ref(), table, PAGE).map_err(store_err(format!("checksum source {}", table.name)))?;
        let b = checksum(to.rows.as_ref(), table, PAGE)
            .map_err(store_err(format!("checksum destination {}", table.name)))?;
        report.rows = a.rows;
        report.checksum = a.hex();
        if a != b {
            problems.push(format!(
                "table {}: source {} rows (checksum {}), destination {} rows (checksum {})",
                table.name,
                a.rows,
                a.hex(),
                b.rows,
                b.hex()
            ));
        }
    }
    Ok(problems)
}

impl From<StoreError> for CopyError {
    /// A read error from the page loop; [`copy_table`] names the table.
    fn from(source: StoreError) -> Self {
        CopyError::Store { what: String::new(), source }
    }
}
