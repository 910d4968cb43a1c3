//! Pre-deploy checks of the guide's Production step 4: no extra servers running, and no
//! recycle in progress.
//!
//! Decision: a group with a recycle in progress is reported as such and NOT also as having
//! extra servers. While its scheduled actions are pending its instance count is in flux
//! (doubled on purpose), so "extra" would be noise; the in-progress finding already blocks a
//! deploy and says when it ends. Once the spindown has run, leftover protected instances show
//! up as extra servers, which is the cue to scale in old instances.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::fleet_ops::{FleetContext, show_time};
use crate::model::fleet::{Capacity, Group, GroupName, InstanceId, standby_note};
use crate::model::names::{EnvName, RoleName, RoleSelector};

/// What the pre-checks found on one group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupPreCheck {
    /// The group.
    pub group: GroupName,
    /// Its capacity.
    pub capacity: Capacity,
    /// How many instances count toward the desired capacity (pending or in service; not
    /// those in Standby).
    pub running: u32,
    /// Counted instances beyond desired, oldest first (empty while a recycle is in
    /// progress).
    pub extra: Vec<InstanceId>,
    /// Instances in Standby: shown, but not counted in `running` or `extra` (Auto Scaling
    /// leaves them out of desired capacity and never scales them in).
    #[serde(default)]
    pub standby: Vec<InstanceId>,
    /// When the recycle in progress spins down, if one is.
    pub recycle_in_progress_until: Option<DateTime<Utc>>,
}

impl GroupPreCheck {
    /// Findings that should stop a deploy, in words.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(until) = self.recycle_in_progress_until {
            out.push(format!(
                "{} has a recycle in progress until {}: wait for it to finish",
                self.group,
                show_time(until)
            ));
        }
        if !self.extra.is_empty() {
            out.push(format!(
                "{} has {} running instances for desired {} ({} extra{}): scale in old \
                 instances before deploying",
                self.group,
                self.running,
                self.capacity.desired,
                self.extra.len(),
                self.standby_aside()
            ));
        }
        out
    }

    /// `; 1 instance in Standby (not counted): i-…` when the group has some, else empty: the
    /// aside of the messages that count the group's instances.
    pub fn standby_aside(&self) -> String {
        standby_note(&self.standby)
            .map(|n| format!("; {n}"))
            .unwrap_or_default()
    }
}

/// The pre-checks of an environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreCheckReport {
    /// One entry per checked group.
    pub groups: Vec<GroupPreCheck>,
}

impl PreCheckReport {
    /// Every finding that should stop a deploy.
    pub fn problems(&self) -> Vec<String> {
        self.groups.iter().flat_map(|g| g.problems()).collect()
    }

    /// Whether nothing stops a deploy.
    pub fn is_clear(&self) -> bool {
        self.groups.iter().all(|g| g.problems().is_empty())
    }
}

/// Checks one group.
pub fn check_group(group: &Group) -> GroupPreCheck {
    let in_progress = group.recycle_in_progress().map(|a| a.start_time);
    // Beyond the desired capacity, with no recycle under way: a recycle's leftovers.
    let extra = if in_progress.is_some() {
        Vec::new()
    } else {
        group.old_instances()
    };
    GroupPreCheck {
        group: group.name.clone(),
        capacity: group.capacity,
        running: u32::try_from(group.counted_instances().count()).unwrap_or(u32::MAX),
        extra,
        standby: group.standby_instances().map(|i| i.id.clone()).collect(),
        recycle_in_progress_until: in_progress,
    }
}

/// Checks the groups `roles` selects (`ALL`: every group [`Group::skipped_by_all`] does not
/// skip; a role: that group, plus `worker` for `idp`, as a recycle would touch them). The
/// migration group is always checked for a recycle in progress when present.
pub fn check_groups(groups: &[Group], env: &EnvName, roles: &RoleSelector) -> PreCheckReport {
    let migration = RoleName::migration();
    let selected = groups.iter().filter(|g| {
        &g.name.env == env
            && match roles {
                RoleSelector::All => !g.skipped_by_all() || g.name.role == migration,
                RoleSelector::Role(r) => {
                    &g.name.role == r
                        || g.name.role == migration
                        || (r.as_str() == "idp" && g.name.role.as_str() == "worker")
                }
            }
    });
    PreCheckReport {
        groups: selected.map(check_group).collect(),
    }
}

/// Reads the environment's groups and runs [`check_groups`]; every problem is also emitted
/// as a warning event.
pub async fn prechecks(
    ctx: &FleetContext<'_>,
    env: &EnvName,
    roles: &RoleSelector,
) -> Result<PreCheckReport> {
    let groups = ctx.fleet.groups(env).await?;
    let report = check_groups(&groups, env, roles);
    for p in report.problems() {
        ctx.warning(p);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet_ops::test_support::*;

    #[test]
    fn extra_servers_are_the_oldest_beyond_desired() {
        let mut idp = group("idp", 1, 2, 8);
        idp.instances = vec![inst(3, -100), inst(1, -3000), inst(2, -2000)];
        let report = check_groups(&[idp], &prod(), &"idp".parse().expect("role"));
        assert_eq!(report.groups[0].extra, [iid(1)]);
        assert!(!report.is_clear());
        assert!(report.problems()[0].contains("3 running instances for desired 2"));
    }

    #[test]
    fn a_recycle_in_progress_is_reported_instead_of_extra_servers() {
        let mut idp = with_recycle(group("idp", 1, 2, 8), at(400), 2);
        idp.instances = vec![inst(3, -100), inst(1, -3000), inst(2, -2000)];
        let report = check_groups(&[idp], &prod(), &"idp".parse().expect("role"));
        assert!(report.groups[0].extra.is_empty());
        let problems = report.problems();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("in progress until 2026-11-24 17:06:40 UTC"));
    }

    #[test]
    fn all_checks_app_groups_and_the_migration_group() {
        let mut groups = prod_groups();
        groups[2] = with_recycle(tagged(group("migration", 0, 1, 1), "utility"), at(60), 0);
        let report = check_groups(&groups, &prod(), &RoleSelector::All);
        let names: Vec<String> = report.groups.iter().map(|g| g.group.to_string()).collect();
        assert_eq!(
            names,
            ["prod-idp", "prod-migration", "prod-pivcac", "prod-worker"]
        );
        assert_eq!(report.problems().len(), 1);
    }

    #[test]
    fn standby_instances_are_not_extra_and_are_noted_aside() {
        use crate::model::fleet::Lifecycle;
        // pivcac desired 1 after its oldest instance entered Standby (desired decremented).
        let mut pivcac = group("pivcac", 0, 1, 4);
        pivcac.instances = vec![inst(1, -3000), inst(2, -2000)];
        pivcac.instances[0].lifecycle = Lifecycle::Standby;
        let report = check_groups(&[pivcac.clone()], &prod(), &"pivcac".parse().expect("role"));
        assert!(report.is_clear(), "{:?}", report.problems());
        assert_eq!(report.groups[0].running, 1);
        assert_eq!(report.groups[0].standby, [iid(1)]);
        // With a real leftover too, only it is extra, and the Standby one is noted aside.
        pivcac.instances.push(inst(3, -100));
        let report = check_groups(&[pivcac], &prod(), &"pivcac".parse().expect("role"));
        assert_eq!(report.groups[0].extra, [iid(2)]);
        let problems = report.problems();
        assert!(
            problems[0].contains(
                "2 running instances for desired 1 (1 extra; 1 instance in Standby (not \
                 counted): i-00000001)"
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn a_quiet_fleet_is_clear() {
        let report = check_groups(&prod_groups(), &prod(), &RoleSelector::All);
        assert!(report.is_clear());
    }
}
