//! The PostgreSQL dialect of the run-table filter compiler: config/summary read as jsonb from
//! their Trackway JSON text (through `trackway_json`, migration 0008, priced as the parse it
//! is), MongoDB type brackets through `trackway_num`/`trackway_str`/`jsonb_typeof`, POSIX
//! regexes (`~`; the patterns the filter parser accepts, incl. a leading `(?i)`, mean the same
//! there), typed placeholders (`$n::float8`), since PostgreSQL infers no types from
//! SQLite-style values, and conditions written in place rather than as semi-joins.

use serde_json::Value as Json;
use trackway_store::backend::{Dialect, Source, SqlParam};

pub(crate) struct PgDialect;

/// Splits a SQLite JSON path (`$."a"."b"`, as the key catalogue stores it) into its labels.
/// Keys with `"` or `\` are refused by the filter parser, so the quotes delimit exactly.
fn labels(path: &str) -> Vec<&str> {
    path.strip_prefix('$')
        .unwrap_or(path)
        .split("\".\"")
        .map(|s| s.trim_start_matches(".\"").trim_end_matches('"'))
        .collect()
}

/// The numeric value of the key `e`, NULL outside the number bracket: JSON numbers, and tagged
/// numbers (`{"$f":"Infinity"}`, `{"$int":"..."}`) by value (NaN has none); `trackway_num`
/// (migration 0008). One expression that reads the key once, so that a key index on it answers
/// range and equality conditions.
pub(crate) fn number_form(e: &str) -> String {
    format!("trackway_num({e})")
}

/// The string value of the key `e`, NULL outside the string bracket, compared bytewise (as in
/// SQLite); a key index on it answers equality and ranges.
pub(crate) fn string_form(e: &str) -> String {
    format!("(trackway_str({e}) COLLATE \"C\")")
}

/// A `text[]` literal of the labels, each quoted, as a SQL string literal.
fn path_literal(path: &str) -> String {
    let inner: Vec<String> = labels(path).iter().map(|l| format!("\"{l}\"")).collect();
    format!("'{{{}}}'", inner.join(",").replace('\'', "''"))
}

impl Dialect for PgDialect {
    fn placeholder(&self, n: usize, v: &SqlParam) -> String {
        let ty = match v {
            SqlParam::Integer(_) => "int8",
            SqlParam::Real(_) => "float8",
            SqlParam::Blob(_) => "bytea",
            SqlParam::Text(_) | SqlParam::Null => "text",
        };
        format!("${n}::{ty}")
    }

    fn json_expr(&self, source: Source, path: &str) -> String {
        format!("nullif(trackway_json(r.{}) #> {}, 'null'::jsonb)", source.as_str(), path_literal(path))
    }

    fn bracketed(&self, e: &str, sym: &str, p: &str, v: &Json) -> String {
        let of = |ty: &str, then: &str| format!("(CASE WHEN jsonb_typeof({e}) {ty} THEN {then} END)");
        match v {
            // Tagged numbers ({"$f":"Infinity"}, {"$int":"..."}) compare by value; NaN by none.
            Json::Number(_) => format!("{} {sym} {p}", number_form(e)),
            Json::Bool(_) => format!("{} {sym} {p}", of("= 'boolean'", &format!("({e})::boolean::int"))),
            Json::String(_) => format!("{} {sym} {p}", string_form(e)),
            _ => format!("{} {sym} ({p})::jsonb", of("IN ('array', 'object')", e)),
        }
    }

    fn regex(&self, e: &str, p: &str) -> String {
        format!("(({e})::text ~ {p})")
    }

    fn json_regex(&self, e: &str, p: &str) -> String {
        format!("((CASE WHEN jsonb_typeof({e}) = 'string' THEN {e} #>> '{{}}' END) ~ {p})")
    }

    fn bool_lit(&self, b: bool) -> &'static str {
        if b { "TRUE" } else { "FALSE" }
    }

    fn is_true(&self) -> &'static str {
        " IS TRUE"
    }

    fn semi_joins(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_become_pg_path_literals() {
        assert_eq!(path_literal("$.\"lr\""), "'{\"lr\"}'");
        assert_eq!(path_literal("$.\"model\".\"layers\""), "'{\"model\",\"layers\"}'");
        assert_eq!(path_literal("$.\"a.b\""), "'{\"a.b\"}'");
        assert_eq!(path_literal("$.\"it's\""), "'{\"it''s\"}'");
    }
}
