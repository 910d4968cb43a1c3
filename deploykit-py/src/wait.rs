//! `wait`: a long wait on the real clock, in small steps, emitting `waiting` events. It is
//! what every deploy wait looks like from Python, and what the Ctrl-C tests interrupt.

use std::sync::Arc;
use std::time::Duration;

use deploykit_core::ports::{Clock, SystemClock};
use deploykit_core::{Error, Event, EventSink, Result};
use pyo3::prelude::*;

use crate::args::{Arg, Seconds};
use crate::events::sink_for;
use crate::runtime::{awaitable_none, block_on};

/// The step between two looks at the clock.
const STEP: Duration = Duration::from_millis(100);

async fn wait_for(seconds: f64, events: Arc<dyn EventSink>) -> Result<()> {
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(Error::invalid_input(format!(
            "wait of {seconds} seconds: expected a number of seconds from 0 to 86400"
        )));
    }
    let clock = SystemClock;
    let start = clock.now();
    let total = Duration::from_secs_f64(seconds);
    let mut last_report = None;
    loop {
        let elapsed = (clock.now() - start).to_std().unwrap_or_default();
        if elapsed >= total {
            return Ok(());
        }
        let whole_secs = elapsed.as_secs();
        if last_report != Some(whole_secs) {
            last_report = Some(whole_secs);
            events.emit(Event::Waiting {
                at: clock.now(),
                what: "the requested wait".into(),
                elapsed_secs: whole_secs,
                timeout_secs: total.as_secs(),
            });
        }
        clock.sleep(STEP.min(total - elapsed)).await;
    }
}

/// Waits `seconds` on the real clock, calling `on_event` with a `waiting` event every second.
/// Ctrl-C interrupts it with `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (seconds, *, on_event=None))]
pub fn wait(
    py: Python<'_>,
    seconds: Arg<f64, Seconds>,
    on_event: Option<Py<PyAny>>,
) -> PyResult<()> {
    block_on(py, wait_for(seconds.0, sink_for(on_event)?))
}

/// `wait` as an awaitable.
#[pyfunction]
#[pyo3(signature = (seconds, *, on_event=None))]
pub fn wait_async(
    py: Python<'_>,
    seconds: Arg<f64, Seconds>,
    on_event: Option<Py<PyAny>>,
) -> PyResult<Bound<'_, PyAny>> {
    awaitable_none(py, wait_for(seconds.0, sink_for(on_event)?))
}
