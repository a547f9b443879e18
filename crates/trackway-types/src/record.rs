//! Run-log records (docs/run-format.md, section 4). One record is one line of `run.jsonl`.

use serde::{Deserialize, Serialize};

use crate::value::{Map, Value};

/// The run-log format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// First record of every log: who the run is and how it was started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub v: u32,
    pub log_id: String,
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    #[serde(default)]
    pub resumed: bool,
    #[serde(default)]
    pub starting_step: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: Map,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub settings: Map,
}

/// A config update: top-level keys of `data` replace the run's keys; `remove` deletes keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigRecord {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// A history row, or a fragment of one: consecutive records with the same step form one row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub step: u64,
    #[serde(default)]
    pub ts: f64,
    #[serde(default)]
    pub rt: f64,
    pub data: Map,
}

/// Summary changes: `full` replaces everything, then `set` and `del` apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<Map>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub set: Map,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub del: Vec<Vec<String>>,
}

/// A metric definition (`define_metric`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricRecord {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_sync: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summary: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
}

/// Changes to run attributes; only the fields present change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// Run metadata (host, program, git, ...), merged into the server's metadata by key.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map,
}

/// The run ended. `exit_code` is null (and `crashed` true) when the agent found the writer dead.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FinishRecord {
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub ts: f64,
    #[serde(default)]
    pub rt: f64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crashed: bool,
}

/// One line of a run log.
// `Run` is ~500 bytes against ~100 for the others. Boxing it would shrink every record held in
// a batch; it changes how every crate builds and matches records, so it is left to the ingest
// memory work rather than done as a lint fix.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Run(RunRecord),
    Config(ConfigRecord),
    History(HistoryRecord),
    Summary(SummaryRecord),
    Metric(MetricRecord),
    Meta(MetaRecord),
    Finish(FinishRecord),
    /// A record type this version does not define: kept, not corrupt.
    Unknown {
        t: String,
        raw: Map,
    },
}

/// Why a line is not a valid record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a JSON object")]
    NotAnObject,
    #[error("missing string field `t`")]
    MissingType,
    #[error("invalid `{t}` record: {reason}")]
    Invalid { t: String, reason: String },
}

impl Record {
    /// The record's `t` tag.
    #[must_use]
    pub fn type_tag(&self) -> &str {
        match self {
            Record::Run(_) => "run",
            Record::Config(_) => "config",
            Record::History(_) => "history",
            Record::Summary(_) => "summary",
            Record::Metric(_) => "metric",
            Record::Meta(_) => "meta",
            Record::Finish(_) => "finish",
            Record::Unknown { t, .. } => t,
        }
    }

    /// Parses one line (without its trailing newline).
    ///
    /// # Errors
    /// When the line is not a JSON object with a string `t`, or a known record is malformed.
    pub fn parse(line: &[u8]) -> Result<Record, RecordError> {
        // Fast path: our writers put `t` first, so most lines parse in one pass.
        if let Some(t) = leading_tag(line).filter(|t| is_known(t)) {
            return Self::parse_known(t, line)
                .map_err(|e| RecordError::Invalid { t: t.to_owned(), reason: e.to_string() });
        }
        let value: Value = serde_json::from_slice(line)?;
        let Value::Map(mut map) = value else {
            return Err(RecordError::NotAnObject);
        };
        let t = match map.shift_remove("t") {
            Some(Value::Str(t)) => t,
            _ => return Err(RecordError::MissingType),
        };
        if !is_known(&t) {
            return Ok(Record::Unknown { t, raw: map });
        }
        // Re-reading the same bytes into the typed struct is simpler and as fast as converting
        // the generic map: serde skips the `t` field it does not know.
        Self::parse_known(&t, line).map_err(|e| RecordError::Invalid { t, reason: e.to_string() })
    }

    fn parse_known(t: &str, line: &[u8]) -> Result<Record, serde_json::Error> {
        Ok(match t {
            "run" => Record::Run(serde_json::from_slice(line)?),
            "config" => Record::Config(serde_json::from_slice(line)?),
            "history" => Record::History(serde_json::from_slice(line)?),
            "summary" => Record::Summary(serde_json::from_slice(line)?),
            "metric" => Record::Metric(serde_json::from_slice(line)?),
            "meta" => Record::Meta(serde_json::from_slice(line)?),
            _ => Record::Finish(serde_json::from_slice(line)?),
        })
    }

    /// Appends the record's JSON text (no newline) to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let tag = self.type_tag().to_owned();
        // Writing into a Vec cannot fail and every map key is a string.
        let _ = match self {
            Record::Run(r) => write_tagged(out, &tag, r),
            Record::Config(r) => write_tagged(out, &tag, r),
            Record::History(r) => write_tagged(out, &tag, r),
            Record::Summary(r) => write_tagged(out, &tag, r),
            Record::Metric(r) => write_tagged(out, &tag, r),
            Record::Meta(r) => write_tagged(out, &tag, r),
            Record::Finish(r) => write_tagged(out, &tag, r),
            Record::Unknown { raw, .. } => write_tagged(out, &tag, raw),
        };
    }

    /// The record as one JSON line, newline included.
    #[must_use]
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(&mut out);
        out.push(b'\n');
        out
    }
}

fn is_known(t: &str) -> bool {
    matches!(t, "run" | "config" | "history" | "summary" | "metric" | "meta" | "finish")
}

/// The value of `t` when the line starts exactly with `{"t":"<tag>"`.
fn leading_tag(line: &[u8]) -> Option<&str> {
    let rest = line.strip_prefix(b"{\"t\":\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    t: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

fn write_tagged<T: Serialize>(out: &mut Vec<u8>, t: &str, body: &T) -> serde_json::Result<()> {
    serde_json::to_writer(out, &Tagged { t, body })
}

/// Why a run id is refused.
#[derive(Debug, thiserror::Error)]
pub enum IdError {
    #[error("run id must be 1 to 64 characters long, got {0}")]
    Length(usize),
    #[error("run id {id:?} contains {ch:?}; run ids cannot contain / \\ # ? % : or control characters")]
    BadChar { id: String, ch: char },
    #[error("run id {0:?} is reserved (it names a directory in paths and URLs)")]
    Reserved(String),
}

/// Checks a run id: 1-64 characters, none of `/ \ # ? % :`, no control characters, not `.` or
/// `..`.
///
/// # Errors
/// When the id is empty, too long, or holds a forbidden character.
pub fn validate_run_id(id: &str) -> Result<(), IdError> {
    let n = id.chars().count();
    if n == 0 || n > 64 {
        return Err(IdError::Length(n));
    }
    match id.chars().find(|c| "/\\#?%:".contains(*c) || c.is_control()) {
        Some(ch) => Err(IdError::BadChar { id: id.to_owned(), ch }),
        None if id == "." || id == ".." => Err(IdError::Reserved(id.to_owned())),
        None => Ok(()),
    }
}
