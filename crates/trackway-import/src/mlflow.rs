//! MLflow tracking directories (the file store: `mlruns/<experiment>/<run>/` with `meta.yaml`,
//! `params/`, `metrics/`, `tags/`, `artifacts/`). Each MLflow run becomes one Trackway run with
//! the same id; the experiment name is the project unless one is given.
//!
//! Params become config (numbers and booleans parsed, as MLflow stores every param as text),
//! metrics become history rows by MLflow step, tags become config `mlflow.tags` plus run tags
//! `key=value` for user tags, artifacts become run files. Re-import appends only what is new.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use trackway_types::{Map, Value};

use crate::sink::{RunSink, RunSpec, Written};
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

/// One MLflow run found on disk.
#[derive(Debug)]
pub struct MlflowRun {
    pub dir: PathBuf,
    pub run_id: String,
    pub experiment: String,
    meta: RunMeta,
}

/// The directory of a tracking URI: a path or a `file:` URI. Server URIs are refused with advice.
pub fn store_dir(uri: &str) -> Result<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        return Ok(PathBuf::from(rest));
    }
    if let Some(rest) = uri.strip_prefix("file:") {
        return Ok(PathBuf::from(rest));
    }
    if uri.contains("://") {
        return Err(ImportError::Invalid(format!(
            "{uri}: only MLflow file stores (an mlruns/ directory or a file: URI) can be imported"
        )));
    }
    Ok(PathBuf::from(uri))
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
pub fn discover(store: &Path) -> Result<Vec<MlflowRun>> {
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
                dir: run_dir,
                run_id,
                experiment: experiment.clone(),
                meta,
            });
        }
    }
    Ok(runs)
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
    let tags = read_texts(&run.dir.join("tags"));
    let user_tags = tags
        .iter()
        .filter(|(k, _)| !k.starts_with("mlflow."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let start = run.meta.start_time.map_or(0.0, ms_to_s);
    let spec = RunSpec {
        run_id: run.run_id.clone(),
        project: project.map_or_else(|| run.experiment.clone(), str::to_owned),
        entity: entity.map(str::to_owned),
        name: run
            .meta
            .run_name
            .clone()
            .or_else(|| tags.get("mlflow.runName").cloned()),
        tags: user_tags,
        group: None,
        created_at: start,
    };
    let mut sink = RunSink::open(root, &spec)?;
    sink.state.start_time.get_or_insert(start);
    let mut config = Map::new();
    for (k, v) in read_texts(&run.dir.join("params")) {
        if sink.state.seen.get(&format!("param:{k}")) != Some(&v) {
            sink.state.seen.insert(format!("param:{k}"), v.clone());
            config.insert(k, param_value(&v));
        }
    }
    let tag_map: Map = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
        .collect();
    let tags_text = serde_json::to_string(&tags).unwrap_or_default();
    if sink.state.seen.get("tags") != Some(&tags_text) {
        sink.state.seen.insert("tags".to_owned(), tags_text);
        config.insert("mlflow.tags".to_owned(), Value::Map(tag_map));
    }
    sink.config(config)?;
    import_metrics(&run.dir.join("metrics"), &mut sink)?;
    import_artifacts(&run.dir.join("artifacts"), &mut sink)?;
    let finished = matches!(run.meta.status, Some(3..=5));
    let end = run.meta.end_time.map_or(start, ms_to_s);
    let path = sink.path();
    let written = sink.close(finished, end)?;
    Ok((path, written))
}

#[allow(clippy::cast_precision_loss)]
fn ms_to_s(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Key files under `dir` (keys may contain `/`, stored as subdirectories) and their text.
fn read_texts(dir: &Path) -> BTreeMap<String, String> {
    files_under(dir)
        .into_iter()
        .filter_map(|(k, p)| std::fs::read_to_string(p).ok().map(|v| (k, v)))
        .collect()
}

/// Metric files hold `timestamp_ms value step` lines; new lines since the last import are
/// grouped into rows by step.
fn import_metrics(dir: &Path, sink: &mut RunSink) -> Result<()> {
    let mut rows: BTreeMap<u64, (f64, Map)> = BTreeMap::new();
    for (key, path) in files_under(dir) {
        let state_key = format!("metric:{key}");
        let offset = sink.state.offsets.get(&state_key).copied().unwrap_or(0);
        let mut file = std::fs::File::open(&path).map_err(|e| ImportError::io(&path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| ImportError::io(&path, e))?;
        let mut reader = BufReader::new(file);
        let mut consumed = offset;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| ImportError::io(&path, e))?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            consumed += n as u64;
            let mut parts = line.split_whitespace();
            let (Some(ts), Some(val)) = (parts.next(), parts.next()) else {
                continue;
            };
            let step = parts
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            let (Ok(ts), Ok(val)) = (ts.parse::<i64>(), val.parse::<f64>()) else {
                continue;
            };
            let entry = rows.entry(step).or_insert_with(|| (0.0, Map::new()));
            entry.0 = entry.0.max(ms_to_s(ts));
            entry.1.insert(key.clone(), Value::Float(val));
        }
        sink.state.offsets.insert(state_key, consumed);
    }
    for (step, (ts, data)) in rows {
        sink.row(step, ts, data)?;
    }
    Ok(())
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
