//! History series copied through `HistoryStore`: every run's own series and its system-metrics
//! series ([`trackway_store::capture::system_owner`]), read with `scan` page by page and written
//! with `append` (last write wins per step and key, so writing a series again changes nothing),
//! compacted, then hashed on both sides.

use sha2::{Digest as _, Sha256};
use trackway_history::{HistoryStore, ScanQuery};
use trackway_store::capture::system_owner;
use trackway_store::copy::{Cell, for_each_page, table};

use super::{CopyError, PAGE, Side};

/// What the history copy did.
#[derive(Clone, Debug, Default)]
pub struct HistoryReport {
    /// Series with rows in the source.
    pub series: u64,
    pub rows: u64,
    /// Series written (the others were already equal).
    pub copied: u64,
    /// Series that still differ after the copy.
    pub differing: Vec<String>,
}

/// A series' row count and the SHA-256 of its rows in step order (keys sorted, values as
/// Trackway JSON, floats bit for bit).
fn digest(h: &dyn HistoryStore, owner: i64) -> Result<(u64, [u8; 32]), CopyError> {
    let err = |source| CopyError::History { what: format!("series {owner}"), source };
    let mut sha = Sha256::new();
    let mut rows = 0u64;
    let mut after = None;
    loop {
        let page = h.scan(owner, &ScanQuery { after, limit: PAGE, ..ScanQuery::default() }).map_err(err)?;
        for r in &page.rows {
            rows += 1;
            sha.update(r.step.to_le_bytes());
            sha.update(r.ts.to_bits().to_le_bytes());
            sha.update(r.rt.to_bits().to_le_bytes());
            let mut keys: Vec<_> = r.data.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in keys {
                let value = trackway_types::to_json(v);
                for part in [k.as_str(), value.as_str()] {
                    sha.update((part.len() as u64).to_le_bytes());
                    sha.update(part.as_bytes());
                }
            }
        }
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => {
                let mut out = [0u8; 32];
                out.copy_from_slice(&sha.finalize());
                return Ok((rows, out));
            }
        }
    }
}

/// Copies one series unless the destination already holds the same rows; returns its row
/// count and whether it was written, or what still differs.
fn copy_series(from: &Side, to: &Side, owner: i64, report: &mut HistoryReport) -> Result<(), CopyError> {
    let source = digest(from.history.as_ref(), owner)?;
    if source.0 == 0 {
        return Ok(());
    }
    report.series += 1;
    report.rows += source.0;
    if digest(to.history.as_ref(), owner)? == source {
        return Ok(());
    }
    let err = |source| CopyError::History { what: format!("series {owner}"), source };
    let mut after = None;
    loop {
        let page = from.history.scan(owner, &ScanQuery { after, limit: PAGE, ..ScanQuery::default() }).map_err(err)?;
        to.history.append(owner, &page.rows).map_err(err)?;
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    to.history.compact(owner).map_err(err)?;
    report.copied += 1;
    let copied = digest(to.history.as_ref(), owner)?;
    if copied != source {
        report.differing.push(format!(
            "history series {owner}: source {} rows, destination {} rows (or other values)",
            source.0, copied.0
        ));
    }
    Ok(())
}

/// Copies the history of every run of the source (its own series and its system series).
///
/// # Errors
/// A store failure.
pub(super) fn copy_all(from: &Side, to: &Side, log: &mut dyn FnMut(&str)) -> Result<HistoryReport, CopyError> {
    let runs = table("runs").ok_or_else(|| CopyError::Usage("no runs table in the catalogue".into()))?;
    let pk = runs.column("pk").unwrap_or(0);
    let mut report = HistoryReport::default();
    for_each_page(from.rows.as_ref(), runs, PAGE, |rows| {
        for row in rows {
            if let Some(Cell::Int(run)) = row.get(pk) {
                copy_series(from, to, *run, &mut report)?;
                copy_series(from, to, system_owner(*run), &mut report)?;
            }
        }
        Ok::<_, CopyError>(())
    })?;
    log(&format!("history: {} series, {} rows ({} series written)", report.series, report.rows, report.copied));
    Ok(report)
}
