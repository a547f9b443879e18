//! Python objects <-> Trackway values.
//!
//! The hot path (`NativeRun.log` with a dict of floats) checks exact builtin types first; only
//! unusual objects take the slower paths (subclasses, big ints, the Python-side fallback).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use trackway_types::{Map, Value};

/// Nesting deeper than this is refused (a self-referencing structure would never end).
const MAX_DEPTH: usize = 64;

/// Converts values, calling `fallback(obj)` (the Python layer's converter for numpy/torch/media
/// objects) for anything that is not a builtin JSON-like type.
pub struct Converter<'a, 'py> {
    pub fallback: Option<&'a Bound<'py, PyAny>>,
}

impl<'py> Converter<'_, 'py> {
    /// A top-level mapping whose keys must be `str` (TypeError otherwise), e.g. `log(data)`.
    pub fn str_keyed_map(&self, obj: &Bound<'py, PyAny>) -> PyResult<Map> {
        let dict = obj
            .cast::<PyDict>()
            .map_err(|_| PyTypeError::new_err(format!("expected a dict, got {}", type_name(obj))))?;
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k
                .cast_exact::<PyString>()
                .or_else(|_| k.cast::<PyString>())
                .map_err(|_| PyTypeError::new_err(format!("keys must be str, got {} ({})", type_name(&k), repr(&k))))?;
            let key = key.to_cow()?.into_owned();
            let mut value = self.value(&v, 0)?;
            if let Some(table) = split_chart_table(&key, &mut value) {
                map.insert(format!("{key}_table"), table);
            }
            map.insert(key, value);
        }
        Ok(map)
    }

    /// A mapping whose non-str keys become `str(key)` (config, summary, nested values).
    pub fn any_keyed_map(&self, dict: &Bound<'py, PyDict>, depth: usize) -> PyResult<Map> {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) => k.str()?.to_cow()?.into_owned(),
            };
            map.insert(key, self.value(&v, depth + 1)?);
        }
        Ok(map)
    }

    /// One value.
    pub fn value(&self, obj: &Bound<'py, PyAny>, depth: usize) -> PyResult<Value> {
        if depth > MAX_DEPTH {
            return Err(PyTypeError::new_err("value nested too deeply (a cycle?)"));
        }
        if let Ok(f) = obj.cast_exact::<PyFloat>() {
            return Ok(Value::Float(f.value()));
        }
        if obj.is_none() {
            return Ok(Value::Null);
        }
        // bool before int: bool is a subclass of int.
        if let Ok(b) = obj.cast_exact::<PyBool>() {
            return Ok(Value::Bool(b.is_true()));
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            return int_value(i);
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Value::Str(s.to_cow()?.into_owned()));
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return Ok(Value::Float(f.value()));
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            return Ok(Value::Map(self.any_keyed_map(d, depth)?));
        }
        if let Ok(l) = obj.cast::<PyList>() {
            if self.fallback.is_some() && l.len() > 0 && is_other(&l.get_item(0)?) {
                // A list of media (`[Image, Image]` is one `images/separated` value) or of
                // numpy scalars: the Python converter sees the whole list.
                return self.other(obj, depth);
            }
            return l.iter().map(|x| self.value(&x, depth + 1)).collect::<PyResult<_>>().map(Value::List);
        }
        if let Ok(t) = obj.cast::<PyTuple>() {
            return t.iter().map(|x| self.value(&x, depth + 1)).collect::<PyResult<_>>().map(Value::List);
        }
        self.other(obj, depth)
    }

    /// Anything else: the fallback converts it (once; if it returns something unconvertible
    /// again, `str(obj)` is stored rather than failing the training loop).
    fn other(&self, obj: &Bound<'py, PyAny>, depth: usize) -> PyResult<Value> {
        if let Some(fb) = self.fallback {
            let converted = fb.call1((obj,))?;
            if !converted.is(obj) {
                let plain = Converter { fallback: None };
                return plain.value(&converted, depth + 1);
            }
        }
        Ok(Value::Str(obj.str()?.to_cow()?.into_owned()))
    }
}

/// Not a builtin JSON-like type (what only the fallback converts).
fn is_other(obj: &Bound<'_, PyAny>) -> bool {
    !(obj.is_none()
        || obj.is_instance_of::<PyFloat>()
        || obj.is_instance_of::<PyInt>()
        || obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyDict>()
        || obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>())
}

/// A custom chart logged under `key` (docs/media-api.md): its data table moves to the sibling
/// key `<key>_table`, as wandb stores it, and the chart keeps the name of that key.
fn split_chart_table(key: &str, value: &mut Value) -> Option<Value> {
    let Value::Map(m) = value else { return None };
    if !matches!(m.get("_type"), Some(Value::Str(t)) if t == "custom-chart") {
        return None;
    }
    let table = m.shift_remove("table")?;
    m.insert("table_key".into(), Value::Str(format!("{key}_table")));
    Some(table)
}

fn int_value(i: &Bound<'_, PyInt>) -> PyResult<Value> {
    if let Ok(b) = i.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(v) = i.extract::<i64>() {
        return Ok(Value::Int(v));
    }
    if let Ok(v) = i.extract::<u64>() {
        return Ok(Value::UInt(v));
    }
    // Outside [-2^63, 2^64): keep the exact decimal digits.
    Ok(Value::BigInt(i.str()?.to_cow()?.into_owned()))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

fn repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr().map_or_else(|_| "?".to_owned(), |r| r.to_string())
}

/// A value as a Python object (summary reads, load_run_state).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::UInt(u) => u.into_pyobject(py)?.into_any(),
        Value::BigInt(s) => py.get_type::<PyInt>().call1((s.as_str(),))?,
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for x in items {
                list.append(to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Map(m) => map_to_py(py, m)?.into_any(),
    })
}

pub fn map_to_py<'py>(py: Python<'py>, m: &Map) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, to_py(py, v)?)?;
    }
    Ok(d)
}
