//! The guided deploy on the simulated Login.gov world: each scenario of the guide, end to end,
//! on the virtual clock.

mod deploy_support;

use deploy_support::{Rig, rolled_back_reason, step};
use deploykit_core::deploy::{FinalStatus, MemoryJournal, deploy};
use deploykit_core::fleet_ops::{RecycleRequest, plan_recycle};
use deploykit_core::sim::{FleetEventKind, MigrationScript, TrafficProfile};
use deploykit_core::{DeployKind, RecordingSink};

/// Healthy capacity never dropped below the 4 idp and 2 worker instances serving before.
fn assert_capacity_kept(rig: &Rig) {
    rig.assert_capacity_kept(4, 2);
}

#[tokio::test]
async fn a_healthy_release_is_deployed_end_to_end() {
    let rig = Rig::prod().await;
    let old_sha = rig.running("idp")[0].1.clone();
    let journal = MemoryJournal::new();
    let events = RecordingSink::default();
    let out = deploy(
        &rig.ports,
        &rig.settings,
        &journal,
        &events,
        &rig.request(DeployKind::Full),
    )
    .await
    .expect("deploy");
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    // Merged once, as a merge commit; every idp and worker instance runs the merge commit.
    assert_eq!(rig.merges(), 1);
    let idp = rig.running("idp");
    assert_eq!(idp.len(), 4, "old instances scaled in: {idp:?}");
    assert!(idp.iter().all(|(_, sha)| *sha != old_sha));
    assert_eq!(rig.running("worker").len(), 2);
    assert_eq!(rig.launched("idp"), 4, "capacity doubled exactly once");
    assert_eq!(rig.releases_created(), ["RC 112"]);
    assert_eq!(
        rig.announcements(),
        ["recycle_start", "deploy_done"],
        "announcements"
    );
    let steps: Vec<&str> = out.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "preflight",
            "merge_pr",
            "announce_recycle",
            "recycle",
            "migration_gate",
            "health_gate",
            "monitor_gate",
            "spindown_wait",
            "scale_in_old",
            "follow_up",
            "smoke_tests",
            "create_release",
            "release_lock",
            "report"
        ]
    );
    let monitor = out
        .verdicts
        .iter()
        .find(|v| v.gate == "monitor")
        .expect("monitor verdict");
    assert_eq!(monitor.verdict, "go", "{}", monitor.explanation);
    assert!(
        monitor.explanation.contains("requests"),
        "{}",
        monitor.explanation
    );
    let follow_up = out
        .verdicts
        .iter()
        .find(|v| v.gate == "follow_up")
        .expect("follow-up verdict");
    assert_eq!(follow_up.verdict, "go", "{}", follow_up.explanation);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("Sign up for an account"))
    );
    assert!(out.pending.as_ref().is_some_and(|p| p.commits > 0));
    assert!(rig.lock_free().await, "lock released");
    assert_capacity_kept(&rig);
}

async fn rollback_scenario(rig: &Rig) -> deploykit_core::deploy::DeployOutcome {
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    // The new instances are gone, the old ones serve, the revert is open, people are told.
    let old = rig.running("idp");
    assert_eq!(old.len(), 4, "{old:?}");
    assert!(rig.releases_created().is_empty());
    assert_eq!(
        rig.announcements(),
        [
            "recycle_start",
            "rollback_started",
            "retrospective_to_schedule"
        ]
    );
    assert!(out.revert_pr_url.is_some(), "{out:#?}");
    assert!(rig.lock_free().await);
    assert_capacity_kept(rig);
    out
}

#[tokio::test]
async fn a_migration_error_rolls_back_even_though_provisioning_finished() {
    let rig = Rig::prod().await;
    let old_sha = rig.running("idp")[0].1.clone();
    rig.world
        .scripted_logs()
        .set_migration_script(MigrationScript::MigrationError);
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("migration_gate"), "{reason}");
    assert!(reason.contains("rake aborted!"), "{reason}");
    assert!(rig.running("idp").iter().all(|(_, s)| *s == old_sha));
    // The app groups' scale-out waited for the migration instance and never ran: the lines
    // say it was scheduled, then cancelled, not that new instances came and went.
    let recycled = &deploy_support::step(&out, "recycle").detail;
    assert!(
        recycled.contains("prod-idp 4 -> 8 at 2026-11-24 15:05:00 UTC"),
        "{recycled}"
    );
    let undone = &deploy_support::step(&out, "rollback_scale_in_new").detail;
    assert!(
        undone.contains(
            "prod-idp: its scale-out was cancelled before it ran, 4 old instance(s) serving"
        ),
        "{undone}"
    );
    assert!(!undone.contains("new instances removed"), "{undone}");
}

/// Production's groups protect their instances from scale-in, the migration group's too (as
/// AWS's do): its spindown to 0 leaves a protected instance running. A rolled-back deploy
/// leaves none behind, whether it ended the migration group's recycle (the migration failed
/// before its spindown) or found its instance kept past the spindown (a later gate), and the
/// next recycle is not refused over it.
#[tokio::test]
async fn a_rollback_leaves_no_migration_instance_behind() {
    for migration_fails in [true, false] {
        let rig = Rig::prod().await;
        let migration = rig.group("migration");
        rig.fleet()
            .set_protect_new_instances(&migration, true)
            .expect("protect");
        if migration_fails {
            rig.world
                .scripted_logs()
                .set_migration_script(MigrationScript::MigrationError);
        } else {
            rig.on_merge(Box::new(|world, sha| {
                world
                    .scripted_monitor()
                    .set_profile(sha, TrafficProfile::with_error_rate(0.05));
            }));
        }
        let out = rollback_scenario(&rig).await;
        // The migration's spindown: deleted by the rollback (the migration failed first), or
        // fired before it (to 0, the protected instance staying).
        let fired =
            rig.fleet().history().iter().any(|e| {
                e.group == migration && matches!(e.kind, FleetEventKind::ActionFired { .. })
            });
        assert_eq!(fired, !migration_fails, "migration fails {migration_fails}");
        // Long after every spindown: nothing runs in the migration group, nothing is
        // scheduled on it, and a recycle can start a new migration instance.
        rig.world
            .virtual_clock()
            .advance(std::time::Duration::from_secs(3600));
        let g = rig.fleet().group_snapshot(&migration).expect("group");
        let left: Vec<_> = g.running_instances().map(|i| i.id.to_string()).collect();
        assert!(
            left.is_empty(),
            "migration fails {migration_fails}: {left:?}"
        );
        assert!(g.scheduled_actions.is_empty(), "{:?}", g.scheduled_actions);
        assert_eq!(g.capacity.desired, 0);
        let groups = rig.ports.fleet.groups(&rig.env).await.expect("groups");
        plan_recycle(
            &groups,
            &RecycleRequest::new(rig.env.clone(), "idp".parse().expect("role")),
            rig.world.clock().now(),
        )
        .unwrap_or_else(|e| panic!("migration fails {migration_fails}: {e}"));
        let undone = &step(&out, "rollback_scale_in_new").detail;
        assert!(
            undone.ends_with("; prod-migration: the migration instance removed"),
            "migration fails {migration_fails}: {undone}"
        );
    }
}

#[tokio::test]
async fn a_provisioning_failure_rolls_back() {
    let rig = Rig::prod().await;
    rig.world
        .scripted_logs()
        .set_migration_script(MigrationScript::ProvisioningFailure);
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("provisioning failed"), "{reason}");
}

#[tokio::test]
async fn a_hung_migration_rolls_back_once_its_instance_is_gone_or_its_time_is_up() {
    // The migration group's spindown removes the hung instance ten minutes in: the gate ends
    // then, saying so, instead of waiting on a log that cannot grow for its 30 minutes.
    let rig = Rig::prod().await;
    rig.world
        .scripted_logs()
        .set_migration_script(MigrationScript::Hang);
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(
        reason.contains("is no longer in its group and its log stopped before")
            && reason.contains("the migration did not finish"),
        "{reason}"
    );
    let gate = step(&out, "migration_gate");
    let waited = (gate.finished_at - gate.started_at).num_seconds();
    assert!(
        waited < i64::try_from(rig.settings.migration_timeout_secs).unwrap_or(i64::MAX) / 2,
        "waited {waited} s"
    );

    // With a timeout shorter than the instance's run, the timeout ends it.
    let mut rig = Rig::prod().await;
    rig.settings.migration_timeout_secs = 300;
    rig.world
        .scripted_logs()
        .set_migration_script(MigrationScript::Hang);
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("timed out"), "{reason}");
}

#[tokio::test]
async fn an_error_spike_on_the_new_sha_rolls_back_quoting_the_numbers() {
    let rig = Rig::prod().await;
    rig.on_merge(Box::new(|world, sha| {
        world
            .scripted_monitor()
            .set_profile(sha, TrafficProfile::with_error_rate(0.05));
    }));
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("monitor_gate"), "{reason}");
    assert!(reason.contains("5xx of"), "{reason}");
    assert!(reason.contains("ceiling"), "{reason}");
}

#[tokio::test]
async fn unhealthy_new_hosts_roll_back_after_the_health_timeout() {
    let rig = Rig::prod().await;
    rig.on_merge(Box::new(|world, sha| {
        world.sim_fleet().set_unhealthy_sha(Some(sha.clone()));
    }));
    let out = rollback_scenario(&rig).await;
    let reason = rolled_back_reason(&out.status);
    assert!(reason.contains("health_gate"), "{reason}");
    assert!(reason.contains("0 of 4 new instances healthy"), "{reason}");
}

/// Auto Scaling reads Healthy throughout the health check grace period, so a new worker (no
/// load balancer) counts only once past it: with worker's grace at 600 s, the health gate
/// waits for that, although idp's new instances pass their load-balancer checks 300 s after
/// launch.
#[tokio::test]
async fn the_health_gate_waits_out_the_grace_period_of_workers() {
    let rig = Rig::prod().await;
    rig.fleet()
        .set_grace_secs(&rig.group("worker"), 600)
        .expect("grace");
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let worker = rig.group("worker");
    let launched = rig
        .fleet()
        .history()
        .into_iter()
        .filter(|e| {
            e.group == worker
                && matches!(e.kind, deploykit_core::sim::FleetEventKind::Launched { .. })
        })
        .map(|e| e.at)
        .max()
        .expect("new workers");
    let health = out
        .verdicts
        .iter()
        .find(|v| v.gate == "health")
        .expect("health verdict");
    assert_eq!(health.verdict, "go", "{}", health.explanation);
    assert!(
        health.at >= launched + chrono::Duration::seconds(600),
        "the gate passed at {} for workers launched at {launched}: {}",
        health.at,
        health.explanation
    );
    assert!(
        health
            .explanation
            .contains("prod-worker: 2 of 2 new instances healthy"),
        "{}",
        health.explanation
    );
    assert_capacity_kept(&rig);
}

/// Production groups protect their instances from scale-in, the migration group's too: a
/// finished deploy's scale-in of the old instances removes the migration instance its
/// spindown could not, or the next recycle would be refused over it.
#[tokio::test]
async fn a_finished_deploy_leaves_no_protected_migration_instance_behind() {
    let rig = Rig::prod().await;
    rig.fleet()
        .set_protect_new_instances(&rig.group("migration"), true)
        .expect("protect");
    let out = rig.deploy(&rig.request(DeployKind::Full)).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    rig.world
        .virtual_clock()
        .advance(std::time::Duration::from_secs(3600));
    assert!(
        rig.running("migration").is_empty(),
        "{:?}\n{}",
        rig.running("migration"),
        step(&out, "scale_in_old").detail
    );
}

/// After a rollback, the rolled-back RC stays on stages/prod until its revert is deployed: a
/// config recycle (or an overridden no-migration one) would boot it again. It is refused as
/// unsafe, naming the open revert PR and the revert deploy, and the dry run says so; once the
/// revert is deployed, the config recycle goes.
#[tokio::test]
async fn a_recycle_after_a_rollback_does_not_put_the_rolled_back_code_back() {
    let rig = Rig::prod().await;
    // RC 112 is bad; the revert merged later is not.
    let first = std::sync::atomic::AtomicBool::new(true);
    rig.on_merge(Box::new(move |world, sha| {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            world
                .scripted_monitor()
                .set_profile(sha, TrafficProfile::with_error_rate(0.05));
        }
    }));
    rollback_scenario(&rig).await;
    let serving = rig.running("idp");
    let mut req = rig.request(DeployKind::ConfigRecycle);
    req.config_diff = Some("+ feature_x_enabled: true".into());
    let p = deploykit_core::deploy::plan(&rig.ports, &rig.settings, &req)
        .await
        .expect("plan");
    assert!(
        p.blockers.iter().any(|b| b.contains("revert PR #")),
        "{:?}",
        p.blockers
    );
    let out = rig.deploy(&req).await;
    let reason = deploy_support::stopped_reason(&out.status);
    assert!(
        reason.contains("the code a rollback took out of production")
            && reason.contains("Revert RC 112")
            && reason.contains("deploykit deploy prod idp --kind revert"),
        "{reason}"
    );
    assert_eq!(
        deploy_support::refused_as(&out.status),
        Some(deploykit_core::ErrorKind::Unsafe)
    );
    assert_eq!(rig.running("idp"), serving, "nothing recycled");

    // The revert deployed, the config recycle goes.
    let host = rig
        .world
        .sim_code_host(&deploy_support::idp())
        .expect("host");
    let revert = deploykit_core::release::open_revert_pr(host.as_ref(), &rig.app)
        .await
        .expect("the open revert PR")
        .number;
    host.approve(revert, "reviewer").expect("approve");
    let mut ship_revert = rig.request(DeployKind::Revert);
    ship_revert.pr_number = Some(revert);
    let out = rig.deploy(&ship_revert).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
    let out = rig.deploy(&req).await;
    assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
}
