//! Compaction: tail -> immutable chunks + pyramid.
//!
//! Common case (tail after all chunks): new chunks are appended; a small last chunk (left by an
//! on-demand compaction of a live run) is replaced by a new one holding its points plus the new
//! ones, so chunks stay ~4096 points. Rare case (the tail rewrites old steps: rewind, resume,
//! out-of-order): the chunks from the first touched one on are replaced (new rows written, old
//! rows deleted; older chunks untouched) and the pyramid is recomputed from that step on. Chunks
//! are never updated in place.

use super::meta::{self, SeriesMeta, step_to_sql};
use super::{BlobRow, CHUNK, Tables, pyramid, read};
use crate::codec::{self, Points};
use crate::{Result, RunKey};

/// The largest step a database holds (a signed 64-bit integer).
pub(crate) const MAX_STEP: u64 = i64::MAX as u64;

pub(crate) fn compact_run(conn: &mut dyn Tables, run: RunKey) -> Result<()> {
    for (key, _) in conn.run_series(run)? {
        compact_series(conn, run, key, false)?;
    }
    Ok(())
}

/// Compact one series. With `keep_remainder`, only whole chunks are written and the rest
/// stays in the tail (used by ingest); otherwise everything is compacted.
pub(crate) fn compact_series(conn: &mut dyn Tables, run: RunKey, key: i64, keep_remainder: bool) -> Result<()> {
    match conn.load_series(run, key)? {
        Some(m) => compact_loaded(conn, m, keep_remainder),
        None => Ok(()),
    }
}

/// [`compact_series`] of a series whose statistics `m` were just loaded or saved.
pub(crate) fn compact_loaded(conn: &mut dyn Tables, mut m: SeriesMeta, keep_remainder: bool) -> Result<()> {
    let (run, key) = (m.run, m.key);
    if m.n_tail == 0 {
        return Ok(());
    }
    let tail = read::last_wins(read::load_tail(conn, &m)?);
    if !m.tail_after_chunks() {
        return rewrite(conn, m, tail);
    }
    let pts = read::without_tombstones(tail);
    let small = small_last_chunk(conn, &m)?;
    let (old_id, mut combined) = small.map_or((None, Points::default()), |(id, p)| (Some(id), p));
    let old_len = combined.len();
    combined.extend_from(&pts, 0, pts.len());
    let mut end = if keep_remainder { combined.len() / CHUNK * CHUNK } else { combined.len() };
    if end <= old_len {
        // Not even one new whole chunk (a tail of mostly overwrites): compact it all anyway, so
        // the tail cannot grow without bound.
        end = combined.len();
    }
    if end > old_len {
        if let Some(id) = old_id {
            conn.delete_chunk(id)?;
        }
        write_chunks(conn, &m, &combined, 0, end)?;
        pyramid::add(conn, &mut m, &combined, (old_len, end), !keep_remainder)?;
        m.n_chunk += (end - old_len) as i64;
        m.chunk_min = Some(m.chunk_min.map_or(combined.steps[0], |c| c.min(combined.steps[0])));
        m.chunk_max = Some(combined.steps[end - 1]);
    }
    conn.delete_tail(run, key)?;
    set_tail(conn, &mut m, &combined, end.max(old_len))?;
    conn.save_series(&m)
}

/// Merge a series' tail segments into one row, keeping write order (reads resolve it).
pub(crate) fn coalesce_tail(conn: &mut dyn Tables, m: &mut SeriesMeta) -> Result<()> {
    let tail = read::load_tail(conn, m)?;
    conn.delete_tail(m.run, m.key)?;
    let blob = codec::encode_points(&tail, false)?;
    conn.insert_tail(m.run, m.key, tail.len() as i64, &blob)?;
    m.tail_rows = 1;
    conn.save_series(m)
}

/// Put `p[from..]` back as the whole tail.
fn set_tail(conn: &mut dyn Tables, m: &mut SeriesMeta, p: &Points, from: usize) -> Result<()> {
    m.n_tail = 0;
    m.tail_rows = 0;
    m.tail_min = None;
    m.tail_max = None;
    if from >= p.len() {
        return Ok(());
    }
    let mut rest = Points::default();
    rest.extend_from(p, from, p.len());
    let blob = codec::encode_points(&rest, false)?;
    conn.insert_tail(m.run, m.key, rest.len() as i64, &blob)?;
    m.n_tail = rest.len() as i64;
    m.tail_rows = 1;
    m.tail_min = rest.steps.first().copied();
    m.tail_max = rest.steps.last().copied();
    Ok(())
}

/// The last chunk when it is less than half full, to be merged with new points.
fn small_last_chunk(conn: &mut dyn Tables, m: &SeriesMeta) -> Result<Option<(i64, Points)>> {
    if m.n_chunk == 0 {
        return Ok(None);
    }
    match conn.last_chunk(m.run, m.key)? {
        Some((id, n, data)) if (n as usize) < CHUNK / 2 => Ok(Some((id, codec::decode_points(&data, true)?))),
        _ => Ok(None),
    }
}

fn write_chunks(conn: &mut dyn Tables, m: &SeriesMeta, p: &Points, from: usize, to: usize) -> Result<()> {
    let mut rows = Vec::new();
    let mut i = from;
    while i < to {
        let j = (i + CHUNK).min(to);
        let mut piece = Points::default();
        piece.extend_from(p, i, j);
        let data = codec::encode_points(&piece, true)?;
        let span = (step_to_sql(piece.steps[0])?, step_to_sql(piece.steps[piece.len() - 1])?);
        rows.push(BlobRow { run: m.run, key: m.key, level: 0, span, n: piece.len() as i64, data });
        i = j;
    }
    conn.insert_chunks(&rows)
}

/// The tail rewrites compacted steps: replace the chunks from the first one it touches on (new
/// rows; older chunks are untouched) and recompute the pyramid from there on.
fn rewrite(conn: &mut dyn Tables, mut m: SeriesMeta, tail: Points) -> Result<()> {
    let Some(&from) = tail.steps.first() else { return rebuild(conn, m, tail) };
    if m.min_level < 0 {
        return rebuild(conn, m, tail);
    }
    let affected = conn.chunks_ending_from(m.run, m.key, step_to_sql(from)?)?;
    let start = affected.first().map_or(from, |&(_, s)| meta::sql_step(s).min(from));
    let old = read::load_chunks(conn, &m, start, MAX_STEP, true, None)?;
    for &(id, _) in &affected {
        conn.delete_chunk(id)?;
    }
    let merged = read::merge(old, tail);
    write_chunks(conn, &m, &merged, 0, merged.len())?;
    pyramid::rewrite_from(conn, &m, start, &merged)?;
    conn.delete_tail(m.run, m.key)?;
    m.n_tail = 0;
    m.tail_rows = 0;
    m.tail_min = None;
    m.tail_max = None;
    let (lo, hi, n) = conn.chunk_stats(m.run, m.key)?;
    m.chunk_min = lo.map(meta::sql_step);
    m.chunk_max = hi.map(meta::sql_step);
    m.n_chunk = n;
    conn.save_series(&m)
}

/// Rewrite a whole series from its resolved points.
fn rebuild(conn: &mut dyn Tables, mut m: SeriesMeta, tail: Points) -> Result<()> {
    let chunks = read::load_chunks(conn, &m, 0, MAX_STEP, true, None)?;
    let all = read::merge(chunks, tail);
    conn.delete_series_data(m.run, m.key)?;
    write_chunks(conn, &m, &all, 0, all.len())?;
    if m.min_level < pyramid::NLEVELS {
        m.min_level = -1; // re-decide the lowest level from the rewritten data
    }
    pyramid::add(conn, &mut m, &all, (0, all.len()), true)?;
    m.n_tail = 0;
    m.tail_rows = 0;
    m.tail_min = None;
    m.tail_max = None;
    m.n_chunk = all.len() as i64;
    m.chunk_min = all.steps.first().copied();
    m.chunk_max = all.steps.last().copied();
    conn.save_series(&m)
}
