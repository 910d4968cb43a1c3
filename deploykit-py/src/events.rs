//! An [`EventSink`] that hands each event to a Python callable as a dict.

use std::sync::Arc;

use deploykit_core::{Event, EventSink, NullSink};
use pyo3::prelude::*;

use crate::call::PyCall;
use crate::callbacks::{checked_callback, notify};
use crate::convert;

/// Calls a Python callable with each event as a dict (`{"event": "waiting", "at": ..., ...}`).
/// A callback that raises does not stop the workflow: the exception is reported through
/// `sys.unraisablehook`, as Python does for errors in finalizers. Once the call is cancelled
/// (Ctrl-C, a cancelled awaitable) no more events are delivered.
#[derive(Debug)]
pub struct CallbackSink {
    callback: Py<PyAny>,
}

impl CallbackSink {
    /// A sink calling `callback(event_dict)`.
    pub fn new(callback: Py<PyAny>) -> Self {
        CallbackSink { callback }
    }
}

impl EventSink for CallbackSink {
    fn emit(&self, event: Event) {
        // Events of a cancelled call (after Ctrl-C) are dropped, not delivered late.
        PyCall::current().attach(|py| {
            notify(
                self.callback.bind(py),
                convert::to_py(py, &event),
                "on_event",
            );
        });
    }
}

/// The sink for an optional `on_event` argument: the callback, or nothing. Refuses (with
/// `InvalidInputError`) anything that is not a plain function, before anything runs.
pub fn sink_for(on_event: Option<Py<PyAny>>) -> PyResult<Arc<dyn EventSink>> {
    Ok(
        match checked_callback(on_event, "on_event", "each event as a dict")? {
            Some(callback) => Arc::new(CallbackSink::new(callback)),
            None => Arc::new(NullSink),
        },
    )
}
