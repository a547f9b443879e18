//! Batched chart reads: the pyramid pages and live tails of one metric over a group of runs,
//! read with one [`Tables::pages_of_runs`] and one [`Tables::tails_of_runs`] call (one query each
//! on PostgreSQL) instead of one query per run. Groups are bounded ([`RUNS_PER_READ`]) so the
//! blobs held at once stay small.

use std::collections::HashMap;

use super::read;
use super::{IndexedBlobVisitor, Tables};
use crate::codec::Points;
use crate::{Result, RunKey};

/// Runs whose pages and tails are read (and held) at once.
pub(crate) const RUNS_PER_READ: usize = 64;

/// What the chart of one run of a group reads, decided before the group is read.
pub(crate) struct Need {
    pub run: RunKey,
    /// Whole pyramid buckets `(j_lo, j_hi)` to read at the query's level.
    pub pages: Option<(u64, u64)>,
    /// The step range `(lo, hi)` whose raw chunks are read.
    pub chunks: Option<(u64, u64)>,
    /// Whether the run's live tail is read.
    pub tail: bool,
}

/// The buckets (steps) a run's pages (chunks) were read for, and the blobs.
type RunPages = ((u64, u64), Vec<Vec<u8>>);

/// The pages and tails of one group of runs, by run.
#[derive(Default)]
pub(crate) struct Prefetched {
    pages: HashMap<RunKey, RunPages>,
    chunks: HashMap<RunKey, RunPages>,
    tails: HashMap<RunKey, Points>,
}

impl Prefetched {
    /// Reads what `needs` name for metric `key` (pages at `level`).
    pub(crate) fn read(t: &mut dyn Tables, key: i64, level: i64, needs: &[Need]) -> Result<Prefetched> {
        let mut out = Prefetched::default();
        let pages: Vec<(RunKey, (u64, u64))> = needs.iter().filter_map(|n| Some((n.run, n.pages?))).collect();
        out.pages = blobs_of(&pages, &mut |ranges, f| t.pages_of_runs(key, level, ranges, f))?;
        let chunks: Vec<(RunKey, (u64, u64))> = needs.iter().filter_map(|n| Some((n.run, n.chunks?))).collect();
        out.chunks = blobs_of(&chunks, &mut |ranges, f| t.chunks_of_runs(key, ranges, f))?;
        let tail_runs: Vec<RunKey> = needs.iter().filter(|n| n.tail).map(|n| n.run).collect();
        for &run in &tail_runs {
            out.tails.insert(run, Points::default());
        }
        t.tails_of_runs(key, &tail_runs, &mut |i, blob| {
            if let Some(p) = tail_runs.get(i).and_then(|run| out.tails.get_mut(run)) {
                read::add_tail_segment(p, blob)?;
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// The run's pages when they were read for exactly these buckets.
    pub(crate) fn pages(&self, run: RunKey, buckets: (u64, u64)) -> Option<&[Vec<u8>]> {
        self.pages.get(&run).filter(|(b, _)| *b == buckets).map(|(_, p)| p.as_slice())
    }

    /// The run's chunks when they were read for exactly these steps.
    pub(crate) fn chunks(&self, run: RunKey, steps: (u64, u64)) -> Option<&[Vec<u8>]> {
        self.chunks.get(&run).filter(|(b, _)| *b == steps).map(|(_, p)| p.as_slice())
    }

    /// The run's tail in write order, when it was read.
    pub(crate) fn tail(&self, run: RunKey) -> Option<&Points> {
        self.tails.get(&run)
    }
}

/// A batched read of (run, range) requests, collected by run.
type BatchRead<'a> = dyn FnMut(&[(RunKey, (i64, i64))], &mut IndexedBlobVisitor<'_>) -> Result<()> + 'a;

fn blobs_of(wanted: &[(RunKey, (u64, u64))], read: &mut BatchRead<'_>) -> Result<HashMap<RunKey, RunPages>> {
    let mut out: HashMap<RunKey, RunPages> = wanted.iter().map(|&(run, r)| (run, (r, Vec::new()))).collect();
    let ranges: Vec<(RunKey, (i64, i64))> = wanted
        .iter()
        .map(|&(run, (a, b))| (run, (i64::try_from(a).unwrap_or(i64::MAX), i64::try_from(b).unwrap_or(i64::MAX))))
        .collect();
    read(&ranges, &mut |i, blob| {
        if let Some((_, blobs)) = wanted.get(i).and_then(|(run, _)| out.get_mut(run)) {
            blobs.push(blob.to_vec());
        }
        Ok(true)
    })?;
    Ok(out)
}
