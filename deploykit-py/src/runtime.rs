//! The one tokio runtime every call runs on, and the two ways to call into it: blocking with
//! the GIL released and Ctrl-C honoured (`name(...)`), or as an awaitable (`name_async(...)`).

use std::future::Future;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyTuple};

use crate::call::PyCall;
use crate::errors::to_py_err;

/// How long a blocking call waits with the GIL released before it checks for signals.
/// Short enough that Ctrl-C feels immediate, long enough to cost nothing.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// The shared runtime (pyo3-async-runtimes' multi-threaded tokio runtime, made on first use).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `fut` to completion on the shared runtime with the GIL released.
///
/// The future runs as a task, as one [`PyCall`]; this thread waits on it in short slices and,
/// between slices, re-attaches to run Python's signal handlers. When one raises (Ctrl-C gives
/// `KeyboardInterrupt`), the call is cancelled (no Python port or callback of it starts
/// after this), the task is aborted, and this thread waits, GIL released, until the work
/// has stopped at its next await point; only then does the exception propagate, so a
/// deploy interrupted with Ctrl-C has stopped when the caller sees `KeyboardInterrupt`. A
/// second signal while waiting propagates at once.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = deploykit_core::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        // Blocking a runtime thread on the runtime would deadlock or panic; this happens only
        // when a Python port or callback calls back into deploykit synchronously.
        return Err(PyRuntimeError::new_err(
            "a blocking deploykit call was made from inside a deploykit callback; \
             call the *_async variant or do it after the outer call returns",
        ));
    }
    let call = PyCall::new();
    let mut task = runtime().spawn(call.scope(fut));
    loop {
        let finished = py.detach(|| wait_a_slice(&mut task));
        match finished {
            Some(Ok(result)) => return result.map_err(to_py_err),
            Some(Err(join_error)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "the deploykit task failed: {join_error}"
                )));
            }
            None => {
                if let Err(signal) = py.check_signals() {
                    call.cancel();
                    task.abort();
                    wait_until_stopped(py, &call, task)?;
                    return Err(signal);
                }
            }
        }
    }
}

/// Waits up to [`SIGNAL_CHECK_INTERVAL`] for `task` (call it with the GIL released): its
/// outcome, or `None` while it runs.
fn wait_a_slice<T>(
    task: &mut tokio::task::JoinHandle<T>,
) -> Option<Result<T, tokio::task::JoinError>> {
    runtime().block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, task).await.ok() })
}

/// Waits, GIL released, until the aborted `task` and the worker threads of `call` have
/// stopped. A signal raised meanwhile (a second Ctrl-C) stops the waiting.
fn wait_until_stopped<T: Send + 'static>(
    py: Python<'_>,
    call: &PyCall,
    mut task: tokio::task::JoinHandle<T>,
) -> PyResult<()> {
    let mut task_done = false;
    loop {
        let stopped = py.detach(|| {
            if !task_done {
                task_done = wait_a_slice(&mut task).is_some();
            }
            task_done && call.wait_for_workers(SIGNAL_CHECK_INTERVAL)
        });
        if stopped {
            return Ok(());
        }
        py.check_signals()?;
    }
}

/// The coroutine an awaitable runs: it awaits the call's work; when cancelled, it cancels
/// the call (no port or callback of it starts from then on), then waits until the ports and
/// callbacks already running have returned, and only then lets the cancellation through. A
/// second cancellation while it waits stops the waiting (as a second Ctrl-C does).
const GUARDED_SOURCE: &std::ffi::CStr = c"
import asyncio

async def guarded(work, cancel, stopped):
    try:
        return await work
    except asyncio.CancelledError:
        cancel()
        work.cancel()
        await stopped()
        raise
";

/// `guarded` (see [`GUARDED_SOURCE`]) and `asyncio.ensure_future`, made once.
static GUARDED: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

fn guarded(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    GUARDED.get_or_try_init(py, || {
        let module = PyModule::from_code(
            py,
            GUARDED_SOURCE,
            c"deploykit/_guarded.py",
            c"deploykit._guarded",
        )?;
        Ok((
            module.getattr("guarded")?.unbind(),
            py.import("asyncio")?.getattr("ensure_future")?.unbind(),
        ))
    })
}

/// Resolves once no worker of `call` runs any more (its ports and callbacks have returned).
async fn workers_stopped(call: PyCall) -> deploykit_core::Result<NoneResult> {
    while !call.wait_for_workers(Duration::ZERO) {
        tokio::time::sleep(SIGNAL_CHECK_INTERVAL).await;
    }
    Ok(NoneResult)
}

/// A Python function (no arguments) that cancels `call`.
fn canceller<'py>(py: Python<'py>, call: PyCall) -> PyResult<Bound<'py, PyCFunction>> {
    PyCFunction::new_closure(
        py,
        Some(c"cancel_deploykit_call"),
        None,
        move |_: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            call.cancel();
            Ok(())
        },
    )
}

/// Turns `fut` into a Python awaitable running on the shared runtime, as one [`PyCall`]: an
/// `asyncio.Task`. Cancelling it (e.g. `asyncio.wait_for` timing out, `task.cancel()`)
/// cancels the call on the event loop with the GIL held, so none of its Python ports or
/// callbacks starts afterwards; the task then finishes (cancelled) once the ones already
/// running have returned, so the code awaiting it resumes after they did. The Rust future is
/// dropped at its next await point. (A task cancelled before it first ran, in the same step
/// of the event loop that made it, cannot wait: it only cancels the call.)
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = deploykit_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let call = PyCall::new();
    let scoped = call.scope(fut);
    let work =
        pyo3_async_runtimes::tokio::future_into_py(
            py,
            async move { scoped.await.map_err(to_py_err) },
        )?;
    let stopped = {
        let call = call.clone();
        PyCFunction::new_closure(
            py,
            Some(c"deploykit_call_stopped"),
            None,
            move |args: &Bound<'_, PyTuple>,
                  _: Option<&Bound<'_, PyDict>>|
                  -> PyResult<Py<PyAny>> {
                let stopped = workers_stopped(call.clone());
                pyo3_async_runtimes::tokio::future_into_py(args.py(), async move {
                    stopped.await.map_err(to_py_err)
                })
                .map(Bound::unbind)
            },
        )?
    };
    let (guarded, ensure_future) = guarded(py)?;
    let coroutine = guarded
        .bind(py)
        .call1((&work, canceller(py, call.clone())?, stopped))?;
    let task = ensure_future.bind(py).call1((coroutine,))?;
    // A task cancelled before its coroutine started never enters `guarded`'s handler: this
    // callback cancels the call and the work then.
    let on_done = {
        let work = work.clone().unbind();
        PyCFunction::new_closure(
            py,
            Some(c"cancel_deploykit_call"),
            None,
            move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
                if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
                    call.cancel();
                    work.bind(args.py()).call_method0("cancel")?;
                }
                Ok(())
            },
        )?
    };
    task.call_method1("add_done_callback", (on_done,))?;
    Ok(task)
}

/// Python's `None`, the result of awaitables of operations that return nothing (`()` would
/// become an empty tuple).
pub struct NoneResult;

impl<'py> IntoPyObject<'py> for NoneResult {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = std::convert::Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(py.None().into_bound(py))
    }
}

/// [`awaitable`] for operations that return nothing: the awaitable gives `None`.
pub fn awaitable_none<'py, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = deploykit_core::Result<()>> + Send + 'static,
{
    awaitable(py, async move { fut.await.map(|()| NoneResult) })
}

/// Runs a future that is not `Send` (some core workflows hold references across awaits in
/// ways the compiler cannot prove `Send` for every lifetime) on a blocking thread of the
/// shared runtime, and returns a `Send` future of its result.
///
/// Dropping the returned future (Ctrl-C, a cancelled awaitable) cancels the inner one: the
/// blocking thread waits on the work and on a cancel signal, and stops at the work's next
/// await point when the signal comes. The thread runs in the current [`PyCall`] and counts
/// as its worker, so [`block_on`] can wait for it to stop.
pub async fn run_pinned<T, F, Fut>(make: F) -> deploykit_core::Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = deploykit_core::Result<T>>,
    T: Send + 'static,
{
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::runtime::Handle::current();
    let call = PyCall::current();
    let worker = call.worker();
    let task = tokio::task::spawn_blocking(move || {
        let _worker = worker;
        handle.block_on(call.scope(async move {
            tokio::select! {
                result = make() => Some(result),
                _ = cancelled => None,
            }
        }))
    });
    let outcome = task.await.map_err(|e| {
        deploykit_core::Error::backend(format!("the deploykit worker thread failed: {e}"))
    })?;
    drop(cancel);
    outcome.unwrap_or_else(|| {
        Err(deploykit_core::Error::interrupted(
            "the operation was cancelled before it finished",
        ))
    })
}

/// Writes a `#[pymethods]` block of `$target` in which each operation, declared once as
/// `fn name / name_async(&self, py, args...) -> T { future }`, becomes two methods with the
/// same arguments, attributes and docs: `name(...) -> T`, blocking on the future through
/// [`block_on`], and `name_async(...)`, an awaitable of it through [`awaitable`]. The
/// methods in `plain { ... }` are copied as they are (pyo3 allows one `#[pymethods]` block
/// per class).
macro_rules! sync_and_async {
    (
        impl $target:ident {
            plain { $($plain:tt)* }
            $(
                $(#[$attr:meta])*
                fn $name:ident / $name_async:ident(
                    &$self:ident, $py:ident $(, $arg:ident: $ty:ty)* $(,)?
                ) -> $out:ty $body:block
            )*
        }
    ) => {
        #[pyo3::pymethods]
        impl $target {
            $($plain)*
            $(
                $(#[$attr])*
                fn $name(&$self, $py: pyo3::Python<'_>, $($arg: $ty),*) -> pyo3::PyResult<$out> {
                    $crate::runtime::block_on($py, $body)
                }

                $(#[$attr])*
                fn $name_async<'py>(
                    &$self,
                    $py: pyo3::Python<'py>,
                    $($arg: $ty),*
                ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    $crate::runtime::awaitable($py, $body)
                }
            )*
        }
    };
}
pub(crate) use sync_and_async;
