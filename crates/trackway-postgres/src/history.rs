//! The PostgreSQL history store: trackway-history's chunk + pyramid engine
//! ([`trackway_history::engine`]) over this database's tables (migrations/0007_history_chunks.sql).
//! The engine holds every rule (tail, 4096-point chunks and their codec, the pyramid, chart and
//! scan reads); this file only stores and finds its rows. Each statement is one round trip
//! (`query_typed`: no separate prepare).
//!
//! Several replicas write one database: every history write of a run first takes a
//! transaction-scoped advisory lock on the run ([`Tables::lock_run`]), so the engine's
//! read-modify-write of a series (tail statistics, chunk and page replacement) never interleaves
//! with another replica's. Reads run in one read-only `REPEATABLE READ` snapshot.

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, IsolationLevel, Row};
use trackway_history::engine::{
    self, Backend, BlobRow, BlobVisitor, IndexedBlobVisitor, SeriesMeta, StoredBlob, Tables,
};
use trackway_history::{
    ChartQuery, HistoryError, HistoryRow, HistoryRowRef, HistoryStore, HistoryTx, Result, RunKey, ScanPage, ScanQuery,
    Series, Value,
};

use crate::Pool;

pub(crate) fn db(e: impl std::error::Error + Send + Sync + 'static) -> HistoryError {
    HistoryError::Backend(Box::new(e))
}

/// Chunks fetched per round trip when streaming a range: a scan page stops after a few.
const CHUNKS_PER_FETCH: i64 = 8;
/// Advisory lock (bigint key space) under which new metric names are created.
const NEW_KEY_LOCK: i64 = 0x6869_7374_6b65_7973; // "histkeys"
/// Chart worker threads (each holds one pooled connection while it reads).
const CHART_THREADS: usize = 4;

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

impl Backend for PgHistory {
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db)?;
        f(&mut PgTables::new(&mut tx))?;
        tx.commit().map_err(db)
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tables) -> Result<()>) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        f(&mut PgTables::new(&mut tx))?;
        tx.commit().map_err(db)
    }

    fn threads(&self) -> usize {
        CHART_THREADS.min(usize::try_from(self.pool.max_size()).unwrap_or(1) / 2).max(1)
    }
}

impl HistoryStore for PgHistory {
    fn append(&self, run: RunKey, rows: &[HistoryRow]) -> Result<()> {
        engine::append(self, run, rows)
    }

    fn chart(&self, q: &ChartQuery) -> Result<Vec<Series>> {
        engine::chart(self, q)
    }

    fn scan(&self, run: RunKey, q: &ScanQuery) -> Result<ScanPage> {
        engine::scan(self, run, q)
    }

    fn sampled(&self, run: RunKey, keys: Option<&[String]>, samples: usize) -> Result<Vec<HistoryRow>> {
        engine::sampled(self, run, keys, samples)
    }

    fn keys(&self, run: RunKey) -> Result<Vec<String>> {
        engine::keys(self, run)
    }

    fn keys_of_runs(&self, runs: &[RunKey]) -> Result<Vec<String>> {
        engine::keys_of_runs(self, runs)
    }

    fn last_objects(&self, run: RunKey) -> Result<Vec<(String, u64, Value)>> {
        engine::last_objects(self, run)
    }

    fn delete_run(&self, run: RunKey) -> Result<()> {
        engine::delete_run(self, run)
    }

    fn compact(&self, run: RunKey) -> Result<()> {
        engine::compact(self, run)
    }
}

/// History writes inside a caller's transaction (the metadata store's ingest transaction).
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
        engine::append_refs(&mut PgTables::new(self.client), run, rows)
    }

    fn delete_run(&mut self, run: RunKey) -> Result<()> {
        engine::delete_run_in(&mut PgTables::new(self.client), run)
    }
}

/// The engine's tables on one PostgreSQL transaction.
pub(crate) struct PgTables<'c, C: GenericClient> {
    pub(crate) c: &'c mut C,
}

pub(crate) type Params<'p> = [(&'p (dyn ToSql + Sync), Type)];

impl<'c, C: GenericClient> PgTables<'c, C> {
    pub(crate) fn new(c: &'c mut C) -> Self {
        PgTables { c }
    }

    pub(crate) fn exec(&mut self, sql: &str, params: &Params<'_>) -> Result<()> {
        self.c.execute_typed(sql, params).map_err(db)?;
        Ok(())
    }

    pub(crate) fn rows(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        self.c.query_typed(sql, params).map_err(db)
    }

    fn opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        self.c.query_typed_opt(sql, params).map_err(db)
    }

    /// Column 0 of each row as bytes, in order, until `f` says stop.
    fn each_blob(&mut self, sql: &str, params: &Params<'_>, f: &mut BlobVisitor<'_>) -> Result<()> {
        let params = params.iter().map(|(v, t)| (*v, t.clone()));
        let mut rows = self.c.query_typed_raw(sql, params).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            if !f(r.try_get::<_, &[u8]>(0).map_err(db)?)? {
                break;
            }
        }
        Ok(())
    }
}

pub(crate) const I8: Type = Type::INT8;

fn step_of(v: Option<i64>) -> Option<u64> {
    v.map(|s| u64::try_from(s).unwrap_or(0))
}

pub(crate) fn sql_of(v: Option<u64>) -> Option<i64> {
    // SeriesMeta steps come from BIGINT columns or checked appends.
    v.map(|s| i64::try_from(s).unwrap_or(i64::MAX))
}

pub(crate) const SERIES_COLUMNS: &str =
    "run, key, n_tail, tail_min, tail_max, n_chunk, chunk_min, chunk_max, min_level, has_obj, tail_rows";

pub(crate) fn series_of(r: &Row) -> Result<SeriesMeta> {
    let g = |e: postgres::Error| db(e);
    Ok(SeriesMeta {
        run: r.try_get(0).map_err(g)?,
        key: r.try_get(1).map_err(g)?,
        n_tail: r.try_get(2).map_err(g)?,
        tail_min: step_of(r.try_get(3).map_err(g)?),
        tail_max: step_of(r.try_get(4).map_err(g)?),
        n_chunk: r.try_get(5).map_err(g)?,
        chunk_min: step_of(r.try_get(6).map_err(g)?),
        chunk_max: step_of(r.try_get(7).map_err(g)?),
        min_level: r.try_get(8).map_err(g)?,
        has_obj: r.try_get(9).map_err(g)?,
        tail_rows: r.try_get(10).map_err(g)?,
    })
}

fn triple(r: &Row) -> Result<(i64, i64, Vec<u8>)> {
    Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?))
}

impl<C: GenericClient> Tables for PgTables<'_, C> {
    fn lock_run(&mut self, run: RunKey) -> Result<()> {
        // The two-int4 advisory key space is apart from the bigint one the other locks use.
        let (hi, lo) = ((run >> 32) as i32, run as i32);
        self.exec("SELECT pg_advisory_xact_lock($1, $2)", &[(&hi, Type::INT4), (&lo, Type::INT4)])
    }

    fn find_key(&mut self, name: &str) -> Result<Option<i64>> {
        let row = self.opt("SELECT id FROM hist_key WHERE name = $1", &[(&name, Type::TEXT)])?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }

    /// New names are created one transaction at a time ([`NEW_KEY_LOCK`], held to commit): two
    /// ingests creating the same two names in opposite orders would otherwise deadlock. A name
    /// is new once in the life of the database, so this costs nothing afterwards.
    fn find_keys(&mut self, names: &[&str]) -> Result<Vec<Option<i64>>> {
        self.find_keys_batch(names)
    }

    fn insert_key(&mut self, name: &str) -> Result<i64> {
        self.exec("SELECT pg_advisory_xact_lock($1)", &[(&NEW_KEY_LOCK, I8)])?;
        if let Some(id) = self.find_key(name)? {
            return Ok(id); // created and committed by another transaction meanwhile
        }
        let row =
            self.c.query_typed_one("INSERT INTO hist_key (name) VALUES ($1) RETURNING id", &[(&name, Type::TEXT)]);
        row.map_err(db)?.try_get(0).map_err(db)
    }

    fn load_series(&mut self, run: RunKey, key: i64) -> Result<Option<SeriesMeta>> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM hist_series WHERE run = $1 AND key = $2");
        self.opt(&sql, &[(&run, I8), (&key, I8)])?.as_ref().map(series_of).transpose()
    }

    fn load_series_of_runs(&mut self, runs: &[RunKey], key: i64) -> Result<Vec<Option<SeriesMeta>>> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM hist_series WHERE run = ANY($1) AND key = $2");
        let runs_param = runs.to_vec();
        let found = self.rows(&sql, &[(&runs_param, Type::INT8_ARRAY), (&key, I8)])?;
        let mut by_run = std::collections::HashMap::with_capacity(found.len());
        for r in &found {
            let m = series_of(r)?;
            by_run.insert(m.run, m);
        }
        Ok(runs.iter().map(|r| by_run.get(r).cloned()).collect())
    }

    fn load_series_of_keys(&mut self, run: RunKey, keys: &[i64]) -> Result<Vec<Option<SeriesMeta>>> {
        self.load_series_of_keys_batch(run, keys)
    }

    fn insert_series_of_keys(&mut self, run: RunKey, keys: &[i64]) -> Result<()> {
        self.insert_series_of_keys_batch(run, keys)
    }

    fn save_series_many(&mut self, metas: &[SeriesMeta]) -> Result<()> {
        self.save_series_batch(metas)
    }

    fn insert_series(&mut self, run: RunKey, key: i64) -> Result<()> {
        self.exec("INSERT INTO hist_series (run, key) VALUES ($1, $2)", &[(&run, I8), (&key, I8)])
    }

    fn save_series(&mut self, m: &SeriesMeta) -> Result<()> {
        let sql = "UPDATE hist_series SET n_tail = $3, tail_min = $4, tail_max = $5, n_chunk = $6, \
                   chunk_min = $7, chunk_max = $8, min_level = $9, has_obj = $10, tail_rows = $11 \
                   WHERE run = $1 AND key = $2";
        let (tmin, tmax, cmin, cmax) =
            (sql_of(m.tail_min), sql_of(m.tail_max), sql_of(m.chunk_min), sql_of(m.chunk_max));
        self.exec(
            sql,
            &[
                (&m.run, I8),
                (&m.key, I8),
                (&m.n_tail, I8),
                (&tmin, I8),
                (&tmax, I8),
                (&m.n_chunk, I8),
                (&cmin, I8),
                (&cmax, I8),
                (&m.min_level, I8),
                (&m.has_obj, Type::BOOL),
                (&m.tail_rows, I8),
            ],
        )
    }

    fn run_series(&mut self, run: RunKey) -> Result<Vec<(i64, String)>> {
        let sql = "SELECT s.key, k.name FROM hist_series s JOIN hist_key k ON k.id = s.key \
                   WHERE s.run = $1 ORDER BY s.key";
        let rows = self.rows(sql, &[(&run, I8)])?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?))).collect()
    }

    fn names_of_runs(&mut self, runs: &[RunKey]) -> Result<Vec<String>> {
        let sql = "SELECT DISTINCT k.name FROM hist_series s JOIN hist_key k ON k.id = s.key WHERE s.run = ANY($1)";
        let runs = runs.to_vec();
        let rows = self.rows(sql, &[(&runs, Type::INT8_ARRAY)])?;
        rows.iter().map(|r| r.try_get(0).map_err(db)).collect()
    }

    fn last_objects(&mut self, run: RunKey) -> Result<Vec<(String, i64, String)>> {
        let sql = "SELECT k.name, o.step, o.json FROM hist_series s JOIN hist_key k ON k.id = s.key \
                   JOIN LATERAL (SELECT step, json FROM hist_obj WHERE run = s.run AND key = s.key \
                                 ORDER BY step DESC LIMIT 1) o ON true \
                   WHERE s.run = $1 AND s.has_obj ORDER BY s.key";
        let rows = self.rows(sql, &[(&run, I8)])?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?)))
            .collect()
    }

    fn delete_run(&mut self, run: RunKey) -> Result<()> {
        for t in ["hist_series", "hist_tail", "hist_chunk", "hist_pyr", "hist_obj"] {
            self.exec(&format!("DELETE FROM {t} WHERE run = $1"), &[(&run, I8)])?;
        }
        Ok(())
    }

    fn insert_tail(&mut self, run: RunKey, key: i64, n: i64, data: &[u8]) -> Result<()> {
        let sql = "INSERT INTO hist_tail (run, key, n, data) VALUES ($1, $2, $3, $4)";
        self.exec(sql, &[(&run, I8), (&key, I8), (&n, I8), (&data, Type::BYTEA)])
    }

    fn insert_tails(&mut self, rows: &[BlobRow]) -> Result<()> {
        self.insert_tails_batch(rows)
    }

    fn tails_of_runs(&mut self, key: i64, runs: &[RunKey], f: &mut IndexedBlobVisitor<'_>) -> Result<()> {
        self.tails_of_runs_batch(key, runs, f)
    }

    fn for_each_tail(&mut self, run: RunKey, key: i64, f: &mut BlobVisitor<'_>) -> Result<()> {
        let sql = "SELECT data FROM hist_tail WHERE run = $1 AND key = $2 ORDER BY id";
        self.each_blob(sql, &[(&run, I8), (&key, I8)], f)
    }

    fn delete_tail(&mut self, run: RunKey, key: i64) -> Result<()> {
        self.exec("DELETE FROM hist_tail WHERE run = $1 AND key = $2", &[(&run, I8), (&key, I8)])
    }

    fn insert_chunk(&mut self, run: RunKey, key: i64, (lo, hi): (i64, i64), n: i64, data: &[u8]) -> Result<()> {
        let sql = "INSERT INTO hist_chunk (run, key, start_step, end_step, n, data) VALUES ($1, $2, $3, $4, $5, $6)";
        self.exec(sql, &[(&run, I8), (&key, I8), (&lo, I8), (&hi, I8), (&n, I8), (&data, Type::BYTEA)])
    }

    fn insert_chunks(&mut self, rows: &[BlobRow]) -> Result<()> {
        self.insert_chunks_batch(rows)
    }

    fn chunks_of_runs(
        &mut self,
        key: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        self.chunks_of_runs_batch(key, ranges, f)
    }

    /// A few chunks per round trip (a series' chunks have disjoint step ranges, so the start
    /// step is a cursor): a caller that stops early does not pull the rest of the range.
    fn for_each_chunk(&mut self, run: RunKey, key: i64, (lo, hi): (i64, i64), f: &mut BlobVisitor<'_>) -> Result<()> {
        let sql = "SELECT start_step, data FROM hist_chunk WHERE run = $1 AND key = $2 AND start_step <= $4 \
                   AND end_step >= $3 AND start_step > $5 ORDER BY start_step LIMIT $6";
        let mut after = i64::MIN;
        loop {
            let params: &Params<'_> =
                &[(&run, I8), (&key, I8), (&lo, I8), (&hi, I8), (&after, I8), (&CHUNKS_PER_FETCH, I8)];
            let rows = self.rows(sql, params)?;
            for r in &rows {
                after = r.try_get(0).map_err(db)?;
                if !f(r.try_get::<_, &[u8]>(1).map_err(db)?)? {
                    return Ok(());
                }
            }
            if (rows.len() as i64) < CHUNKS_PER_FETCH {
                return Ok(());
            }
        }
    }

    fn last_chunk(&mut self, run: RunKey, key: i64) -> Result<Option<(i64, i64, Vec<u8>)>> {
        let sql = "SELECT id, n, data FROM hist_chunk WHERE run = $1 AND key = $2 ORDER BY start_step DESC LIMIT 1";
        self.opt(sql, &[(&run, I8), (&key, I8)])?.as_ref().map(triple).transpose()
    }

    fn chunks_ending_from(&mut self, run: RunKey, key: i64, from: i64) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT id, start_step FROM hist_chunk WHERE run = $1 AND key = $2 AND end_step >= $3 \
                   ORDER BY start_step";
        let rows = self.rows(sql, &[(&run, I8), (&key, I8), (&from, I8)])?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?))).collect()
    }

    fn delete_chunk(&mut self, id: i64) -> Result<()> {
        self.exec("DELETE FROM hist_chunk WHERE id = $1", &[(&id, I8)])
    }

    fn chunk_stats(&mut self, run: RunKey, key: i64) -> Result<(Option<i64>, Option<i64>, i64)> {
        let sql = "SELECT min(start_step), max(end_step), coalesce(sum(n), 0)::bigint FROM hist_chunk \
                   WHERE run = $1 AND key = $2";
        let r = self.c.query_typed_one(sql, &[(&run, I8), (&key, I8)]).map_err(db)?;
        Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?))
    }

    fn delete_series_data(&mut self, run: RunKey, key: i64) -> Result<()> {
        for t in ["hist_chunk", "hist_pyr", "hist_tail"] {
            self.exec(&format!("DELETE FROM {t} WHERE run = $1 AND key = $2"), &[(&run, I8), (&key, I8)])?;
        }
        Ok(())
    }

    fn last_page(&mut self, run: RunKey, key: i64, level: i64) -> Result<Option<(i64, i64, Vec<u8>)>> {
        let sql = "SELECT id, n, data FROM hist_pyr WHERE run = $1 AND key = $2 AND level = $3 \
                   ORDER BY first_bucket DESC LIMIT 1";
        self.opt(sql, &[(&run, I8), (&key, I8), (&level, I8)])?.as_ref().map(triple).transpose()
    }

    fn straddling_page(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<Option<(i64, Vec<u8>)>> {
        let sql = "SELECT id, data FROM hist_pyr WHERE run = $1 AND key = $2 AND level = $3 \
                   AND first_bucket < $4 AND last_bucket >= $4";
        let row = self.opt(sql, &[(&run, I8), (&key, I8), (&level, I8), (&b, I8)])?;
        row.map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?))).transpose()
    }

    fn delete_pages_from(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<()> {
        let sql = "DELETE FROM hist_pyr WHERE run = $1 AND key = $2 AND level = $3 AND first_bucket >= $4";
        self.exec(sql, &[(&run, I8), (&key, I8), (&level, I8), (&b, I8)])
    }

    fn delete_page(&mut self, id: i64) -> Result<()> {
        self.exec("DELETE FROM hist_pyr WHERE id = $1", &[(&id, I8)])
    }

    fn last_pages(&mut self, run: RunKey, key: i64, levels: (i64, i64)) -> Result<Vec<Option<StoredBlob>>> {
        self.last_pages_batch(run, key, levels)
    }

    fn delete_pages(&mut self, ids: &[i64]) -> Result<()> {
        self.delete_pages_batch(ids)
    }

    fn insert_pages(&mut self, rows: &[BlobRow]) -> Result<()> {
        self.insert_pages_batch(rows)
    }

    fn pages_of_runs(
        &mut self,
        key: i64,
        level: i64,
        ranges: &[(RunKey, (i64, i64))],
        f: &mut IndexedBlobVisitor<'_>,
    ) -> Result<()> {
        self.pages_of_runs_batch(key, level, ranges, f)
    }

    fn insert_page(
        &mut self,
        run: RunKey,
        key: i64,
        level: i64,
        (first, last): (i64, i64),
        n: i64,
        data: &[u8],
    ) -> Result<()> {
        let sql = "INSERT INTO hist_pyr (run, key, level, first_bucket, last_bucket, n, data) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let params: &Params<'_> =
            &[(&run, I8), (&key, I8), (&level, I8), (&first, I8), (&last, I8), (&n, I8), (&data, Type::BYTEA)];
        self.exec(sql, params)
    }

    fn for_each_page(
        &mut self,
        run: RunKey,
        key: i64,
        level: i64,
        (j_lo, j_hi): (i64, i64),
        f: &mut BlobVisitor<'_>,
    ) -> Result<()> {
        let sql = "SELECT data FROM hist_pyr WHERE run = $1 AND key = $2 AND level = $3 \
                   AND first_bucket <= $5 AND last_bucket >= $4 ORDER BY first_bucket";
        self.each_blob(sql, &[(&run, I8), (&key, I8), (&level, I8), (&j_lo, I8), (&j_hi, I8)], f)
    }

    fn put_obj(&mut self, run: RunKey, key: i64, step: i64, json: &str) -> Result<()> {
        let sql = "INSERT INTO hist_obj (run, key, step, json) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (run, key, step) DO UPDATE SET json = excluded.json";
        self.exec(sql, &[(&run, I8), (&key, I8), (&step, I8), (&json, Type::TEXT)])
    }

    fn delete_obj(&mut self, run: RunKey, key: i64, step: i64) -> Result<()> {
        let sql = "DELETE FROM hist_obj WHERE run = $1 AND key = $2 AND step = $3";
        self.exec(sql, &[(&run, I8), (&key, I8), (&step, I8)])
    }

    fn objs(&mut self, run: RunKey, key: i64, lo: i64, hi: i64) -> Result<Vec<(i64, String)>> {
        let sql = "SELECT step, json FROM hist_obj WHERE run = $1 AND key = $2 AND step BETWEEN $3 AND $4 \
                   ORDER BY step";
        let rows = self.rows(sql, &[(&run, I8), (&key, I8), (&lo, I8), (&hi, I8)])?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?))).collect()
    }
}
