//! A run left paused or unfinished, then overtaken: its lock released, and another run of the
//! app in the environment (a standalone rollback, a deploy) ended since, changing what serves.
//! Resuming it would go on from a world it no longer describes (release an RC that was rolled
//! back, open a second revert of it): the resume is refused, naming the later run, and
//! nothing is done.

mod deploy_support;

use std::sync::Arc;

use deploy_support::{Rig, first_run};
use deploykit_core::deploy::{
    Decision, DeployOutcome, FinalStatus, FixedDecision, Journal, MemoryJournal, RunId, resume,
    rollback,
};
use deploykit_core::ports::CodeHost;
use deploykit_core::{DeployKind, Error, ErrorKind, NullSink, Result};

/// Deploys RC 112 recording in `journal` with nobody to ask: the run pauses at the smoke
/// tests, holding the deploy lock. Its id.
async fn paused_at_the_smoke_tests(rig: &Rig, journal: &MemoryJournal) -> RunId {
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(journal, &req).await.expect("deploy");
    assert!(
        matches!(&out.status, FinalStatus::Paused { reason } if reason.contains("smoke tests")),
        "{out:#?}"
    );
    first_run(journal)
}

/// `deploykit lock release prod idp RUN` of the run holding the lock.
async fn release_the_lock_by_hand(rig: &Rig) {
    let held = rig
        .lock_holder()
        .await
        .expect("the paused run holds the lock");
    rig.ports
        .lock
        .release(&rig.env, &rig.app.name, &held.owner)
        .await
        .expect("release");
}

/// Resumes `run` answering `answer` at any gate.
async fn resume_answering(
    rig: &Rig,
    journal: &MemoryJournal,
    run: &RunId,
    answer: Decision,
) -> Result<DeployOutcome> {
    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(FixedDecision(answer)));
    resume(&ports, &rig.settings, journal, &NullSink, run).await
}

/// The refusal of a superseded run's resume: a Conflict naming the later run and the way on,
/// with nothing journalled in the resumed run.
fn assert_superseded(err: &Error, run: &RunId, later: &str) {
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("run {run} cannot go on: run {later} (")),
        "{text}"
    );
    assert!(text.contains("is superseded: leave it"), "{text}");
    assert!(text.contains("Nothing was done"), "{text}");
    assert_eq!(err.context_value("superseded_by"), Some(later), "{err}");
}

#[tokio::test]
async fn a_paused_deploy_overtaken_by_a_standalone_rollback_is_not_resumed() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let run = paused_at_the_smoke_tests(&rig, &journal).await;
    release_the_lock_by_hand(&rig).await;
    let rolled = rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &NullSink,
        &rig.rollback_request("sign-in broken"),
    )
    .await
    .expect("rollback");
    assert!(
        matches!(rolled.status, FinalStatus::RolledBack { .. }),
        "{rolled:#?}"
    );
    assert_eq!(rig.revert_prs().await, 1);
    let records = journal.load(&run).expect("records").len();
    let announced = rig.announcements();
    // `deploykit runs` does not offer it to `resume` any more, and says why.
    let listed = deploykit_core::deploy::run_list::list_runs(&journal, None).expect("runs");
    let paused = listed
        .runs
        .iter()
        .find(|r| r.run_id == run.as_str())
        .expect("the paused run");
    assert_eq!(
        paused.superseded_by.as_deref(),
        Some(rolled.run_id.as_str())
    );
    assert_eq!(paused.next_step, None);
    let table = listed.render();
    assert!(
        table.contains(&format!("none: superseded by {}", rolled.run_id))
            && !table.contains("deploykit resume"),
        "{table}"
    );

    // "go" would release the RC that was just rolled back; "rollback" would open a second
    // revert of it. Both are refused, naming the rollback, and do nothing.
    for answer in [Decision::Go, Decision::Rollback] {
        let err = resume_answering(&rig, &journal, &run, answer)
            .await
            .expect_err("superseded");
        assert_superseded(&err, &run, &rolled.run_id);
        let text = err.to_string();
        assert!(
            text.contains("(standalone rollback of idp in prod)")
                && text.contains("ended (rolled back: sign-in broken)"),
            "{text}"
        );
        assert!(text.contains("it holds no deploy lock"), "{text}");
        assert_eq!(journal.load(&run).expect("records").len(), records);
        assert!(rig.releases_created().is_empty(), "no release of RC 112");
        assert_eq!(rig.revert_prs().await, 1, "no second revert PR");
        assert_eq!(rig.announcements(), announced, "nothing announced");
        assert!(rig.lock_free().await, "the lock was not taken back");
    }

    // The revert is deployed: the newest run that changed what serves is named.
    let host = rig
        .world
        .sim_code_host(&deploy_support::idp())
        .expect("host");
    let revert = host
        .pull_requests(&Default::default())
        .await
        .expect("prs")
        .into_iter()
        .find(|pr| pr.title == "Revert RC 112")
        .expect("the revert PR")
        .number;
    host.approve(revert, "reviewer").expect("approve");
    let mut req = rig.request(DeployKind::Revert);
    req.pr_number = Some(revert);
    let reverted = rig.deploy_with(&journal, &req).await.expect("revert");
    assert_eq!(reverted.status, FinalStatus::Deployed, "{reverted:#?}");
    let err = resume_answering(&rig, &journal, &run, Decision::Rollback)
        .await
        .expect_err("superseded");
    assert_superseded(&err, &run, &reverted.run_id);
    assert!(
        err.to_string()
            .contains("(revert deploy of idp in prod) started after it and has ended (deployed)"),
        "{err}"
    );
    assert_eq!(rig.revert_prs().await, 1, "no second revert PR");
    assert!(rig.releases_created().is_empty());
}

#[tokio::test]
async fn a_superseded_run_that_still_holds_the_lock_is_told_to_release_it() {
    // A later run took the lock and released it, so a superseded run seldom holds it; here
    // it is handed back to the paused run after the rollback. The refusal says to release it.
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let run = paused_at_the_smoke_tests(&rig, &journal).await;
    let held = rig.lock_holder().await.expect("held");
    release_the_lock_by_hand(&rig).await;
    let rolled = rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &NullSink,
        &rig.rollback_request("sign-in broken"),
    )
    .await
    .expect("rollback");
    rig.ports.lock.acquire(&held).await.expect("held again");
    let err = resume_answering(&rig, &journal, &run, Decision::Go)
        .await
        .expect_err("superseded");
    assert_superseded(&err, &run, &rolled.run_id);
    assert!(
        err.to_string().contains(&format!(
            "it still holds the deploy lock of idp in prod: release it with `deploykit lock \
             release prod idp {run}`"
        )),
        "{err}"
    );
    assert_eq!(
        rig.lock_holder().await.map(|h| h.owner),
        Some(held.owner),
        "the lock is left as it was"
    );
}

#[tokio::test]
async fn a_later_run_that_changed_nothing_does_not_stop_the_resume() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let run = paused_at_the_smoke_tests(&rig, &journal).await;
    // A second deploy is refused: the paused run holds the lock. It changed nothing.
    let refused = rig
        .deploy_with(&journal, &rig.request(DeployKind::Full))
        .await
        .expect("deploy");
    assert!(
        matches!(refused.status, FinalStatus::Stopped { .. }),
        "{refused:#?}"
    );
    let out = resume_answering(&rig, &journal, &run, Decision::Go)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.releases_created(), vec!["RC 112".to_string()]);
}
