//! Each kind of deploy, the deploy lock, and the cadence calendar with its override.

mod deploy_support;

use std::time::Duration;

use deploy_support::{Rig, first_run, refused_as, rolled_back_reason, step, stopped_reason};
use deploykit_core::deploy::{FinalStatus, Journal, MemoryJournal, Record};
use deploykit_core::deploy::{deploy, plan, rollback};
use deploykit_core::events::{Event, NullSink, RecordingSink};
use deploykit_core::policy::Freeze;
use deploykit_core::ports::{Announcement, CodeHost, LockHolder, NewPullRequest};
use deploykit_core::report::{DeployReport, render_svg};
use deploykit_core::sim::{FleetEventKind, TrafficProfile};
use deploykit_core::{DeployKind, ErrorKind};

fn journal_notes(journal: &MemoryJournal, kind: &str) -> Vec<String> {
    let run = first_run(journal);
    journal
        .load(&run)
        .expect("load")
        .into_iter()
        .filter_map(|r| match r {
            Record::Note { kind: k, text, .. } if k == kind => Some(text),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_config_recycle_announces_the_diff_and_ships_no_code() {
    let rig = Rig::prod().await;
    let before = rig.running("idp")[0].1.clone();
    let mut req = rig.request(DeployKind::ConfigRecycle);
    req.config_diff = Some("- idv_max_attempts: 5\n+ idv_max_attempts: 6".into());
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.merges(), 0);
    assert!(rig.releases_created().is_empty());
    assert_eq!(rig.announcements(), ["config_change", "deploy_done"]);
    let sent = rig.world.recording_notifier().sent();
    assert!(sent[0].to_string().contains("idv_max_attempts: 6"));
    // New instances, same code; the migration instance ran.
    let idp = rig.running("idp");
    assert_eq!(idp.len(), 4);
    assert!(idp.iter().all(|(_, s)| *s == before));
    assert_eq!(rig.launched("idp"), 4);
    assert_eq!(rig.launched("migration"), 1);
    let steps: Vec<&str> = out.steps.iter().map(|s| s.step.as_str()).collect();
    assert!(!steps.contains(&"merge_pr") && !steps.contains(&"create_release"));
    // The summary names the kind in the guide's words.
    let report = step(&out, "report");
    assert!(
        report
            .detail
            .starts_with("idp config recycle deployed to prod"),
        "{}",
        report.detail
    );
    // The recycle step's line names the migration group first, as it was recycled.
    let recycle = step(&out, "recycle");
    assert!(
        recycle
            .detail
            .starts_with("recycled: prod-migration 0 -> 1 (the migration instance first"),
        "{}",
        recycle.detail
    );
}

#[tokio::test]
async fn a_config_recycle_without_a_diff_is_warned_and_asks_for_it_in_the_thread() {
    // No diff at all, and an empty one (an empty file, or stdin already at its end).
    for (diff, warning) in [
        (None, "config recycle without a configuration diff"),
        (Some("\n  \n"), "the configuration diff given is empty"),
    ] {
        let rig = Rig::prod().await;
        let events = RecordingSink::default();
        let mut req = rig.request(DeployKind::ConfigRecycle);
        req.config_diff = diff.map(str::to_string);
        let out = deploy(
            &rig.ports,
            &rig.settings,
            &MemoryJournal::new(),
            &events,
            &req,
        )
        .await
        .expect("deploy");
        assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
        let warned = events.events().iter().any(|e| {
            matches!(e, Event::Warning { message, .. }
                if message.contains(warning) && message.contains("--config-diff"))
        });
        assert!(warned, "{warning}: {:?}", events.events());
        let sent = rig.world.recording_notifier().sent();
        assert!(
            sent[0]
                .to_string()
                .contains("the engineer making the change shares it in this thread"),
            "{}",
            sent[0]
        );
    }
}

/// The figures a step remembered under `key` in the journal's only run.
fn remembered(journal: &MemoryJournal, key: &str) -> Option<serde_json::Value> {
    journal
        .load(&first_run(journal))
        .expect("load")
        .into_iter()
        .find_map(|r| match r {
            Record::EffectDone { key: k, result, .. } if k == key => Some(result),
            _ => None,
        })
}

/// Runs a config recycle on `rig`, which must end deployed; its journal, and the monitor
/// gate's wait lines (`monitor_gate: window 1 of 3 (…)`), in order.
async fn deployed_config_recycle(rig: &Rig) -> (MemoryJournal, Vec<String>) {
    let journal = MemoryJournal::new();
    let events = RecordingSink::default();
    let req = rig.request(DeployKind::ConfigRecycle);
    let out = deploy(&rig.ports, &rig.settings, &journal, &events, &req)
        .await
        .expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let waits = events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Waiting { what, .. } if what.starts_with("monitor_gate: window") => Some(what),
            _ => None,
        })
        .collect();
    (journal, waits)
}

/// The first wait line of window `n` of the gate.
fn wait_of(waits: &[String], n: u32) -> &str {
    waits
        .iter()
        .find(|w| w.contains(&format!("window {n} of")))
        .unwrap_or_else(|| panic!("no wait for window {n} in {waits:?}"))
}

#[tokio::test]
async fn a_config_recycle_is_judged_old_instances_against_new_ones() {
    let rig = Rig::prod().await;
    let (journal, waits) = deployed_config_recycle(&rig).await;
    let w = remembered(&journal, "monitor_gate/window/0").expect("the gate's first window");
    assert_eq!(w["by_instance"], true, "{w}");
    assert_eq!(w["old_is_baseline"], false, "{w}");
    // Four old and four new instances, the same SHA, side by side in the same window.
    assert_eq!(w["old"]["instances"], 4, "{w}");
    assert_eq!(w["new"]["instances"], 4, "{w}");
    assert_eq!(w["old"]["sha"], w["new"]["sha"], "{w}");
    let explanation = w["explanation"].as_str().expect("explanation");
    assert!(explanation.starts_with("new instances "), "{explanation}");
    // The report's chart names the two sides so.
    let records = journal.load(&first_run(&journal)).expect("load");
    let svg = render_svg(&DeployReport::from_records(&records).expect("report"));
    assert!(svg.contains(">old instances "), "{svg}");
    assert!(svg.contains(">new instances "), "{svg}");
    assert!(!svg.contains("baseline"), "{svg}");
    // Every wait line says so too.
    assert!(!waits.is_empty());
    assert!(
        waits
            .iter()
            .all(|w| w.contains("(old vs new instances of ")),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_bad_setting_on_the_new_instances_is_rolled_back_beside_the_old_ones() {
    let rig = Rig::prod().await;
    // The new setting sends 0.6 % of the new instances' requests to a 5xx: under the 1 %
    // ceiling, six times the old instances' rate.
    let now = rig.world.clock().now();
    rig.world
        .scripted_monitor()
        .set_launched_profile_from(now, TrafficProfile::with_error_rate(0.006));
    let before: Vec<String> = rig.running("idp").into_iter().map(|(id, _)| id).collect();
    let out = rig.deploy(&rig.request(DeployKind::ConfigRecycle)).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("new instances"), "{reason}");
    assert!(reason.contains("old instances"), "{reason}");
    // The new instances are gone; the old ones serve as before.
    let after: Vec<String> = rig.running("idp").into_iter().map(|(id, _)| id).collect();
    assert_eq!(after, before);
}

/// A config recycle ships no code: its rollback announces that the config recycle is rolled
/// back, and asks for the retrospective the guide wants for any rolled-back deploy in those
/// words.
#[tokio::test]
async fn a_config_recycles_rollback_says_the_config_recycle_is_rolled_back() {
    let rig = Rig::prod().await;
    let now = rig.world.clock().now();
    rig.world
        .scripted_monitor()
        .set_launched_profile_from(now, TrafficProfile::with_error_rate(0.006));
    let out = rig.deploy(&rig.request(DeployKind::ConfigRecycle)).await;
    let reason = rolled_back_reason(&out.status);
    let sent = rig.world.recording_notifier().sent();
    let rollback: Vec<_> = sent
        .iter()
        .filter(|a| {
            matches!(
                a,
                Announcement::RollbackStarted { .. } | Announcement::RetrospectiveToSchedule { .. }
            )
        })
        .collect();
    let texts: Vec<String> = rollback.iter().map(ToString::to_string).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].starts_with("Rolling back the config recycle of idp in prod: "),
        "{}",
        texts[0]
    );
    assert_eq!(
        texts[1],
        format!(
            "Schedule a blameless retrospective for the rollback of the config recycle of idp \
             in prod ({reason})"
        )
    );
    // (The Slack blocks use the same words: slack::message's tests.)
    for text in &texts {
        assert!(!text.contains("the current code"), "{text}");
    }
}

#[tokio::test]
async fn a_config_recycles_follow_up_counts_the_baseline_once() {
    let rig = Rig::prod().await;
    // A monitor that cannot tell instances apart: the gate compares with a baseline.
    rig.world.scripted_monitor().set_splits_by_instance(false);
    let (journal, waits) = deployed_config_recycle(&rig).await;
    let requests = |key: &str| {
        let w = remembered(&journal, key).unwrap_or_else(|| panic!("no {key} in the journal"));
        assert_eq!(w["old_is_baseline"], true, "{w}");
        w["old"]["requests"].as_u64().expect("baseline requests")
    };
    // The gate compared each of its windows with the window before the recycle; the follow-up
    // check compares with that same baseline, not with it added up once per gate window.
    let gate = requests("monitor_gate/window/0");
    assert_eq!(requests("monitor_gate/window/1"), gate);
    assert_eq!(requests("follow_up/window/0"), gate);
    // Once a window could not be split, the wait line says the baseline is the comparison.
    assert!(
        wait_of(&waits, 2).contains("against a baseline of"),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_no_migration_recycle_skips_the_migration_instance() {
    let rig = Rig::prod().await;
    let req = rig.request(DeployKind::NoMigrationRecycle);
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(rig.launched("migration"), 0);
    assert_eq!(rig.launched("idp"), 4);
    assert_eq!(rig.merges(), 0);
    assert_eq!(rig.announcements(), ["recycle_start", "deploy_done"]);
    // A routine recycle's announcement gives no reasons.
    assert!(
        !recycle_announcement(&rig).contains('('),
        "{}",
        recycle_announcement(&rig)
    );
}

#[tokio::test]
async fn a_risky_no_migration_recycle_is_refused_unless_overridden() {
    let rig = Rig::prod().await;
    // stages/prod moved ahead of what runs, with a migration.
    let vcs = rig.world.sim_vcs(&deploy_support::idp()).expect("vcs");
    vcs.commit(
        "stages/prod",
        "Add a column (#11500)",
        "changelog: Internal, Database, Add a column",
        &[("db/primary_migrate/20261124_add_column.rb", "add_column\n")],
    );
    let journal = MemoryJournal::new();
    let req = rig.request(DeployKind::NoMigrationRecycle);
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("20261124_add_column.rb"), "{reason}");
    assert_eq!(rig.launched("idp"), 0, "nothing recycled");

    let mut req = rig.request(DeployKind::NoMigrationRecycle);
    req.no_migration_override = Some("incident 42: config fix, migration already run".into());
    let journal = MemoryJournal::new();
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(out.overrides.len(), 1);
    assert_eq!(out.overrides[0].what, "no_migration_risk");
    assert!(out.overrides[0].reason.contains("incident 42"));
    assert!(journal_notes(&journal, "override")[0].contains("incident 42"));
}

#[tokio::test]
async fn outside_production_the_risk_check_looks_at_main_and_the_dry_run_asks_it() {
    let migration = |vcs: &deploykit_core::sim::SimVcs, branch: &str, name: &str| {
        vcs.commit(
            branch,
            "Add a column (#11500)",
            "changelog: Internal, Database, Add a column",
            &[(name, "add_column\n")],
        );
    };
    // stages/prod moved ahead with a migration: staging does not deploy it, so staging's
    // no-migration recycle is not refused for it, and an override is noted as not needed.
    let rig = Rig::in_env("staging").await;
    let vcs = rig.world.sim_vcs(&deploy_support::idp()).expect("vcs");
    migration(
        &vcs,
        "stages/prod",
        "db/primary_migrate/20261124_prod_only.rb",
    );
    let mut req = rig.request(DeployKind::NoMigrationRecycle);
    let p = plan(&rig.ports, &rig.settings, &req).await.expect("plan");
    assert!(p.blockers.is_empty(), "{:?}", p.blockers);
    req.no_migration_override = Some("incident 42".into());
    let journal = MemoryJournal::new();
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(out.overrides.is_empty(), "{:?}", out.overrides);
    assert!(
        journal_notes(&journal, "override")[0].contains("not needed"),
        "{:?}",
        journal_notes(&journal, "override")
    );

    // A migration on main is what new staging instances would run without: refused, and the
    // dry run says so first.
    let rig = Rig::in_env("staging").await;
    let vcs = rig.world.sim_vcs(&deploy_support::idp()).expect("vcs");
    migration(&vcs, "main", "db/primary_migrate/20261124_on_main.rb");
    let req = rig.request(DeployKind::NoMigrationRecycle);
    let p = plan(&rig.ports, &rig.settings, &req).await.expect("plan");
    let blockers = p.blockers.join("\n");
    assert!(blockers.contains("20261124_on_main.rb"), "{blockers}");
    assert!(blockers.contains("--override-no-migration"), "{blockers}");
    let out = rig.deploy(&req).await;
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("20261124_on_main.rb"), "{reason}");
    assert_eq!(rig.launched("idp"), 0, "nothing recycled");
}

#[tokio::test]
async fn patch_and_off_cycle_deploys_record_their_reason() {
    for kind in [DeployKind::Patch, DeployKind::OffCycle] {
        let rig = Rig::prod().await;
        let journal = MemoryJournal::new();
        let out = rig
            .deploy_with(&journal, &rig.request(kind))
            .await
            .expect("deploy");
        assert_eq!(out.status, FinalStatus::Deployed, "{kind}: {out:#?}");
        assert_eq!(rig.merges(), 1);
        assert!(
            out.notes.iter().any(|n| n.contains("urgent fix")),
            "{:?}",
            out.notes
        );
        assert!(!journal_notes(&journal, "reason").is_empty());
        // Announced too, in the recycle's announcement.
        let announced = recycle_announcement(&rig);
        assert!(
            announced.contains(&format!("({}: urgent fix", kind.words())),
            "{announced}"
        );
    }
    // Without a reason neither starts: a usage error naming the flag, and no run.
    for kind in [DeployKind::Patch, DeployKind::OffCycle] {
        let rig = Rig::prod().await;
        let mut req = rig.request(kind);
        req.reason = None;
        let journal = MemoryJournal::new();
        let err = rig
            .deploy_with(&journal, &req)
            .await
            .expect_err("no reason");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{kind}: {err}");
        assert!(
            err.to_string().contains(&format!(
                "{} deploy needs a reason: give it with --reason",
                kind.with_article()
            )),
            "{err}"
        );
        assert!(journal.runs().expect("runs").is_empty());
    }
}

#[tokio::test]
async fn an_off_cycle_deploy_through_a_freeze_records_what_the_calendar_said() {
    let mut rig = Rig::prod().await;
    let day = rig.world.clock().now().date_naive();
    rig.settings.cadence.freezes.push(Freeze {
        start: day,
        end: day,
        reason: "audit week".into(),
    });
    // A full deploy is refused by the freeze.
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert!(stopped_reason(&out.status).contains("audit week"));
    // An off-cycle one goes on its reason, and the overrides say what it went through.
    let out = rig.deploy(&rig.request(DeployKind::OffCycle)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let cadence = out
        .overrides
        .iter()
        .find(|o| o.what == "cadence")
        .expect("a cadence override");
    assert!(cadence.refusal.contains("audit week"), "{cadence:?}");
    assert!(cadence.reason.contains("urgent fix"), "{cadence:?}");
}

#[tokio::test]
async fn a_second_deploy_is_refused_naming_the_holder() {
    let rig = Rig::prod().await;
    let now = rig.world.clock().now();
    rig.ports
        .lock
        .acquire(&LockHolder {
            env: rig.env.clone(),
            app: rig.app.name.clone(),
            owner: "bob (run 20261124T143000Z-idp-prod)".into(),
            acquired_at: now,
            expires_at: now + chrono::Duration::hours(2),
        })
        .await
        .expect("bob's lock");
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = stopped_reason(&out.status);
    assert!(
        reason.contains("bob (run 20261124T143000Z-idp-prod)"),
        "{reason}"
    );
    // The ways out when bob's run was interrupted rather than still running: continue it, or
    // release its lock when it will not be resumed.
    assert!(
        reason.contains("deploykit resume 20261124T143000Z-idp-prod"),
        "{reason}"
    );
    assert!(
        reason.contains("deploykit lock release prod idp 20261124T143000Z-idp-prod"),
        "{reason}"
    );
    assert_eq!(rig.merges(), 0);
    assert_eq!(rig.launched("idp"), 0);
    // Bob still holds it.
    let holder = rig.lock_holder().await.expect("held");
    assert!(holder.owner.starts_with("bob"));
}

#[tokio::test]
async fn a_full_deploy_on_friday_is_refused_and_an_override_is_recorded() {
    let rig = Rig::prod().await;
    // Tuesday 15:00 UTC -> Friday 15:00 UTC.
    rig.world
        .virtual_clock()
        .advance(Duration::from_secs(3 * 24 * 3600));
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = stopped_reason(&out.status);
    assert!(reason.contains("Friday"), "{reason}");
    assert_eq!(rig.merges(), 0);
    assert!(rig.lock_free().await, "a refused deploy takes no lock");

    let mut req = rig.request(DeployKind::Full);
    req.cadence_override = Some("security fix agreed with on-call".into());
    let journal = MemoryJournal::new();
    let out = rig.deploy_with(&journal, &req).await.expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert_eq!(out.overrides[0].what, "cadence");
    assert!(out.overrides[0].refusal.contains("Friday"));
    assert_eq!(out.overrides[0].reason, "security fix agreed with on-call");
    assert!(journal_notes(&journal, "override")[0].contains("security fix"));
    // The recycle's announcement says the calendar was overridden, and why.
    let announced = recycle_announcement(&rig);
    assert!(
        announced.contains("outside the deploy calendar")
            && announced.contains("Friday")
            && announced.contains("security fix agreed with on-call"),
        "{announced}"
    );
}

/// The text of the last recycle announcement the world's notifier received.
fn recycle_announcement(rig: &Rig) -> String {
    rig.world
        .recording_notifier()
        .sent()
        .iter()
        .rfind(|a| a.kind() == "recycle_start")
        .expect("a recycle announcement")
        .to_string()
}

#[tokio::test]
async fn an_unapproved_pr_is_refused_before_anything_changes() {
    let rig = Rig::prod().await;
    let host = rig
        .world
        .sim_code_host(&deploy_support::idp())
        .expect("host");
    host.add_review(
        rig.pr,
        "security-reviewer",
        deploykit_core::ports::ReviewState::ChangesRequested,
    )
    .expect("review");
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    let reason = stopped_reason(&out.status);
    assert!(
        reason.contains("changes requested by security-reviewer"),
        "{reason}"
    );
    // A policy's refusal (every production deploy needs an approval): the CLI exits 3.
    assert_eq!(refused_as(&out.status), Some(ErrorKind::PolicyRefused));
    assert_eq!(rig.merges(), 0);
    assert!(
        !rig.fleet()
            .history()
            .iter()
            .any(|e| matches!(e.kind, FleetEventKind::CapacitySet { .. })),
        "the fleet was not touched"
    );
}

#[tokio::test]
async fn staging_lets_the_spindown_remove_old_instances() {
    let rig = Rig::in_env("staging").await;
    let out = rig.deploy(&rig.request(DeployKind::ConfigRecycle)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(!out.steps.iter().any(|s| s.step.as_str() == "scale_in_old"));
    assert_eq!(rig.running("idp").len(), 2);
    assert!(rig.fleet().min_healthy_in_service(&rig.group("idp")) >= 2);
}

#[tokio::test]
async fn once_the_spindown_removed_the_old_instances_a_config_recycle_uses_the_baseline() {
    let rig = Rig::in_env("staging").await;
    let (journal, waits) = deployed_config_recycle(&rig).await;
    let window = |i: usize| {
        remembered(&journal, &format!("monitor_gate/window/{i}"))
            .unwrap_or_else(|| panic!("no window {i}"))
    };
    // Staging lets the spindown remove the old instances during the gate: the first window
    // still has them beside the new ones, the second has nothing beside the new ones and is
    // compared with the window before the recycle instead of with no old figures at all.
    let (first, second) = (window(0), window(1));
    assert_eq!(first["by_instance"], true, "{first}");
    assert_eq!(second["by_instance"], false, "{second}");
    assert_eq!(second["old_is_baseline"], true, "{second}");
    assert!(second["old"]["requests"].as_u64() > Some(1000), "{second}");
    // The wait lines say what the windows are compared with.
    assert!(
        wait_of(&waits, 1).contains("(old vs new instances of "),
        "{waits:?}"
    );
}

#[tokio::test]
async fn code_ships_by_promotion_pr_only_to_production() {
    // Staging deploys main on its own schedule: a full deploy there would merge the promotion
    // PR into the production branch and release it while only staging was recycled.
    let rig = Rig::in_env("staging").await;
    for kind in [DeployKind::Full, DeployKind::Patch] {
        let err = rig
            .deploy_with(&MemoryJournal::new(), &rig.request(kind))
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(
            err.to_string()
                .contains("staging is not a production environment")
                && err
                    .to_string()
                    .contains("`deploykit deploy staging idp --kind config-recycle`"),
            "{err}"
        );
    }
    assert_eq!(rig.merges(), 0);
    assert!(rig.lock_free().await);
    assert_eq!(rig.launched("idp"), 0);
}

#[tokio::test]
async fn a_revert_deploy_s_refusals_name_the_revert_pr() {
    // A revert deploy merges the rollback's revert PR, not a promotion PR.
    let rig = Rig::in_env("staging").await;
    let err = rig
        .deploy_with(&MemoryJournal::new(), &rig.request(DeployKind::Revert))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("a revert deploy merges the revert PR into stages/prod")
            && !text.contains("promotion PR"),
        "{text}"
    );
    let rig = Rig::prod().await;
    let mut no_pr = rig.request(DeployKind::Revert);
    no_pr.pr_number = None;
    let err = rig
        .deploy_with(&MemoryJournal::new(), &no_pr)
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        err.message(),
        "a revert deploy merges a revert PR: give its number"
    );
    assert_eq!(rig.merges(), 0);
    assert!(rig.lock_free().await);
}

/// The guide's steps to roll back, after the revert PR: a revert deploy merges the `Revert RC
/// <N>` PR a rollback opened and recycles, on a Friday too (it restores what was released
/// before), announces itself as the revert, and creates no release. Each kind refuses the
/// other's PR, naming the kind to use.
#[tokio::test]
async fn a_revert_deploy_ships_the_revert_any_day_and_creates_no_release() {
    let rig = Rig::prod().await;
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let rc_112_sha = rig.running("idp")[0].1.clone();
    let out = rollback(
        &rig.ports,
        &rig.settings,
        &MemoryJournal::new(),
        &NullSink,
        &rig.rollback_request("errors an hour after the deploy"),
    )
    .await
    .expect("rollback");
    // The rollback says the new code still serves, and how to deploy the revert.
    let report = step(&out, "report").detail.clone();
    assert!(
        report.contains("the new code still serves in prod-idp, prod-worker")
            && report.contains("--kind revert --pr"),
        "{report}"
    );
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
    // Tuesday 15:00 UTC -> Friday 15:00 UTC: no full deploy, but a revert goes.
    rig.world
        .virtual_clock()
        .advance(Duration::from_secs(3 * 24 * 3600));

    let mut wrong = rig.request(DeployKind::Full);
    wrong.pr_number = Some(revert);
    wrong.cadence_override = Some("rollback".into());
    let out = rig.deploy(&wrong).await;
    assert!(
        stopped_reason(&out.status).contains("deploy it with --kind revert"),
        "{:?}",
        out.status
    );
    assert_eq!(refused_as(&out.status), Some(ErrorKind::InvalidInput));
    let vcs = rig.world.sim_vcs(&deploy_support::idp()).expect("vcs");
    vcs.branch("stages/rc-2026-11-27", &vcs.rev("main").expect("main"));
    let next = host
        .create_pull_request(&NewPullRequest {
            title: "Deploy RC 113 to Production".into(),
            head: "stages/rc-2026-11-27".into(),
            base: "stages/prod".into(),
            body: String::new(),
        })
        .await
        .expect("pr")
        .number;
    let mut promotion_as_revert = rig.request(DeployKind::Revert);
    promotion_as_revert.pr_number = Some(next);
    let out = rig.deploy(&promotion_as_revert).await;
    assert!(
        stopped_reason(&out.status).contains("is not a revert PR"),
        "{:?}",
        out.status
    );

    let mut req = rig.request(DeployKind::Revert);
    req.pr_number = Some(revert);
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    assert!(out.release_url.is_none());
    assert!(
        !out.steps
            .iter()
            .any(|s| s.step.as_str() == "create_release")
    );
    assert_eq!(
        rig.releases_created(),
        ["RC 112"],
        "no release for a revert"
    );
    let serving: Vec<_> = rig.running("idp").into_iter().map(|(_, sha)| sha).collect();
    assert!(
        !serving.is_empty() && serving.iter().all(|sha| *sha != rc_112_sha),
        "the revert serves: {serving:?}"
    );
    let announced = recycle_announcement(&rig);
    assert!(announced.contains("the revert of RC 112"), "{announced}");
    assert!(
        step(&out, "report")
            .detail
            .contains("the revert of RC 112 deployed to prod"),
        "{:?}",
        step(&out, "report")
    );
}

/// A PR number that names no PR is bad input (the CLI exits 2), said before anything changes.
#[tokio::test]
async fn a_pr_number_that_names_no_pr_is_bad_input() {
    let rig = Rig::prod().await;
    let mut req = rig.request(DeployKind::Full);
    req.pr_number = Some(99_999);
    let out = rig.deploy(&req).await;
    let reason = stopped_reason(&out.status);
    assert!(reason.starts_with("PR #99999 does not exist"), "{reason}");
    assert!(
        reason.contains("names the promotion PR to deploy"),
        "{reason}"
    );
    assert_eq!(refused_as(&out.status), Some(ErrorKind::InvalidInput));
    assert_eq!(rig.merges(), 0);
    assert!(rig.lock_free().await);
}
