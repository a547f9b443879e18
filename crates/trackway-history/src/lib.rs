//! Run history storage: the [`HistoryStore`] trait, the chunk + pyramid engine ([`engine`],
//! written once over a small table interface, [`engine::Tables`]) with its embedded SQLite
//! tables ([`SqliteHistory`]; trackway-postgres runs the same engine on PostgreSQL), an
//! in-memory reference store ([`MemoryHistory`], for tests) and the conformance suite every
//! backend must pass (`conformance`, compiled for this crate's tests and behind the `testsuite`
//! feature for other backends' crates, never into release binaries).
//!
//! # Data model
//!
//! A run's history is a map `step -> row`; a row maps metric keys to [`Value`]s and carries the
//! row's `_timestamp` and `_runtime`. Callers hand in [`HistoryRow`]s exactly as run-log
//! `history` records arrive (fragments are fine: consecutive records with the same step need
//! not be merged first). Rules:
//!
//! * **Last write wins per (run, step, key).** Writing a key at a step that already holds it
//!   replaces the value; a later position wins (a later `append` call, or a later row in the same
//!   call). Keys of that step that are not written again keep their values, so fragments of one
//!   row merge as `docs/run-format.md` says. `_timestamp`/`_runtime` of a step are those of the
//!   last fragment written for it.
//! * **Out-of-order steps** (resumed runs, rewinds) are accepted with the same rule; the store
//!   stays sorted by step. Nothing is ever deleted except by `delete_run` and by overwrites.
//! * **Numeric values** (`Float`, and `Int`/`UInt` whose magnitude is ≤ 2^53 so that they are
//!   exact as f64) go into per-(run, metric) numeric series and are charted. Their exact
//!   variant is kept (`Int(3)` comes back as `Int(3)`, `Float(3.0)` as `Float(3.0)`, `-0.0`, NaN
//!   and ±Inf bit-exact).
//! * **Other values** (strings, bools, null, lists, maps, bigger integers, media references,
//!   histograms) are stored beside, as Trackway JSON, and returned by `scan`/`sampled`/export.
//!   They are not charted.
//!
//! # Chart semantics
//!
//! [`HistoryStore::chart`] returns one [`Series`] per requested run (same order). Buckets are
//! aligned on the x axis; each carries `count` (all points), `nonfinite` (NaN/±Inf points),
//! `min`/`max`/`mean` over the **finite** points only (NaN when the bucket has none), `last`
//! (the value of the point with the greatest step, whatever it is, possibly NaN/±Inf) and `x`
//! (the x of that last point, so the `last` line runs through real points). When the range holds
//! no more points than the budget, `exact` is true and every array holds the raw points.
//!
//! For `x = _step`, buckets have a power-of-two width `w` ≥ range / (budget - 1) and are aligned
//! to multiples of `w` (the same for all runs of one query, so lines from different runs line up).
//! For the other axes, `x` is joined to the metric by step (a row must hold both), buckets have
//! equal width over `[x_min, x_max]` and `last` is the point with the greatest step.
//!
//! # Writing inside the storage backend's transaction
//!
//! The server's ingest applies a batch atomically with its high-water mark: the metadata store
//! opens its write transaction and appends the history rows through a [`HistoryTx`] of the same
//! backend, so rows, run row and mark commit together or not at all. The SQLite engine lives in
//! the **same database** as the metadata store (tables prefixed `hist_`), a
//! `trackway_sqlite::Database` that owns the file's only writer connection and its reader pool;
//! its tables are created by steps of that database's one migration list ([`SQLITE_MIGRATIONS`],
//! appended to the store's). [`SqliteHistoryTx`] is the SQLite [`HistoryTx`]:
//!
//! ```ignore
//! store.write(|tx| {                                 // the database's one writer
//!     advance_mark(tx, ...)?;                        // the store's tables
//!     SqliteHistoryTx::new(tx).append(run, &rows)?;  // ours, same transaction
//!     Ok(())
//! })?;                                               // durable together, or not at all
//! ```
//!
//! [`SqliteHistoryTx`] keeps no in-memory state that a rollback could invalidate. It may compact a
//! series (tail -> chunks + pyramid) inside that transaction when the series' tail has grown past
//! a threshold. Reads ([`HistoryStore`] methods) use the database's reader pool (WAL mode), so
//! they see committed data only; [`HistoryStore::compact`] and [`HistoryStore::delete_run`]
//! queue on the same single writer as ingest.
//!
//! # Storage layout (the engine's tables; the same on SQLite and PostgreSQL)
//!
//! The engine's rules live in [`engine`]; a database provides only [`engine::Tables`] (store and
//! find these rows in one transaction) and [`engine::Backend`] (open read snapshots and write
//! transactions). On PostgreSQL every write of a run first takes an advisory lock on the run
//! ([`engine::Tables::lock_run`]), as several replicas share the tables.
//!
//! * `hist_key(id, name)` — metric names, global.
//! * `hist_series(run, key, ...)` — one row per (run, key) seen, with tail/chunk statistics.
//! * `hist_tail` — the live tail: one row per (run, key, append call) holding that call's points
//!   as raw arrays (no compression: ingest speed). Queryable at once. A series' segments are
//!   merged into one row after 64 appends; the tail is compacted inside `append` once it holds
//!   8192 points (whole 4096-point chunks are written, the rest stays in the tail), and fully by
//!   [`HistoryStore::compact`] (the server calls it when a run finishes).
//! * `hist_chunk` — immutable compacted chunks of 4096 points per (run, key): steps (stored as
//!   start + stride when arithmetic, else pco), values (pco, level 4), value kinds. Disjoint,
//!   sorted step ranges. A chunk is never updated in place: a small last chunk (left by an
//!   on-demand compaction) is replaced by a new row holding its points plus the next ones, and a
//!   tail that rewrites compacted steps (rewind, resume, out-of-order) replaces the chunks from
//!   the first one it touches on with new rows (older chunks untouched) and recomputes the
//!   pyramid buckets from that step on.
//! * `hist_pyr` — per (run, key, level) pages of up to 512 aggregate buckets (count, nonfinite,
//!   min, max, sum, last, last step) at bucket widths 128·2^level steps (levels 0..16; the lowest
//!   level is chosen per series so that buckets hold ≥ ~4 points). Mergeable, so a chart bucket
//!   is the merge of whole pyramid buckets plus raw points at the ragged edges and in the tail.
//!   The last page of a level stays raw while the run is live and is compressed (pco) when the
//!   run is compacted.
//! * `hist_obj(run, key, step, json)` — non-numeric values.
//! * The row's `_timestamp` and `_runtime` are two numeric series under the reserved keys
//!   `_timestamp` and `_runtime` (no pyramid); their steps define which rows exist.
//!
//! # Costs
//!
//! * `chart` with `x = _step`: when the bucket width is ≥ 128 steps, O(runs × buckets) pyramid
//!   reads plus at most two edge chunks and the live tail per run; below that (zooms), a streamed
//!   decode of the chunks overlapping the range (≤ budget·width + 8192 points per run). Runs are
//!   split over up to 4 threads (one read connection each); memory is the output plus one chunk
//!   per thread.
//! * `chart` with `_runtime`, `_timestamp` or a metric as x: O(points of the run) per run (both
//!   series are decoded and joined by step); memory is one run's two series at a time.
//! * `scan`: O(page + one chunk per key) per page. Exports ([`export::write_csv`],
//!   [`export::write_jsonl`], [`export::write_parquet`]) page through `scan`, so they work for any
//!   backend and hold one page in memory (Parquet: one row group).
//!
//! Measured with `bench/history_bench.py` on the 2-core dev VM (1,000 runs × 100,000 steps):
//! 1.9-3.2 M points/s ingest with 1,000-row appends, 2.87 B per float32-origin loss point
//! (chunks and pyramid) plus 4.1 B per row for full-precision `_timestamp`/`_runtime`, 33-76 ms for a
//! 1,000-run × 1,000-bucket chart and 51-82 ms for a 5 % zoom (the spread is other processes'
//! load), peak RSS 57 MiB.

mod chart;
mod codec;
#[cfg(any(test, feature = "testsuite"))]
pub mod conformance;
#[cfg(test)]
mod conformance_tests;
pub mod engine;
pub mod export;
mod memory;
mod sqlite;

pub use engine::scan::{sample_indices, value_of as numeric_value};
pub use engine::write::numeric as numeric_point;
use indexmap::IndexMap;
pub use memory::{MemoryHistory, chart_points, validate_rows};
pub use sqlite::{MIGRATIONS as SQLITE_MIGRATIONS, SqliteHistory, SqliteHistoryTx};
pub use trackway_types::{Map, Value};

/// The integer key of a run, given by the server (its runs table rowid).
pub type RunKey = i64;

/// Errors of history stores.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sqlite value: {0}")]
    SqliteValue(#[from] rusqlite::types::FromSqlError),
    #[error("corrupt stored history: {0}")]
    Corrupt(String),
    /// The caller's input is wrong (a step out of range, a reserved key): a 4xx.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A failure inside the engine (poisoned lock, codec, worker panic): never the caller's fault.
    #[error("internal: {0}")]
    Internal(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Db(#[from] trackway_sqlite::DbError),
    /// Another backend's database client failed (PostgreSQL, ...).
    #[error("database: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = HistoryError> = std::result::Result<T, E>;

/// One history row or fragment of one (a run-log `history` record).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub step: u64,
    /// `_timestamp`: Unix seconds.
    pub ts: f64,
    /// `_runtime`: seconds since the run started.
    pub rt: f64,
    /// Metric values. Never contains `_step`, `_runtime` or `_timestamp`.
    pub data: Map,
}

/// A history row whose values are borrowed (the server's parsed batch), so ingest does not
/// copy every key and value before appending.
#[derive(Clone, Copy, Debug)]
pub struct HistoryRowRef<'a> {
    pub step: u64,
    pub ts: f64,
    pub rt: f64,
    pub data: &'a Map,
}

impl<'a> From<&'a HistoryRow> for HistoryRowRef<'a> {
    fn from(r: &'a HistoryRow) -> Self {
        HistoryRowRef { step: r.step, ts: r.ts, rt: r.rt, data: &r.data }
    }
}

impl HistoryRow {
    /// The row as one map: `_step`, `_runtime`, `_timestamp` first, then the data keys.
    #[must_use]
    pub fn to_map(&self) -> Map {
        let mut m = IndexMap::with_capacity(self.data.len() + 3);
        m.insert("_step".to_string(), step_value(self.step));
        m.insert("_runtime".to_string(), Value::Float(self.rt));
        m.insert("_timestamp".to_string(), Value::Float(self.ts));
        for (k, v) in &self.data {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

fn step_value(step: u64) -> Value {
    i64::try_from(step).map_or(Value::UInt(step), Value::Int)
}

/// The x axis of a chart.
#[derive(Clone, Debug, PartialEq)]
pub enum XAxis {
    Step,
    Runtime,
    Timestamp,
    /// Another logged metric, joined by step.
    Metric(String),
}

impl XAxis {
    /// `_step`, `_runtime`, `_timestamp`, anything else is a metric name.
    #[must_use]
    pub fn parse(s: &str) -> XAxis {
        match s {
            "_step" | "" => XAxis::Step,
            "_runtime" => XAxis::Runtime,
            "_timestamp" => XAxis::Timestamp,
            other => XAxis::Metric(other.to_string()),
        }
    }
}

/// A chart request: one metric over many runs.
#[derive(Clone, Debug)]
pub struct ChartQuery {
    pub runs: Vec<RunKey>,
    pub metric: String,
    pub x: XAxis,
    /// Inclusive x range; `None` = from the data.
    pub x_min: Option<f64>,
    pub x_max: Option<f64>,
    /// Maximum number of buckets per run (at least 1; values above 100,000 are clamped).
    pub buckets: usize,
}

/// Downsampled points of one run, as columnar arrays of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub run: RunKey,
    pub x: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub last: Vec<f64>,
    pub mean: Vec<f64>,
    /// Points in the bucket (finite or not).
    pub count: Vec<u64>,
    /// NaN/±Inf points in the bucket (excluded from min/max/mean).
    pub nonfinite: Vec<u64>,
    /// True when the arrays are the raw points (count = 1 each).
    pub exact: bool,
}

/// A page request for [`HistoryStore::scan`].
#[derive(Clone, Debug, Default)]
pub struct ScanQuery {
    /// Only these keys, and only rows holding **all** of them (wandb's `scan_history(keys=)`).
    /// `None` = every key, every row.
    pub keys: Option<Vec<String>>,
    /// Inclusive step bounds.
    pub min_step: Option<u64>,
    pub max_step: Option<u64>,
    /// Resume after this step (the previous page's `next_cursor`).
    pub after: Option<u64>,
    /// Page size (0 is treated as 1).
    pub limit: usize,
}

/// One page of rows in step order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanPage {
    pub rows: Vec<HistoryRow>,
    /// Pass as `after` to get the next page; `None` when this page is the last.
    pub next_cursor: Option<u64>,
}

impl ScanPage {
    /// A page from rows fetched with one extra beyond `limit`: the extra row only tells that
    /// another page follows, and the cursor is the last returned step.
    #[must_use]
    pub fn from_overfetched(mut rows: Vec<HistoryRow>, limit: usize) -> Self {
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.step)
        } else {
            None
        };
        ScanPage { rows, next_cursor }
    }
}

/// History writes inside a transaction owned by the storage backend (the metadata store's
/// ingest transaction), so history rows commit together with the store's own writes. Each
/// backend provides one over its own transaction type ([`SqliteHistoryTx`] for SQLite); the
/// store's backend-neutral ingest code sees only this trait.
pub trait HistoryTx {
    /// [`HistoryStore::append`] inside the caller's transaction (rows borrowed, not copied).
    fn append(&mut self, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()>;
    /// [`HistoryStore::delete_run`] inside the caller's transaction.
    fn delete_run(&mut self, run: RunKey) -> Result<()>;
}

/// A history backend. All methods are blocking: call them from a blocking thread.
pub trait HistoryStore: Send + Sync {
    /// Append rows (or row fragments) of one run. Last write wins per (step, key), see the crate
    /// docs. Committed when it returns, atomically (a failed call changes nothing), with the
    /// durability the database was opened with. The server does not call this: its ingest
    /// appends through the backend's [`HistoryTx`] inside the metadata store's transaction.
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()>;

    /// Downsampled series of one metric for many runs (see the crate docs for the bucket rules).
    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>>;

    /// Full rows in step order, paginated. Nothing is ever dropped or sampled.
    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage>;

    /// At most `samples` rows, evenly spaced by row index, always keeping the first and the last
    /// row. With `keys`, only rows holding all of them, restricted to them.
    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>>;

    /// Distinct metric keys of a run (numeric and not), in first-seen order.
    fn keys(&self, run: RunKey) -> Result<Vec<String>>;

    /// Distinct metric keys over many runs (e.g. a project's runs, for the keys route), sorted.
    fn keys_of_runs(&self, runs: &[RunKey]) -> Result<Vec<String>> {
        let mut all = std::collections::BTreeSet::new();
        for &r in runs {
            all.extend(self.keys(r)?);
        }
        Ok(all.into_iter().collect())
    }

    /// Keys of a run holding at least one non-numeric value (strings, maps such as media
    /// references, ...), each with the non-numeric value at its greatest step, in first-seen
    /// key order. What a media listing needs, without reading numeric series. The default pages
    /// through [`HistoryStore::scan`] per key; backends that keep such values apart override it.
    fn last_objects(&self, run: RunKey) -> Result<Vec<(String, u64, Value)>> {
        let mut out = Vec::new();
        for key in self.keys(run)? {
            let mut last = None;
            let mut after = None;
            loop {
                let q = ScanQuery { keys: Some(vec![key.clone()]), after, limit: 1000, ..ScanQuery::default() };
                let page = self.scan(run, &q)?;
                for r in &page.rows {
                    if let Some(v) = r.data.get(&key).filter(|v| numeric_point(v).is_none()) {
                        last = Some((r.step, v.clone()));
                    }
                }
                match page.next_cursor {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            if let Some((step, v)) = last {
                out.push((key, step, v));
            }
        }
        Ok(out)
    }

    /// Remove all history of a run.
    fn delete_run(&self, run: RunKey) -> Result<()>;

    /// Compact everything of the run that is still in the live tail (e.g. when it finishes).
    /// Never changes query results.
    fn compact(&self, run: RunKey) -> Result<()>;
}
