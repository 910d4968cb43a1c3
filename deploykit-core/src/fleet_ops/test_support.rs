//! Builders and a recording fleet for the fleet operations' unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::fleet_ops::FleetContext;
use crate::model::fleet::{
    Capacity, CapacityChange, Group, GroupName, HealthStatus, Instance, InstanceId, Lifecycle,
    RECYCLE_ACTION, ScheduledAction, TargetHealth,
};
use crate::model::names::{EnvName, RoleName};
use crate::ports::{Clock, Fleet};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0)
        .single()
        .expect("valid time")
}

pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

pub fn prod() -> EnvName {
    EnvName::new("prod").expect("env")
}

pub fn gname(role: &str) -> GroupName {
    GroupName::new(&prod(), &RoleName::new(role).expect("role"))
}

pub fn iid(n: u32) -> InstanceId {
    InstanceId::new(format!("i-{n:08x}")).expect("id")
}

/// A healthy, in-service, protected instance launched `launched` seconds from t0.
pub fn inst(n: u32, launched: i64) -> Instance {
    Instance {
        id: iid(n),
        launch_time: at(launched),
        lifecycle: Lifecycle::InService,
        health: HealthStatus::Healthy,
        protected_from_scale_in: true,
        tags: BTreeMap::new(),
        image_id: None,
        instance_type: None,
        availability_zone: None,
    }
}

pub fn group(role: &str, min: u32, desired: u32, max: u32) -> Group {
    Group {
        name: gname(role),
        capacity: Capacity { min, desired, max },
        health_check_grace_secs: 300,
        tags: BTreeMap::new(),
        instances: Vec::new(),
        scheduled_actions: Vec::new(),
    }
}

pub fn tagged(mut g: Group, tag: &str) -> Group {
    g.tags.insert(tag.to_string(), "true".to_string());
    g
}

pub fn with_recycle(mut g: Group, start: DateTime<Utc>, back_to: u32) -> Group {
    g.scheduled_actions.push(ScheduledAction {
        name: RECYCLE_ACTION.to_string(),
        start_time: start,
        change: CapacityChange::desired(back_to),
    });
    g
}

/// prod as the guide shows it: idp 4 (max 16), worker 2 (max 8), migration 0 (utility),
/// pivcac 2 (max 4), a stateful outboundproxy 2 (max 4), analytics 0.
pub fn prod_groups() -> Vec<Group> {
    vec![
        group("analytics", 0, 0, 4),
        group("idp", 2, 4, 16),
        tagged(group("migration", 0, 0, 1), "utility"),
        tagged(group("outboundproxy", 2, 2, 4), "stateful"),
        group("pivcac", 1, 2, 4),
        group("worker", 1, 2, 8),
    ]
}

/// A clock stuck at one time.
#[derive(Debug)]
pub struct FixedClock(pub DateTime<Utc>);

#[async_trait]
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
    async fn sleep(&self, _duration: Duration) {}
}

/// The fleet operations' context on `fleet` at `clock`, events dropped.
pub fn quiet<'a>(fleet: &'a RecordingFleet, clock: &'a FixedClock) -> FleetContext<'a> {
    FleetContext {
        fleet,
        clock,
        events: &crate::NullSink,
    }
}

/// One change a fleet was asked to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    SetCapacity(String, CapacityChange),
    PutAction(String, ScheduledAction),
    DeleteAction(String, String),
    Protection(String, Vec<InstanceId>, bool),
}

/// A fleet that serves fixed groups and records every change.
#[derive(Debug, Default)]
pub struct RecordingFleet {
    pub groups: Vec<Group>,
    pub calls: Mutex<Vec<Call>>,
}

impl RecordingFleet {
    pub fn new(groups: Vec<Group>) -> Self {
        RecordingFleet {
            groups,
            calls: Mutex::new(Vec::new()),
        }
    }
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }
    fn record(&self, call: Call) {
        self.calls.lock().expect("lock").push(call);
    }
}

#[async_trait]
impl Fleet for RecordingFleet {
    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
        Ok(self
            .groups
            .iter()
            .filter(|g| &g.name.env == env)
            .cloned()
            .collect())
    }
    async fn group(&self, name: &GroupName) -> Result<Group> {
        self.groups
            .iter()
            .find(|g| &g.name == name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("no group {name}")))
    }
    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()> {
        self.record(Call::SetCapacity(group.to_string(), change));
        Ok(())
    }
    async fn put_scheduled_action(
        &self,
        group: &GroupName,
        action: &ScheduledAction,
    ) -> Result<()> {
        self.record(Call::PutAction(group.to_string(), action.clone()));
        Ok(())
    }
    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()> {
        self.record(Call::DeleteAction(group.to_string(), name.to_string()));
        Ok(())
    }
    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()> {
        self.record(Call::Protection(
            group.to_string(),
            instances.to_vec(),
            protected,
        ));
        Ok(())
    }
    async fn load_balancer_health(&self, _group: &GroupName) -> Result<Vec<TargetHealth>> {
        Ok(Vec::new())
    }
}
