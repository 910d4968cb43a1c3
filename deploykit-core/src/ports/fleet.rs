//! `Fleet`: Auto Scaling groups, their instances and the load balancer in front of them.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::fleet::{
    CapacityChange, Group, GroupName, InstanceId, ScheduledAction, TargetHealth,
};
use crate::model::names::EnvName;

/// The servers of every environment, grouped as Auto Scaling groups `<env>-<role>`.
///
/// One call of [`Fleet::groups`] is one poll of an environment: it returns every group with
/// its capacity, instances and scheduled actions, at a bounded number of backend calls.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Fleet: Send + Sync + Debug {
    /// Every group of `env`, sorted by name.
    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>>;
    /// One group; NotFound naming it when it does not exist.
    async fn group(&self, name: &GroupName) -> Result<Group>;
    /// Changes min / desired / max. InvalidInput when the result breaks min <= desired <= max.
    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()>;
    /// Creates or replaces a scheduled action (by name).
    async fn put_scheduled_action(&self, group: &GroupName, action: &ScheduledAction)
    -> Result<()>;
    /// Deletes a scheduled action; NotFound when there is none with that name.
    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()>;
    /// Sets or clears scale-in protection on some of the group's instances.
    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()>;
    /// Load-balancer health of the group's instances (empty when no load balancer).
    async fn load_balancer_health(&self, group: &GroupName) -> Result<Vec<TargetHealth>>;
    /// Where the groups are looked for, as a message names it (`region us-west-2`), when
    /// that can be wrong: an environment with no group names it, so that a wrong region or
    /// account shows. `None` (the default) says nothing.
    fn location(&self) -> Option<String> {
        None
    }
}
