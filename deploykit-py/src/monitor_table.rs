//! monitor-deploy's table as Python sees it ([`PyMonitorTable`]), and the table split by
//! instance during a recycle (`monitor_by_instance`), as `deploykit monitor --by-instance`
//! shows it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deploykit_core::fleet_ops::{self, MonitorTable};
use deploykit_core::ports::{Fleet, MetricsWindow, Monitor};
use deploykit_core::{EnvName, Result, RoleName};
use pyo3::prelude::*;

use crate::convert;
use crate::ports::monitor::checked;

/// monitor-deploy's table of one window: a row per SHA, or, split by instance, the old
/// instances' row and the new ones'.
#[pyclass(module = "deploykit", name = "MonitorTable", frozen)]
#[derive(Debug, Clone)]
pub struct PyMonitorTable(pub MonitorTable);

#[pymethods]
impl PyMonitorTable {
    /// Window start (inclusive).
    #[getter]
    fn start(&self) -> DateTime<Utc> {
        self.0.window.start
    }
    /// Window end (exclusive).
    #[getter]
    fn end(&self) -> DateTime<Utc> {
        self.0.window.end
    }
    /// The rows (dicts with `label` old/new/current/other, or old_instances/new_instances,
    /// `sha`, `error_pct`, `errors_5xx`, `requests`, `instances`, `flows`), old first; empty
    /// means "no data".
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0.rows)
    }
    /// What the rows are when it needs saying (which instances are old, or why the figures
    /// are per SHA), else None.
    #[getter]
    fn note(&self) -> Option<String> {
        self.0.note.clone()
    }
    /// The table as text.
    fn render(&self) -> String {
        fleet_ops::render_monitor_table(&self.0)
    }
    /// The fields as plain data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    /// The fields as JSON.
    fn to_json(&self) -> PyResult<String> {
        convert::to_json(&self.0)
    }
    fn __repr__(&self) -> String {
        let labels: Vec<&str> = self.0.rows.iter().map(|r| r.label.as_str()).collect();
        format!(
            "MonitorTable(start='{}', end='{}', rows={labels:?})",
            self.0.window.start.to_rfc3339(),
            self.0.window.end.to_rfc3339(),
        )
    }
}

/// The table of `role` in `env` over `window`, split between the instances a recycle is
/// replacing and the rest ([`fleet_ops::monitor_by_instance`]).
pub async fn table_by_instance(
    fleet: Arc<dyn Fleet>,
    monitor: Arc<dyn Monitor>,
    names: Result<(EnvName, RoleName)>,
    window: MetricsWindow,
) -> Result<PyMonitorTable> {
    let (env, role) = names?;
    checked(&window)?;
    fleet_ops::monitor_by_instance(&*fleet, &*monitor, &env, &role, &window)
        .await
        .map(PyMonitorTable)
}

/// Registers the class.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMonitorTable>()
}
