//! `World`: the simulated Login.gov (fleet, repositories, code hosts, deploy status, notifier)
//! on a virtual clock. Every operation comes from its base class `Operations` over the
//! world's ports; `World` adds what only a simulation can do (move time, inject faults,
//! approve and merge PRs, read what the notifier received).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deploykit_backends::{ReleaseBackends, sandbox_deploy_ports};
use deploykit_core::config::EffectiveConfig;
use deploykit_core::deploy::{DeployPorts, EnvSettings, Journal, MemoryJournal};
use deploykit_core::notify::RedactionRules;
use deploykit_core::policy::cadence::CadencePolicy;
use deploykit_core::ports::{
    Announcement, DeployLock, DeployStatusSource, LogSource, MergeMethod, Monitor,
};
use deploykit_core::sim::faults::operation_named;
use deploykit_core::sim::{Fault, World};
use deploykit_core::{AppName, AppSettings, EnvName, Error, Result};
use pyo3::prelude::*;

use crate::errors::to_py_err;
use crate::fleet::FleetBackend;
use crate::model::PySha;
use crate::operations::{PortSet, PyOperations};
use crate::ports::notifier::announcement_dict;
use crate::runtime::{awaitable, block_on};

/// The simulated world as a set of ports, with the journal of its deploy runs.
#[derive(Debug)]
struct WorldPorts {
    world: World,
    journal: Arc<MemoryJournal>,
}

impl PortSet for WorldPorts {
    fn settings(&self, app: &str) -> Result<AppSettings> {
        let app = AppName::new(app)?;
        AppSettings::builtin(&app).ok_or_else(|| {
            Error::not_found(format!("no settings for app {app}: expected idp or pki"))
                .with("app", &app)
        })
    }

    fn fleet(&self) -> FleetBackend {
        FleetBackend {
            fleet: self.world.fleet(),
            clock: self.world.clock(),
            lock: self.world.lock(),
            apps: vec![AppSettings::idp(), AppSettings::pki()],
        }
    }

    fn logs(&self, _env: &EnvName) -> Arc<dyn LogSource> {
        self.world.logs()
    }

    fn monitor(&self) -> Arc<dyn Monitor> {
        self.world.monitor()
    }

    fn deploy_status(&self, _app: &AppSettings) -> Arc<dyn DeployStatusSource> {
        self.world.deploy_status()
    }

    fn release(&self, app: &AppSettings) -> Result<ReleaseBackends> {
        ReleaseBackends::sandbox(&self.world, &app.name)
    }

    fn deploy(&self, app: &AppSettings, env: &EnvName) -> Result<DeployPorts> {
        sandbox_deploy_ports(&self.world, app, env)
    }

    fn env_settings(&self, env: &EnvName) -> EnvSettings {
        EnvSettings::for_env(env)
    }

    fn known_env(&self, env: &str) -> Result<()> {
        EffectiveConfig::default().configured_env(&EnvName::new(env)?)
    }

    fn journal(&self) -> Arc<dyn Journal> {
        self.journal.clone()
    }

    fn lock(&self) -> Arc<dyn DeployLock> {
        self.world.lock()
    }

    fn cadence(&self) -> CadencePolicy {
        EffectiveConfig::default().cadence.policy()
    }

    fn redaction_rules(&self) -> Result<RedactionRules> {
        EffectiveConfig::default().redaction_rules()
    }

    fn working_dir(&self) -> PathBuf {
        std::env::temp_dir().join("deploykit-sandbox")
    }
}

/// The simulated Login.gov: Auto Scaling groups in `prod` and `staging`, the idp and pki
/// repositories with their code hosts and releases, deploy status documents, a recording
/// notifier, all on a virtual clock that moves only when told (`advance`) or when a workflow
/// waits. Operations take milliseconds. Deploys go through a code host on which merging to
/// the production branch changes what new instances boot.
#[pyclass(module = "deploykit", name = "World", extends = PyOperations, frozen)]
#[derive(Debug, Clone)]
pub struct PyWorld {
    world: World,
}

fn fault_named(name: &str) -> Result<Fault> {
    match name {
        "permanent" => Ok(Fault::Permanent),
        "throttle" => Ok(Fault::Throttle),
        "timeout" => Ok(Fault::Timeout),
        "lost_reply" => Ok(Fault::LostReply),
        other => Err(Error::invalid_input(format!(
            "fault {other:?}: expected \"permanent\", \"throttle\", \"timeout\" or \
             \"lost_reply\""
        ))),
    }
}

async fn merge(world: World, app: String, number: u64, approver: Option<String>) -> Result<PySha> {
    let app = AppName::new(app)?;
    if let Some(user) = approver {
        world.sim_code_host(&app)?.approve(number, &user)?;
    }
    world
        .code_host(&app)?
        .merge_pull_request(number, MergeMethod::Merge)
        .await
        .map(PySha)
}

#[pymethods]
impl PyWorld {
    /// Login.gov on Tuesday 2026-11-24 15:00 UTC, ready for a release: `prod` and `staging`
    /// groups (`idp`, `worker`, `migration`, `pivcac`), repositories `idp` and `pki` with
    /// releases up to `RC 111` / `RC 40`, staging running `main`.
    #[staticmethod]
    fn login_gov(py: Python<'_>) -> PyResult<Py<PyWorld>> {
        let world = World::login_gov();
        let ports = WorldPorts {
            world: world.clone(),
            journal: Arc::new(MemoryJournal::new()),
        };
        let init = PyClassInitializer::from(PyOperations::new(Arc::new(ports)))
            .add_subclass(PyWorld { world });
        Py::new(py, init)
    }

    /// The virtual time.
    #[getter]
    fn now(&self) -> DateTime<Utc> {
        self.world.clock().now()
    }

    /// Moves the virtual clock forward (instances boot, scheduled actions fire).
    fn advance(&self, seconds: f64) -> PyResult<()> {
        if !(0.0..=366.0 * 86_400.0).contains(&seconds) {
            return Err(to_py_err(Error::invalid_input(format!(
                "advance by {seconds} seconds: expected 0 to a year"
            ))));
        }
        self.world
            .virtual_clock()
            .advance(Duration::from_secs_f64(seconds));
        Ok(())
    }

    /// The apps with a repository (`["idp", "pki"]`).
    fn apps(&self) -> Vec<String> {
        self.world.apps().iter().map(|a| a.to_string()).collect()
    }

    /// Makes the next `times` (at least 1) calls of `operation` (e.g. `fleet.set_capacity`,
    /// `vcs.push`, `code_host.create_release`, `notifier.announce`, `monitor.sample`; an
    /// unknown name is an InvalidInputError listing them all) fail with `fault`: `permanent`
    /// (BackendError), `throttle` (RateLimitedError), `timeout` (DeployTimeoutError) or
    /// `lost_reply` (DeployTimeoutError after the call made its change).
    #[pyo3(signature = (operation, fault = "permanent", times = 1))]
    fn inject_fault(&self, operation: &str, fault: &str, times: i64) -> PyResult<()> {
        let operation = operation_named(operation).map_err(to_py_err)?;
        let fault = fault_named(fault).map_err(to_py_err)?;
        let times = u32::try_from(times)
            .ok()
            .filter(|t| *t >= 1)
            .ok_or_else(|| {
                to_py_err(Error::invalid_input(format!(
                    "times={times}: a fault is injected for at least 1 call (and at most {})",
                    u32::MAX
                )))
            })?;
        self.world.faults().inject(operation, fault, times);
        Ok(())
    }

    /// The announcements the world's own notifier received, as dicts.
    fn announcements<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.world
            .recording_notifier()
            .sent()
            .iter()
            .map(|a: &Announcement| announcement_dict(py, a))
            .collect()
    }

    /// Records an approving review of PR `number` of `app` by `user` on the simulated code
    /// host (every production deploy needs one).
    #[pyo3(signature = (app, number, user = "reviewer"))]
    fn approve_pr(&self, app: &str, number: u64, user: &str) -> PyResult<()> {
        let app = AppName::new(app).map_err(to_py_err)?;
        self.world
            .sim_code_host(&app)
            .and_then(|host| host.approve(number, user))
            .map_err(to_py_err)
    }

    /// Approves (as `approver`, unless None) and merges PR `number` of `app` on the simulated
    /// code host, as a reviewer and the release manager would on GitHub. Returns the merge
    /// commit.
    #[pyo3(signature = (app, number, *, approver = Some("reviewer".to_string())))]
    #[pyo3(text_signature = "(self, app, number, *, approver='reviewer')")]
    fn merge_pr(
        &self,
        py: Python<'_>,
        app: String,
        number: u64,
        approver: Option<String>,
    ) -> PyResult<PySha> {
        block_on(py, merge(self.world.clone(), app, number, approver))
    }

    /// `merge_pr` as an awaitable.
    #[pyo3(signature = (app, number, *, approver = Some("reviewer".to_string())))]
    #[pyo3(text_signature = "(self, app, number, *, approver='reviewer')")]
    fn merge_pr_async<'py>(
        &self,
        py: Python<'py>,
        app: String,
        number: u64,
        approver: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, merge(self.world.clone(), app, number, approver))
    }

    fn __repr__(&self) -> String {
        format!(
            "World(now='{}', apps={:?})",
            self.world.clock().now().to_rfc3339(),
            self.apps()
        )
    }
}

/// Registers `World`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWorld>()?;
    Ok(())
}
