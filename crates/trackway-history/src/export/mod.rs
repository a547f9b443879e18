//! Streaming export of a run's full history (CSV, JSON Lines), page by page through
//! [`HistoryStore::scan`], so any backend exports the same way and memory stays bounded by
//! one page.

mod parquet;

use std::io::Write;

pub use parquet::write_parquet;

use crate::{HistoryStore, Result, RunKey, ScanQuery, Value};

/// Rows fetched per page while exporting.
pub const EXPORT_PAGE: usize = 4096;

/// Call `f` for every row of the run (only rows holding all `keys` when given), in step order.
pub fn for_each_row(
    store: &dyn HistoryStore,
    run: RunKey,
    keys: Option<&[String]>,
    f: &mut dyn FnMut(&crate::HistoryRow) -> Result<()>,
) -> Result<u64> {
    let mut q = ScanQuery { keys: keys.map(<[String]>::to_vec), limit: EXPORT_PAGE, ..ScanQuery::default() };
    let mut n = 0;
    loop {
        let page = store.scan(run, &q)?;
        for row in &page.rows {
            f(row)?;
            n += 1;
        }
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return Ok(n),
        }
    }
}

/// JSON Lines: one Trackway JSON object per row (`_step`, `_runtime`, `_timestamp`, then keys).
/// Returns the number of rows written.
pub fn write_jsonl(store: &dyn HistoryStore, run: RunKey, keys: Option<&[String]>, out: &mut dyn Write) -> Result<u64> {
    for_each_row(store, run, keys, &mut |row| {
        let line = trackway_types::to_json(&Value::Map(row.to_map()));
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        Ok(())
    })
}

/// CSV with a header `_step,_runtime,_timestamp,<keys...>` (all keys of the run unless given).
/// Numbers are written in shortest round-trip form (`NaN`, `inf`, `-inf` for non-finite
/// floats), strings as themselves, other values as Trackway JSON, missing cells empty.
pub fn write_csv(store: &dyn HistoryStore, run: RunKey, keys: Option<&[String]>, out: &mut dyn Write) -> Result<u64> {
    let cols: Vec<String> = match keys {
        Some(k) => k.to_vec(),
        None => store.keys(run)?,
    };
    let mut header: Vec<String> = vec!["_step".into(), "_runtime".into(), "_timestamp".into()];
    header.extend(cols.iter().cloned());
    write_record(out, header.iter().map(String::as_str))?;
    for_each_row(store, run, keys, &mut |row| {
        let mut cells = vec![row.step.to_string(), float_cell(row.rt), float_cell(row.ts)];
        for c in &cols {
            cells.push(row.data.get(c).map(cell).unwrap_or_default());
        }
        write_record(out, cells.iter().map(String::as_str))
    })
}

fn float_cell(f: f64) -> String {
    if f.is_nan() { "NaN".into() } else { format!("{f:?}") }
}

/// One CSV cell for a value.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Float(f) => float_cell(*f),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::BigInt(s) | Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => trackway_types::to_json(other),
    }
}

fn write_record<'a>(out: &mut dyn Write, cells: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut line = String::new();
    for (i, c) in cells.enumerate() {
        if i > 0 {
            line.push(',');
        }
        if c.contains([',', '"', '\n', '\r']) || c.starts_with(' ') || c.ends_with(' ') {
            line.push('"');
            line.push_str(&c.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(c);
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    Ok(())
}
