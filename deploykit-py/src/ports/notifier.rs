//! A Python object with `announce(announcement: dict)` as a [`Notifier`].

use std::sync::Arc;

use async_trait::async_trait;
use deploykit_core::ports::{Announcement, Notifier};
use deploykit_core::{Error, Result};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::call::PyCall;
use crate::callbacks::{not_awaitable, refuse_async};
use crate::convert;
use crate::errors::from_py_err;
use crate::runtime::{awaitable_none, block_on};

/// Calls `obj.announce(announcement_dict)`; the dict has the announcement's fields, its
/// `type` (`deploy_done`, ...) and `text` (the plain-text message).
#[derive(Debug, Clone)]
pub struct PyNotifier {
    obj: Arc<Py<PyAny>>,
}

impl PyNotifier {
    /// Wraps `obj`, checking that it has an `announce` method.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !obj.hasattr("announce")? {
            return Err(crate::errors::to_py_err(Error::invalid_input(format!(
                "{} cannot be a notifier: it has no announce(announcement) method",
                obj.repr()?
            ))));
        }
        refuse_async(
            &obj.getattr("announce")?,
            "notifier",
            "the notifier's announce()",
        )?;
        Ok(PyNotifier {
            obj: Arc::new(obj.clone().unbind()),
        })
    }
}

/// The dict a Python notifier receives.
pub fn announcement_dict<'py>(py: Python<'py>, a: &Announcement) -> PyResult<Bound<'py, PyAny>> {
    let dict = convert::to_py(py, a)?;
    if let Ok(d) = dict.cast::<PyDict>() {
        d.set_item("text", a.to_string())?;
    }
    Ok(dict)
}

#[async_trait]
impl Notifier for PyNotifier {
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        let obj = Arc::clone(&self.obj);
        let announcement = announcement.clone();
        let call = PyCall::current();
        tokio::task::spawn_blocking(move || {
            call.attach_port("the Python notifier's announce()", |py| {
                announcement_dict(py, &announcement)
                    .and_then(|dict| obj.bind(py).call_method1("announce", (dict,)))
                    .map_err(|e| from_py_err(py, &e, "the Python notifier's announce()"))
                    .and_then(|returned| {
                        not_awaitable(returned, "notifier", "the Python notifier's announce()")
                    })
                    .map(|_| ())
            })
        })
        .await
        .map_err(|e| Error::backend(format!("the Python notifier's thread failed: {e}")))?
    }
}

fn parse_announcement(announcement: &Bound<'_, PyAny>) -> Result<Announcement> {
    let value = convert::py_to_json(announcement)?;
    serde_json::from_value(value).map_err(|e| {
        Error::invalid_input(format!(
            "not an announcement ({e}): expected a dict with \"type\" (pending_release_pr, \
             recycle_start, config_change, deploy_done, rollback_started, \
             retrospective_to_schedule) and that type's fields"
        ))
    })
}

async fn send(notifier: PyNotifier, announcement: Result<Announcement>) -> Result<()> {
    notifier.announce(&announcement?).await
}

/// Sends one announcement through a Python notifier, as a workflow would (on a runtime
/// thread, through the `Notifier` port). For trying a notifier out.
#[pyfunction]
pub fn announce(
    py: Python<'_>,
    notifier: &Bound<'_, PyAny>,
    announcement: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let notifier = PyNotifier::new(notifier)?;
    block_on(py, send(notifier, parse_announcement(announcement)))
}

/// `announce` as an awaitable.
#[pyfunction]
pub fn announce_async<'py>(
    py: Python<'py>,
    notifier: &Bound<'py, PyAny>,
    announcement: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let notifier = PyNotifier::new(notifier)?;
    awaitable_none(py, send(notifier, parse_announcement(announcement)))
}

/// Registers the notifier functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(announce, m)?)?;
    m.add_function(wrap_pyfunction!(announce_async, m)?)?;
    Ok(())
}
