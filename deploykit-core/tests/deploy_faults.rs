//! Backend failures during a deploy: temporary ones are retried with backoff on the clock,
//! permanent ones roll back when the fleet changed, stop when it did not, and halt (resumable)
//! where neither is safe.

mod deploy_support;

use deploy_support::{Rig, first_run, refused_as, rolled_back_reason, step, stopped_reason};
use deploykit_core::deploy::{
    FinalStatus, Journal, MemoryJournal, Record, StepName, deploy, replay,
};
use deploykit_core::events::{Event, RecordingSink};
use deploykit_core::model::{CapacityChange, RECYCLE_ACTION};
use deploykit_core::ports::{Fleet, LockHolder};
use deploykit_core::sim::Fault;
use deploykit_core::{DeployKind, ErrorKind};

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
async fn a_monitor_outage_over_one_window_leaves_it_unjudged_and_the_others_decide() {
    let rig = Rig::prod().await;
    // Every retry of the first window's read times out (a network blip of a few minutes).
    rig.world.faults().inject(
        "monitor.sample",
        Fault::Timeout,
        rig.settings.retry_attempts,
    );
    let journal = MemoryJournal::new();
    rig.deployed_in(&journal).await;
    let first_window = journal
        .load(&first_run(&journal))
        .expect("records")
        .into_iter()
        .find_map(|r| match r {
            Record::EffectDone { key, result, .. } if key == "monitor_gate/window/0" => {
                Some(result)
            }
            _ => None,
        })
        .expect("the first window is recorded");
    assert_eq!(first_window["judgement"], "not_judged", "{first_window}");
    assert!(
        first_window["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("the monitor could not be read for this window")),
        "{first_window}"
    );
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
    let events = RecordingSink::default();
    let out = deploy(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &events,
        &rig.request(DeployKind::Full),
    )
    .await
    .expect("deploy");
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("merge_pr"), "{reason}");
    assert_eq!(rig.launched("idp"), 0);
    assert!(rig.lock_free().await);
    // The merge that failed is never said to have been done; the lock taken before it is.
    let did: Vec<String> = events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Action { description, .. } => Some(description),
            _ => None,
        })
        .collect();
    assert!(!did.iter().any(|d| d.starts_with("merge PR")), "{did:?}");
    assert!(
        did.iter().any(|d| d.starts_with("take the deploy lock")),
        "{did:?}"
    );
}

#[tokio::test]
async fn a_failed_scale_in_halts_and_resume_finishes_the_deploy() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("fleet.set_scale_in_protection", Fault::Permanent, 1);
    let journal = MemoryJournal::new();
    rig.halts_at(&journal, "scale_in_old").await;
    let out = rig.resume(&journal).await.expect("resume");
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

/// Someone deletes the spindown (the scheduled action that takes a recycled group back to its
/// old capacity) while the deploy waits for it: the run must not report the group back to its
/// old capacity and go on to "deployed" with twice the instances. It halts naming the group,
/// and once a person sets the capacity back, resume finishes the deploy.
#[tokio::test]
async fn a_spindown_deleted_by_hand_halts_the_run_until_the_capacity_is_set_back() {
    // Where the migration gate begins (the recycle done, its spindown scheduled) in a run of
    // this deploy.
    let reference = Rig::prod().await;
    let journal = MemoryJournal::new();
    reference
        .deploy_with(&journal, &reference.request(DeployKind::Full))
        .await
        .expect("deploy");
    let records = journal.load(&first_run(&journal)).expect("records");
    let at = records
        .iter()
        .position(|r| {
            matches!(
                r,
                Record::StepStarted {
                    step: StepName::MigrationGate,
                    ..
                }
            )
        })
        .expect("the migration gate ran");

    // The same deploy, stopped as the migration gate begins; the spindown is deleted
    // meanwhile, and the deploy resumed.
    let rig = Rig::prod().await;
    let idp = rig.group("idp");
    let old = rig
        .fleet()
        .group(&idp)
        .await
        .expect("group")
        .capacity
        .desired;
    // Stopped before the migration gate.
    let memory = rig.killed_after(at).await;
    rig.fleet()
        .delete_scheduled_action(&idp, RECYCLE_ACTION)
        .await
        .expect("delete the spindown");
    let halted = rig.resume(memory.as_ref()).await;
    let message = match &halted {
        Err(e) => e.to_string(),
        Ok(out) => panic!("the run went on: {out:#?}"),
    };
    assert!(message.contains(&idp.to_string()), "{message}");
    assert!(message.contains("deleted or changed"), "{message}");
    let doubled = rig
        .fleet()
        .group(&idp)
        .await
        .expect("group")
        .capacity
        .desired;
    assert_eq!(doubled, 2 * old, "the recycle's capacity is still there");
    assert!(
        message.contains(&format!("desired {doubled}, {old} before the recycle")),
        "{message}"
    );
    assert!(rig.releases_created().is_empty(), "no release while halted");

    // A person sets the capacity back (asg size), then resumes.
    rig.fleet()
        .set_capacity(&idp, CapacityChange::desired(old))
        .await
        .expect("set back");
    let out = rig.resume(memory.as_ref()).await.expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.releases_created(), ["RC 112"]);
}

#[tokio::test]
async fn an_interrupted_gate_is_run_again_on_resume_not_rolled_back() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("monitor.sample", Fault::Interrupted, 1);
    let journal = MemoryJournal::new();
    let err = rig.halts_at(&journal, "monitor_gate").await;
    assert_eq!(err.kind(), deploykit_core::ErrorKind::Interrupted, "{err}");
    let records = journal.load(&first_run(&journal)).expect("journal");
    let gate_finished = records.iter().any(|r| {
        matches!(r, Record::StepFinished { report, .. } if report.step == StepName::MonitorGate)
    });
    assert!(
        !gate_finished,
        "an interruption is not a finished (failed) gate"
    );
    let out = rig.resume(&journal).await.expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.merges(), 1);
    assert_eq!(rig.launched("idp"), 4);
    assert_eq!(rig.releases_created(), ["RC 112"]);
}

/// Another deploy holding the lock stops a deploy before it changes anything, as unsafe (the
/// CLI exits 4, as for a recycle by hand while a deploy holds the lock), naming the holder.
#[tokio::test]
async fn a_deploy_is_refused_as_unsafe_while_another_holds_the_lock() {
    let rig = Rig::prod().await;
    let now = rig.ports.clock.now();
    let carol = LockHolder {
        env: rig.env.clone(),
        app: rig.app.name.clone(),
        owner: "carol (run 20261124T170000Z-idp-prod)".into(),
        acquired_at: now,
        expires_at: now + chrono::Duration::hours(2),
    };
    rig.ports
        .lock
        .acquire(&carol)
        .await
        .expect("carol takes it");
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = stopped_reason(&out.status);
    assert!(
        reason.contains("holds the lock") && reason.contains("carol"),
        "{reason}"
    );
    assert_eq!(refused_as(&out.status), Some(ErrorKind::Unsafe));
    assert_eq!(rig.merges(), 0);
    assert_eq!(
        rig.lock_holder().await.map(|h| h.owner),
        Some(carol.owner),
        "carol's lock is left alone"
    );
}

#[tokio::test]
async fn a_resumed_run_takes_its_released_lock_back_but_never_from_another_deploy() {
    let rig = Rig::prod().await;
    // Killed well past the preflight, holding the lock.
    let journal = rig.killed_after(20).await;
    let mine = rig
        .lock_holder()
        .await
        .expect("the killed run holds the lock");
    let run = first_run(journal.as_ref());
    assert!(mine.owner.contains(run.as_str()), "{mine:?}");

    // Released by hand (`deploykit lock release`), then taken by another deploy.
    let lock = &rig.ports.lock;
    lock.release(&rig.env, &rig.app.name, &mine.owner)
        .await
        .expect("release");
    let carol = LockHolder {
        owner: "carol (run 20261124T170000Z-idp-prod)".into(),
        ..mine.clone()
    };
    lock.acquire(&carol).await.expect("carol takes it");
    let records = journal.load(&run).expect("records").len();
    let err = rig.resume(journal.as_ref()).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("carol"), "{err}");
    assert_eq!(
        journal.load(&run).expect("records").len(),
        records,
        "nothing done"
    );
    assert_eq!(
        rig.lock_holder().await.map(|h| h.owner),
        Some(carol.owner.clone())
    );

    // Carol's deploy is over: the run takes its lock back, finishes, and releases it.
    lock.release(&rig.env, &rig.app.name, &carol.owner)
        .await
        .expect("release");
    let out = rig.resume(journal.as_ref()).await.expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(rig.lock_free().await);
    assert!(
        journal
            .load(&run)
            .expect("records")
            .iter()
            .any(|r| matches!(
                r,
                Record::Note { text, .. } if text.contains("took the deploy lock")
            )),
        "the journal says the lock was taken back"
    );
}

/// A recycle stopped between scheduling a group's spindown and scaling the group out (the
/// scale-out failing for good, then the run resumed; or throttled, then retried): each group
/// scales out once, never twice, and the deploy finishes with the groups at their size.
#[tokio::test]
async fn a_recycle_stopped_before_a_scale_out_is_finished_once() {
    // A no-migration recycle scales idp, then worker, out at once (no migration head start):
    // spindown idp, scale out idp, spindown worker, scale out worker.
    for (op, passes, fault) in [
        ("fleet.set_capacity", 0, Fault::Permanent),
        ("fleet.set_capacity", 1, Fault::Permanent),
        ("fleet.put_scheduled_action", 1, Fault::Permanent),
        ("fleet.set_capacity", 1, Fault::Throttle),
        ("fleet.set_capacity", 1, Fault::Timeout),
    ] {
        let rig = Rig::prod().await;
        let journal = MemoryJournal::new();
        rig.world.faults().inject_after(op, passes, fault, 1);
        let req = rig.request(DeployKind::NoMigrationRecycle);
        let out = match rig.deploy_with(&journal, &req).await {
            Ok(out) => out,
            Err(e) => {
                // A temporary fault is retried within the run, never halts it.
                assert_eq!(fault, Fault::Permanent, "{op} {passes}: halted: {e}");
                assert_eq!(
                    e.context_value("step"),
                    Some("recycle"),
                    "{op} {passes}: {e}"
                );
                rig.resume(&journal).await.expect("resume")
            }
        };
        assert_eq!(out.status, FinalStatus::Deployed, "{op} {passes}: {out:#?}");
        assert_eq!(rig.launched("idp"), 4, "{op} {passes}: idp doubled once");
        assert_eq!(
            rig.launched("worker"),
            2,
            "{op} {passes}: worker doubled once"
        );
        assert_eq!(rig.running("idp").len(), 4, "{op} {passes}");
        assert_eq!(rig.running("worker").len(), 2, "{op} {passes}");
        rig.assert_capacity_kept(4, 2);
        assert!(rig.lock_free().await);
    }
}

/// Chat cannot be asked whether a message was posted, so an announcement whose post timed
/// out is not posted again (it may have gone through with only its reply lost): the run goes
/// on, and its warning says to check the channel. A post refused for its rate is retried.
#[tokio::test]
async fn an_announcement_that_timed_out_is_not_posted_twice_and_the_run_says_to_check() {
    let rig = Rig::prod().await;
    let faults = rig.world.faults();
    faults.inject("notifier.announce", Fault::LostReply, 1);
    faults.inject("notifier.announce", Fault::Throttle, 1);
    let journal = MemoryJournal::new();
    let out = rig.deployed_in(&journal).await;
    let announce = step(&out, "announce_recycle");
    assert!(
        announce.detail.starts_with("not confirmed as announced"),
        "the step does not claim it announced: {}",
        announce.detail
    );
    // The first post went through with its reply lost; the second was throttled once, then
    // posted.
    assert_eq!(rig.announcements(), ["recycle_start", "deploy_done"]);
    let state = replay(&journal.load(&first_run(&journal)).expect("records")).expect("replay");
    let kinds: Vec<&str> = state.facts.announcements.iter().map(|a| a.kind()).collect();
    assert_eq!(
        kinds,
        ["deploy_done"],
        "only the confirmed post is recorded"
    );
    let warning = state
        .facts
        .notes
        .iter()
        .find(|n| n.contains("recycle_start"))
        .expect("a warning about the recycle announcement");
    assert!(warning.contains("may have been posted"), "{warning}");
    assert!(warning.contains("check the channel"), "{warning}");
}

/// A monitor that cannot be read (a missing log group, a wrong region) would make the monitor
/// gate roll the deploy back after the recycle: preflight asks it first and refuses as unsafe
/// before anything changes; the dry run names it too.
#[tokio::test]
async fn an_unreadable_monitor_is_refused_before_anything_changes() {
    let rig = Rig::prod().await;
    rig.world
        .faults()
        .inject("monitor.check_readable", Fault::Permanent, 10);
    let req = rig.request(DeployKind::Full);
    let plan = deploykit_core::deploy::plan(&rig.ports, &rig.settings, &req)
        .await
        .expect("plan");
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.starts_with("the monitor cannot read idp's figures in prod")),
        "{:?}",
        plan.blockers
    );
    let out = rig.deploy(&req).await;
    let reason = stopped_reason(&out.status);
    assert!(
        reason.contains("the monitor cannot read idp's figures in prod")
            && reason.contains("nothing was changed"),
        "{reason}"
    );
    assert_eq!(refused_as(&out.status), Some(ErrorKind::Unsafe));
    assert_eq!(rig.merges(), 0);
    assert_eq!(rig.launched("idp"), 0);
    assert!(rig.lock_free().await);
}
