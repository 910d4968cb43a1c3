//! The guided deploy (`deploy`, `resume`, `rollback`) over any set of deploy ports, and its
//! typed outcome.

use std::sync::Arc;

use deploykit_core::deploy::{
    self, DeployOutcome, DeployPlan, DeployPorts, DeployRequest, EnvSettings, Journal,
    RollbackRequest, RunId,
};
use deploykit_core::{ErrorKind, EventSink, Result};
use pyo3::prelude::*;

use crate::convert;
use crate::ports::notifier::announcement_dict;
use crate::record::record_class;
use crate::runtime::run_pinned;

/// `deployed`, `rolled_back`, `stopped` or `paused` (the serde tag of the status).
fn status_name(outcome: &DeployOutcome) -> String {
    serde_json::to_value(&outcome.status)
        .ok()
        .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_string))
        .unwrap_or_default()
}

record_class!(
    /// How a deploy, resume or rollback ended (or paused).
    PyDeployOutcome(DeployOutcome) as "DeployOutcome",
    repr = |r| format!(
        "DeployOutcome(run_id='{}', status='{}', steps={})",
        r.run_id,
        status_name(r),
        r.steps.len()
    ),
    {
        /// The run id (`resume` takes it).
        #[getter]
        fn run_id(&self) -> &str {
            &self.0.run_id
        }
        /// `deployed`, `rolled_back`, `stopped` or `paused`.
        #[getter]
        fn status(&self) -> String {
            status_name(&self.0)
        }
        /// Why it rolled back, stopped or paused (`None` when deployed).
        #[getter]
        fn reason(&self) -> Option<String> {
            serde_json::to_value(&self.0.status)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
        }
        /// Whether the run ended deployed (`status == "deployed"`). A run rolled back once the
        /// old instances were gone (the follow-up check, the smoke tests) is not, though its
        /// new code still serves until the revert is deployed: its `notes` say so.
        #[getter]
        fn deployed(&self) -> bool {
            matches!(self.0.status, deploykit_core::deploy::state::FinalStatus::Deployed)
        }
        /// Every step as dicts `{step, started_at, finished_at, outcome, detail}`.
        #[getter]
        fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.steps)
        }
        /// Gate verdicts as dicts `{at, gate, verdict, explanation}`.
        #[getter]
        fn verdicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.verdicts)
        }
        /// Announcements posted, as the dicts a Python notifier receives.
        #[getter]
        fn announcements<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
            self.0
                .announcements
                .iter()
                .map(|a| announcement_dict(py, a))
                .collect()
        }
        /// Overrides with their reasons, as dicts.
        #[getter]
        fn overrides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.overrides)
        }
        /// The release created.
        #[getter]
        fn release_url(&self) -> Option<&str> {
            self.0.release_url.as_deref()
        }
        /// The revert PR opened, if rolled back.
        #[getter]
        fn revert_pr_url(&self) -> Option<&str> {
            self.0.revert_pr_url.as_deref()
        }
        /// Things people should know.
        #[getter]
        fn notes(&self) -> Vec<String> {
            self.0.notes.clone()
        }
    }
);

/// Everything a deploy run needs besides the request.
#[derive(Debug, Clone)]
pub struct DeployBackend {
    /// The ports.
    pub ports: DeployPorts,
    /// The engine's settings for the environment deployed to (from the configuration).
    pub settings: EnvSettings,
    /// Where runs are journaled (so `resume` finds them).
    pub journal: Arc<dyn Journal>,
}

/// The PR a request that names none ships ([`deploy::default_pr`]: the open promotion PR, or
/// for a revert the open `Revert RC <N>` PR), as the CLI's `deploy` without `--pr` takes it.
async fn default_pr(ports: &DeployPorts, request: &DeployRequest) -> Result<Option<u64>> {
    match request.pr_number {
        Some(n) => Ok(Some(n)),
        None => deploy::default_pr(request.kind, ports.code_host.as_ref(), &request.app).await,
    }
}

/// Runs a guided deploy of the PR named, else of the open one of its kind.
pub async fn run_deploy(
    backend: Result<DeployBackend>,
    request: Result<DeployRequest>,
    events: Arc<dyn EventSink>,
) -> Result<PyDeployOutcome> {
    let (backend, mut request) = (backend?, request?);
    run_pinned(move || async move {
        // Bad input is refused before a PR is looked up, as by the CLI.
        deploy::check_inputs(&request, &backend.settings)?;
        request.pr_number = default_pr(&backend.ports, &request).await?;
        deploy::deploy(
            &backend.ports,
            &backend.settings,
            backend.journal.as_ref(),
            events.as_ref(),
            &request,
        )
        .await
        .map(PyDeployOutcome)
    })
    .await
}

record_class!(
    /// What a deploy would do, changing nothing: its steps with the operations they would
    /// call, the recycle's capacities and times, and what would stop it now.
    PyDeployPlan(DeployPlan) as "DeployPlan",
    repr = |r| format!(
        "DeployPlan(app='{}', env='{}', kind='{}', steps={}, blockers={})",
        r.app,
        r.env,
        r.kind,
        r.steps.len(),
        r.blockers.len()
    ),
    {
        /// What would stop the deploy now (a refusal preflight would give); empty when
        /// nothing would.
        #[getter]
        fn blockers(&self) -> Vec<String> {
            self.0.blockers.clone()
        }
        /// The steps it would run, in order.
        #[getter]
        fn steps(&self) -> Vec<String> {
            self.0.steps.iter().map(|s| s.step.as_str().to_string()).collect()
        }
        /// The plan as `deploykit deploy --dry-run` prints it.
        fn render(&self) -> String {
            self.0.render()
        }
    }
);

/// Plans a deploy of the PR named, else of the open one of its kind: every read, no change.
/// No such PR open (or several revert PRs) is a blocker, as anything else that would stop
/// the deploy; bad input is the plan's blocker and looks nothing up.
pub async fn run_plan(
    backend: Result<DeployBackend>,
    request: Result<DeployRequest>,
) -> Result<PyDeployPlan> {
    let (backend, mut request) = (backend?, request?);
    run_pinned(move || async move {
        let mut not_found = None;
        if deploy::check_inputs(&request, &backend.settings).is_ok() {
            match default_pr(&backend.ports, &request).await {
                Ok(pr) => request.pr_number = pr,
                Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                    not_found = Some(e.message().to_string());
                }
                Err(e) => return Err(e),
            }
        }
        let mut plan = deploy::plan(&backend.ports, &backend.settings, &request).await?;
        plan.blockers.splice(0..0, not_found);
        Ok(PyDeployPlan(plan))
    })
    .await
}

/// Resumes a paused or interrupted run.
pub async fn run_resume(
    backend: Result<DeployBackend>,
    run_id: String,
    events: Arc<dyn EventSink>,
) -> Result<PyDeployOutcome> {
    let backend = backend?;
    let run_id = RunId::parse(&run_id)?;
    run_pinned(move || async move {
        deploy::resume(
            &backend.ports,
            &backend.settings,
            backend.journal.as_ref(),
            events.as_ref(),
            &run_id,
        )
        .await
        .map(PyDeployOutcome)
    })
    .await
}

/// Rolls back whatever was last recycled.
pub async fn run_rollback(
    backend: Result<DeployBackend>,
    request: Result<RollbackRequest>,
    events: Arc<dyn EventSink>,
) -> Result<PyDeployOutcome> {
    let (backend, request) = (backend?, request?);
    run_pinned(move || async move {
        deploy::rollback(
            &backend.ports,
            &backend.settings,
            backend.journal.as_ref(),
            events.as_ref(),
            &request,
        )
        .await
        .map(PyDeployOutcome)
    })
    .await
}

/// Registers the deploy classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDeployOutcome>()?;
    m.add_class::<PyDeployPlan>()?;
    Ok(())
}
