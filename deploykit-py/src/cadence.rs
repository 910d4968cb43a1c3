//! The deploy calendar: which days full deploys go, freezes, team leave, federal holidays.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deploykit_core::config;
use deploykit_core::policy::cadence::{CadenceDecision, CadencePolicy};
use deploykit_core::policy::calendar::{DeployDay, MAX_CALENDAR_WEEKS};
use deploykit_core::{DeployKind, Error};
use pyo3::prelude::*;
use serde_json::Value;

use crate::args::{Arg, Weeks};
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

/// The calendar arguments the configuration's `[cadence]` section also has, as given.
struct CalendarArgs {
    deploy_days: Option<Value>,
    freezes: Option<Value>,
    team_leave: Option<Value>,
}

/// `value` without the `None`s of its dicts (an absent key, as in a TOML table).
fn without_nones(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nones(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nones).collect()),
        other => other,
    }
}

/// A team-leave entry `{date, reason}` as the span of that one day the configuration takes.
fn one_day_span(entry: Value) -> Value {
    match entry {
        Value::Object(mut map) if !map.contains_key("start") && !map.contains_key("end") => {
            if let Some(date) = map.remove("date") {
                map.insert("start".into(), date.clone());
                map.insert("end".into(), date);
            }
            Value::Object(map)
        }
        other => other,
    }
}

impl CalendarArgs {
    /// The policy they describe, read and checked by the configuration's own reader of
    /// `[cadence]` (as `deploykit.toml` or `--set cadence.freezes=...` would be), so the
    /// calendar accepts and refuses what the configuration does.
    fn policy(self) -> deploykit_core::Result<CadencePolicy> {
        let mut cadence = serde_json::Map::new();
        let team_leave = self.team_leave.map(|leave| match leave {
            Value::Array(items) => Value::Array(items.into_iter().map(one_day_span).collect()),
            other => other,
        });
        for (key, value) in [
            ("deploy_days", self.deploy_days),
            ("freezes", self.freezes),
            ("team_leave", team_leave),
        ] {
            if let Some(value) = value {
                cadence.insert(key.into(), without_nones(value));
            }
        }
        let bad = |why: String| {
            Error::invalid_input(format!(
                "bad deploy calendar: {why} (weekdays are names such as \"Tue\", dates \
                 YYYY-MM-DD, freezes {{start, end, reason}}, team leave {{date, reason}} or \
                 {{start, end, reason}})"
            ))
        };
        let table = toml::Value::try_from(serde_json::json!({ "cadence": cadence }))
            .map_err(|e| bad(format!("{e}")))?;
        let text = toml::to_string(&table).map_err(|e| bad(format!("{e}")))?;
        let none = BTreeMap::new();
        let problems = config::check(Some(&text), &none, &none);
        if !problems.is_empty() {
            let problems: Vec<String> = problems
                .iter()
                .map(|p| {
                    let key = p.key_path.strip_prefix("cadence.").unwrap_or(&p.key_path);
                    format!("{key}: {}", p.message)
                })
                .collect();
            return Err(bad(problems.join("; ")));
        }
        Ok(config::resolve(Some(&text), &none, &none)?.cadence.policy())
    }
}

/// The deploy calendar: full deploys on Tuesdays and Thursdays, nothing routine on Friday to
/// Sunday, the day of or before a federal holiday, in a freeze, or on/before team leave.
#[pyclass(module = "deploykit", name = "CadencePolicy", frozen)]
#[derive(Debug, Clone)]
pub struct PyCadencePolicy(pub CadencePolicy);

#[pymethods]
impl PyCadencePolicy {
    /// The calendar. `deploy_days` / `no_deploy_weekdays` are weekday names (`"Tue"`),
    /// `freezes` dicts `{start, end, reason}` and `team_leave` dicts `{date, reason}` (one
    /// day) or `{start, end, reason}` (a span); dates as `datetime.date` or `YYYY-MM-DD`,
    /// `reason` optional. Checked as the configuration's `[cadence]` is (a span ending before
    /// it starts, an unknown key, a missing date or weekday name is an InvalidInputError
    /// naming every problem); anything not given keeps the default.
    #[new]
    #[pyo3(signature = (*, deploy_days=None, no_deploy_weekdays=None, freezes=None, team_leave=None))]
    fn new(
        deploy_days: Option<Bound<'_, PyAny>>,
        no_deploy_weekdays: Option<Bound<'_, PyAny>>,
        freezes: Option<Bound<'_, PyAny>>,
        team_leave: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let json =
            |value: Option<Bound<'_, PyAny>>| value.map(|v| convert::py_to_json(&v)).transpose();
        let section = CalendarArgs {
            deploy_days: json(deploy_days).map_err(to_py_err)?,
            freezes: json(freezes).map_err(to_py_err)?,
            team_leave: json(team_leave).map_err(to_py_err)?,
        };
        let mut policy = section.policy().map_err(to_py_err)?;
        if let Some(days) = json(no_deploy_weekdays).map_err(to_py_err)? {
            policy.no_deploy_weekdays = serde_json::from_value(days).map_err(|e| {
                to_py_err(Error::invalid_input(format!(
                    "bad deploy calendar: no_deploy_weekdays: {e}; expected a list of weekday \
                     names such as \"Fri\""
                )))
            })?;
        }
        Ok(PyCadencePolicy(policy))
    }

    /// Decides whether a deploy of `kind` (`full`, `patch`, `off-cycle`, `config-recycle`,
    /// `no-migration-recycle`, `revert`) may go on `date`; `reason` is required for patch and
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
    #[pyo3(signature = (start, weeks = Arg::from(4)))]
    #[pyo3(text_signature = "(self, start, weeks=4)")]
    fn deploy_days_from(
        &self,
        start: NaiveDate,
        weeks: Arg<i64, Weeks>,
    ) -> PyResult<Vec<PyDeployDay>> {
        let weeks = weeks.0;
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
