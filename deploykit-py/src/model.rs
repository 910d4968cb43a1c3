//! The model's value types as Python classes: `Sha`, `ReleaseNumber`, `RcBranch`,
//! `DeployStatus`. Constructors parse and raise `InvalidInputError` on bad input.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use deploykit_core::{DeployStatus, RcBranch, ReleaseNumber, Sha};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::{Arg, Major};
use crate::convert;
use crate::errors::to_py_err;

/// A git commit SHA (4 to 40 hex digits, lowercased).
#[pyclass(module = "deploykit", name = "Sha", frozen, eq, ord, hash, str)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PySha(pub Sha);

impl fmt::Display for PySha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[pymethods]
impl PySha {
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        Sha::new(text).map(PySha).map_err(to_py_err)
    }

    /// The SHA as text.
    #[getter]
    fn text(&self) -> &str {
        self.0.as_str()
    }

    /// The first 7 digits.
    #[getter]
    fn short(&self) -> &str {
        self.0.short()
    }

    /// Whether all 40 digits are known.
    #[getter]
    fn is_full(&self) -> bool {
        self.0.is_full()
    }

    /// Whether one SHA is a prefix of the other (same commit as far as both say).
    fn matches(&self, other: &PySha) -> bool {
        self.0.matches(&other.0)
    }

    fn __repr__(&self) -> String {
        format!("Sha('{}')", self.0.as_str())
    }
}

/// Accepts a `Sha` or a `str` where a SHA is expected.
#[allow(dead_code)] // used by the fleet and release bindings
pub fn sha_arg(obj: &Bound<'_, PyAny>) -> PyResult<Sha> {
    if let Ok(sha) = obj.cast::<PySha>() {
        return Ok(sha.get().0.clone());
    }
    let text: String = obj.extract()?;
    Sha::new(text).map_err(to_py_err)
}

/// A release number: `112` (full) or `112.1` (patch).
#[pyclass(
    module = "deploykit",
    name = "ReleaseNumber",
    frozen,
    eq,
    ord,
    hash,
    str
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyReleaseNumber(pub ReleaseNumber);

impl fmt::Display for PyReleaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[pymethods]
impl PyReleaseNumber {
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        text.parse().map(PyReleaseNumber).map_err(to_py_err)
    }

    /// The full release `major`.
    #[staticmethod]
    fn full(major: Arg<u32, Major>) -> Self {
        PyReleaseNumber(ReleaseNumber::full(major.0))
    }

    /// Parses a GitHub release title such as `RC 112.1`.
    #[staticmethod]
    fn from_release_title(title: &str) -> PyResult<Self> {
        ReleaseNumber::from_release_title(title)
            .map(PyReleaseNumber)
            .map_err(to_py_err)
    }

    /// Parses a promotion PR title such as `Deploy RC 112 to Production`.
    #[staticmethod]
    fn from_pr_title(title: &str) -> PyResult<Self> {
        ReleaseNumber::from_pr_title(title)
            .map(PyReleaseNumber)
            .map_err(to_py_err)
    }

    /// The major number.
    #[getter]
    fn major(&self) -> u32 {
        self.0.major
    }

    /// The patch number, `None` for a full release.
    #[getter]
    fn minor(&self) -> Option<u32> {
        self.0.minor
    }

    /// Whether this is a patch release (`112.1`).
    #[getter]
    fn is_patch(&self) -> bool {
        self.0.minor.is_some()
    }

    /// The next full release (`112.2` -> `113`).
    fn next_full(&self) -> Self {
        PyReleaseNumber(self.0.next_full())
    }

    /// The next patch release (`112` -> `112.1`, `112.1` -> `112.2`).
    fn next_patch(&self) -> Self {
        PyReleaseNumber(self.0.next_patch())
    }

    fn __repr__(&self) -> String {
        format!("ReleaseNumber('{}')", self.0)
    }
}

/// Accepts a `ReleaseNumber`, a `str` or an `int` where a release number is expected.
#[allow(dead_code)] // used by the release bindings
pub fn release_number_arg(obj: &Bound<'_, PyAny>) -> PyResult<ReleaseNumber> {
    if let Ok(n) = obj.cast::<PyReleaseNumber>() {
        return Ok(n.get().0);
    }
    if let Ok(major) = obj.extract::<u32>() {
        return Ok(ReleaseNumber::full(major));
    }
    let text: String = obj.extract()?;
    text.parse().map_err(to_py_err)
}

/// An RC branch: `stages/rc-YYYY-MM-DD` or `stages/rc-YYYY-MM-DD.N`.
#[pyclass(module = "deploykit", name = "RcBranch", frozen, eq, ord, hash, str)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyRcBranch(pub RcBranch);

impl fmt::Display for PyRcBranch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[pymethods]
impl PyRcBranch {
    #[new]
    fn new(name: &str) -> PyResult<Self> {
        name.parse().map(PyRcBranch).map_err(to_py_err)
    }

    /// The first RC branch of a day.
    #[staticmethod]
    fn first(date: NaiveDate) -> Self {
        PyRcBranch(RcBranch::first(date))
    }

    /// Whether `name` is an RC branch name.
    #[staticmethod]
    fn is_rc_branch(name: &str) -> bool {
        RcBranch::is_rc_branch(name)
    }

    /// The branch name.
    #[getter]
    fn name(&self) -> String {
        self.0.to_string()
    }

    /// The day of the branch.
    #[getter]
    fn date(&self) -> NaiveDate {
        self.0.date
    }

    /// 1 for the day's first branch, then 2, 3, ...
    #[getter]
    fn ordinal(&self) -> u32 {
        self.0.ordinal
    }

    /// The next branch on the same day.
    fn next_same_day(&self) -> Self {
        PyRcBranch(self.0.next_same_day())
    }

    fn __repr__(&self) -> String {
        format!("RcBranch('{}')", self.0)
    }
}

/// What an environment says it runs (its `/api/deploy.json`).
#[pyclass(module = "deploykit", name = "DeployStatus", frozen)]
#[derive(Debug, Clone)]
pub struct PyDeployStatus(pub DeployStatus);

#[pymethods]
impl PyDeployStatus {
    /// Parses the document; `InvalidInputError` says which field is wrong.
    #[staticmethod]
    fn parse(json: &str) -> PyResult<Self> {
        DeployStatus::parse(json)
            .map(PyDeployStatus)
            .map_err(to_py_err)
    }

    /// The deployed commit.
    #[getter]
    fn git_sha(&self) -> PySha {
        PySha(self.0.git_sha.clone())
    }
    /// Environment name as the document writes it.
    #[getter]
    fn env(&self) -> Option<&str> {
        self.0.env.as_deref()
    }
    /// Deployed branch.
    #[getter]
    fn branch(&self) -> Option<&str> {
        self.0.branch.as_deref()
    }
    /// Who deployed.
    #[getter]
    fn user(&self) -> Option<&str> {
        self.0.user.as_deref()
    }
    /// Commit date.
    #[getter]
    fn git_date(&self) -> Option<DateTime<FixedOffset>> {
        self.0.git_date
    }
    /// When the configuration run finished (naive, as the document writes it).
    #[getter]
    fn chef_run_timestamp(&self) -> Option<NaiveDateTime> {
        self.0.chef_run_timestamp
    }
    /// The instance that wrote the document.
    #[getter]
    fn instance_id(&self) -> Option<&str> {
        self.0.instance_id.as_deref()
    }
    /// identity-devops commit, when present.
    #[getter]
    fn devops_git_sha(&self) -> Option<PySha> {
        self.0.devops_git_sha.clone().map(PySha)
    }
    /// identity-devops commit date, when present.
    #[getter]
    fn devops_git_date(&self) -> Option<DateTime<FixedOffset>> {
        self.0.devops_git_date
    }

    /// The fields as plain data (dates as ISO 8601 strings).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }

    /// The fields as a JSON string.
    fn to_json(&self) -> PyResult<String> {
        convert::to_json(&self.0)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let branch = PyString::new(py, self.0.branch.as_deref().unwrap_or(""));
        let branch = branch
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| "''".into());
        format!(
            "DeployStatus(git_sha='{}', branch={branch})",
            self.0.git_sha.short()
        )
    }
}

/// Registers the model classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySha>()?;
    m.add_class::<PyReleaseNumber>()?;
    m.add_class::<PyRcBranch>()?;
    m.add_class::<PyDeployStatus>()?;
    Ok(())
}
