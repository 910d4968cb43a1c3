//! `World`: the simulated Login.gov (fleet, repositories, code hosts, deploy status, notifier)
//! on a virtual clock. Every operation comes from its base class `Operations` over the
//! world's ports; `World` adds what only a simulation can do (move time, inject faults,
//! approve and merge PRs, read what the notifier received).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deploykit_backends::{ReleaseBackends, sandbox_code_host, sandbox_deploy_ports};
use deploykit_core::config::EffectiveConfig;
use deploykit_core::deploy::{DeployPorts, EnvSettings, Journal, MemoryJournal};
use deploykit_core::model::{DeployStatus, Lifecycle, Sha};
use deploykit_core::notify::RedactionRules;
use deploykit_core::policy::cadence::CadencePolicy;
use deploykit_core::ports::{
    Announcement, DeployLock, DeployStatusSource, LogSource, MergeMethod, Monitor,
};
use deploykit_core::sim::faults::operation_named;
use deploykit_core::sim::{Fault, World};
use deploykit_core::{AppName, AppSettings, EnvName, Error, GroupName, Result};
use pyo3::prelude::*;

use crate::args::{Arg, PrNumber, Seconds, Times};
use crate::errors::to_py_err;
use crate::fleet::FleetBackend;
use crate::model::PySha;
use crate::operations::{PortSet, PyOperations};
use crate::ports::notifier::announcement_dict;
use crate::runtime::{awaitable, block_on};

/// The simulated world as a set of ports, with the journal of its deploy runs and the
/// world's own scratch folder (removed with it).
#[derive(Debug)]
struct WorldPorts {
    world: World,
    journal: Arc<MemoryJournal>,
    scratch: tempfile::TempDir,
}

/// The settings of the world's `app` (idp or pki).
fn app_settings(app: &str) -> Result<AppSettings> {
    let app = AppName::new(app)?;
    AppSettings::builtin(&app).ok_or_else(|| {
        Error::not_found(format!("no settings for app {app}: expected idp or pki"))
            .with("app", &app)
    })
}

/// The production environment of the simulated Login.gov, where merges to the production
/// branch ship.
fn prod() -> Result<EnvName> {
    EnvName::new("prod")
}

/// The world's deploy status documents as an environment serves them: `git_sha` is what most
/// in-service instances of the app's main role run there (the newest of them on a tie), so
/// it follows a recycle; the stored document when none serves.
#[derive(Debug)]
struct RunningDeployStatus {
    world: World,
}

impl RunningDeployStatus {
    fn running_sha(&self, app: &AppName, env: &EnvName) -> Option<Sha> {
        let role = AppSettings::builtin(app)?.main_role()?.clone();
        // A snapshot: no call counted, no injected fault taken from the fleet's operations.
        let group = self
            .world
            .sim_fleet()
            .group_snapshot(&GroupName::new(env, &role))
            .ok()?;
        let mut serving: Vec<(Sha, DateTime<Utc>)> = group
            .instances
            .iter()
            .filter(|i| i.lifecycle == Lifecycle::InService)
            .filter_map(|i| Some((i.deployed_sha()?, i.launch_time)))
            .collect();
        // Oldest first: `max_by_key` picks the last of equals, the newest.
        serving.sort_by_key(|(_, launched)| *launched);
        let count = |sha: &Sha| serving.iter().filter(|(s, _)| s == sha).count();
        serving
            .iter()
            .max_by_key(|(sha, _)| count(sha))
            .map(|(sha, _)| sha.clone())
    }
}

#[async_trait]
impl DeployStatusSource for RunningDeployStatus {
    async fn deploy_status(&self, app: &AppName, env: &EnvName) -> Result<DeployStatus> {
        let mut status = self.world.deploy_status().deploy_status(app, env).await?;
        if let Some(sha) = self.running_sha(app, env) {
            status.git_sha = sha;
        }
        Ok(status)
    }
}

impl WorldPorts {
    fn running_status(&self) -> Arc<dyn DeployStatusSource> {
        Arc::new(RunningDeployStatus {
            world: self.world.clone(),
        })
    }
}

impl PortSet for WorldPorts {
    fn settings(&self, app: &str) -> Result<AppSettings> {
        app_settings(app)
    }

    fn fleet(&self) -> FleetBackend {
        FleetBackend {
            fleet: self.world.fleet(),
            clock: self.world.clock(),
            lock: self.world.lock(),
            apps: vec![AppSettings::idp(), AppSettings::pki()],
            production: vec![EnvName::new("prod").expect("a valid name")],
        }
    }

    fn logs(&self, _env: &EnvName) -> Arc<dyn LogSource> {
        self.world.logs()
    }

    fn monitor(&self) -> Arc<dyn Monitor> {
        self.world.monitor()
    }

    fn deploy_status(&self, _app: &AppSettings) -> Arc<dyn DeployStatusSource> {
        self.running_status()
    }

    fn release(&self, app: &AppSettings) -> Result<ReleaseBackends> {
        Ok(ReleaseBackends {
            deploy_status: self.running_status(),
            ..ReleaseBackends::sandbox(&self.world, &app.name)?
        })
    }

    fn deploy(&self, app: &AppSettings, env: &EnvName) -> Result<DeployPorts> {
        Ok(DeployPorts {
            deploy_status: self.running_status(),
            ..sandbox_deploy_ports(&self.world, app, env)?
        })
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
        self.scratch.path().to_path_buf()
    }
}

/// The simulated Login.gov: Auto Scaling groups in `prod` and `staging`, the idp and pki
/// repositories with their code hosts and releases, deploy status documents, a recording
/// notifier, all on a virtual clock that moves only when told (`advance`) or when a workflow
/// waits. Operations take milliseconds. Deploys and `merge_pr` go through a code host on which
/// merging to the production branch changes what new `prod` instances boot; `deploy_status`
/// reports what the environment's instances run. `cut_rc` writes its changelog file to a
/// temporary folder of this world (removed with it) unless given `working_dir`.
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
    let settings = app_settings(&app)?;
    if let Some(user) = approver {
        world
            .sim_code_host(&settings.name)?
            .approve(number, &user)?;
    }
    // As a deploy merges: new prod instances then boot the merge commit.
    sandbox_code_host(&world, &settings, &prod()?)?
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
        let scratch = tempfile::Builder::new()
            .prefix("deploykit-world-")
            .tempdir()
            .map_err(|e| {
                to_py_err(Error::backend(format!(
                    "could not make the world's temporary folder in {}: {e}",
                    std::env::temp_dir().display()
                )))
            })?;
        let ports = WorldPorts {
            world: world.clone(),
            journal: Arc::new(MemoryJournal::new()),
            scratch,
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
    fn advance(&self, seconds: Arg<f64, Seconds>) -> PyResult<()> {
        let seconds = seconds.0;
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
    #[pyo3(signature = (operation, fault = "permanent", times = Arg::from(1)))]
    #[pyo3(text_signature = "(self, operation, fault='permanent', times=1)")]
    fn inject_fault(&self, operation: &str, fault: &str, times: Arg<i64, Times>) -> PyResult<()> {
        let times = times.0;
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
    fn approve_pr(&self, app: &str, number: Arg<u64, PrNumber>, user: &str) -> PyResult<()> {
        let app = AppName::new(app).map_err(to_py_err)?;
        self.world
            .sim_code_host(&app)
            .and_then(|host| host.approve(number.0, user))
            .map_err(to_py_err)
    }

    /// Approves (as `approver`, unless None) and merges PR `number` of `app` on the simulated
    /// code host, as a reviewer and the release manager would on GitHub, and as a deploy
    /// merges: new `prod` instances of the app boot the merge commit from then on (recycle to
    /// ship it). Returns the merge commit.
    #[pyo3(signature = (app, number, *, approver = Some("reviewer".to_string())))]
    #[pyo3(text_signature = "(self, app, number, *, approver='reviewer')")]
    fn merge_pr(
        &self,
        py: Python<'_>,
        app: String,
        number: Arg<u64, PrNumber>,
        approver: Option<String>,
    ) -> PyResult<PySha> {
        block_on(py, merge(self.world.clone(), app, number.0, approver))
    }

    /// `merge_pr` as an awaitable.
    #[pyo3(signature = (app, number, *, approver = Some("reviewer".to_string())))]
    #[pyo3(text_signature = "(self, app, number, *, approver='reviewer')")]
    fn merge_pr_async<'py>(
        &self,
        py: Python<'py>,
        app: String,
        number: Arg<u64, PrNumber>,
        approver: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, merge(self.world.clone(), app, number.0, approver))
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
