//! Reading one numeric series: compacted chunks merged with the live tail (last write wins).

use super::Tables;
use super::meta::{SeriesMeta, sql_step, step_to_sql};
use crate::Result;
use crate::codec::{self, KIND_TOMBSTONE, Points};

/// The tail of a series in write order, tombstones included.
pub(crate) fn load_tail(conn: &mut dyn Tables, m: &SeriesMeta) -> Result<Points> {
    let mut out = Points::default();
    if m.n_tail == 0 {
        return Ok(out);
    }
    conn.for_each_tail(m.run, m.key, &mut |blob| {
        add_tail_segment(&mut out, blob)?;
        Ok(true)
    })?;
    Ok(out)
}

/// Appends one tail segment (a `hist_tail` blob) to the tail read so far.
pub(crate) fn add_tail_segment(out: &mut Points, blob: &[u8]) -> Result<()> {
    let p = codec::decode_points(blob, true)?;
    out.extend_from(&p, 0, p.len());
    Ok(())
}

/// Sort by step keeping, for each step, the last written point (which may be a tombstone).
pub(crate) fn last_wins(p: Points) -> Points {
    let sorted = p.steps.windows(2).all(|w| w[0] < w[1]);
    if sorted {
        return p;
    }
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by_key(|&i| p.steps[i]); // stable: write order kept within a step
    let mut out = Points::default();
    for (j, &i) in idx.iter().enumerate() {
        let next_same = idx.get(j + 1).is_some_and(|&n| p.steps[n] == p.steps[i]);
        if !next_same {
            out.push(p.steps[i], p.vals[i], p.kinds[i]);
        }
    }
    out
}

/// Drop tombstones (after `last_wins`, a tombstone means "no numeric value here").
pub(crate) fn without_tombstones(p: Points) -> Points {
    if !p.kinds.contains(&KIND_TOMBSTONE) {
        return p;
    }
    let mut out = Points::default();
    for i in 0..p.len() {
        if p.kinds[i] != KIND_TOMBSTONE {
            out.push(p.steps[i], p.vals[i], p.kinds[i]);
        }
    }
    out
}

/// Visit the compacted points with lo <= step <= hi chunk by chunk, in step order, without
/// collecting them (bounded memory). `f` returns false to stop early.
pub(crate) fn for_each_chunk(
    conn: &mut dyn Tables,
    m: &SeriesMeta,
    lo: u64,
    hi: u64,
    with_values: bool,
    f: &mut dyn FnMut(&Points) -> bool,
) -> Result<()> {
    if m.n_chunk == 0 || lo > hi {
        return Ok(());
    }
    let mut p = Points::default();
    conn.for_each_chunk(m.run, m.key, (step_to_sql(lo)?, step_to_sql(hi)?), &mut |blob| {
        chunk_points(blob, with_values, lo, hi, &mut p)?;
        Ok(f(&p))
    })
}

/// Decodes one chunk (a `hist_chunk` blob) into `p`, clipped to [lo, hi].
pub(crate) fn chunk_points(blob: &[u8], with_values: bool, lo: u64, hi: u64, p: &mut Points) -> Result<()> {
    codec::decode_points_into(blob, with_values, p)?;
    if !with_values {
        p.vals.resize(p.len(), 0.0);
        p.kinds.resize(p.len(), 0);
    }
    p.clip(lo, hi);
    Ok(())
}

/// Chunk points with lo <= step <= hi. With `limit`, stops after the chunk that brings the
/// count above `limit` (callers use this only when the tail cannot interleave).
pub(crate) fn load_chunks(
    conn: &mut dyn Tables,
    m: &SeriesMeta,
    lo: u64,
    hi: u64,
    with_values: bool,
    limit: Option<usize>,
) -> Result<Points> {
    let mut out = Points::default();
    let whole = m.chunk_min.is_some_and(|c| lo <= c) && m.chunk_max.is_some_and(|c| hi >= c);
    if whole && limit.is_none() {
        let n = usize::try_from(m.n_chunk).unwrap_or(0);
        out.steps.reserve(n);
        out.vals.reserve(n);
        out.kinds.reserve(n);
    }
    for_each_chunk(conn, m, lo, hi, with_values, &mut |p| {
        out.extend_from(p, 0, p.len());
        limit.is_none_or(|l| out.len() <= l)
    })?;
    Ok(out)
}

/// The live tail resolved (sorted, last write wins, no tombstones) and clipped to [lo, hi].
pub(crate) fn tail_points(conn: &mut dyn Tables, m: &SeriesMeta, lo: u64, hi: u64) -> Result<Points> {
    Ok(resolved_tail(load_tail(conn, m)?, lo, hi))
}

/// [`tail_points`] of a tail already read in write order.
pub(crate) fn resolved_tail(tail: Points, lo: u64, hi: u64) -> Points {
    let mut t = without_tombstones(last_wins(tail));
    t.clip(lo, hi);
    t
}

/// Merge sorted unique chunk points with sorted last-wins tail points; the tail wins ties and
/// its tombstones delete.
pub(crate) fn merge(chunks: Points, tail: Points) -> Points {
    if tail.len() == 0 {
        return chunks;
    }
    if chunks.len() == 0 || chunks.steps.last() < tail.steps.first() {
        let mut out = chunks;
        let t = without_tombstones(tail);
        out.extend_from(&t, 0, t.len());
        return out;
    }
    let mut out = Points::default();
    let (mut i, mut j) = (0, 0);
    while i < chunks.len() || j < tail.len() {
        let take_tail = j < tail.len() && (i >= chunks.len() || tail.steps[j] <= chunks.steps[i]);
        if take_tail {
            if i < chunks.len() && chunks.steps[i] == tail.steps[j] {
                i += 1;
            }
            if tail.kinds[j] != KIND_TOMBSTONE {
                out.push(tail.steps[j], tail.vals[j], tail.kinds[j]);
            }
            j += 1;
        } else {
            out.push(chunks.steps[i], chunks.vals[i], chunks.kinds[i]);
            i += 1;
        }
    }
    out
}

/// The resolved points of a series with lo <= step <= hi, sorted by step, one per step.
/// With `limit`, only the first `limit` points are returned.
pub(crate) fn resolve(
    conn: &mut dyn Tables,
    m: &SeriesMeta,
    lo: u64,
    hi: u64,
    with_values: bool,
    limit: Option<usize>,
) -> Result<Points> {
    let chunk_limit = if m.tail_after_chunks() { limit } else { None };
    let chunks = load_chunks(conn, m, lo, hi, with_values, chunk_limit)?;
    let mut tail = last_wins(load_tail(conn, m)?);
    tail.clip(lo, hi);
    let mut out = merge(chunks, tail);
    if let Some(l) = limit {
        out.truncate(l);
    }
    Ok(out)
}

/// Non-numeric values of a series with lo <= step <= hi, as (step, json).
pub(crate) fn load_objs(conn: &mut dyn Tables, m: &SeriesMeta, lo: u64, hi: u64) -> Result<Vec<(u64, String)>> {
    if !m.has_obj {
        return Ok(Vec::new());
    }
    let rows = conn.objs(m.run, m.key, step_to_sql(lo)?, step_to_sql(hi)?)?;
    Ok(rows.into_iter().map(|(s, json)| (sql_step(s), json)).collect())
}
