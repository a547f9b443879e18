//! The run table on PostgreSQL: filtered, sorted, keyset-paginated pages and group counts,
//! compiled by the shared filter compiler ([`SqlBuilder`] with [`PgDialect`]).
//!
//! Sorting puts runs that lack the sort key last in both directions; a page is read in two
//! phases (runs with a value, then runs without) as in the SQLite store. The cursor holds the
//! last sort value as JSON text; config/summary keys compare as jsonb, columns in their type.

use std::collections::HashMap;

use postgres::GenericClient;
use postgres::types::ToSql;
use serde_json::Value as Json;
use trackway_store::backend::{
    Dialect, Field, KeyIndex, Source, SqlBuilder, SqlParam, collect_json_fields, json_path, key_indexes, parse_field,
};
use trackway_store::{Direction, Filter, GroupCount, OpenOptions, Result, Run, RunPage, RunQuery, StoreError};

use super::dialect::{PgDialect, number_form, string_form};
use super::runs::{RUN_COLUMN_COUNT, RUN_COLUMNS, RUN_FROM, project_id, run_from_row};
use super::{PgStore, db};

type Params = Vec<Box<dyn ToSql + Sync>>;
/// Resolved JSON paths of the config/summary keys a query uses, and whether each is catalogued.
type Paths = HashMap<(Source, String), (String, bool)>;

/// Key of the advisory lock under which replicas create key indexes (one at a time, so two
/// replicas never build the same index and the bound holds across replicas).
const KEY_INDEX_LOCK: i64 = 0x7472_6163_6b6b_7869; // the bytes of "trackkxi"

fn to_params(values: &[SqlParam]) -> Params {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                SqlParam::Null => Box::new(None::<String>),
                SqlParam::Integer(i) => Box::new(*i),
                SqlParam::Real(f) => Box::new(*f),
                SqlParam::Text(s) => Box::new(s.clone()),
                SqlParam::Blob(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

fn refs(p: &Params) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
}

/// Where a page stopped: the phase, the last sort value (JSON text) and run pk.
#[derive(Debug, PartialEq)]
struct Cursor {
    null_phase: bool,
    value: Option<String>,
    pk: i64,
}

impl Cursor {
    fn encode(&self) -> String {
        hex::encode(serde_json::json!([self.null_phase, self.value, self.pk]).to_string())
    }

    fn decode(text: &str) -> Result<Cursor> {
        let bad = || StoreError::Invalid("invalid cursor".into());
        let bytes = hex::decode(text).map_err(|_| bad())?;
        let Ok(Json::Array(parts)) = serde_json::from_slice::<Json>(&bytes) else { return Err(bad()) };
        let [Json::Bool(null_phase), value, Json::Number(pk)] = parts.as_slice() else { return Err(bad()) };
        let value = match value {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            _ => return Err(bad()),
        };
        Ok(Cursor { null_phase: *null_phase, value, pk: pk.as_i64().ok_or_else(bad)? })
    }
}

/// The JSON path of a dotted key: the catalogue knows whether `a.b` is nested or literal, and
/// wandb-style `lr.value` falls back to `lr` (the SQLite store's rule).
fn resolve_path(c: &mut impl GenericClient, project: i64, source: Source, key: &str) -> Result<(String, bool)> {
    let base = key.strip_suffix(".value");
    for k in std::iter::once(key).chain(base) {
        let row = c
            .query_opt(
                "SELECT path FROM project_keys WHERE project_id = $1 AND source = $2 AND key = $3",
                &[&project, &source.as_str(), &k],
            )
            .map_err(db)?;
        if let Some(r) = row {
            return Ok((r.get(0), true));
        }
    }
    Ok((json_path(key.split('.')), false))
}

/// The SQL type of a runs column, for typed cursor comparisons.
fn column_type(column: &str) -> &'static str {
    match column {
        "created_at" | "updated_at" | "heartbeat_at" => "float8",
        "last_step" | "row_count" | "exit_code" => "int8",
        _ => "text",
    }
}

/// How a sort key is read into the cursor and compared with a cursor value in parameter `n`.
fn sort_forms(field: &Field, e: &str, n: usize) -> (String, String) {
    match field {
        Field::Column { column, .. } => {
            (format!("to_jsonb({e})::text"), format!("((${n}::text)::jsonb #>> '{{}}')::{}", column_type(column)))
        }
        _ => (format!("({e})::text"), format!("(${n}::text)::jsonb")),
    }
}

impl PgStore {
    /// Resolves the project and the JSON paths of every field used.
    fn prepare(&self, entity: &str, project: &str, fields: &[(Source, String)]) -> Result<(i64, Paths)> {
        self.tx(|tx| {
            let id = project_id(tx, entity, project)?
                .ok_or_else(|| StoreError::ProjectNotFound(format!("{entity}/{project}")))?;
            let mut paths = HashMap::new();
            for (source, key) in fields {
                paths.insert((*source, key.clone()), resolve_path(tx, id, *source, key)?);
            }
            Ok((id, paths))
        })
    }

    /// Creates the expression indexes the query will want ([`pg_key_indexes`]), at most
    /// `max_key_indexes` over all replicas: an index on the config/summary expression serves
    /// sorts and keyset pages on that key, one on its number or string form the filter's
    /// conditions and counts, instead of parsing every run's JSON. `used` is the query's SQL.
    fn ensure_key_indexes(&self, used: &str, exprs: &[String], paths: &Paths) -> Result<()> {
        let catalogued: Vec<String> = paths
            .iter()
            .filter(|(_, (_, known))| *known)
            .map(|((source, _), (path, _))| PgDialect.json_expr(*source, path))
            .collect();
        let missing: Vec<KeyIndex> = {
            let known = self.key_indexes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            pg_key_indexes(used, exprs, &catalogued).into_iter().filter(|k| !known.contains(&k.name)).collect()
        };
        let mut created = false;
        for k in missing {
            if !self.create_key_index(&k)? {
                break;
            }
            created = true;
            self.key_indexes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(k.name);
        }
        if created {
            self.analyze_runs()?;
        }
        Ok(())
    }

    /// Gathers the statistics of the new key indexes' expressions (CREATE INDEX does not): the
    /// planner then knows how many runs a condition on a key selects, so it walks the sort
    /// key's index for a common value instead of sorting thousands of matches (36 ms instead of
    /// 400 ms for the benchmark's `$in` shape). A small sample (3,000 runs, whatever the table
    /// size) bounds the cost, since every sampled run's JSON is parsed once per key index;
    /// autovacuum's next ANALYZE brings the default sample back.
    fn analyze_runs(&self) -> Result<()> {
        let started = std::time::Instant::now();
        self.tx(|tx| tx.batch_execute("SET LOCAL default_statistics_target = 10; ANALYZE runs").map_err(db))?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "analyzed runs for new key indexes");
        Ok(())
    }

    /// Creates one key index unless it exists; `false` when the bound is reached.
    fn create_key_index(&self, k: &KeyIndex) -> Result<bool> {
        let max = i64::try_from(OpenOptions::default().max_key_indexes).unwrap_or(i64::MAX);
        let started = std::time::Instant::now();
        self.tx(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&KEY_INDEX_LOCK]).map_err(db)?;
            if tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&k.name]).map_err(db)?.get(0) {
                return Ok(true);
            }
            let sql = "SELECT count(*) FROM pg_indexes WHERE tablename = 'runs' AND indexname LIKE 'kx\\_%'";
            let n: i64 = tx.query_one(sql, &[]).map_err(db)?.get(0);
            if n >= max {
                return Ok(false);
            }
            tx.batch_execute(&format!("CREATE INDEX {} ON runs ({})", k.name, k.expr)).map_err(db)?;
            let ms = started.elapsed().as_millis() as u64;
            tracing::info!(index = %k.name, expr = %k.expr, ms, "created run-table key index");
            Ok(true)
        })
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
        let mut b = SqlBuilder::with_dialect(project, &resolve, &PgDialect);
        let mut count = SqlBuilder::with_dialect(project, &resolve, &PgDialect).for_count();
        if let Some(f) = &q.filter {
            b.sql.push_str(" AND ");
            b.push_filter(f)?;
            count.sql.push_str(" AND ");
            count.push_filter(f)?;
        }
        let sort_expr = b.field_expr(&sort_field).unwrap_or_else(|| "r.created_at".into());
        self.ensure_key_indexes(&format!("{} {sort_expr}", b.sql), &b.json_exprs, &paths)?;
        let cursor = q.cursor.as_deref().map(Cursor::decode).transpose()?;
        let limit = q.limit.clamp(1, 1000);
        self.tx(|tx| {
            // Plans priced with trackway_json's true cost look big enough for JIT, whose
            // compilation (~15 ms) is longer than these queries run.
            tx.batch_execute("SET LOCAL jit = off").map_err(db)?;
            let page = read_page(tx, &b, &sort_field, &sort_expr, q.direction, cursor.as_ref(), limit)?;
            let total = if q.with_total {
                let sql = format!("SELECT count(*) FROM runs r WHERE {}", count.sql);
                let params = to_params(&count.params);
                let n: i64 = tx.query_one(&sql, &refs(&params)).map_err(db)?.get(0);
                Some(u64::try_from(n).unwrap_or(0))
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
        let mut b = SqlBuilder::with_dialect(project, &resolve, &PgDialect);
        if let Some(f) = filter {
            b.sql.push_str(" AND ");
            b.push_filter(f)?;
        }
        let grouped = b.field_expr(&field);
        self.ensure_key_indexes(&format!("{} {}", b.sql, grouped.as_deref().unwrap_or("")), &b.json_exprs, &paths)?;
        let (value_expr, from) = match (&field, grouped) {
            (Field::Json { .. }, Some(e)) => (format!("({e})::text"), "runs r".to_owned()),
            (_, Some(e)) => (format!("to_jsonb({e})::text"), "runs r".to_owned()),
            (_, None) => (
                "to_jsonb(t.value)::text".to_owned(),
                "runs r, jsonb_array_elements_text(r.tags::jsonb) t(value)".to_owned(),
            ),
        };
        let sql = format!(
            "SELECT {value_expr} AS v, count(*) AS n FROM {from} WHERE {} GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST LIMIT 1000",
            b.sql
        );
        let params = to_params(&b.params);
        self.tx(|tx| {
            let rows = tx.query(&sql, &refs(&params)).map_err(db)?;
            rows.iter()
                .map(|r| {
                    let value = match r.get::<_, Option<&str>>(0) {
                        Some(text) => serde_json::from_str(text)?,
                        None => Json::Null,
                    };
                    Ok(GroupCount { value, count: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0) })
                })
                .collect()
        })
    }
}

/// The key indexes a query wants (the rule of [`key_indexes`], for PostgreSQL's expressions): for
/// each catalogued key expression `e` of the query, an index on its number form and on its
/// string form where the query's SQL (`used`) compares them, and one on `e` itself where it
/// is read bare (a sort, a keyset page, a missing-key test). The planner matches expressions
/// textually, so each index is on the query's own expression.
fn pg_key_indexes(used: &str, exprs: &[String], catalogued: &[String]) -> Vec<KeyIndex> {
    let mut wanted = Vec::new();
    for e in exprs.iter().filter(|e| catalogued.contains(e)) {
        let mut bare = used.to_owned();
        for form in [number_form(e), string_form(e)] {
            if bare.contains(&form) {
                bare = bare.replace(&form, "");
                wanted.push((form, false));
            }
        }
        if bare.contains(e.as_str()) {
            wanted.push((e.clone(), true));
        }
    }
    // A sort walks `(project_id, e)` in order. A condition's index leaves the project out:
    // PostgreSQL ANDs two bitmap index scans only if they share no condition, so two key
    // conditions (`c = 'x' AND s < 0.2`) each on `(project_id, ...)` would never be combined,
    // and every run matching the first would be parsed to test the second.
    let columns = |expr: &str, sort: bool| if sort { format!("project_id, ({expr})") } else { format!("({expr})") };
    wanted
        .iter()
        .flat_map(|(w, sort)| {
            key_indexes(std::slice::from_ref(w), std::slice::from_ref(w))
                .into_iter()
                .map(move |k| KeyIndex { expr: columns(&unaliased(w), *sort), ..k })
        })
        .collect()
}

/// An expression without the `runs` alias, for an index definition: the one place it reads the
/// row (`key_indexes` drops the first `r.` of the text, which a typed form need not begin with).
fn unaliased(expr: &str) -> String {
    expr.replace("trackway_json(r.", "trackway_json(")
}

/// Reads up to `limit` runs after `cursor`: first those with a sort value, then those without.
fn read_page(
    c: &mut impl GenericClient,
    b: &SqlBuilder<'_>,
    field: &Field,
    e: &str,
    dir: Direction,
    cursor: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Run>, Option<Cursor>)> {
    let (cmp, seek, ord) = match dir {
        Direction::Asc => (">", ">=", "ASC"),
        Direction::Desc => ("<", "<=", "DESC"),
    };
    let base = &b.sql;
    let mut runs = Vec::new();
    if !cursor.is_some_and(|c| c.null_phase) {
        let mut params = to_params(&b.params);
        let (read, _) = sort_forms(field, e, 0);
        let mut sql = format!("SELECT {RUN_COLUMNS}, {read} FROM {RUN_FROM} WHERE {base} AND {e} IS NOT NULL");
        if let Some(cur) = cursor {
            params.push(Box::new(cur.value.clone()));
            let (_, v) = sort_forms(field, e, params.len());
            params.push(Box::new(cur.pk));
            let pk = params.len();
            sql.push_str(&format!(" AND {e} {seek} {v} AND ({e} {cmp} {v} OR r.pk {cmp} ${pk}::int8)"));
        }
        sql.push_str(&format!(" ORDER BY {e} {ord}, r.pk {ord} LIMIT {}", limit + 1));
        let rows = c.query(&sql, &refs(&params)).map_err(db)?;
        let mut page = Vec::with_capacity(rows.len());
        for r in &rows {
            page.push((run_from_row(r)?, r.get::<_, Option<String>>(RUN_COLUMN_COUNT)));
        }
        if page.len() > limit {
            page.truncate(limit);
            let next = page.last().map(|(run, v)| Cursor { null_phase: false, value: v.clone(), pk: run.pk });
            return Ok((page.into_iter().map(|(r, _)| r).collect(), next));
        }
        runs.extend(page.into_iter().map(|(r, _)| r));
    }
    let remaining = limit - runs.len();
    let mut params = to_params(&b.params);
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE {base} AND {e} IS NULL");
    if let Some(cur) = cursor.filter(|c| c.null_phase) {
        params.push(Box::new(cur.pk));
        sql.push_str(&format!(" AND r.pk > ${}::int8", params.len()));
    }
    sql.push_str(&format!(" ORDER BY r.pk ASC LIMIT {}", remaining + 1));
    let rows = c.query(&sql, &refs(&params)).map_err(db)?;
    let mut page = rows.iter().map(run_from_row).collect::<Result<Vec<Run>>>()?;
    let next = if page.len() > remaining {
        page.truncate(remaining);
        match page.last() {
            Some(run) => Some(Cursor { null_phase: true, value: None, pk: run.pk }),
            // The page filled up exactly at the phase boundary.
            None => runs.last().map(|_| Cursor { null_phase: true, value: None, pk: i64::MIN }),
        }
    } else {
        None
    };
    runs.extend(page);
    Ok((runs, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() -> Result<()> {
        for value in [Some("0.5".to_owned()), Some("\"x\"".to_owned()), None] {
            let c = Cursor { null_phase: false, value, pk: 7 };
            assert_eq!(Cursor::decode(&c.encode())?, c);
        }
        assert!(Cursor::decode("zz").is_err());
        Ok(())
    }
}
