//! The PostgreSQL history store: rows of `hist_steps` / `hist_keys` / `hist_points`
//! (migrations/0001_history.sql), written with batched `unnest` upserts (last write wins per
//! (run, step, key) through `ON CONFLICT`), read back with indexed range queries. Charts fetch
//! the numeric points of the requested runs and bucket them with trackway-history's shared
//! point-model rules ([`chart_points`]), so the bucket rules have one home.
//!
//! Costs: a chart reads every point of the metric in range (no pyramid yet), so it is
//! O(points); the SQLite engine's chunks + pyramid make wide charts O(buckets).

use std::collections::{BTreeMap, HashMap, HashSet};

use postgres::GenericClient;
use postgres::types::ToSql;
use trackway_history::{
    ChartQuery, HistoryError, HistoryRow, HistoryRowRef, HistoryStore, HistoryTx, Map, Result, RunKey, ScanPage,
    ScanQuery, Series, Value, XAxis, chart_points, numeric_point, numeric_value, sample_indices, validate_rows,
};

use crate::Pool;

fn db(e: impl std::error::Error + Send + Sync + 'static) -> HistoryError {
    HistoryError::Backend(Box::new(e))
}

/// The history store over a pool (reads and standalone writes).
#[derive(Clone)]
pub struct PgHistory {
    pool: Pool,
}

impl PgHistory {
    /// A store over `pool`, whose database has [`crate::MIGRATIONS`] applied.
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        PgHistory { pool }
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>> {
        self.pool.get().map_err(db)
    }
}

/// History writes inside a caller's transaction (or on a plain client).
pub struct PgHistoryTx<'a, C: GenericClient> {
    client: &'a mut C,
}

impl<'a, C: GenericClient> PgHistoryTx<'a, C> {
    pub fn new(client: &'a mut C) -> Self {
        PgHistoryTx { client }
    }
}

impl<C: GenericClient> HistoryTx for PgHistoryTx<'_, C> {
    fn append(&mut self, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
        append_rows(self.client, run, rows)
    }

    fn delete_run(&mut self, run: RunKey) -> Result<()> {
        for table in ["hist_steps", "hist_keys", "hist_points"] {
            self.client.execute(&format!("DELETE FROM {table} WHERE run = $1"), &[&run]).map_err(db)?;
        }
        Ok(())
    }
}

/// Column arrays of one append, deduplicated so that each upsert touches a row once (the last
/// write of a batch wins, as the contract says).
#[derive(Default)]
struct Batch<'r> {
    steps: BTreeMap<i64, (f64, f64)>,
    points: BTreeMap<(&'r str, i64), &'r Value>,
    keys: Vec<&'r str>,
}

impl<'r> Batch<'r> {
    fn of(rows: &[HistoryRowRef<'r>]) -> Batch<'r> {
        let mut b = Batch::default();
        let mut seen = HashSet::new();
        for r in rows {
            // validate_rows checked the step fits.
            let step = i64::try_from(r.step).unwrap_or(i64::MAX);
            b.steps.insert(step, (r.ts, r.rt));
            for (k, v) in r.data {
                if seen.insert(k.as_str()) {
                    b.keys.push(k.as_str());
                }
                b.points.insert((k.as_str(), step), v);
            }
        }
        b
    }
}

fn append_rows<C: GenericClient>(c: &mut C, run: RunKey, rows: &[HistoryRowRef<'_>]) -> Result<()> {
    validate_rows(rows.iter().map(|r| (r.step, r.data)))?;
    let b = Batch::of(rows);
    let steps: Vec<i64> = b.steps.keys().copied().collect();
    let ts: Vec<f64> = b.steps.values().map(|v| v.0).collect();
    let rt: Vec<f64> = b.steps.values().map(|v| v.1).collect();
    c.execute(
        "INSERT INTO hist_steps (run, step, ts, rt) SELECT $1, * FROM unnest($2::bigint[], $3::float8[], $4::float8[]) \
         ON CONFLICT (run, step) DO UPDATE SET ts = excluded.ts, rt = excluded.rt",
        &[&run, &steps, &ts, &rt],
    )
    .map_err(db)?;
    c.execute(
        "INSERT INTO hist_keys (run, key) SELECT $1, k FROM unnest($2::text[]) WITH ORDINALITY AS u(k, o) \
         ORDER BY o ON CONFLICT (run, key) DO NOTHING",
        &[&run, &b.keys],
    )
    .map_err(db)?;
    let n = b.points.len();
    let (mut keys, mut psteps) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut nums, mut kinds, mut vals) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for ((k, step), v) in &b.points {
        keys.push(*k);
        psteps.push(*step);
        match numeric_point(v) {
            Some((x, kind)) => {
                nums.push(Some(x));
                kinds.push(Some(i16::from(kind)));
                vals.push(None);
            }
            None => {
                nums.push(None);
                kinds.push(None);
                vals.push(Some(trackway_types::to_json(v)));
            }
        }
    }
    c.execute(
        "INSERT INTO hist_points (run, key, step, num, kind, val) \
         SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::int2[], $6::text[]) \
         ON CONFLICT (run, key, step) DO UPDATE SET num = excluded.num, kind = excluded.kind, val = excluded.val",
        &[&run, &keys, &psteps, &nums, &kinds, &vals],
    )
    .map_err(db)?;
    Ok(())
}

/// Step bounds of a scan as `i64` (inclusive); `None` when the range is empty.
fn scan_bounds(q: &ScanQuery) -> Option<(i64, i64)> {
    let lo = q.after.map_or(0, |a| a.saturating_add(1)).max(q.min_step.unwrap_or(0));
    let hi = q.max_step.unwrap_or(u64::MAX).min(i64::MAX as u64);
    let lo = i64::try_from(lo).ok()?;
    let hi = i64::try_from(hi).ok()?;
    (lo <= hi).then_some((lo, hi))
}

/// Steps (with ts, rt) in `[lo, hi]` of rows holding every key of `keys`, in step order.
fn select_steps<C: GenericClient>(
    c: &mut C,
    run: RunKey,
    (lo, hi): (i64, i64),
    keys: Option<&[String]>,
    limit: Option<i64>,
) -> Result<Vec<(i64, f64, f64)>> {
    let limit = limit.unwrap_or(i64::MAX);
    let rows = match keys {
        None => c.query(
            "SELECT step, ts, rt FROM hist_steps WHERE run = $1 AND step BETWEEN $2 AND $3 ORDER BY step LIMIT $4",
            &[&run, &lo, &hi, &limit],
        ),
        Some(keys) => {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect::<HashSet<_>>().into_iter().collect();
            let n = i64::try_from(keys.len()).unwrap_or(i64::MAX);
            c.query(
                "SELECT s.step, s.ts, s.rt FROM hist_steps s WHERE s.run = $1 AND s.step BETWEEN $2 AND $3 AND \
                 (SELECT count(*) FROM hist_points p WHERE p.run = s.run AND p.step = s.step AND p.key = ANY($5)) = $6 \
                 ORDER BY s.step LIMIT $4",
                &[&run, &lo, &hi, &limit, &keys, &n],
            )
        }
    }
    .map_err(db)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// Full rows (restricted to `keys`) of the given steps, in step order.
fn rows_of<C: GenericClient>(
    c: &mut C,
    run: RunKey,
    steps: &[(i64, f64, f64)],
    keys: Option<&[String]>,
) -> Result<Vec<HistoryRow>> {
    let ids: Vec<i64> = steps.iter().map(|s| s.0).collect();
    let every = keys.is_none();
    let keys: Vec<&str> = keys.unwrap_or_default().iter().map(String::as_str).collect();
    let params: [&(dyn ToSql + Sync); 4] = [&run, &ids, &keys, &every];
    let points = c
        .query(
            "SELECT p.step, p.key, p.num, p.kind, p.val FROM hist_points p \
             JOIN hist_keys k ON k.run = p.run AND k.key = p.key \
             WHERE p.run = $1 AND p.step = ANY($2) AND ($4 OR p.key = ANY($3)) ORDER BY p.step, k.seq",
            &params,
        )
        .map_err(db)?;
    let mut data: HashMap<i64, Map> = HashMap::new();
    for p in &points {
        let value = match (p.get::<_, Option<f64>>(2), p.get::<_, Option<i16>>(3), p.get::<_, Option<&str>>(4)) {
            (Some(x), Some(kind), _) => numeric_value(x, u8::try_from(kind).unwrap_or(0)),
            (_, _, Some(json)) => trackway_types::from_json(json)?,
            _ => return Err(HistoryError::Corrupt(format!("point of run {run} without a value"))),
        };
        data.entry(p.get(0)).or_default().insert(p.get::<_, String>(1), value);
    }
    Ok(steps
        .iter()
        .map(|&(step, ts, rt)| HistoryRow {
            step: u64::try_from(step).unwrap_or(0),
            ts,
            rt,
            data: data.remove(&step).unwrap_or_default(),
        })
        .collect())
}

impl HistoryStore for PgHistory {
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        let refs: Vec<HistoryRowRef<'_>> = rows.iter().map(HistoryRowRef::from).collect();
        append_rows(&mut tx, run, &refs)?;
        tx.commit().map_err(db)
    }

    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>> {
        let mut conn = self.conn()?;
        let fetched = chart_points_of(&mut *conn, q)?;
        let pts: Vec<Vec<(u64, f64, f64)>> =
            q.runs.iter().map(|r| fetched.get(r).cloned().unwrap_or_default()).collect();
        Ok(chart_points(q, &pts))
    }

    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
        let Some(bounds) = scan_bounds(q) else { return Ok(ScanPage::default()) };
        let limit = q.limit.max(1);
        let mut conn = self.conn()?;
        let mut tx = conn.build_transaction().read_only(true).start().map_err(db)?;
        let over = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        let steps = select_steps(&mut tx, run, bounds, q.keys.as_deref(), Some(over))?;
        let rows = rows_of(&mut tx, run, &steps, q.keys.as_deref())?;
        Ok(ScanPage::from_overfetched(rows, limit))
    }

    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
        let mut conn = self.conn()?;
        let mut tx = conn.build_transaction().read_only(true).start().map_err(db)?;
        let steps = select_steps(&mut tx, run, (0, i64::MAX), keys, None)?;
        let picked: Vec<(i64, f64, f64)> = sample_indices(steps.len(), samples).into_iter().map(|i| steps[i]).collect();
        rows_of(&mut tx, run, &picked, keys)
    }

    fn keys(&self, run: RunKey) -> Result<Vec<String>> {
        let rows = self.conn()?.query("SELECT key FROM hist_keys WHERE run = $1 ORDER BY seq", &[&run]).map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn keys_of_runs(&self, runs: &[RunKey]) -> Result<Vec<String>> {
        let rows =
            self.conn()?.query("SELECT DISTINCT key FROM hist_keys WHERE run = ANY($1)", &[&runs]).map_err(db)?;
        let mut keys: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        // Byte order, whatever the database's collation.
        keys.sort();
        Ok(keys)
    }

    fn delete_run(&self, run: RunKey) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        PgHistoryTx::new(&mut tx).delete_run(run)?;
        tx.commit().map_err(db)
    }

    /// Nothing to compact: points are stored as rows.
    fn compact(&self, _run: RunKey) -> Result<()> {
        Ok(())
    }
}

/// `(step, x, y)` of a metric per run, in step order.
type RunPoints = HashMap<RunKey, Vec<(u64, f64, f64)>>;

/// `(step, x, y)` of the metric per run, in step order, for [`chart_points`].
fn chart_points_of<C: GenericClient>(c: &mut C, q: &ChartQuery) -> Result<RunPoints> {
    let (x_expr, join) = match &q.x {
        XAxis::Step => ("p.step::float8", String::new()),
        XAxis::Runtime => ("s.rt", "JOIN hist_steps s ON s.run = p.run AND s.step = p.step".to_owned()),
        XAxis::Timestamp => ("s.ts", "JOIN hist_steps s ON s.run = p.run AND s.step = p.step".to_owned()),
        XAxis::Metric(_) => (
            "x.num",
            "JOIN hist_points x ON x.run = p.run AND x.step = p.step AND x.key = $3 AND x.num IS NOT NULL".to_owned(),
        ),
    };
    let x_key = match &q.x {
        XAxis::Metric(m) => m.as_str(),
        _ => "",
    };
    let sql = format!(
        "SELECT p.run, p.step, {x_expr}, p.num FROM hist_points p {join} \
         WHERE p.run = ANY($1) AND p.key = $2 AND p.num IS NOT NULL AND $3::text IS NOT NULL ORDER BY p.run, p.step"
    );
    let rows = c.query(&sql, &[&q.runs, &q.metric, &x_key]).map_err(db)?;
    let mut out = RunPoints::new();
    for r in &rows {
        let step: i64 = r.get(1);
        out.entry(r.get(0)).or_default().push((u64::try_from(step).unwrap_or(0), r.get(2), r.get(3)));
    }
    Ok(out)
}
