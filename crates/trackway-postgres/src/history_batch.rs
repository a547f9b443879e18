//! The batched [`Tables`](trackway_history::engine::Tables) methods on PostgreSQL: one
//! statement per call, with the rows passed as arrays (`unnest`, `= ANY`). An ingest batch
//! touches every series of a run, and a chart reads one series of many runs; one round trip per
//! row would dominate both (`history.rs` holds the single-row methods).

use std::collections::HashMap;

use postgres::GenericClient;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use trackway_history::engine::{BlobRow, IndexedBlobVisitor, SeriesMeta, StoredBlob};
use trackway_history::{HistoryError, Result, RunKey};

use crate::history::{I8, Params, PgTables, SERIES_COLUMNS, db, series_of, sql_of};

const I8S: Type = Type::INT8_ARRAY;

/// The columns of blob rows, as arrays.
struct Columns<'r> {
    run: Vec<i64>,
    key: Vec<i64>,
    level: Vec<i64>,
    lo: Vec<i64>,
    hi: Vec<i64>,
    n: Vec<i64>,
    data: Vec<&'r [u8]>,
}

impl<'r> Columns<'r> {
    fn of(rows: &'r [BlobRow]) -> Self {
        Columns {
            run: rows.iter().map(|r| r.run).collect(),
            key: rows.iter().map(|r| r.key).collect(),
            level: rows.iter().map(|r| r.level).collect(),
            lo: rows.iter().map(|r| r.span.0).collect(),
            hi: rows.iter().map(|r| r.span.1).collect(),
            n: rows.iter().map(|r| r.n).collect(),
            data: rows.iter().map(|r| r.data.as_slice()).collect(),
        }
    }
}

impl<C: GenericClient> PgTables<'_, C> {
    pub(crate) fn find_keys_batch(&mut self, names: &[&str]) -> Result<Vec<Option<i64>>> {
        let sql = "SELECT k.name, k.id FROM hist_key k WHERE k.name = ANY($1)";
        let rows = self.rows(sql, &[(&names, Type::TEXT_ARRAY)])?;
        let mut ids = HashMap::with_capacity(rows.len());
        for r in &rows {
            ids.insert(r.try_get::<_, String>(0).map_err(db)?, r.try_get::<_, i64>(1).map_err(db)?);
        }
        Ok(names.iter().map(|n| ids.get(*n).copied()).collect())
    }

    pub(crate) fn load_series_of_keys_batch(&mut self, run: RunKey, keys: &[i64]) -> Result<Vec<Option<SeriesMeta>>> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM hist_series WHERE run = $1 AND key = ANY($2)");
        let rows = self.rows(&sql, &[(&run, I8), (&keys, I8S)])?;
        let mut by_key = HashMap::with_capacity(rows.len());
        for r in &rows {
            let m = series_of(r)?;
            by_key.insert(m.key, m);
        }
        Ok(keys.iter().map(|k| by_key.remove(k)).collect())
    }

    pub(crate) fn insert_series_of_keys_batch(&mut self, run: RunKey, keys: &[i64]) -> Result<()> {
        self.exec("INSERT INTO hist_series (run, key) SELECT $1, unnest($2::int8[])", &[(&run, I8), (&keys, I8S)])
    }

    pub(crate) fn save_series_batch(&mut self, ms: &[SeriesMeta]) -> Result<()> {
        if ms.is_empty() {
            return Ok(());
        }
        let ints = |f: &dyn Fn(&SeriesMeta) -> i64| ms.iter().map(f).collect::<Vec<i64>>();
        let steps = |f: &dyn Fn(&SeriesMeta) -> Option<u64>| ms.iter().map(|m| sql_of(f(m))).collect::<Vec<_>>();
        let (run, key, n_tail, n_chunk) =
            (ints(&|m| m.run), ints(&|m| m.key), ints(&|m| m.n_tail), ints(&|m| m.n_chunk));
        let (min_level, tail_rows) = (ints(&|m| m.min_level), ints(&|m| m.tail_rows));
        let (tmin, tmax) = (steps(&|m| m.tail_min), steps(&|m| m.tail_max));
        let (cmin, cmax) = (steps(&|m| m.chunk_min), steps(&|m| m.chunk_max));
        let has_obj: Vec<bool> = ms.iter().map(|m| m.has_obj).collect();
        let sql = "UPDATE hist_series s SET n_tail = u.n_tail, tail_min = u.tail_min, tail_max = u.tail_max, \
                   n_chunk = u.n_chunk, chunk_min = u.chunk_min, chunk_max = u.chunk_max, \
                   min_level = u.min_level, has_obj = u.has_obj, tail_rows = u.tail_rows \
                   FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                   AS u(run, key, n_tail, tail_min, tail_max, n_chunk, chunk_min, chunk_max, min_level, has_obj, tail_rows) \
                   WHERE s.run = u.run AND s.key = u.key";
        self.exec(
            sql,
            &[
                (&run, I8S),
                (&key, I8S),
                (&n_tail, I8S),
                (&tmin, I8S),
                (&tmax, I8S),
                (&n_chunk, I8S),
                (&cmin, I8S),
                (&cmax, I8S),
                (&min_level, I8S),
                (&has_obj, Type::BOOL_ARRAY),
                (&tail_rows, I8S),
            ],
        )
    }

    /// Rows in slice order (`WITH ORDINALITY`): tail segments are read back in id order.
    pub(crate) fn insert_tails_batch(&mut self, rows: &[BlobRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let c = Columns::of(rows);
        let sql = "INSERT INTO hist_tail (run, key, n, data) SELECT run, key, n, data \
                   FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS u(run, key, n, data, i) ORDER BY i";
        self.exec(sql, &[(&c.run, I8S), (&c.key, I8S), (&c.n, I8S), (&c.data, Type::BYTEA_ARRAY)])
    }

    pub(crate) fn insert_chunks_batch(&mut self, rows: &[BlobRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let c = Columns::of(rows);
        let sql = "INSERT INTO hist_chunk (run, key, start_step, end_step, n, data) \
                   SELECT * FROM unnest($1, $2, $3, $4, $5, $6)";
        let params: &Params<'_> =
            &[(&c.run, I8S), (&c.key, I8S), (&c.lo, I8S), (&c.hi, I8S), (&c.n, I8S), (&c.data, Type::BYTEA_ARRAY)];
        self.exec(sql, params)
    }

    pub(crate) fn insert_pages_batch(&mut self, rows: &[BlobRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let c = Columns::of(rows);
        let sql = "INSERT INTO hist_pyr (run, key, level, first_bucket, last_bucket, n, data) \
                   SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)";
        let params: &Params<'_> = &[
            (&c.run, I8S),
            (&c.key, I8S),
            (&c.level, I8S),
            (&c.lo, I8S),
            (&c.hi, I8S),
            (&c.n, I8S),
            (&c.data, Type::BYTEA_ARRAY),
        ];
        self.exec(sql, params)
    }

    pub(crate) fn delete_pages_batch(&mut self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.exec("DELETE FROM hist_pyr WHERE id = ANY($1)", &[(&ids, I8S)])
    }

    /// One index probe per level (`LIMIT 1` under the level's greatest first bucket).
    pub(crate) fn last_pages_batch(
        &mut self,
        run: RunKey,
        key: i64,
        (lo, hi): (i64, i64),
    ) -> Result<Vec<Option<StoredBlob>>> {
        let sql = "SELECT l, p.id, p.n, p.data FROM generate_series($3::int8, $4::int8) l \
                   JOIN LATERAL (SELECT id, n, data FROM hist_pyr WHERE run = $1 AND key = $2 AND level = l \
                                 ORDER BY first_bucket DESC LIMIT 1) p ON true";
        let rows = self.rows(sql, &[(&run, I8), (&key, I8), (&lo, I8), (&hi, I8)])?;
        let mut out: Vec<Option<StoredBlob>> = (lo..=hi).map(|_| None).collect();
        for r in &rows {
            let level: i64 = r.try_get(0).map_err(db)?;
            let (id, n, data): (i64, i64, Vec<u8>) =
                (r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?, r.try_get(3).map_err(db)?);
            if let Some(slot) = usize::try_from(level - lo).ok().and_then(|i| out.get_mut(i)) {
                *slot = Some((id, n, data));
            }
        }
        Ok(out)
    }

    /// Pages of `ranges` (one per run) in one query, ordered by request then bucket.
    pub(crate) fn pages_of_runs_batch(
        &mut self,
        key: i64,
        level: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        if ranges.is_empty() {
            return Ok(());
        }
        let (runs, los, his) = range_columns(ranges);
        let sql = "SELECT u.i - 1, p.data FROM unnest($1::int8[], $2::int8[], $3::int8[]) WITH ORDINALITY \
                   AS u(run, lo, hi, i) JOIN hist_pyr p ON p.run = u.run AND p.key = $4 AND p.level = $5 \
                   AND p.first_bucket <= u.hi AND p.last_bucket >= u.lo ORDER BY u.i, p.first_bucket";
        let params: &Params<'_> = &[(&runs, I8S), (&los, I8S), (&his, I8S), (&key, I8), (&level, I8)];
        self.each_indexed(sql, params, f)
    }

    /// Chunks of `ranges` (one per run) in one query, ordered by request then step.
    pub(crate) fn chunks_of_runs_batch(
        &mut self,
        key: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        if ranges.is_empty() {
            return Ok(());
        }
        let (runs, los, his) = range_columns(ranges);
        let sql = "SELECT u.i - 1, c.data FROM unnest($1::int8[], $2::int8[], $3::int8[]) WITH ORDINALITY \
                   AS u(run, lo, hi, i) JOIN hist_chunk c ON c.run = u.run AND c.key = $4 \
                   AND c.start_step <= u.hi AND c.end_step >= u.lo ORDER BY u.i, c.start_step";
        let params: &Params<'_> = &[(&runs, I8S), (&los, I8S), (&his, I8S), (&key, I8)];
        self.each_indexed(sql, params, f)
    }

    /// Tail segments of one key of many runs in one query, ordered by request then write order.
    pub(crate) fn tails_of_runs_batch(
        &mut self,
        key: i64,
        runs: &[RunKey],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        if runs.is_empty() {
            return Ok(());
        }
        let runs = runs.to_vec();
        let sql = "SELECT u.i - 1, t.data FROM unnest($1::int8[]) WITH ORDINALITY AS u(run, i) \
                   JOIN hist_tail t ON t.run = u.run AND t.key = $2 ORDER BY u.i, t.id";
        self.each_indexed(sql, &[(&runs, I8S), (&key, I8)], f)
    }

    /// (column 0 as an index, column 1 as bytes) of each row, streamed, until `f` says stop.
    fn each_indexed(&mut self, sql: &str, params: &Params<'_>, f: &mut IndexedBlobVisitor<'_>) -> Result<()> {
        let params = params.iter().map(|(v, t)| (*v, t.clone()));
        let mut rows = self.c.query_typed_raw(sql, params).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let i = usize::try_from(r.try_get::<_, i64>(0).map_err(db)?)
                .map_err(|_| HistoryError::Internal("negative request index".into()))?;
            if !f(i, r.try_get::<_, &[u8]>(1).map_err(db)?)? {
                break;
            }
        }
        Ok(())
    }
}

/// (run, range) pairs as the three arrays an `unnest` of the batched reads takes.
fn range_columns(ranges: &[(RunKey, (i64, i64))]) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    (
        ranges.iter().map(|r| r.0).collect(),
        ranges.iter().map(|r| r.1.0).collect(),
        ranges.iter().map(|r| r.1.1).collect(),
    )
}
