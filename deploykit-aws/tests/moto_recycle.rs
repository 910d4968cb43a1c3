//! End to end through the library on moto: `fleet_ops::recycle` of `prod-idp` with the
//! migration first, then the scheduled actions' effects applied by hand (moto never fires
//! them), then `fleet_ops::scale_in` of the old instances.
//!
//! Moto quirk: scheduled actions are keyed by name alone (one `RecycleOnce.asg-recycle` per
//! region), so the migration group's spindown action is overwritten by the idp group's and is
//! not checked here; the contract and `moto_fleet.rs` check actions on one group at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deploykit_aws::AwsFleet;
use deploykit_aws::moto::MotoServer;
use deploykit_core::events::NullSink;
use deploykit_core::fleet_ops::FleetContext;
use deploykit_core::fleet_ops::recycle::{RecycleRequest, recycle};
use deploykit_core::fleet_ops::scale_in::{ScaleInMode, ScaleInRequest, scale_in};
use deploykit_core::model::fleet::{DELAYED_SCALE_OUT_ACTION, RECYCLE_ACTION};
use deploykit_core::model::names::{RoleName, RoleSelector};
use deploykit_core::ports::clock::Clock;
use support::env;

/// Real time shifted by an offset (to be past the health check grace period).
#[derive(Debug)]
struct ShiftedClock(chrono::Duration);

#[async_trait]
impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// `(name, desired, start time)` of a group's scheduled actions, read with the SDK.
async fn actions(c: &deploykit_aws::AwsClients, group: &str) -> Vec<(String, Option<i32>, i64)> {
    let out = c
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name(group)
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .scheduled_update_group_actions()
        .iter()
        .map(|a| {
            (
                a.scheduled_action_name().unwrap().to_string(),
                a.desired_capacity(),
                a.start_time().unwrap().secs(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn desired(c: &deploykit_aws::AwsClients, group: &str) -> (i32, Vec<String>) {
    let out = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(group)
        .send()
        .await
        .unwrap();
    let g = &out.auto_scaling_groups()[0];
    let mut ids: Vec<String> = g
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    ids.sort();
    (g.desired_capacity().unwrap(), ids)
}

/// Fires a scheduled action by hand: sets its desired capacity and deletes it, as Auto
/// Scaling does with a one-time action.
async fn fire(c: &deploykit_aws::AwsClients, group: &str, action: &str, desired: i32) {
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(group)
        .desired_capacity(desired)
        .send()
        .await
        .unwrap();
    c.autoscaling
        .delete_scheduled_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(action)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn recycle_then_scale_in_old_instances_of_prod_idp() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    support::seed(&c).await;
    let (_, old_ids) = desired(&c, "prod-idp").await;
    assert_eq!(old_ids.len(), 2);
    // New instances must launch in a later second than the old ones.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let fleet = AwsFleet::new(c.clone());
    let now_clock = ShiftedClock(chrono::Duration::zero());
    let ctx = FleetContext {
        fleet: &fleet,
        clock: &now_clock,
        events: &NullSink,
    };
    let started = Utc::now().timestamp();
    let outcome = recycle(
        &ctx,
        &RecycleRequest::new(
            env("prod"),
            RoleSelector::Role(RoleName::new("idp").unwrap()),
        ),
    )
    .await
    .unwrap();
    assert!(
        outcome.migration.is_some(),
        "the migration group recycles first"
    );

    // The migration instance runs now, and its own RecycleOnce.asg-recycle takes it back to
    // 0 at +600 s. (Stock moto keys scheduled actions by name alone, so prod-idp's action of
    // the same name replaced it; the harness's moto keeps them per group, as AWS does.)
    let (migration_desired, migration_ids) = desired(&c, "prod-migration").await;
    assert_eq!((migration_desired, migration_ids.len()), (1, 1));
    let m = actions(&c, "prod-migration").await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0].0.as_str(), m[0].1),
        (RECYCLE_ACTION, Some(0)),
        "{m:?}"
    );
    assert!(
        (m[0].2 - started - 600).abs() <= 5,
        "migration spindown at +600 s: {m:?}"
    );

    // idp: scale-out after the migration head start (300 s), spindown at 900 s.
    let a = actions(&c, "prod-idp").await;
    let names: Vec<&str> = a.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, [DELAYED_SCALE_OUT_ACTION, RECYCLE_ACTION]);
    assert_eq!(a[0].1, Some(4), "doubled capacity");
    assert!(
        (a[0].2 - started - 300).abs() <= 5,
        "scale-out at +300 s: {a:?}"
    );
    assert_eq!(a[1].1, Some(2), "back to the old desired");
    assert!(
        (a[1].2 - started - 900).abs() <= 5,
        "spindown at +900 s: {a:?}"
    );
    assert_eq!(desired(&c, "prod-idp").await.0, 2, "not scaled out yet");

    // Moto never fires scheduled actions: apply the scale-out by hand.
    fire(&c, "prod-idp", DELAYED_SCALE_OUT_ACTION, 4).await;
    let (d, all_ids) = desired(&c, "prod-idp").await;
    assert_eq!((d, all_ids.len()), (4, 4));
    let new_ids: BTreeSet<String> = all_ids
        .iter()
        .filter(|i| !old_ids.contains(i))
        .cloned()
        .collect();
    assert_eq!(new_ids.len(), 2);

    // The spindown: desired back to 2; every instance is protected, so all 4 stay.
    fire(&c, "prod-idp", RECYCLE_ACTION, 2).await;
    let (d, ids) = desired(&c, "prod-idp").await;
    assert_eq!(
        (d, ids.len()),
        (2, 4),
        "protected instances are not scaled in"
    );

    // Scale in the old instances, once the new ones are past their grace period.
    let later = ShiftedClock(chrono::Duration::hours(1));
    let ctx = FleetContext {
        fleet: &fleet,
        clock: &later,
        events: &NullSink,
    };
    let out = scale_in(
        &ctx,
        &ScaleInRequest {
            env: env("prod"),
            roles: RoleSelector::Role(RoleName::new("idp").unwrap()),
            mode: ScaleInMode::Old,
            dry_run: false,
        },
    )
    .await
    .unwrap();
    let removed: BTreeSet<String> = out.groups[0]
        .removed
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(removed, old_ids.iter().cloned().collect::<BTreeSet<_>>());

    // Real Auto Scaling now terminates the unprotected instances; moto needs a capacity
    // change to notice.
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name("prod-idp")
        .desired_capacity(2)
        .send()
        .await
        .unwrap();
    let (_, left) = desired(&c, "prod-idp").await;
    assert_eq!(left.into_iter().collect::<BTreeSet<_>>(), new_ids);
}
