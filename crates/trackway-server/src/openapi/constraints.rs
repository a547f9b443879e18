//! What the server checks that Rust types do not say, written into the document so that a
//! request the document allows is one the server accepts:
//! - integers: the range of their Rust type (from the `format` utoipa writes); tuples: their
//!   length;
//! - strings named like the server's identifiers: the pattern of the rule that checks them
//!   (`trackway_types::validate_run_id`, `validate_rel_path`, the run table's fields, ...).

use serde_json::{Value, json};

/// `trackway_types::validate_run_id`: 1 to 64 characters, none of `/\#?%:` or controls.
const RUN_ID: &str = r"^[^/\\#?%:\u0000-\u001f\u007f-\u009f]{1,64}$";
/// `trackway_types::limits::check_name` (projects).
const PROJECT: &str = r"^(?!\.{1,2}$)[^/\\#?%:\u0000-\u001f\u007f-\u009f]{1,128}$";
/// `validate_rel_path`, narrowed to what a pattern can say simply: `/`-separated segments, none
/// empty, `.` or `..`, no `\` or NUL, and no `:` in the first segment (drive letters).
const REL_PATH: &str = r"^(?:[^/\\\u0000:.][^/\\\u0000:]*|\.{1,2}[^/\\\u0000:.][^/\\\u0000:]*)(?:/(?:[^/\\\u0000.][^/\\\u0000]*|\.{1,2}[^/\\\u0000.][^/\\\u0000]*))*$";
/// `trackway_store::artifacts::check_name`: an artifact name, type, alias or tag.
const ARTIFACT_NAME: &str = "^[A-Za-z0-9_.-]{1,128}$";
/// An alias: an artifact name that is not a version label (`v` and digits), said without
/// lookahead: not starting with `v`, or `v` alone, or `v` followed by something not all digits.
const ALIAS: &str = "^(?:[A-Za-uw-z0-9_.-][A-Za-z0-9_.-]*|v|v[A-Za-z0-9_.-]*[A-Za-z_.-][A-Za-z0-9_.-]*)$";
const SHA256: &str = "^[0-9a-fA-F]{64}$";
/// A field of the run table (`trackway_store::parse_field`).
pub(crate) const FIELD: &str = "(?:(?:config|summary|summary_metrics)\\.[^\"\\\\\\u0000-\\u001f\\u007f-\\u009f]+|tags|state|name|display_name|\
    displayName|run_id|id|group|job_type|jobType|host|created_at|createdAt|updated_at|updatedAt|heartbeat_at|\
    heartbeatAt|last_step|row_count|exit_code)";

/// `trackway_types::limits::check_name` (projects, entities), narrowed to names that do not
/// start with `.` (the rule refuses `.` and `..`).
const NAME: &str = r"^[^/\\#?%:.\u0000-\u001f\u007f-\u009f][^/\\#?%:\u0000-\u001f\u007f-\u009f]{0,127}$";
/// A tag of a bulk edit: not blank (narrowed to: no leading white space), at most 256 characters.
const TAG: &str = r"^\S.{0,255}$";

/// Patterns of string parameters (`in` path, query or header), by name.
fn param_pattern(name: &str) -> Option<String> {
    Some(match name {
        "run_id" => RUN_ID.to_owned(),
        "path" => REL_PATH.to_owned(),
        // Any field but `tags` sorts (`trackway_store`: "cannot sort by tags").
        "order" => format!("^[-+]?{}$", FIELD.replace("|tags|", "|")),
        "by" => format!("^{FIELD}$"),
        "stream" => "^(?:history|system)?$".to_owned(),
        "format" => "^(?:csv|jsonl|parquet)$".to_owned(),
        // A file version: digits that fit a u64 (empty: the latest).
        "version" => "^[0-9]{0,19}$".to_owned(),
        // A history/media page's cursor, as `crate::extract::step_cursor` reads it (empty: the
        // first page). The run list's cursor has its own form (`apply`).
        "cursor" => "^[0-9]{0,19}$".to_owned(),
        "X-Content-SHA256" | "sha256" => SHA256.to_owned(),
        "name" | "selector" => ARTIFACT_NAME.to_owned(),
        _ => return None,
    })
}

/// Patterns of request-body properties, by schema and property.
fn property_pattern(schema: &str, name: &str) -> Option<String> {
    Some(match (schema, name) {
        ("CreateRunRequest" | "IngestRequest", "run_id") => RUN_ID.to_owned(),
        // An entity that does not exist yet is created as a team: the store's `valid_name`.
        ("CreateRunRequest" | "IngestRequest", "entity") => "^[A-Za-z0-9._-]{1,64}$".to_owned(),
        ("IngestRequest", "log_id") => "^[\\u0020-\\u007e]{1,128}$".to_owned(),
        ("CreateSweep", "entity") => "^[A-Za-z0-9._-]{1,64}$".to_owned(),
        ("CreateSweep", "project") => r"^[^/\\#?%:\u0000-\u001f\u007f-\u009f]{1,128}$".to_owned(),
        ("TrialEnd", "run_id") => RUN_ID.to_owned(),
        ("TrialEnd", "state") => "^(?:finished|failed)$".to_owned(),
        ("CommitBody", "name" | "type") | ("UseBody", "name" | "selector") => ARTIFACT_NAME.to_owned(),
        ("ManifestEntryDoc", "path") => REL_PATH.to_owned(),
        ("ManifestEntryDoc", "sha256") => "^[0-9a-f]{64}$".to_owned(),
        ("MoveBody" | "RunSet", "project" | "entity") => NAME.to_owned(),
        ("ChartQuery", "stream") => "^(?:history|system)?$".to_owned(),
        ("BulkBody", "tags") => TAG.to_owned(),
        // `trackway_types::limits::check_name`: 1 to 128 characters, none of `/\#?%:` or
        // controls, not `.` or `..`.
        ("CreateRunRequest" | "IngestRequest", "project") => PROJECT.to_owned(),
        _ => return None,
    })
}

/// Patterns of the items of array properties, by schema and property.
fn item_pattern(schema: &str, name: &str) -> Option<&'static str> {
    match (schema, name) {
        ("CommitBody", "aliases") | ("AliasPatch", "add_aliases" | "remove_aliases") => Some(ALIAS),
        ("CommitBody", "tags") => Some(ARTIFACT_NAME),
        _ => None,
    }
}

/// The range of an integer `format` (of its unsigned type when `unsigned`).
fn range(format: &str, unsigned: bool) -> Option<(Value, Value)> {
    Some(match format {
        "int32" if unsigned => (json!(0), json!(u32::MAX)),
        "int64" if unsigned => (json!(0), json!(u64::MAX)),
        "int8" => (json!(i8::MIN), json!(i8::MAX)),
        "int16" => (json!(i16::MIN), json!(i16::MAX)),
        "int32" => (json!(i32::MIN), json!(i32::MAX)),
        "int64" => (json!(i64::MIN), json!(i64::MAX)),
        "uint8" => (json!(0), json!(u8::MAX)),
        "uint16" => (json!(0), json!(u16::MAX)),
        "uint32" => (json!(0), json!(u32::MAX)),
        "uint64" => (json!(0), json!(u64::MAX)),
        _ => return None,
    })
}

pub(crate) fn apply(doc: &mut Value) {
    walk(doc);
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        schemas.extend(super::filter_schema::schemas());
    }
    let runs = "/paths/~1api~1v1~1projects~1{entity}~1{project}~1runs/get/parameters";
    if let Some(Value::Array(params)) = doc.pointer_mut(runs) {
        for p in params.iter_mut().filter(|p| p["name"] == "cursor") {
            p["schema"]["pattern"] = json!(trackway_store::RUN_CURSOR_PATTERN);
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (schema, body) in schemas.iter_mut() {
            if let Some(Value::Object(props)) = body.get_mut("properties") {
                for (prop, value) in props.iter_mut() {
                    if let Some(p) = property_pattern(schema, prop) {
                        // An array's pattern is its items'.
                        if value["type"] == "array" {
                            value["items"]["pattern"] = Value::String(p);
                        } else {
                            value["pattern"] = Value::String(p);
                        }
                    }
                    // utoipa has no attribute for map sizes: a sweep names 1 to 4 parameters
                    // here, so a generated grid stays within trackway-sweep's bound
                    if (schema.as_str(), prop.as_str()) == ("SweepConfigDoc", "parameters") {
                        value["minProperties"] = json!(1);
                        value["maxProperties"] = json!(4);
                    }
                    if let (Some(p), Some(Value::Object(items))) = (item_pattern(schema, prop), value.get_mut("items"))
                    {
                        items.insert("pattern".into(), Value::String(p.to_owned()));
                        items.insert("maxLength".into(), json!(128));
                    }
                }
            }
            if schema == "SweepConfigDoc" {
                // trackway-sweep's rule: bayes needs a metric to optimise
                body["if"] = json!({"properties": {"method": {"const": "bayes"}}, "required": ["method"]});
                body["then"] = json!({"required": ["metric"], "properties": {"metric": {"type": "object"}}});
            }
        }
    }
}

/// Integer ranges and tuple lengths everywhere; patterns and no `null` on parameters.
fn walk(node: &mut Value) {
    match node {
        Value::Object(map) => {
            // A tuple (`prefixItems`) has exactly its items.
            if let Some(n) = map.get("prefixItems").and_then(Value::as_array).map(Vec::len) {
                map.entry("minItems").or_insert(json!(n));
                map.entry("maxItems").or_insert(json!(n));
            }
            // utoipa writes unsigned types as their signed format with `minimum: 0` (u32 as
            // int32, u64 as int64) and usize with no format: their range is the Rust type's,
            // which is what serde accepts.
            let unsigned = map.get("minimum").is_some_and(|m| *m == json!(0));
            let format = map.get("format").and_then(Value::as_str).map(str::to_owned);
            if let Some((lo, hi)) = format.as_deref().and_then(|f| range(f, unsigned)) {
                map.entry("minimum").or_insert(lo);
                map.entry("maximum").or_insert(hi);
            } else if map
                .get("type")
                .is_some_and(|t| t == "integer" || t.as_array().is_some_and(|a| a.contains(&json!("integer"))))
            {
                let hi = if unsigned { json!(u64::MAX) } else { json!(i64::MAX) };
                map.entry("maximum").or_insert(hi);
            }
            if let Some(Value::Array(params)) = map.get_mut("parameters") {
                // axum_extras adds path parameters from `Path<(..)>` that the attribute also names.
                let mut seen = std::collections::HashSet::new();
                params.retain(|p| seen.insert((p["name"].to_string(), p["in"].to_string())));
                params.iter_mut().for_each(constrain_parameter);
            }
            map.values_mut().for_each(walk);
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// A query string or header cannot carry JSON's null (absent says "none"); named patterns.
fn constrain_parameter(param: &mut Value) {
    if param["name"] == "filters" && param["in"] == "query" {
        // A JSON document in the query string: described by its grammar, not as a string.
        if let Value::Object(p) = param {
            p.remove("schema");
            p.insert("content".into(), json!({"application/json": {"schema": {"$ref": super::filter_schema::REF}}}));
        }
        return;
    }
    let pattern = param["name"].as_str().and_then(param_pattern);
    let blob_size = param["name"] == "size" && param["in"] == "query";
    let Some(Value::Object(schema)) = param.get_mut("schema") else { return };
    if blob_size {
        // An artifact blob's declared size: at most the server's default file limit
        // (`--max-file-bytes` changes it; a larger one is refused with 413).
        schema.insert("maximum".into(), json!(crate::limits::Limits::default().max_file_bytes));
    }
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    // A pattern the parameter's own attribute gives wins over the one its name suggests.
    if let (Some(p), Some("string")) = (pattern, schema.get("type").and_then(Value::as_str)) {
        schema.entry("pattern").or_insert(Value::String(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_pattern_is_one_the_store_accepts() {
        let (_, columns) = FIELD.trim_end_matches(')').split_once("]+|").expect("json keys, then columns");
        let mut names: Vec<&str> = columns.split('|').collect();
        assert!(names.len() > 10);
        names.extend(["config.a", "summary.a", "summary_metrics.a"]);
        for name in names {
            trackway_store::parse_filter(&json!({name: "x"})).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
