//! Metric key ids and per-(run, key) series statistics.

use super::{KEY_RT, KEY_TS, Tables};
use crate::{HistoryError, Result, RunKey};

/// Steps are stored as signed 64-bit integers.
pub(crate) fn step_to_sql(step: u64) -> Result<i64> {
    i64::try_from(step).map_err(|_| HistoryError::Invalid(format!("step {step} is above 2^63-1")))
}

pub(crate) fn sql_step(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The ids of many keys (one ingest batch's), creating the missing ones in the order given:
/// key ids keep first-logged order (exports order columns by them).
pub(crate) fn key_ids(t: &mut dyn Tables, names: &[&str]) -> Result<Vec<i64>> {
    let found = t.find_keys(names)?;
    let mut ids = Vec::with_capacity(names.len());
    for (name, id) in names.iter().zip(found) {
        ids.push(match id {
            Some(id) => id,
            None => t.insert_key(name)?,
        });
    }
    Ok(ids)
}

/// Statistics of one (run, key) series (a row of `hist_series`).
#[derive(Clone, Debug, Default)]
pub struct SeriesMeta {
    pub run: RunKey,
    pub key: i64,
    pub n_tail: i64,
    /// Rows (segments) in hist_tail for this series.
    pub tail_rows: i64,
    pub tail_min: Option<u64>,
    pub tail_max: Option<u64>,
    pub n_chunk: i64,
    pub chunk_min: Option<u64>,
    pub chunk_max: Option<u64>,
    /// Lowest pyramid level kept; -1 until the first compaction decides it.
    pub min_level: i64,
    pub has_obj: bool,
}

impl SeriesMeta {
    pub(crate) fn has_numeric(&self) -> bool {
        self.n_tail > 0 || self.n_chunk > 0
    }
    /// True when every tail step is after every chunk step (tail need not be merged into
    /// chunks, and the pyramid is valid for everything below the tail).
    pub(crate) fn tail_after_chunks(&self) -> bool {
        match (self.tail_min, self.chunk_max) {
            (Some(t), Some(c)) => t > c,
            _ => true,
        }
    }
    pub(crate) fn step_range(&self) -> Option<(u64, u64)> {
        let lo = [self.tail_min, self.chunk_min].into_iter().flatten().min()?;
        let hi = [self.tail_max, self.chunk_max].into_iter().flatten().max()?;
        Some((lo, hi))
    }
}

/// The series of many keys of one run, empty rows created for the new ones: one load, one
/// insert.
pub(crate) fn series_or_new_of_keys(t: &mut dyn Tables, run: RunKey, keys: &[i64]) -> Result<Vec<SeriesMeta>> {
    let found = t.load_series_of_keys(run, keys)?;
    let new: Vec<i64> = keys.iter().zip(&found).filter(|(_, m)| m.is_none()).map(|(&k, _)| k).collect();
    if !new.is_empty() {
        t.insert_series_of_keys(run, &new)?;
    }
    Ok(keys
        .iter()
        .zip(found)
        .map(|(&key, m)| m.unwrap_or(SeriesMeta { run, key, min_level: -1, ..SeriesMeta::default() }))
        .collect())
}

pub(crate) fn is_reserved(name: &str) -> bool {
    name == KEY_TS || name == KEY_RT
}

/// [`crate::HistoryStore::last_objects`]: one indexed lookup per key that holds objects.
pub(crate) fn last_objects(t: &mut dyn Tables, run: RunKey) -> Result<Vec<(String, u64, crate::Value)>> {
    let mut out = Vec::new();
    for (name, step, json) in t.last_objects(run)? {
        if !is_reserved(&name) {
            out.push((name, sql_step(step), trackway_types::from_json(&json)?));
        }
    }
    Ok(out)
}

pub(crate) fn run_keys(t: &mut dyn Tables, run: RunKey) -> Result<Vec<String>> {
    Ok(t.run_series(run)?.into_iter().map(|(_, n)| n).filter(|n| !is_reserved(n)).collect())
}

/// Distinct non-reserved keys over many runs, sorted (byte order, whatever the collation);
/// one query per 500 runs.
pub(crate) fn keys_of_runs(t: &mut dyn Tables, runs: &[RunKey]) -> Result<Vec<String>> {
    let mut all = std::collections::BTreeSet::new();
    for part in runs.chunks(500) {
        all.extend(t.names_of_runs(part)?.into_iter().filter(|n| !is_reserved(n)));
    }
    Ok(all.into_iter().collect())
}
