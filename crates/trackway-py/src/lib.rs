//! `trackway._native`: the native half of the Python package (docs/dev/native-api.md).
//!
//! Importing the module does nothing (no threads, no files): it is fork-safe. All the work of
//! `NativeRun.log` (conversion, step/commit rules, summary, encoding, the `write(2)`) happens
//! here, in the calling thread.

mod artifacts;
mod convert;
mod http;
mod log;
mod run;

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyKeyError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use trackway_sdk::SdkError;
use trackway_types::Value;

use crate::convert::{Converter, map_to_py, to_py};

/// Maps SDK errors onto the Python exceptions the public layer expects.
pub(crate) fn py_err(e: SdkError) -> PyErr {
    match e {
        SdkError::Runlog(e) => PyOSError::new_err(e.to_string()),
        e @ SdkError::Remote(_) => PyOSError::new_err(e.to_string()),
        SdkError::MissingKey(k) => PyKeyError::new_err(k),
        SdkError::Finished => PyRuntimeError::new_err("the run is finished"),
        e @ (SdkError::InvalidSetting { .. }
        | SdkError::InvalidMetric(_)
        | SdkError::EmptyPath
        | SdkError::Resume(_)) => PyValueError::new_err(e.to_string()),
    }
}

/// defaults < `<root>/settings` < env < args; see docs/dev/native-api.md.
#[pyfunction]
fn resolve_settings<'py>(py: Python<'py>, args: &Bound<'py, PyDict>, cwd: &str) -> PyResult<Bound<'py, PyDict>> {
    let args = Converter { fallback: None }.any_keyed_map(args, 0)?;
    let settings = trackway_sdk::settings::resolve(&args, Path::new(cwd)).map_err(py_err)?;
    map_to_py(py, &settings.to_map())
}

/// Trackway JSON text -> Python objects, by the one Rust decoder (`trackway_types::from_json`):
/// `{"$f":"NaN"}` -> nan, `{"$int":"..."}` -> int, `{"$map":{...}}` -> dict. Malformed tags
/// raise ValueError, as everywhere else.
#[pyfunction]
fn decode_tjson<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let value =
        trackway_types::from_json(text).map_err(|e| PyValueError::new_err(format!("invalid Trackway JSON: {e}")))?;
    to_py(py, &value)
}

/// `define_metric`'s arguments validated and normalised by the one rule
/// (`trackway_sdk::MetricDef::new`: comma lists split, lowercased, `min`/`max` goals named,
/// `step_sync` defaulted), as the record the run log stores; what `Run.define_metric` returns
/// is built from it, for native and in-memory runs alike.
#[pyfunction]
#[pyo3(signature = (name, step_metric=None, step_sync=None, summary=None, goal=None, hidden=None))]
fn metric_def<'py>(
    py: Python<'py>,
    name: &str,
    step_metric: Option<&str>,
    step_sync: Option<bool>,
    summary: Option<Vec<String>>,
    goal: Option<&str>,
    hidden: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let summary = summary.unwrap_or_default();
    let def = trackway_sdk::MetricDef::new(name, step_metric, step_sync, &summary, goal, hidden).map_err(py_err)?;
    metric_record_to_py(py, &def.record)
}

/// A metric record as a Python dict (its run-log JSON form).
pub(crate) fn metric_record_to_py<'py>(
    py: Python<'py>,
    rec: &trackway_types::MetricRecord,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(rec).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let value = trackway_types::from_json(&text).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_py(py, &value)
}

/// The setting keys `resolve_settings` understands, from the one list in trackway-sdk.
#[pyfunction]
fn setting_keys() -> Vec<&'static str> {
    trackway_sdk::settings::keys().collect()
}

/// A new run id: 8 characters of `[a-z0-9]`.
#[pyfunction]
fn new_run_id() -> String {
    trackway_sdk::new_run_id()
}

/// Starts `exe [*args] agent --root root` detached unless a live agent holds
/// `<root>/agent.lock`. Never raises; False when no agent could be started.
#[pyfunction]
#[pyo3(signature = (root, exe, args = Vec::new()))]
fn ensure_agent(root: &str, exe: &str, args: Vec<String>) -> bool {
    trackway_sdk::agent::ensure_agent_with(Path::new(root), Path::new(exe), &args)
}

/// Runs the `trackway` command line (`argv[0]` is the program name) in this process with the
/// GIL released, and returns its exit status. `trackway._cli.main` is the only caller.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> i32 {
    py.detach(move || trackway_cli::run(argv))
}

/// The name of a media file: the first 128 bits of the BLAKE3 hash of its content, in hex
/// (docs/media-api.md). BLAKE3 because the training process hashes every logged image, and it
/// is several times faster than SHA-256 there.
#[pyfunction]
fn content_digest(data: &[u8]) -> String {
    blake3::hash(data).to_hex().as_str()[..32].to_owned()
}

/// Existing attempts of a run, oldest first.
#[pyfunction]
fn find_run_dirs(root: &str, run_id: &str) -> PyResult<Vec<String>> {
    let dirs =
        trackway_runlog::find_run_dirs(Path::new(root), run_id).map_err(|e| PyOSError::new_err(e.to_string()))?;
    Ok(dirs.into_iter().map(|p: PathBuf| p.to_string_lossy().into_owned()).collect())
}

/// Replays a run directory's log into a dict (see docs/dev/native-api.md).
#[pyfunction]
fn load_run_state<'py>(py: Python<'py>, run_dir: &str) -> PyResult<Bound<'py, PyDict>> {
    let st = trackway_runlog::load_run_state(Path::new(run_dir)).map_err(|e| PyOSError::new_err(e.to_string()))?;
    state_dict(py, &st)
}

/// The state of the newest readable attempt among `attempts` (oldest first), or None: attempts
/// being created by another process, or left empty by a crash, are skipped.
#[pyfunction]
fn latest_run_state<'py>(py: Python<'py>, attempts: Vec<String>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let dirs: Vec<PathBuf> = attempts.into_iter().map(PathBuf::from).collect();
    trackway_runlog::latest_state(&dirs).map(|(_, st)| state_dict(py, &st)).transpose()
}

/// What the server has of a run (`GET /api/v1/runs/{e}/{p}/{id}`, bounded wait, GIL released),
/// as a dict with the keys of `load_run_state`; None when the server has no such run. Raises
/// OSError when the server cannot be asked.
#[pyfunction]
#[pyo3(signature = (base_url, api_key, entity, project, run_id))]
fn remote_run_state<'py>(
    py: Python<'py>,
    base_url: Option<&str>,
    api_key: Option<&str>,
    entity: Option<&str>,
    project: &str,
    run_id: &str,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let timeout = trackway_sdk::remote::REMOTE_RESUME_TIMEOUT;
    let base = trackway_sdk::remote::base_url_or_default(base_url);
    let remote = py
        .detach(|| trackway_sdk::fetch_remote_run(&base, api_key, entity, project, run_id, timeout))
        .map_err(py_err)?;
    let Some(r) = remote else { return Ok(None) };
    let d = PyDict::new(py);
    let opt = |o: &Option<String>| o.clone().map_or(Value::Null, Value::Str);
    d.set_item("run_id", &r.run_id)?;
    d.set_item("project", &r.project)?;
    d.set_item("entity", &r.entity)?;
    d.set_item("name", to_py(py, &opt(&r.name))?)?;
    d.set_item("tags", PyList::new(py, &r.tags)?)?;
    d.set_item("notes", to_py(py, &opt(&r.notes))?)?;
    d.set_item("group", to_py(py, &opt(&r.group))?)?;
    d.set_item("job_type", to_py(py, &opt(&r.job_type))?)?;
    d.set_item("config", map_to_py(py, &r.config)?)?;
    d.set_item("summary", map_to_py(py, &r.summary)?)?;
    d.set_item("last_step", r.last_step)?;
    d.set_item("row_count", r.row_count)?;
    d.set_item("finished", r.state != "running")?;
    d.set_item("remote", true)?;
    Ok(Some(d))
}

fn state_dict<'py>(py: Python<'py>, st: &trackway_runlog::RunState) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let opt = |o: &Option<String>| o.clone().map_or(Value::Null, Value::Str);
    d.set_item("run_id", &st.run.run_id)?;
    d.set_item("project", st.run.project.as_deref().unwrap_or("uncategorized"))?;
    d.set_item("entity", to_py(py, &opt(&st.run.entity))?)?;
    d.set_item("name", to_py(py, &opt(&st.name))?)?;
    d.set_item("tags", PyList::new(py, &st.tags)?)?;
    d.set_item("notes", to_py(py, &opt(&st.notes))?)?;
    d.set_item("group", to_py(py, &opt(&st.group))?)?;
    d.set_item("job_type", to_py(py, &opt(&st.job_type))?)?;
    d.set_item("config", map_to_py(py, &st.config)?)?;
    d.set_item("summary", map_to_py(py, &st.summary)?)?;
    d.set_item("last_step", st.last_step)?;
    d.set_item("row_count", st.row_count)?;
    d.set_item("finished", st.finished)?;
    d.set_item("exit_code", st.exit_code)?;
    d.set_item("corrupt_lines", st.corrupt_lines)?;
    d.set_item("created_at", st.run.created_at)?;
    d.set_item("mode", st.run.mode.as_deref())?;
    d.set_item("log_id", &st.run.log_id)?;
    d.set_item("crashed", st.crashed)?;
    Ok(d)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(resolve_settings, m)?)?;
    m.add_function(wrap_pyfunction!(new_run_id, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tjson, m)?)?;
    m.add_function(wrap_pyfunction!(setting_keys, m)?)?;
    m.add_function(wrap_pyfunction!(metric_def, m)?)?;
    m.add_function(wrap_pyfunction!(ensure_agent, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(find_run_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(content_digest, m)?)?;
    m.add_function(wrap_pyfunction!(load_run_state, m)?)?;
    m.add_function(wrap_pyfunction!(log::append_record, m)?)?;
    m.add_function(wrap_pyfunction!(http::api_request, m)?)?;
    m.add_function(wrap_pyfunction!(http::download_blob, m)?)?;
    m.add_function(wrap_pyfunction!(artifacts::artifact_cache_dir, m)?)?;
    m.add_function(wrap_pyfunction!(artifacts::artifact_cache_cleanup, m)?)?;
    m.add_function(wrap_pyfunction!(artifacts::fetch_s3, m)?)?;
    m.add_class::<log::LogAppender>()?;
    m.add_function(wrap_pyfunction!(latest_run_state, m)?)?;
    m.add_function(wrap_pyfunction!(remote_run_state, m)?)?;
    m.add_class::<run::NativeRun>()?;
    Ok(())
}
