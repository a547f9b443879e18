//! Records the Python layer writes itself (`process`, `file`, `output`), appended by the one
//! run-log writer (`trackway_runlog::LogWriter`: `O_APPEND`, one `write(2)` per record, torn-tail
//! repair) and encoded as Trackway JSON by the one encoder, exactly like `NativeRun.log`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use trackway_runlog::LogWriter;
use trackway_types::{Value, to_json};

use crate::convert::Converter;

/// One record (a dict with a string `t`) as one line of Trackway JSON, without the `\n`.
fn encode(record: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let map = Converter { fallback: None }.str_keyed_map(record)?;
    if !matches!(map.get("t"), Some(Value::Str(_))) {
        return Err(PyValueError::new_err("a run-log record needs a string `t`"));
    }
    Ok(to_json(&Value::Map(map)).into_bytes())
}

fn os_err(e: trackway_runlog::RunlogError) -> PyErr {
    PyOSError::new_err(e.to_string())
}

/// Appends one record to the run log at `path` (opened, repaired if torn, closed again).
#[pyfunction]
pub fn append_record(py: Python<'_>, path: &str, record: &Bound<'_, PyAny>) -> PyResult<()> {
    let line = encode(record)?;
    py.detach(|| LogWriter::open(Path::new(path)).and_then(|mut w| w.append_raw(&line))).map_err(os_err)
}

/// `append_record` with the log kept open (console capture appends many records). Calling it
/// after `close()` does nothing.
#[pyclass(module = "trackway._native")]
pub struct LogAppender {
    writer: Mutex<Option<LogWriter>>,
}

impl LogAppender {
    fn writer(&self) -> MutexGuard<'_, Option<LogWriter>> {
        // A panic while appending leaves nothing half-done that the next record could trip on.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl LogAppender {
    #[new]
    fn new(py: Python<'_>, path: &str) -> PyResult<Self> {
        let writer = py.detach(|| LogWriter::open(Path::new(path))).map_err(os_err)?;
        Ok(LogAppender { writer: Mutex::new(Some(writer)) })
    }

    fn __call__(&self, py: Python<'_>, record: &Bound<'_, PyAny>) -> PyResult<()> {
        let line = encode(record)?;
        py.detach(|| match self.writer().as_mut() {
            Some(w) => w.append_raw(&line),
            None => Ok(()),
        })
        .map_err(os_err)
    }

    fn close(&self) {
        self.writer().take();
    }
}
