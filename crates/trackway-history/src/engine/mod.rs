//! The chunk + pyramid history engine, written once over a small table interface ([`Tables`])
//! that each database implements: SQLite (`crate::SqliteHistory`) and PostgreSQL
//! (`trackway-postgres`). Every rule — how rows split into per-key series, the live tail, when
//! and how it is compacted into 4096-point chunks (the codec), the min/max/last pyramid and its
//! levels, how charts, scans and samples read them back — lives in this module's files; a
//! backend only stores and finds the rows they name (see the crate docs for the layout).
//!
//! A backend provides [`Tables`] over one of its transactions (one consistent snapshot for
//! reads) and [`Backend`] to open such transactions, then implements
//! [`HistoryStore`](crate::HistoryStore) by calling the functions here.

pub(crate) mod compact;
pub(crate) mod meta;
pub(crate) mod plot;
pub(crate) mod prefetch;
pub(crate) mod pyramid;
pub(crate) mod read;
pub(crate) mod scan;
pub(crate) mod write;

pub use meta::SeriesMeta;

use crate::{ChartQuery, HistoryRow, HistoryRowRef, Result, RunKey, ScanPage, ScanQuery, Series, Value};

/// Points per compacted chunk.
pub(crate) const CHUNK: usize = 4096;
/// A series' tail is compacted inside `append` once it holds this many points.
pub(crate) const COMPACT_TAIL: i64 = 2 * CHUNK as i64;
/// A series' tail segments are merged into one once there are this many (tiny ingest batches
/// would otherwise make live-tail reads one row per batch).
pub(crate) const COALESCE_TAIL_ROWS: i64 = 64;
/// Reserved series keys for the row's timestamp and runtime.
pub(crate) const KEY_TS: &str = "_timestamp";
pub(crate) const KEY_RT: &str = "_runtime";

/// Visits blobs in order; returns `Ok(false)` to stop early.
pub type BlobVisitor<'v> = dyn FnMut(&[u8]) -> Result<bool> + 'v;
/// Visits (index of the request, blob) of a batched read; returns `Ok(false)` to stop early.
pub type IndexedBlobVisitor<'v> = dyn FnMut(usize, &[u8]) -> Result<bool> + 'v;

/// (id, n, data) of a stored chunk or page.
pub type StoredBlob = (i64, i64, Vec<u8>);

/// A row to insert into a series' blob table (tail segment, chunk or pyramid page). `span` is
/// the chunk's (start, end) step or the page's (first, last) bucket; unused for a tail segment.
#[derive(Clone, Debug)]
pub struct BlobRow {
    pub run: RunKey,
    pub key: i64,
    /// Pyramid level (pages only).
    pub level: i64,
    pub span: (i64, i64),
    pub n: i64,
    pub data: Vec<u8>,
}

/// The engine's tables in one transaction of a database. Steps are stored as signed 64-bit
/// integers; `run`/`key` identify a series (`key` is an id of the global key table). Row ids
/// (`i64`) are the database's own. The tables are those of `crate::SQLITE_MIGRATIONS` (SQLite)
/// and of trackway-postgres' history migration; the crate docs describe each.
pub trait Tables {
    /// The id of a metric name, if it was ever written.
    /// Serialises writers of the run's history until the transaction ends (several replicas
    /// write one database). The engine calls it first in every write. SQLite has one writer:
    /// nothing to do.
    fn lock_run(&mut self, _run: RunKey) -> Result<()> {
        Ok(())
    }

    fn find_key(&mut self, name: &str) -> Result<Option<i64>>;
    /// [`Tables::find_key`] of many names (one ingest batch's), in order.
    fn find_keys(&mut self, names: &[&str]) -> Result<Vec<Option<i64>>> {
        names.iter().map(|n| self.find_key(n)).collect()
    }
    /// Creates the name (or finds it, when another writer created it meanwhile) and returns its id.
    fn insert_key(&mut self, name: &str) -> Result<i64>;

    fn load_series(&mut self, run: RunKey, key: i64) -> Result<Option<SeriesMeta>>;
    /// [`Tables::load_series`] of many runs at once (charts): one query where the database allows.
    fn load_series_of_runs(&mut self, runs: &[RunKey], key: i64) -> Result<Vec<Option<SeriesMeta>>> {
        runs.iter().map(|&r| self.load_series(r, key)).collect()
    }
    /// [`Tables::load_series`] of many keys of one run (one ingest batch's), in order.
    fn load_series_of_keys(&mut self, run: RunKey, keys: &[i64]) -> Result<Vec<Option<SeriesMeta>>> {
        keys.iter().map(|&k| self.load_series(run, k)).collect()
    }
    /// An empty series row (defaults: no points, `min_level` -1, no objects).
    fn insert_series(&mut self, run: RunKey, key: i64) -> Result<()>;
    /// [`Tables::insert_series`] of many keys of one run.
    fn insert_series_of_keys(&mut self, run: RunKey, keys: &[i64]) -> Result<()> {
        keys.iter().try_for_each(|&k| self.insert_series(run, k))
    }
    fn save_series(&mut self, m: &SeriesMeta) -> Result<()>;
    /// [`Tables::save_series`] of many series.
    fn save_series_many(&mut self, metas: &[SeriesMeta]) -> Result<()> {
        metas.iter().try_for_each(|m| self.save_series(m))
    }
    /// (key id, name) of every series of a run, in key id order.
    fn run_series(&mut self, run: RunKey) -> Result<Vec<(i64, String)>>;
    /// Distinct names of the series of these runs (reserved ones included), any order.
    fn names_of_runs(&mut self, runs: &[RunKey]) -> Result<Vec<String>>;
    /// (name, step, json) of the greatest-step object of each series with `has_obj`, key id order.
    fn last_objects(&mut self, run: RunKey) -> Result<Vec<(String, i64, String)>>;
    /// Every row of every table of the run.
    fn delete_run(&mut self, run: RunKey) -> Result<()>;

    fn insert_tail(&mut self, run: RunKey, key: i64, n: i64, data: &[u8]) -> Result<()>;
    /// Tail segments of many series at once (`level`, `span` unused), in order.
    fn insert_tails(&mut self, rows: &[BlobRow]) -> Result<()> {
        rows.iter().try_for_each(|r| self.insert_tail(r.run, r.key, r.n, &r.data))
    }
    /// The series' tail segments in write order.
    fn for_each_tail(&mut self, run: RunKey, key: i64, f: &mut BlobVisitor<'_>) -> Result<()>;
    fn delete_tail(&mut self, run: RunKey, key: i64) -> Result<()>;

    fn insert_chunk(&mut self, run: RunKey, key: i64, steps: (i64, i64), n: i64, data: &[u8]) -> Result<()>;
    /// Several chunks at once (`level` unused).
    fn insert_chunks(&mut self, rows: &[BlobRow]) -> Result<()> {
        rows.iter().try_for_each(|r| self.insert_chunk(r.run, r.key, r.span, r.n, &r.data))
    }
    /// Chunks overlapping the inclusive step range `(lo, hi)`, in step order.
    fn for_each_chunk(&mut self, run: RunKey, key: i64, steps: (i64, i64), f: &mut BlobVisitor<'_>) -> Result<()>;
    /// (id, n, data) of the chunk with the greatest start step.
    fn last_chunk(&mut self, run: RunKey, key: i64) -> Result<Option<(i64, i64, Vec<u8>)>>;
    /// (id, start step) of the chunks ending at or after `from`, in step order.
    fn chunks_ending_from(&mut self, run: RunKey, key: i64, from: i64) -> Result<Vec<(i64, i64)>>;
    fn delete_chunk(&mut self, id: i64) -> Result<()>;
    /// (min start step, max end step, total points) of the series' chunks.
    fn chunk_stats(&mut self, run: RunKey, key: i64) -> Result<(Option<i64>, Option<i64>, i64)>;
    /// The series' chunks, pyramid pages and tail (a rebuild rewrites them).
    fn delete_series_data(&mut self, run: RunKey, key: i64) -> Result<()>;

    /// (id, n, data) of the level's page with the greatest first bucket.
    fn last_page(&mut self, run: RunKey, key: i64, level: i64) -> Result<Option<(i64, i64, Vec<u8>)>>;
    /// (id, data) of the level's page with `first_bucket < b <= last_bucket`.
    fn straddling_page(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<Option<(i64, Vec<u8>)>>;
    /// The level's pages with `first_bucket >= b`.
    fn delete_pages_from(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<()>;
    fn delete_page(&mut self, id: i64) -> Result<()>;
    /// [`Tables::last_page`] of each level `lo..=hi`, in level order.
    fn last_pages(&mut self, run: RunKey, key: i64, (lo, hi): (i64, i64)) -> Result<Vec<Option<StoredBlob>>> {
        (lo..=hi).map(|level| self.last_page(run, key, level)).collect()
    }
    fn delete_pages(&mut self, ids: &[i64]) -> Result<()> {
        ids.iter().try_for_each(|&id| self.delete_page(id))
    }
    /// Several pages at once (after [`Tables::delete_pages`] freed their buckets).
    fn insert_pages(&mut self, rows: &[BlobRow]) -> Result<()> {
        rows.iter().try_for_each(|r| self.insert_page(r.run, r.key, r.level, r.span, r.n, &r.data))
    }
    fn insert_page(
        &mut self,
        run: RunKey,
        key: i64,
        level: i64,
        buckets: (i64, i64),
        n: i64,
        data: &[u8],
    ) -> Result<()>;
    /// The level's pages overlapping the inclusive bucket range `(j_lo, j_hi)`, in bucket order.
    fn for_each_page(
        &mut self,
        run: RunKey,
        key: i64,
        level: i64,
        buckets: (i64, i64),
        f: &mut BlobVisitor<'_>,
    ) -> Result<()>;
    /// [`Tables::for_each_page`] of one key and level over many runs (charts): `f` gets the
    /// index in `ranges` of the (run, bucket range) a page belongs to; pages come in `ranges`
    /// order, each run's in bucket order. One query where the database allows.
    fn pages_of_runs(
        &mut self,
        key: i64,
        level: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        each_of_runs(self, ranges, f, |t, &(run, buckets), visit| t.for_each_page(run, key, level, buckets, visit))
    }
    /// [`Tables::for_each_chunk`] of one key over many runs, like [`Tables::pages_of_runs`]:
    /// `f` gets the index in `ranges` of the (run, step range); each run's chunks in step order.
    fn chunks_of_runs(
        &mut self,
        key: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        each_of_runs(self, ranges, f, |t, &(run, steps), visit| t.for_each_chunk(run, key, steps, visit))
    }
    /// [`Tables::for_each_tail`] of one key over many runs, like [`Tables::pages_of_runs`]:
    /// `f` gets the index in `runs`; each run's segments come in write order.
    fn tails_of_runs(&mut self, key: i64, runs: &[RunKey], f: &mut IndexedBlobVisitor<'_>) -> Result<()> {
        each_of_runs(self, runs, f, |t, &run, visit| t.for_each_tail(run, key, visit))
    }

    /// Inserts or replaces the non-numeric value at (run, key, step).
    fn put_obj(&mut self, run: RunKey, key: i64, step: i64, json: &str) -> Result<()>;
    fn delete_obj(&mut self, run: RunKey, key: i64, step: i64) -> Result<()>;
    /// (step, json) of the series' objects with `lo <= step <= hi`, in step order.
    fn objs(&mut self, run: RunKey, key: i64, lo: i64, hi: i64) -> Result<Vec<(i64, String)>>;
}

/// The looping default of the `*_of_runs` reads: one single-run read per item, in order, `f`
/// told the item's index; stops when `f` returns false.
fn each_of_runs<S: Tables + ?Sized, T>(
    t: &mut S,
    items: &[T],
    f: &mut IndexedBlobVisitor<'_>,
    read: impl Fn(&mut S, &T, &mut BlobVisitor<'_>) -> Result<()>,
) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        let mut go = true;
        read(t, item, &mut |blob| {
            go = f(i, blob)?;
            Ok(go)
        })?;
        if !go {
            break;
        }
    }
    Ok(())
}

/// How a backend opens transactions for the engine.
pub trait Backend: Sync {
    /// Runs `f` in one read-only snapshot.
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()>;
    /// Runs `f` in one write transaction, committed when `f` succeeds.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()>;
    /// Read snapshots a chart may use at once (one per worker thread).
    fn threads(&self) -> usize;
}

/// `f` in one read snapshot of `b`, returning its value.
pub(crate) fn read_with<T>(b: &dyn Backend, f: impl FnOnce(&mut dyn Tables) -> Result<T>) -> Result<T> {
    let mut f = Some(f);
    let mut out = None;
    b.read(&mut |t| {
        if let Some(f) = f.take() {
            out = Some(f(t)?);
        }
        Ok(())
    })?;
    out.ok_or_else(|| crate::HistoryError::Internal("read snapshot did not run".into()))
}

fn write_with(b: &dyn Backend, f: impl FnOnce(&mut dyn Tables) -> Result<()>) -> Result<()> {
    let mut f = Some(f);
    b.write(&mut |t| f.take().map_or(Ok(()), |f| f(t)))
}

/// [`HistoryTx::append`](crate::HistoryTx::append) on a backend's tables.
pub fn append_refs(t: &mut dyn Tables, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
    t.lock_run(run)?;
    write::append_refs(t, run, rows)
}

/// [`HistoryTx::delete_run`](crate::HistoryTx::delete_run) on a backend's tables.
pub fn delete_run_in(t: &mut dyn Tables, run: RunKey) -> Result<()> {
    t.lock_run(run)?;
    t.delete_run(run)
}

/// [`HistoryStore::keys`](crate::HistoryStore::keys) on a backend's tables (inside a caller's transaction).
pub fn keys_in(t: &mut dyn Tables, run: RunKey) -> Result<Vec<String>> {
    meta::run_keys(t, run)
}

/// [`HistoryStore::append`](crate::HistoryStore::append) in one write transaction.
pub fn append(b: &dyn Backend, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
    let refs: Vec<HistoryRowRef<'_>> = rows.iter().map(HistoryRowRef::from).collect();
    write_with(b, |t| append_refs(t, run, &refs))
}

/// [`HistoryStore::chart`](crate::HistoryStore::chart).
pub fn chart(b: &dyn Backend, q: &ChartQuery) -> Result<Vec<Series>> {
    plot::chart(b, q)
}

/// [`HistoryStore::scan`](crate::HistoryStore::scan) in one snapshot.
pub fn scan(b: &dyn Backend, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
    read_with(b, |t| scan::scan(t, run, q))
}

/// [`HistoryStore::sampled`](crate::HistoryStore::sampled) in one snapshot.
pub fn sampled(b: &dyn Backend, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
    read_with(b, |t| scan::sampled(t, run, keys, samples))
}

/// [`HistoryStore::keys`](crate::HistoryStore::keys).
pub fn keys(b: &dyn Backend, run: RunKey) -> Result<Vec<String>> {
    read_with(b, |t| meta::run_keys(t, run))
}

/// [`HistoryStore::keys_of_runs`](crate::HistoryStore::keys_of_runs).
pub fn keys_of_runs(b: &dyn Backend, runs: &[RunKey]) -> Result<Vec<String>> {
    read_with(b, |t| meta::keys_of_runs(t, runs))
}

/// [`HistoryStore::last_objects`](crate::HistoryStore::last_objects).
pub fn last_objects(b: &dyn Backend, run: RunKey) -> Result<Vec<(String, u64, Value)>> {
    read_with(b, |t| meta::last_objects(t, run))
}

/// [`HistoryStore::delete_run`](crate::HistoryStore::delete_run) in one write transaction.
pub fn delete_run(b: &dyn Backend, run: RunKey) -> Result<()> {
    write_with(b, |t| delete_run_in(t, run))
}

/// [`HistoryStore::compact`](crate::HistoryStore::compact) in one write transaction.
pub fn compact(b: &dyn Backend, run: RunKey) -> Result<()> {
    write_with(b, |t| {
        t.lock_run(run)?;
        compact::compact_run(t, run)
    })
}
