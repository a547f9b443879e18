//! Copying a whole installation from one backend to another (`trackway admin migrate --from
//! sqlite://DIR --to postgres://...`, docs/deploy.md "Moving up").
//!
//! Every backend keeps the metadata tables with the same names and columns (the PostgreSQL
//! migrations mirror the SQLite ones), so the copy speaks rows: [`TABLES`] is the one catalogue
//! of those tables (columns, primary key, id generator) in an order that satisfies their foreign
//! keys, and [`TableRows`] is what a backend implements over its own database to read them in
//! key order and insert them keeping their ids (run keys, user ids, ... stay what the other
//! tables and the history store refer to). Nothing here is SQL of one table: each backend builds
//! its statements from the catalogue. History is not in the catalogue: its layout is the
//! engine's own (chunks and pyramid), so it is copied through `HistoryStore`, and blobs through
//! `BlobStore`.
//!
//! [`check_schema`] compares a database's tables with the catalogue, so a migration that adds a
//! column fails the copy (and the tests) until the catalogue names it, instead of dropping it.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};

use crate::Result;

/// A column's type as both backends can hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    /// `INTEGER` 0/1 in SQLite, `BOOLEAN` in PostgreSQL.
    Bool,
    Text,
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
}

/// One row, in the order of [`Table::columns`].
pub type Row = Vec<Cell>;

/// A table of the catalogue.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Every column; the first [`Table::key`] of them are the primary key.
    pub columns: &'static [(&'static str, Kind)],
    pub key: usize,
    /// The column whose values a sequence generates (PostgreSQL `BIGSERIAL`), moved past the
    /// copied ids after the copy so later inserts do not collide.
    pub serial: Option<&'static str>,
}

impl Table {
    /// Index of a column by name.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| *c == name)
    }
}

use Kind::{Bool as B, Int as I, Real as R, Text as T};

macro_rules! table {
    ($name:literal, key $key:literal, serial $serial:expr, [$($col:literal : $kind:ident),+ $(,)?]) => {
        Table { name: $name, key: $key, serial: $serial, columns: &[$(($col, $kind)),+] }
    };
}

/// The metadata tables, parents before children. Tables of the history engine (`hist_*`) and
/// caches a backend rebuilds itself (`key_indexes`) are not copied.
pub const TABLES: &[Table] = &[
    table!("entities", key 1, serial Some("id"), ["id": I, "name": T, "kind": T, "created_at": R]),
    table!("users", key 1, serial Some("id"), ["id": I, "username": T, "admin": B, "entity_id": I, "created_at": R,
        "active": B, "password_hash": T, "oidc_subject": T, "service": B]),
    table!("memberships", key 2, serial None, ["user_id": I, "entity_id": I, "role": T]),
    table!("api_keys", key 1, serial Some("id"), ["id": I, "user_id": I, "hash": T, "prefix": T, "name": T,
        "created_at": R, "revoked_at": R, "expires_at": R, "read_only": B, "ingest_only": B, "entity_id": I,
        "last_used_at": R]),
    table!("projects", key 1, serial Some("id"), ["id": I, "entity_id": I, "name": T, "created_at": R, "visibility": T]),
    table!("runs", key 1, serial Some("pk"), ["pk": I, "project_id": I, "run_id": T, "name": T, "state": T,
        "created_at": R, "updated_at": R, "heartbeat_at": R, "exit_code": I, "tags": T, "notes": T, "grp": T,
        "job_type": T, "host": T, "config": T, "summary": T, "metadata": T, "last_step": I, "last_step_log": T,
        "row_count": I, "stop_requested_at": R]),
    table!("ingest_marks", key 2, serial None, ["run_pk": I, "log_id": T, "high_water": I, "updated_at": R]),
    table!("project_keys", key 3, serial None, ["project_id": I, "source": T, "key": T, "path": T]),
    table!("run_tags", key 3, serial None, ["project_id": I, "tag": T, "run_pk": I]),
    table!("run_files", key 3, serial None, ["run_pk": I, "path": T, "version": I, "sha256": T, "size": I,
        "created_at": R]),
    table!("run_output", key 2, serial None, ["run_pk": I, "line": I, "stream": T, "text": T, "ts": R]),
    table!("run_output_logs", key 2, serial None, ["run_pk": I, "log_id": T, "base": I]),
    table!("views", key 1, serial Some("id"), ["id": I, "entity": T, "project": T, "owner": T, "name": T, "state": T,
        "shared": B, "is_default": B, "created_at": R, "updated_at": R]),
    table!("sweeps", key 1, serial None, ["id": T, "entity": T, "project": T, "name": T, "config": T, "method": T,
        "state": T, "seed": I, "created_at": R, "updated_at": R]),
    table!("sweep_trials", key 2, serial None, ["sweep_id": T, "seq": I, "run_id": T, "config": T, "state": T,
        "metric": R, "settled": B, "agent": T, "claimed_at": R, "ended_at": R]),
    table!("artifact_collections", key 1, serial Some("id"), ["id": I, "project_id": I, "name": T, "type": T,
        "next_version": I, "created_at": R]),
    table!("artifact_versions", key 1, serial Some("id"), ["id": I, "collection_id": I, "version": I, "digest": T,
        "size": I, "file_count": I, "description": T, "metadata": T, "producer_run_pk": I, "created_at": R,
        "expires_at": R]),
    table!("artifact_entries", key 2, serial None, ["version_id": I, "path": T, "sha256": T, "size": I, "ref": T,
        "ref_digest": T]),
    table!("artifact_aliases", key 2, serial None, ["collection_id": I, "alias": T, "version_id": I]),
    table!("artifact_tags", key 2, serial None, ["version_id": I, "tag": T]),
    table!("artifact_usage", key 2, serial None, ["version_id": I, "run_pk": I, "used_at": R]),
    table!("invites", key 1, serial Some("id"), ["id": I, "hash": T, "entity_id": I, "role": T, "created_by": I,
        "created_at": R, "expires_at": R, "accepted_by": I, "accepted_at": R, "revoked_at": R]),
    table!("sessions", key 1, serial None, ["hash": T, "user_id": I, "csrf": T, "created_at": R, "expires_at": R]),
    table!("audit_log", key 1, serial Some("id"), ["id": I, "at": R, "actor": T, "action": T, "target": T,
        "detail": T]),
    table!("reports", key 1, serial Some("id"), ["id": I, "entity": T, "title": T, "body": T, "visibility": T,
        "version": I, "created_by": T, "updated_by": T, "created_at": R, "updated_at": R]),
    table!("report_versions", key 2, serial None, ["report_id": I, "version": I, "title": T, "body": T,
        "author": T, "created_at": R]),
    table!("report_comments", key 1, serial Some("id"), ["id": I, "report_id": I, "author": T, "text": T,
        "created_at": R]),
];

/// The catalogue entry of a table.
#[must_use]
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Tables a backend keeps that the copy leaves out: the history engine's (copied through
/// `HistoryStore`), rebuilt caches and each backend's own bookkeeping.
#[must_use]
pub fn not_copied(table: &str) -> bool {
    table.starts_with("hist_") || table.starts_with("sqlite_") || matches!(table, "key_indexes" | "schema_migrations")
}

/// Row-level access to the catalogue's tables of one backend's database.
pub trait TableRows: Send + Sync {
    /// Up to `limit` rows in primary-key order, after the key `after` (the first [`Table::key`]
    /// cells of the previous page's last row).
    fn read_rows(&self, table: &Table, after: Option<&[Cell]>, limit: usize) -> Result<Vec<Row>>;
    /// Inserts rows with their keys, in one transaction; rows whose key (or another unique
    /// column) is already there are left as they are. Returns how many were new.
    fn insert_rows(&self, table: &Table, rows: &[Row]) -> Result<u64>;
    /// After inserting explicit ids: moves the table's id generator past them.
    fn finish_table(&self, table: &Table) -> Result<()>;
    /// Every table of the database with its column names.
    fn schema(&self) -> Result<BTreeMap<String, BTreeSet<String>>>;
}

/// Checks a database's tables against the catalogue: every table the copy does not leave out
/// must be in it with exactly its columns. Returns what differs, one line per table.
#[must_use]
pub fn check_schema(schema: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, columns) in schema.iter().filter(|(n, _)| !not_copied(n)) {
        let Some(t) = table(name) else {
            problems.push(format!("table {name} is not in the copy catalogue"));
            continue;
        };
        let known: BTreeSet<String> = t.columns.iter().map(|(c, _)| (*c).to_owned()).collect();
        if &known != columns {
            let extra: Vec<_> = columns.difference(&known).collect();
            let missing: Vec<_> = known.difference(columns).collect();
            problems.push(format!("table {name}: columns not in the catalogue {extra:?}, missing {missing:?}"));
        }
    }
    for t in TABLES.iter().filter(|t| !schema.contains_key(t.name)) {
        problems.push(format!("table {} is missing", t.name));
    }
    problems
}

/// An order-independent checksum of a table's rows: their count and the wrapping sum of each
/// row's SHA-256 (first 16 bytes). Equal on both sides whatever order each database returns
/// rows in (text keys may collate differently), different when any value differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checksum {
    pub rows: u64,
    pub sum: u128,
}

impl Checksum {
    pub fn add(&mut self, row: &[Cell]) {
        let mut h = Sha256::new();
        for cell in row {
            match cell {
                Cell::Null => h.update([0]),
                Cell::Int(i) => {
                    h.update([1]);
                    h.update(i.to_le_bytes());
                }
                Cell::Real(f) => {
                    h.update([2]);
                    h.update(f.to_bits().to_le_bytes());
                }
                Cell::Bool(b) => h.update([3, u8::from(*b)]),
                Cell::Text(s) => {
                    h.update([4]);
                    h.update((s.len() as u64).to_le_bytes());
                    h.update(s.as_bytes());
                }
            }
        }
        let digest = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(first));
    }

    /// The checksum as printed: `<rows> rows, <32 hex digits>`.
    #[must_use]
    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// Reads a whole table page by page, handing each page to `f`.
///
/// # Errors
/// A failed read, or what `f` returns.
pub fn for_each_page<E: From<crate::StoreError>>(
    rows: &dyn TableRows,
    table: &Table,
    page: usize,
    mut f: impl FnMut(&[Row]) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut after: Option<Vec<Cell>> = None;
    loop {
        let batch = rows.read_rows(table, after.as_deref(), page)?;
        if batch.is_empty() {
            return Ok(());
        }
        f(&batch)?;
        if batch.len() < page {
            return Ok(());
        }
        after = batch.last().map(|r| r[..table.key].to_vec());
    }
}

/// The checksum of a whole table.
///
/// # Errors
/// A failed read.
pub fn checksum(rows: &dyn TableRows, table: &Table, page: usize) -> Result<Checksum> {
    let mut sum = Checksum::default();
    for_each_page(rows, table, page, |batch| {
        batch.iter().for_each(|r| sum.add(r));
        Ok::<_, crate::StoreError>(())
    })?;
    Ok(sum)
}

/// Most bound parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
pub const MAX_PARAMS: usize = 10_000;

fn quoted(names: impl Iterator<Item = &'static str>) -> String {
    names.map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

/// `SELECT <columns> FROM <table> [WHERE (<key>) > (<params>)] ORDER BY <key> LIMIT <limit>`,
/// with the backend's placeholder for parameter `n` (from 1): the one statement both backends
/// page a table with.
#[must_use]
pub fn select_sql(table: &Table, after: bool, limit: usize, placeholder: impl Fn(usize) -> String) -> String {
    let key = quoted(table.columns[..table.key].iter().map(|(c, _)| *c));
    let filter = if after {
        let params = (1..=table.key).map(&placeholder).collect::<Vec<_>>().join(", ");
        format!(" WHERE ({key}) > ({params})")
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM \"{}\"{filter} ORDER BY {key} LIMIT {limit}",
        quoted(table.columns.iter().map(|(c, _)| *c)),
        table.name
    )
}

/// `INSERT INTO <table> (<columns>) VALUES (...), ... ON CONFLICT DO NOTHING` for `rows` rows
/// (SQLite ≥ 3.24 and PostgreSQL both take it): rows already there stay as they are.
#[must_use]
pub fn insert_sql(table: &Table, rows: usize, placeholder: impl Fn(usize) -> String) -> String {
    let n = table.columns.len();
    let values = (0..rows)
        .map(|r| format!("({})", (1..=n).map(|c| placeholder(r * n + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO \"{}\" ({}) VALUES {values} ON CONFLICT DO NOTHING",
        table.name,
        quoted(table.columns.iter().map(|(c, _)| *c))
    )
}

/// Rows per insert statement for a table, within [`MAX_PARAMS`].
#[must_use]
pub fn rows_per_insert(table: &Table) -> usize {
    (MAX_PARAMS / table.columns.len().max(1)).clamp(1, 1000)
}
