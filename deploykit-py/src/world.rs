//! `World`: the simulated Login.gov (fleet, repositories, code hosts, deploy status, notifier)
//! on a virtual clock, with every bound operation as a method.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deploykit_core::DeployKind;
use deploykit_core::deploy::{
    DeployPorts, DeployRequest, Journal, MemoryJournal, Operator, RollbackRequest, RunId,
};
use deploykit_core::ports::{Announcement, MergeMethod, MetricsWindow, Monitor, Notifier};
use deploykit_core::release::{AnnounceRequest, CutRcRequest, PrReference, TrueUpRequest};
use deploykit_core::sim::{Fault, World};
use deploykit_core::{AppName, AppSettings, EnvName, Error, Result};
use pyo3::prelude::*;

use crate::deploy::{DeployBackend, PyDeployOutcome, run_deploy, run_resume, run_rollback};
use crate::errors::to_py_err;
use crate::events::sink_for;
use crate::fleet::{
    self, FleetBackend, PyGroupSize, PyMigrationLog, PyRecycleOutcome, PyScaleInOutcome, PyServer,
};
use crate::model::{PyDeployStatus, PySha};
use crate::ports::monitor::{PyMonitor, PyMonitorSample, names, take_sample};
use crate::ports::notifier::{PyNotifier, announcement_dict};
use crate::ports::operator::PyOperator;
use crate::release::{
    self, PyAnnounceOutcome, PyCreateReleaseOutcome, PyCutRcOutcome, PyTrueUpOutcome,
    ReleaseBackend,
};
use crate::runtime::{awaitable, block_on};

/// The simulated Login.gov: Auto Scaling groups in `prod` and `staging`, the idp and pki
/// repositories with their code hosts and releases, deploy status documents, a recording
/// notifier, all on a virtual clock that moves only when told (`advance`) or when a workflow
/// waits. Operations take milliseconds.
#[pyclass(module = "deploykit", name = "World", frozen)]
#[derive(Debug, Clone)]
pub struct PyWorld {
    world: World,
    /// The journal of this world's deploy runs (`resume` reads it).
    journal: Arc<MemoryJournal>,
}

fn fault_named(name: &str) -> Result<Fault> {
    match name {
        "permanent" => Ok(Fault::Permanent),
        "throttle" => Ok(Fault::Throttle),
        "timeout" => Ok(Fault::Timeout),
        other => Err(Error::invalid_input(format!(
            "fault {other:?}: expected \"permanent\", \"throttle\" or \"timeout\""
        ))),
    }
}

fn pr_reference(pr: &Bound<'_, PyAny>) -> Result<PrReference> {
    if let Ok(number) = pr.extract::<u64>() {
        return format!("{number}").parse();
    }
    match pr.extract::<String>() {
        Ok(text) => text.parse(),
        Err(_) => Err(Error::invalid_input(
            "a pull request is a number, \"#123\" or its GitHub link",
        )),
    }
}

impl PyWorld {
    fn fleet(&self) -> FleetBackend {
        FleetBackend {
            fleet: self.world.fleet(),
            clock: self.world.clock(),
        }
    }

    fn release(
        &self,
        app: &str,
        notifier: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<ReleaseBackend>> {
        let notifier: Arc<dyn Notifier> = match notifier {
            Some(obj) => Arc::new(PyNotifier::new(obj)?),
            None => self.world.notifier(),
        };
        Ok(self.release_with(app, notifier))
    }

    fn release_with(&self, app: &str, notifier: Arc<dyn Notifier>) -> Result<ReleaseBackend> {
        let (app, settings) = app_settings(app)?;
        Ok(ReleaseBackend {
            vcs: self.world.vcs(&app)?,
            code_host: self.world.code_host(&app)?,
            deploy_status: self.world.deploy_status(),
            notifier,
            clock: self.world.clock(),
            settings,
        })
    }

    /// The deploy ports of this world, with Python replacements for the notifier, the
    /// monitor and the operator when given.
    fn deploy_backend(
        &self,
        app: &AppName,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        operator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        let notifier: Arc<dyn Notifier> = match notifier {
            Some(obj) => Arc::new(PyNotifier::new(obj)?),
            None => self.world.notifier(),
        };
        let monitor: Arc<dyn Monitor> = match monitor {
            Some(obj) => Arc::new(PyMonitor::new(obj)?),
            None => self.world.monitor(),
        };
        let operator: Option<Arc<dyn Operator>> = match operator {
            Some(obj) => Some(Arc::new(PyOperator::new(obj)?)),
            None => None,
        };
        let world = &self.world;
        let ports = (|| -> Result<DeployPorts> {
            Ok(DeployPorts {
                vcs: world.vcs(app)?,
                code_host: world.code_host(app)?,
                fleet: world.fleet(),
                logs: world.logs(),
                monitor,
                notifier,
                lock: world.lock(),
                clock: world.clock(),
                deploy_status: world.deploy_status(),
                operator,
            })
        })();
        Ok(ports.map(|ports| DeployBackend {
            ports,
            journal: self.journal.clone(),
        }))
    }

    fn backend_for(
        &self,
        app: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        match AppName::new(app) {
            Ok(app) => self.deploy_backend(&app, notifier, monitor, decide),
            Err(e) => Ok(Err(e)),
        }
    }

    fn backend_for_run(
        &self,
        run_id: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        let app = (|| -> Result<AppName> {
            let records = self.journal.load(&RunId::parse(run_id)?)?;
            Ok(deploykit_core::deploy::replay(&records)?.request.app.name)
        })();
        match app {
            Ok(app) => self.deploy_backend(&app, notifier, monitor, decide),
            Err(e) => Ok(Err(e)),
        }
    }

    fn cut_rc_request(
        patch: bool,
        source: Option<String>,
        dry_run: bool,
        working_dir: Option<PathBuf>,
    ) -> CutRcRequest {
        CutRcRequest {
            source,
            patch,
            dry_run,
            working_dir: working_dir
                .unwrap_or_else(|| std::env::temp_dir().join("deploykit-sandbox")),
            utc_offset_minutes: 0,
        }
    }
}

/// The app's built-in settings.
fn app_settings(app: &str) -> Result<(AppName, AppSettings)> {
    let app = AppName::new(app)?;
    let settings = AppSettings::builtin(&app).ok_or_else(|| {
        Error::not_found(format!("no settings for app {app}: expected idp or pki"))
            .with("app", &app)
    })?;
    Ok((app, settings))
}

/// The options of `deploy(...)` besides app and environment.
struct DeployOptions {
    kind: String,
    pr: Option<u64>,
    reason: Option<String>,
    cadence_override: Option<String>,
    no_migration_override: Option<String>,
    config_diff: Option<String>,
    yes: bool,
    run_by: String,
}

fn deploy_request(app: &str, env: &str, o: DeployOptions) -> Result<DeployRequest> {
    let (_, settings) = app_settings(app)?;
    let kind: DeployKind = o.kind.parse()?;
    Ok(DeployRequest {
        pr_number: o.pr,
        reason: o.reason,
        cadence_override: o.cadence_override,
        no_migration_override: o.no_migration_override,
        config_diff: o.config_diff,
        yes: o.yes,
        ..DeployRequest::new(EnvName::new(env)?, settings, kind, &o.run_by)
    })
}

fn rollback_request(
    app: &str,
    env: &str,
    reason: String,
    pr: Option<u64>,
    run_by: String,
) -> Result<RollbackRequest> {
    let (_, settings) = app_settings(app)?;
    Ok(RollbackRequest {
        env: EnvName::new(env)?,
        app: settings,
        reason,
        pr_number: pr,
        operator: run_by,
    })
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

async fn deploy_status(world: World, app: String, env: String) -> Result<PyDeployStatus> {
    let (app, env) = (AppName::new(app)?, EnvName::new(env)?);
    world
        .deploy_status()
        .deploy_status(&app, &env)
        .await
        .map(PyDeployStatus)
}

#[pymethods]
impl PyWorld {
    /// Login.gov on Tuesday 2026-11-24 15:00 UTC, ready for a release: `prod` and `staging`
    /// groups (`idp`, `worker`, `migration`, `pivcac`), repositories `idp` and `pki` with
    /// releases up to `RC 111` / `RC 40`, staging running `main`.
    #[staticmethod]
    fn login_gov() -> Self {
        PyWorld {
            world: World::login_gov(),
            journal: Arc::new(MemoryJournal::new()),
        }
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

    /// Makes the next `times` calls of `operation` (e.g. `fleet.set_capacity`, `vcs.push`,
    /// `code_host.create_release`, `notifier.announce`) fail with `fault`: `permanent`
    /// (BackendError), `throttle` (RateLimitedError) or `timeout` (DeployTimeoutError).
    #[pyo3(signature = (operation, fault = "permanent", times = 1))]
    fn inject_fault(&self, operation: &str, fault: &str, times: u32) -> PyResult<()> {
        let fault = fault_named(fault).map_err(to_py_err)?;
        self.world.faults().inject(operation, fault, times);
        Ok(())
    }

    /// The ids of this world's deploy runs, oldest first (`resume` takes one).
    fn runs(&self) -> PyResult<Vec<String>> {
        self.journal
            .runs()
            .map(|ids| ids.iter().map(|id| id.to_string()).collect())
            .map_err(to_py_err)
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

    // ------------------------------------------------------------- fleet

    /// The instances of `env` (all groups, or `role`'s with load-balancer state).
    #[pyo3(signature = (env, role = None))]
    fn servers(
        &self,
        py: Python<'_>,
        env: String,
        role: Option<String>,
    ) -> PyResult<Vec<PyServer>> {
        block_on(py, fleet::servers(self.fleet(), env, role))
    }

    /// `servers` as an awaitable.
    #[pyo3(signature = (env, role = None))]
    fn servers_async<'py>(
        &self,
        py: Python<'py>,
        env: String,
        role: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, fleet::servers(self.fleet(), env, role))
    }

    /// The size of `<env>-<role>`.
    fn group_size(&self, py: Python<'_>, env: String, role: String) -> PyResult<PyGroupSize> {
        block_on(py, fleet::group_size(self.fleet(), env, role))
    }

    /// `group_size` as an awaitable.
    fn group_size_async<'py>(
        &self,
        py: Python<'py>,
        env: String,
        role: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, fleet::group_size(self.fleet(), env, role))
    }

    /// Recycles `roles` (`idp`, ..., or `ALL`) in `env`: doubles the groups now (migration
    /// first) and schedules the spindown on the groups.
    #[pyo3(signature = (env, roles, *, skip_migration = false, proceed_if_in_progress = false, allow_zero = false, dry_run = false, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn recycle(
        &self,
        py: Python<'_>,
        env: &str,
        roles: &str,
        skip_migration: bool,
        proceed_if_in_progress: bool,
        allow_zero: bool,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyRecycleOutcome> {
        let request = fleet::recycle_request(
            env,
            roles,
            skip_migration,
            proceed_if_in_progress,
            allow_zero,
            dry_run,
        );
        block_on(
            py,
            fleet::recycle(self.fleet(), request, sink_for(on_event)),
        )
    }

    /// `recycle` as an awaitable.
    #[pyo3(signature = (env, roles, *, skip_migration = false, proceed_if_in_progress = false, allow_zero = false, dry_run = false, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn recycle_async<'py>(
        &self,
        py: Python<'py>,
        env: &str,
        roles: &str,
        skip_migration: bool,
        proceed_if_in_progress: bool,
        allow_zero: bool,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = fleet::recycle_request(
            env,
            roles,
            skip_migration,
            proceed_if_in_progress,
            allow_zero,
            dry_run,
        );
        awaitable(
            py,
            fleet::recycle(self.fleet(), request, sink_for(on_event)),
        )
    }

    /// Scales in `roles` of `env`: `mode="old"` removes the oldest instances (after a
    /// recycle), `"new"` the newest (rolling back).
    #[pyo3(signature = (env, roles, *, mode = "old", dry_run = false, on_event = None))]
    fn scale_in(
        &self,
        py: Python<'_>,
        env: &str,
        roles: &str,
        mode: &str,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyScaleInOutcome> {
        let request = fleet::scale_in_request(env, roles, mode, dry_run);
        block_on(
            py,
            fleet::scale_in(self.fleet(), request, sink_for(on_event)),
        )
    }

    /// `scale_in` as an awaitable.
    #[pyo3(signature = (env, roles, *, mode = "old", dry_run = false, on_event = None))]
    fn scale_in_async<'py>(
        &self,
        py: Python<'py>,
        env: &str,
        roles: &str,
        mode: &str,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = fleet::scale_in_request(env, roles, mode, dry_run);
        awaitable(
            py,
            fleet::scale_in(self.fleet(), request, sink_for(on_event)),
        )
    }

    /// Follows the migration log of the newest `<env>-migration` instance (launched at or
    /// after `launched_after`) until provisioning finishes or fails, calling
    /// `on_line(line)` for each line; waits on the virtual clock for it to appear.
    #[pyo3(signature = (env, *, launched_after = None, on_line = None, on_event = None))]
    fn migration_log(
        &self,
        py: Python<'_>,
        env: String,
        launched_after: Option<DateTime<Utc>>,
        on_line: Option<Py<PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyMigrationLog> {
        let (backend, logs) = (self.fleet(), self.world.logs());
        block_on(
            py,
            fleet::migration_log(
                backend,
                logs,
                env,
                launched_after,
                on_line,
                sink_for(on_event),
            ),
        )
    }

    /// `migration_log` as an awaitable.
    #[pyo3(signature = (env, *, launched_after = None, on_line = None, on_event = None))]
    fn migration_log_async<'py>(
        &self,
        py: Python<'py>,
        env: String,
        launched_after: Option<DateTime<Utc>>,
        on_line: Option<Py<PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (backend, logs) = (self.fleet(), self.world.logs());
        awaitable(
            py,
            fleet::migration_log(
                backend,
                logs,
                env,
                launched_after,
                on_line,
                sink_for(on_event),
            ),
        )
    }

    /// Per-SHA request figures of `role` in `env` over `[start, end)` from the world's
    /// monitor (traffic follows the fleet); `.render_table()` shows monitor-deploy's table.
    fn monitor_sample(
        &self,
        py: Python<'_>,
        env: &str,
        role: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> PyResult<PyMonitorSample> {
        let window = MetricsWindow { start, end };
        block_on(
            py,
            take_sample(self.world.monitor(), names(env, role), window),
        )
    }

    /// `monitor_sample` as an awaitable.
    fn monitor_sample_async<'py>(
        &self,
        py: Python<'py>,
        env: &str,
        role: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let window = MetricsWindow { start, end };
        awaitable(
            py,
            take_sample(self.world.monitor(), names(env, role), window),
        )
    }

    // ------------------------------------------------------------- status

    /// What `app` runs in `env` (its `/api/deploy.json`).
    fn deploy_status(&self, py: Python<'_>, app: String, env: String) -> PyResult<PyDeployStatus> {
        block_on(py, deploy_status(self.world.clone(), app, env))
    }

    /// `deploy_status` as an awaitable.
    fn deploy_status_async<'py>(
        &self,
        py: Python<'py>,
        app: String,
        env: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, deploy_status(self.world.clone(), app, env))
    }

    // ------------------------------------------------------------- release

    /// Cuts a release candidate of `app` from what staging runs (or `source`): RC branch,
    /// changelog, promotion PR. The changelog file goes under `working_dir` (default: a
    /// `deploykit-sandbox` folder in the system temp dir).
    #[pyo3(signature = (app, *, patch = false, source = None, dry_run = false, working_dir = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn cut_rc(
        &self,
        py: Python<'_>,
        app: &str,
        patch: bool,
        source: Option<String>,
        dry_run: bool,
        working_dir: Option<PathBuf>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyCutRcOutcome> {
        let request = Self::cut_rc_request(patch, source, dry_run, working_dir);
        block_on(
            py,
            release::cut_rc(self.release(app, None)?, request, sink_for(on_event)),
        )
    }

    /// `cut_rc` as an awaitable.
    #[pyo3(signature = (app, *, patch = false, source = None, dry_run = false, working_dir = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn cut_rc_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        patch: bool,
        source: Option<String>,
        dry_run: bool,
        working_dir: Option<PathBuf>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = Self::cut_rc_request(patch, source, dry_run, working_dir);
        awaitable(
            py,
            release::cut_rc(self.release(app, None)?, request, sink_for(on_event)),
        )
    }

    /// Merges `stages/prod` into the RC branch keeping the RC's tree, so the promotion PR
    /// merges cleanly. `rc_branch` defaults to the open promotion PR's.
    #[pyo3(signature = (app, *, rc_branch = None, force = false, dry_run = false, on_event = None))]
    fn true_up(
        &self,
        py: Python<'_>,
        app: &str,
        rc_branch: Option<String>,
        force: bool,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyTrueUpOutcome> {
        let request = TrueUpRequest {
            rc_branch,
            force,
            dry_run,
        };
        block_on(
            py,
            release::true_up(self.release(app, None)?, request, sink_for(on_event)),
        )
    }

    /// `true_up` as an awaitable.
    #[pyo3(signature = (app, *, rc_branch = None, force = false, dry_run = false, on_event = None))]
    fn true_up_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        rc_branch: Option<String>,
        force: bool,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = TrueUpRequest {
            rc_branch,
            force,
            dry_run,
        };
        awaitable(
            py,
            release::true_up(self.release(app, None)?, request, sink_for(on_event)),
        )
    }

    /// Announces the open promotion PR (or PR `pr`) of `app`, through `notifier` (any object
    /// with `announce(dict)`) or the world's own recording notifier.
    #[pyo3(signature = (app, *, pr = None, notifier = None, dry_run = false, on_event = None))]
    fn announce_pending(
        &self,
        py: Python<'_>,
        app: &str,
        pr: Option<u64>,
        notifier: Option<&Bound<'_, PyAny>>,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyAnnounceOutcome> {
        let request = AnnounceRequest { pr, dry_run };
        block_on(
            py,
            release::announce_pending(self.release(app, notifier)?, request, sink_for(on_event)),
        )
    }

    /// `announce_pending` as an awaitable.
    #[pyo3(signature = (app, *, pr = None, notifier = None, dry_run = false, on_event = None))]
    fn announce_pending_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        pr: Option<u64>,
        notifier: Option<&Bound<'py, PyAny>>,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = AnnounceRequest { pr, dry_run };
        awaitable(
            py,
            release::announce_pending(self.release(app, notifier)?, request, sink_for(on_event)),
        )
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

    /// Creates the release `RC <N>` of the merged promotion PR `pr` (number, `#123` or link).
    #[pyo3(signature = (app, pr, *, dry_run = false, on_event = None))]
    fn create_release(
        &self,
        py: Python<'_>,
        app: &str,
        pr: &Bound<'_, PyAny>,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyCreateReleaseOutcome> {
        block_on(
            py,
            release::create_release(
                self.release(app, None)?,
                pr_reference(pr),
                dry_run,
                sink_for(on_event),
            ),
        )
    }

    /// `create_release` as an awaitable.
    #[pyo3(signature = (app, pr, *, dry_run = false, on_event = None))]
    fn create_release_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        pr: &Bound<'py, PyAny>,
        dry_run: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable(
            py,
            release::create_release(
                self.release(app, None)?,
                pr_reference(pr),
                dry_run,
                sink_for(on_event),
            ),
        )
    }

    // ------------------------------------------------------------- deploy

    /// Runs the guided deploy of `app` to `env`: preflight (calendar, pre-checks, lock),
    /// merge the promotion PR `pr`, recycle with the migration gate, health and monitor
    /// gates, scale-in, release, announcements; rolls back on a failed gate. `notifier`,
    /// `monitor` and `decide` (asked when a gate cannot decide: `decide(request) -> "go" |
    /// "rollback" | None`) replace the world's own when given.
    #[pyo3(signature = (app, env, *, kind = "full", pr = None, reason = None, cadence_override = None, no_migration_override = None, config_diff = None, yes = false, run_by = "release-manager", notifier = None, monitor = None, decide = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn deploy(
        &self,
        py: Python<'_>,
        app: &str,
        env: &str,
        kind: &str,
        pr: Option<u64>,
        reason: Option<String>,
        cadence_override: Option<String>,
        no_migration_override: Option<String>,
        config_diff: Option<String>,
        yes: bool,
        run_by: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyDeployOutcome> {
        let options = DeployOptions {
            kind: kind.into(),
            pr,
            reason,
            cadence_override,
            no_migration_override,
            config_diff,
            yes,
            run_by: run_by.into(),
        };
        let request = deploy_request(app, env, options);
        let backend = self.backend_for(app, notifier, monitor, decide)?;
        block_on(py, run_deploy(backend, request, sink_for(on_event)))
    }

    /// `deploy` as an awaitable.
    #[pyo3(signature = (app, env, *, kind = "full", pr = None, reason = None, cadence_override = None, no_migration_override = None, config_diff = None, yes = false, run_by = "release-manager", notifier = None, monitor = None, decide = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn deploy_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        env: &str,
        kind: &str,
        pr: Option<u64>,
        reason: Option<String>,
        cadence_override: Option<String>,
        no_migration_override: Option<String>,
        config_diff: Option<String>,
        yes: bool,
        run_by: &str,
        notifier: Option<&Bound<'py, PyAny>>,
        monitor: Option<&Bound<'py, PyAny>>,
        decide: Option<&Bound<'py, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = DeployOptions {
            kind: kind.into(),
            pr,
            reason,
            cadence_override,
            no_migration_override,
            config_diff,
            yes,
            run_by: run_by.into(),
        };
        let request = deploy_request(app, env, options);
        let backend = self.backend_for(app, notifier, monitor, decide)?;
        awaitable(py, run_deploy(backend, request, sink_for(on_event)))
    }

    /// Resumes a paused or interrupted run of this world.
    #[pyo3(signature = (run_id, *, notifier = None, monitor = None, decide = None, on_event = None))]
    fn resume(
        &self,
        py: Python<'_>,
        run_id: String,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyDeployOutcome> {
        let backend = self.backend_for_run(&run_id, notifier, monitor, decide)?;
        block_on(py, run_resume(backend, run_id, sink_for(on_event)))
    }

    /// `resume` as an awaitable.
    #[pyo3(signature = (run_id, *, notifier = None, monitor = None, decide = None, on_event = None))]
    fn resume_async<'py>(
        &self,
        py: Python<'py>,
        run_id: String,
        notifier: Option<&Bound<'py, PyAny>>,
        monitor: Option<&Bound<'py, PyAny>>,
        decide: Option<&Bound<'py, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let backend = self.backend_for_run(&run_id, notifier, monitor, decide)?;
        awaitable(py, run_resume(backend, run_id, sink_for(on_event)))
    }

    /// Rolls back what was last recycled for `app` in `env` (scale in the new instances,
    /// open the revert PR of `pr` if code shipped), announcing `reason`.
    #[pyo3(signature = (app, env, reason, *, pr = None, run_by = "release-manager", notifier = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn rollback(
        &self,
        py: Python<'_>,
        app: &str,
        env: &str,
        reason: String,
        pr: Option<u64>,
        run_by: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<PyDeployOutcome> {
        let request = rollback_request(app, env, reason, pr, run_by.to_string());
        let backend = self.backend_for(app, notifier, None, None)?;
        block_on(py, run_rollback(backend, request, sink_for(on_event)))
    }

    /// `rollback` as an awaitable.
    #[pyo3(signature = (app, env, reason, *, pr = None, run_by = "release-manager", notifier = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn rollback_async<'py>(
        &self,
        py: Python<'py>,
        app: &str,
        env: &str,
        reason: String,
        pr: Option<u64>,
        run_by: &str,
        notifier: Option<&Bound<'py, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = rollback_request(app, env, reason, pr, run_by.to_string());
        let backend = self.backend_for(app, notifier, None, None)?;
        awaitable(py, run_rollback(backend, request, sink_for(on_event)))
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
