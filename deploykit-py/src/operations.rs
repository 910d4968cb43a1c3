//! `Operations`: every bound operation (fleet, release, deploy, cadence) over a set of ports,
//! the base class of `World` (the simulated ports) and `Backends` (the real ones). Each
//! operation exists once, here; the subclasses only say where their ports come from.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use deploykit_backends::ReleaseBackends;
use deploykit_core::Asker;
use deploykit_core::DeployKind;
use deploykit_core::changelog;
use deploykit_core::deploy::release_guard::unfinished_deploy_of;
use deploykit_core::deploy::run_list::list_runs;
use deploykit_core::deploy::{
    DeployPorts, DeployRequest, EnvSettings, Journal, Operator, RollbackRequest, RunId,
};
use deploykit_core::notify::{RedactionRules, redact_config_diff};
use deploykit_core::policy::cadence::CadencePolicy;
use deploykit_core::ports::{
    DeployLock, DeployStatusSource, LogSource, MetricsWindow, Monitor, Notifier,
};
use deploykit_core::release::{AnnounceRequest, CutRcRequest, PrReference, TrueUpRequest};
use deploykit_core::report::{DeployReport, render_markdown, render_svg};
use deploykit_core::{AppSettings, EnvName, Error, Result};
use pyo3::prelude::*;

use crate::args::{Arg, Last, Pr, Timeout};
use crate::cadence::PyCadenceDecision;
use crate::callbacks::checked_callback;
use crate::deploy::{
    DeployBackend, PyDeployOutcome, PyDeployPlan, run_deploy, run_plan, run_resume, run_rollback,
};
use crate::errors::to_py_err;
use crate::events::sink_for;
use crate::fleet::{
    self, FleetBackend, PyGroupSize, PyMigrationLog, PyRecycleOutcome, PyScaleInOutcome, PyServer,
};
use crate::lock::{self, PyLockRelease, PyLockStatus};
use crate::model::PyDeployStatus;
use crate::monitor_table::{PyMonitorTable, table_by_instance};
use crate::ports::monitor::{PyMonitor, PyMonitorSample, names, take_sample};
use crate::ports::notifier::PyNotifier;
use crate::ports::operator::PyOperator;
use crate::release::{
    self, PyAnnounceOutcome, PyChangelog, PyCreateReleaseOutcome, PyCutRcOutcome, PyTrueUpOutcome,
    ReleaseBackend,
};
use crate::runs::PyRunList;
use crate::runtime::sync_and_async;

/// Where a set of ports comes from: the simulated world or the real backends.
pub trait PortSet: Debug + Send + Sync {
    /// The settings of `app`, or a `NotFound` error naming the known apps.
    fn settings(&self, app: &str) -> Result<AppSettings>;
    /// The Auto Scaling groups and the clock.
    fn fleet(&self) -> FleetBackend;
    /// The migration logs of `env`.
    fn logs(&self, env: &EnvName) -> Arc<dyn LogSource>;
    /// Per-SHA figures.
    fn monitor(&self) -> Arc<dyn Monitor>;
    /// What an app runs where.
    fn deploy_status(&self, app: &AppSettings) -> Arc<dyn DeployStatusSource>;
    /// The release ports of `app` (its repository, code host, notifier).
    fn release(&self, app: &AppSettings) -> Result<ReleaseBackends>;
    /// Every port of a guided deploy of `app` to `env`.
    fn deploy(&self, app: &AppSettings, env: &EnvName) -> Result<DeployPorts>;
    /// The deploy engine's settings for `env` (gates, timeouts, monitor rules, calendar), as
    /// the CLI would use them with the same configuration.
    fn env_settings(&self, env: &EnvName) -> EnvSettings;
    /// `Ok` when the configuration knows environment `env`; otherwise InvalidInput naming
    /// the ones it knows (a typo must not read as a free lock).
    fn known_env(&self, env: &str) -> Result<()>;
    /// Where deploy runs are journaled.
    fn journal(&self) -> Arc<dyn Journal>;
    /// The deploy locks.
    fn lock(&self) -> Arc<dyn DeployLock>;
    /// The deploy calendar.
    fn cadence(&self) -> CadencePolicy;
    /// Where `cut_rc` writes the changelog file when not told.
    fn working_dir(&self) -> PathBuf;
    /// What a config recycle's diff hides before anything sees it (the configuration's
    /// rules and every secret it holds; the built-in rules for the simulated world).
    fn redaction_rules(&self) -> Result<RedactionRules>;
}

/// The operations shared by `World` and `Backends` (not constructed directly).
#[pyclass(module = "deploykit", name = "Operations", subclass, frozen)]
#[derive(Debug, Clone)]
pub struct PyOperations {
    ports: Arc<dyn PortSet>,
}

fn pr_reference(pr: &Bound<'_, PyAny>) -> Result<PrReference> {
    const EXPECTED: &str = "a pull request: its number (1 or more), \"#123\" or its GitHub link";
    if let Ok(number) = pr.extract::<u64>() {
        return format!("{number}").parse();
    }
    match pr.extract::<String>() {
        Ok(text) => text.parse(),
        Err(_) => Err(crate::args::invalid_input(
            &pr.as_borrowed(),
            "pr",
            EXPECTED,
        )),
    }
}

/// A Python notifier, when given.
fn py_notifier(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<dyn Notifier>>> {
    Ok(match obj {
        Some(obj) => Some(Arc::new(PyNotifier::new(obj)?)),
        None => None,
    })
}

impl PyOperations {
    /// Operations over `ports`.
    pub fn new(ports: Arc<dyn PortSet>) -> Self {
        PyOperations { ports }
    }

    fn fleet(&self) -> FleetBackend {
        self.ports.fleet()
    }

    fn logs(&self, env: &str) -> Result<Arc<dyn LogSource>> {
        Ok(self.ports.logs(&EnvName::new(env)?))
    }

    fn status_source(&self, app: &str) -> Result<Arc<dyn DeployStatusSource>> {
        Ok(self.ports.deploy_status(&self.ports.settings(app)?))
    }

    fn release(
        &self,
        app: &str,
        notifier: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<ReleaseBackend>> {
        let notifier = py_notifier(notifier)?;
        Ok((|| {
            let settings = self.ports.settings(app)?;
            let ports = self.ports.release(&settings)?;
            Ok(ReleaseBackend {
                vcs: ports.vcs,
                code_host: ports.code_host,
                deploy_status: ports.deploy_status,
                notifier: notifier.unwrap_or(ports.notifier),
                clock: ports.clock,
                settings,
            })
        })())
    }

    /// The deploy ports of `app` in `env`, with Python replacements for the notifier, the
    /// monitor and the operator when given.
    fn deploy_backend(
        &self,
        app: Result<(AppSettings, EnvName)>,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        operator: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        let notifier = py_notifier(notifier)?;
        let monitor: Option<Arc<dyn Monitor>> = match monitor {
            Some(obj) => Some(Arc::new(PyMonitor::new(obj)?)),
            None => None,
        };
        let operator: Option<Arc<dyn Operator>> = match operator {
            Some(obj) => Some(Arc::new(PyOperator::new(obj)?)),
            None => None,
        };
        Ok((|| {
            let (settings, env) = app?;
            let mut ports = self.ports.deploy(&settings, &env)?;
            if let Some(notifier) = notifier {
                ports.notifier = notifier;
            }
            if let Some(monitor) = monitor {
                ports.monitor = monitor;
            }
            ports.operator = operator;
            Ok(DeployBackend {
                ports,
                settings: self.ports.env_settings(&env),
                journal: self.ports.journal(),
            })
        })())
    }

    /// The settings of `app` for a deploy or rollback to `env`: an environment the
    /// configuration does not know is refused first, as the CLI refuses it (`unknown
    /// environment prdo: did you mean prod? ...`), before anything reads it as a
    /// non-production one.
    fn settings_in(&self, app: &str, env: &str) -> Result<AppSettings> {
        self.ports.known_env(env)?;
        self.ports.settings(app)
    }

    fn backend_for(
        &self,
        app: &str,
        env: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        let target = (|| Ok((self.settings_in(app, env)?, EnvName::new(env)?)))();
        self.deploy_backend(target, notifier, monitor, decide)
    }

    fn backend_for_run(
        &self,
        run_id: &str,
        notifier: Option<&Bound<'_, PyAny>>,
        monitor: Option<&Bound<'_, PyAny>>,
        decide: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Result<DeployBackend>> {
        let target = (|| {
            let records = self.ports.journal().load(&RunId::parse(run_id)?)?;
            let request = deploykit_core::deploy::replay(&records)?.request;
            Ok((request.app, request.env))
        })();
        self.deploy_backend(target, notifier, monitor, decide)
    }

    /// The report of run `run_id`, from this set's journal.
    fn run_report(&self, run_id: &str) -> Result<DeployReport> {
        let records = self.ports.journal().load(&RunId::parse(run_id)?)?;
        DeployReport::from_records(&records)
    }

    fn cut_rc_request(
        &self,
        patch: bool,
        source: Option<String>,
        dry_run: bool,
        working_dir: Option<PathBuf>,
    ) -> CutRcRequest {
        CutRcRequest {
            source,
            patch,
            dry_run,
            working_dir: working_dir.unwrap_or_else(|| self.ports.working_dir()),
            utc_offset_minutes: 0,
        }
    }

    fn changelog_inputs(&self, app: &str) -> Result<(ReleaseBackends, String)> {
        let settings = self.ports.settings(app)?;
        Ok((self.ports.release(&settings)?, settings.repository))
    }
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

fn deploy_request(
    settings: Result<AppSettings>,
    env: &str,
    o: DeployOptions,
    redaction: impl FnOnce() -> Result<RedactionRules>,
) -> Result<DeployRequest> {
    let settings = settings?;
    let kind: DeployKind = o.kind.parse()?;
    // Redacted before anything sees it (the announcement, the journal, events), as the
    // CLI's `--config-diff` is.
    let config_diff = match o.config_diff {
        Some(_) if kind != DeployKind::ConfigRecycle => {
            return Err(Error::invalid_input(format!(
                "config_diff is announced by config recycles only, but this is {} \
                 deploy: pass kind=\"config-recycle\" or leave config_diff out",
                kind.with_article()
            )));
        }
        Some(diff) => Some(redact_config_diff(diff.trim_end(), &redaction()?)),
        None => None,
    };
    Ok(DeployRequest {
        pr_number: o.pr,
        reason: o.reason,
        cadence_override: o.cadence_override,
        no_migration_override: o.no_migration_override,
        config_diff,
        yes: o.yes,
        ..DeployRequest::new(EnvName::new(env)?, settings, kind, &o.run_by)
    })
}

fn rollback_request(
    settings: Result<AppSettings>,
    env: &str,
    reason: String,
    pr: Option<u64>,
    run_by: String,
) -> Result<RollbackRequest> {
    Ok(RollbackRequest {
        env: EnvName::new(env)?,
        app: settings?,
        reason,
        pr_number: pr,
        operator: run_by,
    })
}

async fn deploy_status(
    source: Result<Arc<dyn DeployStatusSource>>,
    app: String,
    env: String,
) -> Result<PyDeployStatus> {
    let (app, env) = (deploykit_core::AppName::new(app)?, EnvName::new(env)?);
    source?.deploy_status(&app, &env).await.map(PyDeployStatus)
}

async fn changelog(
    inputs: Result<(ReleaseBackends, String)>,
    base: String,
    source: String,
) -> Result<PyChangelog> {
    let (ports, repository) = inputs?;
    let commits = ports.vcs.commits_between(&base, &source).await?;
    changelog::build_changelog(&commits, &repository).map(PyChangelog)
}

sync_and_async! {
    impl PyOperations {
        plain {
            /// The ids of the deploy runs in this set's journal, oldest first (`resume` takes
            /// one).
            fn runs(&self) -> PyResult<Vec<String>> {
                self.ports
                    .journal()
                    .runs()
                    .map(|ids| ids.iter().map(|id| id.to_string()).collect())
                    .map_err(to_py_err)
            }

            /// The runs of this set's journal a line each, oldest first (the newest `last`;
            /// all by default): where each stands and the step `resume` runs next.
            #[pyo3(signature = (last = None))]
            fn run_list(&self, last: Option<Arg<i64, Last>>) -> PyResult<PyRunList> {
                let last = last
                    .map(Arg::into_inner)
                    .map(|n| {
                        usize::try_from(n).map_err(|_| {
                            Error::invalid_input(format!(
                                "last={n}: give how many of the newest runs to list (0 or more), \
                                 or leave it out for all"
                            ))
                        })
                    })
                    .transpose()
                    .map_err(to_py_err)?;
                list_runs(self.ports.journal().as_ref(), last)
                    .map(PyRunList)
                    .map_err(to_py_err)
            }

            /// The report of run `run_id` of this set's journal as Markdown, rebuilt from the
            /// journal as `deploykit report RUN_ID` rebuilds it: the outcome, the steps with
            /// their times, the gate verdicts and the per-SHA figures the monitor gate saw.
            /// Any run has one, finished or not (an unfinished one says where it stopped).
            fn report(&self, run_id: &str) -> PyResult<String> {
                self.run_report(run_id)
                    .map(|report| render_markdown(&report, None))
                    .map_err(to_py_err)
            }

            /// The chart of run `run_id`'s report as an SVG document (the per-SHA 5xx and
            /// request rates with the gate decisions marked), as `deploykit report` keeps it
            /// beside the Markdown.
            fn report_svg(&self, run_id: &str) -> PyResult<String> {
                self.run_report(run_id)
                    .map(|report| render_svg(&report))
                    .map_err(to_py_err)
            }

            // --------------------------------------------------------- cadence

            /// The deploy calendar in force (the configuration's `[cadence]`).
            #[getter]
            fn cadence_policy(&self) -> crate::cadence::PyCadencePolicy {
                crate::cadence::PyCadencePolicy(self.ports.cadence())
            }

            /// Whether a deploy of `kind` may go on `date` (default: today, by this set's clock)
            /// under the calendar in force; `reason` is required for patch and off-cycle deploys.
            #[pyo3(signature = (kind = "full", *, date = None, reason = None))]
            fn cadence_check(
                &self,
                kind: &str,
                date: Option<NaiveDate>,
                reason: Option<&str>,
            ) -> PyResult<PyCadenceDecision> {
                let kind: DeployKind = kind.parse().map_err(to_py_err)?;
                let date = date.unwrap_or_else(|| self.fleet().clock.now().date_naive());
                Ok(PyCadenceDecision(
                    self.ports.cadence().check(date, kind, reason),
                ))
            }
        }

        // ------------------------------------------------------------- changelog

        /// The changelog of `app`'s commits in `base..source` (git revisions of its repository),
        /// with PR links into the app's GitHub repository.
        fn changelog / changelog_async(
            &self,
            py,
            app: &str,
            base: String,
            source: String,
        ) -> PyChangelog {
            changelog(self.changelog_inputs(app), base, source)
        }

        // ------------------------------------------------------------- fleet

        /// The instances of `env` (all groups, or `role`'s with load-balancer state).
        #[pyo3(signature = (env, role = None))]
        fn servers / servers_async(
            &self,
            py,
            env: String,
            role: Option<String>,
        ) -> Vec<PyServer> {
            fleet::servers(self.fleet(), env, role)
        }

        /// The size of `<env>-<role>`.
        fn group_size / group_size_async(&self, py, env: String, role: String) -> PyGroupSize {
            fleet::group_size(self.fleet(), env, role)
        }

        /// Recycles `roles` (`idp`, ..., or `ALL`) in `env`: doubles the groups now (migration
        /// first) and schedules the spindown on the groups. Refused (`UnsafeError`) while a
        /// deploy run holds the deploy lock of an app whose groups it touches, or when a group
        /// runs more instances than its desired capacity.
        #[pyo3(signature = (env, roles, *, skip_migration = false, proceed_if_in_progress = false, allow_zero = false, dry_run = false, on_event = None))]
        #[allow(clippy::too_many_arguments)]
        fn recycle / recycle_async(
            &self,
            py,
            env: &str,
            roles: &str,
            skip_migration: bool,
            proceed_if_in_progress: bool,
            allow_zero: bool,
            dry_run: bool,
            on_event: Option<Py<PyAny>>,
        ) -> PyRecycleOutcome {
            let request = fleet::recycle_request(
                env,
                roles,
                skip_migration,
                proceed_if_in_progress,
                allow_zero,
                dry_run,
            );
            fleet::recycle(self.fleet(), request, sink_for(on_event)?)
        }

        /// Scales in `roles` of `env`: `mode="old"` removes the oldest instances (after a
        /// recycle), `"new"` the newest (rolling back). Refused (`UnsafeError`) while a deploy
        /// run holds the deploy lock of an app whose groups it touches.
        #[pyo3(signature = (env, roles, *, mode = "old", dry_run = false, on_event = None))]
        fn scale_in / scale_in_async(
            &self,
            py,
            env: &str,
            roles: &str,
            mode: &str,
            dry_run: bool,
            on_event: Option<Py<PyAny>>,
        ) -> PyScaleInOutcome {
            let request = fleet::scale_in_request(env, roles, mode, dry_run);
            fleet::scale_in(self.fleet(), request, sink_for(on_event)?)
        }

        /// Follows the migration log of the newest `<env>-migration` instance (launched at or
        /// after `launched_after`) until provisioning finishes or fails, calling
        /// `on_line(line)` for each line; waits (on the set's clock) for it to appear.
        /// `timeout` (seconds, default 1800) bounds the whole wait, as `deploykit migration
        /// logs --timeout` does (DeployTimeoutError when it runs out).
        #[pyo3(signature = (env, *, launched_after = None, timeout = None, on_line = None, on_event = None))]
        fn migration_log / migration_log_async(
            &self,
            py,
            env: String,
            launched_after: Option<DateTime<Utc>>,
            timeout: Option<Arg<f64, Timeout>>,
            on_line: Option<Py<PyAny>>,
            on_event: Option<Py<PyAny>>,
        ) -> PyMigrationLog {
            let on_line = checked_callback(on_line, "on_line", "each log line as a str")?;
            let (backend, logs) = (self.fleet(), self.logs(&env));
            let timeout = timeout.map(Arg::into_inner);
            let request = fleet::migration_log_request(&env, launched_after, timeout);
            fleet::migration_log(backend, logs, request, on_line, sink_for(on_event)?)
        }

        /// Per-SHA request figures of `role` in `env` over `[start, end)` from the
        /// set's monitor; `.render_table()` shows monitor-deploy's table.
        fn monitor_sample / monitor_sample_async(
            &self,
            py,
            env: &str,
            role: &str,
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        ) -> PyMonitorSample {
            let window = MetricsWindow { start, end };
            take_sample(self.ports.monitor(), names(env, role), window)
        }

        /// monitor-deploy's table of `role` in `env` over `[start, end)`, split during a
        /// recycle between the instances it is replacing and the ones it launched (what the
        /// monitor gate compares in a config recycle); per SHA, with a `note` saying why,
        /// when no recycle has left old instances or the monitor cannot tell instances apart.
        fn monitor_by_instance / monitor_by_instance_async(
            &self,
            py,
            env: &str,
            role: &str,
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        ) -> PyMonitorTable {
            let window = MetricsWindow { start, end };
            table_by_instance(
                self.fleet().fleet,
                self.ports.monitor(),
                names(env, role),
                window,
            )
        }

        // ------------------------------------------------------------- status

        /// What `app` runs in `env` (its `/api/deploy.json`).
        fn deploy_status / deploy_status_async(
            &self,
            py,
            app: String,
            env: String,
        ) -> PyDeployStatus {
            deploy_status(self.status_source(&app), app, env)
        }

        // ------------------------------------------------------------- release

        /// Cuts a release candidate of `app` from what staging runs (or `source`): RC branch,
        /// changelog, promotion PR. The changelog file goes under `working_dir` (default: a
        /// `World`'s own temporary folder, removed with it; the `Backends`' `repo_dir`).
        #[pyo3(signature = (app, *, patch = false, source = None, dry_run = false, working_dir = None, on_event = None))]
        #[allow(clippy::too_many_arguments)]
        fn cut_rc / cut_rc_async(
            &self,
            py,
            app: &str,
            patch: bool,
            source: Option<String>,
            dry_run: bool,
            working_dir: Option<PathBuf>,
            on_event: Option<Py<PyAny>>,
        ) -> PyCutRcOutcome {
            let request = self.cut_rc_request(patch, source, dry_run, working_dir);
            release::cut_rc(self.release(app, None)?, request, sink_for(on_event)?)
        }

        /// Merges `stages/prod` into the RC branch keeping the RC's tree, so the promotion PR
        /// merges cleanly. `rc_branch` defaults to the open promotion PR's.
        #[pyo3(signature = (app, *, rc_branch = None, force = false, dry_run = false, on_event = None))]
        fn true_up / true_up_async(
            &self,
            py,
            app: &str,
            rc_branch: Option<String>,
            force: bool,
            dry_run: bool,
            on_event: Option<Py<PyAny>>,
        ) -> PyTrueUpOutcome {
            let request = TrueUpRequest {
                rc_branch,
                force,
                dry_run,
            };
            release::true_up(self.release(app, None)?, request, sink_for(on_event)?)
        }

        /// Announces the open promotion PR (or PR `pr`) of `app`, through `notifier` (any object
        /// with `announce(dict)`) or the set's own notifier.
        #[pyo3(signature = (app, *, pr = None, notifier = None, dry_run = false, on_event = None))]
        fn announce_pending / announce_pending_async(
            &self,
            py,
            app: &str,
            pr: Option<Arg<u64, Pr>>,
            notifier: Option<&Bound<'_, PyAny>>,
            dry_run: bool,
            on_event: Option<Py<PyAny>>,
        ) -> PyAnnounceOutcome {
            let request = AnnounceRequest {
                pr: pr.map(Arg::into_inner),
                dry_run,
            };
            let backend = self.release(app, notifier)?;
            release::announce_pending(backend, request, sink_for(on_event)?)
        }

        /// Creates the release `RC <N>` of the merged promotion PR `pr` (number, `#123` or link).
        /// Refused (`PolicyRefusedError`) while a deploy run of that PR in the journal has not
        /// finished (waiting for the smoke tests' answer, stopped part way, or rolling it
        /// back), naming the run; `force=True` releases anyway, and the run keeps that release.
        #[pyo3(signature = (app, pr, *, dry_run = false, force = false, on_event = None))]
        fn create_release / create_release_async(
            &self,
            py,
            app: &str,
            pr: &Bound<'_, PyAny>,
            dry_run: bool,
            force: bool,
            on_event: Option<Py<PyAny>>,
        ) -> PyCreateReleaseOutcome {
            let pr = pr_reference(pr);
            let backend = self.release(app, None)?.and_then(|b| match &pr {
                Ok(r) if !force => {
                    let journal = self.ports.journal();
                    match unfinished_deploy_of(journal.as_ref(), &b.settings.name, r.number)? {
                        Some(run) => Err(run.refusal(Asker::Python)),
                        None => Ok(b),
                    }
                }
                _ => Ok(b),
            });
            release::create_release(backend, pr, dry_run, sink_for(on_event)?)
        }

        // ------------------------------------------------------------- deploy

        /// What `deploy` would do now, changing nothing (as `deploykit deploy --dry-run`):
        /// the steps with the operations they would call, the recycle's capacities and times,
        /// and `blockers`, what would stop it now (the calendar, the PR, the lock, a recycle in
        /// progress or extra instances). The arguments are `deploy`'s; without `pr` the plan
        /// is of the open PR `deploy` would take, and none open is a blocker.
        #[pyo3(signature = (app, env, *, kind = "full", pr = None, reason = None, cadence_override = None, no_migration_override = None, config_diff = None))]
        #[allow(clippy::too_many_arguments)]
        fn plan_deploy / plan_deploy_async(
            &self,
            py,
            app: &str,
            env: &str,
            kind: &str,
            pr: Option<Arg<u64, Pr>>,
            reason: Option<String>,
            cadence_override: Option<String>,
            no_migration_override: Option<String>,
            config_diff: Option<String>,
        ) -> PyDeployPlan {
            let options = DeployOptions {
                kind: kind.into(),
                pr: pr.map(Arg::into_inner),
                reason,
                cadence_override,
                no_migration_override,
                config_diff,
                yes: false,
                run_by: "release-manager".into(),
            };
            let request = deploy_request(self.settings_in(app, env), env, options, || {
                self.ports.redaction_rules()
            });
            let backend = self.backend_for(app, env, None, None, None)?;
            run_plan(backend, request)
        }

        /// Runs the guided deploy of `app` to `env`: preflight (calendar, pre-checks, lock),
        /// merge the promotion PR `pr`, recycle with the migration gate, health and monitor
        /// gates, scale-in, the smoke tests' confirmation, release, announcements; rolls back
        /// on a failed gate. `kind="revert"` ships a rollback's `Revert RC <N>` PR (`pr`) on
        /// any day and creates no release. `pr` defaults to the open PR, as `deploykit deploy`
        /// without `--pr`: the open promotion PR of the newest RC (full, patch and off-cycle
        /// deploys), the open `Revert RC <N>` PR (a revert; several open must be told apart
        /// with `pr`); none open is a NotFoundError. Recycles ship no PR.
        /// `notifier`, `monitor` and `decide` replace the set's own when
        /// given. `decide(request) -> "go" | "rollback" | None` is asked when the monitor gate
        /// cannot decide, and whether the smoke tests passed (`request["gate"] ==
        /// "smoke_tests"`, the checks in `request["checks"]`; "go": they passed). Without
        /// `decide` the run pauses at such a question (`resume` asks again). `yes=True`
        /// asks nobody: an inconclusive verdict follows the environment's policy (production
        /// rolls back) and the release is created with the smoke tests unconfirmed (the
        /// outcome's `notes` say so). `config_diff` (config recycles) is redacted before
        /// anything sees it.
        /// Ports and `on_event` are plain functions (an `async def` is refused with
        /// InvalidInputError), called on a worker thread. A port raising `TimeoutError` or
        /// `ConnectionError` is retried as the built-in ports are on a timeout; a
        /// `DeployKitError` keeps its kind and `retryable`; any other exception is a
        /// permanent BackendError.
        #[pyo3(signature = (app, env, *, kind = "full", pr = None, reason = None, cadence_override = None, no_migration_override = None, config_diff = None, yes = false, run_by = "release-manager", notifier = None, monitor = None, decide = None, on_event = None))]
        #[allow(clippy::too_many_arguments)]
        fn deploy / deploy_async(
            &self,
            py,
            app: &str,
            env: &str,
            kind: &str,
            pr: Option<Arg<u64, Pr>>,
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
        ) -> PyDeployOutcome {
            let options = DeployOptions {
                kind: kind.into(),
                pr: pr.map(Arg::into_inner),
                reason,
                cadence_override,
                no_migration_override,
                config_diff,
                yes,
                run_by: run_by.into(),
            };
            let request = deploy_request(self.settings_in(app, env), env, options, || {
                self.ports.redaction_rules()
            });
            let backend = self.backend_for(app, env, notifier, monitor, decide)?;
            run_deploy(backend, request, sink_for(on_event)?)
        }

        /// Who holds the deploy lock of `app` in `env`, since when and until when, and the
        /// run that took it (as `deploykit lock show`).
        fn lock_status / lock_status_async(&self, py, env: String, app: &str) -> PyLockStatus {
            let app = self
                .ports
                .known_env(&env)
                .and_then(|()| self.ports.settings(app))
                .map(|s| s.name);
            lock::lock_status(self.ports.lock(), self.fleet().clock, env, app)
        }

        /// Releases the deploy lock of `app` in `env` when `holder` names its holder (its run
        /// id, or the owner text of a lock taken outside a run): for a run that will not be
        /// resumed. A lock held by anyone else is left alone (ConflictError naming the holder);
        /// a free lock is a NotFoundError. Returns a `LockRelease`: the holder released
        /// (`owner`, `run`, `acquired_at`) and the lock now (`free`, `status`).
        fn release_lock / release_lock_async(
            &self,
            py,
            env: String,
            app: &str,
            holder: String,
        ) -> PyLockRelease {
            let app = self
                .ports
                .known_env(&env)
                .and_then(|()| self.ports.settings(app))
                .map(|s| s.name);
            lock::release_lock(self.ports.lock(), self.fleet().clock, env, app, holder)
        }

        /// Resumes a paused or interrupted run of this set's journal.
        #[pyo3(signature = (run_id, *, notifier = None, monitor = None, decide = None, on_event = None))]
        fn resume / resume_async(
            &self,
            py,
            run_id: String,
            notifier: Option<&Bound<'_, PyAny>>,
            monitor: Option<&Bound<'_, PyAny>>,
            decide: Option<&Bound<'_, PyAny>>,
            on_event: Option<Py<PyAny>>,
        ) -> PyDeployOutcome {
            let backend = self.backend_for_run(&run_id, notifier, monitor, decide)?;
            run_resume(backend, run_id, sink_for(on_event)?)
        }

        /// Rolls back what was last recycled for `app` in `env` (scale in the new instances,
        /// open the revert PR of `pr` if code shipped), announcing `reason`.
        #[pyo3(signature = (app, env, reason, *, pr = None, run_by = "release-manager", notifier = None, on_event = None))]
        #[allow(clippy::too_many_arguments)]
        fn rollback / rollback_async(
            &self,
            py,
            app: &str,
            env: &str,
            reason: String,
            pr: Option<Arg<u64, Pr>>,
            run_by: &str,
            notifier: Option<&Bound<'_, PyAny>>,
            on_event: Option<Py<PyAny>>,
        ) -> PyDeployOutcome {
            let request = rollback_request(
                self.settings_in(app, env),
                env,
                reason,
                pr.map(Arg::into_inner),
                run_by.to_string(),
            );
            let backend = self.backend_for(app, env, notifier, None, None)?;
            run_rollback(backend, request, sink_for(on_event)?)
        }
    }
}

/// Registers `Operations`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOperations>()?;
    Ok(())
}
