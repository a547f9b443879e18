//! Values in Trackway JSON: plain JSON plus three tagged forms, so that every value a user logs
//! round-trips exactly (docs/run-format.md, section 3).
//!
//! | value                          | encoding                              |
//! |--------------------------------|---------------------------------------|
//! | NaN / +Inf / -Inf              | `{"$f":"NaN"}` / `"Infinity"` / `"-Infinity"` |
//! | integer outside [-2^63, 2^64)  | `{"$int":"123..."}`                   |
//! | a map whose only key is a tag  | `{"$map":{...}}`                      |
//!
//! Finite floats are always written with a `.` or an exponent so that `1.0` reads back as a float.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// An ordered map of string keys to values (insertion order is kept, as in Python dicts).
pub type Map = IndexMap<String, Value>;

const TAG_FLOAT: &str = "$f";
const TAG_INT: &str = "$int";
const TAG_MAP: &str = "$map";

/// One logged, configured or summarised value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers in (i64::MAX, u64::MAX].
    UInt(u64),
    /// Any other integer, as decimal digits with an optional leading `-`.
    BigInt(String),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Map),
}

impl Value {
    /// The value as a float, for numeric values (booleans are not numbers here).
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            Value::BigInt(s) => s.parse::<f64>().ok(),
            _ => None,
        }
    }

    /// True for integers and floats (including NaN and infinities).
    #[must_use]
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::BigInt(_))
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// Builds an integer value from decimal digits, choosing the narrowest representation.
    #[must_use]
    pub fn from_decimal(digits: &str) -> Option<Value> {
        if let Ok(i) = digits.parse::<i64>() {
            return Some(Value::Int(i));
        }
        if let Ok(u) = digits.parse::<u64>() {
            return Some(Value::UInt(u));
        }
        let body = digits.strip_prefix('-').unwrap_or(digits);
        let valid = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| Value::BigInt(normalize_digits(digits)))
    }

    /// Looks up a dotted path (`"a.b.c"`) through nested maps.
    #[must_use]
    pub fn get_path(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, key| v.as_map()?.get(*key))
    }
}

/// Strips leading zeros so that equal integers have one spelling.
fn normalize_digits(digits: &str) -> String {
    let (sign, body) = match digits.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", digits),
    };
    let trimmed = body.trim_start_matches('0');
    if trimmed.is_empty() { "0".to_owned() } else { format!("{sign}{trimmed}") }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}

fn is_tag(key: &str) -> bool {
    key == TAG_FLOAT || key == TAG_INT || key == TAG_MAP
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::BigInt(d) => one_entry(s, TAG_INT, d.as_str()),
            Value::Float(f) => serialize_float(s, *f),
            Value::Str(v) => s.serialize_str(v),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(m) => serialize_map(s, m),
        }
    }
}

fn serialize_float<S: Serializer>(s: S, f: f64) -> Result<S::Ok, S::Error> {
    if f.is_nan() {
        one_entry(s, TAG_FLOAT, "NaN")
    } else if f.is_infinite() {
        one_entry(s, TAG_FLOAT, if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        // serde_json writes finite floats with ryu, which always includes `.` or `e`.
        s.serialize_f64(f)
    }
}

fn one_entry<S: Serializer, V: Serialize + ?Sized>(s: S, tag: &str, v: &V) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(tag, v)?;
    m.end()
}

struct PlainMap<'a>(&'a Map);

impl Serialize for PlainMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            out.serialize_entry(k, v)?;
        }
        out.end()
    }
}

fn serialize_map<S: Serializer>(s: S, m: &Map) -> Result<S::Ok, S::Error> {
    let looks_tagged = m.len() == 1 && m.keys().next().is_some_and(|k| is_tag(k));
    if looks_tagged { one_entry(s, TAG_MAP, &PlainMap(m)) } else { PlainMap(m).serialize(s) }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trackway JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::UInt(u), Value::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let Some(first) = access.next_key::<String>()? else {
            return Ok(Value::Map(map));
        };
        let first_value = if first == TAG_MAP {
            match access.next_value::<MaybePlain>()? {
                MaybePlain::Plain(inner) => {
                    let Some(second) = access.next_key::<String>()? else {
                        // `{"$map": {...}}` alone: an escaped user map, kept exactly as written.
                        return Ok(Value::Map(inner));
                    };
                    // A user map that merely has a `$map` key among others.
                    map.insert(first, untag(inner).map_err(de::Error::custom)?);
                    let v = access.next_value::<Value>()?;
                    map.insert(second, v);
                    return finish_map(map, access);
                }
                MaybePlain::Other(v) => v,
            }
        } else {
            access.next_value::<Value>()?
        };
        map.insert(first, first_value);
        finish_map(map, access)
    }
}

fn finish_map<'de, A: MapAccess<'de>>(mut map: Map, mut access: A) -> Result<Value, A::Error> {
    while let Some((k, v)) = access.next_entry::<String, Value>()? {
        map.insert(k, v);
    }
    untag(map).map_err(de::Error::custom)
}

/// The value under a `$map` key: a map whose own top level must not be untagged.
enum MaybePlain {
    Plain(Map),
    Other(Value),
}

impl<'de> Deserialize<'de> for MaybePlain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MaybePlainVisitor)
    }
}

struct MaybePlainVisitor;

macro_rules! delegate {
    ($($name:ident($t:ty)),*) => {$(
        fn $name<E: de::Error>(self, v: $t) -> Result<MaybePlain, E> {
            ValueVisitor.$name(v).map(MaybePlain::Other)
        }
    )*};
}

impl<'de> Visitor<'de> for MaybePlainVisitor {
    type Value = MaybePlain;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Trackway JSON value")
    }
    delegate!(visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_str(&str), visit_string(String));
    fn visit_unit<E>(self) -> Result<MaybePlain, E> {
        Ok(MaybePlain::Other(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybePlain, A::Error> {
        ValueVisitor.visit_seq(seq).map(MaybePlain::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<MaybePlain, A::Error> {
        let mut map = Map::new();
        while let Some((k, v)) = access.next_entry::<String, Value>()? {
            map.insert(k, v);
        }
        Ok(MaybePlain::Plain(map))
    }
}

/// Turns a decoded one-entry tagged map back into the value it stands for.
fn untag(map: Map) -> Result<Value, String> {
    let Some((key, inner)) = map.first().filter(|_| map.len() == 1) else {
        return Ok(Value::Map(map));
    };
    match (key.as_str(), inner) {
        (TAG_FLOAT, Value::Str(s)) => match s.as_str() {
            "NaN" => Ok(Value::Float(f64::NAN)),
            "Infinity" => Ok(Value::Float(f64::INFINITY)),
            "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
            other => Err(format!("unknown $f value {other:?} (expected NaN, Infinity or -Infinity)")),
        },
        (TAG_INT, Value::Str(s)) => Value::from_decimal(s).ok_or_else(|| format!("$int value {s:?} is not an integer")),
        (TAG_FLOAT | TAG_INT, other) => {
            Err(format!("malformed {key} tag: expected a string, found {}", other.type_name()))
        }
        _ => Ok(Value::Map(map)),
    }
}

/// Encodes a value as Trackway JSON text.
#[must_use]
pub fn to_json(v: &Value) -> String {
    // Serializing our own Value into a String cannot fail: every key is a string.
    serde_json::to_string(v).unwrap_or_default()
}

/// Decodes Trackway JSON text.
///
/// # Errors
/// When the text is not JSON or a tag is malformed.
pub fn from_json(s: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(s)
}
