//! [`TableRows`] over the SQLite database: the copy catalogue's tables read in key order and
//! inserted with their ids (`crate::copy`).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::types::{Value as SqlValue, ValueRef};

use super::SqliteStore;
use crate::copy::{Cell, Kind, Row, Table, TableRows, insert_sql, rows_per_insert, select_sql};
use crate::{Result, StoreError};

fn placeholder(n: usize) -> String {
    format!("?{n}")
}

fn to_sql(cell: &Cell) -> SqlValue {
    match cell {
        Cell::Null => SqlValue::Null,
        Cell::Int(i) => SqlValue::Integer(*i),
        Cell::Real(f) => SqlValue::Real(*f),
        Cell::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Cell::Text(s) => SqlValue::Text(s.clone()),
    }
}

/// A stored value as the catalogue types it. SQLite's column affinity already turned integral
/// reals into integers in INTEGER columns and integers into reals in REAL ones; what is left
/// of another type is reported, not guessed at.
fn from_sql(table: &Table, col: usize, v: ValueRef<'_>) -> Result<Cell> {
    let (name, kind) = table.columns[col];
    Ok(match (kind, v) {
        (_, ValueRef::Null) => Cell::Null,
        (Kind::Int, ValueRef::Integer(i)) => Cell::Int(i),
        (Kind::Real, ValueRef::Real(f)) => Cell::Real(f),
        #[allow(clippy::cast_precision_loss)] // an integer in a REAL column: what SQLite itself would read
        (Kind::Real, ValueRef::Integer(i)) => Cell::Real(i as f64),
        (Kind::Bool, ValueRef::Integer(i)) => Cell::Bool(i != 0),
        (Kind::Text, ValueRef::Text(t)) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        (kind, other) => {
            return Err(StoreError::Invalid(format!(
                "{}.{name} holds a {:?} value where {kind:?} was expected",
                table.name,
                other.data_type()
            )));
        }
    })
}

impl TableRows for SqliteStore {
    fn read_rows(&self, table: &Table, after: Option<&[Cell]>, limit: usize) -> Result<Vec<Row>> {
        let sql = select_sql(table, after.is_some(), limit, placeholder);
        let params: Vec<SqlValue> = after.unwrap_or_default().iter().map(to_sql).collect();
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out: Vec<Row> = Vec::new();
            while let Some(r) = rows.next()? {
                let row: Row =
                    (0..table.columns.len()).map(|i| from_sql(table, i, r.get_ref(i)?)).collect::<Result<_>>()?;
                out.push(row);
            }
            Ok(out)
        })
    }

    fn insert_rows(&self, table: &Table, rows: &[Row]) -> Result<u64> {
        self.write(|tx| {
            let mut inserted = 0u64;
            for chunk in rows.chunks(rows_per_insert(table)) {
                let sql = insert_sql(table, chunk.len(), placeholder);
                let params: Vec<SqlValue> = chunk.iter().flatten().map(to_sql).collect();
                inserted += tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(params.iter()))? as u64;
            }
            Ok(inserted)
        })
    }

    /// `INTEGER PRIMARY KEY` continues after the greatest id by itself.
    fn finish_table(&self, _table: &Table) -> Result<()> {
        Ok(())
    }

    fn schema(&self) -> Result<BTreeMap<String, BTreeSet<String>>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
            )?;
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for pair in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
                let (table, column) = pair?;
                out.entry(table).or_default().insert(column);
            }
            Ok(out)
        })
    }
}
