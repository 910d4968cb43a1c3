//! The guide's steps 8 and 9: once the new code has served production for an hour, a person
//! says whether the smoke tests passed; the release waits for a yes, and a no rolls back.

mod deploy_support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deploy_support::{Rig, first_run, rolled_back_reason, step};
use deploykit_core::deploy::{
    Decision, DecisionFor, DecisionRequest, FinalStatus, FixedDecision, Journal, MemoryJournal,
    Operator, Record, SMOKE_TESTS_GATE, resume,
};
use deploykit_core::ports::NewRelease;
use deploykit_core::report::{DeployReport, render_markdown};
use deploykit_core::{DeployKind, NullSink, Result};

/// Answers `answer` and keeps every question, with the virtual time it was asked at.
#[derive(Debug)]
struct Recording {
    answer: Option<Decision>,
    asked: Mutex<Vec<DecisionRequest>>,
}

#[async_trait]
impl Operator for Recording {
    async fn decide(&self, request: &DecisionRequest) -> Result<Option<Decision>> {
        self.asked.lock().expect("asked").push(request.clone());
        Ok(self.answer)
    }
}

fn recording(answer: Option<Decision>) -> Arc<Recording> {
    Arc::new(Recording {
        answer,
        asked: Mutex::new(Vec::new()),
    })
}

#[tokio::test]
async fn the_operator_is_asked_for_the_app_s_checks_and_a_yes_creates_the_release() {
    let mut rig = Rig::prod().await;
    let operator = recording(Some(Decision::Go));
    rig.ports.operator = Some(operator.clone());
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    // The healthy monitor gate asked nothing: the one question is the smoke tests'.
    let asked = operator.asked.lock().expect("asked").clone();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert!(asked[0].is_smoke_tests(), "{:?}", asked[0].gate);
    assert_eq!(asked[0].checks, rig.app.smoke_tests);
    assert!(asked[0].checks.iter().any(|c| c.contains("Sign in")));
    let verdict = out
        .verdicts
        .iter()
        .find(|v| v.gate == "smoke_tests")
        .expect("a smoke-test verdict");
    assert_eq!(verdict.verdict, "go");
    assert!(
        verdict.explanation.contains("alice confirmed"),
        "{verdict:?}"
    );
    // The release comes after the yes, and only then.
    let order: Vec<&str> = out.steps.iter().map(|s| s.step.as_str()).collect();
    let at = |name: &str| order.iter().position(|s| *s == name).expect(name);
    assert!(at("follow_up") < at("smoke_tests") && at("smoke_tests") < at("create_release"));
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
}

#[tokio::test]
async fn a_failed_smoke_test_rolls_back_by_revert_and_creates_no_release() {
    let mut rig = Rig::prod().await;
    rig.ports.operator = Some(Arc::new(FixedDecision(Decision::Rollback)));
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy(&req).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("smoke_tests"), "{reason}");
    assert!(reason.contains("did not all pass"), "{reason}");
    assert!(rig.releases_created().is_empty(), "no release of bad code");
    // The old instances were scaled in before: the revert PR is the way back.
    assert!(out.revert_pr_url.is_some(), "{out:#?}");
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("old instances are already gone, scaled in")),
        "{:?}",
        out.notes
    );
    assert!(
        rig.announcements().contains(&"rollback_started"),
        "{:?}",
        rig.announcements()
    );
    // The announcement does not let anyone think the rolled-back code is gone.
    let announced = rig
        .world
        .recording_notifier()
        .sent()
        .iter()
        .find(|a| a.kind() == "rollback_started")
        .expect("the rollback announcement")
        .to_string();
    let revert = out.revert_pr_url.clone().unwrap_or_default();
    assert!(
        announced.contains(&format!(
            "The new code keeps serving in prod-idp, prod-worker until the revert is deployed: \
             {revert}"
        )),
        "{announced}"
    );
    assert!(rig.lock_free().await);
}

#[tokio::test]
async fn without_anyone_to_ask_the_run_pauses_before_the_release_and_resumes_to_it() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    match &out.status {
        FinalStatus::Paused { reason } => {
            assert!(reason.contains("did the smoke tests pass"), "{reason}");
            assert!(reason.contains("Sign in"), "{reason}");
            assert!(reason.contains("answer go if they passed"), "{reason}");
        }
        other => panic!("expected a pause, got {other:?}"),
    }
    assert!(rig.releases_created().is_empty());
    assert!(!rig.lock_free().await, "a paused deploy keeps its lock");
    // The pause comes an hour and a half after the lock was taken: it is extended to a full
    // time to live from the pause, and still says when it was taken.
    let held = rig.lock_holder().await.expect("held");
    let now = rig.world.clock().now();
    let ttl = chrono::Duration::seconds(i64::try_from(rig.settings.lock_ttl_secs).expect("ttl"));
    assert_eq!(held.expires_at, now + ttl, "{held:?}");
    assert!(
        held.acquired_at < now - chrono::Duration::hours(1),
        "{held:?}"
    );
    // Nothing is rolled back while waiting: the new code serves.
    assert_eq!(rig.running("idp").len(), 4);
    assert_eq!(rig.merges(), 1);

    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(FixedDecision(Decision::Go)));
    let run = first_run(&journal);
    let out = resume(&ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
    assert_eq!(rig.merges(), 1, "nothing merged twice");
    assert!(rig.lock_free().await);
}

#[tokio::test]
async fn a_release_made_by_hand_while_paused_is_kept_when_the_run_resumes() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert!(matches!(out.status, FinalStatus::Paused { .. }), "{out:#?}");
    // Someone releases RC 112 by hand while the run waits for the smoke tests.
    let merged = rig
        .ports
        .code_host
        .pull_request(rig.pr)
        .await
        .expect("pr")
        .merge_commit_sha
        .expect("merged");
    let by_hand = rig
        .ports
        .code_host
        .create_release(&NewRelease {
            name: "RC 112".into(),
            tag_name: "by-hand".into(),
            target: merged,
            body: String::new(),
            make_latest: true,
        })
        .await
        .expect("release by hand");

    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(FixedDecision(Decision::Go)));
    let out = resume(
        &ports,
        &rig.settings,
        &journal,
        &NullSink,
        &first_run(&journal),
    )
    .await
    .expect("the first resume finishes: the release exists");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(out.release_url.as_deref(), Some(by_hand.html_url.as_str()));
    assert_eq!(
        rig.releases_created(),
        vec!["RC 112".to_string()],
        "not twice"
    );
    assert!(rig.lock_free().await);
}

#[tokio::test]
async fn a_go_for_the_monitor_gate_is_not_taken_for_the_smoke_tests() {
    let mut rig = Rig::prod().await;
    // No window has enough traffic: the monitor gate cannot decide and the run pauses.
    rig.settings.monitor.min_requests = u64::MAX;
    let journal = MemoryJournal::new();
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert!(matches!(out.status, FinalStatus::Paused { .. }), "{out:#?}");
    let run = first_run(&journal);
    // `resume RUN --decision go`: the answer is the monitor gate's only.
    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(DecisionFor {
        gate: "monitor".into(),
        decision: Decision::Go,
        otherwise: None,
    }));
    let out = resume(&ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    match &out.status {
        FinalStatus::Paused { reason } => {
            assert!(reason.contains("did the smoke tests pass"), "{reason}")
        }
        other => panic!("expected a pause at the smoke tests, got {other:?}"),
    }
    assert!(rig.releases_created().is_empty(), "nobody said they passed");
    // The next `resume RUN --decision go` answers the smoke tests.
    ports.operator = Some(Arc::new(DecisionFor {
        gate: SMOKE_TESTS_GATE.into(),
        decision: Decision::Go,
        otherwise: None,
    }));
    let out = resume(&ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
}

#[tokio::test]
async fn with_yes_nobody_is_asked_and_the_report_says_the_checks_are_unconfirmed() {
    let rig = Rig::prod().await;
    // `--yes` with no operator: the CLI gives none when --yes is passed.
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("smoke tests not confirmed") && n.contains("Sign in")),
        "{:?}",
        out.notes
    );
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
    // An operator, when there is one (a Python callback), is asked even with yes set.
    let operator = recording(Some(Decision::Rollback));
    let again = Rig::prod().await;
    let mut ports = again.ports.clone();
    ports.operator = Some(operator.clone());
    let out = deploykit_core::deploy::deploy(
        &ports,
        &again.settings,
        &MemoryJournal::new(),
        &NullSink,
        &again.request(DeployKind::Full),
    )
    .await
    .expect("deploy");
    assert!(
        matches!(out.status, FinalStatus::RolledBack { .. }),
        "{out:#?}"
    );
    assert_eq!(operator.asked.lock().expect("asked").len(), 1);
}

#[tokio::test]
async fn with_yes_the_automatic_answer_is_a_decision_in_the_journal_and_the_report() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    rig.deployed_in(&journal).await;
    let records = journal.load(&first_run(&journal)).expect("load");
    let answered = "smoke tests: not asked, --yes answered go at ";
    assert!(
        records.iter().any(|r| matches!(
            r,
            Record::Note { kind, text, .. } if kind == "decision" && text.starts_with(answered)
        )),
        "{records:#?}"
    );
    let report = DeployReport::from_records(&records).expect("report");
    let decision = report
        .decisions
        .iter()
        .find(|d| d.starts_with(answered))
        .unwrap_or_else(|| panic!("{:?}", report.decisions));
    // When it answered: after the follow-up hour, before the release.
    let at = report
        .steps
        .iter()
        .find(|s| s.step == "smoke_tests")
        .expect("smoke_tests step")
        .finished_at;
    assert!(
        decision.contains(&at.format("at %H:%M:%S UTC").to_string()),
        "{decision}"
    );
    let md = render_markdown(&report, None);
    assert!(md.contains(&format!("- decision: {decision}")), "{md}");
    assert!(!md.contains("None: every gate"), "{md}");
}

#[tokio::test]
async fn an_app_without_smoke_tests_is_released_without_asking() {
    let mut rig = Rig::prod().await;
    rig.app.smoke_tests.clear();
    let operator = recording(Some(Decision::Rollback));
    rig.ports.operator = Some(operator.clone());
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(operator.asked.lock().expect("asked").is_empty());
    let step = step(&out, "smoke_tests");
    assert!(
        step.detail.contains("no smoke tests configured"),
        "{step:?}"
    );
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
}

#[tokio::test]
async fn config_recycles_are_not_asked_for_smoke_tests() {
    let mut rig = Rig::prod().await;
    let operator = recording(Some(Decision::Rollback));
    rig.ports.operator = Some(operator.clone());
    let mut req = rig.request(DeployKind::ConfigRecycle);
    req.yes = false;
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(operator.asked.lock().expect("asked").is_empty());
    assert!(out.steps.iter().all(|s| s.step.as_str() != "smoke_tests"));
}
