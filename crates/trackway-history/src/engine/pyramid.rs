//! The aggregate pyramid: per (run, key, level), pages of buckets of width 2^(7+level) steps.
//!
//! Only compacted points are in the pyramid, and points are added in step order after everything
//! already in it (a rewrite of old steps rebuilds the series), so adding is a merge at the last
//! bucket plus appends. The last page of a level stays small and raw (cheap to rewrite); full
//! pages are pco-compressed.

use super::meta::SeriesMeta;
use super::{BlobRow, StoredBlob, Tables};
use crate::chart::{Agg, Buckets};
use crate::codec::{self, Points, Reader};
use crate::{HistoryError, Result};

/// Level 0 buckets are 2^7 = 128 steps wide.
pub(crate) const LEVEL0_SHIFT: u32 = 7;
/// Levels 0..NLEVELS: widths 128 .. 2^22 steps.
pub(crate) const NLEVELS: i64 = 16;
const PAGE_CAP: usize = 512;

pub(crate) fn shift_of(level: i64) -> u32 {
    LEVEL0_SHIFT + level as u32
}

/// The lowest level worth keeping: buckets should hold ~4+ points on average, otherwise the
/// pyramid costs more than the raw data it summarises.
fn choose_level(steps: &[u64]) -> i64 {
    let n = steps.len();
    if n < 2 {
        return 0;
    }
    let spacing = steps[n - 1].saturating_sub(steps[0]) as f64 / (n - 1) as f64;
    let mut l = 0;
    while l < NLEVELS && ((1u64 << shift_of(l)) as f64) < 4.0 * spacing {
        l += 1;
    }
    l
}

/// Add points `pts[from..to]` (sorted, after everything already in the pyramid). `seal`
/// compresses the last page of each level too (when the series is not expected to grow soon).
pub(crate) fn add(
    conn: &mut dyn Tables,
    m: &mut SeriesMeta,
    pts: &Points,
    (from, to): (usize, usize),
    seal: bool,
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    if m.min_level < 0 {
        m.min_level = choose_level(&pts.steps[from..to]);
    }
    if m.min_level >= NLEVELS {
        return Ok(());
    }
    let shift = shift_of(m.min_level);
    let mut b = Buckets::default();
    b.add_sorted(&pts.steps[from..to], &pts.vals[from..to], shift);
    // Every level's last page in one read, every change in one delete and one insert.
    let lasts = conn.last_pages(m.run, m.key, (m.min_level, NLEVELS - 1))?;
    let (mut old, mut rows) = (Vec::new(), Vec::new());
    for (level, last) in (m.min_level..NLEVELS).zip(lasts) {
        if level > m.min_level {
            let mut up = Buckets::default();
            for (idx, a) in &b.items {
                up.merge(idx >> 1, a);
            }
            b = up;
        }
        plan_level(m, level, last, &b.items, seal, &mut old, &mut rows)?;
    }
    conn.delete_pages(&old)?;
    conn.insert_pages(&rows)
}

fn write_level(conn: &mut dyn Tables, m: &SeriesMeta, level: i64, new: &[(u64, Agg)], seal: bool) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let last = conn.last_page(m.run, m.key, level)?;
    let (mut old, mut rows) = (Vec::new(), Vec::new());
    plan_level(m, level, last, new, seal, &mut old, &mut rows)?;
    conn.delete_pages(&old)?;
    conn.insert_pages(&rows)
}

/// What adding the `new` buckets (after or at the end of the level) changes, given the level's
/// last page `last`: the ids of pages to delete (`old`) and the pages to insert (`rows`). A small
/// or touched last page is rewritten with the new buckets merged in.
fn plan_level(
    m: &SeriesMeta,
    level: i64,
    last: Option<StoredBlob>,
    new: &[(u64, Agg)],
    seal: bool,
    old: &mut Vec<i64>,
    rows: &mut Vec<BlobRow>,
) -> Result<()> {
    let Some(&(first_new, _)) = new.first() else { return Ok(()) };
    let shift = shift_of(level);
    let mut items = Buckets::default();
    if let Some((id, n, data)) = last {
        let page = decode_page(&data, shift)?;
        let touches = page.last().is_some_and(|(b, _)| *b >= first_new);
        if (n as usize) < PAGE_CAP || touches {
            old.push(id);
            items.items = page;
        }
    }
    for (idx, a) in new {
        items.merge(*idx, a);
    }
    for page in items.items.chunks(PAGE_CAP) {
        rows.push(page_row(m, level, page, seal || page.len() == PAGE_CAP)?);
    }
    Ok(())
}

fn page_row(m: &SeriesMeta, level: i64, page: &[(u64, Agg)], compress: bool) -> Result<BlobRow> {
    let data = encode_page(page, shift_of(level), compress)?;
    let span = (page[0].0 as i64, page[page.len() - 1].0 as i64);
    Ok(BlobRow { run: m.run, key: m.key, level, span, n: page.len() as i64, data })
}

/// Drop the buckets with index >= `b` of one level (their pages are deleted, a page that
/// straddles `b` is replaced by its first part).
fn truncate_level(conn: &mut dyn Tables, m: &SeriesMeta, level: i64, b: u64) -> Result<()> {
    let straddling = conn.straddling_page(m.run, m.key, level, b as i64)?;
    conn.delete_pages_from(m.run, m.key, level, b as i64)?;
    if let Some((id, data)) = straddling {
        let mut items = decode_page(&data, shift_of(level))?;
        items.retain(|(i, _)| *i < b);
        conn.delete_page(id)?;
        if !items.is_empty() {
            conn.insert_pages(&[page_row(m, level, &items, true)?])?;
        }
    }
    Ok(())
}

/// Recompute every level from step `start` on, after the compacted points from `start` on were
/// replaced by `rewritten` (sorted). Older buckets are kept; a bucket that straddles `start` is
/// recomputed from the older chunk points it also holds (decoded, not rewritten).
pub(crate) fn rewrite_from(conn: &mut dyn Tables, m: &SeriesMeta, start: u64, rewritten: &Points) -> Result<()> {
    if m.min_level < 0 || m.min_level >= NLEVELS {
        return Ok(());
    }
    let top = shift_of(NLEVELS - 1);
    let prefix_start = (start >> top) << top;
    let mut all = if prefix_start < start {
        super::read::load_chunks(conn, m, prefix_start, start - 1, true, None)?
    } else {
        Points::default()
    };
    all.extend_from(rewritten, 0, rewritten.len());
    for level in m.min_level..NLEVELS {
        let shift = shift_of(level);
        let b = start >> shift;
        truncate_level(conn, m, level, b)?;
        let from = all.steps.partition_point(|&s| s < (b << shift));
        let mut bk = Buckets::default();
        bk.add_sorted(&all.steps[from..], &all.vals[from..], shift);
        write_level(conn, m, level, &bk.items, true)?;
    }
    Ok(())
}

fn encode_page(items: &[(u64, Agg)], shift: u32, compress: bool) -> Result<Vec<u8>> {
    let n = items.len();
    let mut out = Vec::with_capacity(16 + n * 8);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    let ints = |f: &dyn Fn(&(u64, Agg)) -> u64| items.iter().map(f).collect::<Vec<u64>>();
    let floats = |f: &dyn Fn(&Agg) -> f64| items.iter().map(|(_, a)| f(a)).collect::<Vec<f64>>();
    codec::put_u64s(&mut out, &ints(&|e| e.0), compress)?;
    codec::put_u64s(&mut out, &ints(&|e| e.1.count), compress)?;
    codec::put_u64s(&mut out, &ints(&|e| e.1.nonfinite), compress)?;
    codec::put_u64s(&mut out, &ints(&|e| e.1.last_step - (e.0 << shift)), compress)?;
    codec::put_f64s(&mut out, &floats(&|a| a.min), compress)?;
    codec::put_f64s(&mut out, &floats(&|a| a.max), compress)?;
    codec::put_f64s(&mut out, &floats(&|a| a.sum), compress)?;
    codec::put_f64s(&mut out, &floats(&|a| a.last), compress)?;
    Ok(out)
}

/// A decoded page, column by column.
struct Page {
    idx: Vec<u64>,
    count: Vec<u64>,
    nonfinite: Vec<u64>,
    off: Vec<u64>,
    min: Vec<f64>,
    max: Vec<f64>,
    sum: Vec<f64>,
    last: Vec<f64>,
}

impl Page {
    fn decode(blob: &[u8]) -> Result<Page> {
        let mut r = Reader::new(blob);
        let n = r.u32()? as usize;
        Ok(Page {
            idx: codec::get_u64s(&mut r, n)?,
            count: codec::get_u64s(&mut r, n)?,
            nonfinite: codec::get_u64s(&mut r, n)?,
            off: codec::get_u64s(&mut r, n)?,
            min: codec::get_f64s(&mut r, n)?,
            max: codec::get_f64s(&mut r, n)?,
            sum: codec::get_f64s(&mut r, n)?,
            last: codec::get_f64s(&mut r, n)?,
        })
    }

    fn agg(&self, i: usize, shift: u32) -> Result<Agg> {
        let last_step = (self.idx[i] << shift)
            .checked_add(self.off[i])
            .ok_or_else(|| HistoryError::Corrupt("pyramid step overflow".into()))?;
        Ok(Agg {
            count: self.count[i],
            nonfinite: self.nonfinite[i],
            min: self.min[i],
            max: self.max[i],
            sum: self.sum[i],
            last: self.last[i],
            last_step,
            last_x: last_step as f64,
        })
    }
}

pub(crate) fn decode_page(blob: &[u8], shift: u32) -> Result<Vec<(u64, Agg)>> {
    let p = Page::decode(blob)?;
    (0..p.idx.len()).map(|i| Ok((p.idx[i], p.agg(i, shift)?))).collect()
}

/// Buckets of one level with j_lo <= index <= j_hi, in index order.
pub(crate) fn read_level(
    conn: &mut dyn Tables,
    m: &SeriesMeta,
    level: i64,
    j_lo: u64,
    j_hi: u64,
    out: &mut dyn FnMut(u64, &Agg),
) -> Result<()> {
    conn.for_each_page(m.run, m.key, level, (j_lo as i64, j_hi as i64), &mut |blob| {
        read_page(blob, level, j_lo, j_hi, out)?;
        Ok(true)
    })
}

/// The buckets of one page (a `hist_pyr` blob of `level`) with j_lo <= index <= j_hi, in order.
pub(crate) fn read_page(blob: &[u8], level: i64, j_lo: u64, j_hi: u64, out: &mut dyn FnMut(u64, &Agg)) -> Result<()> {
    let shift = shift_of(level);
    let page = Page::decode(blob)?;
    let from = page.idx.partition_point(|&i| i < j_lo);
    let to = page.idx.partition_point(|&i| i <= j_hi);
    for i in from..to {
        out(page.idx[i], &page.agg(i, shift)?);
    }
    Ok(())
}
