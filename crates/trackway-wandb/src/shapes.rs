//! wandb's JSON shapes of config, summary and history lines, and their Trackway equivalents.
//!
//! - Config travels as a JSON string `{"lr": {"value": 0.1, "desc": null}, "_wandb": {...}}`;
//!   Trackway keeps `{"lr": 0.1}`. `_wandb` (the SDK's telemetry and internal settings) is not
//!   user config and is kept out, as Trackway's own client never logs it.
//! - wandb writes non-finite floats as the bare tokens `NaN`, `Infinity`, `-Infinity` (not
//!   JSON); they become Trackway JSON's tagged floats before parsing.

use std::borrow::Cow;

use serde_json::Value as Json;
use trackway_types::{Map, Value, from_json};

use crate::{Result, WandbError};

/// Keys of wandb's own bookkeeping inside config and summary.
pub const INTERNAL_KEY: &str = "_wandb";

/// Rewrites the bare non-finite tokens outside strings into Trackway's tagged floats.
#[must_use]
pub fn tag_nonfinite(text: &str) -> Cow<'_, str> {
    if !(text.contains("NaN") || text.contains("Infinity")) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let (mut in_str, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            in_str = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_str = true;
        } else if let Some((token, tagged)) = [("-Infinity", "-Infinity"), ("Infinity", "Infinity"), ("NaN", "NaN")]
            .into_iter()
            .find(|(t, _)| rest.starts_with(t))
        {
            out.push_str(&format!("{{\"$f\":\"{tagged}\"}}"));
            rest = &rest[token.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Parses one wandb JSON object (a history line, the summary, a config document).
///
/// # Errors
/// When the text is not a JSON object.
pub fn parse_object(text: &str) -> Result<Map> {
    match from_json(&tag_nonfinite(text)) {
        Ok(Value::Map(m)) => Ok(m),
        Ok(other) => Err(WandbError::BadRequest(format!("expected a JSON object, found {}", other.type_name()))),
        Err(e) => Err(WandbError::BadRequest(format!("invalid JSON: {e}"))),
    }
}

/// wandb's config document (`{"k": {"value": v}}`) as Trackway config (`{"k": v}`), without
/// `_wandb`. Entries that are not `{"value": ...}` objects are kept as they are.
///
/// # Errors
/// When the text is not a JSON object.
pub fn config_from_wandb(text: &str) -> Result<Map> {
    let doc = parse_object(text)?;
    Ok(doc
        .into_iter()
        .filter(|(k, _)| k != INTERNAL_KEY)
        .map(|(k, v)| match v {
            Value::Map(mut m) if m.contains_key("value") => (k, m.shift_remove("value").unwrap_or(Value::Null)),
            other => (k, other),
        })
        .collect())
}

/// Trackway config (stored JSON) as wandb's config document.
#[must_use]
pub fn config_to_wandb(config: &Json) -> String {
    let mut doc = serde_json::Map::new();
    if let Json::Object(m) = config {
        for (k, v) in m {
            doc.insert(k.clone(), serde_json::json!({"value": v, "desc": null}));
        }
    }
    Json::Object(doc).to_string()
}

/// A summary document from wandb, without `_wandb`.
///
/// # Errors
/// When the text is not a JSON object.
pub fn summary_from_wandb(text: &str) -> Result<Map> {
    let mut doc = parse_object(text)?;
    doc.shift_remove(INTERNAL_KEY);
    Ok(doc)
}

/// The time of a console line: wandb prefixes each line with an RFC 3339 timestamp without a
/// zone (UTC), after `ERROR ` for stderr. Returns `(stream, ts, text)`.
#[must_use]
pub fn split_console_line(line: &str) -> (&'static str, Option<f64>, &str) {
    let (stream, rest) = match line.strip_prefix("ERROR ") {
        Some(rest) => ("err", rest),
        None => ("out", line),
    };
    let Some((stamp, text)) = rest.split_once(' ') else { return (stream, None, rest) };
    match chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(t) => (stream, Some(t.and_utc().timestamp_micros() as f64 / 1e6), text),
        Err(_) => (stream, None, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_tokens_become_tagged_floats_outside_strings() {
        let m = parse_object(r#"{"a":NaN,"b":-Infinity,"c":Infinity,"s":"NaN \"Infinity\""}"#).expect("parses");
        assert!(matches!(m["a"], Value::Float(f) if f.is_nan()));
        assert_eq!(m["b"], Value::Float(f64::NEG_INFINITY));
        assert_eq!(m["c"], Value::Float(f64::INFINITY));
        assert_eq!(m["s"], Value::Str("NaN \"Infinity\"".into()));
    }

    #[test]
    fn config_values_are_unwrapped_and_internal_keys_dropped() {
        let c = config_from_wandb(r#"{"lr":{"value":0.1},"n":{"value":{"a":1}},"_wandb":{"value":{"t":1}}}"#)
            .expect("parses");
        assert_eq!(c.len(), 2);
        assert_eq!(c["lr"], Value::Float(0.1));
        assert_eq!(c["n"].as_map().map(|m| m["a"].clone()), Some(Value::Int(1)));
        let back: Json = serde_json::from_str(&config_to_wandb(&serde_json::json!({"lr": 0.1}))).expect("json");
        assert_eq!(back["lr"]["value"], serde_json::json!(0.1));
    }

    #[test]
    fn console_lines_split_into_stream_time_and_text() {
        let (s, ts, text) = split_console_line("ERROR 2026-12-03T12:36:06.500000 boom here");
        assert_eq!((s, text), ("err", "boom here"));
        assert!(ts.is_some_and(|t| (t.fract() - 0.5).abs() < 1e-6));
        assert_eq!(split_console_line("no stamp"), ("out", None, "no stamp"));
    }
}
