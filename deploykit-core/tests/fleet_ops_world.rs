//! The fleet operations and policies in the simulated Login.gov world: a production recycle
//! with the migration log followed to its end, ls-servers and monitor-deploy's table during
//! the deploy, and the no-migration risk check against the idp repository.
#![cfg(feature = "sim")]

use std::ops::ControlFlow;
use std::time::Duration;

use deploykit_core::fleet_ops::migration_logs::{
    MigrationLogRequest, PROVISION_DONE_MARKER, PROVISION_FAILED_MARKER, tail_migration_log,
};
use deploykit_core::fleet_ops::{
    FleetContext, RecycleRequest, ScaleInMode, ScaleInRequest, list_servers, monitor_table,
    recycle, render_monitor_table, render_servers, scale_in, scale_in_as_recycled,
};
use deploykit_core::policy::assess_no_migration_risk;
use deploykit_core::ports::MetricsWindow;
use deploykit_core::sim::{MigrationScript, World};
use deploykit_core::{AppName, EnvName, ErrorKind, LbState, NullSink, RoleName, RoleSelector};

fn prod() -> EnvName {
    EnvName::new("prod").expect("env")
}

fn idp_role() -> RoleName {
    RoleName::new("idp").expect("role")
}

fn stop_at_marker(seen: &mut Vec<String>) -> impl FnMut(&str) -> ControlFlow<()> + Send + '_ {
    move |line: &str| {
        seen.push(line.to_string());
        if line == PROVISION_DONE_MARKER || line == PROVISION_FAILED_MARKER {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[tokio::test]
async fn a_production_deploy_in_the_login_gov_world() {
    let world = World::login_gov();
    let idp = AppName::new("idp").expect("app");
    let vcs = world.vcs(&idp).expect("vcs");
    let new_sha = vcs.resolve("main").await.expect("main");
    let old_sha = vcs.resolve("stages/prod").await.expect("stages/prod");
    world
        .sim_fleet()
        .set_app_release_sha(&prod(), "gitsha:idp", &new_sha);
    world.sim_fleet().mark_capacity_baseline();

    let (fleet, clock, logs, monitor) =
        (world.fleet(), world.clock(), world.logs(), world.monitor());
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &NullSink,
    };
    let start = clock.now();
    let out = recycle(
        &ctx,
        &RecycleRequest::new(prod(), RoleSelector::Role(idp_role())),
    )
    .await
    .expect("recycle");

    // The migration log, read to its final line on virtual time.
    let mut req = MigrationLogRequest::new(prod());
    req.launched_after = Some(start);
    let mut seen = Vec::new();
    let tail = tail_migration_log(&ctx, &*logs, &req, &mut stop_at_marker(&mut seen))
        .await
        .expect("migration log");
    assert_eq!(seen.last().map(String::as_str), Some(PROVISION_DONE_MARKER));
    assert!(seen.iter().any(|l| l.contains("db:migrate")));
    assert_eq!(tail.lines_read as usize, seen.len());

    // ls-servers while the new idp instances come up: load-balancer states are shown.
    clock.sleep(Duration::from_secs(400)).await;
    let rows = list_servers(&ctx, &prod(), Some(&idp_role()))
        .await
        .expect("servers");
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter()
            .any(|r| r.deployed_sha.as_ref() == Some(&new_sha))
    );
    assert!(rows.iter().all(|r| r.lb_state.is_some()));
    assert!(rows.iter().any(|r| r.lb_state == Some(LbState::Healthy)));
    assert!(render_servers(&rows).contains(new_sha.short()));

    // monitor-deploy's table tells the old SHA from the new one.
    let now = clock.now();
    let window = MetricsWindow {
        start: now - chrono::Duration::seconds(300),
        end: now,
    };
    let sample = monitor
        .sample(&prod(), &idp_role(), &window)
        .await
        .expect("sample");
    let table = monitor_table(&sample);
    assert_eq!(table.rows.len(), 2, "{}", render_monitor_table(&table));
    assert_eq!(table.old().map(|r| &r.sha), Some(&old_sha));
    assert_eq!(table.new_sha().map(|r| &r.sha), Some(&new_sha));
    let text = render_monitor_table(&table);
    assert!(text.lines().any(|l| l.starts_with("new")), "{text}");

    // Past the spindown, scale in old instances: only new code runs, capacity never dipped.
    clock.sleep(Duration::from_secs(30)).await;
    while clock.now() <= out.finishes_at {
        clock.sleep(Duration::from_secs(60)).await;
    }
    let all_old = ScaleInRequest {
        env: prod(),
        roles: RoleSelector::All,
        mode: ScaleInMode::Old,
        dry_run: false,
    };
    scale_in(&ctx, &all_old).await.expect("scale in old");
    clock.sleep(Duration::from_secs(60)).await;
    for role in ["idp", "worker"] {
        let g = world
            .sim_fleet()
            .group_snapshot(&deploykit_core::GroupName::new(
                &prod(),
                &RoleName::new(role).expect("role"),
            ))
            .expect("group");
        assert!(
            g.running_instances()
                .all(|i| i.deployed_sha().as_ref() == Some(&new_sha)),
            "{role}"
        );
        assert_eq!(
            g.running_instances().count() as u32,
            g.capacity.desired,
            "{role}"
        );
        assert!(
            world.sim_fleet().min_healthy_in_service(&g.name) >= g.capacity.desired,
            "{role}"
        );
    }
}

#[tokio::test]
async fn a_failed_provisioning_is_read_to_its_failure_line() {
    let world = World::login_gov();
    world
        .scripted_logs()
        .set_migration_script(MigrationScript::ProvisioningFailure);
    let (fleet, clock, logs) = (world.fleet(), world.clock(), world.logs());
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &NullSink,
    };
    let start = clock.now();
    recycle(
        &ctx,
        &RecycleRequest::new(prod(), RoleSelector::Role(idp_role())),
    )
    .await
    .expect("recycle");
    let mut req = MigrationLogRequest::new(prod());
    req.launched_after = Some(start);
    let mut seen = Vec::new();
    tail_migration_log(&ctx, &*logs, &req, &mut stop_at_marker(&mut seen))
        .await
        .expect("log");
    assert_eq!(
        seen.last().map(String::as_str),
        Some(PROVISION_FAILED_MARKER)
    );

    // A hung migration times out on virtual time while its instance runs ...
    world
        .scripted_logs()
        .set_migration_script(MigrationScript::Hang);
    let mut hung = MigrationLogRequest::new(prod());
    hung.launched_after = Some(clock.now());
    hung.read_timeout = Duration::from_secs(300);
    let mut seen = Vec::new();
    // An hour later (the first recycle is over), recycle the migration group alone.
    let again = RecycleRequest::new(prod(), RoleSelector::Role(RoleName::migration()));
    clock.sleep(Duration::from_secs(3600)).await;
    recycle(&ctx, &again).await.expect("second migration");
    let err = tail_migration_log(&ctx, &*logs, &hung, &mut stop_at_marker(&mut seen))
        .await
        .expect_err("hangs");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // ... and ends, saying so, once the group's spindown has removed the instance: its log
    // cannot grow any more.
    hung.read_timeout = Duration::from_secs(1800);
    let mut seen = Vec::new();
    let tail = tail_migration_log(&ctx, &*logs, &hung, &mut stop_at_marker(&mut seen))
        .await
        .expect("ends when the instance is gone");
    assert_eq!(
        tail.instance_gone.as_deref(),
        Some("no longer in its group")
    );
    assert_eq!(tail.lines_read as usize, seen.len());
    assert!(!seen.iter().any(|l| l == PROVISION_DONE_MARKER));
}

#[tokio::test]
async fn the_idp_repository_has_risky_changes_for_a_no_migration_recycle() {
    let world = World::login_gov();
    let vcs = world.vcs(&AppName::new("idp").expect("app")).expect("vcs");
    let last_migration = vcs.resolve("stages/prod").await.expect("prod");
    let target = vcs.resolve("main").await.expect("main");
    let risk = assess_no_migration_risk(&*vcs, &last_migration, &target)
        .await
        .expect("risk");
    assert!(risk.is_risky(), "{risk:?}");
    let err = risk.verdict(None).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::PolicyRefused);
    assert!(risk.verdict(Some("incident: config only")).is_ok());
    // No change between a SHA and itself.
    let same = assess_no_migration_risk(&*vcs, &target, &target)
        .await
        .expect("risk");
    assert!(!same.is_risky());
}

#[tokio::test]
async fn scaling_in_idp_after_recycling_idp_removes_worker_old_instances_too() {
    // `recycle prod idp` recycles prod-worker with prod-idp, and then says to run
    // `scale-in old prod idp`: that must leave neither group with old instances.
    let world = World::login_gov();
    let (fleet, clock) = (world.fleet(), world.clock());
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &NullSink,
    };
    let worker = deploykit_core::GroupName::new(&prod(), &RoleName::new("worker").expect("role"));
    let before = world.sim_fleet().group_snapshot(&worker).expect("worker");
    let old_ids: Vec<_> = before.running_instances().map(|i| i.id.clone()).collect();
    assert!(!old_ids.is_empty());

    let out = recycle(
        &ctx,
        &RecycleRequest::new(prod(), RoleSelector::Role(idp_role())),
    )
    .await
    .expect("recycle");
    assert!(
        out.groups.iter().any(|g| g.group == worker),
        "idp recycles worker"
    );
    while clock.now() <= out.finishes_at {
        clock.sleep(Duration::from_secs(60)).await;
    }
    let scaled = scale_in_as_recycled(
        &ctx,
        &ScaleInRequest {
            env: prod(),
            roles: RoleSelector::Role(idp_role()),
            mode: ScaleInMode::Old,
            dry_run: false,
        },
    )
    .await
    .expect("scale in old");
    let removed: Vec<_> = scaled
        .groups
        .iter()
        .find(|g| g.group == worker)
        .map(|g| g.removed.clone())
        .unwrap_or_default();
    assert_eq!(removed.len(), old_ids.len(), "{scaled:?}");
    clock.sleep(Duration::from_secs(60)).await;
    for role in ["idp", "worker"] {
        let g = world
            .sim_fleet()
            .group_snapshot(&deploykit_core::GroupName::new(
                &prod(),
                &RoleName::new(role).expect("role"),
            ))
            .expect("group");
        assert_eq!(
            g.running_instances().count() as u32,
            g.capacity.desired,
            "{role} still runs old instances"
        );
        assert!(
            g.running_instances().all(|i| !old_ids.contains(&i.id)),
            "{role}"
        );
    }
}
