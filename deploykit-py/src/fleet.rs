//! The fleet operations (recycle, scale in, servers, group size) over any fleet backend, and
//! their typed results.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deploykit_core::fleet_ops::servers::ServerRow;
use deploykit_core::fleet_ops::{
    self, FleetContext, GroupRecycle, GroupScaleIn, GroupSize, InProgressPolicy,
    MigrationLogRequest, RecycleOutcome, RecycleRequest, ScaleInMode, ScaleInOutcome,
    ScaleInRequest,
};
use deploykit_core::ports::{Clock, DeployLock, Fleet};
use deploykit_core::{
    AppSettings, EnvName, Error, EventSink, GroupName, Result, RoleName, RoleSelector,
};
use pyo3::prelude::*;

use crate::call::PyCall;
use crate::convert;
use crate::model::PySha;
use crate::record::record_class;

/// The ports fleet operations need (the simulated world's, or AWS's).
#[derive(Debug, Clone)]
pub struct FleetBackend {
    /// The Auto Scaling groups.
    pub fleet: Arc<dyn Fleet>,
    /// Now and sleep.
    pub clock: Arc<dyn Clock>,
    /// The deploy locks: a recycle or scale-in is refused while a deploy holds one.
    pub lock: Arc<dyn DeployLock>,
    /// The apps, whose roles tell which deploy lock a change to a role concerns.
    pub apps: Vec<AppSettings>,
    /// The production environments: a deploy lock that cannot be read there refuses a
    /// recycle or scale-in (elsewhere it is a warning event).
    pub production: Vec<EnvName>,
}

impl FleetBackend {
    /// Refuses `what` (not a dry run) on `roles` of `env` while a deploy holds the lock of
    /// an app they touch, as the CLI does; a lock that cannot be read refuses it in
    /// production and is a warning event elsewhere.
    async fn refuse_while_deploying(
        &self,
        env: &EnvName,
        roles: &RoleSelector,
        what: &str,
        events: &dyn EventSink,
    ) -> Result<()> {
        let change = fleet_ops::HandChange {
            what,
            env,
            roles,
            asker: deploykit_core::Asker::Python,
            refuse_if_unreadable: self.production.contains(env),
        };
        fleet_ops::refuse_while_deploying(
            self.lock.as_ref(),
            self.clock.as_ref(),
            &self.apps,
            change,
            events,
        )
        .await
    }
}

/// A serde enum's name (`in_service`, `healthy`, ...).
pub fn enum_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn instance_ids(ids: &[deploykit_core::InstanceId]) -> Vec<String> {
    ids.iter().map(|i| i.to_string()).collect()
}

record_class!(
    /// The recycle of one group.
    PyGroupRecycle(GroupRecycle) as "GroupRecycle",
    repr = |r| format!(
        "GroupRecycle(group='{}', desired {} -> {}{}, spindown_at='{}')",
        r.group,
        r.scale_out_from(),
        r.new_desired,
        if r.already_scaled_out() {
            " (already scaled out: no new instances)"
        } else {
            ""
        },
        r.spindown_at.to_rfc3339()
    ),
    {
        /// The group, `<env>-<role>`.
        #[getter]
        fn group(&self) -> String {
            self.0.group.to_string()
        }
        /// The desired capacity the group returns to at spindown.
        #[getter]
        fn old_desired(&self) -> u32 {
            self.0.old.desired
        }
        /// The desired capacity while recycling.
        #[getter]
        fn new_desired(&self) -> u32 {
            self.0.new_desired
        }
        /// When the group scales out.
        #[getter]
        fn scale_out_at(&self) -> DateTime<Utc> {
            self.0.scale_out_at
        }
        /// When the group scales back to `old_desired`.
        #[getter]
        fn spindown_at(&self) -> DateTime<Utc> {
            self.0.spindown_at
        }
    }
);

record_class!(
    /// What a recycle did (or, in a dry run, would do).
    PyRecycleOutcome(RecycleOutcome) as "RecycleOutcome",
    repr = |r| format!(
        "RecycleOutcome(groups={:?}, migration={}, finishes_at='{}')",
        r.groups.iter().map(|g| g.group.to_string()).collect::<Vec<_>>(),
        if r.migration.is_some() { "True" } else { "False" },
        r.finishes_at.to_rfc3339()
    ),
    {
        /// The migration group's recycle, when migrations run.
        #[getter]
        fn migration(&self) -> Option<PyGroupRecycle> {
            self.0.migration.clone().map(PyGroupRecycle)
        }
        /// The app groups' recycles.
        #[getter]
        fn groups(&self) -> Vec<PyGroupRecycle> {
            self.0.groups.iter().cloned().map(PyGroupRecycle).collect()
        }
        /// When every group is back to its old desired capacity.
        #[getter]
        fn finishes_at(&self) -> DateTime<Utc> {
            self.0.finishes_at
        }
    }
);

record_class!(
    /// What scale-in does to one group.
    PyGroupScaleIn(GroupScaleIn) as "GroupScaleIn",
    repr = |r| format!(
        "GroupScaleIn(group='{}', removed={}, kept={})",
        r.group, r.removed.len(), r.kept.len()
    ),
    {
        /// The group, `<env>-<role>`.
        #[getter]
        fn group(&self) -> String {
            self.0.group.to_string()
        }
        /// Instances whose scale-in protection is removed (the group terminates them).
        #[getter]
        fn removed(&self) -> Vec<String> {
            instance_ids(&self.0.removed)
        }
        /// Instances kept, oldest first.
        #[getter]
        fn kept(&self) -> Vec<String> {
            instance_ids(&self.0.kept)
        }
    }
);

record_class!(
    /// What a scale-in did (or, in a dry run, would do).
    PyScaleInOutcome(ScaleInOutcome) as "ScaleInOutcome",
    repr = |r| format!(
        "ScaleInOutcome(removed={})",
        r.groups.iter().map(|g| g.removed.len()).sum::<usize>()
    ),
    {
        /// One entry per selected group.
        #[getter]
        fn groups(&self) -> Vec<PyGroupScaleIn> {
            self.0.groups.iter().cloned().map(PyGroupScaleIn).collect()
        }
    }
);

record_class!(
    /// One instance as ls-servers shows it.
    PyServer(ServerRow) as "Server",
    repr = |r| format!(
        "Server(group='{}', instance_id='{}', lifecycle='{}', sha={})",
        r.group,
        r.instance_id,
        enum_name(&r.lifecycle),
        r.deployed_sha.as_ref().map(|s| format!("'{}'", s.short())).unwrap_or_else(|| "None".into())
    ),
    {
        /// The group, `<env>-<role>`.
        #[getter]
        fn group(&self) -> String {
            self.0.group.to_string()
        }
        /// Instance id.
        #[getter]
        fn instance_id(&self) -> String {
            self.0.instance_id.to_string()
        }
        /// `Name` tag.
        #[getter]
        fn name(&self) -> &str {
            &self.0.name
        }
        /// Auto Scaling lifecycle state (`pending`, `in_service`, ...).
        #[getter]
        fn lifecycle(&self) -> String {
            enum_name(&self.0.lifecycle)
        }
        /// Auto Scaling health (`healthy`, `unhealthy`).
        #[getter]
        fn health(&self) -> String {
            enum_name(&self.0.health)
        }
        /// Whether it is protected from scale-in.
        #[getter]
        fn protected_from_scale_in(&self) -> bool {
            self.0.protected_from_scale_in
        }
        /// Load-balancer state, when a role was given.
        #[getter]
        fn lb_state(&self) -> Option<String> {
            self.0.lb_state.as_ref().map(enum_name)
        }
        /// When it was launched.
        #[getter]
        fn launch_time(&self) -> DateTime<Utc> {
            self.0.launch_time
        }
        /// Seconds since launch.
        #[getter]
        fn uptime_secs(&self) -> u64 {
            self.0.uptime_secs
        }
        /// The deployed SHA.
        #[getter]
        fn deployed_sha(&self) -> Option<PySha> {
            self.0.deployed_sha.clone().map(PySha)
        }
    }
);

record_class!(
    /// A group's min / desired / max, running instances and scheduled actions.
    PyGroupSize(GroupSize) as "GroupSize",
    repr = |r| format!(
        "GroupSize(group='{}', min={}, desired={}, max={}, running={})",
        r.group, r.capacity.min, r.capacity.desired, r.capacity.max, r.running
    ),
    {
        /// The group, `<env>-<role>`.
        #[getter]
        fn group(&self) -> String {
            self.0.group.to_string()
        }
        /// Minimum size.
        #[getter]
        fn min(&self) -> u32 {
            self.0.capacity.min
        }
        /// Desired capacity.
        #[getter]
        fn desired(&self) -> u32 {
            self.0.capacity.desired
        }
        /// Maximum size.
        #[getter]
        fn max(&self) -> u32 {
            self.0.capacity.max
        }
        /// Running instances (pending, in service or standby).
        #[getter]
        fn running(&self) -> u32 {
            self.0.running
        }
        /// Scheduled actions, earliest first, as dicts `{name, start_time, change}`.
        #[getter]
        fn scheduled_actions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::to_py(py, &self.0.scheduled_actions)
        }
        /// A recycle was stopped before this group scaled out: its spindown is scheduled, its
        /// scale-out is not (run the recycle again, proceeding over it, to finish it).
        #[getter]
        fn recycle_stopped(&self) -> bool {
            self.0.recycle_stopped
        }
        /// The text asg-size prints.
        fn render(&self) -> String {
            self.0.render()
        }
    }
);

/// Parses the arguments shared by the fleet operations.
pub fn env_and_roles(env: &str, roles: &str) -> Result<(EnvName, RoleSelector)> {
    Ok((EnvName::new(env)?, roles.parse()?))
}

/// The request of `recycle(...)`.
pub fn recycle_request(
    env: &str,
    roles: &str,
    skip_migration: bool,
    proceed_if_in_progress: bool,
    allow_zero: bool,
    dry_run: bool,
) -> Result<RecycleRequest> {
    let (env, roles) = env_and_roles(env, roles)?;
    Ok(RecycleRequest {
        skip_migration,
        if_in_progress: if proceed_if_in_progress {
            InProgressPolicy::Proceed
        } else {
            InProgressPolicy::Refuse
        },
        allow_zero,
        dry_run,
        ..RecycleRequest::new(env, roles)
    })
}

/// The request of `scale_in(...)`.
pub fn scale_in_request(
    env: &str,
    roles: &str,
    mode: &str,
    dry_run: bool,
) -> Result<ScaleInRequest> {
    let (env, roles) = env_and_roles(env, roles)?;
    let mode = match mode {
        "old" => ScaleInMode::Old,
        "new" => ScaleInMode::New,
        other => {
            return Err(Error::invalid_input(format!(
                "scale-in mode {other:?}: expected \"old\" (after a recycle) or \"new\" \
                 (rolling back)"
            )));
        }
    };
    Ok(ScaleInRequest {
        env,
        roles,
        mode,
        dry_run,
    })
}

/// Recycles groups.
pub async fn recycle(
    backend: FleetBackend,
    request: Result<RecycleRequest>,
    events: Arc<dyn EventSink>,
) -> Result<PyRecycleOutcome> {
    let request = request?;
    if !request.dry_run {
        backend
            .refuse_while_deploying(&request.env, &request.roles, "recycle", events.as_ref())
            .await?;
    }
    let ctx = FleetContext {
        fleet: backend.fleet.as_ref(),
        clock: backend.clock.as_ref(),
        events: events.as_ref(),
    };
    // Name the Python call that settles a recycle stopped part way, or one in progress.
    let proceed = |e: Error| match fleet_ops::recycle::proceed_hint_key(&e) {
        Some(key) => {
            let skip = if request.skip_migration {
                ", skip_migration=True"
            } else {
                ""
            };
            let call = format!(
                "recycle({:?}, {:?}{skip}, proceed_if_in_progress=True)",
                request.env.as_str(),
                request.roles.to_string()
            );
            e.with(key, call)
        }
        None => e,
    };
    fleet_ops::recycle(&ctx, &request)
        .await
        .map_err(proceed)
        .map(PyRecycleOutcome)
}

/// Scales in old or new instances of the groups a recycle of the role covers (`idp` with
/// `worker`), as `deploykit scale-in` does.
pub async fn scale_in(
    backend: FleetBackend,
    request: Result<ScaleInRequest>,
    events: Arc<dyn EventSink>,
) -> Result<PyScaleInOutcome> {
    let request = request?;
    if !request.dry_run {
        backend
            .refuse_while_deploying(&request.env, &request.roles, "scale-in", events.as_ref())
            .await?;
    }
    let ctx = FleetContext {
        fleet: backend.fleet.as_ref(),
        clock: backend.clock.as_ref(),
        events: events.as_ref(),
    };
    fleet_ops::scale_in_as_recycled(&ctx, &request)
        .await
        .map(PyScaleInOutcome)
}

/// Lists the instances of an environment, or of one role, with the load-balancer state of those behind one.
pub async fn servers(
    backend: FleetBackend,
    env: String,
    role: Option<String>,
) -> Result<Vec<PyServer>> {
    let env = EnvName::new(env)?;
    let role = role.map(RoleName::new).transpose()?;
    let events = deploykit_core::NullSink;
    let ctx = FleetContext {
        fleet: backend.fleet.as_ref(),
        clock: backend.clock.as_ref(),
        events: &events,
    };
    let rows = fleet_ops::servers::list_servers(&ctx, &env, role.as_ref()).await?;
    Ok(rows.into_iter().map(PyServer).collect())
}

/// Reads a group's size.
pub async fn group_size(backend: FleetBackend, env: String, role: String) -> Result<PyGroupSize> {
    let group = GroupName::new(&EnvName::new(env)?, &RoleName::new(role)?);
    let events = deploykit_core::NullSink;
    let ctx = FleetContext {
        fleet: backend.fleet.as_ref(),
        clock: backend.clock.as_ref(),
        events: &events,
    };
    fleet_ops::group_size(&ctx, &group).await.map(PyGroupSize)
}

/// Registers the result classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGroupRecycle>()?;
    m.add_class::<PyRecycleOutcome>()?;
    m.add_class::<PyGroupScaleIn>()?;
    m.add_class::<PyScaleInOutcome>()?;
    m.add_class::<PyServer>()?;
    m.add_class::<PyGroupSize>()?;
    m.add_class::<PyMigrationLog>()?;
    Ok(())
}

/// What following the migration log found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationLog {
    /// The migration instance read.
    pub instance: String,
    /// The lines read, in order.
    pub lines: Vec<String>,
    /// Judged as the deploy's migration gate judges it: `done` (provisioning finished and
    /// no migration error was seen), `failed` (a migration error, such as `rake aborted!`,
    /// even when provisioning went on to its final line, or a provisioning failure),
    /// `unfinished` (the instance stopped running before its log's final line).
    pub outcome: &'static str,
    /// The line that shows the failure, when `outcome` is `failed`.
    pub failure: Option<String>,
}

record_class!(
    /// What following the migration log found: the instance, its lines, and whether
    /// provisioning finished or failed.
    PyMigrationLog(MigrationLog) as "MigrationLog",
    repr = |r| format!(
        "MigrationLog(instance='{}', lines={}, outcome='{}')",
        r.instance,
        r.lines.len(),
        r.outcome
    ),
    {
        /// The migration instance read.
        #[getter]
        fn instance(&self) -> &str {
            &self.0.instance
        }
        /// The lines read, in order.
        #[getter]
        fn lines(&self) -> Vec<String> {
            self.0.lines.clone()
        }
        /// Judged as the deploy's migration gate judges it: `done` (provisioning finished,
        /// no migration error), `failed` (a migration error such as `rake aborted!`, even if
        /// provisioning went on to its final line, or a provisioning failure), or
        /// `unfinished` (the instance stopped running before its log's final line).
        #[getter]
        fn outcome(&self) -> &str {
            self.0.outcome
        }
        /// The line that shows the failure, when `outcome` is `failed`.
        #[getter]
        fn failure(&self) -> Option<String> {
            self.0.failure.clone()
        }
    }
);

/// What `migration_log` follows: the newest `<env>-migration` instance launched at or after
/// `launched_after`, for at most `timeout` seconds (the default 1800 when none; InvalidInput
/// unless it is a positive number).
pub fn migration_log_request(
    env: &str,
    launched_after: Option<DateTime<Utc>>,
    timeout: Option<f64>,
) -> Result<MigrationLogRequest> {
    let mut request = MigrationLogRequest {
        launched_after,
        ..MigrationLogRequest::new(EnvName::new(env)?)
    };
    if let Some(secs) = timeout {
        let timeout = std::time::Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "timeout={secs} is not a wait: give a positive number of seconds"
                ))
            })?;
        request = request.with_timeout(timeout);
    }
    Ok(request)
}

/// Follows the migration log of the newest `<env>-migration` instance (launched at or after
/// `launched_after`) until provisioning finishes or fails, calling `on_line(line)` for each.
pub async fn migration_log(
    backend: FleetBackend,
    logs: Result<Arc<dyn deploykit_core::ports::LogSource>>,
    request: Result<MigrationLogRequest>,
    on_line: Option<Py<PyAny>>,
    events: Arc<dyn EventSink>,
) -> Result<PyMigrationLog> {
    let logs = logs?;
    let request = request?;
    use std::ops::ControlFlow;

    use deploykit_core::deploy::migration_log::{MigrationLogReader, MigrationLogStatus};
    use deploykit_core::fleet_ops::migration_logs::tail_migration_log;

    let ctx = FleetContext {
        fleet: backend.fleet.as_ref(),
        clock: backend.clock.as_ref(),
        events: events.as_ref(),
    };
    let mut lines = Vec::new();
    let mut verdict = MigrationLogReader::default();
    let call = PyCall::current();
    let mut on_line_fn = |line: &str| {
        lines.push(line.to_string());
        verdict.feed([line]);
        if let Some(callback) = &on_line {
            call.attach(|py| {
                let line = pyo3::types::PyString::new(py, line).into_any();
                crate::callbacks::notify(callback.bind(py), Ok(line), "on_line");
            });
        }
        if verdict.ended() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let tail = tail_migration_log(&ctx, logs.as_ref(), &request, &mut on_line_fn).await?;
    let (outcome, failure) = match verdict.status() {
        MigrationLogStatus::ProvisioningFailed { line }
        | MigrationLogStatus::MigrationError { line } => ("failed", Some(line)),
        _ if tail.instance_gone.is_some() => ("unfinished", None),
        _ => ("done", None),
    };
    Ok(PyMigrationLog(MigrationLog {
        instance: tail.instance.to_string(),
        lines,
        outcome,
        failure,
    }))
}
