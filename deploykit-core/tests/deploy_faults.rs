//! Backend failures during a deploy: temporary ones are retried with backoff on the clock,
//! permanent ones roll back when the fleet changed, stop when it did not, and halt (resumable)
//! where neither is safe.

mod deploy_support;

use deploy_support::{Rig, first_run, rolled_back_reason, stopped_reason};
use deploykit_core::deploy::{FinalStatus, MemoryJournal, resume};
use deploykit_core::sim::Fault;
use deploykit_core::{DeployKind, NullSink};

#[tokio::test]
async fn throttling_and_timeouts_are_retried_and_nothing_is_done_twice() {
    let rig = Rig::prod().await;
    let faults = rig.world.faults();
    faults.inject("code_host.merge_pull_request", Fault::Timeout, 2);
    faults.inject("fleet.set_capacity", Fault::Throttle, 2);
    faults.inject("monitor.sample", Fault::Throttle, 3);
    faults.inject("notifier.announce", Fault::Throttle, 1);
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.merges(), 1);
    assert_eq!(rig.launched("idp"), 4);
    assert_eq!(rig.releases_created(), ["RC 112"]);
}

#[tokio::test]
async fn a_monitor_that_cannot_be_read_rolls_back() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("monitor.sample", Fault::Permanent, 1);
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("monitor_gate failed"), "{reason}");
    assert_eq!(rig.running("idp").len(), 4);
    rig.assert_capacity_kept(4, 2);
}

#[tokio::test]
async fn a_merge_that_fails_stops_before_the_fleet_and_releases_the_lock() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("code_host.merge_pull_request", Fault::Permanent, 1);
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("merge_pr"), "{reason}");
    assert_eq!(rig.launched("idp"), 0);
    assert!(rig.lock_free().await);
}

#[tokio::test]
async fn a_failed_scale_in_halts_and_resume_finishes_the_deploy() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("fleet.set_scale_in_protection", Fault::Permanent, 1);
    let journal = MemoryJournal::new();
    let err = rig
        .deploy_with(&journal, &rig.request(DeployKind::Full))
        .await
        .expect_err("halts");
    assert_eq!(err.context_value("step"), Some("scale_in_old"), "{err}");
    assert!(err.to_string().contains("deploykit resume"), "{err}");
    let run = first_run(&journal);
    let out = resume(&rig.ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.running("idp").len(), 4);
    assert_eq!(rig.merges(), 1);
    assert_eq!(rig.launched("idp"), 4);
}

#[tokio::test]
async fn a_throttled_check_after_a_throttled_recycle_is_retried_not_halted() {
    // The recycle's first read of the fleet is throttled, and so is the check "did the
    // recycle happen?" made before trying again: both are retried within the budget.
    let rig = Rig::prod().await;
    let faults = rig.world.faults().clone();
    let req = rig.request(DeployKind::Full);
    let journal = MemoryJournal::new();
    // Only the recycle's reads: the merge comes after preflight read the fleet.
    rig.on_merge(Box::new(move |_, _| {
        faults.inject("fleet.groups", Fault::Throttle, 2);
    }));
    let out = rig.deploy_with(&journal, &req).await.expect("not halted");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.launched("idp"), 4, "capacity doubled exactly once");
    assert_eq!(rig.releases_created(), ["RC 112"]);
}

#[tokio::test]
async fn a_migration_log_read_that_times_out_is_retried_and_the_good_deploy_goes_on() {
    let rig = Rig::prod().await;
    let faults = rig.world.faults().clone();
    rig.on_merge(Box::new(move |_, _| {
        faults.inject("logs.read_log", Fault::Timeout, 2);
    }));
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let migration = out
        .verdicts
        .iter()
        .find(|v| v.gate == "migration")
        .expect("migration verdict");
    assert_eq!(migration.verdict, "go", "{}", migration.explanation);
}
