//! Metric key ids and per-(run, key) series statistics.

use rusqlite::{Connection, OptionalExtension, params};

use super::{KEY_RT, KEY_TS};
use crate::{HistoryError, Result, RunKey};

/// Steps are stored as SQLite integers (i64).
pub(crate) fn step_to_sql(step: u64) -> Result<i64> {
    i64::try_from(step).map_err(|_| HistoryError::Invalid(format!("step {step} is above 2^63-1")))
}

pub(crate) fn sql_step(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The id of a key, creating it.
pub(crate) fn key_id(conn: &Connection, name: &str) -> Result<i64> {
    if let Some(id) = find_key(conn, name)? {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO hist_key(name) VALUES (?1)")?.execute([name])?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn find_key(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn.prepare_cached("SELECT id FROM hist_key WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?)
}

/// Statistics of one (run, key) series.
#[derive(Clone, Debug, Default)]
pub(crate) struct SeriesMeta {
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

fn opt_step(v: Option<i64>) -> Option<u64> {
    v.map(sql_step)
}

pub(crate) fn load_series(conn: &Connection, run: RunKey, key: i64) -> Result<Option<SeriesMeta>> {
    let sql = "SELECT n_tail, tail_min, tail_max, n_chunk, chunk_min, chunk_max, min_level, has_obj,
               tail_rows FROM hist_series WHERE run = ?1 AND key = ?2";
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![run, key], |r| {
            Ok(SeriesMeta {
                run,
                key,
                n_tail: r.get(0)?,
                tail_min: opt_step(r.get(1)?),
                tail_max: opt_step(r.get(2)?),
                n_chunk: r.get(3)?,
                chunk_min: opt_step(r.get(4)?),
                chunk_max: opt_step(r.get(5)?),
                min_level: r.get(6)?,
                has_obj: r.get::<_, i64>(7)? != 0,
                tail_rows: r.get(8)?,
            })
        })
        .optional()?)
}

/// Load, or create an empty series row.
pub(crate) fn series_or_new(conn: &Connection, run: RunKey, key: i64) -> Result<SeriesMeta> {
    if let Some(m) = load_series(conn, run, key)? {
        return Ok(m);
    }
    conn.prepare_cached("INSERT INTO hist_series(run, key) VALUES (?1, ?2)")?.execute(params![run, key])?;
    Ok(SeriesMeta { run, key, min_level: -1, ..SeriesMeta::default() })
}

fn opt_sql(v: Option<u64>) -> Result<Option<i64>> {
    v.map(step_to_sql).transpose()
}

pub(crate) fn save_series(conn: &Connection, m: &SeriesMeta) -> Result<()> {
    let sql = "UPDATE hist_series SET n_tail = ?3, tail_min = ?4, tail_max = ?5, n_chunk = ?6,
               chunk_min = ?7, chunk_max = ?8, min_level = ?9, has_obj = ?10, tail_rows = ?11
               WHERE run = ?1 AND key = ?2";
    conn.prepare_cached(sql)?.execute(params![
        m.run,
        m.key,
        m.n_tail,
        opt_sql(m.tail_min)?,
        opt_sql(m.tail_max)?,
        m.n_chunk,
        opt_sql(m.chunk_min)?,
        opt_sql(m.chunk_max)?,
        m.min_level,
        i64::from(m.has_obj),
        m.tail_rows,
    ])?;
    Ok(())
}

/// All series of a run as (key id, key name), in key id order.
pub(crate) fn run_series(conn: &Connection, run: RunKey) -> Result<Vec<(i64, String)>> {
    let sql = "SELECT s.key, k.name FROM hist_series s JOIN hist_key k ON k.id = s.key
               WHERE s.run = ?1 ORDER BY s.key";
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn is_reserved(name: &str) -> bool {
    name == KEY_TS || name == KEY_RT
}

/// [`crate::HistoryStore::last_objects`]: one indexed lookup per key that holds objects.
pub(crate) fn last_objects(conn: &Connection, run: RunKey) -> Result<Vec<(String, u64, crate::Value)>> {
    let sql = "SELECT k.name, o.step, o.json FROM hist_series s JOIN hist_key k ON k.id = s.key
               JOIN hist_obj o ON o.run = s.run AND o.key = s.key
                 AND o.step = (SELECT max(step) FROM hist_obj WHERE run = s.run AND key = s.key)
               WHERE s.run = ?1 AND s.has_obj = 1 ORDER BY s.key";
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map([run], |r| Ok((r.get::<_, String>(0)?, sql_step(r.get(1)?), r.get::<_, String>(2)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (name, step, json) = row?;
        if !is_reserved(&name) {
            out.push((name, step, trackway_types::from_json(&json)?));
        }
    }
    Ok(out)
}

pub(crate) fn run_keys(conn: &Connection, run: RunKey) -> Result<Vec<String>> {
    Ok(run_series(conn, run)?.into_iter().map(|(_, n)| n).filter(|n| !is_reserved(n)).collect())
}

/// Distinct non-reserved keys over many runs, sorted; one query per 500 runs.
pub(crate) fn keys_of_runs(conn: &Connection, runs: &[RunKey]) -> Result<Vec<String>> {
    let mut all = std::collections::BTreeSet::new();
    for part in runs.chunks(500) {
        let marks = vec!["?"; part.len()].join(",");
        let sql = format!(
            "SELECT DISTINCT k.name FROM hist_series s JOIN hist_key k ON k.id = s.key WHERE s.run IN ({marks})"
        );
        let mut st = conn.prepare(&sql)?;
        let names = st.query_map(rusqlite::params_from_iter(part.iter()), |r| r.get::<_, String>(0))?;
        for n in names {
            let n = n?;
            if !is_reserved(&n) {
                all.insert(n);
            }
        }
    }
    Ok(all.into_iter().collect())
}
