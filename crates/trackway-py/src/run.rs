//! `NativeRun`: one live run, driven by the Python `Run` object.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use trackway_sdk::MetricDef;
use trackway_sdk::engine::{Logged, ResumeState, RunCore, StartInfo};
use trackway_types::{Map, MetaRecord, Value};

use crate::convert::{Converter, map_to_py};
use crate::py_err;

#[pyclass(module = "trackway._native")]
pub struct NativeRun {
    core: RunCore,
    fallback: Option<Py<PyAny>>,
    #[pyo3(get)]
    dir: String,
    #[pyo3(get)]
    files_dir: String,
    #[pyo3(get)]
    log_path: String,
    #[pyo3(get)]
    run_id: String,
    #[pyo3(get)]
    start_time: f64,
    /// Online runs: restarts a dead agent from `log()` (rate-limited).
    watch: Option<trackway_sdk::agent::AgentWatch>,
}

fn take_str(m: &mut Map, key: &str) -> PyResult<Option<String>> {
    match m.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(other) => Err(PyTypeError::new_err(format!("start[{key:?}] must be a str, got {}", other.type_name()))),
    }
}

fn take_map(m: &mut Map, key: &str) -> PyResult<Map> {
    match m.shift_remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Map(x)) => Ok(x),
        Some(other) => Err(PyTypeError::new_err(format!("start[{key:?}] must be a dict, got {}", other.type_name()))),
    }
}

fn start_info(start: &Bound<'_, PyDict>, conv: &Converter<'_, '_>) -> PyResult<StartInfo> {
    let mut m = conv.any_keyed_map(start, 0)?;
    let tags = match m.shift_remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s),
                other => Err(PyTypeError::new_err(format!("tags must be str, got {}", other.type_name()))),
            })
            .collect::<PyResult<_>>()?,
        Some(other) => {
            return Err(PyTypeError::new_err(format!("tags must be a list, got {}", other.type_name())));
        }
    };
    let run_id = take_str(&mut m, "run_id")?.ok_or_else(|| PyValueError::new_err("start['run_id'] is required"))?;
    Ok(StartInfo {
        run_id,
        project: take_str(&mut m, "project")?,
        entity: take_str(&mut m, "entity")?,
        name: take_str(&mut m, "name")?,
        tags,
        notes: take_str(&mut m, "notes")?,
        group: take_str(&mut m, "group")?,
        job_type: take_str(&mut m, "job_type")?,
        mode: take_str(&mut m, "mode")?,
        resume: take_str(&mut m, "resume")?,
        base_url: take_str(&mut m, "base_url")?,
        config: take_map(&mut m, "config")?,
        settings: take_map(&mut m, "settings")?,
    })
}

fn resume_from(state: &Bound<'_, PyDict>) -> PyResult<ResumeState> {
    let last_step = match state.get_item("last_step")? {
        Some(v) if !v.is_none() => Some(v.extract::<u64>()?),
        _ => None,
    };
    let summary = match state.get_item("summary")? {
        Some(v) if !v.is_none() => {
            let d = v.cast::<PyDict>().map_err(|_| PyTypeError::new_err("resume_state['summary'] must be a dict"))?;
            Converter { fallback: None }.any_keyed_map(d, 0)?
        }
        _ => Map::new(),
    };
    Ok(ResumeState { last_step, summary })
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[pymethods]
impl NativeRun {
    #[new]
    #[pyo3(signature = (root, start, fallback, resume_state=None))]
    fn new(
        root: &str,
        start: &Bound<'_, PyDict>,
        fallback: Option<Bound<'_, PyAny>>,
        resume_state: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let fallback = fallback.filter(|f| !f.is_none());
        let conv = Converter { fallback: fallback.as_ref() };
        let info = start_info(start, &conv)?;
        let resume = resume_state.map(resume_from).transpose()?;
        let core = RunCore::start(&PathBuf::from(root), info, resume).map_err(py_err)?;
        Ok(NativeRun {
            dir: path_str(core.dir()),
            files_dir: path_str(core.files_dir()),
            log_path: path_str(core.log_path()),
            run_id: core.run_id().to_owned(),
            start_time: core.start_time(),
            fallback: fallback.map(Bound::unbind),
            core,
            watch: None,
        })
    }

    /// The current step S.
    #[getter]
    fn step(&self) -> u64 {
        self.core.step()
    }

    #[getter]
    fn starting_step(&self) -> u64 {
        self.core.starting_step()
    }

    #[getter]
    fn finished(&self) -> bool {
        self.core.finished()
    }

    #[getter]
    fn log_id(&self) -> &str {
        self.core.log_id()
    }

    /// Returns None, or the current step when the data was dropped (step below it).
    #[pyo3(signature = (data, step=None, commit=None))]
    fn log(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        step: Option<u64>,
        commit: Option<bool>,
    ) -> PyResult<Option<u64>> {
        let fallback = self.fallback.as_ref().map(|f| f.bind(py));
        let map = Converter { fallback }.str_keyed_map(data)?;
        if let Some(w) = &mut self.watch {
            w.poke();
        }
        match self.core.log(map, step, commit).map_err(py_err)? {
            Logged::Written => Ok(None),
            Logged::Dropped(s) => Ok(Some(s)),
        }
    }

    fn config_update(&mut self, py: Python<'_>, data: &Bound<'_, PyDict>) -> PyResult<()> {
        let map = self.converter(py, |c| c.any_keyed_map(data, 0))?;
        self.core.config_update(map).map_err(py_err)
    }

    fn config_remove(&mut self, keys: Vec<String>) -> PyResult<()> {
        self.core.config_remove(keys).map_err(py_err)
    }

    /// A copy of the current summary.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, self.core.summary())
    }

    fn summary_set(&mut self, py: Python<'_>, path: Vec<String>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = self.converter(py, |c| c.value(value, 0))?;
        self.core.summary_set(&path, v).map_err(py_err)
    }

    fn summary_update(&mut self, py: Python<'_>, data: &Bound<'_, PyDict>) -> PyResult<()> {
        let map = self.converter(py, |c| c.any_keyed_map(data, 0))?;
        self.core.summary_update(map).map_err(py_err)
    }

    fn summary_del(&mut self, path: Vec<String>) -> PyResult<()> {
        self.core.summary_del(&path).map_err(py_err)
    }

    /// Adds a metric definition (merged onto an earlier one of the same name unless
    /// `overwrite`, as wandb does); returns this call's normalised record (see `metric_def`).
    #[pyo3(signature = (name, step_metric=None, step_sync=None, summary=None, goal=None, hidden=None, overwrite=false))]
    #[allow(clippy::too_many_arguments)] // define_metric's keyword arguments, one each
    fn define_metric(
        &mut self,
        name: &str,
        step_metric: Option<&str>,
        step_sync: Option<bool>,
        summary: Option<Vec<String>>,
        goal: Option<&str>,
        hidden: Option<bool>,
        overwrite: bool,
    ) -> PyResult<Py<PyAny>> {
        let summary = summary.unwrap_or_default();
        let def = MetricDef::new(name, step_metric, step_sync, &summary, goal, hidden).map_err(py_err)?;
        let out = Python::attach(|py| crate::metric_record_to_py(py, &def.record).map(Bound::unbind))?;
        self.core.define_metric(def, overwrite).map_err(py_err)?;
        Ok(out)
    }

    #[pyo3(signature = (name=None, tags=None, notes=None))]
    fn set_meta(&mut self, name: Option<String>, tags: Option<Vec<String>>, notes: Option<String>) -> PyResult<()> {
        self.core.set_meta(MetaRecord { name, tags, notes, ..Default::default() }).map_err(py_err)
    }

    /// Writes the final summary and `finish` records (idempotent).
    #[pyo3(signature = (exit_code=None))]
    fn finish(&mut self, exit_code: Option<i64>) -> PyResult<()> {
        self.core.finish(exit_code, true).map_err(py_err)
    }

    /// Polls upload.json until the agent acknowledged the whole log; releases the GIL meanwhile.
    fn wait_uploaded(&self, py: Python<'_>, timeout_s: f64) -> bool {
        let timeout = Duration::from_secs_f64(timeout_s.clamp(0.0, 86_400.0));
        let (dir, log, log_id) =
            (self.core.dir().to_path_buf(), self.core.log_path().to_path_buf(), self.core.log_id().to_owned());
        py.detach(move || trackway_sdk::agent::wait_uploaded(&dir, &log, &log_id, timeout))
    }

    /// From now on `log()` restarts the agent `exe *args agent --root root` when it died.
    #[pyo3(signature = (root, exe, args = Vec::new()))]
    fn watch_agent(&mut self, root: &str, exe: &str, args: Vec<String>) {
        let args = args.into_iter().map(std::ffi::OsString::from).collect();
        self.watch = Some(trackway_sdk::agent::AgentWatch::with_args(Path::new(root), Path::new(exe), args));
    }

    /// Restarts a dead agent now (`finish()`); True when one is running. False when the run is
    /// not watched (offline, or no agent executable).
    fn ensure_agent(&mut self) -> bool {
        self.watch.as_mut().is_some_and(trackway_sdk::agent::AgentWatch::ensure_now)
    }

    /// `{"unsent_bytes", "dropped", "error", "agent_alive"}` from upload.json and the lock.
    fn upload_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = trackway_sdk::agent::upload_state(self.core.dir(), self.core.log_path(), self.core.log_id());
        let d = PyDict::new(py);
        d.set_item("unsent_bytes", st.unsent_bytes)?;
        d.set_item("dropped", st.dropped)?;
        d.set_item("error", st.error)?;
        let root = self.core.dir().parent().unwrap_or(self.core.dir());
        d.set_item("agent_alive", trackway_sdk::agent_alive(root))?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("<NativeRun {} at {}>", self.run_id, self.dir)
    }
}

impl NativeRun {
    fn converter<T>(&self, py: Python<'_>, f: impl FnOnce(&Converter<'_, '_>) -> PyResult<T>) -> PyResult<T> {
        let fallback = self.fallback.as_ref().map(|f| f.bind(py));
        f(&Converter { fallback })
    }
}
