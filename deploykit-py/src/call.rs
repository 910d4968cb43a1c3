//! One call from Python into deploykit, as the Python objects it calls back see it: whether
//! the caller has given up on it (Ctrl-C, a cancelled awaitable), and which worker threads
//! are still running its work.
//!
//! Cancelling a Rust future only stops it at its next await point, on another thread, a
//! moment later. A Python port (monitor, notifier, operator) or callback already queued for
//! the GIL in that moment would still run after `KeyboardInterrupt` reached the caller: an
//! announcement posted, a monitor asked, after Ctrl-C. So every call back into Python goes
//! through [`PyCall::attach`], which refuses once the call is cancelled; the flag is set and
//! read with the GIL held, so nothing starts after the caller saw the exception. One that
//! started before (a port sleeping with the GIL let go) counts as a worker of the call, which
//! the caller waits for: nothing of it still runs when the caller sees the exception.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use deploykit_core::{Error, Result};
use pyo3::prelude::*;

tokio::task_local! {
    static CURRENT: PyCall;
}

/// A call from Python: its cancellation and its running worker threads. Cheap to clone (all
/// clones are the same call).
#[derive(Debug, Clone, Default)]
pub struct PyCall {
    state: Arc<CallState>,
}

#[derive(Debug, Default)]
struct CallState {
    cancelled: AtomicBool,
    workers: Mutex<usize>,
    workers_done: Condvar,
}

impl PyCall {
    /// A new call, not cancelled.
    pub fn new() -> Self {
        PyCall::default()
    }

    /// The call whose work is running here (inside [`PyCall::scope`]); outside any, a call
    /// that is never cancelled.
    pub fn current() -> Self {
        CURRENT.try_with(PyCall::clone).unwrap_or_default()
    }

    /// Runs `fut` as this call's work: [`PyCall::current`] inside it is this call.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<F> {
        CURRENT.scope(self.clone(), fut)
    }

    /// Cancels the call: from now on [`PyCall::attach`] refuses. Call it with the GIL held,
    /// before the caller sees the exception.
    pub fn cancel(&self) {
        self.state.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether the call was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state.cancelled.load(Ordering::SeqCst)
    }

    /// Runs `f` with the GIL held, unless the call was cancelled (checked with the GIL held).
    /// While `f` runs it counts as a worker of the call, so a caller that cancelled the call
    /// meanwhile (Ctrl-C while a port sleeps, letting go of the GIL) waits for it to return
    /// before it sees the exception: Python code of the call never runs after that.
    pub fn attach<R>(&self, f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
        Python::attach(|py| {
            if self.is_cancelled() {
                return None;
            }
            // Counted with the GIL held, so before a cancelling caller (which holds the GIL
            // to cancel) can start waiting for the workers.
            let _worker = self.worker();
            Some(f(py))
        })
    }

    /// [`PyCall::attach`] for a Python port: `what` (e.g. "the Python monitor's sample()")
    /// names it in the error a cancelled call gets.
    pub fn attach_port<R>(
        &self,
        what: &str,
        f: impl for<'py> FnOnce(Python<'py>) -> Result<R>,
    ) -> Result<R> {
        self.attach(f).unwrap_or_else(|| {
            Err(Error::interrupted(format!(
                "{what} was not called: the call was interrupted"
            )))
        })
    }

    /// Counts a worker thread running this call's work until the guard is dropped.
    pub fn worker(&self) -> WorkerGuard {
        *self.lock_workers() += 1;
        WorkerGuard { call: self.clone() }
    }

    /// Waits up to `timeout` for every worker thread to finish; whether they all have.
    pub fn wait_for_workers(&self, timeout: Duration) -> bool {
        let workers = self.lock_workers();
        let (workers, _) = self
            .state
            .workers_done
            .wait_timeout_while(workers, timeout, |running| *running > 0)
            .unwrap_or_else(PoisonError::into_inner);
        *workers == 0
    }

    fn lock_workers(&self) -> std::sync::MutexGuard<'_, usize> {
        self.state
            .workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A worker thread of a call, counted while it lives (see [`PyCall::worker`]).
#[derive(Debug)]
pub struct WorkerGuard {
    call: PyCall,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let mut workers = self.call.lock_workers();
        *workers = workers.saturating_sub(1);
        if *workers == 0 {
            self.call.state.workers_done.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_waited_for_until_its_guard_drops() {
        let call = PyCall::new();
        let guard = call.worker();
        assert!(!call.wait_for_workers(Duration::from_millis(10)));
        let waiter = {
            let call = call.clone();
            std::thread::spawn(move || call.wait_for_workers(Duration::from_secs(30)))
        };
        drop(guard);
        assert!(waiter.join().expect("the waiter ran"));
    }

    #[test]
    fn current_is_the_scoped_call_and_otherwise_never_cancelled() {
        let call = PyCall::new();
        call.cancel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        assert!(rt.block_on(call.scope(async { PyCall::current().is_cancelled() })));
        assert!(!PyCall::current().is_cancelled());
    }
}
