//! A Python object with `sample(env, role, start, end)` as a [`Monitor`], and the typed
//! sample it produces.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deploykit_core::fleet_ops;
use deploykit_core::model::InstanceId;
use deploykit_core::ports::{
    InstanceSplitSample, MetricsWindow, Monitor, MonitorSample, ShaMetrics,
};
use deploykit_core::{EnvName, Error, Result, RoleName};
use pyo3::prelude::*;
use serde_json::Value;

use crate::call::PyCall;
use crate::callbacks::{not_awaitable, refuse_async};
use crate::convert;
use crate::errors::{from_py_err, to_py_err};
use crate::model::PySha;
use crate::runtime::{awaitable, block_on};

/// Calls `obj.sample(env: str, role: str, start: datetime, end: datetime)`, which returns the
/// per-SHA figures: a list of dicts with `sha`, `requests`, `errors_5xx`, `instances` and
/// optionally `first_seen` (datetime) and `flows` (list of `{name, attempts, successes}`),
/// or a dict with that list under `per_sha`. An empty list means "no data". An object that
/// also has `sample_by_instance(env, role, start, end, old)` can split a config recycle's
/// figures by instance (see [`Monitor::sample_by_instance`] below).
#[derive(Debug, Clone)]
pub struct PyMonitor {
    obj: Arc<Py<PyAny>>,
}

impl PyMonitor {
    /// Wraps `obj`, checking that it has a `sample` method.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !obj.hasattr("sample")? {
            return Err(to_py_err(Error::invalid_input(format!(
                "{} cannot be a monitor: it has no sample(env, role, start, end) method",
                obj.repr()?
            ))));
        }
        refuse_async(&obj.getattr("sample")?, "monitor", "the monitor's sample()")?;
        if obj.hasattr("sample_by_instance")? {
            refuse_async(
                &obj.getattr("sample_by_instance")?,
                "monitor",
                "the monitor's sample_by_instance()",
            )?;
        }
        Ok(PyMonitor {
            obj: Arc::new(obj.clone().unbind()),
        })
    }
}

fn parse_per_sha(value: Value) -> Result<Vec<ShaMetrics>> {
    let list = match value {
        Value::Object(mut map) if map.contains_key("per_sha") => {
            map.remove("per_sha").unwrap_or_default()
        }
        other => other,
    };
    let Value::Array(mut items) = list else {
        return Err(Error::invalid_input(format!(
            "the Python monitor's sample() returned {list}: expected a list of per-SHA dicts \
             (sha, requests, errors_5xx, instances)"
        )));
    };
    for item in &mut items {
        if let Value::Object(map) = item {
            map.entry("flows")
                .or_insert_with(|| Value::Array(Vec::new()));
        }
    }
    let per_sha: Vec<ShaMetrics> = serde_json::from_value(Value::Array(items)).map_err(|e| {
        Error::invalid_input(format!(
            "the Python monitor's sample() returned a bad per-SHA entry ({e}): expected sha \
             (str), requests, errors_5xx, instances (int), first_seen (datetime, optional), \
             flows (list, optional)"
        ))
    })?;
    if let Some(why) = per_sha.iter().find_map(ShaMetrics::impossible) {
        return Err(Error::invalid_input(format!(
            "the Python monitor's sample() returned impossible figures for {why}: check how it \
             counts"
        )));
    }
    Ok(per_sha)
}

#[async_trait]
impl Monitor for PyMonitor {
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        let obj = Arc::clone(&self.obj);
        let (env, role, window) = (env.to_string(), role.to_string(), *window);
        let call = PyCall::current();
        let per_sha = tokio::task::spawn_blocking(move || {
            call.attach_port("the Python monitor's sample()", |py| {
                let returned = obj
                    .bind(py)
                    .call_method1("sample", (env, role, window.start, window.end))
                    .map_err(|e| from_py_err(py, &e, "the Python monitor's sample()"))?;
                let returned = not_awaitable(returned, "monitor", "the Python monitor's sample()")?;
                convert::py_to_json(&returned)
            })
        })
        .await
        .map_err(|e| Error::backend(format!("the Python monitor's thread failed: {e}")))??;
        Ok(MonitorSample {
            window,
            per_sha: parse_per_sha(per_sha)?,
        })
    }

    /// Calls `obj.sample_by_instance(env, role, start, end, old)` (`old`: the instance ids
    /// that ran before the recycle, as strings) when the object has that method; it returns
    /// `None` when it cannot tell instances apart, or a dict with `old_instances` and
    /// `new_instances`, each a per-SHA dict as `sample()` returns them, or `None` when no such
    /// instance served. Without the method the monitor cannot split: `None`.
    async fn sample_by_instance(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        let obj = Arc::clone(&self.obj);
        let (env, role, window) = (env.to_string(), role.to_string(), *window);
        let old: Vec<String> = old.iter().map(|id| id.as_str().to_string()).collect();
        let call = PyCall::current();
        let returned = tokio::task::spawn_blocking(move || {
            call.attach_port("the Python monitor's sample_by_instance()", |py| {
                if !obj.bind(py).hasattr("sample_by_instance").unwrap_or(false) {
                    return Ok(Value::Null);
                }
                let returned = obj
                    .bind(py)
                    .call_method1(
                        "sample_by_instance",
                        (env, role, window.start, window.end, old),
                    )
                    .map_err(|e| {
                        from_py_err(py, &e, "the Python monitor's sample_by_instance()")
                    })?;
                let returned = not_awaitable(
                    returned,
                    "monitor",
                    "the Python monitor's sample_by_instance()",
                )?;
                convert::py_to_json(&returned)
            })
        })
        .await
        .map_err(|e| Error::backend(format!("the Python monitor's thread failed: {e}")))??;
        parse_split(window, returned)
    }
}

/// The split a Python monitor's `sample_by_instance()` returned (see
/// [`PyMonitor`]'s `sample_by_instance`).
fn parse_split(window: MetricsWindow, value: Value) -> Result<Option<InstanceSplitSample>> {
    let Value::Object(mut map) = value else {
        return match value {
            Value::Null => Ok(None),
            other => Err(Error::invalid_input(format!(
                "the Python monitor's sample_by_instance() returned {other}: expected None or a \
                 dict with old_instances and new_instances (each a per-SHA dict or None)"
            ))),
        };
    };
    let mut side = |key: &str| -> Result<Option<ShaMetrics>> {
        match map.remove(key).unwrap_or(Value::Null) {
            Value::Null => Ok(None),
            one => Ok(parse_per_sha(Value::Array(vec![one]))?.pop()),
        }
    };
    Ok(Some(InstanceSplitSample {
        window,
        old_instances: side("old_instances")?,
        new_instances: side("new_instances")?,
    }))
}

/// The figures of one deployed SHA over a window.
#[pyclass(module = "deploykit", name = "ShaMetrics", frozen)]
#[derive(Debug, Clone)]
pub struct PyShaMetrics(pub ShaMetrics);

#[pymethods]
impl PyShaMetrics {
    /// The SHA the requests were served by.
    #[getter]
    fn sha(&self) -> PySha {
        PySha(self.0.sha.clone())
    }
    /// First log line seen from this SHA.
    #[getter]
    fn first_seen(&self) -> Option<DateTime<Utc>> {
        self.0.first_seen
    }
    /// Requests served.
    #[getter]
    fn requests(&self) -> u64 {
        self.0.requests
    }
    /// Responses with status 500-599.
    #[getter]
    fn errors_5xx(&self) -> u64 {
        self.0.errors_5xx
    }
    /// 5xx responses as a fraction of requests; `None` with no requests.
    #[getter]
    fn error_rate(&self) -> Option<f64> {
        self.0.error_rate()
    }
    /// Instances that served them.
    #[getter]
    fn instances(&self) -> u32 {
        self.0.instances
    }
    /// Critical flow success rates, as dicts `{name, attempts, successes}`.
    #[getter]
    fn flows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0.flows)
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
        format!(
            "ShaMetrics(sha='{}', requests={}, errors_5xx={}, instances={})",
            self.0.sha.short(),
            self.0.requests,
            self.0.errors_5xx,
            self.0.instances
        )
    }
}

/// One monitor sample: the figures of every SHA seen in a window.
#[pyclass(module = "deploykit", name = "MonitorSample", frozen)]
#[derive(Debug, Clone)]
pub struct PyMonitorSample(pub MonitorSample);

#[pymethods]
impl PyMonitorSample {
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
    /// Per-SHA figures, in the order SHAs were first seen; empty means "no data".
    #[getter]
    fn per_sha(&self) -> Vec<PyShaMetrics> {
        self.0.per_sha.iter().cloned().map(PyShaMetrics).collect()
    }
    /// monitor-deploy's table as rows (dicts with `label` old/new/current/other, `sha`,
    /// `error_pct`, `errors_5xx`, `requests`, `instances`, `flows`), old first.
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &fleet_ops::monitor_table(&self.0).rows)
    }
    /// monitor-deploy's table as text.
    fn render_table(&self) -> String {
        fleet_ops::render_monitor_table(&fleet_ops::monitor_table(&self.0))
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
        format!(
            "MonitorSample(start='{}', end='{}', shas={})",
            self.0.window.start.to_rfc3339(),
            self.0.window.end.to_rfc3339(),
            self.0.per_sha.len()
        )
    }
}

/// Parses an environment and a role name.
pub fn names(env: &str, role: &str) -> Result<(EnvName, RoleName)> {
    Ok((EnvName::new(env)?, RoleName::new(role)?))
}

/// Refuses a window that ends before it starts.
pub fn checked(window: &MetricsWindow) -> Result<()> {
    if window.end <= window.start {
        return Err(Error::invalid_input(format!(
            "the window ends ({}) before it starts ({})",
            window.end, window.start
        )));
    }
    Ok(())
}

/// Samples any monitor over `[start, end)` after checking the names and the window.
pub async fn take_sample(
    monitor: Arc<dyn Monitor>,
    names: Result<(EnvName, RoleName)>,
    window: MetricsWindow,
) -> Result<PyMonitorSample> {
    let (env, role) = names?;
    checked(&window)?;
    monitor
        .sample(&env, &role, &window)
        .await
        .map(PyMonitorSample)
}

/// Takes one sample from a Python monitor through the `Monitor` port, as a deploy's monitor
/// gate would. `start`/`end` must be timezone-aware datetimes.
#[pyfunction]
pub fn sample(
    py: Python<'_>,
    monitor: &Bound<'_, PyAny>,
    env: &str,
    role: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> PyResult<PyMonitorSample> {
    let monitor: Arc<dyn Monitor> = Arc::new(PyMonitor::new(monitor)?);
    block_on(
        py,
        take_sample(monitor, names(env, role), MetricsWindow { start, end }),
    )
}

/// `sample` as an awaitable.
#[pyfunction]
pub fn sample_async<'py>(
    py: Python<'py>,
    monitor: &Bound<'py, PyAny>,
    env: &str,
    role: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> PyResult<Bound<'py, PyAny>> {
    let monitor: Arc<dyn Monitor> = Arc::new(PyMonitor::new(monitor)?);
    awaitable(
        py,
        take_sample(monitor, names(env, role), MetricsWindow { start, end }),
    )
}

/// Registers the monitor classes and functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyShaMetrics>()?;
    m.add_class::<PyMonitorSample>()?;
    m.add_function(wrap_pyfunction!(sample, m)?)?;
    m.add_function(wrap_pyfunction!(sample_async, m)?)?;
    Ok(())
}
