//! A simulated fleet: Auto Scaling groups on the virtual clock.
//!
//! Instances launch `Pending`, become `InService` after `boot_secs`, and pass load-balancer
//! checks `lb_healthy_after_secs` later. Auto Scaling health is `Healthy` throughout, as AWS
//! reports it during the health check grace period (`grace_secs`, which the groups carry).
//! Lowering the desired capacity terminates the oldest unprotected instances and never a
//! protected one (the group may stay above desired, as in AWS). Instances put in Standby
//! ([`SimFleet::enter_standby`]) keep running but leave the load balancer, the desired
//! capacity and scale-in. Scheduled actions fire once at their start time and are then deleted. Timed
//! transitions are processed lazily, in chronological order, whenever any method is called.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};
use crate::model::fleet::{
    Capacity, CapacityChange, Group, GroupName, HealthStatus, Instance, InstanceId, LbState,
    Lifecycle, ScheduledAction, TargetHealth,
};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::{Clock, Fleet};
use crate::sim::{Faults, VirtualClock, lock};

/// The reason the simulated load balancer gives for instances of the unhealthy SHA.
pub const UNHEALTHY_REASON: &str =
    "Target.FailedHealthChecks: Health checks failed with these codes: [502]";

/// Timings and instance details of a [`SimFleet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimFleetConfig {
    /// Seconds from launch to `InService` (bootstrapping).
    pub boot_secs: u64,
    /// Seconds from `InService` to passing load-balancer health checks.
    pub lb_healthy_after_secs: u64,
    /// Instance type of launched instances.
    pub instance_type: String,
    /// AMI of launched instances.
    pub image_id: String,
    /// Availability zones instances are spread over, in turn.
    pub zones: Vec<String>,
}

impl Default for SimFleetConfig {
    fn default() -> Self {
        SimFleetConfig {
            boot_secs: 240,
            lb_healthy_after_secs: 60,
            instance_type: "c6i.2xlarge".into(),
            image_id: "ami-0f1e2d3c4b5a69788".into(),
            zones: vec![
                "us-west-2a".into(),
                "us-west-2b".into(),
                "us-west-2c".into(),
            ],
        }
    }
}

/// A group to create in a [`SimFleet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// `<env>-<role>`.
    pub name: GroupName,
    /// min / desired / max; `desired` instances exist from the start.
    pub capacity: Capacity,
    /// Health check grace period in seconds.
    pub grace_secs: u64,
    /// Group tags (e.g. `utility` for the migration group).
    pub tags: BTreeMap<String, String>,
    /// Whether instances launched by the group are protected from scale-in (production).
    pub protect_new_instances: bool,
    /// Whether a load balancer sits in front of the group (not the migration group).
    pub load_balanced: bool,
    /// The instance tag carrying the deployed SHA, e.g. `gitsha:idp`.
    pub app_tag: String,
    /// The SHA the initial instances run, and the group's release SHA until changed.
    pub sha: Sha,
}

impl GroupSpec {
    /// A load-balanced group with `desired` instances (min 0, max 10, grace 300 s,
    /// unprotected) running `sha` under tag `gitsha:<role>`.
    pub fn simple(name: GroupName, desired: u32, sha: Sha) -> Self {
        let app_tag = format!("gitsha:{}", name.role);
        GroupSpec {
            name,
            capacity: Capacity {
                min: 0,
                desired,
                max: desired.max(10),
            },
            grace_secs: 300,
            tags: BTreeMap::new(),
            protect_new_instances: false,
            load_balanced: true,
            app_tag,
            sha,
        }
    }
}

/// What happened in the fleet, for tests and the demo.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FleetEventKind {
    /// An instance was launched.
    Launched {
        /// The instance.
        instance: InstanceId,
        /// The SHA it runs.
        sha: Sha,
        /// Whether it is protected from scale-in.
        protected: bool,
    },
    /// An instance finished booting.
    InService {
        /// The instance.
        instance: InstanceId,
    },
    /// An instance passed its load-balancer health checks.
    LbHealthy {
        /// The instance.
        instance: InstanceId,
    },
    /// An instance failed its load-balancer health checks.
    LbUnhealthy {
        /// The instance.
        instance: InstanceId,
    },
    /// An instance was terminated.
    Terminated {
        /// The instance.
        instance: InstanceId,
    },
    /// Capacity was set through the port.
    CapacitySet {
        /// The new capacity.
        capacity: Capacity,
    },
    /// A scheduled action fired (and was deleted).
    ActionFired {
        /// Its name.
        name: String,
        /// The capacity after it fired.
        capacity: Capacity,
    },
    /// A scheduled action fired but its change broke min <= desired <= max.
    ActionFailed {
        /// Its name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A scheduled action was created or replaced.
    ActionPut {
        /// Its name.
        name: String,
        /// When it will fire.
        start_time: DateTime<Utc>,
    },
    /// A scheduled action was deleted through the port.
    ActionDeleted {
        /// Its name.
        name: String,
    },
    /// An instance entered Standby.
    EnteredStandby {
        /// The instance.
        instance: InstanceId,
        /// Whether the desired capacity was lowered for it (else a replacement launches).
        decremented: bool,
    },
    /// Scale-in protection changed on an instance.
    ProtectionChanged {
        /// The instance.
        instance: InstanceId,
        /// The new value.
        protected: bool,
    },
}

/// One entry of [`SimFleet::history`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FleetEvent {
    /// Virtual time it happened.
    pub at: DateTime<Utc>,
    /// The group.
    pub group: GroupName,
    /// What happened.
    pub kind: FleetEventKind,
}

/// Everything the simulation knows about one instance, terminated ones included (the
/// scripted logs and monitor read these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// The instance.
    pub id: InstanceId,
    /// Its group.
    pub group: GroupName,
    /// When it was launched.
    pub launch_time: DateTime<Utc>,
    /// When it became `InService`, if it did.
    pub in_service_at: Option<DateTime<Utc>>,
    /// When it was terminated, if it was.
    pub terminated_at: Option<DateTime<Utc>>,
    /// The SHA it runs.
    pub sha: Sha,
}

#[derive(Debug, Clone)]
struct SimInstance {
    id: InstanceId,
    launch_time: DateTime<Utc>,
    lifecycle: Lifecycle,
    in_service_at: Option<DateTime<Utc>>,
    lb: LbState,
    lb_reason: Option<String>,
    protected: bool,
    sha: Sha,
    zone: String,
}

#[derive(Debug)]
struct SimGroup {
    spec: GroupSpec,
    capacity: Capacity,
    release_sha: Sha,
    instances: Vec<SimInstance>,
    actions: Vec<ScheduledAction>,
}

impl SimGroup {
    fn healthy_in_service(&self) -> u32 {
        let n = self
            .instances
            .iter()
            .filter(|i| {
                i.lifecycle == Lifecycle::InService
                    && (!self.spec.load_balanced || i.lb == LbState::Healthy)
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

#[derive(Debug)]
struct State {
    groups: BTreeMap<GroupName, SimGroup>,
    retired: Vec<InstanceRecord>,
    history: Vec<FleetEvent>,
    next_instance: u64,
    unhealthy_sha: Option<Sha>,
    min_healthy: BTreeMap<GroupName, u32>,
    /// Everything up to here has been processed; nothing happens before it (an action put
    /// with a start time in the past fires now, not in the past).
    watermark: Option<DateTime<Utc>>,
}

enum Due {
    Boot(GroupName, InstanceId),
    Lb(GroupName, InstanceId),
    Action(GroupName, String),
}

/// The simulated fleet; see the module documentation.
#[derive(Debug)]
pub struct SimFleet {
    clock: Arc<VirtualClock>,
    faults: Arc<Faults>,
    config: SimFleetConfig,
    state: Mutex<State>,
}

fn secs(s: u64) -> Duration {
    Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
}

fn group_not_found(name: &GroupName) -> Error {
    Error::not_found(format!(
        "no Auto Scaling group named {name}; check the environment and role names"
    ))
    .with("group", name)
}

impl SimFleet {
    /// An empty fleet on `clock`, failing as `faults` says.
    pub fn new(clock: Arc<VirtualClock>, faults: Arc<Faults>, config: SimFleetConfig) -> Self {
        SimFleet {
            clock,
            faults,
            config,
            state: Mutex::new(State {
                groups: BTreeMap::new(),
                retired: Vec::new(),
                history: Vec::new(),
                next_instance: 0x0a1b_2c3d_0000_0001,
                unhealthy_sha: None,
                min_healthy: BTreeMap::new(),
                watermark: None,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SimFleetConfig {
        &self.config
    }

    /// Creates a group (replacing any of the same name) with `desired` instances launched one
    /// day ago, in service, healthy and taking traffic.
    pub fn add_group(&self, spec: GroupSpec) {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let launched = now - Duration::days(1);
        let mut instances = Vec::new();
        for _ in 0..spec.capacity.desired {
            let Some(mut inst) =
                self.new_instance(&mut st, launched, &spec.sha, spec.protect_new_instances)
            else {
                continue;
            };
            inst.lifecycle = Lifecycle::InService;
            inst.in_service_at = Some(launched + secs(self.config.boot_secs));
            inst.lb = if spec.load_balanced {
                LbState::Healthy
            } else {
                LbState::Unused
            };
            instances.push(inst);
        }
        let name = spec.name.clone();
        let group = SimGroup {
            capacity: spec.capacity,
            release_sha: spec.sha.clone(),
            spec,
            instances,
            actions: Vec::new(),
        };
        let healthy = group.healthy_in_service();
        if let Some(old) = st.groups.insert(name.clone(), group) {
            for inst in old.instances {
                st.retired.push(record(&name, &inst, Some(now)));
            }
        }
        st.min_healthy.insert(name, healthy);
    }

    /// Sets the SHA that instances of `<env>-<role>` launched from now on run.
    pub fn set_release_sha(&self, env: &EnvName, role: &RoleName, sha: Sha) -> Result<()> {
        self.set_group_release_sha(&GroupName::new(env, role), sha)
    }

    /// Sets the SHA that instances of `group` launched from now on run.
    pub fn set_group_release_sha(&self, group: &GroupName, sha: Sha) -> Result<()> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let g = st
            .groups
            .get_mut(group)
            .ok_or_else(|| group_not_found(group))?;
        g.release_sha = sha;
        Ok(())
    }

    /// Sets the release SHA of every group of `env` whose instances carry `app_tag`
    /// (e.g. `gitsha:idp` covers idp, worker and migration); returns how many groups changed.
    pub fn set_app_release_sha(&self, env: &EnvName, app_tag: &str, sha: &Sha) -> usize {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let mut n = 0;
        for g in st.groups.values_mut() {
            if &g.spec.name.env == env && g.spec.app_tag == app_tag {
                g.release_sha = sha.clone();
                n += 1;
            }
        }
        n
    }

    /// Instances running `sha` from now on never pass load-balancer checks
    /// (`LbState::Unhealthy` with a reason); `None` heals future instances.
    pub fn set_unhealthy_sha(&self, sha: Option<Sha>) {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        st.unhealthy_sha = sha;
    }

    /// The group as [`Fleet::group`] would return it, without counting a call or injecting
    /// faults.
    pub fn group_snapshot(&self, name: &GroupName) -> Result<Group> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let g = st.groups.get(name).ok_or_else(|| group_not_found(name))?;
        Ok(self.to_group(g))
    }

    /// Every launch, transition, termination and action so far, oldest first.
    pub fn history(&self) -> Vec<FleetEvent> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        st.history.clone()
    }

    /// Every instance ever launched or created, terminated ones included, by launch time.
    pub fn instance_records(&self) -> Vec<InstanceRecord> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let mut all = st.retired.clone();
        for (name, g) in &st.groups {
            all.extend(g.instances.iter().map(|i| record(name, i, None)));
        }
        all.sort_by(|a, b| (a.launch_time, &a.id).cmp(&(b.launch_time, &b.id)));
        all
    }

    /// One instance's record, terminated or not.
    pub fn instance_record(&self, id: &InstanceId) -> Option<InstanceRecord> {
        self.instance_records().into_iter().find(|r| &r.id == id)
    }

    /// Starts tracking healthy capacity afresh: the current count of `InService` and
    /// load-balancer-healthy instances of every group becomes its minimum.
    pub fn mark_capacity_baseline(&self) {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let mins: Vec<_> = st
            .groups
            .iter()
            .map(|(n, g)| (n.clone(), g.healthy_in_service()))
            .collect();
        st.min_healthy = mins.into_iter().collect();
    }

    /// The lowest number of `InService` and load-balancer-healthy instances (healthy
    /// `InService` for groups without a load balancer) `group` had at any transition since
    /// [`SimFleet::mark_capacity_baseline`] (or since it was created); 0 for unknown groups.
    pub fn min_healthy_in_service(&self, group: &GroupName) -> u32 {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        st.min_healthy.get(group).copied().unwrap_or(0)
    }

    /// Sets the health check grace period of `group` (Auto Scaling's
    /// `HealthCheckGracePeriod`), for instances old and new.
    pub fn set_grace_secs(&self, group: &GroupName, grace_secs: u64) -> Result<()> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let g = st
            .groups
            .get_mut(group)
            .ok_or_else(|| group_not_found(group))?;
        g.spec.grace_secs = grace_secs;
        Ok(())
    }

    /// Sets whether instances `group` launches from now on are protected from scale-in (Auto
    /// Scaling's `NewInstancesProtectedFromScaleIn`); instances already running keep theirs.
    pub fn set_protect_new_instances(&self, group: &GroupName, protect: bool) -> Result<()> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let g = st
            .groups
            .get_mut(group)
            .ok_or_else(|| group_not_found(group))?;
        g.spec.protect_new_instances = protect;
        Ok(())
    }

    /// Moves `instances` of `group` to Standby, as Auto Scaling's EnterStandby does: they keep
    /// running but leave the load balancer, the desired capacity and scale-in. With
    /// `decrement_desired` the desired capacity is lowered by one per instance; without, the
    /// group launches replacements.
    ///
    /// Errors, before any change: NotFound for an unknown group or an instance of it that is
    /// not InService; InvalidInput when lowering the desired capacity would go below min.
    pub fn enter_standby(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        decrement_desired: bool,
    ) -> Result<()> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        let g = st
            .groups
            .get_mut(group)
            .ok_or_else(|| group_not_found(group))?;
        if let Some(missing) = instances.iter().find(|id| {
            !g.instances
                .iter()
                .any(|i| &i.id == *id && i.lifecycle == Lifecycle::InService)
        }) {
            return Err(Error::not_found(format!(
                "instance {missing} is not an InService instance of group {group}"
            ))
            .with("group", group)
            .with("instance", missing));
        }
        if decrement_desired {
            let n = u32::try_from(instances.len()).unwrap_or(u32::MAX);
            let desired = g
                .capacity
                .desired
                .checked_sub(n)
                .filter(|d| *d >= g.capacity.min);
            let Some(desired) = desired else {
                return Err(Error::invalid_input(format!(
                    "putting {n} instance(s) of {group} in Standby would lower its desired \
                     capacity below its min {}",
                    g.capacity.min
                ))
                .with("group", group));
            };
            g.capacity.desired = desired;
        }
        for i in g.instances.iter_mut().filter(|i| instances.contains(&i.id)) {
            // Deregistered from the load balancer, if the group has one.
            i.lifecycle = Lifecycle::Standby;
            i.lb = LbState::Unused;
            i.lb_reason = None;
        }
        for id in instances {
            push(
                &mut st,
                now,
                group,
                FleetEventKind::EnteredStandby {
                    instance: id.clone(),
                    decremented: decrement_desired,
                },
            );
        }
        self.reconcile(&mut st, now, group);
        note_healthy(&mut st, group);
        Ok(())
    }

    fn new_instance(
        &self,
        st: &mut State,
        at: DateTime<Utc>,
        sha: &Sha,
        protected: bool,
    ) -> Option<SimInstance> {
        let n = st.next_instance;
        st.next_instance += 1;
        let zone = if self.config.zones.is_empty() {
            "us-west-2a".to_string()
        } else {
            let idx = usize::try_from(n % self.config.zones.len() as u64).unwrap_or(0);
            self.config.zones[idx].clone()
        };
        Some(SimInstance {
            // 17 hex digits: i-0 followed by 16.
            id: InstanceId::new(format!("i-0{n:016x}")).ok()?,
            launch_time: at,
            lifecycle: Lifecycle::Pending,
            in_service_at: None,
            lb: LbState::Initial,
            lb_reason: None,
            protected,
            sha: sha.clone(),
            zone,
        })
    }

    fn to_group(&self, g: &SimGroup) -> Group {
        let mut instances: Vec<Instance> = g
            .instances
            .iter()
            .map(|i| {
                let mut tags = BTreeMap::new();
                tags.insert("Name".to_string(), g.spec.name.instance_name());
                tags.insert(g.spec.app_tag.clone(), i.sha.to_string());
                Instance {
                    id: i.id.clone(),
                    launch_time: i.launch_time,
                    lifecycle: i.lifecycle,
                    health: HealthStatus::Healthy,
                    protected_from_scale_in: i.protected,
                    tags,
                    image_id: Some(self.config.image_id.clone()),
                    instance_type: Some(self.config.instance_type.clone()),
                    availability_zone: Some(i.zone.clone()),
                }
            })
            .collect();
        instances.sort_by(|a, b| (a.launch_time, &a.id).cmp(&(b.launch_time, &b.id)));
        let mut actions = g.actions.clone();
        actions.sort_by(|a, b| (a.start_time, &a.name).cmp(&(b.start_time, &b.name)));
        Group {
            name: g.spec.name.clone(),
            capacity: g.capacity,
            health_check_grace_secs: g.spec.grace_secs,
            tags: g.spec.tags.clone(),
            instances,
            scheduled_actions: actions,
        }
    }

    /// Processes every timed transition due up to `now`, oldest first.
    fn catch_up(&self, st: &mut State, now: DateTime<Utc>) {
        let boot = secs(self.config.boot_secs);
        let lb_after = secs(self.config.lb_healthy_after_secs);
        loop {
            // (time, priority, what): at equal times instances move before actions fire.
            let mut next: Option<(DateTime<Utc>, u8, Due)> = None;
            let watermark = st.watermark;
            let mut consider = |t: DateTime<Utc>, p: u8, due: Due| {
                let t = watermark.map_or(t, |w| t.max(w));
                if t <= now && next.as_ref().is_none_or(|(bt, bp, _)| (t, p) < (*bt, *bp)) {
                    next = Some((t, p, due));
                }
            };
            for (name, g) in &st.groups {
                for i in &g.instances {
                    match i.lifecycle {
                        Lifecycle::Pending => consider(
                            i.launch_time + boot,
                            0,
                            Due::Boot(name.clone(), i.id.clone()),
                        ),
                        Lifecycle::InService
                            if g.spec.load_balanced && i.lb == LbState::Initial =>
                        {
                            if let Some(t) = i.in_service_at {
                                consider(t + lb_after, 1, Due::Lb(name.clone(), i.id.clone()))
                            }
                        }
                        _ => {}
                    }
                }
                for a in &g.actions {
                    consider(a.start_time, 2, Due::Action(name.clone(), a.name.clone()));
                }
            }
            let Some((at, _, due)) = next else {
                break;
            };
            st.watermark = Some(at);
            let group = match &due {
                Due::Boot(g, _) | Due::Lb(g, _) | Due::Action(g, _) => g.clone(),
            };
            match due {
                Due::Boot(name, id) => {
                    if let Some(i) = instance_mut(st, &name, &id) {
                        i.lifecycle = Lifecycle::InService;
                        i.in_service_at = Some(at);
                    }
                    push(st, at, &name, FleetEventKind::InService { instance: id });
                }
                Due::Lb(name, id) => {
                    let unhealthy = st.unhealthy_sha.clone();
                    let mut healthy = true;
                    if let Some(i) = instance_mut(st, &name, &id) {
                        if unhealthy.as_ref().is_some_and(|u| u.matches(&i.sha)) {
                            i.lb = LbState::Unhealthy;
                            i.lb_reason = Some(UNHEALTHY_REASON.to_string());
                            healthy = false;
                        } else {
                            i.lb = LbState::Healthy;
                        }
                    }
                    let kind = if healthy {
                        FleetEventKind::LbHealthy { instance: id }
                    } else {
                        FleetEventKind::LbUnhealthy { instance: id }
                    };
                    push(st, at, &name, kind);
                }
                Due::Action(name, action) => self.fire_action(st, at, &name, &action),
            }
            note_healthy(st, &group);
        }
        st.watermark = Some(st.watermark.map_or(now, |w| w.max(now)));
    }

    fn fire_action(&self, st: &mut State, at: DateTime<Utc>, name: &GroupName, action: &str) {
        let Some(g) = st.groups.get_mut(name) else {
            return;
        };
        let Some(pos) = g.actions.iter().position(|a| a.name == action) else {
            return;
        };
        let a = g.actions.remove(pos);
        let cap = a.change.apply(g.capacity);
        match cap.validate() {
            Ok(()) => {
                g.capacity = cap;
                push(
                    st,
                    at,
                    name,
                    FleetEventKind::ActionFired {
                        name: a.name,
                        capacity: cap,
                    },
                );
                self.reconcile(st, at, name);
            }
            Err(e) => push(
                st,
                at,
                name,
                FleetEventKind::ActionFailed {
                    name: a.name,
                    reason: e.to_string(),
                },
            ),
        }
    }

    /// Launches or terminates instances so the group approaches its desired capacity:
    /// terminations take the oldest unprotected instances only. Standby instances are neither
    /// counted nor terminated.
    fn reconcile(&self, st: &mut State, at: DateTime<Utc>, name: &GroupName) {
        let Some(g) = st.groups.get(name) else { return };
        let running = g
            .instances
            .iter()
            .filter(|i| i.lifecycle.counts_toward_capacity())
            .count();
        let desired = usize::try_from(g.capacity.desired).unwrap_or(usize::MAX);
        if running < desired {
            let sha = g.release_sha.clone();
            let protect = g.spec.protect_new_instances;
            for _ in running..desired {
                let Some(inst) = self.new_instance(st, at, &sha, protect) else {
                    continue;
                };
                let kind = FleetEventKind::Launched {
                    instance: inst.id.clone(),
                    sha: sha.clone(),
                    protected: protect,
                };
                if let Some(g) = st.groups.get_mut(name) {
                    g.instances.push(inst);
                }
                push(st, at, name, kind);
            }
        } else if running > desired {
            let mut candidates: Vec<(DateTime<Utc>, InstanceId)> = g
                .instances
                .iter()
                .filter(|i| !i.protected && i.lifecycle.counts_toward_capacity())
                .map(|i| (i.launch_time, i.id.clone()))
                .collect();
            candidates.sort();
            for (_, id) in candidates.into_iter().take(running - desired) {
                let Some(g) = st.groups.get_mut(name) else {
                    return;
                };
                let Some(pos) = g.instances.iter().position(|i| i.id == id) else {
                    continue;
                };
                let inst = g.instances.remove(pos);
                st.retired.push(record(name, &inst, Some(at)));
                push(st, at, name, FleetEventKind::Terminated { instance: id });
            }
        }
        note_healthy(st, name);
    }

    fn with_group<T>(
        &self,
        op: &str,
        name: &GroupName,
        f: impl FnOnce(&Self, &mut State, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        self.faults.act(op, || {
            let now = self.clock.now();
            let mut st = lock(&self.state);
            self.catch_up(&mut st, now);
            if !st.groups.contains_key(name) {
                return Err(group_not_found(name));
            }
            f(self, &mut st, now)
        })
    }
}

fn record(
    group: &GroupName,
    i: &SimInstance,
    terminated_at: Option<DateTime<Utc>>,
) -> InstanceRecord {
    InstanceRecord {
        id: i.id.clone(),
        group: group.clone(),
        launch_time: i.launch_time,
        in_service_at: i.in_service_at,
        terminated_at,
        sha: i.sha.clone(),
    }
}

fn instance_mut<'a>(
    st: &'a mut State,
    group: &GroupName,
    id: &InstanceId,
) -> Option<&'a mut SimInstance> {
    st.groups
        .get_mut(group)?
        .instances
        .iter_mut()
        .find(|i| &i.id == id)
}

fn push(st: &mut State, at: DateTime<Utc>, group: &GroupName, kind: FleetEventKind) {
    st.history.push(FleetEvent {
        at,
        group: group.clone(),
        kind,
    });
}

fn note_healthy(st: &mut State, name: &GroupName) {
    let Some(g) = st.groups.get(name) else { return };
    let now = g.healthy_in_service();
    let min = st.min_healthy.entry(name.clone()).or_insert(now);
    *min = (*min).min(now);
}

#[async_trait]
impl Fleet for SimFleet {
    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
        self.faults.check("fleet.groups")?;
        let now = self.clock.now();
        let mut st = lock(&self.state);
        self.catch_up(&mut st, now);
        // BTreeMap order is (env, role) order, which is the order of `<env>-<role>` names
        // within one environment only when roles compare like their strings; sort by text.
        let mut groups: Vec<Group> = st
            .groups
            .values()
            .filter(|g| &g.spec.name.env == env)
            .map(|g| self.to_group(g))
            .collect();
        groups.sort_by_key(|g| g.name.to_string());
        Ok(groups)
    }

    async fn group(&self, name: &GroupName) -> Result<Group> {
        self.with_group("fleet.group", name, |me, st, _| {
            let g = st.groups.get(name).ok_or_else(|| group_not_found(name))?;
            Ok(me.to_group(g))
        })
    }

    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()> {
        self.with_group("fleet.set_capacity", group, |me, st, now| {
            let g = st
                .groups
                .get_mut(group)
                .ok_or_else(|| group_not_found(group))?;
            let cap = change.apply(g.capacity);
            cap.validate().map_err(|e| e.with("group", group))?;
            g.capacity = cap;
            push(
                st,
                now,
                group,
                FleetEventKind::CapacitySet { capacity: cap },
            );
            me.reconcile(st, now, group);
            Ok(())
        })
    }

    async fn put_scheduled_action(
        &self,
        group: &GroupName,
        action: &ScheduledAction,
    ) -> Result<()> {
        if action.name.trim().is_empty() {
            return Err(Error::invalid_input(
                "a scheduled action needs a name, e.g. RecycleOnce.asg-recycle",
            ));
        }
        self.with_group("fleet.put_scheduled_action", group, |me, st, now| {
            let g = st
                .groups
                .get_mut(group)
                .ok_or_else(|| group_not_found(group))?;
            g.actions.retain(|a| a.name != action.name);
            g.actions.push(action.clone());
            push(
                st,
                now,
                group,
                FleetEventKind::ActionPut {
                    name: action.name.clone(),
                    start_time: action.start_time,
                },
            );
            // An action due now (or in the past) fires at once, as Auto Scaling would soon.
            me.catch_up(st, now);
            Ok(())
        })
    }

    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()> {
        self.with_group("fleet.delete_scheduled_action", group, |_, st, now| {
            let g = st
                .groups
                .get_mut(group)
                .ok_or_else(|| group_not_found(group))?;
            let before = g.actions.len();
            g.actions.retain(|a| a.name != name);
            if g.actions.len() == before {
                return Err(Error::not_found(format!(
                    "group {group} has no scheduled action named {name:?}; it may have fired \
                     already"
                ))
                .with("group", group)
                .with("action", name));
            }
            push(
                st,
                now,
                group,
                FleetEventKind::ActionDeleted {
                    name: name.to_string(),
                },
            );
            Ok(())
        })
    }

    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()> {
        self.with_group("fleet.set_scale_in_protection", group, |me, st, now| {
            let g = st
                .groups
                .get_mut(group)
                .ok_or_else(|| group_not_found(group))?;
            if let Some(missing) = instances
                .iter()
                .find(|id| !g.instances.iter().any(|i| &i.id == *id))
            {
                return Err(Error::not_found(format!(
                    "instance {missing} is not a running instance of group {group}"
                ))
                .with("group", group)
                .with("instance", missing));
            }
            for i in g.instances.iter_mut().filter(|i| instances.contains(&i.id)) {
                i.protected = protected;
            }
            for id in instances {
                push(
                    st,
                    now,
                    group,
                    FleetEventKind::ProtectionChanged {
                        instance: id.clone(),
                        protected,
                    },
                );
            }
            if !protected {
                me.reconcile(st, now, group);
            }
            Ok(())
        })
    }

    async fn load_balancer_health(&self, group: &GroupName) -> Result<Vec<TargetHealth>> {
        self.with_group("fleet.load_balancer_health", group, |_, st, _| {
            let g = st.groups.get(group).ok_or_else(|| group_not_found(group))?;
            if !g.spec.load_balanced {
                return Ok(Vec::new());
            }
            let mut out: Vec<TargetHealth> = g
                .instances
                .iter()
                .map(|i| TargetHealth {
                    instance_id: i.id.clone(),
                    state: i.lb,
                    reason: i.lb_reason.clone(),
                })
                .collect();
            out.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Arc<VirtualClock>, Arc<Faults>, SimFleet, GroupName) {
        let clock = Arc::new(VirtualClock::new(
            "2026-11-24T15:00:00Z".parse().expect("time"),
        ));
        let faults = Arc::new(Faults::new());
        let fleet = SimFleet::new(clock.clone(), faults.clone(), SimFleetConfig::default());
        let name = GroupName::new(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
        );
        let mut spec = GroupSpec::simple(name.clone(), 2, Sha::new("aaaa1111").expect("sha"));
        spec.protect_new_instances = true;
        spec.app_tag = "gitsha:idp".into();
        fleet.add_group(spec);
        (clock, faults, fleet, name)
    }

    fn lb_states(fleet: &SimFleet, name: &GroupName) -> Vec<LbState> {
        let g = fleet.group_snapshot(name).expect("group");
        let st = lock(&fleet.state);
        g.instances
            .iter()
            .map(|i| {
                st.groups[name]
                    .instances
                    .iter()
                    .find(|x| x.id == i.id)
                    .map(|x| x.lb)
                    .unwrap_or(LbState::Unavailable)
            })
            .collect()
    }

    #[tokio::test]
    async fn new_instances_boot_then_pass_health_checks_on_virtual_time() {
        let (clock, _, fleet, name) = setup();
        fleet
            .set_release_sha(&name.env, &name.role, Sha::new("bbbb2222").expect("sha"))
            .expect("release");
        fleet.mark_capacity_baseline();
        fleet
            .set_capacity(&name, CapacityChange::desired(4))
            .await
            .expect("scale out");
        let g = fleet.group(&name).await.expect("group");
        let new: Vec<_> = g
            .instances
            .iter()
            .filter(|i| i.lifecycle == Lifecycle::Pending)
            .collect();
        assert_eq!(new.len(), 2);
        assert!(new.iter().all(|i| i.protected_from_scale_in));
        assert!(
            new.iter()
                .all(|i| i.tags.get("gitsha:idp").map(String::as_str) == Some("bbbb2222"))
        );
        assert!(
            new.iter()
                .all(|i| i.tags.get("Name").map(String::as_str) == Some("asg-prod-idp"))
        );
        clock.advance(std::time::Duration::from_secs(239));
        assert_eq!(
            fleet
                .group(&name)
                .await
                .expect("group")
                .instances
                .iter()
                .filter(|i| i.lifecycle == Lifecycle::InService)
                .count(),
            2
        );
        clock.advance(std::time::Duration::from_secs(1));
        assert_eq!(
            lb_states(&fleet, &name)
                .iter()
                .filter(|s| **s == LbState::Initial)
                .count(),
            2
        );
        clock.advance(std::time::Duration::from_secs(60));
        assert!(
            lb_states(&fleet, &name)
                .iter()
                .all(|s| *s == LbState::Healthy)
        );
        assert_eq!(fleet.min_healthy_in_service(&name), 2);
    }

    #[tokio::test]
    async fn the_unhealthy_sha_never_passes_health_checks() {
        let (clock, _, fleet, name) = setup();
        let bad = Sha::new("bad0bad0").expect("sha");
        fleet
            .set_group_release_sha(&name, bad.clone())
            .expect("release");
        fleet.set_unhealthy_sha(Some(bad));
        fleet
            .set_capacity(&name, CapacityChange::desired(4))
            .await
            .expect("scale out");
        clock.advance(std::time::Duration::from_secs(3600));
        let health = fleet.load_balancer_health(&name).await.expect("health");
        let unhealthy: Vec<_> = health
            .iter()
            .filter(|t| t.state == LbState::Unhealthy)
            .collect();
        assert_eq!(unhealthy.len(), 2);
        assert!(
            unhealthy
                .iter()
                .all(|t| t.reason.as_deref() == Some(UNHEALTHY_REASON))
        );
    }

    #[tokio::test]
    async fn a_spindown_before_boot_completes_drops_healthy_capacity_in_order() {
        // The spindown fires at 200 s, before the new instances finish booting at 240 s:
        // with protection cleared the old ones go first and healthy capacity drops to 0.
        let (clock, _, fleet, name) = setup();
        let ids: Vec<_> = fleet
            .group_snapshot(&name)
            .expect("g")
            .instances
            .iter()
            .map(|i| i.id.clone())
            .collect();
        fleet
            .set_scale_in_protection(&name, &ids, false)
            .await
            .expect("unprotect");
        fleet.mark_capacity_baseline();
        fleet
            .set_capacity(&name, CapacityChange::desired(4))
            .await
            .expect("out");
        let at = clock.now() + Duration::seconds(200);
        let spindown = ScheduledAction {
            name: "RecycleOnce.asg-recycle".into(),
            start_time: at,
            change: CapacityChange::desired(2),
        };
        fleet
            .put_scheduled_action(&name, &spindown)
            .await
            .expect("put");
        clock.advance(std::time::Duration::from_secs(1000));
        let g = fleet.group_snapshot(&name).expect("g");
        assert_eq!(g.instances.len(), 2);
        assert!(g.instances.iter().all(|i| !ids.contains(&i.id)));
        assert_eq!(fleet.min_healthy_in_service(&name), 0);
        let fired = fleet
            .history()
            .into_iter()
            .find(|e| matches!(e.kind, FleetEventKind::ActionFired { .. }))
            .expect("fired");
        assert_eq!(fired.at, at);
    }

    #[tokio::test]
    async fn standby_instances_leave_the_capacity_and_are_never_scaled_in() {
        let (clock, _, fleet, name) = setup();
        let ids: Vec<_> = fleet
            .group_snapshot(&name)
            .expect("g")
            .instances
            .iter()
            .map(|i| i.id.clone())
            .collect();
        // Decrementing: desired 2 -> 1, no replacement, out of the load balancer.
        fleet
            .enter_standby(&name, &ids[..1], true)
            .expect("standby");
        let g = fleet.group_snapshot(&name).expect("g");
        assert_eq!(g.capacity.desired, 1);
        assert_eq!(g.instances.len(), 2);
        assert_eq!(g.instances[0].lifecycle, Lifecycle::Standby);
        assert_eq!(lb_states(&fleet, &name)[0], LbState::Unused);
        // Unprotected and above desired, it is still never terminated.
        fleet
            .set_scale_in_protection(&name, &ids, false)
            .await
            .expect("unprotect");
        fleet
            .set_capacity(&name, CapacityChange::desired(1))
            .await
            .expect("desired 1");
        clock.advance(std::time::Duration::from_secs(600));
        let g = fleet.group_snapshot(&name).expect("g");
        assert_eq!(g.instances.len(), 2, "{:?}", g.instances);
        // Not decrementing: the group launches a replacement.
        fleet
            .enter_standby(&name, &ids[1..], false)
            .expect("standby");
        let g = fleet.group_snapshot(&name).expect("g");
        assert_eq!(g.capacity.desired, 1);
        assert_eq!(g.instances.len(), 3);
        assert_eq!(g.instances[2].lifecycle, Lifecycle::Pending);
        // Only InService instances can enter Standby, and desired stays at min or above.
        let err = fleet
            .enter_standby(&name, &ids[..1], false)
            .expect_err("in Standby already");
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
        clock.advance(std::time::Duration::from_secs(600));
        fleet
            .set_capacity(
                &name,
                CapacityChange {
                    min: Some(1),
                    ..Default::default()
                },
            )
            .await
            .expect("min 1");
        let newest = g.instances[2].id.clone();
        let err = fleet
            .enter_standby(&name, &[newest], true)
            .expect_err("below min");
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn every_call_counts_and_faults_fail_before_any_change() {
        let (_, faults, fleet, name) = setup();
        faults.inject("fleet.set_capacity", crate::sim::Fault::Throttle, 1);
        let e = fleet
            .set_capacity(&name, CapacityChange::desired(3))
            .await
            .expect_err("throttled");
        assert_eq!(e.kind(), crate::ErrorKind::RateLimited);
        assert_eq!(fleet.group_snapshot(&name).expect("g").capacity.desired, 2);
        fleet
            .set_capacity(&name, CapacityChange::desired(3))
            .await
            .expect("second try");
        assert_eq!(faults.calls("fleet.set_capacity"), 2);
        assert_eq!(faults.calls("fleet.group"), 0);
    }
    #[tokio::test]
    async fn an_action_put_in_the_past_fires_now_not_then() {
        let (clock, _, fleet, name) = setup();
        clock.advance(std::time::Duration::from_secs(600));
        let past = ScheduledAction {
            name: "DelayedScaleOutOnce.asg-recycle".into(),
            start_time: clock.now() - Duration::seconds(300),
            change: CapacityChange::desired(3),
        };
        fleet.put_scheduled_action(&name, &past).await.expect("put");
        let g = fleet.group(&name).await.expect("group");
        assert_eq!(g.capacity.desired, 3);
        assert!(g.scheduled_actions.is_empty());
        let newest = g.instances.iter().map(|i| i.launch_time).max();
        assert_eq!(newest, Some(clock.now()));
    }
}
