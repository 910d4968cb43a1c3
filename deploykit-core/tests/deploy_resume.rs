//! Resume after a kill at every point of a run: the final world equals an uninterrupted
//! run's, with the PR merged once, capacity doubled once and one release.

mod deploy_support;

use std::sync::Arc;

use deploy_support::{KillAfter, Rig, first_run, step};
use deploykit_core::deploy::{FileJournal, FinalStatus, Journal, MemoryJournal, Record};
use deploykit_core::sim::{MigrationScript, TrafficProfile};
use deploykit_core::{DeployKind, ErrorKind};

/// What must be the same after any interrupted-and-resumed run.
#[derive(Debug, PartialEq)]
struct WorldSummary {
    status: FinalStatus,
    merges: usize,
    releases: Vec<String>,
    idp_launched: usize,
    worker_launched: usize,
    migration_launched: usize,
    idp_running: usize,
    idp_shas: Vec<String>,
    lock_free: bool,
    revert_open: bool,
}

async fn summary(rig: &Rig, status: FinalStatus) -> WorldSummary {
    let mut shas: Vec<String> = rig
        .running("idp")
        .into_iter()
        .map(|(_, s)| s.to_string())
        .collect();
    shas.sort();
    WorldSummary {
        status,
        merges: rig.merges(),
        releases: rig.releases_created(),
        idp_launched: rig.launched("idp"),
        worker_launched: rig.launched("worker"),
        migration_launched: rig.launched("migration"),
        idp_running: rig.running("idp").len(),
        idp_shas: shas,
        lock_free: rig.lock_free().await,
        revert_open: rig.revert_prs().await > 0,
    }
}

fn strip_reason(s: FinalStatus) -> FinalStatus {
    // Reasons quote instance ids and times, which differ between runs only by when the kill
    // happened; the kind of ending must be the same.
    match s {
        FinalStatus::RolledBack { .. } => FinalStatus::RolledBack {
            reason: String::new(),
        },
        other => other,
    }
}

async fn kill_everywhere(script: MigrationScript) {
    // The uninterrupted run.
    let reference_rig = Rig::prod().await;
    reference_rig
        .world
        .scripted_logs()
        .set_migration_script(script);
    let journal = MemoryJournal::new();
    let out = reference_rig
        .deploy_with(&journal, &reference_rig.request(DeployKind::Full))
        .await
        .expect("deploy");
    let reference = summary(&reference_rig, strip_reason(out.status)).await;
    let run = first_run(&journal);
    let total = journal.load(&run).expect("records").len();
    let reference_announcements = reference_rig.announcements();
    assert!(total > 20, "only {total} records");

    for n in 1..total {
        let rig = Rig::prod().await;
        rig.world.scripted_logs().set_migration_script(script);
        let memory = Arc::new(MemoryJournal::new());
        let killing = KillAfter::new(memory.clone(), n);
        let err = rig
            .deploy_with(&killing, &rig.request(DeployKind::Full))
            .await
            .expect_err("killed");
        assert_eq!(err.kind(), ErrorKind::Interrupted, "kill at {n}: {err}");
        // A fresh driver, from the journal alone.
        let out = rig
            .resume(memory.as_ref())
            .await
            .unwrap_or_else(|e| panic!("resume after a kill at record {n}: {e}"));
        let got = summary(&rig, strip_reason(out.status)).await;
        assert_eq!(got, reference, "kill at record {n} of {total}");
        // Chat cannot be asked whether a message went out: a kill between posting and
        // recording may repeat that one announcement, nothing else.
        let sent = rig.announcements();
        let mut deduped = sent.clone();
        deduped.dedup();
        assert_eq!(
            deduped, reference_announcements,
            "kill at record {n}: {sent:?}"
        );
        assert!(sent.len() <= reference_announcements.len() + 1, "{sent:?}");
        rig.assert_capacity_kept(4, 2);
    }
}

#[tokio::test]
async fn a_deploy_killed_at_any_record_resumes_to_the_same_world() {
    kill_everywhere(MigrationScript::Success).await;
}

#[tokio::test]
async fn a_rollback_killed_at_any_record_resumes_to_the_same_world() {
    kill_everywhere(MigrationScript::MigrationError).await;
}

/// A rollback resumed after it removed a group's new instances says so, as an uninterrupted
/// one does, not "no new instance running": what an earlier attempt did is in the journal.
#[tokio::test]
async fn a_resumed_rollback_says_what_its_earlier_attempts_removed() {
    // An error spike on RC 112 rolls the deploy back at the monitor gate; the migration
    // group protects its instance, as production's groups do.
    let rolling_back = || async {
        let rig = Rig::prod().await;
        rig.on_merge(Box::new(|world, sha| {
            world
                .scripted_monitor()
                .set_profile(sha, TrafficProfile::with_error_rate(0.05));
        }));
        rig.fleet()
            .set_protect_new_instances(&rig.group("migration"), true)
            .expect("protect");
        rig
    };
    let rig = rolling_back().await;
    let journal = MemoryJournal::new();
    let out = rig
        .deploy_with(&journal, &rig.request(DeployKind::Full))
        .await
        .expect("deploy");
    let reference = step(&out, "rollback_scale_in_new").detail.clone();
    assert!(
        reference.starts_with(
            "prod-idp: new instances removed, 4 old instance(s) serving; prod-worker: new \
             instances removed, 2 old instance(s) serving"
        ),
        "{reference}"
    );
    let records = journal.load(&first_run(&journal)).expect("records");
    // Killed right after the last change the rollback made to each group in turn: the
    // resumed attempt finds nothing left to remove in it.
    for group in ["prod-idp", "prod-worker", "prod-migration"] {
        let prefix = format!("rollback/{group}/");
        let last = records
            .iter()
            .rposition(|r| matches!(r, Record::EffectDone { key, .. } if key.starts_with(&prefix)))
            .unwrap_or_else(|| panic!("the rollback changed nothing in {group}"));
        let rig = rolling_back().await;
        let memory = Arc::new(MemoryJournal::new());
        let err = rig
            .deploy_with(
                &KillAfter::new(memory.clone(), last + 1),
                &rig.request(DeployKind::Full),
            )
            .await
            .expect_err("killed");
        assert_eq!(err.kind(), ErrorKind::Interrupted, "{group}: {err}");
        let out = rig.resume(memory.as_ref()).await.expect("resume");
        assert_eq!(
            step(&out, "rollback_scale_in_new").detail,
            reference,
            "killed after the last change to {group}"
        );
    }
}

#[tokio::test]
async fn a_file_journal_survives_the_process_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = Rig::prod().await;
    let file = Arc::new(FileJournal::new(dir.path()));
    // Kill right after the recycle started; resume from a new journal object on the same
    // directory, as a new process would.
    let killing = KillAfter::new(file.clone(), 15);
    rig.deploy_with(&killing, &rig.request(DeployKind::Full))
        .await
        .expect_err("killed");
    let reopened = FileJournal::new(dir.path());
    let run = first_run(&reopened);
    assert!(reopened.run_file(&run).exists());
    let out = rig.resume(&reopened).await.expect("resume");
    assert_eq!(out.status, FinalStatus::Deployed);
    assert_eq!(rig.merges(), 1);
    assert_eq!(rig.launched("idp"), 4);
    // Resuming a finished run changes nothing and reports the same outcome.
    let again = rig.resume(&reopened).await.expect("resume again");
    assert_eq!(again.status, FinalStatus::Deployed);
    assert_eq!(rig.merges(), 1);
}
