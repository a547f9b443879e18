//! MLflow tracking stores: the file store (`mlruns/<experiment>/<run>/` with `meta.yaml`,
//! `params/`, `metrics/`, `tags/`, `artifacts/`) and the SQLite store (`sqlite:///mlflow.db`,
//! MLflow 3's default; tables `experiments`, `runs`, `params`, `tags`, `metrics`, read with
//! `rusqlite`, artifacts from each run's local `artifact_uri`) and a running tracking server
//! (`http(s)://`, its REST API; `mlflow_http`). Each MLflow run becomes one
//! Trackway run with the same id; the experiment name is the project unless one is given.
//!
//! Params become config (numbers and booleans parsed, as MLflow stores every param as text),
//! metrics become history rows by MLflow step, tags become config `mlflow.tags` plus run tags
//! `key=value` for user tags, artifacts become run files. Re-import appends only what is new.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use trackway_types::{Map, Value};

use crate::mlflow_http::{RunData, Server};
use crate::sink::{ImportState, RunSink, RunSpec, Written};
use crate::{ImportError, Result};

/// Limit on nested key directories (`params/a/b/c`) and artifact directory depth.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Default, Deserialize)]
struct ExperimentMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    lifecycle_stage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RunMeta {
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    run_uuid: Option<String>,
    #[serde(default)]
    run_name: Option<String>,
    #[serde(default)]
    start_time: Option<i64>,
    #[serde(default)]
    end_time: Option<i64>,
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    lifecycle_stage: Option<String>,
}

/// Where a run's data lives.
#[derive(Debug)]
enum Source {
    Dir(PathBuf),
    Db { db: PathBuf, artifacts: Option<PathBuf> },
    Http { server: Server, data: RunData },
}

/// One MLflow run found in a store.
#[derive(Debug)]
pub struct MlflowRun {
    pub run_id: String,
    pub experiment: String,
    name: Option<String>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    finished: bool,
    source: Source,
}

impl MlflowRun {
    /// The run's directory (file store), database file or server, for messages.
    #[must_use]
    pub fn location(&self) -> String {
        match &self.source {
            Source::Dir(d) => d.display().to_string(),
            Source::Db { db, .. } => db.display().to_string(),
            Source::Http { server, .. } => format!("{} run {}", server.uri(), self.run_id),
        }
    }
}

/// A tracking store named by a URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    Dir(PathBuf),
    Sqlite(PathBuf),
    Http(Server),
}

/// The store of a tracking URI: a path or `file:` URI (file store), or `sqlite:///PATH`
/// (SQLAlchemy's form: three slashes then a relative path, four for an absolute one), or a
/// tracking server's `http://` / `https://` address. Other schemes are refused with advice.
pub fn store(uri: &str) -> Result<Store> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Ok(Store::Http(Server::new(uri)));
    }
    if let Some(rest) = uri.strip_prefix("sqlite:///") {
        return Ok(Store::Sqlite(PathBuf::from(rest)));
    }
    if let Some(rest) = uri.strip_prefix("file://") {
        return Ok(Store::Dir(PathBuf::from(rest)));
    }
    if let Some(rest) = uri.strip_prefix("file:") {
        return Ok(Store::Dir(PathBuf::from(rest)));
    }
    if uri.contains("://") {
        return Err(ImportError::Invalid(format!(
            "{uri}: only MLflow file stores (mlruns/, file:), SQLite stores (sqlite:///) and \
             tracking servers (http://, https://) can be imported; for another database, start \
             `mlflow server --backend-store-uri {uri}` and import from its address"
        )));
    }
    Ok(Store::Dir(PathBuf::from(uri)))
}

fn read_yaml<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_norway::from_str(&text).map_err(|e| ImportError::Corrupt {
        path: path.to_path_buf(),
        offset: 0,
        reason: e.to_string(),
    })
}

/// Every active run of every active experiment in the store.
pub fn discover(store: &Store) -> Result<Vec<MlflowRun>> {
    match store {
        Store::Dir(dir) => discover_dir(dir),
        Store::Sqlite(db) => crate::mlflow_db::discover(db),
        Store::Http(server) => crate::mlflow_http::discover(server),
    }
}

fn discover_dir(store: &Path) -> Result<Vec<MlflowRun>> {
    let mut runs = Vec::new();
    for exp_dir in sorted_dirs(store)? {
        let meta_path = exp_dir.join("meta.yaml");
        if !meta_path.is_file() {
            continue;
        }
        let exp: ExperimentMeta = read_yaml(&meta_path)?;
        if exp.lifecycle_stage.as_deref() == Some("deleted") {
            continue;
        }
        let experiment = exp.name.unwrap_or_else(|| "Default".to_owned());
        for run_dir in sorted_dirs(&exp_dir)? {
            let path = run_dir.join("meta.yaml");
            if !path.is_file() {
                continue;
            }
            let meta: RunMeta = read_yaml(&path)?;
            if meta.lifecycle_stage.as_deref() == Some("deleted") {
                continue;
            }
            let Some(run_id) = meta.run_id.clone().or_else(|| meta.run_uuid.clone()) else {
                continue;
            };
            runs.push(MlflowRun {
                run_id,
                experiment: experiment.clone(),
                name: meta.run_name,
                start_ms: meta.start_time,
                end_ms: meta.end_time,
                // RunStatus: 3 FINISHED, 4 FAILED, 5 KILLED.
                finished: matches!(meta.status, Some(3..=5)),
                source: Source::Dir(run_dir),
            });
        }
    }
    Ok(runs)
}

/// A run of a SQLite store (built by `mlflow_db`).
pub(crate) fn db_run(
    db: &Path,
    run_id: String,
    experiment: String,
    name: Option<String>,
    times: (Option<i64>, Option<i64>),
    finished: bool,
    artifacts: Option<PathBuf>,
) -> MlflowRun {
    MlflowRun {
        run_id,
        experiment,
        name,
        start_ms: times.0,
        end_ms: times.1,
        finished,
        source: Source::Db { db: db.to_path_buf(), artifacts },
    }
}

/// A run of a tracking server (built by `mlflow_http`): (run id, experiment, name).
pub(crate) fn http_run(
    server: &Server,
    (run_id, experiment, name): (String, String, Option<String>),
    times: (Option<i64>, Option<i64>),
    finished: bool,
    data: RunData,
) -> MlflowRun {
    MlflowRun {
        run_id,
        experiment,
        name,
        start_ms: times.0,
        end_ms: times.1,
        finished,
        source: Source::Http { server: server.clone(), data },
    }
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ImportError::io(dir, e))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// Files under `dir` as (relative path with `/`, full path), depth-bounded.
fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_DEPTH => stack.push((p, depth + 1)),
                Ok(t) if t.is_file() => {
                    if let Ok(rel) = p.strip_prefix(dir) {
                        let rel = rel.to_string_lossy().replace('\\', "/");
                        out.push((rel, p));
                    }
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// MLflow params are text; numbers and booleans written by Python's `str()` come back typed.
#[must_use]
pub fn param_value(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::Int(i);
    }
    if (text.contains(['.', 'e', 'E']) || matches!(text, "nan" | "inf" | "-inf"))
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    match text {
        "True" | "true" => Value::Bool(true),
        "False" | "false" => Value::Bool(false),
        "None" => Value::Null,
        _ => Value::Str(text.to_owned()),
    }
}

/// Imports one MLflow run into `root` (project: `project` or the experiment name).
pub fn import_run(
    run: &MlflowRun,
    root: &Path,
    project: Option<&str>,
    entity: Option<&str>,
) -> Result<(PathBuf, Written)> {
    let (params, tags) = match &run.source {
        Source::Dir(dir) => (read_texts(&dir.join("params")), read_texts(&dir.join("tags"))),
        Source::Db { db, .. } => crate::mlflow_db::params_and_tags(db, &run.run_id)?,
        Source::Http { data, .. } => (crate::mlflow_http::to_map(&data.params), crate::mlflow_http::to_map(&data.tags)),
    };
    let user_tags = tags.iter().filter(|(k, _)| !k.starts_with("mlflow.")).map(|(k, v)| format!("{k}={v}")).collect();
    let start = run.start_ms.map_or(0.0, ms_to_s);
    let spec = RunSpec {
        run_id: run.run_id.clone(),
        project: project.map_or_else(|| run.experiment.clone(), str::to_owned),
        entity: entity.map(str::to_owned),
        name: run.name.clone().or_else(|| tags.get("mlflow.runName").cloned()),
        tags: user_tags,
        group: None,
        created_at: start,
    };
    let mut sink = RunSink::open(root, &spec)?;
    sink.state.start_time.get_or_insert(start);
    write_config(&mut sink, params, &tags)?;
    match &run.source {
        Source::Dir(dir) => {
            import_metrics(&dir.join("metrics"), &mut sink)?;
            import_artifacts(&dir.join("artifacts"), &mut sink)?;
        }
        Source::Db { db, artifacts } => {
            let rows = crate::mlflow_db::new_metrics(db, &run.run_id, &mut sink.state)?;
            write_rows(&mut sink, rows)?;
            if let Some(dir) = artifacts {
                import_artifacts(dir, &mut sink)?;
            }
        }
        Source::Http { server, data } => {
            let points = crate::mlflow_http::points(server, &run.run_id, &data.metric_keys)?;
            let rows = new_points(points, &mut sink.state);
            write_rows(&mut sink, rows)?;
            import_server_artifacts(server, &run.run_id, &mut sink)?;
        }
    }
    let end = run.end_ms.map_or(start, ms_to_s);
    let path = sink.path();
    let written = sink.close(run.finished, end)?;
    Ok((path, written))
}

/// Params and tags that changed since the last import, as config.
fn write_config(sink: &mut RunSink, params: BTreeMap<String, String>, tags: &BTreeMap<String, String>) -> Result<()> {
    let mut config = Map::new();
    for (k, v) in params {
        let key = format!("param:{k}");
        if sink.state.seen.get(&key) != Some(&v) {
            config.insert(k, param_value(&v));
            sink.state.seen.insert(key, v);
        }
    }
    let tags_text = serde_json::to_string(tags).unwrap_or_default();
    if sink.state.seen.get("tags") != Some(&tags_text) {
        sink.state.seen.insert("tags".to_owned(), tags_text);
        let tag_map: Map = tags.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect();
        config.insert("mlflow.tags".to_owned(), Value::Map(tag_map));
    }
    sink.config(config)
}

/// Rows by step: (latest timestamp in seconds, values).
pub(crate) type Rows = BTreeMap<u64, (f64, Map)>;

pub(crate) fn add_point(rows: &mut Rows, key: &str, ts_ms: i64, value: f64, step: u64) {
    let entry = rows.entry(step).or_insert_with(|| (0.0, Map::new()));
    entry.0 = entry.0.max(ms_to_s(ts_ms));
    entry.1.insert(key.to_owned(), Value::Float(value));
}

/// One metric point of a database or server store.
#[derive(Debug)]
pub(crate) struct Point {
    pub key: String,
    pub value: f64,
    pub ts_ms: i64,
    pub step: i64,
}

/// The points not imported yet, by step. Per key, points are taken in (step, timestamp, value)
/// order and the count already imported is kept in the import state, so a re-import takes only
/// new points (MLflow appends them with growing steps).
pub(crate) fn new_points(mut points: Vec<Point>, state: &mut ImportState) -> Rows {
    points.sort_by(|a, b| (&a.key, a.step, a.ts_ms).cmp(&(&b.key, b.step, b.ts_ms)).then(a.value.total_cmp(&b.value)));
    let mut rows = Rows::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for p in points {
        let n = seen.entry(p.key.clone()).or_insert(0);
        *n += 1;
        if *n <= state.offsets.get(&format!("metric:{}", p.key)).copied().unwrap_or(0) {
            continue;
        }
        add_point(&mut rows, &p.key, p.ts_ms, p.value, u64::try_from(p.step).unwrap_or(0));
    }
    for (key, n) in seen {
        state.offsets.insert(format!("metric:{key}"), n);
    }
    rows
}

fn write_rows(sink: &mut RunSink, rows: Rows) -> Result<()> {
    for (step, (ts, data)) in rows {
        sink.row(step, ts, data)?;
    }
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn ms_to_s(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Key files under `dir` (keys may contain `/`, stored as subdirectories) and their text.
fn read_texts(dir: &Path) -> BTreeMap<String, String> {
    files_under(dir).into_iter().filter_map(|(k, p)| std::fs::read_to_string(p).ok().map(|v| (k, v))).collect()
}

/// Metric files hold `timestamp_ms value step` lines; new lines since the last import are
/// grouped into rows by step.
fn import_metrics(dir: &Path, sink: &mut RunSink) -> Result<()> {
    let mut rows = Rows::new();
    for (key, path) in files_under(dir) {
        let state_key = format!("metric:{key}");
        let offset = sink.state.offsets.get(&state_key).copied().unwrap_or(0);
        let mut file = std::fs::File::open(&path).map_err(|e| ImportError::io(&path, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| ImportError::io(&path, e))?;
        let mut reader = BufReader::new(file);
        let mut consumed = offset;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| ImportError::io(&path, e))?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            consumed += n as u64;
            let mut parts = line.split_whitespace();
            let (Some(ts), Some(val)) = (parts.next(), parts.next()) else {
                continue;
            };
            let step = parts.next().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            let (Ok(ts), Ok(val)) = (ts.parse::<i64>(), val.parse::<f64>()) else {
                continue;
            };
            add_point(&mut rows, &key, ts, val, step);
        }
        sink.state.offsets.insert(state_key, consumed);
    }
    write_rows(sink, rows)
}

fn import_artifacts(dir: &Path, sink: &mut RunSink) -> Result<()> {
    for (rel, path) in files_under(dir) {
        let meta = std::fs::metadata(&path).map_err(|e| ImportError::io(&path, e))?;
        let stamp = format!("{}:{:?}", meta.len(), meta.modified().ok());
        let key = format!("artifact:{rel}");
        if sink.state.seen.get(&key) == Some(&stamp) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| ImportError::io(&path, e))?;
        sink.file(&format!("artifacts/{rel}"), &bytes)?;
        sink.state.seen.insert(key, stamp);
    }
    Ok(())
}

/// A server run's artifacts, each fetched once (re-fetched when its size changes).
fn import_server_artifacts(server: &Server, run_id: &str, sink: &mut RunSink) -> Result<()> {
    for (rel, size) in crate::mlflow_http::artifact_files(server, run_id)? {
        let key = format!("artifact:{rel}");
        let stamp = size.to_string();
        if sink.state.seen.get(&key) == Some(&stamp) {
            continue;
        }
        let bytes = crate::mlflow_http::artifact(server, run_id, &rel)?;
        sink.file(&format!("artifacts/{rel}"), &bytes)?;
        sink.state.seen.insert(key, stamp);
    }
    Ok(())
}
