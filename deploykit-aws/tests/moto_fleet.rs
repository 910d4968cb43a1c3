//! `AwsFleet` against a moto server (see `deploykit_aws::moto`).
//!
//! What moto does not emulate, and so is not tested here: scheduled actions never fire (the
//! tests apply their effect by hand), target health is `healthy` at once (no `initial`
//! phase), instances are InService/Healthy at once, and classic ELB health is not seeded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{Duration, Utc};
use deploykit_aws::AwsFleet;
use deploykit_aws::moto::{CallCounter, MotoServer};
use deploykit_core::error::ErrorKind;
use deploykit_core::model::fleet::{
    CapacityChange, HealthStatus, LbState, Lifecycle, RECYCLE_ACTION, ScheduledAction,
};
use deploykit_core::ports::fleet::Fleet;
use support::{IDP_SHA, env, group, seed};

#[tokio::test]
async fn groups_of_an_environment_carry_capacity_instances_tags_and_actions() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    seed(&clients).await;
    let fleet = AwsFleet::new(clients);
    let start = Utc::now() + Duration::hours(1);
    fleet
        .put_scheduled_action(
            &group("prod", "idp"),
            &ScheduledAction {
                name: RECYCLE_ACTION.to_string(),
                start_time: start,
                change: CapacityChange::desired(2),
            },
        )
        .await
        .unwrap();

    let groups = fleet.groups(&env("prod")).await.unwrap();
    let names: Vec<String> = groups.iter().map(|g| g.name.to_string()).collect();
    assert_eq!(
        names,
        ["prod-idp", "prod-migration"],
        "staging-idp must not show"
    );

    let idp = &groups[0];
    assert_eq!(
        (idp.capacity.min, idp.capacity.desired, idp.capacity.max),
        (0, 2, 8)
    );
    assert_eq!(idp.health_check_grace_secs, 300);
    assert_eq!(
        idp.tags.get("gitsha:idp").map(String::as_str),
        Some(IDP_SHA)
    );
    assert_eq!(idp.instances.len(), 2);
    for i in &idp.instances {
        assert_eq!(i.lifecycle, Lifecycle::InService);
        assert_eq!(i.health, HealthStatus::Healthy);
        assert!(i.protected_from_scale_in);
        assert_eq!(
            i.deployed_sha().map(|s| s.to_string()),
            Some(IDP_SHA.to_string())
        );
        assert_eq!(i.tags.get("Name").map(String::as_str), Some("asg-prod-idp"));
        assert_eq!(i.image_id.as_deref(), Some(support::AMI));
        assert_eq!(i.instance_type.as_deref(), Some("t3.small"));
        assert_eq!(i.availability_zone.as_deref(), Some("us-west-2a"));
        assert!(i.launch_time <= Utc::now() + Duration::minutes(1));
    }
    let action = idp.recycle_in_progress().expect("recycle action");
    assert_eq!(action.change.desired, Some(2));
    assert_eq!(action.start_time.timestamp(), start.timestamp());

    let migration = &groups[1];
    assert!(
        migration.skipped_by_all(),
        "utility group is skipped by ALL"
    );
    assert!(migration.instances.is_empty());
    assert!(migration.scheduled_actions.is_empty());

    assert!(fleet.groups(&env("dev")).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_group_is_not_found_and_bad_capacity_is_refused() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    seed(&clients).await;
    let fleet = AwsFleet::new(clients.clone());

    let err = fleet.group(&group("prod", "nope")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("prod-nope"), "{err}");
    let err = fleet
        .set_capacity(&group("prod", "nope"), CapacityChange::desired(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let err = fleet
        .set_capacity(&group("prod", "idp"), CapacityChange::desired(9))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max 8"), "{err}");

    fleet
        .set_capacity(&group("prod", "idp"), CapacityChange::desired(4))
        .await
        .unwrap();
    let idp = fleet.group(&group("prod", "idp")).await.unwrap();
    assert_eq!(idp.capacity.desired, 4);
    assert_eq!(idp.running_instances().count(), 4);
}

#[tokio::test]
async fn scheduled_actions_are_put_replaced_and_deleted() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    seed(&clients).await;
    let fleet = AwsFleet::new(clients);
    let idp = group("prod", "idp");
    let at = Utc::now() + Duration::minutes(15);
    let mut action = ScheduledAction {
        name: RECYCLE_ACTION.to_string(),
        start_time: at,
        change: CapacityChange::desired(2),
    };
    fleet.put_scheduled_action(&idp, &action).await.unwrap();
    action.change = CapacityChange::desired(3);
    fleet.put_scheduled_action(&idp, &action).await.unwrap();
    let g = fleet.group(&idp).await.unwrap();
    assert_eq!(g.scheduled_actions.len(), 1, "same name replaces");
    assert_eq!(g.scheduled_actions[0].change.desired, Some(3));

    let err = fleet
        .put_scheduled_action(&group("prod", "nope"), &action)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    fleet
        .delete_scheduled_action(&idp, RECYCLE_ACTION)
        .await
        .unwrap();
    assert!(
        fleet
            .group(&idp)
            .await
            .unwrap()
            .scheduled_actions
            .is_empty()
    );
    let err = fleet
        .delete_scheduled_action(&idp, RECYCLE_ACTION)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(RECYCLE_ACTION), "{err}");
}

#[tokio::test]
async fn clearing_protection_lets_the_group_scale_in_those_instances() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    seed(&clients).await;
    let fleet = AwsFleet::new(clients);
    let idp = group("prod", "idp");
    let before = fleet.group(&idp).await.unwrap();
    let (keep, drop) = (&before.instances[0].id, &before.instances[1].id);
    fleet
        .set_scale_in_protection(&idp, std::slice::from_ref(drop), false)
        .await
        .unwrap();
    let g = fleet.group(&idp).await.unwrap();
    let unprotected: Vec<_> = g
        .instances
        .iter()
        .filter(|i| !i.protected_from_scale_in)
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(unprotected, vec![drop.clone()]);

    fleet
        .set_capacity(&idp, CapacityChange::desired(1))
        .await
        .unwrap();
    let after = fleet.group(&idp).await.unwrap();
    let running: Vec<_> = after.running_instances().map(|i| i.id.clone()).collect();
    assert_eq!(running, vec![keep.clone()], "the unprotected instance went");
}

#[tokio::test]
async fn load_balancer_health_comes_from_the_groups_target_group() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    seed(&clients).await;
    let fleet = AwsFleet::new(clients);
    let idp = fleet.group(&group("prod", "idp")).await.unwrap();
    let mut health = fleet
        .load_balancer_health(&group("prod", "idp"))
        .await
        .unwrap();
    health.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let mut ids: Vec<_> = idp.instances.iter().map(|i| i.id.clone()).collect();
    ids.sort();
    assert_eq!(
        health
            .iter()
            .map(|h| h.instance_id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(
        health.iter().all(|h| h.state == LbState::Healthy),
        "{health:?}"
    );
    // No load balancer: no figures.
    assert!(
        fleet
            .load_balancer_health(&group("prod", "migration"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// One poll of an environment costs a bounded number of calls: with 10 groups of 100
/// instances, 1 DescribeAutoScalingGroups page (100 groups per page), 1
/// DescribeScheduledActions page and 1 DescribeInstances (1000 ids per call).
#[tokio::test]
async fn one_poll_of_a_thousand_instances_costs_three_calls() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let counter = CallCounter::new();
    let clients = moto.clients_with(&[counter.interceptor()]).await;
    let (_vpc, subnet) = support::network(&clients).await;
    for n in 0..10 {
        support::create_group(
            &clients,
            &subnet,
            &format!("prod-role{n}"),
            100,
            200,
            &[("gitsha:idp", IDP_SHA)],
            None,
        )
        .await;
    }
    let fleet = AwsFleet::new(clients);
    counter.clear();
    let groups = fleet.groups(&env("prod")).await.unwrap();
    assert_eq!(groups.len(), 10);
    assert!(groups.iter().all(|g| g.instances.len() == 100));
    assert!(
        groups
            .iter()
            .flat_map(|g| &g.instances)
            .all(|i| i.deployed_sha().is_some())
    );
    assert_eq!(
        counter.calls(),
        [
            "DescribeAutoScalingGroups",
            "DescribeScheduledActions",
            "DescribeInstances"
        ]
    );
}
