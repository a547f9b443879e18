//! [`TableRows`] over PostgreSQL: the copy catalogue's tables (`trackway_store::copy`) read in
//! key order and inserted with their ids, the `BIGSERIAL` sequences moved past them afterwards.

use std::collections::{BTreeMap, BTreeSet};

use postgres::types::ToSql;
use trackway_store::Result;
use trackway_store::copy::{Cell, Kind, Row, Table, TableRows, insert_sql, rows_per_insert, select_sql};

use crate::meta::{PgStore, db};

fn placeholder(n: usize) -> String {
    format!("${n}")
}

/// A cell as a typed parameter: NULL needs the column's type too.
fn param(kind: Kind, cell: &Cell) -> Box<dyn ToSql + Sync> {
    match (cell, kind) {
        (Cell::Int(i), _) => Box::new(*i),
        (Cell::Real(f), _) => Box::new(*f),
        (Cell::Bool(b), _) => Box::new(*b),
        (Cell::Text(s), _) => Box::new(s.clone()),
        (Cell::Null, Kind::Int) => Box::new(None::<i64>),
        (Cell::Null, Kind::Real) => Box::new(None::<f64>),
        (Cell::Null, Kind::Bool) => Box::new(None::<bool>),
        (Cell::Null, Kind::Text) => Box::new(None::<String>),
    }
}

fn cell(row: &postgres::Row, i: usize, kind: Kind) -> Result<Cell> {
    let c = match kind {
        Kind::Int => row.try_get::<_, Option<i64>>(i).map_err(db)?.map(Cell::Int),
        Kind::Real => row.try_get::<_, Option<f64>>(i).map_err(db)?.map(Cell::Real),
        Kind::Bool => row.try_get::<_, Option<bool>>(i).map_err(db)?.map(Cell::Bool),
        Kind::Text => row.try_get::<_, Option<String>>(i).map_err(db)?.map(Cell::Text),
    };
    Ok(c.unwrap_or(Cell::Null))
}

impl TableRows for PgStore {
    fn read_rows(&self, table: &Table, after: Option<&[Cell]>, limit: usize) -> Result<Vec<Row>> {
        let sql = select_sql(table, after.is_some(), limit, placeholder);
        let params: Vec<Box<dyn ToSql + Sync>> =
            after.unwrap_or_default().iter().zip(table.columns).map(|(c, (_, k))| param(*k, c)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
        self.tx(|tx| {
            let rows = tx.query(sql.as_str(), &refs).map_err(db)?;
            rows.iter()
                .map(|r| table.columns.iter().enumerate().map(|(i, (_, k))| cell(r, i, *k)).collect::<Result<Row>>())
                .collect()
        })
    }

    fn insert_rows(&self, table: &Table, rows: &[Row]) -> Result<u64> {
        self.tx(|tx| {
            let mut inserted = 0;
            for chunk in rows.chunks(rows_per_insert(table)) {
                let sql = insert_sql(table, chunk.len(), placeholder);
                let params: Vec<Box<dyn ToSql + Sync>> = chunk
                    .iter()
                    .flat_map(|row| row.iter().zip(table.columns).map(|(c, (_, k))| param(*k, c)))
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
                inserted += tx.execute(sql.as_str(), &refs).map_err(db)?;
            }
            Ok(inserted)
        })
    }

    fn finish_table(&self, table: &Table) -> Result<()> {
        let Some(col) = table.serial else { return Ok(()) };
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{t}', '{col}'), COALESCE((SELECT MAX(\"{col}\") FROM \"{t}\"), 0) + 1, false)",
            t = table.name
        );
        self.tx(|tx| tx.execute(sql.as_str(), &[]).map(drop).map_err(db))
    }

    fn schema(&self) -> Result<BTreeMap<String, BTreeSet<String>>> {
        self.tx(|tx| {
            let rows = tx
                .query(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema()",
                    &[],
                )
                .map_err(db)?;
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for r in &rows {
                out.entry(r.try_get(0).map_err(db)?).or_default().insert(r.try_get(1).map_err(db)?);
            }
            Ok(out)
        })
    }
}
