//! [`Tables`] over a SQLite connection inside a transaction (cached prepared statements).

use rusqlite::{Connection, OptionalExtension, params};

use crate::engine::{BlobVisitor, SeriesMeta, Tables};
use crate::{Result, RunKey};

pub(crate) struct SqliteTables<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteTables<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        SqliteTables { conn }
    }

    fn each_blob(&self, sql: &str, params: impl rusqlite::Params, f: &mut BlobVisitor<'_>) -> Result<()> {
        let mut st = self.conn.prepare_cached(sql)?;
        let mut rows = st.query(params)?;
        while let Some(r) = rows.next()? {
            if !f(r.get_ref(0)?.as_blob()?)? {
                break;
            }
        }
        Ok(())
    }
}

fn opt_step(v: Option<u64>) -> Option<i64> {
    // SeriesMeta steps come from i64 columns or checked appends.
    v.map(|s| i64::try_from(s).unwrap_or(i64::MAX))
}

fn series_of(run: RunKey, key: i64, r: &rusqlite::Row<'_>) -> rusqlite::Result<SeriesMeta> {
    let step = |i| r.get::<_, Option<i64>>(i).map(|v| v.map(|s| u64::try_from(s).unwrap_or(0)));
    Ok(SeriesMeta {
        run,
        key,
        n_tail: r.get(0)?,
        tail_min: step(1)?,
        tail_max: step(2)?,
        n_chunk: r.get(3)?,
        chunk_min: step(4)?,
        chunk_max: step(5)?,
        min_level: r.get(6)?,
        has_obj: r.get::<_, i64>(7)? != 0,
        tail_rows: r.get(8)?,
    })
}

impl Tables for SqliteTables<'_> {
    fn find_key(&mut self, name: &str) -> Result<Option<i64>> {
        let sql = "SELECT id FROM hist_key WHERE name = ?1";
        Ok(self.conn.prepare_cached(sql)?.query_row([name], |r| r.get(0)).optional()?)
    }

    fn insert_key(&mut self, name: &str) -> Result<i64> {
        self.conn.prepare_cached("INSERT INTO hist_key(name) VALUES (?1)")?.execute([name])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn load_series(&mut self, run: RunKey, key: i64) -> Result<Option<SeriesMeta>> {
        let sql = "SELECT n_tail, tail_min, tail_max, n_chunk, chunk_min, chunk_max, min_level, has_obj,
                   tail_rows FROM hist_series WHERE run = ?1 AND key = ?2";
        Ok(self.conn.prepare_cached(sql)?.query_row(params![run, key], |r| series_of(run, key, r)).optional()?)
    }

    fn insert_series(&mut self, run: RunKey, key: i64) -> Result<()> {
        self.conn.prepare_cached("INSERT INTO hist_series(run, key) VALUES (?1, ?2)")?.execute(params![run, key])?;
        Ok(())
    }

    fn save_series(&mut self, m: &SeriesMeta) -> Result<()> {
        let sql = "UPDATE hist_series SET n_tail = ?3, tail_min = ?4, tail_max = ?5, n_chunk = ?6,
                   chunk_min = ?7, chunk_max = ?8, min_level = ?9, has_obj = ?10, tail_rows = ?11
                   WHERE run = ?1 AND key = ?2";
        self.conn.prepare_cached(sql)?.execute(params![
            m.run,
            m.key,
            m.n_tail,
            opt_step(m.tail_min),
            opt_step(m.tail_max),
            m.n_chunk,
            opt_step(m.chunk_min),
            opt_step(m.chunk_max),
            m.min_level,
            i64::from(m.has_obj),
            m.tail_rows,
        ])?;
        Ok(())
    }

    fn run_series(&mut self, run: RunKey) -> Result<Vec<(i64, String)>> {
        let sql = "SELECT s.key, k.name FROM hist_series s JOIN hist_key k ON k.id = s.key
                   WHERE s.run = ?1 ORDER BY s.key";
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn names_of_runs(&mut self, runs: &[RunKey]) -> Result<Vec<String>> {
        let marks = vec!["?"; runs.len()].join(",");
        let sql = format!(
            "SELECT DISTINCT k.name FROM hist_series s JOIN hist_key k ON k.id = s.key WHERE s.run IN ({marks})"
        );
        let mut st = self.conn.prepare(&sql)?;
        let names = st.query_map(rusqlite::params_from_iter(runs.iter()), |r| r.get::<_, String>(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    fn last_objects(&mut self, run: RunKey) -> Result<Vec<(String, i64, String)>> {
        let sql = "SELECT k.name, o.step, o.json FROM hist_series s JOIN hist_key k ON k.id = s.key
                   JOIN hist_obj o ON o.run = s.run AND o.key = s.key
                     AND o.step = (SELECT max(step) FROM hist_obj WHERE run = s.run AND key = s.key)
                   WHERE s.run = ?1 AND s.has_obj = 1 ORDER BY s.key";
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_run(&mut self, run: RunKey) -> Result<()> {
        for t in ["hist_series", "hist_tail", "hist_chunk", "hist_pyr", "hist_obj"] {
            self.conn.execute(&format!("DELETE FROM {t} WHERE run = ?1"), [run])?;
        }
        Ok(())
    }

    fn insert_tail(&mut self, run: RunKey, key: i64, n: i64, data: &[u8]) -> Result<()> {
        let sql = "INSERT INTO hist_tail(run, key, n, data) VALUES (?1, ?2, ?3, ?4)";
        self.conn.prepare_cached(sql)?.execute(params![run, key, n, data])?;
        Ok(())
    }

    fn for_each_tail(&mut self, run: RunKey, key: i64, f: &mut BlobVisitor<'_>) -> Result<()> {
        self.each_blob("SELECT data FROM hist_tail WHERE run = ?1 AND key = ?2 ORDER BY id", params![run, key], f)
    }

    fn delete_tail(&mut self, run: RunKey, key: i64) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM hist_tail WHERE run = ?1 AND key = ?2")?.execute(params![run, key])?;
        Ok(())
    }

    fn insert_chunk(&mut self, run: RunKey, key: i64, (lo, hi): (i64, i64), n: i64, data: &[u8]) -> Result<()> {
        let sql = "INSERT INTO hist_chunk(run, key, start_step, end_step, n, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        self.conn.prepare_cached(sql)?.execute(params![run, key, lo, hi, n, data])?;
        Ok(())
    }

    fn for_each_chunk(&mut self, run: RunKey, key: i64, (lo, hi): (i64, i64), f: &mut BlobVisitor<'_>) -> Result<()> {
        let sql = "SELECT data FROM hist_chunk WHERE run = ?1 AND key = ?2 AND start_step <= ?4
                   AND end_step >= ?3 ORDER BY start_step";
        self.each_blob(sql, params![run, key, lo, hi], f)
    }

    fn last_chunk(&mut self, run: RunKey, key: i64) -> Result<Option<(i64, i64, Vec<u8>)>> {
        let sql = "SELECT id, n, data FROM hist_chunk WHERE run = ?1 AND key = ?2 ORDER BY start_step DESC LIMIT 1";
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.query_row(params![run, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?)
    }

    fn chunks_ending_from(&mut self, run: RunKey, key: i64, from: i64) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT id, start_step FROM hist_chunk WHERE run = ?1 AND key = ?2 AND end_step >= ?3
                   ORDER BY start_step";
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map(params![run, key, from], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_chunk(&mut self, id: i64) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM hist_chunk WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    fn chunk_stats(&mut self, run: RunKey, key: i64) -> Result<(Option<i64>, Option<i64>, i64)> {
        let sql = "SELECT min(start_step), max(end_step), coalesce(sum(n), 0) FROM hist_chunk
                   WHERE run = ?1 AND key = ?2";
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.query_row(params![run, key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
    }

    fn delete_series_data(&mut self, run: RunKey, key: i64) -> Result<()> {
        for t in ["hist_chunk", "hist_pyr", "hist_tail"] {
            self.conn.execute(&format!("DELETE FROM {t} WHERE run = ?1 AND key = ?2"), params![run, key])?;
        }
        Ok(())
    }

    fn last_page(&mut self, run: RunKey, key: i64, level: i64) -> Result<Option<(i64, i64, Vec<u8>)>> {
        let sql = "SELECT id, n, data FROM hist_pyr WHERE run = ?1 AND key = ?2 AND level = ?3
                   ORDER BY first_bucket DESC LIMIT 1";
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.query_row(params![run, key, level], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?)
    }

    fn straddling_page(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<Option<(i64, Vec<u8>)>> {
        let sql = "SELECT id, data FROM hist_pyr WHERE run = ?1 AND key = ?2 AND level = ?3
                   AND first_bucket < ?4 AND last_bucket >= ?4";
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.query_row(params![run, key, level, b], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    fn delete_pages_from(&mut self, run: RunKey, key: i64, level: i64, b: i64) -> Result<()> {
        let sql = "DELETE FROM hist_pyr WHERE run = ?1 AND key = ?2 AND level = ?3 AND first_bucket >= ?4";
        self.conn.prepare_cached(sql)?.execute(params![run, key, level, b])?;
        Ok(())
    }

    fn delete_page(&mut self, id: i64) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM hist_pyr WHERE id = ?1")?.execute([id])?;
        Ok(())
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
        let sql = "INSERT INTO hist_pyr(run, key, level, first_bucket, last_bucket, n, data)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
        self.conn.prepare_cached(sql)?.execute(params![run, key, level, first, last, n, data])?;
        Ok(())
    }

    fn for_each_page(
        &mut self,
        run: RunKey,
        key: i64,
        level: i64,
        (j_lo, j_hi): (i64, i64),
        f: &mut BlobVisitor<'_>,
    ) -> Result<()> {
        let sql = "SELECT data FROM hist_pyr WHERE run = ?1 AND key = ?2 AND level = ?3
                   AND first_bucket <= ?5 AND last_bucket >= ?4 ORDER BY first_bucket";
        self.each_blob(sql, params![run, key, level, j_lo, j_hi], f)
    }

    fn put_obj(&mut self, run: RunKey, key: i64, step: i64, json: &str) -> Result<()> {
        let sql = "INSERT OR REPLACE INTO hist_obj(run, key, step, json) VALUES (?1, ?2, ?3, ?4)";
        self.conn.prepare_cached(sql)?.execute(params![run, key, step, json])?;
        Ok(())
    }

    fn delete_obj(&mut self, run: RunKey, key: i64, step: i64) -> Result<()> {
        let sql = "DELETE FROM hist_obj WHERE run = ?1 AND key = ?2 AND step = ?3";
        self.conn.prepare_cached(sql)?.execute(params![run, key, step])?;
        Ok(())
    }

    fn objs(&mut self, run: RunKey, key: i64, lo: i64, hi: i64) -> Result<Vec<(i64, String)>> {
        let sql = "SELECT step, json FROM hist_obj WHERE run = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4
                   ORDER BY step";
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map(params![run, key, lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
