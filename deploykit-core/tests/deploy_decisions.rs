//! Inconclusive verdicts (a person decides, or `--yes` follows the policy, or the run pauses
//! and resumes with a decision; the whole role failing is one), a rollback after the old instances are gone, the standalone
//! rollback, and the dry-run plan.

mod deploy_support;

use std::sync::Arc;
use std::time::Duration;

use deploy_support::{Rig, first_run, refused_as, rolled_back_reason, step, stopped_reason};
use deploykit_core::deploy::{
    Decision, FinalStatus, FixedDecision, Journal, MemoryJournal, Record, plan, resume, rollback,
};
use deploykit_core::sim::{FleetEventKind, TrafficProfile};
use deploykit_core::{DeployKind, ErrorKind, NullSink};

/// Monitor thresholds no window can meet: every verdict is inconclusive.
fn never_enough_traffic(rig: &mut Rig) {
    rig.settings.monitor.min_requests = u64::MAX;
}

#[tokio::test]
async fn with_yes_an_inconclusive_production_verdict_rolls_back_by_policy() {
    let mut rig = Rig::prod().await;
    never_enough_traffic(&mut rig);
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("inconclusive"), "{reason}");
    assert!(
        reason.contains("policy for an inconclusive verdict is to roll back"),
        "{reason}"
    );
    assert_eq!(rig.running("idp").len(), 4);
}

#[tokio::test]
async fn without_yes_the_run_pauses_holding_the_lock_and_resumes_with_a_decision() {
    let mut rig = Rig::prod().await;
    never_enough_traffic(&mut rig);
    let journal = MemoryJournal::new();
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    match &out.status {
        FinalStatus::Paused { reason } => {
            assert!(
                reason.contains("Is the error visible for users?"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!rig.lock_free().await, "a paused deploy keeps its lock");
    // The operator looks and decides to go on.
    let run = first_run(&journal);
    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(FixedDecision(Decision::Go)));
    let out = resume(&ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(out.overrides.len(), 1);
    assert_eq!(out.overrides[0].what, "inconclusive_verdict");
    assert_eq!(rig.merges(), 1);
    assert_eq!(rig.launched("idp"), 4);
}

#[tokio::test]
async fn the_whole_role_failing_is_left_to_a_person_not_rolled_back() {
    // Old and new SHAs alike at 5 % 5xx: an incident (a slow dependency), not the new code,
    // and rolling the new code back would not help.
    let rig = Rig::prod().await;
    let (_, old) = rig
        .running("idp")
        .into_iter()
        .next()
        .expect("an old instance");
    rig.on_merge(Box::new(move |world, new| {
        for sha in [&old, new] {
            world
                .scripted_monitor()
                .set_profile(sha, TrafficProfile::with_error_rate(0.05));
        }
    }));
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy(&req).await;
    assert!(matches!(out.status, FinalStatus::Paused { .. }), "{out:#?}");
    let monitor = out
        .verdicts
        .iter()
        .rfind(|v| v.gate == "monitor")
        .expect("a monitor verdict");
    assert_eq!(monitor.verdict, "inconclusive", "{monitor:#?}");
    assert!(
        monitor.explanation.contains("the whole role's 5xx are up"),
        "{monitor:#?}"
    );
    assert!(!rig.lock_free().await, "a paused deploy keeps its lock");
    assert_eq!(
        rig.running("idp").len(),
        8,
        "nothing scaled in: old and new instances still serve"
    );
}

#[tokio::test]
async fn an_operator_can_decide_to_roll_back() {
    let mut rig = Rig::prod().await;
    never_enough_traffic(&mut rig);
    rig.ports.operator = Some(Arc::new(FixedDecision(Decision::Rollback)));
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy(&req).await;
    assert!(
        matches!(out.status, FinalStatus::RolledBack { .. }),
        "{out:#?}"
    );
    assert_eq!(rig.running("idp").len(), 4);
}

#[tokio::test]
async fn a_spike_found_by_the_follow_up_check_rolls_back_by_revert() {
    let rig = Rig::prod().await;
    rig.on_merge(Box::new(|world, sha| {
        let later = world.clock().now() + chrono::Duration::minutes(50);
        world.scripted_monitor().set_profile_from(
            sha,
            later,
            TrafficProfile::with_error_rate(0.05),
        );
    }));
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("follow_up"), "{reason}");
    // The old instances were scaled in an hour ago: nothing old to return to, and the report
    // says the revert is the way back.
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("already gone, scaled in after the monitor gate")),
        "{:?}",
        out.notes
    );
    assert!(out.revert_pr_url.is_some());
    assert!(rig.releases_created().is_empty());
    rig.assert_capacity_kept(4, 2);
}

#[tokio::test]
async fn a_standalone_rollback_removes_the_new_instances_and_opens_the_revert() {
    let rig = Rig::prod().await;
    // Someone merged and recycled by hand.
    rig.merge_and_recycle_by_hand().await;
    let out = rollback(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &NullSink,
        &rig.rollback_request("sign-in errors on the new code"),
    )
    .await
    .expect("rollback");
    assert!(
        matches!(out.status, FinalStatus::RolledBack { .. }),
        "{out:#?}"
    );
    assert_eq!(rig.running("idp").len(), 4);
    assert_eq!(rig.running("worker").len(), 2);
    assert!(out.revert_pr_url.is_some());
    assert_eq!(
        rig.announcements(),
        ["rollback_started", "retrospective_to_schedule"]
    );
    rig.assert_capacity_kept(4, 2);
    // The spindown will not double-remove anything later: it was deleted.
    rig.world
        .virtual_clock()
        .advance(Duration::from_secs(30 * 60));
    assert_eq!(rig.running("idp").len(), 4);
}

#[tokio::test]
async fn a_rollback_repeated_while_its_revert_pr_is_open_takes_that_pr_on() {
    let rig = Rig::prod().await;
    rig.merge_and_recycle_by_hand().await;
    let first = rollback(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &NullSink,
        &rig.rollback_request("sign-in errors on the new code"),
    )
    .await
    .expect("rollback");
    assert!(
        matches!(first.status, FinalStatus::RolledBack { .. }),
        "{first:#?}"
    );
    let url = first.revert_pr_url.clone().expect("a revert PR");
    // "Did it work?": the same command again, while the revert PR is open. It finishes, with
    // that PR, and gives the deploy lock back (the revert deploy needs it).
    let journal = MemoryJournal::new();
    let again = rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &NullSink,
        &rig.rollback_request("sign-in errors on the new code"),
    )
    .await
    .expect("the second rollback finishes");
    assert!(
        matches!(again.status, FinalStatus::RolledBack { .. }),
        "{again:#?}"
    );
    assert_eq!(again.revert_pr_url.as_deref(), Some(url.as_str()));
    assert_eq!(rig.revert_prs().await, 1, "no second revert PR");
    assert!(rig.lock_free().await, "the lock was released");
    let open = step(&again, "open_revert");
    assert!(
        open.detail
            .contains("was already open (opened by an earlier rollback)")
            && open.detail.contains("--kind revert --pr"),
        "{open:?}"
    );
    let warned = journal
        .load(&first_run(&journal))
        .expect("records")
        .into_iter()
        .any(|r| {
            matches!(r, Record::Note { kind, text, .. }
            if kind == "warning" && text.contains("the revert PR of RC 112 is already open"))
        });
    assert!(warned, "the journal keeps the warning");
}

#[tokio::test]
async fn a_standalone_rollback_after_a_finished_deploy_removes_nothing_and_says_so() {
    let rig = Rig::prod().await;
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let serving = rig.running("idp");
    let out = rollback(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &NullSink,
        &rig.rollback_request("errors an hour after the deploy"),
    )
    .await
    .expect("rollback");
    assert!(
        matches!(out.status, FinalStatus::RolledBack { .. }),
        "{out:#?}"
    );
    // The instances serving run the new code, and they stay: nothing was "removed".
    assert_eq!(rig.running("idp"), serving);
    let scale_in = step(&out, "rollback_scale_in_new");
    assert!(
        scale_in.detail.contains("nothing to remove"),
        "{scale_in:?}"
    );
    assert!(
        !scale_in.detail.contains("old instance(s) serving"),
        "{scale_in:?}"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("prod-idp: no recycle in progress")
                && n.contains("stay until the revert is deployed")),
        "{:?}",
        out.notes
    );
    assert!(out.revert_pr_url.is_some(), "the revert is the way back");
    // Without a PR to revert there is nothing at all to do: refused, naming --pr.
    let mut nothing = rig.rollback_request("errors an hour after the deploy");
    nothing.pr_number = None;
    let out = rollback(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &NullSink,
        &nothing,
    )
    .await
    .expect("rollback");
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("nothing to roll back in prod"), "{reason}");
    assert!(reason.contains("--pr N"), "{reason}");
    assert_eq!(rig.running("idp"), serving);
    assert!(rig.lock_free().await, "the refusal released the lock");
}

#[tokio::test]
async fn the_dry_run_plan_has_the_numbers_and_changes_nothing() {
    let rig = Rig::prod().await;
    let p = plan(&rig.ports, &rig.settings, &rig.request(DeployKind::Full))
        .await
        .expect("plan");
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    let recycle = p
        .steps
        .iter()
        .find(|s| s.step.as_str() == "recycle")
        .expect("recycle step");
    let text = recycle.operations.join("\n");
    assert!(text.contains("prod-idp"), "{text}");
    assert!(text.contains("desired 4 -> 8"), "{text}");
    assert!(
        text.contains("RecycleOnce.asg-recycle at 2026-11-24 15:15:00 UTC"),
        "{text}"
    );
    // Each group's spindown is listed before its scale-out, in the order the recycle makes
    // them, with times to the second.
    for line in &recycle.operations {
        let spindown = line.find("RecycleOnce").expect("a spindown");
        let scale_out = line
            .find("DelayedScaleOut")
            .or_else(|| line.find("set_capacity"))
            .expect("a scale-out");
        assert!(spindown < scale_out, "{line}");
        assert!(!line.contains(".0"), "{line}");
    }
    assert_eq!(p.steps.len(), 14);
    // As text: numbered steps, the rules in percent, the recycle's times, and a way on.
    let shown = p.render();
    for line in [
        "Dry run: deploy of idp to prod (full), planned at 2026-11-24 15:00:00 UTC; nothing was \
         changed",
        "   1. preflight",
        "  14. report",
        "  11. smoke_tests",
        "did the smoke tests pass? (Sign in",
        "--yes: not asked, noted as unconfirmed",
        "Rollback on new 5xx above 1.000%, or a rise of 0.200 points or more over old",
        "  would recycle prod-idp: desired 4 -> 8 at 15:05:00 UTC, back to 4 at 15:15:00 UTC",
        "Nothing would stop it now: run the same command without --dry-run.",
        "create_release(RC 112 from the merged PR #",
    ] {
        assert!(shown.contains(line), "{line:?} not in:\n{shown}");
    }
    let mut no_pr = rig.request(DeployKind::Full);
    no_pr.pr_number = None;
    let blocked = plan(&rig.ports, &rig.settings, &no_pr)
        .await
        .expect("plan")
        .render();
    assert!(
        blocked.contains(
            "It would be refused now:\n  - a full deploy merges a promotion PR: give its number"
        ),
        "{blocked}"
    );
    assert_eq!(rig.merges(), 0);
    assert!(!rig.fleet().history().iter().any(|e| matches!(
        e.kind,
        FleetEventKind::CapacitySet { .. } | FleetEventKind::ActionPut { .. }
    )));
    assert!(rig.lock_free().await);
}

#[tokio::test]
async fn the_dry_run_names_what_preflight_would_refuse() {
    let rig = Rig::prod().await;
    // Friday: the calendar refuses a full deploy, unless an override reason is given.
    rig.world
        .virtual_clock()
        .advance(Duration::from_secs(3 * 24 * 3600));
    let friday = plan(&rig.ports, &rig.settings, &rig.request(DeployKind::Full))
        .await
        .expect("plan");
    assert_eq!(friday.blockers.len(), 1, "{:?}", friday.blockers);
    assert!(
        friday.blockers[0].starts_with("cadence policy: ")
            && friday.blockers[0].contains("Friday")
            && friday.blockers[0].contains("give an override reason, which is recorded")
            && friday.blockers[0].contains("--override-cadence REASON"),
        "{:?}",
        friday.blockers
    );
    let mut overridden = rig.request(DeployKind::Full);
    overridden.cadence_override = Some("security fix agreed with on-call".into());
    let p = plan(&rig.ports, &rig.settings, &overridden)
        .await
        .expect("plan");
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    // An off-cycle deploy without its reason: one blocker, naming --reason, and not an
    // override that would not help.
    let mut no_reason = rig.request(DeployKind::OffCycle);
    no_reason.reason = None;
    let p = plan(&rig.ports, &rig.settings, &no_reason)
        .await
        .expect("plan");
    assert_eq!(p.blockers.len(), 1, "{:?}", p.blockers);
    assert!(
        p.blockers[0].contains("needs a reason: give it with --reason")
            && !p.blockers[0].contains("--override-cadence"),
        "{:?}",
        p.blockers
    );

    // A recycle already under way: the pre-check's words, once.
    let ctx = deploykit_core::fleet_ops::FleetContext {
        fleet: &*rig.world.fleet(),
        clock: &*rig.world.clock(),
        events: &NullSink,
    };
    let env = deploykit_core::EnvName::new("prod").expect("env");
    let role = deploykit_core::RoleName::new("idp").expect("role");
    deploykit_core::fleet_ops::recycle(
        &ctx,
        &deploykit_core::fleet_ops::RecycleRequest::new(
            env,
            deploykit_core::RoleSelector::Role(role),
        ),
    )
    .await
    .expect("recycle");
    let p = plan(&rig.ports, &rig.settings, &overridden)
        .await
        .expect("plan");
    assert!(
        !p.blockers.is_empty()
            && p.blockers
                .iter()
                .all(|b| b.contains("has a recycle in progress until")),
        "{:?}",
        p.blockers
    );
    assert!(
        p.render()
            .contains("It would be refused now:\n  - prod-idp has a recycle in progress")
    );
}

#[tokio::test]
async fn a_rollback_with_a_wrong_pr_or_no_reason_is_refused_holding_nothing() {
    let rig = Rig::prod().await;
    rig.merge_and_recycle_by_hand().await;
    let journal = MemoryJournal::new();
    let mut wrong_pr = rig.rollback_request("sign-in errors on the new code");
    wrong_pr.pr_number = Some(99_999);
    let out = rollback(&rig.ports, &rig.settings, &journal, &NullSink, &wrong_pr)
        .await
        .expect("rollback");
    let reason = stopped_reason(&out.status);
    assert!(
        reason.contains("#99999") && reason.matches("check the number").count() == 1,
        "said once: {reason}"
    );
    // A number that names no PR is bad input (exit 2), saying what to give.
    assert_eq!(refused_as(&out.status), Some(ErrorKind::InvalidInput));
    assert!(
        reason.starts_with("PR #99999 does not exist")
            && reason.contains("names the merged promotion PR to revert: give its number"),
        "{reason}"
    );
    let report = step(&out, "report");
    assert!(
        report.detail.contains("idp in prod: nothing rolled back:"),
        "{}",
        report.detail
    );
    // Nothing held, nothing touched, nothing left to resume.
    assert!(rig.lock_free().await);
    assert_eq!(rig.running("idp").len(), 8);
    assert!(rig.announcements().is_empty(), "{:?}", rig.announcements());

    let no_reason = rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &NullSink,
        &rig.rollback_request("  "),
    )
    .await
    .expect_err("refused");
    assert_eq!(no_reason.kind(), deploykit_core::ErrorKind::InvalidInput);
    assert!(
        no_reason.to_string().contains("needs a reason"),
        "{no_reason}"
    );
}

#[tokio::test]
async fn resuming_a_run_that_ended_says_so_and_runs_nothing() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let out = rig
        .deploy_with(&journal, &rig.request(DeployKind::ConfigRecycle))
        .await
        .expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let run = first_run(&journal);
    let events = deploykit_core::events::RecordingSink::default();
    let again = resume(&rig.ports, &rig.settings, &journal, &events, &run)
        .await
        .expect("resume is idempotent");
    assert_eq!(again.status, FinalStatus::Deployed);
    let said: Vec<String> = events.events().iter().map(|e| format!("{e:?}")).collect();
    assert!(
        said.iter()
            .any(|e| e.contains("has already ended (deployed): nothing to resume")),
        "{said:?}"
    );
    assert!(
        !said.iter().any(|e| e.contains("StepStarted")),
        "nothing runs again: {said:?}"
    );
}
