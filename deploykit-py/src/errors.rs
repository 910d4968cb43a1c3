//! The exception tree: `DeployKitError` and one subclass per core `ErrorKind`, each instance
//! carrying `kind`, `retryable`, `context` and `message`.
//!
//! `DeployKitError` is a plain `create_exception!` type. The subclasses are made at first use
//! with Python's `type(name, bases, namespace)`, because some of them also derive from a
//! builtin (`NotFoundError` is a `LookupError`, `InvalidInputError` a `ValueError`,
//! `DeployTimeoutError` a `TimeoutError`) and `create_exception!` takes a single base.

use deploykit_core::{Error, ErrorKind};
use pyo3::exceptions::{
    PyConnectionError, PyException, PyLookupError, PyTimeoutError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyMappingProxy, PyTuple, PyType};

pyo3::create_exception!(
    deploykit,
    DeployKitError,
    PyException,
    "Base of every deploykit error. Attributes: kind (str), retryable (bool), context \
     (dict[str, str]), message (str, without the context)."
);

/// One subclass: its name, the core kind it stands for, its doc, and an optional builtin base.
struct Subclass {
    name: &'static str,
    kind: ErrorKind,
    doc: &'static str,
    builtin: Option<fn(Python<'_>) -> Bound<'_, PyType>>,
}

fn lookup_error(py: Python<'_>) -> Bound<'_, PyType> {
    py.get_type::<PyLookupError>()
}
fn value_error(py: Python<'_>) -> Bound<'_, PyType> {
    py.get_type::<PyValueError>()
}
fn timeout_error(py: Python<'_>) -> Bound<'_, PyType> {
    py.get_type::<PyTimeoutError>()
}

const SUBCLASSES: [Subclass; 11] = [
    Subclass {
        name: "NotFoundError",
        kind: ErrorKind::NotFound,
        doc: "A named thing (group, revision, release, PR, instance) does not exist.",
        builtin: Some(lookup_error),
    },
    Subclass {
        name: "ConflictError",
        kind: ErrorKind::Conflict,
        doc: "The operation clashes with current state (release exists, lock held, ...).",
        builtin: None,
    },
    Subclass {
        name: "UnsafeError",
        kind: ErrorKind::Unsafe,
        doc: "Going on could take capacity away from users; refused for safety.",
        builtin: None,
    },
    Subclass {
        name: "PolicyRefusedError",
        kind: ErrorKind::PolicyRefused,
        doc: "A policy (cadence calendar, no-migration risk check) refuses the operation.",
        builtin: None,
    },
    Subclass {
        name: "UnauthenticatedError",
        kind: ErrorKind::Unauthenticated,
        doc: "Credentials are missing, wrong or lack a permission.",
        builtin: None,
    },
    Subclass {
        name: "RateLimitedError",
        kind: ErrorKind::RateLimited,
        doc: "The backend asked us to slow down (retryable).",
        builtin: None,
    },
    Subclass {
        name: "DeployTimeoutError",
        kind: ErrorKind::Timeout,
        doc: "A wait or a call did not finish in time (retryable).",
        builtin: Some(timeout_error),
    },
    Subclass {
        name: "InvalidInputError",
        kind: ErrorKind::InvalidInput,
        doc: "Input from the user or a file is malformed.",
        builtin: Some(value_error),
    },
    Subclass {
        name: "BackendError",
        kind: ErrorKind::Backend,
        doc: "The backend failed in a way not covered by another kind.",
        builtin: None,
    },
    Subclass {
        name: "UnsupportedError",
        kind: ErrorKind::Unsupported,
        doc: "The operation is not available on this backend.",
        builtin: None,
    },
    Subclass {
        name: "InterruptedError",
        kind: ErrorKind::Interrupted,
        doc: "The operator or a signal stopped the operation.",
        builtin: None,
    },
];

/// The subclasses, made once per interpreter, in the order of [`SUBCLASSES`].
static TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn make_types(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let base = py.get_type::<DeployKitError>();
    // Class-level defaults, so `DeployKitError("x")` raised by Python code has the attributes.
    base.setattr("kind", ErrorKind::Backend.as_str())?;
    base.setattr("retryable", false)?;
    base.setattr("message", "")?;
    base.setattr(
        "context",
        PyMappingProxy::new(py, PyDict::new(py).as_mapping()),
    )?;
    let type_type = py.get_type::<PyType>();
    let mut out = Vec::with_capacity(SUBCLASSES.len());
    for sub in &SUBCLASSES {
        let bases = match sub.builtin {
            Some(builtin) => PyTuple::new(py, [base.clone(), builtin(py)])?,
            None => PyTuple::new(py, [base.clone()])?,
        };
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "deploykit")?;
        namespace.set_item("__doc__", sub.doc)?;
        namespace.set_item("kind", sub.kind.as_str())?;
        namespace.set_item("retryable", sub.kind.default_temporary())?;
        let ty = type_type.call1((sub.name, bases, namespace))?;
        out.push(ty.cast_into::<PyType>()?.unbind());
    }
    Ok(out)
}

fn types(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    TYPES.get_or_try_init(py, || make_types(py))
}

/// The exception class for a kind (the base class for kinds added to core later).
pub fn class_for(py: Python<'_>, kind: ErrorKind) -> PyResult<Bound<'_, PyType>> {
    let types = types(py)?;
    Ok(SUBCLASSES
        .iter()
        .zip(types)
        .find(|(sub, _)| sub.kind == kind)
        .map(|(_, ty)| ty.bind(py).clone())
        .unwrap_or_else(|| py.get_type::<DeployKitError>()))
}

/// The core kind named by a snake_case string, if any.
pub fn kind_named(name: &str) -> Option<ErrorKind> {
    SUBCLASSES
        .iter()
        .map(|s| s.kind)
        .find(|k| k.as_str() == name)
}

/// Names left out of `__all__` because they are also builtins: `from deploykit import *`
/// must not replace Python's own `InterruptedError` (EINTR). They stay module attributes.
const NOT_STARRED: [&str; 1] = ["InterruptedError"];

/// Adds `DeployKitError` and every subclass to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DeployKitError", py.get_type::<DeployKitError>())?;
    for (sub, ty) in SUBCLASSES.iter().zip(types(py)?) {
        if NOT_STARRED.contains(&sub.name) {
            m.setattr(sub.name, ty.bind(py))?;
        } else {
            m.add(sub.name, ty.bind(py))?;
        }
    }
    Ok(())
}

/// A context value as a Python caller acts on it: the CLI command `deploykit resume RUN`
/// that core attaches to a resumable run's errors becomes the Python call.
fn python_value(key: &str, value: &str) -> String {
    match value.strip_prefix("deploykit resume ") {
        Some(run) if key == "resume" => format!("resume({run:?})"),
        _ => value.to_string(),
    }
}

/// The error's text (its message, then its context) with the context in Python terms.
fn python_text(err: &Error, context: &[(String, String)]) -> String {
    if context.is_empty() {
        return err.message().to_string();
    }
    let pairs: Vec<String> = context.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{} ({})", err.message(), pairs.join(", "))
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let class = class_for(py, err.kind())?;
    let pairs: Vec<(String, String)> = err
        .context()
        .iter()
        .map(|(k, v)| (k.clone(), python_value(k, v)))
        .collect();
    let instance = class.call1((python_text(err, &pairs),))?;
    instance.setattr("kind", err.kind().as_str())?;
    instance.setattr("retryable", err.is_temporary())?;
    instance.setattr("message", err.message())?;
    let context = PyDict::new(py);
    for (k, v) in &pairs {
        context.set_item(k, v)?;
    }
    instance.setattr("context", context)?;
    Ok(PyErr::from_value(instance))
}

/// The Python exception for a core error (attaches to the interpreter briefly).
pub fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| build(py, &err).unwrap_or_else(|e| e))
}

/// Converts a Python exception raised by a Python-implemented port into a core error: a
/// `DeployKitError` keeps its kind and retryable flag; Python's `TimeoutError` (also
/// `socket.timeout`, `asyncio.TimeoutError`) is a timeout and a `ConnectionError` (refused,
/// reset, aborted, broken pipe) an unreachable backend, both retryable as the built-in
/// ports' are; anything else is a permanent backend error.
pub fn from_py_err(py: Python<'_>, err: &PyErr, what: &str) -> Error {
    let value = err.value(py);
    let type_name = crate::convert::type_name(value, "Exception");
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    if value.is_instance_of::<DeployKitError>() {
        let kind = value
            .getattr("kind")
            .and_then(|k| k.extract::<String>())
            .ok()
            .and_then(|k| kind_named(&k))
            .unwrap_or(ErrorKind::Backend);
        let retryable = value
            .getattr("retryable")
            .and_then(|r| r.extract::<bool>())
            .unwrap_or(kind.default_temporary());
        return Error::new(kind, format!("{what} raised {type_name}: {text}")).temporary(retryable);
    }
    let message = format!("{what} raised {type_name}: {text}");
    let error = if value.is_instance_of::<PyTimeoutError>() {
        Error::timeout(message)
    } else if value.is_instance_of::<PyConnectionError>() {
        Error::backend(message).temporary(true)
    } else {
        Error::backend(message)
    };
    error.with("python_exception", type_name)
}
