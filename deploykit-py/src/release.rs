//! The changelog and the release workflows (cut an RC, true it up, announce its PR, create
//! the release) over any set of release ports, and their typed results.

use std::path::PathBuf;
use std::sync::Arc;

use deploykit_core::changelog::{self, Changelog};
use deploykit_core::ports::{Clock, CodeHost, Commit, DeployStatusSource, Notifier, Vcs};
use deploykit_core::release::{
    self, AnnounceOutcome, AnnounceRequest, CreateReleaseOutcome, CreateReleaseRequest,
    CutRcOutcome, CutRcRequest, PrReference, ReleaseContext, TrueUpOutcome, TrueUpRequest,
};
use deploykit_core::{AppSettings, Error, EventSink, Result, Sha};
use pyo3::prelude::*;

use crate::args;
use crate::convert;
use crate::errors::to_py_err;
use crate::model::{PyRcBranch, PyReleaseNumber, PySha};
use crate::record::record_class;

record_class!(
    /// A built changelog: the text `changelog_check.rb` prints, and what it was built from.
    PyChangelog(Changelog) as "Changelog",
    repr = |r| format!(
        "Changelog(entries={}, invalid_titles={})",
        r.entries.len(),
        r.invalid_titles.len()
    ),
    {
        /// The changelog text (Markdown).
        #[getter]
        fn text(&self) -> &str {
            &self.0.text
        }
        /// Every valid entry as dicts `{category, subcategory, change, pr_number}`, newest first.
        #[getter]
        fn entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.entries)
        }
        /// Titles of commits without a valid entry.
        #[getter]
        fn invalid_titles(&self) -> Vec<String> {
            self.0.invalid_titles.clone()
        }
        /// Titles of commits whose category is too far from every known one.
        #[getter]
        fn dropped_titles(&self) -> Vec<String> {
            self.0.dropped_titles.clone()
        }
        /// Whether any commit said `[skip changelog]`.
        #[getter]
        fn skipped_any(&self) -> bool {
            self.0.skipped_any
        }
        fn __str__(&self) -> &str {
            &self.0.text
        }
    }
);

fn commit_from(obj: &Bound<'_, PyAny>) -> Result<Commit> {
    let value = convert::py_to_json(obj)?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "a commit must be a dict with str \"sha\", \"title\" and \"body\"; \
                     this one has no {name:?}: {value}"
                ))
            })
    };
    Ok(Commit {
        sha: Sha::new(field("sha")?)?,
        title: field("title")?,
        body: field("body").unwrap_or_default(),
    })
}

/// Builds the changelog of commits (newest first), each a dict `{sha, title, body}`, with PR
/// links into `repository`. Raises `InvalidInputError` with the offending titles when some
/// commits have no valid `changelog:` trailer.
#[pyfunction]
#[pyo3(signature = (commits, repository = "18F/identity-idp"))]
pub fn build_changelog(commits: &Bound<'_, PyAny>, repository: &str) -> PyResult<PyChangelog> {
    let commits: Vec<Bound<'_, PyAny>> = args::extract(
        commits,
        "commits",
        "a list of commits, newest first, each a dict {sha, title, body}",
    )
    .map_err(to_py_err)?;
    let commits = commits
        .iter()
        .map(commit_from)
        .collect::<Result<Vec<_>>>()
        .map_err(to_py_err)?;
    changelog::build_changelog(&commits, repository)
        .map(PyChangelog)
        .map_err(to_py_err)
}

record_class!(
    /// What `cut_rc` cut (or, in a dry run, would cut).
    PyCutRcOutcome(CutRcOutcome) as "CutRcOutcome",
    repr = |r| format!(
        "CutRcOutcome(rc='{}', branch='{}', sha='{}', pr_number={}, dry_run={})",
        r.rc,
        r.branch,
        r.sha.short(),
        r.pr_number.map(|n| n.to_string()).unwrap_or_else(|| "None".into()),
        crate::convert::py_bool(r.dry_run)
    ),
    {
        /// The last published RC (0 when none).
        #[getter]
        fn last_rc(&self) -> PyReleaseNumber {
            PyReleaseNumber(self.0.last_rc)
        }
        /// The new RC.
        #[getter]
        fn rc(&self) -> PyReleaseNumber {
            PyReleaseNumber(self.0.rc)
        }
        /// The commit released.
        #[getter]
        fn sha(&self) -> PySha {
            PySha(self.0.sha.clone())
        }
        /// The RC branch.
        #[getter]
        fn branch(&self) -> PyRcBranch {
            PyRcBranch(self.0.branch)
        }
        /// The changelog (also the PR body).
        #[getter]
        fn changelog(&self) -> PyChangelog {
            PyChangelog(self.0.changelog.clone())
        }
        /// Where the changelog is (or would be) written.
        #[getter]
        fn changelog_path(&self) -> PathBuf {
            self.0.changelog_path.clone()
        }
        /// The promotion PR's number, once opened.
        #[getter]
        fn pr_number(&self) -> Option<u64> {
            self.0.pr_number
        }
        /// The promotion PR's link, once opened.
        #[getter]
        fn pr_url(&self) -> Option<&str> {
            self.0.pr_url.as_deref()
        }
        /// The promotion PR of this RC was open already at the same commit (a cut run again
        /// after it stopped part way): it was finished, not opened a second time.
        #[getter]
        fn pr_already_open(&self) -> bool {
            self.0.pr_already_open
        }
        /// Whether this was a dry run.
        #[getter]
        fn dry_run(&self) -> bool {
            self.0.dry_run
        }
        /// The writes done (or that would be done), in order.
        #[getter]
        fn actions(&self) -> Vec<String> {
            self.0.actions.clone()
        }
    }
);

record_class!(
    /// What `true_up` did.
    PyTrueUpOutcome(TrueUpOutcome) as "TrueUpOutcome",
    repr = |r| format!(
        "TrueUpOutcome(branch='{}', merged={})",
        r.branch,
        crate::convert::py_bool(r.merged)
    ),
    {
        /// The RC branch.
        #[getter]
        fn branch(&self) -> PyRcBranch {
            PyRcBranch(self.0.branch)
        }
        /// Its commit before the true-up.
        #[getter]
        fn previous_sha(&self) -> PySha {
            PySha(self.0.previous_sha.clone())
        }
        /// The production branch's tip that was merged.
        #[getter]
        fn production_sha(&self) -> PySha {
            PySha(self.0.production_sha.clone())
        }
        /// The merge commit now at the RC branch's tip, if one was made.
        #[getter]
        fn new_sha(&self) -> Option<PySha> {
            self.0.new_sha.clone().map(PySha)
        }
        /// False when the RC branch already contained the production branch.
        #[getter]
        fn merged(&self) -> bool {
            self.0.merged
        }
        /// The writes done (or that would be done), in order.
        #[getter]
        fn actions(&self) -> Vec<String> {
            self.0.actions.clone()
        }
    }
);

record_class!(
    /// What `announce_pending` announced.
    PyAnnounceOutcome(AnnounceOutcome) as "AnnounceOutcome",
    repr = |r| format!("AnnounceOutcome(rc='{}', pr_number={})", r.rc, r.pr_number),
    {
        /// The RC.
        #[getter]
        fn rc(&self) -> PyReleaseNumber {
            PyReleaseNumber(self.0.rc)
        }
        /// The PR announced.
        #[getter]
        fn pr_number(&self) -> u64 {
            self.0.pr_number
        }
        /// The announcement's plain text.
        #[getter]
        fn text(&self) -> &str {
            &self.0.text
        }
        /// The announcement as the dict a Python notifier receives.
        #[getter]
        fn announcement<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            crate::ports::notifier::announcement_dict(py, &self.0.announcement)
        }
        /// The writes done (or that would be done).
        #[getter]
        fn actions(&self) -> Vec<String> {
            self.0.actions.clone()
        }
    }
);

record_class!(
    /// The release `create_release` created (or, in a dry run, planned).
    PyCreateReleaseOutcome(CreateReleaseOutcome) as "CreateReleaseOutcome",
    repr = |r| format!(
        "CreateReleaseOutcome(title='{}', tag='{}', target='{}')",
        r.title,
        r.tag,
        r.target.short()
    ),
    {
        /// The RC released.
        #[getter]
        fn rc(&self) -> PyReleaseNumber {
            PyReleaseNumber(self.0.rc)
        }
        /// The promotion PR.
        #[getter]
        fn pr_number(&self) -> u64 {
            self.0.pr_number
        }
        /// The release title, `RC <N>`.
        #[getter]
        fn title(&self) -> &str {
            &self.0.title
        }
        /// The tag, `YYYY-MM-DDTHHMMSS` in UTC.
        #[getter]
        fn tag(&self) -> &str {
            &self.0.tag
        }
        /// The commit tagged.
        #[getter]
        fn target(&self) -> PySha {
            PySha(self.0.target.clone())
        }
        /// The release's web page, once created.
        #[getter]
        fn url(&self) -> Option<&str> {
            self.0.release.as_ref().map(|r| r.html_url.as_str())
        }
        /// The writes done (or that would be done), in order.
        #[getter]
        fn actions(&self) -> Vec<String> {
            self.0.actions.clone()
        }
    }
);

/// The ports the release workflows need for one app.
#[derive(Debug, Clone)]
pub struct ReleaseBackend {
    /// The app's repository.
    pub vcs: Arc<dyn Vcs>,
    /// Its releases and pull requests.
    pub code_host: Arc<dyn CodeHost>,
    /// What staging runs.
    pub deploy_status: Arc<dyn DeployStatusSource>,
    /// Where announcements go.
    pub notifier: Arc<dyn Notifier>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The app's settings.
    pub settings: AppSettings,
}

macro_rules! with_context {
    ($backend:ident, $events:ident, |$ctx:ident| $body:expr) => {{
        let $ctx = ReleaseContext {
            vcs: $backend.vcs.as_ref(),
            code_host: $backend.code_host.as_ref(),
            deploy_status: $backend.deploy_status.as_ref(),
            notifier: $backend.notifier.as_ref(),
            clock: $backend.clock.as_ref(),
            events: $events.as_ref(),
            settings: &$backend.settings,
        };
        $body
    }};
}

/// Cuts a release candidate.
pub async fn cut_rc(
    backend: Result<ReleaseBackend>,
    request: CutRcRequest,
    events: Arc<dyn EventSink>,
) -> Result<PyCutRcOutcome> {
    let backend = backend?;
    with_context!(backend, events, |ctx| release::cut_rc(&ctx, &request)
        .await
        .map(PyCutRcOutcome))
}

/// Trues up the RC branch with the production branch.
pub async fn true_up(
    backend: Result<ReleaseBackend>,
    request: TrueUpRequest,
    events: Arc<dyn EventSink>,
) -> Result<PyTrueUpOutcome> {
    let backend = backend?;
    with_context!(backend, events, |ctx| release::true_up(&ctx, &request)
        .await
        .map(PyTrueUpOutcome))
}

/// Announces the pending promotion PR.
pub async fn announce_pending(
    backend: Result<ReleaseBackend>,
    request: AnnounceRequest,
    events: Arc<dyn EventSink>,
) -> Result<PyAnnounceOutcome> {
    let backend = backend?;
    with_context!(backend, events, |ctx| release::announce_pending(
        &ctx, &request
    )
    .await
    .map(PyAnnounceOutcome))
}

/// Creates the release of a merged promotion PR.
pub async fn create_release(
    backend: Result<ReleaseBackend>,
    pr: Result<PrReference>,
    dry_run: bool,
    events: Arc<dyn EventSink>,
) -> Result<PyCreateReleaseOutcome> {
    let backend = backend?;
    let request = CreateReleaseRequest { pr: pr?, dry_run };
    with_context!(backend, events, |ctx| release::create_release(
        &ctx, &request
    )
    .await
    .map(PyCreateReleaseOutcome))
}

/// Registers the changelog and release classes and functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyChangelog>()?;
    m.add_class::<PyCutRcOutcome>()?;
    m.add_class::<PyTrueUpOutcome>()?;
    m.add_class::<PyAnnounceOutcome>()?;
    m.add_class::<PyCreateReleaseOutcome>()?;
    m.add_function(wrap_pyfunction!(build_changelog, m)?)?;
    Ok(())
}
