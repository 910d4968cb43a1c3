//! Checks on the Python functions deploykit calls back (a notifier's `announce`, a monitor's
//! `sample`, the `decide` operator, `on_event`, `on_line`).
//!
//! They are called on a worker thread of deploykit's runtime, outside any asyncio event loop,
//! so they must be plain functions: an `async def` would return a coroutine that nothing
//! awaits (its work silently skipped, a `RuntimeWarning` at exit). Coroutine functions are
//! refused when the callback is given, before anything runs; a callback that still returns
//! an awaitable is told apart from an answer when called.

use deploykit_core::{Error, Result};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::convert::type_name;
use crate::errors::to_py_err;

/// `inspect.iscoroutinefunction` and `inspect.isawaitable`, imported once.
static INSPECT: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

fn inspect(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    INSPECT.get_or_try_init(py, || {
        let inspect = py.import("inspect")?;
        Ok((
            inspect.getattr("iscoroutinefunction")?.unbind(),
            inspect.getattr("isawaitable")?.unbind(),
        ))
    })
}

/// What to do instead of an `async def`, for `param` (e.g. `notifier`).
fn advice(param: &str) -> String {
    format!(
        "`{param}` callbacks must be plain functions: deploykit calls them on a worker thread, \
         outside your event loop, and would not await a coroutine. Pass a plain `def` (to use \
         async code from it, call asyncio.run_coroutine_threadsafe(coro, loop).result() or \
         asyncio.run(coro) inside it)"
    )
}

/// Whether `func` is a coroutine function: an `async def` function or method, or an object
/// whose `__call__` is one.
fn is_coroutine_function(py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<bool> {
    let check = inspect(py)?.0.bind(py);
    if check.call1((func,))?.is_truthy()? {
        return Ok(true);
    }
    // An instance with `async def __call__` (a function's own `__call__` is a plain wrapper).
    if !func.is_callable() || func.hasattr("__code__")? {
        return Ok(false);
    }
    match func.getattr("__call__") {
        Ok(call) => check.call1((call,))?.is_truthy(),
        Err(_) => Ok(false),
    }
}

/// Refuses `func`, given as `param` and described as `what` (e.g. "the notifier's
/// announce()"), when it is a coroutine function.
pub fn refuse_async(func: &Bound<'_, PyAny>, param: &str, what: &str) -> PyResult<()> {
    if is_coroutine_function(func.py(), func)? {
        return Err(to_py_err(Error::invalid_input(format!(
            "{what} is a coroutine function (async def): {}",
            advice(param)
        ))));
    }
    Ok(())
}

/// Checks an optional plain callback given as `param` (`on_event`, `on_line`): callable and
/// not a coroutine function.
pub fn checked_callback(
    callback: Option<Py<PyAny>>,
    param: &str,
    expected: &str,
) -> PyResult<Option<Py<PyAny>>> {
    let Some(callback) = callback else {
        return Ok(None);
    };
    Python::attach(|py| {
        let bound = callback.bind(py);
        if !bound.is_callable() {
            let type_name = type_name(bound, "object");
            return Err(to_py_err(Error::invalid_input(format!(
                "{param} must be a function called with {expected}, or None; got {} (a \
                 {type_name}, not callable)",
                bound.repr()?
            ))));
        }
        refuse_async(bound, param, &format!("{param}={}", bound.repr()?))
    })?;
    Ok(Some(callback))
}

/// `returned` as the answer of `what` (given as `param`), unless it is an awaitable (a
/// coroutine from an async callback that slipped through): that one is closed, so Python
/// does not warn that it was never awaited, and refused.
pub fn not_awaitable<'py>(
    returned: Bound<'py, PyAny>,
    param: &str,
    what: &str,
) -> Result<Bound<'py, PyAny>> {
    let py = returned.py();
    let awaitable = inspect(py)
        .and_then(|(_, isawaitable)| isawaitable.bind(py).call1((&returned,))?.is_truthy())
        .unwrap_or(false);
    if !awaitable {
        return Ok(returned);
    }
    if returned.hasattr("close").unwrap_or(false) {
        // Closing an unstarted coroutine runs none of it; a failure to close changes nothing
        // about the answer, which is refused either way.
        let _ = returned.call_method0("close");
    }
    let type_name = type_name(&returned, "awaitable");
    Err(Error::invalid_input(format!(
        "{what} returned an awaitable ({type_name}), not an answer: {}",
        advice(param)
    )))
}

/// Calls `callback(arg)`, a notification given as `param` (`on_event`, `on_line`) whose
/// answer does not matter: an exception it raises, an awaitable it returns, or an `arg` that
/// could not be made does not stop the workflow; it is reported through
/// `sys.unraisablehook`, as Python does for errors in finalizers.
pub fn notify<'py>(callback: &Bound<'py, PyAny>, arg: PyResult<Bound<'py, PyAny>>, param: &str) {
    let what = format!("the {param} callback");
    let result = arg
        .and_then(|arg| callback.call1((arg,)))
        .and_then(|returned| {
            not_awaitable(returned, param, &what)
                .map(|_| ())
                .map_err(to_py_err)
        });
    if let Err(err) = result {
        err.write_unraisable(callback.py(), Some(callback));
    }
}
