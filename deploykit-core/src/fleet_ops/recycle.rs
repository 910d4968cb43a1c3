//! Recycle (cloudlib's `asg-recycle`): double a group's instances, and let the group itself
//! scale back to the old desired capacity after the spindown delay.
//!
//! The rules, as cloudlib applies them:
//! - roles `idp`, `worker`, `migration` and `analytics` need migrations: unless they are
//!   skipped, `<env>-migration` is first recycled to 1 instance (and back to 0 at its own
//!   spindown), and the apps' scale-out is delayed by [`MIGRATION_HEAD_START_SECS`] so the
//!   migration runs first;
//! - the `idp` role also recycles `<env>-worker`; `ALL` recycles every group that
//!   [`Group::skipped_by_all`] does not skip;
//! - spindown delay = max(2 x health check grace period, [`MIN_SPINDOWN_SECS`]) + spinup
//!   delay (900 s for idp with migrations, 600 s without, at the default 300 s grace);
//! - new desired = 2 x desired (Unsafe above max; InvalidInput at 0 unless allowed);
//! - scale out now, or later with the scheduled action [`DELAYED_SCALE_OUT_ACTION`], and
//!   always schedule [`RECYCLE_ACTION`] at now + spindown back to the old desired. The timers
//!   live on the group, so the recycle completes even if deploykit stops.
//!
//! One improvement over cloudlib: when going on over a recycle in progress
//! ([`InProgressPolicy::Proceed`]), the baseline is the desired capacity that recycle returns
//! to, not the already doubled current one, so the group is not left at 4x.
//!
//! Another: the spindown is scheduled *before* the scale-out (cloudlib schedules it after).
//! Stopped between the two, cloudlib would leave a doubled group with no spindown, and running
//! it again would double the group again, for good. Here the group is found with its baseline
//! recorded and no scale-out ([`stopped_before_scale_out`]), and running the recycle again over
//! it finishes the job.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, ErrorKind, Result};
use crate::fleet_ops::prechecks::check_group;
use crate::fleet_ops::{FleetContext, env_groups, show_time};
use crate::model::fleet::{
    Capacity, CapacityChange, DELAYED_SCALE_OUT_ACTION, Group, GroupName, RECYCLE_ACTION,
    ScheduledAction,
};
use crate::model::names::{EnvName, RoleName, RoleSelector};

/// Roles whose recycle runs the migration group first (unless migrations are skipped).
pub const MIGRATING_ROLES: [&str; 4] = ["idp", "worker", "migration", "analytics"];
/// How long the apps' scale-out waits for the migration instance (seconds).
pub const MIGRATION_HEAD_START_SECS: u64 = 300;
/// The shortest spindown delay before any spinup delay (seconds).
pub const MIN_SPINDOWN_SECS: u64 = 600;

/// What to do when a group already has a recycle in progress ([`RECYCLE_ACTION`] exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InProgressPolicy {
    /// Refuse with Conflict (the default).
    #[default]
    Refuse,
    /// Go on: the scheduled actions are replaced.
    Proceed,
}

/// A request to recycle groups of an environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecycleRequest {
    /// The environment.
    pub env: EnvName,
    /// One role (`idp` also recycles `worker`) or `ALL`.
    pub roles: RoleSelector,
    /// Recycle without the migration instance (the guide's no-migration recycle).
    pub skip_migration: bool,
    /// What to do over a recycle in progress.
    pub if_in_progress: InProgressPolicy,
    /// Accept a named group whose desired capacity is 0 (nothing is changed on it).
    pub allow_zero: bool,
    /// Plan and report, change nothing.
    pub dry_run: bool,
}

impl RecycleRequest {
    /// A request with the defaults: migrations run, refuse over a recycle in progress,
    /// refuse empty groups, not a dry run.
    pub fn new(env: EnvName, roles: RoleSelector) -> Self {
        RecycleRequest {
            env,
            roles,
            skip_migration: false,
            if_in_progress: InProgressPolicy::Refuse,
            allow_zero: false,
            dry_run: false,
        }
    }
}

/// The recycle of one group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupRecycle {
    /// The group.
    pub group: GroupName,
    /// The capacity the group returns to at spindown: its current capacity, except that over
    /// a recycle in progress the desired is the one that recycle returns to.
    pub old: Capacity,
    /// The desired capacity while recycling (2 x old; 1 for the migration group).
    pub new_desired: u32,
    /// The group's desired capacity when the recycle was planned; `None` when not known (a
    /// recycle read back from the fleet, or recorded before this was kept). Over a recycle in
    /// progress that already scaled out it is `new_desired` already: see
    /// [`GroupRecycle::already_scaled_out`].
    #[serde(default)]
    pub desired_before: Option<u32>,
    /// When the group scales out (now, or after the migration head start).
    pub scale_out_at: DateTime<Utc>,
    /// When [`RECYCLE_ACTION`] scales the group back to `old.desired`.
    pub spindown_at: DateTime<Utc>,
}

impl GroupRecycle {
    /// Whether the scale-out waits (a [`DELAYED_SCALE_OUT_ACTION`]) rather than happening at
    /// `now`.
    pub fn is_delayed(&self, now: DateTime<Utc>) -> bool {
        self.scale_out_at > now
    }

    /// Whether nothing changes (an empty group accepted with `allow_zero`).
    pub fn is_noop(&self) -> bool {
        self.new_desired == self.old.desired
    }

    /// The desired capacity the scale-out goes from: the group's when planned, else the
    /// baseline.
    pub fn scale_out_from(&self) -> u32 {
        self.desired_before.unwrap_or(self.old.desired)
    }

    /// Whether the group is already at `new_desired`: proceeding over a recycle in progress
    /// that already scaled out, no instance is launched (the group is never doubled twice)
    /// and only the spindown moves.
    pub fn already_scaled_out(&self) -> bool {
        !self.is_noop() && self.scale_out_from() == self.new_desired
    }

    /// `{verb} prod-idp: desired 4 -> 8 at 15:05:00 UTC, back to 4 at 15:15:00 UTC`, or, when
    /// it [already scaled out](GroupRecycle::already_scaled_out), `{verb} prod-idp: already
    /// scaled out to 8 (no new instances); spindown moved to 15:15:00 UTC, back to 4`.
    pub fn describe(&self, verb: &str) -> String {
        if self.already_scaled_out() {
            return format!(
                "{verb} {}: already scaled out to {} (no new instances); spindown moved to {}, \
                 back to {}",
                self.group,
                self.new_desired,
                self.spindown_at.format("%H:%M:%S UTC"),
                self.old.desired,
            );
        }
        format!(
            "{verb} {}: desired {} -> {} at {}, back to {} at {}",
            self.group,
            self.scale_out_from(),
            self.new_desired,
            self.scale_out_at.format("%H:%M:%S UTC"),
            self.old.desired,
            self.spindown_at.format("%H:%M:%S UTC"),
        )
    }
}

/// What a recycle will do, computed from the groups without touching them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecyclePlan {
    /// When the plan was made (scale-outs at this time happen immediately).
    pub planned_at: DateTime<Utc>,
    /// The migration group's recycle, when migrations run.
    pub migration: Option<GroupRecycle>,
    /// The app groups' recycles.
    pub groups: Vec<GroupRecycle>,
    /// The last spindown: when every group is back to its old desired capacity.
    pub finishes_at: DateTime<Utc>,
    /// Things the operator should know (recycles in progress that are being replaced, empty
    /// groups left alone).
    pub warnings: Vec<String>,
}

/// What a recycle did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecycleOutcome {
    /// The migration group's recycle, when migrations run.
    pub migration: Option<GroupRecycle>,
    /// The app groups' recycles.
    pub groups: Vec<GroupRecycle>,
    /// When every group is back to its old desired capacity.
    pub finishes_at: DateTime<Utc>,
    /// Whether this was a dry run: planned, nothing changed.
    #[serde(default)]
    pub dry_run: bool,
}

impl From<RecyclePlan> for RecycleOutcome {
    fn from(plan: RecyclePlan) -> Self {
        RecycleOutcome {
            migration: plan.migration,
            groups: plan.groups,
            finishes_at: plan.finishes_at,
            dry_run: false,
        }
    }
}

/// The spindown delay of a group in seconds: max(2 x grace, 600) + spinup delay.
pub fn spindown_secs(health_check_grace_secs: u64, spinup_delay_secs: u64) -> u64 {
    health_check_grace_secs
        .saturating_mul(2)
        .max(MIN_SPINDOWN_SECS)
        .saturating_add(spinup_delay_secs)
}

fn after(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    now + Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
}

fn find<'g>(groups: &'g [Group], name: &GroupName) -> Option<&'g Group> {
    groups.iter().find(|g| &g.name == name)
}

fn in_progress_check(
    group: &Group,
    req: &RecycleRequest,
    warnings: &mut Vec<String>,
) -> Result<()> {
    if let Some(action) = group.recycle_in_progress() {
        let when = show_time(action.start_time);
        match req.if_in_progress {
            InProgressPolicy::Refuse if stopped_before_scale_out(group) => {
                return Err(Error::conflict(format!(
                    "a recycle of {} was stopped part way: its spindown ({RECYCLE_ACTION}) at \
                     {when} is scheduled but the group never scaled out (desired {}); run the \
                     recycle again and choose to proceed over the recycle in progress to finish \
                     it (the group keeps its baseline)",
                    group.name, group.capacity.desired
                ))
                .with("group", &group.name)
                .with(SPINDOWN_AT_KEY, when));
            }
            InProgressPolicy::Refuse => {
                return Err(Error::conflict(format!(
                    "a recycle of {} is already in progress: its spindown ({RECYCLE_ACTION}) \
                     runs at {when}; wait until then, or choose to proceed anyway, which \
                     replaces its scheduled actions",
                    group.name
                ))
                .with("group", &group.name)
                .with(SPINDOWN_AT_KEY, when));
            }
            InProgressPolicy::Proceed => warnings.push(format!(
                "{} already had a recycle in progress (spindown at {when}); its scheduled \
                 actions are replaced",
                group.name
            )),
        }
    }
    Ok(())
}

/// Whether `group` has a recycle's spindown but no scale-out, done or scheduled: the recycle
/// was stopped between the two (the spindown is scheduled first).
pub fn stopped_before_scale_out(group: &Group) -> bool {
    let Some(target) = group.recycle_in_progress().and_then(|a| a.change.desired) else {
        return false;
    };
    group.delayed_scale_out().is_none() && group.capacity.desired <= target
}

/// The desired capacity a recycle returns to: the in-progress recycle's target if any.
fn baseline(group: &Group) -> u32 {
    group
        .recycle_in_progress()
        .and_then(|a| a.change.desired)
        .unwrap_or(group.capacity.desired)
}

/// Refuses (unsafe) a group running more instances than its desired capacity with no
/// recycle in progress (the leftovers of an earlier recycle or resize, kept by scale-in
/// protection). Doubling its desired capacity would launch fewer new instances than it
/// has old ones, or none, and the scale-in after the spindown would keep old code; for the
/// migration group, no migration instance would start.
fn extra_instances_check(group: &Group) -> Result<()> {
    let check = check_group(group);
    if check.extra.is_empty() {
        return Ok(());
    }
    Err(Error::unsafe_op(format!(
        "{} has {} running instance(s) for desired {} ({} extra, left by an earlier recycle \
         or resize{}): a recycle now would launch too few new instances (the group counts the \
         old ones), so old code would keep serving; scale in the old instances first \
         (`deploykit scale-in old {} {}`), then recycle",
        group.name,
        check.running,
        group.capacity.desired,
        check.extra.len(),
        check.standby_aside(),
        group.name.env,
        group.name.role
    ))
    .with("group", &group.name)
    .with("extra", check.extra.len()))
}

fn plan_migration(
    group: &Group,
    req: &RecycleRequest,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<GroupRecycle> {
    in_progress_check(group, req, warnings)?;
    extra_instances_check(group)?;
    if group.recycle_in_progress().is_none() && group.capacity.desired > 0 {
        // A recycle starts the migration by raising desired from 0 to 1: already above 0,
        // no new instance would start, and the apps would scale out without a migration.
        return Err(Error::unsafe_op(format!(
            "the migration group {} already has desired {} with no recycle in progress, so \
             no new migration instance would start: check what it runs (`deploykit servers ls \
             -e {}`), set it back to 0 (`deploykit asg size {} migration --desired 0`), then \
             recycle",
            group.name, group.capacity.desired, group.name.env, group.name.env
        ))
        .with("group", &group.name));
    }
    if group.capacity.max < 1 {
        return Err(Error::invalid_input(format!(
            "the migration group {} has max {}, so it cannot start a migration instance: \
             raise its max to at least 1, or recycle without migrations",
            group.name, group.capacity.max
        ))
        .with("group", &group.name));
    }
    let spindown = spindown_secs(group.health_check_grace_secs, 0);
    Ok(GroupRecycle {
        group: group.name.clone(),
        old: Capacity {
            desired: 0,
            ..group.capacity
        },
        new_desired: 1,
        desired_before: Some(group.capacity.desired),
        scale_out_at: now,
        spindown_at: after(now, spindown),
    })
}

fn plan_app_group(
    group: &Group,
    req: &RecycleRequest,
    spinup_delay: u64,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<GroupRecycle> {
    in_progress_check(group, req, warnings)?;
    extra_instances_check(group)?;
    if let Some(note) = group.standby_note() {
        warnings.push(format!(
            "{}: {note}; the recycle leaves it in Standby, running what it runs now",
            group.name
        ));
    }
    let old_desired = baseline(group);
    let spindown_at = after(
        now,
        spindown_secs(group.health_check_grace_secs, spinup_delay),
    );
    if old_desired == 0 {
        if !req.allow_zero {
            return Err(Error::invalid_input(format!(
                "{} has desired capacity 0, so there is nothing to recycle: check the \
                 environment and role, or allow empty groups to go on (nothing is changed on \
                 them)",
                group.name
            ))
            .with("group", &group.name));
        }
        warnings.push(format!(
            "{} has desired capacity 0; it is left alone",
            group.name
        ));
        return Ok(GroupRecycle {
            group: group.name.clone(),
            old: group.capacity,
            new_desired: 0,
            desired_before: Some(group.capacity.desired),
            scale_out_at: now,
            spindown_at: now,
        });
    }
    let new_desired = old_desired.saturating_mul(2);
    if new_desired > group.capacity.max {
        return Err(Error::unsafe_op(format!(
            "recycling {} needs desired {new_desired} (2 x {old_desired}) but its max is {}: \
             raise the group's max to at least {new_desired} (`deploykit asg size {} {} \
             --max {new_desired}`), or scale in extra instances first if desired is above normal",
            group.name, group.capacity.max, group.name.env, group.name.role
        ))
        .with("group", &group.name)
        .with("max", group.capacity.max));
    }
    Ok(GroupRecycle {
        group: group.name.clone(),
        old: Capacity {
            desired: old_desired,
            ..group.capacity
        },
        new_desired,
        desired_before: Some(group.capacity.desired),
        scale_out_at: after(now, spinup_delay),
        spindown_at,
    })
}

/// The groups one named role covers, as a recycle selects them (see [`role_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGroups<'g> {
    /// The role's group first, then any group recycled with it.
    pub groups: Vec<&'g Group>,
    /// Why a group that goes with the role was left out.
    pub notes: Vec<String>,
}

/// The groups a named role covers among `groups` (those of `env`): `<env>-<role>`, and for
/// `idp` also `<env>-worker` when it has instances (desired above 0) or a recycle in
/// progress. A recycle of the role recycles these, and
/// [`scale_in_as_recycled`](crate::fleet_ops::scale_in_as_recycled) of the role scales in
/// these, so that `scale-in old ENV idp` after `recycle ENV idp` removes worker's old
/// instances too.
///
/// Errors: NotFound when `<env>-<role>` does not exist.
pub fn role_groups<'g>(
    groups: &'g [Group],
    env: &EnvName,
    role: &RoleName,
) -> Result<RoleGroups<'g>> {
    let name = GroupName::new(env, role);
    let group = find(groups, &name).ok_or_else(|| {
        let roles: Vec<String> = groups
            .iter()
            .filter(|g| &g.name.env == env)
            .map(|g| g.name.role.to_string())
            .collect();
        Error::not_found(format!(
            "no Auto Scaling group named {name}: {env}'s roles are {}; check the environment \
             and role (`deploykit servers ls -e {env}` lists them)",
            roles.join(", ")
        ))
        .with("group", &name)
    })?;
    let mut selected = vec![group];
    let mut notes = Vec::new();
    if role.as_str() == "idp" {
        let worker = GroupName::new(env, &RoleName::new("worker")?);
        match find(groups, &worker) {
            Some(w) if w.capacity.desired > 0 || w.recycle_in_progress().is_some() => {
                selected.push(w)
            }
            Some(_) => notes.push(format!(
                "{worker} has desired capacity 0; it is not recycled with idp"
            )),
            None => notes.push(format!(
                "{env} has no {worker} group; only the idp group is recycled"
            )),
        }
    }
    Ok(RoleGroups {
        groups: selected,
        notes,
    })
}

/// Plans a recycle of `req.roles` over `groups` (every group of `req.env`) at `now`.
///
/// Errors: NotFound for a named group (or the migration group) that does not exist;
/// Conflict when a recycle is in progress and `req.if_in_progress` is Refuse; Unsafe when
/// the doubled desired is above max or a group runs leftover instances; InvalidInput when a
/// named group is empty without `allow_zero`.
pub fn plan_recycle(
    groups: &[Group],
    req: &RecycleRequest,
    now: DateTime<Utc>,
) -> Result<RecyclePlan> {
    let env = &req.env;
    let migration_role = RoleName::migration();
    let mut warnings = Vec::new();

    // Which app groups, and whether migrations run.
    let (app_groups, wants_migration): (Vec<&Group>, bool) = match &req.roles {
        RoleSelector::All => {
            let selected: Vec<&Group> = groups
                .iter()
                .filter(|g| {
                    &g.name.env == env && !g.skipped_by_all() && g.name.role != migration_role
                })
                .collect();
            let migrates = selected
                .iter()
                .any(|g| MIGRATING_ROLES.contains(&g.name.role.as_str()));
            (selected, migrates)
        }
        RoleSelector::Role(role) if *role == migration_role => {
            if req.skip_migration {
                return Err(Error::invalid_input(
                    "recycling the migration role while skipping migrations does nothing: \
                     drop the skip-migration option, or name an app role",
                ));
            }
            (Vec::new(), true)
        }
        RoleSelector::Role(role) => {
            let selected = role_groups(groups, env, role)?;
            warnings.extend(selected.notes);
            (selected.groups, MIGRATING_ROLES.contains(&role.as_str()))
        }
    };
    let runs_migration = wants_migration && !req.skip_migration;

    let migration_group = if runs_migration {
        let name = GroupName::new(env, &migration_role);
        Some(find(groups, &name).ok_or_else(|| {
            Error::not_found(format!(
                "migrations must run first but there is no {name} group: create it, or \
                 recycle without migrations (`--skip-migration`; Python: skip_migration=True; \
                 a deploy: --kind no-migration-recycle)"
            ))
            .with("group", &name)
        })?)
    } else {
        None
    };
    // A recycle in progress on any group is said first: what else looks wrong about a group
    // (its capacity, its instances) may be that recycle's doing.
    if req.if_in_progress == InProgressPolicy::Refuse {
        for group in migration_group.iter().chain(app_groups.iter()) {
            in_progress_check(group, req, &mut warnings)?;
        }
    }
    let migration = match migration_group {
        Some(group) => Some(plan_migration(group, req, now, &mut warnings)?),
        None => None,
    };
    let spinup_delay = if migration.is_some() && !app_groups.is_empty() {
        MIGRATION_HEAD_START_SECS
    } else {
        0
    };

    let mut planned = Vec::with_capacity(app_groups.len());
    for group in app_groups {
        planned.push(plan_app_group(
            group,
            req,
            spinup_delay,
            now,
            &mut warnings,
        )?);
    }

    // Nothing to recycle (only empty groups accepted with allow_zero): no migration either.
    let migration = if !planned.is_empty() && planned.iter().all(GroupRecycle::is_noop) {
        if migration.is_some() {
            warnings.push("no group changes, so no migration instance is started".to_string());
        }
        None
    } else {
        migration
    };
    let finishes_at = migration
        .iter()
        .chain(planned.iter())
        .map(|g| g.spindown_at)
        .max()
        .unwrap_or(now);
    Ok(RecyclePlan {
        planned_at: now,
        migration,
        groups: planned,
        finishes_at,
        warnings,
    })
}

async fn apply(
    ctx: &FleetContext<'_>,
    g: &GroupRecycle,
    stale_delayed_action: bool,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<()> {
    if g.is_noop() {
        return Ok(());
    }
    let scaled_out = g.already_scaled_out();
    if stale_delayed_action && (scaled_out || !g.is_delayed(now)) {
        // Left by a recycle in progress that is being replaced: it would scale out again.
        ctx.act(
            format!(
                "delete the earlier {DELAYED_SCALE_OUT_ACTION} of {}",
                g.group
            ),
            dry_run,
            async || {
                ctx.fleet
                    .delete_scheduled_action(&g.group, DELAYED_SCALE_OUT_ACTION)
                    .await
            },
        )
        .await?;
    }
    // The spindown first: it records the baseline on the group before anything changes, so a
    // recycle stopped between the two calls is found in progress, and a recycle run again over
    // it returns to the same baseline instead of doubling the group twice.
    let spindown = ScheduledAction {
        name: RECYCLE_ACTION.to_string(),
        start_time: g.spindown_at,
        change: CapacityChange::desired(g.old.desired),
    };
    ctx.act(
        format!(
            "schedule {RECYCLE_ACTION} on {} at {}: desired back to {}",
            g.group,
            show_time(g.spindown_at),
            g.old.desired
        ),
        dry_run,
        async || ctx.fleet.put_scheduled_action(&g.group, &spindown).await,
    )
    .await?;
    if scaled_out {
        // Nothing to launch: say so, and claim no capacity change that is not made.
        ctx.info(format!(
            "{} already scaled out to {} (no new instances): only its spindown moved, to {}",
            g.group,
            g.new_desired,
            show_time(g.spindown_at)
        ));
    } else if g.is_delayed(now) {
        let action = ScheduledAction {
            name: DELAYED_SCALE_OUT_ACTION.to_string(),
            start_time: g.scale_out_at,
            change: CapacityChange::desired(g.new_desired),
        };
        ctx.act(
            format!(
                "schedule {DELAYED_SCALE_OUT_ACTION} on {} at {}: desired {} -> {}",
                g.group,
                show_time(g.scale_out_at),
                g.scale_out_from(),
                g.new_desired
            ),
            dry_run,
            async || ctx.fleet.put_scheduled_action(&g.group, &action).await,
        )
        .await?;
    } else {
        ctx.act(
            format!(
                "scale out {} now: desired {} -> {}",
                g.group,
                g.scale_out_from(),
                g.new_desired
            ),
            dry_run,
            async || {
                ctx.fleet
                    .set_capacity(&g.group, CapacityChange::desired(g.new_desired))
                    .await
            },
        )
        .await?;
    }
    Ok(())
}

/// `e`, with which groups were recycled before it stopped the recycle and which were not,
/// when some were: running the recycle again and proceeding over the recycle in progress
/// finishes it, each group keeping its baseline.
fn stopped_part_way(e: Error, done: &[&GroupRecycle], rest: &[&GroupRecycle]) -> Error {
    let names = |gs: &[&GroupRecycle]| {
        gs.iter()
            .filter(|g| !g.is_noop())
            .map(|g| g.group.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let recycled = names(done);
    if recycled.is_empty() {
        return e;
    }
    e.with(RECYCLED_KEY, recycled)
        .with(NOT_RECYCLED_KEY, names(rest))
}

/// The error context key of a refusal over a recycle in progress: when its spindown runs.
pub const SPINDOWN_AT_KEY: &str = "spindown_at";
/// The error context key naming the groups a failed recycle had already recycled.
pub const RECYCLED_KEY: &str = "recycled";
/// The error context key naming the groups a failed recycle had not recycled.
pub const NOT_RECYCLED_KEY: &str = "not recycled";

/// When a recycle's error is one that the same recycle, proceeding over the recycle in
/// progress, settles: the context key to name that call under (`to finish it` after a
/// recycle stopped part way, `to go on` over one in progress); `None` otherwise. Each front
/// end names its own call (`--force`, `proceed_if_in_progress=True`).
pub fn proceed_hint_key(e: &Error) -> Option<&'static str> {
    if e.context_value(RECYCLED_KEY).is_some() {
        Some("to finish it")
    } else if e.kind() == ErrorKind::Conflict && e.context_value(SPINDOWN_AT_KEY).is_some() {
        Some("to go on")
    } else {
        None
    }
}

/// Recycles the groups of `req` (see the module documentation for the rules): reads the
/// environment's groups ([`env_groups`]: NotFound when it has none), plans with [`plan_recycle`], then, on each group, migration group
/// first, schedules the spindown and scales out (or schedules the delayed scale-out).
/// In a dry run, only the [`Event::Action`](crate::Event::Action)s are emitted.
///
/// The spindown comes first so that a recycle stopped at any point can be run again over
/// itself (proceeding over the recycle in progress) without doubling a group twice. An error
/// after some groups were recycled names them ([`RECYCLED_KEY`], [`NOT_RECYCLED_KEY`]).
pub async fn recycle(ctx: &FleetContext<'_>, req: &RecycleRequest) -> Result<RecycleOutcome> {
    let groups = env_groups(ctx.fleet, &req.env).await?;
    let now = ctx.clock.now();
    let plan = plan_recycle(&groups, req, now)?;
    for w in &plan.warnings {
        ctx.warning(w.clone());
    }
    let has_delayed = |name: &GroupName| {
        groups
            .iter()
            .any(|g| &g.name == name && g.delayed_scale_out().is_some())
    };
    let all: Vec<&GroupRecycle> = plan.migration.iter().chain(plan.groups.iter()).collect();
    for (i, g) in all.iter().enumerate() {
        if let Err(e) = apply(ctx, g, has_delayed(&g.group), now, req.dry_run).await {
            return Err(stopped_part_way(e, &all[..i], &all[i..]));
        }
    }
    ctx.info(format!(
        "recycle of {} {} {}: every group back to its old desired capacity at {}",
        req.env,
        req.roles,
        if req.dry_run { "planned" } else { "started" },
        show_time(plan.finishes_at)
    ));
    Ok(RecycleOutcome {
        dry_run: req.dry_run,
        ..plan.into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, RecordingSink};
    use crate::fleet_ops::test_support::*;

    fn req(role: &str) -> RecycleRequest {
        RecycleRequest::new(prod(), role.parse().expect("role"))
    }

    fn names(plan: &RecyclePlan) -> Vec<String> {
        plan.groups.iter().map(|g| g.group.to_string()).collect()
    }

    #[test]
    fn spindown_is_twice_the_grace_at_least_600_plus_the_spinup_delay() {
        assert_eq!(spindown_secs(300, 300), 900);
        assert_eq!(spindown_secs(300, 0), 600);
        assert_eq!(spindown_secs(100, 0), 600);
        assert_eq!(spindown_secs(400, 300), 1100);
    }

    #[test]
    fn idp_runs_the_migration_first_and_recycles_worker_too() {
        let plan = plan_recycle(&prod_groups(), &req("idp"), t0()).expect("plan");
        let m = plan.migration.as_ref().expect("migration runs");
        assert_eq!(m.group.to_string(), "prod-migration");
        assert_eq!((m.old.desired, m.new_desired), (0, 1));
        assert_eq!(m.scale_out_at, t0());
        assert_eq!(m.spindown_at, at(600));
        assert_eq!(names(&plan), ["prod-idp", "prod-worker"]);
        let idp = &plan.groups[0];
        assert_eq!((idp.old.desired, idp.new_desired), (4, 8));
        assert_eq!(
            idp.scale_out_at,
            at(300),
            "delayed by the migration head start"
        );
        assert_eq!(idp.spindown_at, at(900), "900 s for idp with migrations");
        assert!(idp.is_delayed(t0()));
        assert_eq!(plan.groups[1].new_desired, 4);
        assert_eq!(plan.finishes_at, at(900));
    }

    #[test]
    fn a_group_with_leftover_instances_is_refused_naming_the_scale_in() {
        // idp desired 2 but 3 instances running (a resize down kept by protection).
        let mut groups = prod_groups();
        let idp = groups
            .iter_mut()
            .find(|g| g.name == gname("idp"))
            .expect("idp");
        idp.capacity.desired = 2;
        idp.instances = vec![inst(1, -900), inst(2, -800), inst(3, -700)];
        let mut r = req("idp");
        r.skip_migration = true;
        let err = plan_recycle(&groups, &r, t0()).expect_err("leftovers");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        let text = err.to_string();
        assert!(
            text.contains("prod-idp has 3 running instance(s) for desired 2 (1 extra"),
            "{text}"
        );
        assert!(text.contains("`deploykit scale-in old prod idp`"), "{text}");

        // The migration group with an instance left running: no migration would start.
        let mut groups = prod_groups();
        let migration = groups
            .iter_mut()
            .find(|g| g.name == gname("migration"))
            .expect("migration");
        migration.instances = vec![inst(9, -600)];
        let err = plan_recycle(&groups, &req("idp"), t0()).expect_err("leftover migration");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        assert!(
            err.to_string().contains("prod-migration has 1 running"),
            "{err}"
        );
        // ... or already scaled to 1 by hand.
        let mut groups = prod_groups();
        let migration = groups
            .iter_mut()
            .find(|g| g.name == gname("migration"))
            .expect("migration");
        migration.capacity.desired = 1;
        migration.instances = vec![inst(9, -600)];
        let err = plan_recycle(&groups, &req("idp"), t0()).expect_err("migration at 1");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        assert!(
            err.to_string()
                .contains("already has desired 1 with no recycle in progress"),
            "{err}"
        );
    }

    #[test]
    fn skipping_migrations_scales_out_now_and_spins_down_after_600_s() {
        let mut r = req("idp");
        r.skip_migration = true;
        let plan = plan_recycle(&prod_groups(), &r, t0()).expect("plan");
        assert!(plan.migration.is_none());
        for g in &plan.groups {
            assert_eq!(g.scale_out_at, t0());
            assert_eq!(g.spindown_at, at(600));
        }
        assert_eq!(plan.finishes_at, at(600));
    }

    #[test]
    fn roles_without_migrations_do_not_start_one() {
        let plan = plan_recycle(&prod_groups(), &req("pivcac"), t0()).expect("plan");
        assert!(plan.migration.is_none());
        assert_eq!(names(&plan), ["prod-pivcac"]);
        assert_eq!(plan.groups[0].spindown_at, at(600));
    }

    #[test]
    fn all_skips_stateful_utility_and_empty_groups() {
        let plan = plan_recycle(&prod_groups(), &req("ALL"), t0()).expect("plan");
        assert_eq!(names(&plan), ["prod-idp", "prod-pivcac", "prod-worker"]);
        assert!(plan.migration.is_some(), "idp and worker need migrations");
        // pivcac is delayed too: the migration runs before any app group scales out.
        assert!(plan.groups.iter().all(|g| g.scale_out_at == at(300)));
    }

    #[test]
    fn the_migration_role_alone_recycles_only_the_migration_group() {
        let plan = plan_recycle(&prod_groups(), &req("migration"), t0()).expect("plan");
        assert!(plan.groups.is_empty());
        assert_eq!(plan.migration.map(|m| m.new_desired), Some(1));
    }

    #[test]
    fn a_recycle_in_progress_is_refused_naming_the_group_and_time() {
        let mut groups = prod_groups();
        groups[1] = with_recycle(group("idp", 2, 8, 16), at(-60), 4);
        let err = plan_recycle(&groups, &req("idp"), t0()).expect_err("in progress");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("prod-idp"), "{err}");
        assert!(err.to_string().contains("2026-11-24 16:59:00 UTC"), "{err}");
    }

    #[test]
    fn proceeding_over_a_recycle_in_progress_doubles_the_baseline_not_the_doubled() {
        let mut groups = prod_groups();
        groups[1] = with_recycle(group("idp", 2, 8, 16), at(-60), 4);
        let mut r = req("idp");
        r.if_in_progress = InProgressPolicy::Proceed;
        let plan = plan_recycle(&groups, &r, t0()).expect("plan");
        assert_eq!(
            (plan.groups[0].old.desired, plan.groups[0].new_desired),
            (4, 8)
        );
        assert!(plan.warnings.iter().any(|w| w.contains("prod-idp")));
    }

    #[test]
    fn above_max_is_refused_saying_how_to_fix_it() {
        let mut groups = prod_groups();
        groups[1] = group("idp", 2, 4, 6);
        let err = plan_recycle(&groups, &req("idp"), t0()).expect_err("max");
        assert_eq!(
            err.kind(),
            ErrorKind::Unsafe,
            "the fleet is not ready: exit 4"
        );
        let msg = err.to_string();
        assert!(msg.contains("max is 6") && msg.contains("raise"), "{msg}");
    }

    #[test]
    fn an_empty_named_group_needs_allow_zero() {
        let err = plan_recycle(&prod_groups(), &req("analytics"), t0()).expect_err("zero");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("desired capacity 0"), "{err}");
        let mut r = req("analytics");
        r.allow_zero = true;
        let plan = plan_recycle(&prod_groups(), &r, t0()).expect("allowed");
        assert!(plan.groups[0].is_noop());
    }

    #[test]
    fn only_empty_groups_start_no_migration() {
        let mut r = req("analytics");
        r.allow_zero = true;
        let plan = plan_recycle(&prod_groups(), &r, t0()).expect("allowed");
        assert!(plan.migration.is_none());
    }

    #[tokio::test]
    async fn proceeding_without_migrations_deletes_an_earlier_delayed_scale_out() {
        let mut groups = prod_groups();
        let mut idp = with_recycle(group("idp", 2, 4, 16), at(600), 4);
        idp.scheduled_actions.push(ScheduledAction {
            name: DELAYED_SCALE_OUT_ACTION.to_string(),
            start_time: at(100),
            change: CapacityChange::desired(8),
        });
        groups[1] = idp;
        let fleet = RecordingFleet::new(groups);
        let clock = FixedClock(t0());
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &crate::NullSink,
        };
        let mut r = req("idp");
        r.skip_migration = true;
        r.if_in_progress = InProgressPolicy::Proceed;
        recycle(&ctx, &r).await.expect("recycle");
        let calls = fleet.calls();
        assert_eq!(
            calls[0],
            Call::DeleteAction("prod-idp".into(), DELAYED_SCALE_OUT_ACTION.into())
        );
        assert_eq!(
            calls[2],
            Call::SetCapacity("prod-idp".into(), CapacityChange::desired(8))
        );
    }

    /// prod after a recycle of idp scaled out (its delayed scale-out fired): migration at 1,
    /// idp at 8 and worker at 4, their spindowns due in 5 minutes.
    fn scaled_out_recycle() -> Vec<Group> {
        let mut groups = prod_groups();
        groups[1] = with_recycle(group("idp", 2, 8, 16), at(300), 4);
        groups[2] = with_recycle(tagged(group("migration", 0, 1, 1), "utility"), at(-300), 0);
        groups[5] = with_recycle(group("worker", 1, 4, 8), at(300), 2);
        groups
    }

    #[tokio::test]
    async fn proceeding_over_a_recycle_that_scaled_out_says_no_instance_is_launched() {
        let fleet = RecordingFleet::new(scaled_out_recycle());
        let clock = FixedClock(t0());
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let mut r = req("idp");
        r.if_in_progress = InProgressPolicy::Proceed;
        let out = recycle(&ctx, &r).await.expect("recycle");
        let described: Vec<String> = out
            .migration
            .iter()
            .chain(&out.groups)
            .map(|g| g.describe("recycling"))
            .collect();
        assert_eq!(
            described,
            [
                "recycling prod-migration: already scaled out to 1 (no new instances); spindown \
                 moved to 17:10:00 UTC, back to 0",
                "recycling prod-idp: already scaled out to 8 (no new instances); spindown moved \
                 to 17:15:00 UTC, back to 4",
                "recycling prod-worker: already scaled out to 4 (no new instances); spindown \
                 moved to 17:15:00 UTC, back to 2",
            ]
        );
        // Only the spindowns move: no capacity change, and none claimed.
        assert!(
            fleet
                .calls()
                .iter()
                .all(|c| matches!(c, Call::PutAction(_, a) if a.name == RECYCLE_ACTION)),
            "{:?}",
            fleet.calls()
        );
        let events = sink.events();
        let did: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Action { description, .. } => Some(description),
                _ => None,
            })
            .collect();
        assert_eq!(did.len(), 3, "{did:?}");
        assert!(did.iter().all(|d| d.starts_with("schedule ")), "{did:?}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Info { message, .. }
                if message.starts_with("prod-idp already scaled out to 8 (no new instances)"))),
            "{events:?}"
        );
        // Before its delayed scale-out fired, the group goes from its baseline as before.
        let mut groups = scaled_out_recycle();
        groups[1].capacity.desired = 4;
        let plan = plan_recycle(&groups, &r, t0()).expect("plan");
        assert_eq!(
            plan.groups[0].describe("recycling"),
            "recycling prod-idp: desired 4 -> 8 at 17:05:00 UTC, back to 4 at 17:15:00 UTC"
        );
    }

    #[test]
    fn missing_groups_are_not_found() {
        let err = plan_recycle(&prod_groups(), &req("nosuch"), t0()).expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let groups: Vec<Group> = prod_groups()
            .into_iter()
            .filter(|g| g.name.role.as_str() != "migration")
            .collect();
        let err = plan_recycle(&groups, &req("idp"), t0()).expect_err("no migration group");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("without migrations"), "{err}");
    }

    #[tokio::test]
    async fn recycle_schedules_everything_on_the_groups_migration_first() {
        let fleet = RecordingFleet::new(prod_groups());
        let clock = FixedClock(t0());
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let out = recycle(&ctx, &req("idp")).await.expect("recycle");
        assert_eq!(out.finishes_at, at(900));
        let put = |g: &str, name: &str, secs: i64, desired: u32| {
            Call::PutAction(
                g.to_string(),
                ScheduledAction {
                    name: name.to_string(),
                    start_time: at(secs),
                    change: CapacityChange::desired(desired),
                },
            )
        };
        assert_eq!(
            fleet.calls(),
            // Each group's spindown before its scale-out, so that a recycle stopped between
            // the two leaves the baseline recorded on the group.
            vec![
                put("prod-migration", RECYCLE_ACTION, 600, 0),
                Call::SetCapacity("prod-migration".into(), CapacityChange::desired(1)),
                put("prod-idp", RECYCLE_ACTION, 900, 4),
                put("prod-idp", DELAYED_SCALE_OUT_ACTION, 300, 8),
                put("prod-worker", RECYCLE_ACTION, 900, 2),
                put("prod-worker", DELAYED_SCALE_OUT_ACTION, 300, 4),
            ]
        );
        let actions = sink
            .events()
            .into_iter()
            .filter(|e| matches!(e, Event::Action { dry_run: false, .. }))
            .count();
        assert_eq!(actions, 6);
    }

    #[tokio::test]
    async fn a_dry_run_changes_nothing_and_says_what_it_would_do() {
        let fleet = RecordingFleet::new(prod_groups());
        let clock = FixedClock(t0());
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let mut r = req("idp");
        r.dry_run = true;
        let out = recycle(&ctx, &r).await.expect("dry run");
        assert_eq!(out.groups.len(), 2);
        assert!(
            out.dry_run,
            "the outcome (and its JSON) says it was a dry run"
        );
        assert!(fleet.calls().is_empty());
        let dry: Vec<String> = sink
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Action {
                    description,
                    dry_run: true,
                    ..
                } => Some(description),
                _ => None,
            })
            .collect();
        assert_eq!(dry.len(), 6);
        assert!(
            dry.iter()
                .any(|d| d.contains("prod-idp") && d.contains("4 -> 8"))
        );
    }

    #[tokio::test]
    async fn an_environment_without_groups_is_not_found_naming_it() {
        let fleet = RecordingFleet::new(prod_groups());
        let clock = FixedClock(t0());
        let ctx = quiet(&fleet, &clock);
        for role in ["ALL", "idp"] {
            let r = RecycleRequest::new(
                EnvName::new("prdo").expect("env"),
                role.parse().expect("role"),
            );
            let err = recycle(&ctx, &r).await.expect_err("no groups");
            assert_eq!(err.kind(), ErrorKind::NotFound);
            let msg = err.to_string();
            assert!(
                msg.contains("no Auto Scaling group in environment prdo")
                    && msg.contains("deploykit servers ls -e ENV"),
                "{msg}"
            );
        }
        assert!(fleet.calls().is_empty());
    }

    #[tokio::test]
    async fn a_refused_recycle_changes_nothing() {
        let mut groups = prod_groups();
        groups[5] = with_recycle(group("worker", 1, 4, 8), at(100), 2);
        let fleet = RecordingFleet::new(groups);
        let clock = FixedClock(t0());
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &crate::NullSink,
        };
        let err = recycle(&ctx, &req("idp"))
            .await
            .expect_err("worker in progress");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("prod-worker"), "{err}");
        assert!(fleet.calls().is_empty(), "planned before acting");
    }
}
