//! The deploy calendar: which days full deploys go, freezes, team leave, federal holidays.

use chrono::NaiveDate;
use deploykit_core::policy::cadence::{CadenceDecision, CadencePolicy};
use deploykit_core::policy::calendar::{DeployDay, MAX_CALENDAR_WEEKS};
use deploykit_core::{DeployKind, Error};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::to_py_err;
use crate::record::record_class;

record_class!(
    /// Whether a deploy may go on a date, and why.
    PyCadenceDecision(CadenceDecision) as "CadenceDecision",
    repr = |r| format!(
        "CadenceDecision(allowed={}, reasons={:?})",
        crate::convert::py_bool(r.allowed),
        r.reasons
    ),
    {
        /// Whether it may go.
        #[getter]
        fn allowed(&self) -> bool {
            self.0.allowed
        }
        /// Every calendar concern, in words, plus what is missing when not allowed.
        #[getter]
        fn reasons(&self) -> Vec<String> {
            self.0.reasons.clone()
        }
        /// Whether this kind of deploy needs a reason to be recorded.
        #[getter]
        fn needs_reason(&self) -> bool {
            self.0.needs_reason
        }
        /// The reason given, as recorded.
        #[getter]
        fn recorded_reason(&self) -> Option<&str> {
            self.0.recorded_reason.as_deref()
        }
        /// Raises `PolicyRefusedError` listing every reason when not allowed; returns self.
        fn raise_if_refused(slf: Py<Self>) -> PyResult<Py<Self>> {
            slf.get().0.clone().into_result().map_err(to_py_err)?;
            Ok(slf)
        }
        fn __bool__(&self) -> bool {
            self.0.allowed
        }
    }
);

record_class!(
    /// One of the coming deploy days: whether a full deploy may go on it, and why not.
    PyDeployDay(DeployDay) as "DeployDay",
    repr = |r| format!(
        "DeployDay(date={}, allowed={}, concerns={:?})",
        r.date,
        crate::convert::py_bool(r.allowed),
        r.concerns
    ),
    {
        /// The date.
        #[getter]
        fn date(&self) -> NaiveDate {
            self.0.date
        }
        /// Whether a full deploy may go that day.
        #[getter]
        fn allowed(&self) -> bool {
            self.0.allowed
        }
        /// Why not (holiday, the day before one, a freeze, team leave); empty when allowed.
        #[getter]
        fn concerns(&self) -> Vec<String> {
            self.0.concerns.clone()
        }
        fn __bool__(&self) -> bool {
            self.0.allowed
        }
    }
);

/// The deploy calendar: full deploys on Tuesdays and Thursdays, nothing routine on Friday to
/// Sunday, the day of or before a federal holiday, in a freeze, or on/before team leave.
#[pyclass(module = "deploykit", name = "CadencePolicy", frozen)]
#[derive(Debug, Clone)]
pub struct PyCadencePolicy(pub CadencePolicy);

#[pymethods]
impl PyCadencePolicy {
    /// The calendar. `deploy_days` / `no_deploy_weekdays` are weekday names (`"Tue"`),
    /// `freezes` dicts `{start, end, reason}` and `team_leave` dicts `{date, reason}` (dates
    /// as `datetime.date` or `YYYY-MM-DD`); anything not given keeps the default.
    #[new]
    #[pyo3(signature = (*, deploy_days=None, no_deploy_weekdays=None, freezes=None, team_leave=None))]
    fn new(
        deploy_days: Option<Bound<'_, PyAny>>,
        no_deploy_weekdays: Option<Bound<'_, PyAny>>,
        freezes: Option<Bound<'_, PyAny>>,
        team_leave: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut map = serde_json::Map::new();
        for (key, value) in [
            ("deploy_days", deploy_days),
            ("no_deploy_weekdays", no_deploy_weekdays),
            ("freezes", freezes),
            ("team_leave", team_leave),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), convert::py_to_json(&value).map_err(to_py_err)?);
            }
        }
        serde_json::from_value(serde_json::Value::Object(map))
            .map(PyCadencePolicy)
            .map_err(|e| {
                to_py_err(Error::invalid_input(format!(
                    "bad deploy calendar ({e}): weekdays are names such as \"Tue\", dates \
                     YYYY-MM-DD, freezes {{start, end, reason}}, team leave {{date, reason}}"
                )))
            })
    }

    /// Decides whether a deploy of `kind` (`full`, `patch`, `off-cycle`, `config-recycle`,
    /// `no-migration-recycle`) may go on `date`; `reason` is required for patch and
    /// off-cycle deploys.
    #[pyo3(signature = (date, kind = "full", reason = None))]
    fn check(
        &self,
        date: NaiveDate,
        kind: &str,
        reason: Option<&str>,
    ) -> PyResult<PyCadenceDecision> {
        let kind: DeployKind = kind.parse().map_err(to_py_err)?;
        Ok(PyCadenceDecision(self.0.check(date, kind, reason)))
    }

    /// The calendar's concerns about `date`, each explained.
    fn concerns(&self, date: NaiveDate) -> Vec<String> {
        self.0.concerns(date)
    }

    /// The next date on or after `start` when a full deploy may go (within a year).
    fn next_full_deploy_day(&self, start: NaiveDate) -> Option<NaiveDate> {
        self.0.next_full_deploy_day(start)
    }

    /// The deploy days among the `weeks` weeks (1 to 53) from `start` (itself included), each
    /// with whether a full deploy may go on it and why not (`deploykit cadence show`).
    #[pyo3(signature = (start, weeks = 4))]
    fn deploy_days_from(&self, start: NaiveDate, weeks: i64) -> PyResult<Vec<PyDeployDay>> {
        let weeks = u32::try_from(weeks)
            .ok()
            .filter(|w| (1..=MAX_CALENDAR_WEEKS).contains(w))
            .ok_or_else(|| {
                to_py_err(Error::invalid_input(format!(
                    "weeks must be 1 to {MAX_CALENDAR_WEEKS} (a year ahead at most), not {weeks}"
                )))
            })?;
        Ok(self
            .0
            .deploy_days_from(start, weeks * 7)
            .into_iter()
            .map(PyDeployDay)
            .collect())
    }

    /// The calendar as plain data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "CadencePolicy(deploy_days={:?}, freezes={}, team_leave={})",
            self.0
                .deploy_days
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
            self.0.freezes.len(),
            self.0.team_leave.len()
        )
    }
}

/// Registers the calendar classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCadencePolicy>()?;
    m.add_class::<PyCadenceDecision>()?;
    m.add_class::<PyDeployDay>()?;
    Ok(())
}
