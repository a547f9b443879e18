//! Settings resolution: defaults < workspace settings file (`<root>/settings`) < environment
//! (`TRACKWAY_*`, then `WANDB_*`) < explicit arguments. The result is what
//! `trackway._native.resolve_settings` returns (docs/dev/native-api.md).

use std::path::{Path, PathBuf};

use trackway_types::{Map, Value};

use crate::SdkError;

/// Run mode after normalisation (`dryrun` = offline, `run` and `shared` = online).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Online,
    Offline,
    Disabled,
}

impl Mode {
    /// Parses a user-given mode.
    pub fn parse(s: &str) -> Result<Mode, SdkError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "online" | "run" | "shared" => Ok(Mode::Online),
            "offline" | "dryrun" => Ok(Mode::Offline),
            "disabled" => Ok(Mode::Disabled),
            other => Err(bad("mode", other, "expected online, offline or disabled")),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Online => "online",
            Mode::Offline => "offline",
            Mode::Disabled => "disabled",
        }
    }
}

/// Resolved settings of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub mode: Mode,
    pub project: String,
    pub entity: Option<String>,
    pub name: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub group: Option<String>,
    pub job_type: Option<String>,
    pub id: Option<String>,
    /// The directory holding `trackway/` (the `dir` argument, `TRACKWAY_DIR`/`WANDB_DIR`, or
    /// the working directory).
    pub dir: PathBuf,
    /// `<dir>/trackway`: where run directories, `settings` and `agent.lock` live.
    pub root: PathBuf,
    /// `allow`, `must`, `never` or `auto`; `None` = no resume.
    pub resume: Option<String>,
    pub silent: bool,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub finish_timeout: f64,
    pub console: String,
    pub save_code: bool,
    pub disable_code: bool,
    pub ignore_globs: Vec<String>,
    pub stats_sample_seconds: f64,
    pub stats_window_seconds: f64,
    pub disable_stats: bool,
}

/// (setting key, env name without prefix).
const ENV_NAMES: &[(&str, &str)] = &[
    ("mode", "MODE"),
    ("project", "PROJECT"),
    ("entity", "ENTITY"),
    ("name", "NAME"),
    ("notes", "NOTES"),
    ("tags", "TAGS"),
    ("id", "RUN_ID"),
    ("group", "RUN_GROUP"),
    ("job_type", "JOB_TYPE"),
    ("resume", "RESUME"),
    ("silent", "SILENT"),
    ("base_url", "BASE_URL"),
    ("api_key", "API_KEY"),
    ("finish_timeout", "FINISH_TIMEOUT"),
    ("console", "CONSOLE"),
    ("save_code", "SAVE_CODE"),
    ("disable_code", "DISABLE_CODE"),
    ("ignore_globs", "IGNORE_GLOBS"),
    ("stats_sample_seconds", "STATS_SAMPLE_SECONDS"),
    ("stats_window_seconds", "STATS_WINDOW_SECONDS"),
    ("disable_stats", "DISABLE_STATS"),
];

/// Every key [`resolve`] understands (the Python `Settings` object checks keys against this
/// list through the native module rather than keeping its own copy).
pub fn keys() -> impl Iterator<Item = &'static str> {
    ENV_NAMES.iter().map(|(k, _)| *k).chain(std::iter::once("dir"))
}

fn bad(key: &str, value: &str, why: &str) -> SdkError {
    SdkError::InvalidSetting { key: key.to_owned(), value: value.to_owned(), reason: why.to_owned() }
}

/// Resolves settings. `args` holds explicit arguments (`Null` or missing = unset); `cwd` is the
/// directory relative paths and the default `dir` are taken from.
///
/// # Errors
/// [`SdkError::InvalidSetting`] for an unknown mode, a bad run id, a bad resume value, or a value
/// of the wrong type.
pub fn resolve(args: &Map, cwd: &Path) -> Result<Settings, SdkError> {
    let creds = || {
        trackway_config::Credentials::load().unwrap_or_else(|e| {
            tracing::warn!("ignoring stored logins: {e}");
            Default::default()
        })
    };
    resolve_with(args, cwd, &trackway_config::env, &creds)
}

/// [`resolve`] with the environment and the stored logins supplied by the caller (tests).
///
/// # Errors
/// As [`resolve`].
pub fn resolve_with(
    args: &Map,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    creds: &dyn Fn() -> trackway_config::Credentials,
) -> Result<Settings, SdkError> {
    let arg = |k: &str| args.get(k).filter(|v| !matches!(v, Value::Null));
    let dir = match arg("dir") {
        Some(v) => Some(PathBuf::from(text("dir", v)?)),
        None => env("DIR").map(PathBuf::from),
    };
    let dir = dir.map_or_else(|| cwd.to_path_buf(), |d| if d.is_absolute() { d } else { cwd.join(d) });
    let root = dir.join("trackway");
    // A broken settings file must not stop a training script: warn and go on without it.
    let file = trackway_config::read_workspace_settings(&root).unwrap_or_else(|e| {
        tracing::warn!("ignoring workspace settings: {e}");
        Default::default()
    });
    let mut merged = Map::new();
    for (key, env_name) in ENV_NAMES {
        let v = if let Some(v) = arg(key) {
            v.clone()
        } else if let Some(s) = env(env_name) {
            Value::Str(s)
        } else if let Some(s) = file.get(*key).filter(|s| !s.trim().is_empty()) {
            Value::Str(s.clone())
        } else {
            continue;
        };
        merged.insert((*key).to_owned(), v);
    }
    build(&merged, dir, root, creds)
}

fn build(
    m: &Map,
    dir: PathBuf,
    root: PathBuf,
    creds: &dyn Fn() -> trackway_config::Credentials,
) -> Result<Settings, SdkError> {
    let s = |k: &str| m.get(k).map(|v| text(k, v)).transpose();
    let id = s("id")?;
    if let Some(id) = &id {
        trackway_types::validate_run_id(id).map_err(|e| bad("id", id, &e.to_string()))?;
    }
    let mode = s("mode")?.map_or(Ok(Mode::Online), |v| Mode::parse(&v))?;
    let (base_url, api_key, login_entity) = login(s("base_url")?, s("api_key")?, creds);
    Ok(Settings {
        mode,
        project: s("project")?.unwrap_or_else(|| "uncategorized".to_owned()),
        entity: s("entity")?.or(login_entity),
        name: s("name")?,
        notes: s("notes")?,
        tags: list(m, "tags")?,
        group: s("group")?,
        job_type: s("job_type")?,
        id,
        dir,
        root,
        resume: resume(m.get("resume"))?,
        silent: flag(m, "silent")?,
        base_url,
        api_key,
        finish_timeout: number(m, "finish_timeout", 5.0)?,
        console: s("console")?.unwrap_or_else(|| "auto".to_owned()),
        save_code: flag(m, "save_code")?,
        disable_code: flag(m, "disable_code")?,
        ignore_globs: list(m, "ignore_globs")?,
        stats_sample_seconds: number(m, "stats_sample_seconds", 2.0)?,
        stats_window_seconds: number(m, "stats_window_seconds", 30.0)?,
        disable_stats: flag(m, "disable_stats")?,
    })
}

/// base_url/api_key from settings, else the stored login (the default host, or the key stored
/// for the given host); also the entity stored with that login, used when none is set.
fn login(
    base_url: Option<String>,
    api_key: Option<String>,
    creds: &dyn Fn() -> trackway_config::Credentials,
) -> (Option<String>, Option<String>, Option<String>) {
    let base_url = base_url.map(|u| trackway_config::normalize_base_url(&u));
    let creds = creds();
    let base_url = base_url.or_else(|| creds.default_host.clone());
    let stored = base_url.as_deref().and_then(|u| creds.for_host(u));
    let entity = stored.and_then(|h| h.entity.clone());
    let api_key = api_key.or_else(|| stored.map(|h| h.api_key.clone()));
    (base_url, api_key, entity)
}

fn text(key: &str, v: &Value) -> Result<String, SdkError> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(_) | Value::UInt(_) | Value::BigInt(_) | Value::Float(_) => Ok(trackway_types::to_json(v)),
        other => Err(bad(key, other.type_name(), "expected a string")),
    }
}

fn list(m: &Map, key: &str) -> Result<Vec<String>, SdkError> {
    match m.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Str(s)) => Ok(s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
        Some(Value::List(items)) => items.iter().map(|v| text(key, v)).collect(),
        Some(other) => Err(bad(key, other.type_name(), "expected a list of strings")),
    }
}

fn flag(m: &Map, key: &str) -> Result<bool, SdkError> {
    match m.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Int(i)) => Ok(*i != 0),
        Some(Value::Str(s)) => trackway_config::parse_bool(s).ok_or_else(|| bad(key, s, "expected true or false")),
        Some(other) => Err(bad(key, other.type_name(), "expected true or false")),
    }
}

fn number(m: &Map, key: &str, default: f64) -> Result<f64, SdkError> {
    let v = match m.get(key) {
        None => return Ok(default),
        Some(Value::Str(s)) => s.trim().parse::<f64>().map_err(|_| bad(key, s, "expected a number"))?,
        Some(v) => v.as_f64().ok_or_else(|| bad(key, v.type_name(), "expected a number"))?,
    };
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(bad(key, &v.to_string(), "expected a non-negative number")) }
}

fn resume(v: Option<&Value>) -> Result<Option<String>, SdkError> {
    let s = match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
        Some(Value::Bool(true)) => return Ok(Some("allow".to_owned())),
        Some(Value::Str(s)) => s.trim().to_ascii_lowercase(),
        Some(other) => {
            return Err(bad("resume", other.type_name(), "expected allow, must, never or auto"));
        }
    };
    match s.as_str() {
        "allow" | "must" | "never" | "auto" => Ok(Some(s)),
        "true" | "1" | "yes" => Ok(Some("allow".to_owned())),
        "false" | "0" | "no" | "" => Ok(None),
        other => Err(bad("resume", other, "expected allow, must, never or auto")),
    }
}

impl Settings {
    /// The settings as a map (the dict `resolve_settings` returns to Python).
    #[must_use]
    pub fn to_map(&self) -> Map {
        let opt = |o: &Option<String>| o.clone().map_or(Value::Null, Value::Str);
        let strs = |v: &[String]| Value::List(v.iter().cloned().map(Value::Str).collect());
        let path = |p: &Path| Value::Str(p.to_string_lossy().into_owned());
        let mut m = Map::new();
        m.insert("mode".into(), Value::Str(self.mode.as_str().into()));
        m.insert("project".into(), Value::Str(self.project.clone()));
        m.insert("entity".into(), opt(&self.entity));
        m.insert("name".into(), opt(&self.name));
        m.insert("notes".into(), opt(&self.notes));
        m.insert("tags".into(), strs(&self.tags));
        m.insert("group".into(), opt(&self.group));
        m.insert("job_type".into(), opt(&self.job_type));
        m.insert("id".into(), opt(&self.id));
        m.insert("dir".into(), path(&self.dir));
        m.insert("root".into(), path(&self.root));
        m.insert("resume".into(), opt(&self.resume));
        m.insert("silent".into(), Value::Bool(self.silent));
        m.insert("base_url".into(), opt(&self.base_url));
        m.insert("api_key".into(), opt(&self.api_key));
        m.insert("finish_timeout".into(), Value::Float(self.finish_timeout));
        m.insert("console".into(), Value::Str(self.console.clone()));
        m.insert("save_code".into(), Value::Bool(self.save_code));
        m.insert("disable_code".into(), Value::Bool(self.disable_code));
        m.insert("ignore_globs".into(), strs(&self.ignore_globs));
        m.insert("stats_sample_seconds".into(), Value::Float(self.stats_sample_seconds));
        m.insert("stats_window_seconds".into(), Value::Float(self.stats_window_seconds));
        m.insert("disable_stats".into(), Value::Bool(self.disable_stats));
        m
    }
}
