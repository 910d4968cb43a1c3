//! Every contract suite run against the fakes of the simulated world, and proof that the
//! suites bite: deliberately broken fakes fail them.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deploykit_core::contract::{self, fleet::FleetCapabilities, fleet::FleetHarness};
use deploykit_core::ports::{Clock, Fleet};
use deploykit_core::sim::{Faults, GroupSpec, SimFleet, SimFleetConfig, VirtualClock};
use deploykit_core::{
    CapacityChange, EnvName, Group, GroupName, InstanceId, Result, ScheduledAction, Sha,
    TargetHealth,
};

fn start() -> DateTime<Utc> {
    "2026-11-24T15:00:00Z".parse().expect("time")
}

fn sha(s: &str) -> Sha {
    Sha::new(s).expect("sha")
}

struct SimHarness {
    clock: Arc<VirtualClock>,
    sim: Arc<SimFleet>,
    fleet: Arc<dyn Fleet>,
}

fn sim_parts() -> (Arc<VirtualClock>, Arc<SimFleet>) {
    let clock = Arc::new(VirtualClock::new(start()));
    let faults = Arc::new(Faults::new());
    let sim = Arc::new(SimFleet::new(
        clock.clone(),
        faults,
        SimFleetConfig::default(),
    ));
    (clock, sim)
}

fn harness() -> SimHarness {
    let (clock, sim) = sim_parts();
    SimHarness {
        clock,
        fleet: sim.clone(),
        sim,
    }
}

#[async_trait]
impl FleetHarness for SimHarness {
    fn fleet(&self) -> &dyn Fleet {
        &*self.fleet
    }
    fn env(&self) -> EnvName {
        EnvName::new("contract").expect("env")
    }
    fn other_env(&self) -> EnvName {
        EnvName::new("contract-other").expect("env")
    }
    async fn create_group(
        &self,
        name: &GroupName,
        desired: u32,
    ) -> std::result::Result<(), String> {
        self.sim.add_group(GroupSpec::simple(
            name.clone(),
            desired,
            sha("1234567890abcdef"),
        ));
        Ok(())
    }
    async fn advance(&self, by: Duration) {
        self.clock.sleep(by).await;
    }
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
    fn capabilities(&self) -> FleetCapabilities {
        FleetCapabilities::all()
    }
}

macro_rules! fleet_contract {
    ($($f:ident),* $(,)?) => {
        mod fleet_contract {
            use super::*;
            $(
                #[tokio::test]
                async fn $f() {
                    let h = harness();
                    assert_eq!(contract::fleet::$f(&h).await, Ok(()));
                }
            )*
        }
    };
}

fleet_contract!(
    groups_sorted_and_filtered_by_env,
    unknown_group_is_not_found,
    capacity_is_validated,
    raise_desired_launches,
    lower_desired_spares_protected,
    lower_desired_terminates_oldest_first,
    protection_set_and_cleared,
    clearing_protection_scales_in,
    scheduled_actions_put_replace_delete,
    scheduled_action_fires,
    load_balancer_health_listed,
    all,
);

/// A fleet with two classic bugs: it clears scale-in protection before lowering desired
/// (so protected instances die), and it stores scheduled actions but never fires them.
#[derive(Debug)]
struct BrokenFleet {
    inner: Arc<SimFleet>,
    actions: Mutex<BTreeMap<GroupName, Vec<ScheduledAction>>>,
}

#[async_trait]
impl Fleet for BrokenFleet {
    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
        let mut groups = self.inner.groups(env).await?;
        for g in &mut groups {
            g.scheduled_actions = self.stored(&g.name);
        }
        Ok(groups)
    }
    async fn group(&self, name: &GroupName) -> Result<Group> {
        let mut g = self.inner.group(name).await?;
        g.scheduled_actions = self.stored(name);
        Ok(g)
    }
    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()> {
        let g = self.inner.group(group).await?;
        let protected: Vec<InstanceId> = g
            .instances
            .iter()
            .filter(|i| i.protected_from_scale_in)
            .map(|i| i.id.clone())
            .collect();
        self.inner
            .set_scale_in_protection(group, &protected, false)
            .await?;
        self.inner.set_capacity(group, change).await?;
        let left: Vec<InstanceId> = self
            .inner
            .group(group)
            .await?
            .instances
            .iter()
            .filter(|i| protected.contains(&i.id))
            .map(|i| i.id.clone())
            .collect();
        self.inner.set_scale_in_protection(group, &left, true).await
    }
    async fn put_scheduled_action(
        &self,
        group: &GroupName,
        action: &ScheduledAction,
    ) -> Result<()> {
        self.inner.group(group).await?;
        let mut all = self.actions.lock().expect("lock");
        let list = all.entry(group.clone()).or_default();
        list.retain(|a| a.name != action.name);
        list.push(action.clone());
        Ok(())
    }
    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()> {
        let mut all = self.actions.lock().expect("lock");
        let list = all.entry(group.clone()).or_default();
        let before = list.len();
        list.retain(|a| a.name != name);
        if list.len() == before {
            return Err(deploykit_core::Error::not_found(format!(
                "no action {name}"
            )));
        }
        Ok(())
    }
    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()> {
        self.inner
            .set_scale_in_protection(group, instances, protected)
            .await
    }
    async fn load_balancer_health(&self, group: &GroupName) -> Result<Vec<TargetHealth>> {
        self.inner.load_balancer_health(group).await
    }
}

impl BrokenFleet {
    fn stored(&self, group: &GroupName) -> Vec<ScheduledAction> {
        self.actions
            .lock()
            .expect("lock")
            .get(group)
            .cloned()
            .unwrap_or_default()
    }
}

fn broken_harness() -> SimHarness {
    let (clock, sim) = sim_parts();
    SimHarness {
        clock,
        fleet: Arc::new(BrokenFleet {
            inner: sim.clone(),
            actions: Mutex::new(BTreeMap::new()),
        }),
        sim,
    }
}

#[tokio::test]
async fn the_fleet_contract_catches_a_fleet_that_ignores_protection() {
    let h = broken_harness();
    let err = contract::fleet::lower_desired_spares_protected(&h)
        .await
        .expect_err("a fleet that kills protected instances must fail");
    assert!(err.contains("protected"), "{err}");
    let err = contract::fleet::lower_desired_terminates_oldest_first(&h)
        .await
        .expect_err("ignoring protection also breaks oldest-first with a protected oldest");
    assert!(err.contains("oldest"), "{err}");
}

#[tokio::test]
async fn the_fleet_contract_catches_a_fleet_that_never_fires_actions() {
    let h = broken_harness();
    // Storing, replacing and deleting work, so that check passes ...
    assert_eq!(
        contract::fleet::scheduled_actions_put_replace_delete(&h).await,
        Ok(())
    );
    // ... but firing does not.
    let err = contract::fleet::scheduled_action_fires(&h)
        .await
        .expect_err("a fleet that never fires actions must fail");
    assert!(err.contains("desired 4"), "{err}");
    assert!(contract::fleet::all(&h).await.is_err());
}
