//! The `Fleet` contract: what the recycle, scale-in and deploy workflows rely on.
//!
//! Each function takes a [`FleetHarness`], which owns the fleet under test, creates groups
//! and lets time pass. Group names are `<env>-ct-<behaviour>`; each function creates the
//! groups it uses, so functions can run in any order against one harness.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::contract::{Outcome, call, ensure, expect_error, skip};
use crate::error::ErrorKind;
use crate::model::fleet::{
    CapacityChange, Group, GroupName, InstanceId, LbState, Lifecycle, ScheduledAction,
};
use crate::model::names::{EnvName, RoleName};
use crate::ports::Fleet;

/// What a fleet backend can emulate; the suite skips (with a printed reason) what it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetCapabilities {
    /// Scheduled actions fire at their start time (moto stores them but never fires them).
    pub fires_scheduled_actions: bool,
    /// Instances launched at different times have different launch times, and the group
    /// terminates the oldest first (`OldestInstance` termination policy).
    pub terminates_oldest_first: bool,
    /// Clearing scale-in protection while the group runs more instances than desired makes
    /// the group terminate the now unprotected ones.
    pub scales_in_when_protection_cleared: bool,
    /// The groups created by the harness sit behind a load balancer whose target health can
    /// be read.
    pub load_balancer: bool,
}

impl FleetCapabilities {
    /// Everything (the simulated fleet, real AWS).
    pub fn all() -> Self {
        FleetCapabilities {
            fires_scheduled_actions: true,
            terminates_oldest_first: true,
            scales_in_when_protection_cleared: true,
            load_balancer: true,
        }
    }
}

/// The fleet under test and the means to set up groups and let time pass.
#[async_trait]
pub trait FleetHarness: Send + Sync {
    /// The fleet under test.
    fn fleet(&self) -> &dyn Fleet;
    /// The environment whose groups the suite creates and changes.
    fn env(&self) -> EnvName;
    /// A second environment (for filtering checks).
    fn other_env(&self) -> EnvName;
    /// Creates (or replaces) group `name` with min 0, desired `desired`, max 10, a 300 s
    /// grace period, `desired` running unprotected instances that are in service and healthy
    /// (behind a load balancer when the capabilities say so), and no scheduled actions.
    async fn create_group(&self, name: &GroupName, desired: u32) -> Result<(), String>;
    /// Lets `by` pass (virtual time for the simulation; a real wait, or nothing, otherwise).
    async fn advance(&self, by: Duration);
    /// The backend's current time (scheduled action start times are computed from it).
    fn now(&self) -> DateTime<Utc>;
    /// What the backend can emulate.
    fn capabilities(&self) -> FleetCapabilities;
}

fn group_name(env: &EnvName, role: &str) -> Result<GroupName, String> {
    RoleName::new(role)
        .map(|r| GroupName::new(env, &r))
        .map_err(|e| e.to_string())
}

async fn fresh(h: &dyn FleetHarness, role: &str, desired: u32) -> Result<GroupName, String> {
    let name = group_name(&h.env(), role)?;
    h.create_group(&name, desired).await?;
    Ok(name)
}

async fn get(h: &dyn FleetHarness, name: &GroupName) -> Result<Group, String> {
    call(&format!("group({name})"), h.fleet().group(name).await)
}

fn running_ids(g: &Group) -> Vec<InstanceId> {
    g.running_instances().map(|i| i.id.clone()).collect()
}

/// Time for launched instances to boot and pass health checks on any backend we emulate.
const SETTLE: Duration = Duration::from_secs(30 * 60);

/// `groups(env)` lists the environment's groups only, sorted by name.
pub async fn groups_sorted_and_filtered_by_env(h: &dyn FleetHarness) -> Outcome {
    // Role names have no '-' (Login.gov's do not): an environment's name may, so
    // `<env>-jdoe-ctsorta` is the group of the sandbox environment `<env>-jdoe`.
    let b = fresh(h, "ctsortb", 1).await?;
    let a = fresh(h, "ctsorta", 1).await?;
    let other = group_name(&h.other_env(), "ctsorta")?;
    h.create_group(&other, 1).await?;
    let env = h.env();
    let sandbox_env = EnvName::new(format!("{env}-jdoe")).map_err(|e| e.to_string())?;
    let sandbox = group_name(&sandbox_env, "ctsorta")?;
    h.create_group(&sandbox, 1).await?;
    let groups = call("groups(env)", h.fleet().groups(&env).await)?;
    let names: Vec<String> = groups.iter().map(|g| g.name.to_string()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    ensure!(
        names == sorted,
        "groups({env}) should be sorted by name, got {names:?}"
    );
    ensure!(
        groups.iter().all(|g| g.name.env == env),
        "groups({env}) returned groups of other environments: {names:?}"
    );
    ensure!(
        !names.contains(&sandbox.to_string()),
        "groups({env}) should leave out the sandbox environment's {sandbox}, got {names:?}"
    );
    let sandbox_groups = call("groups(sandbox env)", h.fleet().groups(&sandbox_env).await)?;
    ensure!(
        sandbox_groups.iter().map(|g| &g.name).eq([&sandbox]),
        "groups({sandbox_env}) should list {sandbox} alone"
    );
    for n in [&a, &b] {
        ensure!(
            names.contains(&n.to_string()),
            "groups({env}) should include {n}, got {names:?}"
        );
    }
    let other_groups = call("groups(other env)", h.fleet().groups(&h.other_env()).await)?;
    ensure!(
        other_groups.iter().any(|g| g.name == other)
            && other_groups.iter().all(|g| g.name.env != env),
        "groups({}) should list {other} and no group of {env}",
        h.other_env()
    );
    Ok(())
}

/// Operations on a group that does not exist fail with NotFound naming the group.
pub async fn unknown_group_is_not_found(h: &dyn FleetHarness) -> Outcome {
    let name = group_name(&h.env(), "ct-no-such-group")?;
    let text = name.to_string();
    expect_error(
        "group(missing)",
        h.fleet().group(&name).await,
        ErrorKind::NotFound,
        &text,
    )?;
    expect_error(
        "set_capacity(missing)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(1))
            .await,
        ErrorKind::NotFound,
        &text,
    )?;
    expect_error(
        "load_balancer_health(missing)",
        h.fleet().load_balancer_health(&name).await,
        ErrorKind::NotFound,
        &text,
    )
}

/// `set_capacity` refuses min > desired and desired > max with InvalidInput and changes
/// nothing.
pub async fn capacity_is_validated(h: &dyn FleetHarness) -> Outcome {
    let name = fresh(h, "ct-validate", 2).await?;
    let before = get(h, &name).await?.capacity;
    expect_error(
        "set_capacity(desired above max)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(before.max + 1))
            .await,
        ErrorKind::InvalidInput,
        "desired",
    )?;
    let min_above = CapacityChange {
        min: Some(before.desired + 1),
        ..Default::default()
    };
    expect_error(
        "set_capacity(min above desired)",
        h.fleet().set_capacity(&name, min_above).await,
        ErrorKind::InvalidInput,
        "min",
    )?;
    let after = get(h, &name).await?;
    ensure!(
        after.capacity == before,
        "a refused set_capacity must change nothing: capacity was {before}, now {}",
        after.capacity
    );
    ensure!(
        after.running_instances().count() == 2,
        "a refused set_capacity must not launch or terminate instances"
    );
    Ok(())
}

/// Raising desired launches instances that become InService and Healthy.
pub async fn raise_desired_launches(h: &dyn FleetHarness) -> Outcome {
    let name = fresh(h, "ct-raise", 2).await?;
    let before = get(h, &name).await?;
    let old = running_ids(&before);
    call(
        "set_capacity(desired 4)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(4))
            .await,
    )?;
    let g = get(h, &name).await?;
    ensure!(
        g.capacity.desired == 4,
        "desired should be 4, got {}",
        g.capacity
    );
    ensure!(
        g.running_instances().count() == 4,
        "raising desired to 4 should launch 2 instances, found {} running",
        g.running_instances().count()
    );
    h.advance(SETTLE).await;
    let g = get(h, &name).await?;
    let new: Vec<_> = g
        .instances
        .iter()
        .filter(|i| !old.contains(&i.id))
        .collect();
    ensure!(
        new.len() == 2,
        "expected 2 new instances, found {}",
        new.len()
    );
    let oldest_new = new.iter().map(|i| i.launch_time).min();
    let newest_old = before.instances.iter().map(|i| i.launch_time).max();
    ensure!(
        oldest_new >= newest_old,
        "new instances should have later launch times than the old ones"
    );
    ensure!(
        g.instances
            .iter()
            .all(|i| i.lifecycle == Lifecycle::InService
                && i.health == crate::model::fleet::HealthStatus::Healthy),
        "after {SETTLE:?} every instance should be InService and Healthy, got {:?}",
        g.instances
            .iter()
            .map(|i| (i.id.to_string(), i.lifecycle))
            .collect::<Vec<_>>()
    );
    Ok(())
}

/// Lowering desired never terminates instances protected from scale-in; the group stays
/// above desired instead.
pub async fn lower_desired_spares_protected(h: &dyn FleetHarness) -> Outcome {
    let name = fresh(h, "ct-protect", 3).await?;
    let ids = running_ids(&get(h, &name).await?);
    call(
        "set_scale_in_protection(all, true)",
        h.fleet().set_scale_in_protection(&name, &ids, true).await,
    )?;
    call(
        "set_capacity(desired 1)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(1))
            .await,
    )?;
    h.advance(Duration::from_secs(120)).await;
    let g = get(h, &name).await?;
    let left = running_ids(&g);
    ensure!(
        ids.iter().all(|id| left.contains(id)),
        "lowering desired to 1 terminated protected instances: had {ids:?}, left {left:?}"
    );
    ensure!(
        g.capacity.desired == 1,
        "desired should be 1, got {}",
        g.capacity
    );

    // A mix: only the unprotected ones may go.
    let name = fresh(h, "ct-protect-mix", 4).await?;
    let ids = running_ids(&get(h, &name).await?);
    let keep: Vec<InstanceId> = ids.iter().take(2).cloned().collect();
    call(
        "set_scale_in_protection(two, true)",
        h.fleet().set_scale_in_protection(&name, &keep, true).await,
    )?;
    call(
        "set_capacity(desired 0)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(0))
            .await,
    )?;
    h.advance(Duration::from_secs(120)).await;
    let left = running_ids(&get(h, &name).await?);
    ensure!(
        left.len() == 2 && keep.iter().all(|id| left.contains(id)),
        "desired 0 with 2 of 4 instances protected should leave exactly the protected {keep:?}, \
         left {left:?}"
    );
    Ok(())
}

/// Lowering desired terminates the oldest unprotected instances first.
pub async fn lower_desired_terminates_oldest_first(h: &dyn FleetHarness) -> Outcome {
    const NAME: &str = "lower_desired_terminates_oldest_first";
    if !h.capabilities().terminates_oldest_first {
        return skip(
            NAME,
            "the backend does not order terminations by launch time",
        );
    }
    let name = fresh(h, "ct-oldest", 1).await?;
    // Four instances launched at four different times: a (oldest), b, c, d (newest).
    for desired in 2..=4 {
        h.advance(Duration::from_secs(60)).await;
        call(
            "set_capacity(raise by one)",
            h.fleet()
                .set_capacity(&name, CapacityChange::desired(desired))
                .await,
        )?;
    }
    h.advance(SETTLE).await;
    let g = get(h, &name).await?;
    let mut by_age: Vec<_> = g.running_instances().collect();
    by_age.sort_by_key(|i| i.launch_time);
    let ids: Vec<InstanceId> = by_age.iter().map(|i| i.id.clone()).collect();
    ensure!(
        ids.len() == 4,
        "expected 4 running instances, found {}",
        ids.len()
    );
    // Protect the oldest: the next two oldest must go, the newest stays.
    call(
        "set_scale_in_protection(oldest, true)",
        h.fleet()
            .set_scale_in_protection(&name, &ids[..1], true)
            .await,
    )?;
    call(
        "set_capacity(desired 2)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(2))
            .await,
    )?;
    h.advance(Duration::from_secs(120)).await;
    let left: BTreeSet<InstanceId> = running_ids(&get(h, &name).await?).into_iter().collect();
    let expected: BTreeSet<InstanceId> = [ids[0].clone(), ids[3].clone()].into_iter().collect();
    ensure!(
        left == expected,
        "with the oldest protected, desired 2 should terminate the 2nd and 3rd oldest and keep \
         {expected:?}; left {left:?}"
    );
    Ok(())
}

/// Scale-in protection can be set and cleared per instance, and the group reports it.
pub async fn protection_set_and_cleared(h: &dyn FleetHarness) -> Outcome {
    let name = fresh(h, "ct-protection", 2).await?;
    let ids = running_ids(&get(h, &name).await?);
    ensure!(ids.len() == 2, "expected 2 instances, found {}", ids.len());
    let one = &ids[..1];
    call(
        "set_scale_in_protection(true)",
        h.fleet().set_scale_in_protection(&name, one, true).await,
    )?;
    let g = get(h, &name).await?;
    let protected: Vec<_> = g
        .instances
        .iter()
        .filter(|i| i.protected_from_scale_in)
        .map(|i| i.id.clone())
        .collect();
    ensure!(
        protected == one,
        "after protecting {one:?}, the protected instances should be exactly those, got \
         {protected:?}"
    );
    call(
        "set_scale_in_protection(false)",
        h.fleet().set_scale_in_protection(&name, one, false).await,
    )?;
    let g = get(h, &name).await?;
    ensure!(
        g.instances.iter().all(|i| !i.protected_from_scale_in),
        "after clearing protection no instance should be protected"
    );
    ensure!(
        g.running_instances().count() == 2,
        "clearing protection with running == desired must not terminate anything"
    );
    Ok(())
}

/// Clearing protection while the group runs above desired lets it scale in.
pub async fn clearing_protection_scales_in(h: &dyn FleetHarness) -> Outcome {
    const NAME: &str = "clearing_protection_scales_in";
    if !h.capabilities().scales_in_when_protection_cleared {
        return skip(
            NAME,
            "the backend does not scale in when protection is cleared",
        );
    }
    let name = fresh(h, "ct-unprotect", 3).await?;
    let ids = running_ids(&get(h, &name).await?);
    call(
        "set_scale_in_protection(all, true)",
        h.fleet().set_scale_in_protection(&name, &ids, true).await,
    )?;
    call(
        "set_capacity(desired 1)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(1))
            .await,
    )?;
    let release = &ids[1..];
    call(
        "set_scale_in_protection(two, false)",
        h.fleet()
            .set_scale_in_protection(&name, release, false)
            .await,
    )?;
    h.advance(Duration::from_secs(120)).await;
    let left = running_ids(&get(h, &name).await?);
    ensure!(
        left == ids[..1],
        "after clearing protection of {release:?} with desired 1, only {:?} should remain; \
         left {left:?}",
        &ids[..1]
    );
    Ok(())
}

fn action(name: &str, start_time: DateTime<Utc>, desired: u32) -> ScheduledAction {
    ScheduledAction {
        name: name.to_string(),
        start_time,
        change: CapacityChange::desired(desired),
    }
}

/// Scheduled actions are listed on the group, replaced by name, and deleted; deleting a
/// missing one is NotFound.
pub async fn scheduled_actions_put_replace_delete(h: &dyn FleetHarness) -> Outcome {
    let name = fresh(h, "ct-actions", 2).await?;
    let start = h.now() + chrono::Duration::hours(1);
    let a = action("RecycleOnce.asg-recycle", start, 3);
    call(
        "put_scheduled_action",
        h.fleet().put_scheduled_action(&name, &a).await,
    )?;
    let g = get(h, &name).await?;
    let listed: Vec<_> = g
        .scheduled_actions
        .iter()
        .filter(|x| x.name == a.name)
        .collect();
    ensure!(
        listed.len() == 1,
        "the group should list the scheduled action {} once, got {:?}",
        a.name,
        g.scheduled_actions
    );
    ensure!(
        listed[0].start_time.timestamp() == start.timestamp()
            && listed[0].change.desired == Some(3),
        "the listed action should start at {start} with desired 3, got {:?}",
        listed[0]
    );
    let later = action(&a.name, start + chrono::Duration::hours(1), 4);
    call(
        "put_scheduled_action(replace)",
        h.fleet().put_scheduled_action(&name, &later).await,
    )?;
    let g = get(h, &name).await?;
    let listed: Vec<_> = g
        .scheduled_actions
        .iter()
        .filter(|x| x.name == a.name)
        .collect();
    ensure!(
        listed.len() == 1
            && listed[0].change.desired == Some(4)
            && listed[0].start_time.timestamp() == later.start_time.timestamp(),
        "putting an action with the same name should replace it, got {:?}",
        g.scheduled_actions
    );
    call(
        "delete_scheduled_action",
        h.fleet().delete_scheduled_action(&name, &a.name).await,
    )?;
    let g = get(h, &name).await?;
    ensure!(
        g.scheduled_actions.iter().all(|x| x.name != a.name),
        "a deleted action should not be listed, got {:?}",
        g.scheduled_actions
    );
    expect_error(
        "delete_scheduled_action(missing)",
        h.fleet().delete_scheduled_action(&name, &a.name).await,
        ErrorKind::NotFound,
        &a.name,
    )
}

/// A scheduled action fires at its start time, changes capacity, and is then gone; nothing
/// happens before its time.
pub async fn scheduled_action_fires(h: &dyn FleetHarness) -> Outcome {
    const NAME: &str = "scheduled_action_fires";
    if !h.capabilities().fires_scheduled_actions {
        return skip(NAME, "the backend never fires scheduled actions");
    }
    let name = fresh(h, "ct-fire", 2).await?;
    let a = action(
        "DelayedScaleOutOnce.asg-recycle",
        h.now() + chrono::Duration::minutes(5),
        4,
    );
    call(
        "put_scheduled_action",
        h.fleet().put_scheduled_action(&name, &a).await,
    )?;
    h.advance(Duration::from_secs(60)).await;
    let g = get(h, &name).await?;
    ensure!(
        g.capacity.desired == 2 && g.running_instances().count() == 2,
        "an action due in 5 minutes must not fire after 1 minute: capacity {}",
        g.capacity
    );
    h.advance(Duration::from_secs(10 * 60)).await;
    let g = get(h, &name).await?;
    ensure!(
        g.capacity.desired == 4,
        "the scheduled action should have set desired 4 at its start time, capacity is {}",
        g.capacity
    );
    ensure!(
        g.running_instances().count() == 4,
        "after the action fired the group should run 4 instances, runs {}",
        g.running_instances().count()
    );
    ensure!(
        g.scheduled_actions.iter().all(|x| x.name != a.name),
        "a one-time action should be gone after it fired, got {:?}",
        g.scheduled_actions
    );
    Ok(())
}

/// Load-balancer health lists every running instance, healthy once settled.
pub async fn load_balancer_health_listed(h: &dyn FleetHarness) -> Outcome {
    const NAME: &str = "load_balancer_health_listed";
    if !h.capabilities().load_balancer {
        return skip(NAME, "the harness's groups have no load balancer");
    }
    let name = fresh(h, "ct-lb", 2).await?;
    call(
        "set_capacity(desired 3)",
        h.fleet()
            .set_capacity(&name, CapacityChange::desired(3))
            .await,
    )?;
    h.advance(SETTLE).await;
    let g = get(h, &name).await?;
    let health = call(
        "load_balancer_health",
        h.fleet().load_balancer_health(&name).await,
    )?;
    let listed: BTreeSet<_> = health.iter().map(|t| t.instance_id.clone()).collect();
    let running: BTreeSet<_> = running_ids(&g).into_iter().collect();
    ensure!(
        listed == running,
        "load_balancer_health should list the running instances {running:?}, listed {listed:?}"
    );
    ensure!(
        health.iter().all(|t| t.state == LbState::Healthy),
        "settled instances should be Healthy in the load balancer, got {health:?}"
    );
    Ok(())
}

/// Runs every fleet contract function in turn, stopping at the first failure (whose message
/// names the function).
pub async fn all(h: &dyn FleetHarness) -> Outcome {
    macro_rules! run {
        ($($f:ident),* $(,)?) => {
            $( $f(h).await.map_err(|e| format!("{}: {e}", stringify!($f)))?; )*
        };
    }
    run!(
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
    );
    Ok(())
}
