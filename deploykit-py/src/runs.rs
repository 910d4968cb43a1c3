//! `run_list`: the runs of a journal a line each, as `deploykit runs` lists them.

use deploykit_core::deploy::run_list::RunList;
use pyo3::prelude::*;

use crate::convert;
use crate::record::record_class;

record_class! {
    /// The runs of a journal, oldest first: where each stands (`deployed`, `rolled_back`,
    /// `stopped`, `paused`, `unfinished`) and the step `resume` runs next.
    PyRunList(RunList) as "RunList",
    repr = |r| format!("RunList(runs={}, unreadable={})", r.runs.len(), r.unreadable.len()),
    {
        /// Every run as a dict `{run_id, app, env, kind, operator, started_at, standing,
        /// next_step, reason}`, with `superseded_by` (a later run's id) for a paused or
        /// unfinished run a later one has overtaken: `resume` refuses it.
        #[getter]
        fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.runs)
        }
        /// The runs whose journal could not be read, as dicts `{run_id, error}`.
        #[getter]
        fn unreadable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.unreadable)
        }
        /// The table `deploykit runs` prints.
        fn render(&self) -> String {
            self.0.render()
        }
    }
}

/// Registers `RunList`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRunList>()
}
