//! `list_runs`: a journal's runs a line each, with where each stands and what resume would
//! run next.

mod deploy_support;

use deploy_support::Rig;
use deploykit_core::DeployKind;
use deploykit_core::deploy::run_list::{RunStanding, list_runs};
use deploykit_core::deploy::{FinalStatus, Journal, MemoryJournal, Record, RunId, StepName};

#[tokio::test]
async fn a_killed_run_is_listed_unfinished_with_its_next_step_then_deployed_once_resumed() {
    let rig = Rig::prod().await;
    // The process dies a dozen records in, part way through a step.
    let journal = rig.killed_after(12).await;

    let list = list_runs(journal.as_ref(), None).expect("list");
    let [run] = list.runs.as_slice() else {
        panic!("one run: {list:#?}");
    };
    assert_eq!(run.standing, RunStanding::Unfinished);
    // The step resume runs next is the one the journal shows started and not finished.
    let records = journal
        .load(&RunId::parse(&run.run_id).expect("id"))
        .expect("records");
    let started = records.iter().rev().find_map(|r| match r {
        Record::StepStarted { step, .. } => Some(*step),
        _ => None,
    });
    assert!(
        !matches!(records.last(), Some(Record::StepFinished { .. })),
        "killed part way through a step"
    );
    assert_eq!(run.next_step, started, "{run:#?}");
    assert_ne!(
        run.next_step,
        Some(StepName::Preflight),
        "past the preflight"
    );
    assert_eq!((run.app.as_str(), run.env.as_str()), ("idp", "prod"));
    assert!(
        list.render().contains("deploykit resume RUN"),
        "{}",
        list.render()
    );

    let out = rig.resume(journal.as_ref()).await.expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed);
    let list = list_runs(journal.as_ref(), None).expect("list");
    assert_eq!(list.runs[0].standing, RunStanding::Deployed);
    assert_eq!(list.runs[0].next_step, None);
    assert!(
        !list.render().contains("deploykit resume"),
        "{}",
        list.render()
    );
}

#[tokio::test]
async fn a_run_that_cannot_be_read_is_listed_as_such_and_last_keeps_the_newest() {
    let rig = Rig::prod().await;
    let journal = MemoryJournal::new();
    let out = rig
        .deploy_with(&journal, &rig.request(DeployKind::Full))
        .await
        .expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed);
    let broken = RunId::parse("20991231T235900Z-idp-prod").expect("id");
    journal
        .append(
            &broken,
            &Record::StepStarted {
                at: "2099-12-31T23:59:00Z".parse().expect("time"),
                step: StepName::Preflight,
            },
        )
        .expect("append");

    let list = list_runs(&journal, None).expect("list");
    assert_eq!(list.runs.len(), 1);
    assert_eq!(list.unreadable.len(), 1);
    assert_eq!(list.unreadable[0].run_id, broken.as_str());
    assert!(
        list.unreadable[0].error.contains("run_started"),
        "{list:#?}"
    );
    assert!(list.render().contains("unreadable"), "{}", list.render());

    // The newest run only.
    let last = list_runs(&journal, Some(1)).expect("list");
    assert!(last.runs.is_empty());
    assert_eq!(last.unreadable.len(), 1);
}

#[tokio::test]
async fn a_standalone_rollback_is_listed_as_a_rollback_that_rolled_back() {
    let rig = Rig::prod().await;
    rig.merge_and_recycle_by_hand().await;
    let journal = MemoryJournal::new();
    deploykit_core::deploy::rollback(
        &rig.ports,
        &rig.settings,
        &journal,
        &deploykit_core::NullSink,
        &rig.rollback_request("sign-in errors on the new code"),
    )
    .await
    .expect("rollback");
    let list = list_runs(&journal, None).expect("list");
    assert!(list.runs[0].rollback, "{list:#?}");
    let line = list
        .render()
        .lines()
        .nth(1)
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.contains(" rollback ") && line.contains("rolled back"),
        "{}",
        list.render()
    );
    // The report says so too.
    let run = RunId::parse(&list.runs[0].run_id).expect("id");
    let report =
        deploykit_core::report::DeployReport::from_records(&journal.load(&run).expect("records"))
            .expect("report");
    let text = deploykit_core::report::render_markdown(&report, None);
    assert!(
        text.starts_with("# Rollback report") && text.contains("| Kind | rollback |"),
        "{text}"
    );
}

#[test]
fn an_empty_journal_points_at_the_sandbox_s_runs() {
    let list = list_runs(&MemoryJournal::new(), None).expect("list");
    assert!(
        list.render().contains("deploykit runs --sandbox"),
        "{}",
        list.render()
    );
    assert_eq!(list.render_sandboxed(), "no deploy runs in this journal");
}

#[tokio::test]
async fn a_sandboxed_run_s_report_says_to_run_it_again_not_to_resume_it() {
    let rig = Rig::prod().await;
    let journal = rig.killed_after(12).await;
    let run = deploy_support::first_run(journal.as_ref());
    let report =
        deploykit_core::report::DeployReport::from_records(&journal.load(&run).expect("records"))
            .expect("report");
    let resumable = report.unfinished.clone().expect("unfinished");
    assert!(resumable.contains("deploykit resume"), "{resumable}");
    let sandboxed = report.sandboxed().unfinished.expect("unfinished");
    assert!(
        sandboxed.contains("cannot be resumed") && sandboxed.contains("run it again"),
        "{sandboxed}"
    );
    assert!(!sandboxed.contains("deploykit resume"), "{sandboxed}");
}
