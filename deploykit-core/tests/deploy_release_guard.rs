//! A release made by hand while a deploy run of the same PR has not finished: the guard
//! finds the run (paused at the smoke tests, stopped part way, rolling back) and says how
//! to go on; a run that finished, another PR or another app is no obstacle.

mod deploy_support;

use std::sync::Arc;

use deploy_support::{Rig, first_run, idp};
use deploykit_core::Asker;
use deploykit_core::deploy::release_guard::unfinished_deploy_of;
use deploykit_core::deploy::{
    Decision, FinalStatus, FixedDecision, MemoryJournal, resume, rollback,
};
use deploykit_core::sim::faults::Fault;
use deploykit_core::{AppName, DeployKind, ErrorKind, NullSink};

#[tokio::test]
async fn a_run_waiting_for_the_smoke_tests_refuses_a_hand_made_release_until_it_is_answered() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let mut req = rig.request(DeployKind::Full);
    req.yes = false;
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert!(matches!(out.status, FinalStatus::Paused { .. }), "{out:#?}");
    let run = first_run(&journal);

    let found = unfinished_deploy_of(&journal, &idp(), rig.pr)
        .expect("journal")
        .expect("the paused run is found");
    assert_eq!(found.run.run_id, run.as_str());
    assert!(!found.rolling_back);
    let refusal = found.refusal(Asker::Cli);
    let text = refusal.to_string();
    assert_eq!(refusal.kind(), ErrorKind::PolicyRefused, "{text}");
    assert!(
        text.contains("waiting for the smoke tests' answer"),
        "{text}"
    );
    assert!(
        text.contains(&format!("deploykit resume {run} --decision go")),
        "{text}"
    );
    assert!(
        text.contains(&format!("To release PR #{} anyway", rig.pr)),
        "{text}"
    );
    assert!(text.contains("--force"), "{text}");
    // Python callers are told the Python way on.
    let text = found.refusal(Asker::Python).to_string();
    assert!(
        text.contains(&format!("resume(\"{run}\", decide=...)` answering \"go\"")),
        "{text}"
    );
    assert!(text.contains("force=True"), "{text}");
    assert!(!text.contains("deploykit resume"), "{text}");

    // Another PR, or another app, is not held up by it.
    assert!(
        unfinished_deploy_of(&journal, &idp(), rig.pr + 1)
            .expect("journal")
            .is_none()
    );
    let pki: AppName = "pki".parse().expect("app");
    assert!(
        unfinished_deploy_of(&journal, &pki, rig.pr)
            .expect("journal")
            .is_none()
    );

    // Answered, the run releases and the guard lets go.
    let mut ports = rig.ports.clone();
    ports.operator = Some(Arc::new(FixedDecision(Decision::Go)));
    let out = resume(&ports, &rig.settings, &journal, &NullSink, &run)
        .await
        .expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(
        unfinished_deploy_of(&journal, &idp(), rig.pr)
            .expect("journal")
            .is_none()
    );
}

#[tokio::test]
async fn a_run_stopped_part_way_names_the_step_it_resumes_at() {
    let rig = Rig::prod().await;
    // Killed once preflight has recorded the PR and the merge is under way.
    let journal = rig.killed_after(12).await;
    let found = unfinished_deploy_of(journal.as_ref(), &idp(), rig.pr)
        .expect("journal")
        .expect("the unfinished run is found");
    let text = found.refusal(Asker::Cli).to_string();
    let next = found.run.next_step.expect("a next step").as_str();
    assert!(text.contains(&format!("stopped at {next}")), "{text}");
    assert!(text.contains("(unfinished)"), "{text}");
    assert!(
        text.contains(&format!(
            "go on with `deploykit resume {}`",
            found.run.run_id
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_rollback_of_the_pr_under_way_refuses_its_release() {
    let rig = Rig::prod().await;
    rig.deploy(&rig.request(DeployKind::Full)).await;
    let journal = MemoryJournal::new();
    // The operator stops the rollback as it opens the revert: it is left to be resumed.
    rig.world
        .faults()
        .inject("code_host.create_pull_request", Fault::Interrupted, 1);
    let err = rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &NullSink,
        &rig.rollback_request("sign-in errors after the release"),
    )
    .await
    .expect_err("the rollback halts");
    assert!(err.to_string().contains("deploykit resume"), "{err}");
    let found = unfinished_deploy_of(&journal, &idp(), rig.pr)
        .expect("journal")
        .expect("the rollback is found");
    assert!(found.rolling_back);
    let text = found.refusal(Asker::Cli).to_string();
    assert!(
        text.contains(&format!("is rolling PR #{} back", rig.pr)),
        "{text}"
    );
    assert!(text.contains("finish the rollback"), "{text}");
}

#[tokio::test]
async fn a_finished_run_is_no_obstacle() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    rig.deployed_in(&journal).await;
    assert!(
        unfinished_deploy_of(&journal, &idp(), rig.pr)
            .expect("journal")
            .is_none()
    );
}
