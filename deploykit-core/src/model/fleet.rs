//! Auto Scaling groups, their instances, capacity and scheduled actions.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;

/// The name of the scheduled action that scales a recycled group back down (the spindown).
pub const RECYCLE_ACTION: &str = "RecycleOnce.asg-recycle";
/// The name of the scheduled action that scales a group out after the migration head start.
pub const DELAYED_SCALE_OUT_ACTION: &str = "DelayedScaleOutOnce.asg-recycle";
/// Group tag keys that exclude a group from `ALL`.
pub const SKIPPED_GROUP_TAGS: [&str; 2] = ["stateful", "utility"];

/// An EC2 instance id such as `i-0abc123def4567890`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceId(String);

impl InstanceId {
    /// Parses `i-` followed by 8 to 17 hexadecimal digits.
    pub fn new(s: impl AsRef<str>) -> Result<Self> {
        let s = s.as_ref();
        let ok = s.strip_prefix("i-").is_some_and(|hex| {
            (8..=17).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Err(Error::invalid_input(format!(
                "invalid instance id {s:?}: expected i- and 8 to 17 hexadecimal digits \
                 (e.g. i-0abc123def4567890)"
            )));
        }
        Ok(InstanceId(s.to_ascii_lowercase()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InstanceId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        InstanceId::new(s)
    }
}
impl TryFrom<String> for InstanceId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        InstanceId::new(s)
    }
}
impl From<InstanceId> for String {
    fn from(i: InstanceId) -> String {
        i.0
    }
}
impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Auto Scaling group name, `<env>-<role>`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct GroupName {
    /// The environment half.
    pub env: EnvName,
    /// The role half.
    pub role: RoleName,
}

impl GroupName {
    /// The group of `role` in `env`.
    pub fn new(env: &EnvName, role: &RoleName) -> Self {
        GroupName {
            env: env.clone(),
            role: role.clone(),
        }
    }

    /// Splits `<env>-<role>` given the environment it belongs to.
    pub fn parse_in(env: &EnvName, name: &str) -> Result<Self> {
        let role = name
            .strip_prefix(env.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "group {name:?} is not in environment {env}: expected {env}-<role>"
                ))
            })?;
        Ok(GroupName::new(env, &RoleName::new(role)?))
    }

    /// The group `name` as a group of `env`, when it is `<env>-<role>` with a valid role
    /// containing no `-`; `None` for any other name.
    ///
    /// Environment names may contain `-` (the sandbox `dev-jdoe`) and Login.gov role names do
    /// not, so `dev-jdoe-idp` is the `idp` group of `dev-jdoe`, not a `jdoe-idp` group of
    /// `dev`. A name whose suffix is no role name at all (`staging-GitLab.Runner`) is some
    /// other tool's group, not deploykit's. Listing an environment's groups keeps exactly
    /// the names this accepts.
    ///
    /// ```
    /// use deploykit_core::model::fleet::GroupName;
    /// use deploykit_core::model::names::EnvName;
    ///
    /// let dev = EnvName::new("dev").unwrap();
    /// let idp = GroupName::member_of(&dev, "dev-idp").unwrap();
    /// assert_eq!((idp.env.as_str(), idp.role.as_str()), ("dev", "idp"));
    /// // The sandbox `dev-jdoe`'s group is not one of `dev`'s...
    /// assert_eq!(GroupName::member_of(&dev, "dev-jdoe-idp"), None);
    /// let sandbox = EnvName::new("dev-jdoe").unwrap();
    /// assert!(GroupName::member_of(&sandbox, "dev-jdoe-idp").is_some());
    /// // ...and neither are other environments' groups or other tools' groups.
    /// assert_eq!(GroupName::member_of(&dev, "devx-idp"), None);
    /// assert_eq!(GroupName::member_of(&dev, "dev-GitLab.Runner"), None);
    /// assert_eq!(GroupName::member_of(&dev, "dev-"), None);
    /// ```
    pub fn member_of(env: &EnvName, name: &str) -> Option<Self> {
        let role = name
            .strip_prefix(env.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|role| !role.contains('-'))?;
        RoleName::new(role)
            .ok()
            .map(|role| GroupName::new(env, &role))
    }

    /// The instances' `Name` tag, `asg-<env>-<role>`.
    pub fn instance_name(&self) -> String {
        format!("asg-{self}")
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.env, self.role)
    }
}

/// min / desired / max of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Capacity {
    /// Minimum size.
    pub min: u32,
    /// Desired capacity.
    pub desired: u32,
    /// Maximum size.
    pub max: u32,
}

impl Capacity {
    /// Checks min <= desired <= max.
    pub fn validate(&self) -> Result<()> {
        if self.min > self.desired || self.desired > self.max {
            return Err(Error::invalid_input(format!(
                "invalid capacity min {} / desired {} / max {}: need min <= desired <= max",
                self.min, self.desired, self.max
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "min {} / desired {} / max {}",
            self.min, self.desired, self.max
        )
    }
}

/// A change to some of a group's capacity values (`None` keeps the current value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CapacityChange {
    /// New minimum size.
    pub min: Option<u32>,
    /// New desired capacity.
    pub desired: Option<u32>,
    /// New maximum size.
    pub max: Option<u32>,
}

impl CapacityChange {
    /// Only the desired capacity.
    pub fn desired(desired: u32) -> Self {
        CapacityChange {
            desired: Some(desired),
            ..Default::default()
        }
    }

    /// The capacity after applying this change to `current`.
    pub fn apply(&self, current: Capacity) -> Capacity {
        Capacity {
            min: self.min.unwrap_or(current.min),
            desired: self.desired.unwrap_or(current.desired),
            max: self.max.unwrap_or(current.max),
        }
    }
}

/// A one-time capacity change stored on the group, run by Auto Scaling at `start_time`
/// (so it happens even if deploykit dies).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScheduledAction {
    /// The action's name, unique per group (e.g. [`RECYCLE_ACTION`]).
    pub name: String,
    /// When it runs.
    pub start_time: DateTime<Utc>,
    /// The capacity change it makes.
    pub change: CapacityChange,
}

/// Auto Scaling lifecycle state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Launching / bootstrapping.
    Pending,
    /// Serving.
    InService,
    /// In standby.
    Standby,
    /// Being removed.
    Terminating,
    /// Gone.
    Terminated,
    /// Being detached.
    Detaching,
    /// Any other state the backend reports.
    Other,
}

impl Lifecycle {
    /// Whether the instance is running or about to: pending, in service or in standby. A
    /// Standby instance runs but does not count toward capacity (see
    /// [`Lifecycle::counts_toward_capacity`]).
    pub fn is_running(self) -> bool {
        self.counts_toward_capacity() || self == Lifecycle::Standby
    }

    /// Whether the instance counts toward the group's desired capacity: pending or in
    /// service. Auto Scaling leaves Standby instances out of desired capacity and never
    /// terminates them on scale-in.
    pub fn counts_toward_capacity(self) -> bool {
        matches!(self, Lifecycle::Pending | Lifecycle::InService)
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lifecycle::Pending => "Pending",
            Lifecycle::InService => "InService",
            Lifecycle::Standby => "Standby",
            Lifecycle::Terminating => "Terminating",
            Lifecycle::Terminated => "Terminated",
            Lifecycle::Detaching => "Detaching",
            Lifecycle::Other => "Other",
        })
    }
}

/// Auto Scaling health status of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Healthy.
    Healthy,
    /// Unhealthy (will be replaced).
    Unhealthy,
}

/// Load-balancer view of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LbState {
    /// Passing health checks, taking traffic.
    Healthy,
    /// Registered, first checks not passed yet.
    Initial,
    /// Failing health checks.
    Unhealthy,
    /// Deregistering.
    Draining,
    /// Not registered / not in use.
    Unused,
    /// The load balancer could not say.
    Unavailable,
}

/// Load-balancer health of one instance of a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetHealth {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its state in the load balancer.
    pub state: LbState,
    /// The load balancer's reason, if any.
    pub reason: Option<String>,
}

/// One instance of a group, as the fleet sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    /// Instance id.
    pub id: InstanceId,
    /// When it was launched.
    pub launch_time: DateTime<Utc>,
    /// Auto Scaling lifecycle state.
    pub lifecycle: Lifecycle,
    /// Auto Scaling health.
    pub health: HealthStatus,
    /// Whether it is protected from scale-in.
    pub protected_from_scale_in: bool,
    /// Tags, including `Name` and `gitsha:<app>`.
    pub tags: BTreeMap<String, String>,
    /// AMI id, if known.
    pub image_id: Option<String>,
    /// Instance type, if known.
    pub instance_type: Option<String>,
    /// Availability zone, if known.
    pub availability_zone: Option<String>,
}

impl Instance {
    /// The deployed SHA from the `gitsha:*` tag, if any instance tag carries one.
    pub fn deployed_sha(&self) -> Option<Sha> {
        self.tags
            .iter()
            .find(|(k, _)| k.starts_with("gitsha:"))
            .and_then(|(_, v)| Sha::new(v).ok())
    }

    /// When the instance's health check grace period of `grace_secs` ends.
    pub fn grace_ends(&self, grace_secs: u64) -> DateTime<Utc> {
        let grace = i64::try_from(grace_secs)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::TimeDelta::MAX);
        self.launch_time
            .checked_add_signed(grace)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whether the instance is past its health check grace period at `now`.
    pub fn past_grace(&self, grace_secs: u64, now: DateTime<Utc>) -> bool {
        self.grace_ends(grace_secs) <= now
    }
}

/// An Auto Scaling group with its instances and scheduled actions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    /// `<env>-<role>`.
    pub name: GroupName,
    /// min / desired / max.
    pub capacity: Capacity,
    /// Health check grace period in seconds.
    pub health_check_grace_secs: u64,
    /// Group tags (e.g. `stateful`, `utility`).
    pub tags: BTreeMap<String, String>,
    /// The group's instances (running or not).
    pub instances: Vec<Instance>,
    /// Scheduled actions stored on the group.
    pub scheduled_actions: Vec<ScheduledAction>,
}

impl Group {
    /// Whether `ALL` skips this group (tagged `stateful`/`utility`, or desired capacity 0).
    pub fn skipped_by_all(&self) -> bool {
        self.capacity.desired == 0
            || SKIPPED_GROUP_TAGS
                .iter()
                .any(|t| self.tags.keys().any(|k| k.eq_ignore_ascii_case(t)))
    }

    /// The recycle's spindown action, if a recycle is in progress.
    pub fn recycle_in_progress(&self) -> Option<&ScheduledAction> {
        self.scheduled_actions
            .iter()
            .find(|a| a.name == RECYCLE_ACTION)
    }

    /// A recycle's delayed scale-out, if one is scheduled (it fires at the end of the
    /// migration head start).
    pub fn delayed_scale_out(&self) -> Option<&ScheduledAction> {
        self.scheduled_actions
            .iter()
            .find(|a| a.name == DELAYED_SCALE_OUT_ACTION)
    }

    /// Instances that are running (pending, in service or standby).
    pub fn running_instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.iter().filter(|i| i.lifecycle.is_running())
    }

    /// Instances that count toward the desired capacity (pending or in service): the running
    /// ones but those in Standby.
    pub fn counted_instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances
            .iter()
            .filter(|i| i.lifecycle.counts_toward_capacity())
    }

    /// Instances in Standby: running, but neither counted toward the desired capacity nor
    /// ever terminated by a scale-in.
    pub fn standby_instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances
            .iter()
            .filter(|i| i.lifecycle == Lifecycle::Standby)
    }

    /// `1 instance in Standby (not counted): i-…` when the group has instances in Standby,
    /// for the messages that count its instances.
    pub fn standby_note(&self) -> Option<String> {
        standby_note(self.standby_instances().map(|i| &i.id))
    }

    /// The instances counted toward the desired capacity, oldest launch first (ties by id),
    /// the order in which a recycle's old instances come before the ones it launched.
    pub fn counted_oldest_first(&self) -> Vec<&Instance> {
        let mut counted: Vec<_> = self.counted_instances().collect();
        counted.sort_by(|a, b| a.launch_time.cmp(&b.launch_time).then(a.id.cmp(&b.id)));
        counted
    }

    /// The counted instances a recycle is replacing: every one but the newest `n`, where `n`
    /// is the capacity the recycle's spindown returns the group to while the recycle is in
    /// progress, else the group's desired capacity (old instances protected from scale-in
    /// outlive the spindown until scale-in removes them). Empty when no recycle is under way
    /// or left any, and before a recycle's delayed scale-out has launched anything. Standby
    /// instances are never old: the group does not count them.
    pub fn old_instances(&self) -> Vec<InstanceId> {
        let keep = self
            .recycle_in_progress()
            .and_then(|a| a.change.desired)
            .unwrap_or(self.capacity.desired);
        let counted = self.counted_oldest_first();
        let extra = counted
            .len()
            .saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX));
        counted[..extra].iter().map(|i| i.id.clone()).collect()
    }
}

/// `N instance(s) in Standby (not counted): i-…, i-…`, or `None` for no instance.
pub fn standby_note<'a>(ids: impl IntoIterator<Item = &'a InstanceId>) -> Option<String> {
    let ids: Vec<&str> = ids.into_iter().map(InstanceId::as_str).collect();
    match ids.len() {
        0 => None,
        1 => Some(format!("1 instance in Standby (not counted): {}", ids[0])),
        n => Some(format!(
            "{n} instances in Standby (not counted): {}",
            ids.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_are_checked() {
        assert!(InstanceId::new("i-0abc123def4567890").is_ok());
        assert!(InstanceId::new("i-12345678").is_ok());
        for s in [
            "",
            "i-",
            "i-123",
            "x-12345678",
            "i-zzzzzzzz",
            "i-0abc123def45678901",
        ] {
            let err = InstanceId::new(s).expect_err(s);
            assert!(err.to_string().contains("instance id"), "{err}");
        }
    }

    #[test]
    fn group_names_split_by_environment() {
        let prod = EnvName::new("prod").expect("env");
        let g = GroupName::parse_in(&prod, "prod-idp").expect("group");
        assert_eq!(g.role.as_str(), "idp");
        assert_eq!(g.to_string(), "prod-idp");
        assert_eq!(g.instance_name(), "asg-prod-idp");
        assert!(GroupName::parse_in(&prod, "staging-idp").is_err());
        assert!(GroupName::parse_in(&prod, "prodidp").is_err());
    }

    #[test]
    fn membership_leaves_out_sandboxes_and_foreign_groups() {
        let dev = EnvName::new("dev").expect("env");
        let sandbox = EnvName::new("dev-jdoe").expect("env");
        let member = |env: &EnvName, name: &str| {
            GroupName::member_of(env, name).map(|g| (g.env.to_string(), g.role.to_string()))
        };
        assert_eq!(
            member(&dev, "dev-idp"),
            Some(("dev".to_string(), "idp".to_string()))
        );
        assert_eq!(
            member(&dev, "dev-migration_2"),
            Some(("dev".to_string(), "migration_2".to_string()))
        );
        assert_eq!(
            member(&sandbox, "dev-jdoe-idp"),
            Some(("dev-jdoe".to_string(), "idp".to_string()))
        );
        for name in [
            "dev-jdoe-idp",
            "dev-jdoe-worker",
            "dev-GitLab.Runner",
            "dev-",
            "dev",
            "devx-idp",
            "staging-idp",
            "dev-idp-",
            "dev--idp",
            "dev-Idp",
        ] {
            assert_eq!(member(&dev, name), None, "{name}");
        }
        assert_eq!(member(&sandbox, "dev-idp"), None);
    }

    #[test]
    fn old_instances_are_those_a_recycle_is_replacing() {
        use crate::fleet_ops::test_support::{at, group, inst, with_recycle};
        let ids = |g: &Group| -> Vec<String> {
            g.old_instances().iter().map(|i| i.to_string()).collect()
        };
        // Four instances, desired 4, nothing under way: no old ones.
        let mut g = group("idp", 2, 4, 16);
        g.instances = (1..=4).map(|n| inst(n, -3_600 + i64::from(n))).collect();
        assert!(g.old_instances().is_empty());
        // The recycle doubled the group (listed newest first, to show order does not count):
        // the four launched before it are old, whatever the spindown's time.
        let mut recycling = with_recycle(g.clone(), at(900), 4);
        recycling.capacity.desired = 8;
        recycling
            .instances
            .splice(0..0, (5..=8).rev().map(|n| inst(n, 60)));
        assert_eq!(
            ids(&recycling),
            ["i-00000001", "i-00000002", "i-00000003", "i-00000004"]
        );
        // Before its delayed scale-out launched anything, nothing is old yet.
        let mut waiting = with_recycle(g.clone(), at(900), 4);
        waiting.capacity.desired = 4;
        assert!(waiting.old_instances().is_empty());
        // After the spindown (desired back to 4) the protected old ones outlive it until
        // scale-in; a terminated instance is not counted.
        let mut spun_down = recycling.clone();
        spun_down.scheduled_actions.clear();
        spun_down.capacity.desired = 4;
        spun_down.instances.last_mut().expect("one").lifecycle = Lifecycle::Terminated;
        assert_eq!(ids(&spun_down), ["i-00000001", "i-00000002", "i-00000003"]);
    }

    #[test]
    fn standby_instances_are_running_but_neither_counted_nor_old() {
        use crate::fleet_ops::test_support::{group, iid, inst};
        // pivcac desired 1 after its oldest instance entered Standby (desired decremented).
        let mut g = group("pivcac", 0, 1, 4);
        g.instances = vec![inst(1, -7_200), inst(2, -3_600)];
        g.instances[0].lifecycle = Lifecycle::Standby;
        assert_eq!(g.running_instances().count(), 2);
        let counted: Vec<_> = g.counted_instances().map(|i| i.id.clone()).collect();
        assert_eq!(counted, [iid(2)]);
        assert!(g.old_instances().is_empty(), "{:?}", g.old_instances());
        assert_eq!(
            g.standby_note().as_deref(),
            Some("1 instance in Standby (not counted): i-00000001")
        );
        g.instances[1].lifecycle = Lifecycle::Standby;
        assert_eq!(
            g.standby_note().as_deref(),
            Some("2 instances in Standby (not counted): i-00000001, i-00000002")
        );
        g.instances.clear();
        assert_eq!(g.standby_note(), None);
    }

    #[test]
    fn capacity_changes_apply_and_validate() {
        let c = Capacity {
            min: 1,
            desired: 2,
            max: 4,
        };
        assert_eq!(
            CapacityChange::desired(4).apply(c),
            Capacity {
                min: 1,
                desired: 4,
                max: 4
            }
        );
        assert!(c.validate().is_ok());
        let err = Capacity {
            min: 3,
            desired: 2,
            max: 4,
        }
        .validate()
        .expect_err("min>desired");
        assert!(err.to_string().contains("min <= desired <= max"));
    }
}
