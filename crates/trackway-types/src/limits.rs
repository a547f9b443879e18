//! Size and shape limits of everything a client can make the server store: one home for the
//! rules, used by `POST /runs`, `PATCH /runs/...` and ingest alike (docs/api.md "Limits"), so a
//! value refused on one route is refused on every route.

use crate::record::{ConfigRecord, MetaRecord, MetricRecord, RunRecord, SummaryRecord, validate_run_id};
use crate::{HistoryRecord, Map, Record, Value};

/// Longest project or entity name, in characters.
pub const MAX_PROJECT_CHARS: usize = 128;
/// Longest display name, group, job type or host, in characters.
pub const MAX_NAME_CHARS: usize = 512;
/// Longest notes text, in bytes.
pub const MAX_NOTES_BYTES: usize = 64 * 1024;
/// Most tags on one run, and the longest tag in characters.
pub const MAX_TAGS: usize = 256;
pub const MAX_TAG_CHARS: usize = 256;
/// Most keys in one map (config, summary, metadata, one history row), counting nested maps.
pub const MAX_KEYS: usize = 10_000;
/// Longest key of such a map, in characters.
pub const MAX_KEY_CHARS: usize = 512;
/// Deepest nesting of lists and maps in one value.
pub const MAX_DEPTH: usize = 64;
/// Largest step the history engine stores (steps are signed 64-bit there).
pub const MAX_STEP: u64 = i64::MAX as u64;
/// History keys the row itself provides; `data` may not hold them.
pub const RESERVED_HISTORY_KEYS: [&str; 3] = ["_step", "_runtime", "_timestamp"];
/// Most distinct file paths one run may hold.
pub const MAX_FILES_PER_RUN: u64 = 10_000;

/// Why a value is refused. [`LimitError::is_name`] separates malformed names from sizes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitError {
    #[error("{what} must be 1 to {max} characters long, got {got}")]
    NameLength { what: &'static str, max: usize, got: usize },
    #[error("{what} {value:?} contains {ch:?}; names cannot contain / \\ # ? % : or control characters")]
    NameChar { what: &'static str, value: String, ch: char },
    #[error("{what} is too large: {got} > {max}")]
    TooLarge { what: String, max: usize, got: usize },
    #[error("step {0} is above 2^63-1")]
    Step(u64),
    #[error("history data may not contain {0} (it is set from the record)")]
    ReservedKey(String),
}

impl LimitError {
    /// A malformed id or name (as opposed to a value over a size limit).
    #[must_use]
    pub fn is_name(&self) -> bool {
        matches!(self, LimitError::NameLength { .. } | LimitError::NameChar { .. })
    }
}

type Checked = Result<(), LimitError>;

fn too_large(what: impl Into<String>, max: usize, got: usize) -> Checked {
    if got > max { Err(LimitError::TooLarge { what: what.into(), max, got }) } else { Ok(()) }
}

/// A run id, with the rule of [`validate_run_id`].
///
/// # Errors
/// When the id is refused.
pub fn check_run_id(id: &str) -> Checked {
    validate_run_id(id).map_err(|e| match e {
        crate::IdError::Length(got) => LimitError::NameLength { what: "run id", max: 64, got },
        crate::IdError::BadChar { id, ch } => LimitError::NameChar { what: "run id", value: id, ch },
        crate::IdError::Reserved(id) => LimitError::NameChar { what: "run id", value: id, ch: '.' },
    })
}

/// A project or entity name: 1 to [`MAX_PROJECT_CHARS`] characters, none of `/ \ # ? % :`, no
/// control characters (they are URL path segments, like run ids).
///
/// # Errors
/// When the name is refused.
pub fn check_name(what: &'static str, name: &str) -> Checked {
    let got = name.chars().count();
    if got == 0 || got > MAX_PROJECT_CHARS {
        return Err(LimitError::NameLength { what, max: MAX_PROJECT_CHARS, got });
    }
    match name.chars().find(|c| "/\\#?%:".contains(*c) || c.is_control()) {
        Some(ch) => Err(LimitError::NameChar { what, value: name.to_owned(), ch }),
        None if name == "." || name == ".." => Err(LimitError::NameChar { what, value: name.to_owned(), ch: '.' }),
        None => Ok(()),
    }
}

/// A display name, group, job type or host.
///
/// # Errors
/// When it is longer than [`MAX_NAME_CHARS`].
pub fn check_label(what: &'static str, text: Option<&str>) -> Checked {
    text.map_or(Ok(()), |t| too_large(what, MAX_NAME_CHARS, t.chars().count()))
}

/// Notes (free text).
///
/// # Errors
/// When longer than [`MAX_NOTES_BYTES`].
pub fn check_notes(text: Option<&str>) -> Checked {
    text.map_or(Ok(()), |t| too_large("notes", MAX_NOTES_BYTES, t.len()))
}

/// A run's tags.
///
/// # Errors
/// Too many tags, or one too long.
pub fn check_tags(tags: &[String]) -> Checked {
    too_large("number of tags", MAX_TAGS, tags.len())?;
    tags.iter().try_for_each(|t| too_large("tag", MAX_TAG_CHARS, t.chars().count()))
}

/// The fields of a run a client sets (create, patch, `run` and `meta` records).
#[derive(Default)]
pub struct RunFields<'a> {
    pub name: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub group: Option<&'a str>,
    pub job_type: Option<&'a str>,
    pub host: Option<&'a str>,
}

impl RunFields<'_> {
    /// Checks every field that is present.
    ///
    /// # Errors
    /// The first field over its limit.
    pub fn check(&self) -> Checked {
        check_label("name", self.name)?;
        check_label("group", self.group)?;
        check_label("job_type", self.job_type)?;
        check_label("host", self.host)?;
        check_notes(self.notes)?;
        self.tags.map_or(Ok(()), check_tags)
    }
}

/// Counts keys of nested maps (keys of maps inside lists too) and checks their length and the
/// nesting depth, stopping early once a limit is passed.
struct KeyCounter {
    what: &'static str,
    keys: usize,
}

impl KeyCounter {
    fn visit_key(&mut self, key: &str) -> Checked {
        self.keys += 1;
        too_large(format!("number of {} keys", self.what), MAX_KEYS, self.keys)?;
        too_large(format!("{} key", self.what), MAX_KEY_CHARS, key.chars().count())
    }

    fn visit_map<'v>(&mut self, entries: impl Iterator<Item = (&'v str, &'v Value)>, depth: usize) -> Checked {
        too_large(format!("{} nesting depth", self.what), MAX_DEPTH, depth)?;
        for (k, v) in entries {
            self.visit_key(k)?;
            self.visit_value(v, depth + 1)?;
        }
        Ok(())
    }

    fn visit_value(&mut self, v: &Value, depth: usize) -> Checked {
        match v {
            Value::Map(m) => self.visit_map(m.iter().map(|(k, v)| (k.as_str(), v)), depth),
            Value::List(items) => {
                too_large(format!("{} nesting depth", self.what), MAX_DEPTH, depth)?;
                items.iter().try_for_each(|item| self.visit_value(item, depth + 1))
            }
            _ => Ok(()),
        }
    }
}

/// A config, summary, metadata or history map: at most [`MAX_KEYS`] keys in all (nested ones
/// included), each at most [`MAX_KEY_CHARS`] long, nested at most [`MAX_DEPTH`] deep.
///
/// # Errors
/// The first limit passed.
pub fn check_map(what: &'static str, map: &Map) -> Checked {
    KeyCounter { what, keys: 0 }.visit_map(map.iter().map(|(k, v)| (k.as_str(), v)), 0)
}

/// Like [`check_map`] for a map held as plain JSON (the API's request bodies).
///
/// # Errors
/// The first limit passed.
pub fn check_json_map(what: &'static str, map: &serde_json::Map<String, serde_json::Value>) -> Checked {
    fn visit(c: &mut KeyCounter, v: &serde_json::Value, depth: usize) -> Checked {
        too_large(format!("{} nesting depth", c.what), MAX_DEPTH, depth)?;
        match v {
            serde_json::Value::Object(m) => m.iter().try_for_each(|(k, v)| {
                c.visit_key(k)?;
                visit(c, v, depth + 1)
            }),
            serde_json::Value::Array(items) => items.iter().try_for_each(|v| visit(c, v, depth + 1)),
            _ => Ok(()),
        }
    }
    let mut c = KeyCounter { what, keys: 0 };
    map.iter().try_for_each(|(k, v)| {
        c.visit_key(k)?;
        visit(&mut c, v, 1)
    })
}

fn check_run_record(r: &RunRecord) -> Checked {
    check_run_id(&r.run_id)?;
    if let Some(p) = &r.project {
        check_name("project", p)?;
    }
    if let Some(e) = &r.entity {
        check_name("entity", e)?;
    }
    RunFields {
        name: r.name.as_deref(),
        notes: r.notes.as_deref(),
        tags: Some(&r.tags),
        group: r.group.as_deref(),
        job_type: r.job_type.as_deref(),
        host: r.host.as_deref(),
    }
    .check()?;
    check_map("config", &r.config)?;
    check_map("settings", &r.settings)
}

fn check_meta_record(r: &MetaRecord) -> Checked {
    RunFields {
        name: r.name.as_deref(),
        notes: r.notes.as_deref(),
        tags: r.tags.as_deref(),
        group: r.group.as_deref(),
        job_type: r.job_type.as_deref(),
        host: None,
    }
    .check()?;
    check_map("metadata", &r.metadata)
}

fn check_summary_record(r: &SummaryRecord) -> Checked {
    if let Some(full) = &r.full {
        check_map("summary", full)?;
    }
    check_map("summary", &r.set)?;
    too_large("number of summary deletions", MAX_KEYS, r.del.len())
}

fn check_history_record(r: &HistoryRecord) -> Checked {
    if r.step > MAX_STEP {
        return Err(LimitError::Step(r.step));
    }
    if let Some(k) = r.data.keys().find(|k| RESERVED_HISTORY_KEYS.contains(&k.as_str())) {
        return Err(LimitError::ReservedKey(k.clone()));
    }
    check_map("history", &r.data)
}

fn check_metric_record(r: &MetricRecord) -> Checked {
    too_large("metric name", MAX_KEY_CHARS, r.name.chars().count())?;
    too_large("metric summaries", MAX_TAGS, r.summary.len())
}

/// Checks one run-log record against the limits above, as ingest does before storing it.
///
/// # Errors
/// The first limit the record passes.
pub fn check_record(record: &Record) -> Checked {
    match record {
        Record::Run(r) => check_run_record(r),
        Record::Config(ConfigRecord { data, remove }) => {
            check_map("config", data)?;
            too_large("number of config removals", MAX_KEYS, remove.len())
        }
        Record::History(r) => check_history_record(r),
        Record::Summary(r) => check_summary_record(r),
        Record::Metric(r) => check_metric_record(r),
        Record::Meta(r) => check_meta_record(r),
        Record::Finish(_) => Ok(()),
        Record::Unknown { raw, .. } => check_map("record", raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_run_id_rule() {
        assert!(check_name("project", "my-project_1.0").is_ok());
        for bad in ["", "a/b", "..", "a\nb", "x:y"] {
            assert!(check_name("project", bad).is_err_and(|e| e.is_name()), "{bad:?}");
        }
        assert!(check_name("project", &"p".repeat(MAX_PROJECT_CHARS + 1)).is_err());
        assert!(check_run_id(&"r".repeat(65)).is_err_and(|e| e.is_name()));
    }

    #[test]
    fn sizes_are_capped() {
        let tags: Vec<String> = (0..=MAX_TAGS).map(|i| i.to_string()).collect();
        assert!(matches!(check_tags(&tags), Err(LimitError::TooLarge { .. })));
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        assert!(RunFields { name: Some(&long), ..RunFields::default() }.check().is_err());
        let mut m = Map::new();
        for i in 0..=MAX_KEYS {
            m.insert(i.to_string(), Value::Int(1));
        }
        assert!(check_map("config", &m).is_err());
        let mut nested = Map::new();
        nested.insert("k".repeat(MAX_KEY_CHARS + 1), Value::Null);
        let mut outer = Map::new();
        outer.insert("a".into(), Value::Map(nested));
        assert!(check_map("config", &outer).is_err());
    }

    #[test]
    fn history_steps_and_reserved_keys() {
        let line = br#"{"t":"history","step":18446744073709551615,"data":{"a":1}}"#;
        let rec = Record::parse(line).expect("parses");
        assert_eq!(check_record(&rec), Err(LimitError::Step(u64::MAX)));
        let rec = Record::parse(br#"{"t":"history","step":1,"data":{"_step":1}}"#).expect("parses");
        assert!(matches!(check_record(&rec), Err(LimitError::ReservedKey(_))));
        let ok = Record::parse(br#"{"t":"history","step":1,"data":{"a":{"b":[1,{"c":2}]}}}"#).expect("parses");
        assert_eq!(check_record(&ok), Ok(()));
    }
}
