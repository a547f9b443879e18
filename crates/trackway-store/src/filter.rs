//! The run-table filter language: MongoDB-style documents as wandb's public API takes them.
//!
//! ```json
//! {"$and": [{"config.model.layers": {"$gte": 4}}, {"tags": {"$in": ["a"]}},
//!           {"display_name": {"$regex": "^fox"}}, {"summary_metrics.acc": {"$exists": true}}]}
//! ```
//! Operators: `$and $or $nor $not $eq $ne $gt $gte $lt $lte $in $nin $exists $regex`
//! (`$options: "i"` beside `$regex`). Fields: `config.<dotted key>`, `summary_metrics.<key>`
//! (alias `summary.<key>`), `tags`, `state`, `name`/`display_name`, `run_id`/`id`, `group`,
//! `job_type`, `host`, `created_at`/`updated_at`/`heartbeat_at` (Unix seconds or ISO-8601
//! strings), `last_step`, `row_count`, `exit_code`.
//!
//! Semantics follow MongoDB: a missing key never equals a value, `$ne`/`$nin` match runs that
//! lack the key, and on `tags` (an array) `$eq`/`$in` match when any tag does. One deliberate
//! difference: a key whose value is JSON `null` counts as missing (`$exists: false`), so that
//! every condition can be answered from the key's expression index.

use rusqlite::types::Value as SqlValue;
use serde_json::Value as Json;

use crate::{Result, StoreError};

/// Where a JSON field lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Config,
    Summary,
}

impl Source {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Summary => "summary",
        }
    }
}

/// A filterable / sortable field.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// A plain column of the runs table (SQL column name); `time` columns accept ISO strings.
    Column {
        column: &'static str,
        time: bool,
    },
    Json {
        source: Source,
        key: String,
    },
    Tags,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Eq(Json),
    Ne(Json),
    Gt(Json),
    Gte(Json),
    Lt(Json),
    Lte(Json),
    In(Vec<Json>),
    Nin(Vec<Json>),
    Exists(bool),
    Regex(String),
    Not(Vec<Op>),
}

/// A parsed filter document.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Nor(Vec<Filter>),
    Cond(Field, Op),
}

fn invalid(msg: impl Into<String>) -> StoreError {
    StoreError::InvalidFilter(msg.into())
}

/// Most conditions, list operators and `$in` values in one filter, and its deepest nesting: a
/// bigger filter would exceed SQLite's expression-depth or parameter limits (a 500), so it is
/// refused up front as `invalid_filter`.
pub const MAX_FILTER_TERMS: usize = 500;
pub const MAX_FILTER_DEPTH: usize = 32;

/// Parses a filter document.
///
/// # Errors
/// [`StoreError::InvalidFilter`] naming the offending part, or when the filter is larger than
/// [`MAX_FILTER_TERMS`] or deeper than [`MAX_FILTER_DEPTH`].
pub fn parse_filter(doc: &Json) -> Result<Filter> {
    let filter = parse_doc(doc)?;
    let (terms, depth) = filter.size();
    if terms > MAX_FILTER_TERMS || depth > MAX_FILTER_DEPTH {
        return Err(invalid(format!(
            "the filter is too large ({terms} terms, nesting {depth}); at most {MAX_FILTER_TERMS} terms and {MAX_FILTER_DEPTH} levels"
        )));
    }
    Ok(filter)
}

impl Filter {
    /// Terms (conditions, lists and listed values) and nesting depth.
    fn size(&self) -> (usize, usize) {
        match self {
            Filter::And(parts) | Filter::Or(parts) | Filter::Nor(parts) => {
                parts.iter().map(Filter::size).fold((1, 1), |(t, d), (pt, pd)| (t + pt, d.max(pd + 1)))
            }
            Filter::Cond(_, op) => op.size(),
        }
    }
}

impl Op {
    fn size(&self) -> (usize, usize) {
        match self {
            Op::In(list) | Op::Nin(list) => (1 + list.len(), 1),
            Op::Not(ops) => ops.iter().map(Op::size).fold((1, 1), |(t, d), (pt, pd)| (t + pt, d.max(pd + 1))),
            _ => (1, 1),
        }
    }
}

fn parse_doc(doc: &Json) -> Result<Filter> {
    let Json::Object(map) = doc else {
        return Err(invalid("a filter must be a JSON object"));
    };
    let mut parts = Vec::with_capacity(map.len());
    for (key, value) in map {
        parts.push(match key.as_str() {
            "$and" => Filter::And(parse_list(key, value)?),
            "$or" => Filter::Or(parse_list(key, value)?),
            "$nor" => Filter::Nor(parse_list(key, value)?),
            k if k.starts_with('$') => return Err(invalid(format!("unknown operator {k}"))),
            k => {
                let field = parse_field(k)?;
                let ops = parse_ops(value)?;
                Filter::And(ops.into_iter().map(|op| Filter::Cond(field.clone(), op)).collect())
            }
        });
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
}

fn parse_list(op: &str, value: &Json) -> Result<Vec<Filter>> {
    let Json::Array(items) = value else {
        return Err(invalid(format!("{op} takes an array of filters")));
    };
    if items.len() > MAX_FILTER_TERMS {
        return Err(invalid(format!("{op} takes at most {MAX_FILTER_TERMS} filters")));
    }
    items.iter().map(parse_doc).collect()
}

/// Parses a field name into a [`Field`].
///
/// # Errors
/// Unknown fields.
pub fn parse_field(name: &str) -> Result<Field> {
    let col = |column, time| Ok(Field::Column { column, time });
    if let Some(key) = name.strip_prefix("config.") {
        return json_field(Source::Config, key);
    }
    if let Some(key) = name.strip_prefix("summary_metrics.").or_else(|| name.strip_prefix("summary.")) {
        return json_field(Source::Summary, key);
    }
    match name {
        "tags" => Ok(Field::Tags),
        "state" => col("state", false),
        "name" | "display_name" | "displayName" => col("name", false),
        "run_id" | "id" => col("run_id", false),
        "group" => col("grp", false),
        "job_type" | "jobType" => col("job_type", false),
        "host" => col("host", false),
        "created_at" | "createdAt" => col("created_at", true),
        "updated_at" | "updatedAt" => col("updated_at", true),
        "heartbeat_at" | "heartbeatAt" => col("heartbeat_at", true),
        "last_step" => col("last_step", false),
        "row_count" => col("row_count", false),
        "exit_code" => col("exit_code", false),
        other => Err(invalid(format!(
            "unknown field {other:?} (use config.<key>, summary_metrics.<key>, tags, state, name, \
             group, job_type, created_at, ...)"
        ))),
    }
}

fn json_field(source: Source, key: &str) -> Result<Field> {
    // `"` and `\` would end or escape the quoted JSON path label, and NUL would cut the SQL
    // text short: such keys are refused, never passed to SQLite.
    if key.is_empty() || key.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(invalid(format!(
            "invalid {} key {key:?}: keys cannot be empty or contain \", \\ or control characters",
            source.as_str()
        )));
    }
    Ok(Field::Json { source, key: key.to_owned() })
}

/// A field's value: either operators (`{"$gt": 1, "$lt": 5}`) or a literal for `$eq`.
fn parse_ops(value: &Json) -> Result<Vec<Op>> {
    let Json::Object(map) = value else {
        return Ok(vec![Op::Eq(value.clone())]);
    };
    if !map.keys().any(|k| k.starts_with('$')) {
        return Ok(vec![Op::Eq(value.clone())]);
    }
    let case_insensitive = match map.get("$options") {
        None => false,
        Some(Json::String(o)) => o.contains('i'),
        Some(_) => return Err(invalid("$options must be a string")),
    };
    let mut ops = Vec::with_capacity(map.len());
    for (op, arg) in map {
        ops.push(match op.as_str() {
            "$eq" => Op::Eq(arg.clone()),
            "$ne" => Op::Ne(arg.clone()),
            "$gt" => Op::Gt(arg.clone()),
            "$gte" => Op::Gte(arg.clone()),
            "$lt" => Op::Lt(arg.clone()),
            "$lte" => Op::Lte(arg.clone()),
            "$in" => Op::In(array_arg(op, arg)?),
            "$nin" => Op::Nin(array_arg(op, arg)?),
            "$exists" => Op::Exists(arg.as_bool().ok_or_else(|| invalid("$exists takes true or false"))?),
            "$regex" => Op::Regex(regex_arg(arg, case_insensitive)?),
            "$not" => Op::Not(parse_ops(arg)?),
            "$options" => continue,
            other => return Err(invalid(format!("unknown operator {other}"))),
        });
    }
    Ok(ops)
}

fn array_arg(op: &str, arg: &Json) -> Result<Vec<Json>> {
    match arg {
        Json::Array(items) => Ok(items.clone()),
        _ => Err(invalid(format!("{op} takes an array"))),
    }
}

fn regex_arg(arg: &Json, case_insensitive: bool) -> Result<String> {
    let Json::String(pattern) = arg else {
        return Err(invalid("$regex takes a string"));
    };
    let pattern = if case_insensitive { format!("(?i){pattern}") } else { pattern.clone() };
    regex::Regex::new(&pattern).map_err(|e| invalid(format!("bad $regex: {e}")))?;
    Ok(pattern)
}

/// A bound parameter of compiled SQL (SQLite's value type, converted by other backends).
pub type SqlParam = SqlValue;

/// What differs between SQL databases when compiling a filter; the filter semantics (brackets,
/// missing keys, `$nin`, tags) stay in [`SqlBuilder`]. JSON paths are given in SQLite syntax
/// (`$."a"."b"`, see [`json_path`]), as the key catalogue stores them.
pub trait Dialect: Sync {
    /// The placeholder of the `n`-th parameter (from 1), which holds `v`.
    fn placeholder(&self, n: usize, v: &SqlParam) -> String;
    /// The value of a config/summary key: SQL NULL when the key is missing or JSON null.
    fn json_expr(&self, source: Source, path: &str) -> String;
    /// `e <sym> p` within the type bracket of the filter value `v` (MongoDB's rule: numbers
    /// with numbers incl. tagged infinities and big integers, strings with strings, ...).
    fn bracketed(&self, e: &str, sym: &str, p: &str, v: &Json) -> String;
    /// `e` (a column or tag, any type) matches the regex in parameter `p`.
    fn regex(&self, e: &str, p: &str) -> String;
    /// The JSON key `e` holds a string matching the regex in `p`.
    fn json_regex(&self, e: &str, p: &str) -> String;
    /// The literal for true or false.
    fn bool_lit(&self, b: bool) -> &'static str;
    /// Suffix that turns a condition into a two-valued one (NULL counts as false).
    fn is_true(&self) -> &'static str;
    /// Whether each condition on a run column or key becomes a semi-join on one index
    /// (`r.pk IN (SELECT ...)`; SQLite's planner answers those from its covering expression
    /// indexes and intersects them by rowid). `false`: conditions are written in place, which
    /// PostgreSQL plans as index conditions (bitmap AND/OR over the key indexes) where a
    /// semi-join would make it hash every matching run and scan the project.
    fn semi_joins(&self) -> bool {
        true
    }
}

/// SQLite: `json_extract`, `REGEXP` (a Rust-regex function the store registers), `?N`.
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn placeholder(&self, n: usize, _v: &SqlParam) -> String {
        format!("?{n}")
    }

    fn json_expr(&self, source: Source, path: &str) -> String {
        json_expr(source, path)
    }

    fn bracketed(&self, e: &str, sym: &str, p: &str, v: &Json) -> String {
        let jt = json_type_of(e);
        match v {
            // One expression per bracket, so that its key index answers the condition alone
            // (no run's JSON is parsed to test the type): see `sqlite_number_form`.
            Json::Number(_) => format!("{} {sym} {p}", sqlite_number_form(e)),
            Json::Bool(_) => format!("{} {sym} {p}", sqlite_bool_form(e)),
            Json::String(_) => format!("{} {sym} {p}", sqlite_string_form(e)),
            _ => format!("({e} {sym} {p} AND {jt} IN ('array','object'))"),
        }
    }

    fn regex(&self, e: &str, p: &str) -> String {
        format!("{e} REGEXP {p}")
    }

    fn json_regex(&self, e: &str, p: &str) -> String {
        format!("({e} REGEXP {p} AND {} = 'text')", json_type_of(e))
    }

    fn bool_lit(&self, b: bool) -> &'static str {
        if b { "1" } else { "0" }
    }

    fn is_true(&self) -> &'static str {
        " IS 1"
    }
}

/// Compiles filters and sort keys to SQL over the `runs` table aliased `r`.
pub struct SqlBuilder<'a> {
    pub sql: String,
    pub params: Vec<SqlValue>,
    /// JSON expressions referenced, so the store can make sure they are indexed.
    pub json_exprs: Vec<String>,
    resolve: &'a dyn Fn(Source, &str) -> String,
    dialect: &'a dyn Dialect,
    /// The project id's placeholder.
    p1: String,
    /// How many more top-level positive conditions to write directly instead of as a
    /// semi-join (see [`SqlBuilder::push_semi`]).
    direct_left: usize,
    /// Nesting depth under `$or`/`$nor`/`$not`, where direct conditions cannot drive an index.
    branch_depth: usize,
    /// Nesting depth under `$nor`/`$not`, where a condition written in place must be made
    /// two-valued (a NULL under NOT would otherwise drop the run instead of keeping it).
    negated: usize,
}

impl<'a> SqlBuilder<'a> {
    /// A SQLite builder whose SQL starts with `r.project_id = ?1`; filters are ANDed after it.
    pub fn new(project: i64, resolve: &'a dyn Fn(Source, &str) -> String) -> Self {
        Self::with_dialect(project, resolve, &SqliteDialect)
    }

    /// A builder for another SQL dialect; parameter 1 is the project id.
    pub fn with_dialect(project: i64, resolve: &'a dyn Fn(Source, &str) -> String, dialect: &'a dyn Dialect) -> Self {
        let project = SqlValue::Integer(project);
        let p1 = dialect.placeholder(1, &project);
        SqlBuilder {
            sql: format!("r.project_id = {p1}"),
            params: vec![project],
            json_exprs: Vec::new(),
            resolve,
            dialect,
            p1,
            direct_left: 0,
            branch_depth: 0,
            negated: 0,
        }
    }

    /// Writes the first top-level positive condition directly, so a count can be answered by
    /// one index range scan (the other conditions stay semi-joins probed by rowid). A page
    /// query keeps all semi-joins, which lets SQLite walk the sort key's index instead.
    pub fn for_count(mut self) -> Self {
        self.direct_left = 1;
        self
    }

    /// The SQL expression of a scalar field (`None` for tags).
    pub fn field_expr(&mut self, field: &Field) -> Option<String> {
        match field {
            Field::Column { column, .. } => Some(format!("r.{column}")),
            Field::Json { source, key } => {
                let path = (self.resolve)(*source, key);
                let expr = self.dialect.json_expr(*source, &path);
                if !self.json_exprs.contains(&expr) {
                    self.json_exprs.push(expr.clone());
                }
                Some(expr)
            }
            Field::Tags => None,
        }
    }

    pub fn push_filter(&mut self, filter: &Filter) -> Result<()> {
        match filter {
            Filter::And(parts) => self.push_joined(parts, " AND ", true),
            Filter::Or(parts) => self.push_branch(parts, ""),
            Filter::Nor(parts) => self.push_branch(parts, "NOT "),
            Filter::Cond(field, op) => self.push_cond(field, op),
        }
    }

    fn push_branch(&mut self, parts: &[Filter], prefix: &str) -> Result<()> {
        let negates = usize::from(!prefix.is_empty());
        self.branch_depth += 1;
        self.negated += negates;
        self.sql.push_str(prefix);
        let out = self.push_joined(parts, " OR ", false);
        self.branch_depth -= 1;
        self.negated -= negates;
        out
    }

    fn push_joined(&mut self, parts: &[Filter], sep: &str, empty: bool) -> Result<()> {
        if parts.is_empty() {
            self.sql.push_str(self.dialect.bool_lit(empty));
            return Ok(());
        }
        self.sql.push('(');
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(sep);
            }
            self.push_filter(part)?;
        }
        self.sql.push(')');
        Ok(())
    }

    fn push_cond(&mut self, field: &Field, op: &Op) -> Result<()> {
        if let Op::Not(ops) = op {
            self.sql.push_str("NOT (");
            let parts: Vec<Filter> = ops.iter().map(|o| Filter::Cond(field.clone(), o.clone())).collect();
            self.branch_depth += 1;
            self.negated += 1;
            let out = self.push_joined(&parts, " AND ", true);
            self.branch_depth -= 1;
            self.negated -= 1;
            out?;
            self.sql.push_str(self.dialect.is_true());
            self.sql.push(')');
            return Ok(());
        }
        match (field, self.field_expr(field)) {
            (Field::Tags, _) | (_, None) => self.push_tags_cond(op),
            (Field::Json { .. }, Some(expr)) => self.push_json_cond(&expr, op),
            (Field::Column { time, .. }, Some(expr)) => self.push_scalar_cond(&expr, *time, op),
        }
    }

    /// `r.pk [NOT] IN (runs of the project where <pred>)`. Every condition is a semi-join on
    /// one key: SQLite answers it from that key's index alone (no row reads), several of them
    /// intersect by rowid probes, and the page query can still walk the sort key's index.
    ///
    /// Both forms mean the same (the outer row is already in the project); they differ only in
    /// which index SQLite can drive the query from.
    fn push_semi(&mut self, negate: bool, pred: &str) {
        if !self.dialect.semi_joins() {
            // In place, two-valued where it matters: a negated condition keeps runs whose
            // predicate is NULL (as `NOT IN` does); under NOT, `IS TRUE` keeps NULL from
            // spreading. Elsewhere AND/OR are monotone, so NULL and false select the same runs
            // and the bare predicate stays an index condition.
            let sql = if negate {
                format!("(({pred}) IS NOT TRUE)")
            } else if self.negated > 0 {
                format!("(({pred}) IS TRUE)")
            } else {
                format!("({pred})")
            };
            self.sql.push_str(&sql);
            return;
        }
        if !negate && self.branch_depth == 0 && self.direct_left > 0 {
            self.direct_left -= 1;
            self.sql.push_str(&format!("({pred})"));
            return;
        }
        let not = if negate { "NOT " } else { "" };
        let p1 = &self.p1;
        self.sql.push_str(&format!("(r.pk {not}IN (SELECT r.pk FROM runs r WHERE r.project_id = {p1} AND {pred}))"));
    }

    fn push_scalar_cond(&mut self, e: &str, time: bool, op: &Op) -> Result<()> {
        // Missing keys are looked up as `IS NULL` in the index (usually few), not as the
        // complement of the present ones (usually many).
        let missing = format!("{e} IS NULL");
        match op {
            Op::Eq(Json::Null) | Op::Exists(false) => self.push_semi(false, &missing),
            Op::Ne(Json::Null) | Op::Exists(true) => self.push_semi(true, &missing),
            Op::Eq(v) | Op::Ne(v) => {
                let p = self.param(v, time)?;
                self.push_semi(matches!(op, Op::Ne(_)), &format!("{e} = {p}"));
            }
            Op::Gt(v) | Op::Gte(v) | Op::Lt(v) | Op::Lte(v) => {
                let sym = match op {
                    Op::Gt(_) => ">",
                    Op::Gte(_) => ">=",
                    Op::Lt(_) => "<",
                    _ => "<=",
                };
                let p = self.param(v, time)?;
                self.push_semi(false, &format!("{e} {sym} {p}"));
            }
            Op::In(list) | Op::Nin(list) => self.push_in(e, list, time, matches!(op, Op::Nin(_)))?,
            Op::Regex(pattern) => {
                let p = self.param(&Json::String(pattern.clone()), false)?;
                let pred = self.dialect.regex(e, &p);
                self.push_semi(false, &pred);
            }
            Op::Not(_) => return Err(invalid("nested $not")),
        }
        Ok(())
    }

    /// A condition on a config or summary key, with MongoDB's type brackets: numbers compare
    /// only with numbers (NaN with nothing; tagged infinities and big integers by value),
    /// strings with strings, booleans with booleans. `e` is the key's `json_extract`.
    fn push_json_cond(&mut self, e: &str, op: &Op) -> Result<()> {
        let (sym, v) = match op {
            Op::Eq(v) | Op::Ne(v) if !v.is_null() => ("=", v),
            Op::Gt(v) => (">", v),
            Op::Gte(v) => (">=", v),
            Op::Lt(v) => ("<", v),
            Op::Lte(v) => ("<=", v),
            Op::In(list) | Op::Nin(list) => return self.push_json_in(e, list, matches!(op, Op::Nin(_))),
            Op::Regex(pattern) => {
                let p = self.param(&Json::String(pattern.clone()), false)?;
                let pred = self.dialect.json_regex(e, &p);
                self.push_semi(false, &pred);
                return Ok(());
            }
            _ => return self.push_scalar_cond(e, false, op),
        };
        let pred = self.bracketed(e, sym, v)?;
        self.push_semi(matches!(op, Op::Ne(_)), &pred);
        Ok(())
    }

    /// `e <sym> v` within `v`'s type bracket.
    fn bracketed(&mut self, e: &str, sym: &str, v: &Json) -> Result<String> {
        let p = self.param(v, false)?;
        Ok(self.dialect.bracketed(e, sym, &p, v))
    }

    /// `$in` / `$nin` on a config or summary key: each listed value within its type bracket.
    fn push_json_in(&mut self, e: &str, list: &[Json], negate: bool) -> Result<()> {
        let mut preds = Vec::new();
        for v in list.iter().filter(|v| !v.is_null()) {
            preds.push(self.bracketed(e, "=", v)?);
        }
        let has_null = list.iter().any(Json::is_null);
        if has_null {
            preds.push(format!("{e} IS NULL"));
        }
        if preds.is_empty() {
            self.sql.push_str(self.dialect.bool_lit(negate));
            return Ok(());
        }
        self.push_semi(negate, &format!("({})", preds.join(" OR ")));
        Ok(())
    }

    /// `$in` matches a listed value (or a missing key when the list holds null); `$nin` is its
    /// complement.
    fn push_in(&mut self, e: &str, list: &[Json], time: bool, negate: bool) -> Result<()> {
        let has_null = list.iter().any(Json::is_null);
        let mut placeholders = Vec::new();
        for v in list.iter().filter(|v| !v.is_null()) {
            placeholders.push(self.param(v, time)?);
        }
        let listed = format!("{e} IN ({})", placeholders.join(","));
        let missing = format!("{e} IS NULL");
        let sep = if negate { " AND " } else { " OR " };
        let mut parts = 0;
        self.sql.push('(');
        if !placeholders.is_empty() {
            self.push_semi(negate, &listed);
            parts += 1;
        }
        if has_null {
            if parts > 0 {
                self.sql.push_str(sep);
            }
            // In: missing counts as a match; nin: missing is excluded.
            self.push_semi(negate, &missing);
            parts += 1;
        }
        if parts == 0 {
            self.sql.push_str(self.dialect.bool_lit(negate));
        }
        self.sql.push(')');
        Ok(())
    }

    fn push_tag_semi(&mut self, negate: bool, pred: &str) {
        let not = if negate { "NOT " } else { "" };
        let p1 = &self.p1;
        self.sql.push_str(&format!("(r.pk {not}IN (SELECT run_pk FROM run_tags WHERE project_id = {p1} AND {pred}))"));
    }

    fn push_tags_cond(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::Eq(v @ Json::Array(_)) | Op::Ne(v @ Json::Array(_)) => {
                let p = self.param(&Json::String(v.to_string()), false)?;
                let same = format!("r.tags = {p}");
                let sql = if matches!(op, Op::Eq(_)) { format!("({same})") } else { format!("(NOT ({same}))") };
                self.sql.push_str(&sql);
            }
            Op::Eq(v) | Op::Ne(v) => {
                let p = self.param(v, false)?;
                self.push_tag_semi(matches!(op, Op::Ne(_)), &format!("tag = {p}"));
            }
            Op::In(list) | Op::Nin(list) => {
                let negate = matches!(op, Op::Nin(_));
                if list.is_empty() {
                    self.sql.push_str(self.dialect.bool_lit(negate));
                    return Ok(());
                }
                let mut ps = Vec::new();
                for v in list {
                    ps.push(self.param(v, false)?);
                }
                self.push_tag_semi(negate, &format!("tag IN ({})", ps.join(",")));
            }
            Op::Regex(p) => {
                let p = self.param(&Json::String(p.clone()), false)?;
                let pred = self.dialect.regex("tag", &p);
                self.push_tag_semi(false, &pred);
            }
            Op::Exists(present) => {
                let yes = self.dialect.bool_lit(true);
                self.push_tag_semi(!present, yes);
            }
            _ => return Err(invalid("tags support $eq, $ne, $in, $nin, $regex and $exists")),
        }
        Ok(())
    }

    /// Binds a filter value; returns its placeholder.
    fn param(&mut self, v: &Json, time: bool) -> Result<String> {
        let value = to_sql_value(v, time)?;
        let p = self.dialect.placeholder(self.params.len() + 1, &value);
        self.params.push(value);
        Ok(p)
    }
}

/// The config/summary keys a filter uses (to resolve their paths before compiling).
pub fn collect_json_fields(filter: &Filter, out: &mut Vec<(Source, String)>) {
    match filter {
        Filter::And(parts) | Filter::Or(parts) | Filter::Nor(parts) => {
            parts.iter().for_each(|p| collect_json_fields(p, out));
        }
        Filter::Cond(Field::Json { source, key }, _) => out.push((*source, key.clone())),
        Filter::Cond(..) => {}
    }
}

/// `json_extract(r.<source>, '<path>')`, spelled identically everywhere so that SQLite can use
/// an expression index built from the same text.
/// An expression index on a config/summary key that a run-table query wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyIndex {
    /// `kx_` and 16 hex digits of the expression's SHA-256: the same expression always gets the
    /// same name, so `IF NOT EXISTS` and a set of known names recognise it.
    pub name: String,
    /// The indexed expression: the query's own (the planner matches expressions textually)
    /// without its table alias. Indexes go on `runs (project_id, <expr>)`.
    pub expr: String,
}

/// The on-demand expression indexes of a run-table query, one rule for every backend: one per
/// config/summary expression the query reads (`exprs`, [`SqlBuilder::json_exprs`]) whose key
/// the project's catalogue knows (`catalogued`, the same expressions); typos and keys no run has
/// get none, as they would only use up the bounded number of indexes.
#[must_use]
pub fn key_indexes(exprs: &[String], catalogued: &[String]) -> Vec<KeyIndex> {
    use sha2::{Digest, Sha256};
    let mut out: Vec<KeyIndex> = Vec::new();
    for e in exprs.iter().filter(|e| catalogued.contains(e)) {
        let name = format!("kx_{}", &hex::encode(Sha256::digest(e.as_bytes()))[..16]);
        if !out.iter().any(|k| k.name == name) {
            out.push(KeyIndex { name, expr: e.replacen("r.", "", 1) });
        }
    }
    out
}

pub(crate) fn json_expr(source: Source, path: &str) -> String {
    format!("json_extract(r.{}, {})", source.as_str(), sql_literal(path))
}

/// The numeric value of the SQLite key expression `e` (a `json_extract(...)` from
/// [`json_expr`]), NULL outside the number bracket: JSON numbers (not booleans, which
/// `json_extract` gives as 0/1), and tagged numbers (`{"$f":"Infinity"}`, `{"$int":"..."}`) by
/// value (NaN has none). One expression, so that a key index on `(project_id, <it>)` answers
/// range and equality conditions, and counts, from the index alone.
pub(crate) fn sqlite_number_form(e: &str) -> String {
    format!(
        "(CASE {} WHEN 'integer' THEN {e} WHEN 'real' THEN {e} WHEN 'object' THEN {} END)",
        json_type_of(e),
        tagged_number(e)
    )
}

/// The string value of the SQLite key expression `e`, NULL outside the string bracket; a key
/// index on it answers equality and ranges.
pub(crate) fn sqlite_string_form(e: &str) -> String {
    format!("(CASE {} WHEN 'text' THEN {e} END)", json_type_of(e))
}

/// The boolean value (0/1) of the SQLite key expression `e`, NULL outside the boolean bracket
/// (numbers 0 and 1 are not booleans); a key index on it answers equality.
pub(crate) fn sqlite_bool_form(e: &str) -> String {
    format!("(CASE {} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", json_type_of(e))
}

/// `json_type(...)` of the same key as a `json_extract(...)` expression from [`json_expr`].
fn json_type_of(extract: &str) -> String {
    extract.replacen("json_extract(", "json_type(", 1)
}

/// The numeric value of a tagged Trackway JSON number held in `e` (its JSON text):
/// ±Infinity, or a big integer as a float; NULL for NaN and anything else.
fn tagged_number(e: &str) -> String {
    format!(
        "(CASE json_extract({e}, '$.\"$f\"') WHEN 'Infinity' THEN 9e999 WHEN '-Infinity' THEN -9e999 \
         ELSE CAST(json_extract({e}, '$.\"$int\"') AS REAL) END)"
    )
}

/// A SQL string literal.
pub(crate) fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The SQLite JSON path of a nested key given as segments.
pub fn json_path<'s>(segments: impl IntoIterator<Item = &'s str>) -> String {
    let mut path = String::from("$");
    for seg in segments {
        path.push_str(".\"");
        path.push_str(seg);
        path.push('"');
    }
    path
}

/// Converts a filter value to the SQL value `json_extract` would return for it.
pub(crate) fn to_sql_value(v: &Json, time: bool) -> Result<SqlValue> {
    Ok(match v {
        Json::Null => SqlValue::Null,
        Json::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().ok_or_else(|| invalid("number out of range"))?),
        },
        Json::String(s) if time => match parse_iso8601(s) {
            Some(t) => SqlValue::Real(t),
            None => return Err(invalid(format!("{s:?} is not an ISO-8601 time"))),
        },
        Json::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    })
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]` into Unix seconds (UTC when no offset).
#[must_use]
pub fn parse_iso8601(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, rest) = s.split_at(s.find(['T', ' ']).unwrap_or(s.len()));
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let rest = rest.get(1..).unwrap_or("");
    let (time, offset) = split_offset(rest)?;
    let mut t = time.split(':');
    let h: f64 = t.next().filter(|x| !x.is_empty()).map_or(Some(0.0), |x| x.parse().ok())?;
    let mi: f64 = t.next().map_or(Some(0.0), |x| x.parse().ok())?;
    let sec: f64 = t.next().map_or(Some(0.0), |x| x.parse().ok())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(y, m, day) as f64 * 86400.0 + h * 3600.0 + mi * 60.0 + sec - offset)
}

fn split_offset(time: &str) -> Option<(&str, f64)> {
    if let Some(t) = time.strip_suffix('Z') {
        return Some((t, 0.0));
    }
    match time.rfind(['+', '-']) {
        Some(i) => {
            let (t, off) = time.split_at(i);
            let sign = if off.starts_with('-') { -1.0 } else { 1.0 };
            let mut parts = off[1..].split(':');
            let hh: f64 = parts.next()?.parse().ok()?;
            let mm: f64 = parts.next().map_or(Some(0.0), |x| x.parse().ok())?;
            Some((t, sign * (hh * 3600.0 + mm * 60.0)))
        }
        None => Some((time, 0.0)),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_documents() -> Result<()> {
        let f = parse_filter(&json!({"$or":[{"config.a.b":{"$gt":1,"$lt":3}},{"tags":"x"}]}))?;
        let Filter::Or(parts) = f else { panic!("expected $or") };
        assert_eq!(parts.len(), 2);
        assert!(parse_filter(&json!({"bogus": 1})).is_err());
        assert!(parse_filter(&json!({"config.a": {"$frob": 1}})).is_err());
        assert!(parse_filter(&json!({"name": {"$regex": "("}})).is_err());
        Ok(())
    }

    #[test]
    fn keys_that_would_break_the_sql_are_refused() {
        for key in ["config.a\\", "config.a\u{0}b", "summary.a\"b", "config."] {
            let doc = serde_json::Value::Object([(key.to_owned(), json!(1))].into_iter().collect());
            assert!(matches!(parse_filter(&doc), Err(StoreError::InvalidFilter(_))), "{key:?}");
        }
    }

    #[test]
    fn oversized_filters_are_refused() {
        let branches: Vec<_> = (0..1001).map(|i| json!({"config.a": i})).collect();
        assert!(matches!(parse_filter(&json!({"$or": branches})), Err(StoreError::InvalidFilter(_))));
        let mut deep = json!({"config.a": 1});
        for _ in 0..40 {
            deep = json!({"$and": [deep]});
        }
        assert!(matches!(parse_filter(&deep), Err(StoreError::InvalidFilter(_))));
        let values: Vec<_> = (0..600).collect();
        assert!(parse_filter(&json!({"config.a": {"$in": values}})).is_err());
        assert!(parse_filter(&json!({"$or": (0..240).map(|i| json!({"config.a": i})).collect::<Vec<_>>()})).is_ok());
    }

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso8601("1970-01-02"), Some(86400.0));
        assert_eq!(parse_iso8601("2000-03-01T00:00:00Z"), Some(951_868_800.0));
        assert_eq!(parse_iso8601("2000-03-01T01:00:00+01:00"), Some(951_868_800.0));
        assert_eq!(parse_iso8601("nope"), None);
    }
}
