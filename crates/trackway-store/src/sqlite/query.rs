//! The run table: filtered, sorted, keyset-paginated pages and group counts.
//!
//! Sorting puts runs that lack the sort key last in both directions. A page is read in two
//! phases (runs with a value, then runs without), so each phase is a plain index range scan and
//! the cursor records which phase it stopped in.
//!
//! Config/summary keys used in a filter or sort get an expression index on
//! `(project_id, json_extract(...))` (a sort) or on the key's number or string form (a typed
//! condition), created on first use (bounded by `OpenOptions::max_key_indexes`): a table of
//! 100k runs is then filtered, counted and sorted through the indexes instead of parsing every
//! run's JSON.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::Value as Json;

use super::runs::{RUN_COLUMN_COUNT, RUN_COLUMNS, RUN_FROM, project_id, run_from_row};
use super::{SqliteStore, lock, now};
use crate::filter::{
    Field, Filter, KeyIndex, Source, SqlBuilder, collect_json_fields, json_expr, json_path, key_indexes, parse_field,
    sqlite_bool_form, sqlite_number_form, sqlite_string_form,
};
use crate::{Direction, GroupCount, Result, Run, RunPage, RunQuery, StoreError};

/// Where a page stopped.
#[derive(Debug, PartialEq)]
struct Cursor {
    /// Stopped among the runs that lack the sort key.
    null_phase: bool,
    value: SqlValue,
    pk: i64,
}

/// Every string of this form is a cursor [`Cursor::decode`] reads (and the only form it
/// reads), so the OpenAPI document can state it exactly: the phase (`n` among runs lacking the
/// sort key, `v` otherwise), the sort value (`z` none, `i`/`r` an integer/real as the 16 hex
/// digits of its bits, `s` UTF-8 text in hex), the run's rowid as 16 hex digits of its bits.
/// The empty string is no cursor (the first page).
pub const RUN_CURSOR_PATTERN: &str = "^(?:[nv]\\.(?:z|[ir][0-9a-f]{16}|s(?:[0-9a-f]{2})*)\\.[0-9a-f]{16})?$";

impl Cursor {
    fn encode(&self) -> String {
        let value = match &self.value {
            SqlValue::Null | SqlValue::Blob(_) => "z".to_owned(),
            SqlValue::Integer(i) => format!("i{:016x}", i.cast_unsigned()),
            SqlValue::Real(f) => format!("r{:016x}", f.to_bits()),
            SqlValue::Text(t) => format!("s{}", hex::encode(t)),
        };
        let phase = if self.null_phase { 'n' } else { 'v' };
        format!("{phase}.{value}.{:016x}", self.pk.cast_unsigned())
    }

    /// The cursor of a non-empty `text` of [`RUN_CURSOR_PATTERN`]'s form.
    fn decode(text: &str) -> Result<Cursor> {
        static FORM: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(RUN_CURSOR_PATTERN).expect("the cursor pattern compiles"));
        let bad = || StoreError::Invalid("invalid cursor".into());
        if !FORM.is_match(text) {
            return Err(bad());
        }
        let mut parts = text.split('.');
        let (Some(phase), Some(value), Some(pk)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let bits = |h: &str| u64::from_str_radix(h, 16).map_err(|_| bad());
        let value = match value.split_at(1) {
            ("i", h) => SqlValue::Integer(bits(h)?.cast_signed()),
            ("r", h) => SqlValue::Real(f64::from_bits(bits(h)?)),
            ("s", h) => SqlValue::Text(String::from_utf8_lossy(&hex::decode(h).map_err(|_| bad())?).into_owned()),
            _ => SqlValue::Null,
        };
        Ok(Cursor { null_phase: phase == "n", value, pk: bits(pk)?.cast_signed() })
    }
}

fn sql_to_json(v: &SqlValue) -> Json {
    match v {
        SqlValue::Null | SqlValue::Blob(_) => Json::Null,
        SqlValue::Integer(i) => Json::from(*i),
        SqlValue::Real(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        SqlValue::Text(s) => Json::String(s.clone()),
    }
}

/// The JSON path of a dotted key: the catalogue knows whether `a.b` is nested or literal, and
/// wandb-style `lr.value` falls back to `lr`.
/// Returns the path and whether the key is known to the catalogue.
fn resolve_path(c: &Connection, project: i64, source: Source, key: &str) -> Result<(String, bool)> {
    let mut stmt =
        c.prepare_cached("SELECT path FROM project_keys WHERE project_id = ?1 AND source = ?2 AND key = ?3")?;
    let mut lookup =
        |k: &str| stmt.query_row(rusqlite::params![project, source.as_str(), k], |r| r.get::<_, String>(0)).optional();
    if let Some(path) = lookup(key)? {
        return Ok((path, true));
    }
    if let Some(base) = key.strip_suffix(".value")
        && let Some(path) = lookup(base)?
    {
        return Ok((path, true));
    }
    Ok((json_path(key.split('.')), false))
}

/// Resolved JSON paths of the fields a query uses, and whether each key is catalogued.
type Paths = HashMap<(Source, String), (String, bool)>;

impl SqliteStore {
    /// Resolves the project and the JSON paths of every field used.
    fn prepare(&self, entity: &str, project: &str, fields: &[(Source, String)]) -> Result<(i64, Paths)> {
        self.read(|c| {
            let id = project_id(c, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            let mut paths = HashMap::new();
            for (source, key) in fields {
                paths.insert((*source, key.clone()), resolve_path(c, id, *source, key)?);
            }
            Ok((id, paths))
        })
    }

    /// Creates the expression indexes the query will want ([`sqlite_key_indexes`]), if allowed
    /// and missing. `used` is the query's SQL.
    fn ensure_key_indexes(&self, used: &str, exprs: &[String], paths: &Paths) -> Result<()> {
        let catalogued: Vec<String> = paths
            .iter()
            .filter(|(_, (_, known))| *known)
            .map(|((source, _), (path, _))| json_expr(*source, path))
            .collect();
        let missing: Vec<KeyIndex> = {
            let known = lock(&self.key_indexes);
            sqlite_key_indexes(used, exprs, &catalogued).into_iter().filter(|k| !known.contains(&k.name)).collect()
        };
        for KeyIndex { name, expr: column_expr } in missing {
            if lock(&self.key_indexes).len() >= self.options.max_key_indexes {
                return Ok(());
            }
            let started = std::time::Instant::now();
            self.write(|tx| {
                tx.execute_batch(&format!("CREATE INDEX IF NOT EXISTS {name} ON runs (project_id, {column_expr})"))?;
                tx.execute(
                    "INSERT OR IGNORE INTO key_indexes (name, expr, created_at) VALUES (?1, ?2, ?3)",
                    rusqlite::params![name, column_expr, now()],
                )?;
                Ok(())
            })?;
            tracing::info!(index = %name, expr = %column_expr, ms = started.elapsed().as_millis() as u64, "created run-table key index");
            lock(&self.key_indexes).insert(name);
        }
        Ok(())
    }

    pub(crate) fn query_runs_impl(&self, q: &RunQuery) -> Result<RunPage> {
        let sort_field = parse_field(&q.order_by)?;
        if sort_field == Field::Tags {
            return Err(StoreError::InvalidFilter("cannot sort by tags".into()));
        }
        let mut fields = Vec::new();
        if let Some(f) = &q.filter {
            collect_json_fields(f, &mut fields);
        }
        if let Field::Json { source, key } = &sort_field {
            fields.push((*source, key.clone()));
        }
        let (project, paths) = self.prepare(&q.entity, &q.project, &fields)?;
        let resolve = |s: Source, k: &str| {
            paths.get(&(s, k.to_owned())).map_or_else(|| json_path(k.split('.')), |(p, _)| p.clone())
        };
        let mut b = SqlBuilder::new(project, &resolve);
        let mut count = SqlBuilder::new(project, &resolve).for_count();
        if let Some(f) = &q.filter {
            b.sql.push_str(" AND ");
            b.push_filter(f)?;
            count.sql.push_str(" AND ");
            count.push_filter(f)?;
        }
        let sort_expr = b.field_expr(&sort_field).unwrap_or_else(|| "r.created_at".into());
        self.ensure_key_indexes(&format!("{} {sort_expr}", b.sql), &b.json_exprs, &paths)?;
        let cursor = q.cursor.as_deref().filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        let limit = q.limit.clamp(1, 1000);
        self.read(|c| {
            let tx = c.unchecked_transaction()?; // one snapshot for the page and the count
            let page = read_page(&tx, &b.sql, &b.params, &sort_expr, q.direction, cursor.as_ref(), limit)?;
            let total = if q.with_total {
                let sql = format!("SELECT count(*) FROM runs r WHERE {}", count.sql);
                Some(tx.query_row(&sql, params_from_iter(count.params.iter()), |r| r.get::<_, i64>(0))? as u64)
            } else {
                None
            };
            Ok(RunPage { runs: page.0, next_cursor: page.1.map(|c| c.encode()), total })
        })
    }

    pub(crate) fn group_runs_impl(
        &self,
        entity: &str,
        project: &str,
        by: &str,
        filter: Option<&Filter>,
    ) -> Result<Vec<GroupCount>> {
        let field = parse_field(by)?;
        let mut fields = Vec::new();
        if let Some(f) = filter {
            collect_json_fields(f, &mut fields);
        }
        if let Field::Json { source, key } = &field {
            fields.push((*source, key.clone()));
        }
        let (project, paths) = self.prepare(entity, project, &fields)?;
        let resolve = |s: Source, k: &str| {
            paths.get(&(s, k.to_owned())).map_or_else(|| json_path(k.split('.')), |(p, _)| p.clone())
        };
        let mut b = SqlBuilder::new(project, &resolve);
        if let Some(f) = filter {
            b.sql.push_str(" AND ");
            b.push_filter(f)?;
        }
        let (value_expr, from) = match b.field_expr(&field) {
            Some(e) => (e, "runs r".to_owned()),
            None => ("t.value".to_owned(), "runs r, json_each(r.tags) t".to_owned()),
        };
        self.ensure_key_indexes(&format!("{} {value_expr}", b.sql), &b.json_exprs, &paths)?;
        let sql = format!(
            "SELECT {value_expr} AS v, count(*) AS n FROM {from} WHERE {} GROUP BY v ORDER BY n DESC, v LIMIT 1000",
            b.sql
        );
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params_from_iter(b.params.iter()), |r| {
                Ok(GroupCount { value: sql_to_json(&r.get::<_, SqlValue>(0)?), count: r.get::<_, i64>(1)? as u64 })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

/// The key indexes a query wants (the rule of [`key_indexes`], for SQLite's expressions): for
/// each catalogued key expression `e` of the query, one on its number, string or boolean form
/// where the query's SQL (`used`) compares them, and one on `e` itself where it is
/// read bare (a sort, a keyset page, a missing-key test). The planner matches expressions
/// textually, so each index is on the query's own expression, after `project_id`.
fn sqlite_key_indexes(used: &str, exprs: &[String], catalogued: &[String]) -> Vec<KeyIndex> {
    let mut wanted = Vec::new();
    for e in exprs.iter().filter(|e| catalogued.contains(e)) {
        let mut bare = used.to_owned();
        for form in [sqlite_number_form(e), sqlite_string_form(e), sqlite_bool_form(e)] {
            if bare.contains(&form) {
                bare = bare.replace(&form, "");
                wanted.push(form);
            }
        }
        if bare.contains(e.as_str()) {
            wanted.push(e.clone());
        }
    }
    wanted
        .iter()
        .flat_map(|w| key_indexes(std::slice::from_ref(w), std::slice::from_ref(w)))
        .map(|k| KeyIndex { expr: unaliased(&k.expr), ..k })
        .collect()
}

/// An expression without the `runs` alias, for an index definition (`key_indexes` drops only
/// the first; the number and string forms read the key more than once).
fn unaliased(expr: &str) -> String {
    expr.replace("(r.config,", "(config,").replace("(r.summary,", "(summary,")
}

/// Reads up to `limit` runs after `cursor`: first those with a sort value, then those without.
fn read_page(
    c: &Connection,
    base: &str,
    params: &[SqlValue],
    e: &str,
    dir: Direction,
    cursor: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Run>, Option<Cursor>)> {
    let (cmp, seek, ord) = match dir {
        Direction::Asc => (">", ">=", "ASC"),
        Direction::Desc => ("<", "<=", "DESC"),
    };
    let mut runs = Vec::new();
    let null_phase_started = cursor.is_some_and(|c| c.null_phase);
    if !null_phase_started {
        let mut params = params.to_vec();
        let mut sql = format!("SELECT {RUN_COLUMNS}, {e} FROM {RUN_FROM} WHERE {base} AND {e} IS NOT NULL");
        if let Some(cur) = cursor {
            params.push(cur.value.clone());
            let v = params.len();
            params.push(SqlValue::Integer(cur.pk));
            let pk = params.len();
            sql.push_str(&format!(" AND {e} {seek} ?{v} AND ({e} {cmp} ?{v} OR r.pk {cmp} ?{pk})"));
        }
        sql.push_str(&format!(" ORDER BY {e} {ord}, r.pk {ord} LIMIT {}", limit + 1));
        let rows = fetch(c, &sql, &params)?;
        if rows.len() > limit {
            let mut rows = rows;
            rows.truncate(limit);
            let next = rows.last().map(|(run, v, pk)| (run.clone(), v.clone(), *pk));
            let runs = rows.into_iter().map(|(r, _, _)| r).collect();
            return Ok((runs, next.map(|(_, value, pk)| Cursor { null_phase: false, value, pk })));
        }
        runs.extend(rows.into_iter().map(|(r, _, _)| r));
    }
    let remaining = limit - runs.len();
    let mut params = params.to_vec();
    let mut sql = format!("SELECT {RUN_COLUMNS}, NULL FROM {RUN_FROM} WHERE {base} AND {e} IS NULL");
    if let Some(cur) = cursor.filter(|c| c.null_phase) {
        params.push(SqlValue::Integer(cur.pk));
        sql.push_str(&format!(" AND r.pk > ?{}", params.len()));
    }
    sql.push_str(&format!(" ORDER BY r.pk ASC LIMIT {}", remaining + 1));
    let mut rows = fetch(c, &sql, &params)?;
    let next = if rows.len() > remaining {
        rows.truncate(remaining);
        match rows.last() {
            Some((_, _, pk)) => Some(Cursor { null_phase: true, value: SqlValue::Null, pk: *pk }),
            // The page filled up exactly at the phase boundary.
            None => runs.last().map(|_| Cursor { null_phase: true, value: SqlValue::Null, pk: i64::MIN }),
        }
    } else {
        None
    };
    runs.extend(rows.into_iter().map(|(r, _, _)| r));
    Ok((runs, next))
}

fn fetch(c: &Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<(Run, SqlValue, i64)>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |row| {
        Ok((run_from_row(row)?, row.get::<_, SqlValue>(RUN_COLUMN_COUNT)?, row.get::<_, i64>(19)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() -> Result<()> {
        for value in [SqlValue::Integer(3), SqlValue::Real(0.5), SqlValue::Text("x".into()), SqlValue::Null] {
            let c = Cursor { null_phase: false, value, pk: 7 };
            assert_eq!(Cursor::decode(&c.encode())?, c);
        }
        assert!(Cursor::decode("zz").is_err());
        assert!(Cursor::decode("v.i00.0000000000000007").is_err(), "only the exact form");
        // Any string of the documented form reads (the OpenAPI document states the form).
        let odd = Cursor::decode("n.sff00.ffffffffffffffff")?;
        assert_eq!((odd.null_phase, odd.pk), (true, -1));
        Ok(())
    }
}
