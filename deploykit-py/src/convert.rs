//! JSON values to Python objects and back, for `to_dict()`, event callbacks and the values
//! Python ports return. Dates cross as ISO 8601 strings (the form the JSON output uses too).

use deploykit_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

/// A JSON value as plain Python data (dict, list, str, int, float, bool, None).
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Any serializable value as plain Python data.
pub fn to_py<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| crate::errors::to_py_err(Error::backend(format!("cannot serialize: {e}"))))?;
    json_to_py(py, &json)
}

/// Any serializable value as a JSON string.
pub fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| crate::errors::to_py_err(Error::backend(format!("cannot serialize: {e}"))))
}

/// Plain Python data as a JSON value: dicts with str keys, lists and tuples, str, int, float,
/// bool, None; `datetime`/`date` objects become their `isoformat()`.
pub fn py_to_json(obj: &Bound<'_, PyAny>) -> Result<Value, Error> {
    let bad = |why: String| Error::invalid_input(why);
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(bad(format!("integer {obj} is too large")));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| bad(format!("{obj} is not a finite number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .extract::<String>()
                .map_err(|_| bad(format!("dict key {k} is not a str")))?;
            map.insert(key, py_to_json(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| py_to_json(&v)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| py_to_json(&v)).collect();
    }
    if obj.hasattr("isoformat").unwrap_or(false) {
        let text = obj
            .call_method0("isoformat")
            .and_then(|s| s.extract::<String>())
            .map_err(|e| bad(format!("cannot format {obj}: {e}")))?;
        return Ok(Value::String(text));
    }
    // deploykit's own value types (a `Sha` handed back from a deploy status, say) are their
    // text, as they print.
    if obj.cast::<crate::model::PySha>().is_ok()
        || obj.cast::<crate::model::PyRcBranch>().is_ok()
        || obj.cast::<crate::model::PyReleaseNumber>().is_ok()
    {
        return Ok(Value::String(
            obj.str().map_err(|e| bad(e.to_string()))?.to_string(),
        ));
    }
    if obj.hasattr("to_dict").unwrap_or(false) {
        let dict = obj
            .call_method0("to_dict")
            .map_err(|e| bad(format!("{obj}.to_dict() failed: {e}")))?;
        return py_to_json(&dict);
    }
    let type_name = type_name(obj, "");
    Err(bad(format!(
        "cannot convert a {type_name} to JSON: expected dict, list, str, int, float, bool, \
         None or datetime"
    )))
}

/// The name of `obj`'s type (`int`, `TimeoutError`), or `fallback` when Python cannot give it.
pub fn type_name(obj: &Bound<'_, PyAny>, fallback: &str) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| fallback.to_string())
}

/// A bool as Python writes it in a repr: `True` or `False`.
pub fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}
