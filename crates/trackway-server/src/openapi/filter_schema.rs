//! The run filter's grammar (`trackway_store::parse_filter`, docs/api.md "Filters") as JSON
//! Schema, for the `filters` query parameter (sent as JSON, OpenAPI's `content`), so that a
//! filter the document allows is one the server runs and one it forbids is refused:
//! - keys: `$and`/`$or`/`$nor` (arrays of filters) or a field of the run table ([`FIELD`]);
//! - a field's value: a literal (`$eq`; an object literal has no `$` key) or an object of
//!   operators; time fields take ISO-8601 dates as strings; `tags` has no ordering operators;
//!   `$not` takes a condition without another `$not`.
//!
//! `$regex` (with `$options`) is accepted too but not listed: no JSON Schema can say which
//! patterns compile, so the document would allow filters the server refuses.

use serde_json::{Map, Value, json};

use super::constraints::FIELD;

/// The filter schema's reference.
pub(crate) const REF: &str = "#/components/schemas/Filter";

/// Fields compared as times (`trackway_store::parse_field`'s `time` columns).
const TIME_FIELDS: [&str; 6] = ["created_at", "createdAt", "updated_at", "updatedAt", "heartbeat_at", "heartbeatAt"];

/// What `parse_iso8601` reads, narrowed to a date: `YYYY-MM-DD`.
const ISO_DATE: &str = "^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9])$";

#[derive(Clone, Copy)]
enum Kind {
    Plain,
    Time,
    Tags,
}

/// A literal compared with `$eq`: anything but an object with a `$` key.
fn literal(kind: Kind) -> Value {
    let string = match kind {
        Kind::Time => json!({"type": "string", "pattern": ISO_DATE}),
        _ => json!({"type": "string"}),
    };
    json!({"anyOf": [
        {"type": ["null", "boolean", "number", "array"]},
        string,
        {"type": "object", "propertyNames": {"pattern": "^[^$]"}},
    ]})
}

/// A field's condition: a literal or an object of operators.
fn condition(kind: Kind, allow_not: bool) -> Value {
    let lit = literal(kind);
    let mut ops = Map::new();
    let mut names = vec!["$eq", "$ne"];
    if !matches!(kind, Kind::Tags) {
        names.extend(["$gt", "$gte", "$lt", "$lte"]);
    }
    for op in names {
        ops.insert(op.into(), lit.clone());
    }
    for op in ["$in", "$nin"] {
        ops.insert(op.into(), json!({"type": "array", "items": lit.clone()}));
    }
    ops.insert("$exists".into(), json!({"type": "boolean"}));
    if allow_not {
        ops.insert("$not".into(), condition(kind, false));
    }
    let ops = json!({"type": "object", "minProperties": 1, "additionalProperties": false, "properties": ops});
    json!({"anyOf": [lit, ops]})
}

/// The `Filter` component (recursive through `$and`/`$or`/`$nor`).
pub(crate) fn schemas() -> Map<String, Value> {
    let list = json!({"type": "array", "items": {"$ref": REF}});
    let mut props = Map::new();
    for op in ["$and", "$or", "$nor"] {
        props.insert(op.into(), list.clone());
    }
    for field in TIME_FIELDS {
        props.insert(field.into(), condition(Kind::Time, true));
    }
    props.insert("tags".into(), condition(Kind::Tags, true));
    let filter = json!({
        "type": "object",
        "description": "A run filter (docs/api.md \"Filters\"), MongoDB-style. `$regex` (with `$options: \"i\"`) \
                        is accepted too but not described here: JSON Schema cannot say which patterns compile.",
        "properties": props,
        "propertyNames": {"pattern": format!("^(?:\\$and|\\$or|\\$nor|{FIELD})$")},
        "additionalProperties": condition(Kind::Plain, true),
    });
    let mut out = Map::new();
    out.insert("Filter".into(), filter);
    out
}
