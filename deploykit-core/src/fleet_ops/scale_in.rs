//! Scale in old (or new) instances (cloudlib's `scale-remove-old-instances` and
//! `scale-remove-new-instances`): mark the instances a recycle left over as safe to remove.
//!
//! Production groups protect instances from scale-in, so after a recycle's spindown the old
//! instances stay until someone removes their protection. Per group, as cloudlib does it:
//! - the instances counted toward desired capacity (pending or in service; not those in
//!   Standby, which Auto Scaling neither counts nor scales in) are sorted by launch time; [`ScaleInMode::Old`] keeps the newest
//!   `desired`, [`ScaleInMode::New`] (rolling back) keeps the oldest `desired`;
//! - the candidates are the rest that are protected from scale-in (unprotected ones the
//!   group removes by itself);
//! - every kept instance must be Healthy, InService and past its health check grace period,
//!   otherwise the whole operation is refused as Unsafe, listing every reason;
//! - with no candidates while [`RECYCLE_ACTION`] is still on the group, the recycle is still
//!   in progress: Conflict saying until when;
//! - otherwise the candidates lose their protection and the group terminates them.
//!
//! A role selects its group ([`scale_in`], the deploy engine's group by group), or the groups
//! a recycle of it recycled ([`scale_in_as_recycled`], the `scale-in` command: idp's worker
//! too).
//!
//! Safety is checked only for groups that have candidates: a group with nothing to remove is
//! not touched, so its kept instances cannot be put at risk.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::fleet_ops::prechecks::check_group;
use crate::fleet_ops::recycle::MIGRATING_ROLES;
use crate::fleet_ops::{FleetContext, env_groups, role_groups, show_time};
use crate::model::fleet::{
    Group, GroupName, HealthStatus, InstanceId, Lifecycle, RECYCLE_ACTION, standby_note,
};
use crate::model::names::{EnvName, RoleName, RoleSelector};

/// Which instances go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleInMode {
    /// Remove the oldest instances, keeping the newest `desired` (after a recycle).
    Old,
    /// Remove the newest instances, keeping the oldest `desired` (rolling back).
    New,
}

impl std::fmt::Display for ScaleInMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScaleInMode::Old => "old",
            ScaleInMode::New => "new",
        })
    }
}

/// A request to scale in old or new instances of an environment's groups.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScaleInRequest {
    /// The environment.
    pub env: EnvName,
    /// One role (its group; with [`scale_in_as_recycled`], the groups a recycle of it
    /// recycles: idp's worker too) or `ALL` (every group [`Group::skipped_by_all`] does not
    /// skip).
    pub roles: RoleSelector,
    /// Old or new instances.
    pub mode: ScaleInMode,
    /// Plan and report, change nothing.
    pub dry_run: bool,
}

/// What scale-in does to one group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupScaleIn {
    /// The group.
    pub group: GroupName,
    /// Instances whose scale-in protection is removed (the group terminates them).
    pub removed: Vec<InstanceId>,
    /// Instances kept, oldest first.
    pub kept: Vec<InstanceId>,
    /// Instances in Standby, neither removed nor kept: the group does not count them and
    /// never scales them in.
    #[serde(default)]
    pub standby: Vec<InstanceId>,
}

/// What a scale-in will do, computed from the groups without touching them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScaleInPlan {
    /// One entry per selected group (groups with nothing to remove have `removed` empty).
    pub groups: Vec<GroupScaleIn>,
}

/// What a scale-in did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScaleInOutcome {
    /// One entry per selected group.
    pub groups: Vec<GroupScaleIn>,
}

/// Why a kept instance is not safe to rely on, or `None` when it is.
fn unsafe_reasons(
    group: &Group,
    instance: &crate::model::fleet::Instance,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if instance.health != HealthStatus::Healthy {
        reasons.push("not Healthy".to_string());
    }
    if instance.lifecycle != Lifecycle::InService {
        reasons.push(format!("{} instead of InService", instance.lifecycle));
    }
    if !instance.past_grace(group.health_check_grace_secs, now) {
        reasons.push(format!(
            "launched {} and still within its {} s health check grace period",
            show_time(instance.launch_time),
            group.health_check_grace_secs
        ));
    }
    reasons
}

enum GroupVerdict {
    Ready(GroupScaleIn),
    Unsafe(Vec<String>),
    InProgress(String),
}

fn plan_group(group: &Group, mode: ScaleInMode, now: DateTime<Utc>) -> GroupVerdict {
    let running = group.counted_oldest_first();
    let desired = usize::try_from(group.capacity.desired).unwrap_or(usize::MAX);
    let extra = running.len().saturating_sub(desired);
    // Old: the oldest `extra` go; New: the newest `extra` go.
    let (rest, kept) = match mode {
        ScaleInMode::Old => {
            let (rest, kept) = running.split_at(extra);
            (rest.to_vec(), kept.to_vec())
        }
        ScaleInMode::New => {
            let (kept, rest) = running.split_at(running.len() - extra);
            (rest.to_vec(), kept.to_vec())
        }
    };
    let candidates: Vec<_> = rest.iter().filter(|i| i.protected_from_scale_in).collect();
    if candidates.is_empty() {
        if let Some(action) = group.recycle_in_progress() {
            return GroupVerdict::InProgress(format!(
                "{}: recycle still in progress until {} ({RECYCLE_ACTION}); scale in after that",
                group.name,
                show_time(action.start_time)
            ));
        }
    } else {
        let problems: Vec<String> = kept
            .iter()
            .filter_map(|i| {
                let reasons = unsafe_reasons(group, i, now);
                (!reasons.is_empty())
                    .then(|| format!("{}: {} is {}", group.name, i.id, reasons.join(", ")))
            })
            .collect();
        if !problems.is_empty() {
            return GroupVerdict::Unsafe(problems);
        }
    }
    GroupVerdict::Ready(GroupScaleIn {
        group: group.name.clone(),
        removed: candidates.iter().map(|i| i.id.clone()).collect(),
        kept: kept.iter().map(|i| i.id.clone()).collect(),
        standby: group.standby_instances().map(|i| i.id.clone()).collect(),
    })
}

/// How a named role selects groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleScope {
    /// `<env>-<role>` alone.
    Group,
    /// The groups a recycle of the role recycles ([`role_groups`]: idp's worker too).
    AsRecycled,
}

fn select<'g>(
    groups: &'g [Group],
    req: &ScaleInRequest,
    scope: RoleScope,
) -> Result<Vec<&'g Group>> {
    let (mut selected, migrated) = match &req.roles {
        RoleSelector::All => (
            groups
                .iter()
                .filter(|g| g.name.env == req.env && !g.skipped_by_all())
                .collect(),
            true,
        ),
        RoleSelector::Role(role) => {
            // The role's own group comes first.
            let mut selected = role_groups(groups, &req.env, role)?.groups;
            if scope == RoleScope::Group {
                selected.truncate(1);
            }
            let migrated =
                scope == RoleScope::AsRecycled && MIGRATING_ROLES.contains(&role.as_str());
            (selected, migrated)
        }
    };
    // A recycle that ran migrations started the migration instance too: when its group kept
    // it (protected from scale-in) past the spindown, scaling in the old instances removes
    // it, or the next recycle would find it and start no new one.
    if migrated && req.mode == ScaleInMode::Old {
        let leftover = groups.iter().find(|g| {
            g.name.env == req.env
                && g.name.role == RoleName::migration()
                && !selected.iter().any(|s| s.name == g.name)
                && kept_past_spindown(g)
        });
        selected.extend(leftover);
    }
    Ok(selected)
}

/// Whether `group` runs instances beyond its desired capacity with no recycle in progress:
/// a recycle's leftovers, kept (protected from scale-in) past its spindown, as a migration
/// group keeps its instance. [`ScaleInMode::Old`] of the roles it ran migrations for removes
/// them, and so does a rollback.
pub(crate) fn kept_past_spindown(group: &Group) -> bool {
    !check_group(group).extra.is_empty()
}

/// Plans a scale-in over `groups` (every group of `req.env`) at `now`. A role selects its
/// group alone (see [`plan_scale_in_as_recycled`] for the groups its recycle recycled).
///
/// Errors: NotFound for a named group that does not exist; Conflict when a selected group
/// has nothing to remove yet while its recycle is still in progress; Unsafe when an
/// instance that would be kept is not Healthy, InService and past its grace period (every
/// reason of every instance listed).
pub fn plan_scale_in(
    groups: &[Group],
    req: &ScaleInRequest,
    now: DateTime<Utc>,
) -> Result<ScaleInPlan> {
    plan_selected(select(groups, req, RoleScope::Group)?, req, now)
}

/// [`plan_scale_in`], a role selecting the groups a recycle of it recycles
/// ([`role_groups`]: idp's worker too), as the `scale-in` command does.
pub fn plan_scale_in_as_recycled(
    groups: &[Group],
    req: &ScaleInRequest,
    now: DateTime<Utc>,
) -> Result<ScaleInPlan> {
    plan_selected(select(groups, req, RoleScope::AsRecycled)?, req, now)
}

fn plan_selected(
    selected: Vec<&Group>,
    req: &ScaleInRequest,
    now: DateTime<Utc>,
) -> Result<ScaleInPlan> {
    let mut planned = Vec::new();
    let mut in_progress = Vec::new();
    let mut problems = Vec::new();
    for group in selected {
        match plan_group(group, req.mode, now) {
            GroupVerdict::Ready(g) => planned.push(g),
            GroupVerdict::InProgress(m) => in_progress.push(m),
            GroupVerdict::Unsafe(p) => problems.extend(p),
        }
    }
    if !in_progress.is_empty() {
        // Rolling back need not wait for the spindown: the rollback ends the recycle now.
        let incident = match req.mode {
            ScaleInMode::New => format!(
                "; to roll back now instead, `deploykit rollback {} APP --reason ...` ends the \
                 recycle and removes the new instances at once",
                req.env
            ),
            ScaleInMode::Old => String::new(),
        };
        return Err(Error::conflict(format!(
            "nothing to scale in yet: {}{incident}",
            in_progress.join("; ")
        )));
    }
    if !problems.is_empty() {
        return Err(Error::unsafe_op(format!(
            "refusing to scale in {} instances: the instances that would be kept must be \
             Healthy, InService and past their grace period, so removing the others could \
             take capacity away from users; wait for them and try again, or check the \
             group: {}",
            req.mode,
            problems.join("; ")
        )));
    }
    Ok(ScaleInPlan { groups: planned })
}

/// Scales in old or new instances (see the module documentation): reads the environment's
/// groups ([`env_groups`]: NotFound when it has none), plans with [`plan_scale_in`], then
/// removes scale-in protection from the candidates of each group. In a dry run, only the
/// [`Event::Action`](crate::Event::Action)s are emitted.
///
/// A role is its group alone (the deploy engine scales in each group it recycled, one by
/// one); [`scale_in_as_recycled`] is the scale-in a recycle of the role calls for.
pub async fn scale_in(ctx: &FleetContext<'_>, req: &ScaleInRequest) -> Result<ScaleInOutcome> {
    let groups = env_groups(ctx.fleet, &req.env).await?;
    let plan = plan_scale_in(&groups, req, ctx.clock.now())?;
    apply(ctx, req, plan).await
}

/// [`scale_in`] of the groups a recycle of `req.roles` recycled: a role selects them as
/// [`recycle`](fn@crate::fleet_ops::recycle) does ([`role_groups`]), so after `recycle ENV idp`,
/// `scale-in old ENV idp` removes the old instances of worker as well as idp's. The groups
/// are planned together: one that is not ready refuses the whole scale-in before anything
/// changes.
pub async fn scale_in_as_recycled(
    ctx: &FleetContext<'_>,
    req: &ScaleInRequest,
) -> Result<ScaleInOutcome> {
    let groups = env_groups(ctx.fleet, &req.env).await?;
    let plan = plan_scale_in_as_recycled(&groups, req, ctx.clock.now())?;
    apply(ctx, req, plan).await
}

async fn apply(
    ctx: &FleetContext<'_>,
    req: &ScaleInRequest,
    plan: ScaleInPlan,
) -> Result<ScaleInOutcome> {
    for g in &plan.groups {
        if let Some(note) = standby_note(&g.standby) {
            ctx.info(format!("{}: {note}; scale-in leaves it", g.group));
        }
        if g.removed.is_empty() {
            ctx.info(format!(
                "{}: no {} instances to remove ({} kept)",
                g.group,
                req.mode,
                g.kept.len()
            ));
            continue;
        }
        let ids: Vec<&str> = g.removed.iter().map(InstanceId::as_str).collect();
        ctx.act(
            format!(
                "remove scale-in protection from {} {} instance(s) of {} so the group \
                 terminates them: {}",
                g.removed.len(),
                req.mode,
                g.group,
                ids.join(", ")
            ),
            req.dry_run,
            async || {
                ctx.fleet
                    .set_scale_in_protection(&g.group, &g.removed, false)
                    .await
            },
        )
        .await?;
    }
    Ok(ScaleInOutcome {
        groups: plan.groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::events::{Event, RecordingSink};
    use crate::fleet_ops::test_support::*;

    fn req(role: &str, mode: ScaleInMode) -> ScaleInRequest {
        ScaleInRequest {
            env: prod(),
            roles: role.parse().expect("role"),
            mode,
            dry_run: false,
        }
    }

    /// idp after a recycle's spindown: desired 2, old instances 1-2 (launched an hour ago),
    /// new instances 3-4 (launched 20 minutes ago), all protected.
    fn recycled_idp() -> Group {
        let mut g = group("idp", 1, 2, 8);
        g.instances = vec![
            inst(3, -1200),
            inst(1, -3600),
            inst(4, -1190),
            inst(2, -3590),
        ];
        g
    }

    fn groups_with(idp: Group) -> Vec<Group> {
        prod_groups()
            .into_iter()
            .map(|g| if g.name == idp.name { idp.clone() } else { g })
            .collect()
    }

    #[test]
    fn old_mode_keeps_the_newest_desired_and_removes_the_oldest() {
        let plan =
            plan_scale_in(&[recycled_idp()], &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert_eq!(plan.groups[0].removed, [iid(1), iid(2)]);
        assert_eq!(plan.groups[0].kept, [iid(3), iid(4)]);
    }

    #[test]
    fn new_mode_keeps_the_oldest_desired_and_removes_the_newest() {
        let plan =
            plan_scale_in(&[recycled_idp()], &req("idp", ScaleInMode::New), t0()).expect("plan");
        assert_eq!(plan.groups[0].removed, [iid(3), iid(4)]);
        assert_eq!(plan.groups[0].kept, [iid(1), iid(2)]);
    }

    #[test]
    fn only_protected_instances_are_candidates_and_stopped_ones_do_not_count() {
        let mut g = recycled_idp();
        g.instances[1].protected_from_scale_in = false; // i-1: the group removes it itself
        let mut gone = inst(9, -7200);
        gone.lifecycle = Lifecycle::Terminated;
        g.instances.push(gone);
        let plan = plan_scale_in(&[g], &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert_eq!(plan.groups[0].removed, [iid(2)]);
    }

    #[test]
    fn every_unsafe_reason_of_every_kept_instance_is_listed() {
        let mut g = recycled_idp();
        g.instances[0].health = HealthStatus::Unhealthy; // i-3
        g.instances[2].lifecycle = Lifecycle::Pending; // i-4
        g.instances[2].launch_time = at(-60);
        let err = plan_scale_in(&[g], &req("idp", ScaleInMode::Old), t0()).expect_err("unsafe");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        let msg = err.to_string();
        assert!(msg.contains(&format!("{} is not Healthy", iid(3))), "{msg}");
        assert!(msg.contains("Pending instead of InService"), "{msg}");
        assert!(msg.contains("grace period"), "{msg}");
    }

    #[test]
    fn nothing_to_remove_during_a_recycle_says_until_when() {
        // Mid-recycle: desired doubled to 4, nothing extra yet.
        let g = with_recycle(
            {
                let mut g = recycled_idp();
                g.capacity.desired = 4;
                g
            },
            at(300),
            2,
        );
        let groups = groups_with(g);
        let err =
            plan_scale_in(&groups, &req("ALL", ScaleInMode::Old), t0()).expect_err("in progress");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(
            err.to_string()
                .contains("recycle still in progress until 2026-11-24 17:05:00 UTC"),
            "{err}"
        );
        assert!(!err.to_string().contains("rollback"), "{err}");
        // Removing the new instances mid-recycle is a rollback: say how to do it now.
        let err =
            plan_scale_in(&groups, &req("ALL", ScaleInMode::New), t0()).expect_err("in progress");
        assert!(
            err.to_string()
                .contains("`deploykit rollback prod APP --reason ...` ends the recycle"),
            "{err}"
        );
    }

    #[test]
    fn nothing_to_remove_and_no_recycle_is_fine() {
        let mut g = recycled_idp();
        g.instances.truncate(2);
        let plan = plan_scale_in(&[g], &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert!(plan.groups[0].removed.is_empty());
        assert_eq!(plan.groups[0].kept.len(), 2);
    }

    #[test]
    fn idp_scales_in_worker_too_as_its_recycle_recycled_it() {
        let mut worker = group("worker", 1, 2, 8);
        worker.instances = vec![
            inst(5, -3600),
            inst(6, -3600),
            inst(7, -1200),
            inst(8, -1200),
        ];
        let mut groups = groups_with(recycled_idp());
        groups[5] = worker;
        let idp = req("idp", ScaleInMode::Old);
        let plan = plan_scale_in_as_recycled(&groups, &idp, t0()).expect("plan");
        let names: Vec<String> = plan.groups.iter().map(|g| g.group.to_string()).collect();
        assert_eq!(names, ["prod-idp", "prod-worker"]);
        assert_eq!(plan.groups[1].removed, [iid(5), iid(6)]);
        // Any other role is its group alone, and plan_scale_in names one group.
        let worker = req("worker", ScaleInMode::Old);
        let plan = plan_scale_in_as_recycled(&groups, &worker, t0()).expect("plan");
        assert_eq!(plan.groups.len(), 1);
        let plan = plan_scale_in(&groups, &idp, t0()).expect("plan");
        assert_eq!(plan.groups.len(), 1);
    }

    #[test]
    fn the_migration_instance_a_recycle_left_is_scaled_in_with_its_roles() {
        // The migration group kept its (protected) instance past its spindown to 0.
        let mut groups = groups_with(recycled_idp());
        let migration = groups
            .iter_mut()
            .find(|g| g.name == gname("migration"))
            .expect("migration");
        migration.instances = vec![inst(9, -1500)];
        for roles in ["idp", "ALL"] {
            let plan = plan_scale_in_as_recycled(&groups, &req(roles, ScaleInMode::Old), t0())
                .expect("plan");
            let leftover = plan
                .groups
                .iter()
                .find(|g| g.group == gname("migration"))
                .unwrap_or_else(|| panic!("{roles}: {plan:?}"));
            assert_eq!(leftover.removed, [iid(9)]);
            assert!(leftover.kept.is_empty());
        }
        // Not for a role without migrations, nor when removing the new instances, nor for
        // the engine's one group.
        for (roles, mode) in [("pivcac", ScaleInMode::Old), ("idp", ScaleInMode::New)] {
            let plan = plan_scale_in_as_recycled(&groups, &req(roles, mode), t0());
            assert!(
                plan.iter()
                    .flat_map(|p| &p.groups)
                    .all(|g| g.group != gname("migration")),
                "{roles} {mode:?}: {plan:?}"
            );
        }
        let plan = plan_scale_in(&groups, &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert_eq!(plan.groups.len(), 1);
    }

    #[test]
    fn standby_instances_are_neither_removed_nor_kept() {
        // The oldest in Standby (desired decremented to 2): the old instance is i-2 alone.
        let mut g = recycled_idp();
        g.instances[1].lifecycle = Lifecycle::Standby; // i-1
        g.instances[1].protected_from_scale_in = true;
        let plan = plan_scale_in(&[g.clone()], &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert_eq!(plan.groups[0].removed, [iid(2)]);
        assert_eq!(plan.groups[0].kept, [iid(3), iid(4)]);
        assert_eq!(plan.groups[0].standby, [iid(1)]);
        // One of the newest parked in Standby does not block the scale-in (desired 1 now).
        let mut g = recycled_idp();
        g.capacity.desired = 1;
        g.instances[2].lifecycle = Lifecycle::Standby; // i-4
        let plan = plan_scale_in(&[g], &req("idp", ScaleInMode::Old), t0()).expect("plan");
        assert_eq!(plan.groups[0].removed, [iid(1), iid(2)]);
        assert_eq!(plan.groups[0].kept, [iid(3)]);
        assert_eq!(plan.groups[0].standby, [iid(4)]);
    }

    #[tokio::test]
    async fn an_environment_without_groups_is_not_found_and_nothing_is_touched() {
        let fleet = RecordingFleet::new(prod_groups());
        let clock = FixedClock(t0());
        let ctx = quiet(&fleet, &clock);
        let mut r = req("ALL", ScaleInMode::Old);
        r.env = EnvName::new("prdo").expect("env");
        let err = scale_in(&ctx, &r).await.expect_err("no groups");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains("no Auto Scaling group in environment prdo"),
            "{err}"
        );
        assert!(fleet.calls().is_empty());
    }

    #[test]
    fn all_covers_only_groups_all_does_not_skip() {
        let mut outboundproxy = tagged(group("outboundproxy", 2, 2, 4), "stateful");
        outboundproxy.instances = vec![inst(7, -9000), inst(8, -9000), inst(9, -100)];
        let mut groups = groups_with(recycled_idp());
        groups[3] = outboundproxy;
        let plan = plan_scale_in(&groups, &req("ALL", ScaleInMode::Old), t0()).expect("plan");
        let names: Vec<String> = plan.groups.iter().map(|g| g.group.to_string()).collect();
        assert_eq!(names, ["prod-idp", "prod-pivcac", "prod-worker"]);
    }

    #[tokio::test]
    async fn scale_in_removes_protection_and_a_dry_run_does_not() {
        for dry_run in [false, true] {
            let fleet = RecordingFleet::new(groups_with(recycled_idp()));
            let clock = FixedClock(t0());
            let sink = RecordingSink::default();
            let ctx = FleetContext {
                fleet: &fleet,
                clock: &clock,
                events: &sink,
            };
            let mut r = req("ALL", ScaleInMode::Old);
            r.dry_run = dry_run;
            let out = scale_in(&ctx, &r).await.expect("scale in");
            assert_eq!(out.groups[0].removed, [iid(1), iid(2)]);
            let expected = if dry_run {
                vec![]
            } else {
                vec![Call::Protection(
                    "prod-idp".into(),
                    vec![iid(1), iid(2)],
                    false,
                )]
            };
            assert_eq!(fleet.calls(), expected);
            assert!(sink.events().iter().any(|e| matches!(
                e,
                Event::Action { dry_run: d, description, .. }
                    if *d == dry_run && description.contains("prod-idp")
            )));
        }
    }
}
