//! What the instances of an app say they run (their `gitsha:*` tags), per role, and whether
//! they disagree (a recycle half done, or old instances not scaled in yet).

use chrono::{DateTime, Utc};

use crate::model::fleet::{Group, GroupName};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;

/// How many running instances report one SHA (`None`: no `gitsha:*` tag).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShaCount {
    /// The SHA from the tag; `None` for instances without one.
    pub sha: Option<Sha>,
    /// Running instances reporting it.
    pub instances: u32,
}

impl ShaCount {
    /// `4×abc1234` (or `4×untagged`).
    pub fn label(&self) -> String {
        let sha = self.sha.as_ref().map_or("untagged", |s| s.short());
        format!("{}×{sha}", self.instances)
    }
}

/// The running instances of one group of the app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleInstances {
    /// The group, `<env>-<role>`.
    pub group: GroupName,
    /// Running instances per SHA, most instances first (then tagged before untagged, then by
    /// SHA).
    pub shas: Vec<ShaCount>,
    /// When a recycle in progress scales the group back down (its spindown action).
    pub recycle_spindown_at: Option<DateTime<Utc>>,
}

impl RoleInstances {
    /// Running instances of the group.
    pub fn running(&self) -> u32 {
        self.shas.iter().map(|c| c.instances).sum()
    }
}

/// The instances of an app in an environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppInstances {
    /// One entry per role of the app that has a group, in the app's role order.
    pub roles: Vec<RoleInstances>,
    /// Roles of the app without a group in the environment.
    pub missing_groups: Vec<GroupName>,
    /// Running instances per SHA over every role, most instances first.
    pub shas: Vec<ShaCount>,
    /// Set when instances report more than one SHA: which groups run what, and what it
    /// likely means.
    pub mixed: Option<String>,
}

impl AppInstances {
    /// The SHA every tagged running instance reports, when there is exactly one.
    pub fn single_sha(&self) -> Option<&Sha> {
        let mut tagged = self.shas.iter().filter_map(|c| c.sha.as_ref());
        let first = tagged.next()?;
        tagged.next().is_none().then_some(first)
    }

    /// Whether instances disagree on the SHA.
    pub fn is_mixed(&self) -> bool {
        self.mixed.is_some()
    }
}

fn count_shas<'a>(shas: impl Iterator<Item = (Option<Sha>, u32)> + 'a) -> Vec<ShaCount> {
    let mut counts: Vec<ShaCount> = Vec::new();
    for (sha, n) in shas {
        match counts.iter_mut().find(|c| c.sha == sha) {
            Some(c) => c.instances += n,
            None => counts.push(ShaCount { sha, instances: n }),
        }
    }
    counts.sort_by(|a, b| {
        b.instances
            .cmp(&a.instances)
            .then(a.sha.is_none().cmp(&b.sha.is_none()))
            .then(a.sha.cmp(&b.sha))
    });
    counts
}

fn role_instances(group: &Group) -> RoleInstances {
    RoleInstances {
        group: group.name.clone(),
        shas: count_shas(group.running_instances().map(|i| (i.deployed_sha(), 1))),
        recycle_spindown_at: group.recycle_in_progress().map(|a| a.start_time),
    }
}

fn explain_mixed(roles: &[RoleInstances], shas: &[ShaCount]) -> String {
    let per_group: Vec<String> = roles
        .iter()
        .filter(|r| r.running() > 0)
        .map(|r| {
            let counts: Vec<String> = r.shas.iter().map(ShaCount::label).collect();
            format!("{} runs {}", r.group, counts.join(" + "))
        })
        .collect();
    let recycling = roles.iter().any(|r| r.recycle_spindown_at.is_some());
    let meaning = if recycling {
        "a recycle is in progress: old and new instances serve side by side until the \
         spindown, then old ones must be scaled in"
    } else {
        "a recycle is half done, or old instances were not scaled in: check `servers ls` \
         and finish with `scale-in old` (or roll back with `scale-in new`)"
    };
    let distinct = shas.iter().filter(|c| c.sha.is_some()).count();
    format!(
        "instances disagree ({distinct} SHAs): {}; {meaning}",
        per_group.join("; ")
    )
}

/// The instances of the app whose roles are `roles` among `groups` (one environment's),
/// with `mixed` set when running instances report more than one SHA. Untagged instances are
/// counted but do not make a group mixed on their own.
pub fn app_instances(groups: &[Group], env: &EnvName, roles: &[RoleName]) -> AppInstances {
    let mut found = Vec::new();
    let mut missing_groups = Vec::new();
    for role in roles {
        let name = GroupName::new(env, role);
        match groups.iter().find(|g| g.name == name) {
            Some(g) => found.push(role_instances(g)),
            None => missing_groups.push(name),
        }
    }
    let shas = count_shas(
        found
            .iter()
            .flat_map(|r| r.shas.iter().map(|c| (c.sha.clone(), c.instances))),
    );
    let distinct = shas.iter().filter(|c| c.sha.is_some()).count();
    let mixed = (distinct > 1).then(|| explain_mixed(&found, &shas));
    AppInstances {
        roles: found,
        missing_groups,
        shas,
        mixed,
    }
}

/// The SHA of the newest running instance of `<env>-migration`, if any: where the last
/// migration ran when a migration instance is still up.
pub fn migration_instance_sha(groups: &[Group], env: &EnvName) -> Option<Sha> {
    let name = GroupName::new(env, &RoleName::migration());
    groups
        .iter()
        .find(|g| g.name == name)?
        .running_instances()
        .filter(|i| i.deployed_sha().is_some())
        .max_by_key(|i| i.launch_time)
        .and_then(|i| i.deployed_sha())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::fleet::{
        Capacity, CapacityChange, HealthStatus, Instance, InstanceId, Lifecycle, RECYCLE_ACTION,
        ScheduledAction,
    };

    fn sha(c: char) -> Sha {
        Sha::new(c.to_string().repeat(40)).expect("sha")
    }

    fn group(env: &EnvName, role: &str, shas: &[Option<Sha>]) -> Group {
        let instances = shas
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let mut tags = BTreeMap::new();
                if let Some(s) = s {
                    tags.insert(format!("gitsha:{role}"), s.to_string());
                }
                Instance {
                    id: InstanceId::new(format!("i-{:08x}{}", n, role.len())).expect("id"),
                    launch_time: DateTime::<Utc>::UNIX_EPOCH,
                    lifecycle: Lifecycle::InService,
                    health: HealthStatus::Healthy,
                    protected_from_scale_in: false,
                    tags,
                    image_id: None,
                    instance_type: None,
                    availability_zone: None,
                }
            })
            .collect();
        Group {
            name: GroupName::new(env, &RoleName::new(role).expect("role")),
            capacity: Capacity {
                min: 0,
                desired: 2,
                max: 8,
            },
            health_check_grace_secs: 300,
            tags: BTreeMap::new(),
            instances,
            scheduled_actions: Vec::new(),
        }
    }

    fn roles(names: &[&str]) -> Vec<RoleName> {
        names
            .iter()
            .map(|n| RoleName::new(n).expect("role"))
            .collect()
    }

    #[test]
    fn one_sha_everywhere_is_not_mixed() {
        let env = EnvName::new("prod").expect("env");
        let groups = [
            group(&env, "idp", &[Some(sha('a')), Some(sha('a'))]),
            group(&env, "worker", &[Some(sha('a'))]),
        ];
        let got = app_instances(&groups, &env, &roles(&["idp", "worker"]));
        assert!(!got.is_mixed());
        assert_eq!(got.single_sha(), Some(&sha('a')));
        assert_eq!(got.shas[0].instances, 3);
        assert!(got.missing_groups.is_empty());
    }

    #[test]
    fn disagreeing_groups_are_flagged_naming_groups_and_shas() {
        let env = EnvName::new("prod").expect("env");
        let mut idp = group(
            &env,
            "idp",
            &[Some(sha('a')), Some(sha('b')), Some(sha('b')), None],
        );
        idp.scheduled_actions.push(ScheduledAction {
            name: RECYCLE_ACTION.into(),
            start_time: DateTime::<Utc>::UNIX_EPOCH,
            change: CapacityChange::desired(2),
        });
        let groups = [idp, group(&env, "worker", &[Some(sha('a'))])];
        let got = app_instances(&groups, &env, &roles(&["idp", "worker", "pivcac"]));
        let why = got.mixed.clone().expect("mixed");
        assert!(
            why.contains("prod-idp runs 2×bbbbbbb + 1×aaaaaaa + 1×untagged"),
            "{why}"
        );
        assert!(why.contains("prod-worker runs 1×aaaaaaa"), "{why}");
        assert!(why.contains("recycle is in progress"), "{why}");
        assert_eq!(got.single_sha(), None);
        assert_eq!(got.missing_groups.len(), 1);
        assert_eq!(got.roles[0].running(), 4);
    }

    #[test]
    fn untagged_instances_alone_do_not_make_a_group_mixed() {
        let env = EnvName::new("int").expect("env");
        let groups = [group(&env, "idp", &[Some(sha('a')), None])];
        let got = app_instances(&groups, &env, &roles(&["idp"]));
        assert!(!got.is_mixed());
        assert_eq!(got.single_sha(), Some(&sha('a')));
    }
}
