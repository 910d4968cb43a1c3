//! How a downstream tool tests its own code against deploykit: with the mocks (to pin the
//! exact calls) and with the simulated world (to check the outcome).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use deploykit_core::fleet_ops::{self, FleetContext, RecycleRequest};
use deploykit_core::ports::{MockClock, MockFleet};
use deploykit_core::sim::World;
use deploykit_core::{
    Capacity, EnvName, ErrorKind, Group, GroupName, NullSink, RECYCLE_ACTION, RoleName,
    ScheduledAction,
};

fn group(name: &str, desired: u32) -> Group {
    let env: EnvName = "prod".parse().expect("env");
    Group {
        name: GroupName::parse_in(&env, name).expect("group"),
        capacity: Capacity { min: 1, desired, max: 16 },
        health_check_grace_secs: 300,
        tags: Default::default(),
        instances: vec![],
        scheduled_actions: vec![],
    }
}

/// A tool that recycles must be refused, without any write, when a recycle is in progress.
#[tokio::test]
async fn recycle_in_progress_is_refused_without_writes() {
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).single().expect("time");
    let mut busy = group("prod-pivcac", 2);
    busy.scheduled_actions.push(ScheduledAction {
        name: RECYCLE_ACTION.into(),
        start_time: now + chrono::Duration::minutes(10),
        change: deploykit_core::CapacityChange::desired(2),
    });
    let groups = vec![busy.clone()];
    let mut fleet = MockFleet::new();
    fleet.expect_groups().returning(move |_| Ok(groups.clone()));
    fleet.expect_group().returning(move |_| Ok(busy.clone()));
    fleet.expect_set_capacity().never();
    fleet.expect_put_scheduled_action().never();
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now);

    let ctx = FleetContext { fleet: &fleet, clock: &clock, events: &NullSink };
    let env: EnvName = "prod".parse().expect("env");
    let req = RecycleRequest::new(env, "pivcac".parse().expect("role"));
    let err = fleet_ops::recycle(&ctx, &req).await.expect_err("in progress");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("prod-pivcac"), "{err}");
}

/// On the simulated world a recycle doubles the group and leaves the spindown on the group.
#[tokio::test]
async fn recycle_on_the_simulated_world_doubles_and_schedules_the_spindown() {
    let world = World::login_gov();
    let fleet: Arc<_> = world.fleet();
    let clock = world.clock();
    let ctx = FleetContext { fleet: fleet.as_ref(), clock: clock.as_ref(), events: &NullSink };
    let env: EnvName = "prod".parse().expect("env");
    let idp = GroupName::new(&env, &RoleName::new("idp").expect("role"));
    let before = fleet.group(&idp).await.expect("group").capacity.desired;

    fleet_ops::recycle(&ctx, &RecycleRequest::new(env, "idp".parse().expect("role")))
        .await
        .expect("recycle");
    clock.sleep(std::time::Duration::from_secs(301)).await;

    let after = fleet.group(&idp).await.expect("group");
    assert_eq!(after.capacity.desired, before * 2);
    let spindown = after.recycle_in_progress().expect("spindown scheduled");
    assert_eq!(spindown.change.desired, Some(before));
}
