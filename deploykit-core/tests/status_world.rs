//! `status` in the simulated Login.gov world: prod behind main with migrations and assets
//! pending, staging up to date, a half-done recycle flagged as mixed SHAs, and a failing code
//! host that leaves the rest of the status readable.
#![cfg(feature = "sim")]

use std::time::Duration;

use deploykit_core::fleet_ops::{FleetContext, RecycleRequest, recycle};
use deploykit_core::sim::{Fault, World};
use deploykit_core::status::{
    AppSource, MigrationSource, StatusPorts, StatusReport, StatusRequest, render_status, status,
};
use deploykit_core::{AppName, AppSettings, EnvName, NullSink, RoleName, RoleSelector};

fn env(name: &str) -> EnvName {
    EnvName::new(name).expect("env")
}

async fn read_status(world: &World, envs: &[&str]) -> StatusReport {
    let settings = [AppSettings::idp(), AppSettings::pki()];
    let ports: Vec<_> = settings
        .iter()
        .map(|s| {
            (
                world.vcs(&s.name).expect("vcs"),
                world.code_host(&s.name).expect("host"),
            )
        })
        .collect();
    let apps: Vec<AppSource<'_>> = settings
        .iter()
        .zip(&ports)
        .map(|(settings, (vcs, host))| AppSource {
            settings,
            vcs: Ok(vcs.as_ref()),
            code_host: host.as_ref(),
        })
        .collect();
    let (fleet, deploy_status, clock) = (world.fleet(), world.deploy_status(), world.clock());
    let ports = StatusPorts {
        fleet: fleet.as_ref(),
        deploy_status: deploy_status.as_ref(),
        clock: clock.as_ref(),
    };
    let request = StatusRequest {
        envs: envs.iter().map(|e| env(e)).collect(),
        fetch: true,
    };
    status(&ports, &apps, &request).await
}

#[tokio::test]
async fn prod_is_behind_main_with_migrations_and_assets_pending() {
    let world = World::login_gov();
    let idp = AppName::new("idp").expect("app");
    let vcs = world.vcs(&idp).expect("vcs");
    let prod_sha = vcs.resolve("stages/prod").await.expect("prod");
    let main_sha = vcs.resolve("main").await.expect("main");

    let report = read_status(&world, &["prod", "staging"]).await;
    assert!(report.is_complete(), "{:?}", report.problems());

    let prod_idp = report.app("prod", "idp").expect("prod idp");
    let deployed = prod_idp.deployed.known().expect("deployed");
    assert_eq!(deployed.sha, prod_sha);
    assert_eq!(deployed.branch.as_deref(), Some("stages/prod"));
    assert!(deployed.deployed_at.is_some());
    let inst = prod_idp.instances.known().expect("instances");
    assert!(!inst.is_mixed());
    assert_eq!(inst.single_sha(), Some(&prod_sha));
    let roles: Vec<(String, u32)> = inst
        .roles
        .iter()
        .map(|r| (r.group.to_string(), r.running()))
        .collect();
    assert_eq!(roles, [("prod-idp".into(), 4), ("prod-worker".into(), 2)]);

    let rc = prod_idp.last_rc.known().expect("last rc");
    assert_eq!(rc.number.to_string(), "111");
    assert_eq!(rc.pr.as_ref().map(|p| p.number), Some(11480));
    assert!(rc.released);
    let release = prod_idp
        .last_release
        .known()
        .and_then(|r| r.as_ref())
        .expect("release");
    assert_eq!(release.name, "RC 111");

    let pending = prod_idp.pending.known().expect("pending");
    assert_eq!(pending.main, main_sha);
    assert_eq!(pending.commits, 7);
    assert_eq!(pending.summary(), "7 commits, migrations, assets");
    assert_eq!(pending.last_migration_from, MigrationSource::Deployed);
    assert!(
        pending
            .risk
            .migrations
            .contains(&"db/migrate/20241120150000_add_deploy_kit_column.rb".to_string()),
        "{:?}",
        pending.risk.migrations
    );
    assert!(
        pending
            .risk
            .assets
            .iter()
            .any(|a| a.starts_with("app/javascript/packages/remember-device/"))
    );
    // The same generator as `rc create`: categories and PR links.
    assert!(pending.changelog.contains("## User-Facing Improvements"));
    assert!(
        pending
            .changelog
            .contains("([#11490](https://github.com/18F/identity-idp/pull/11490))"),
        "{}",
        pending.changelog
    );
    assert!(!pending.changelog.contains("Tidy the RuboCop configuration"));

    let prod_pki = report.app("prod", "pki").expect("prod pki");
    let pki_pending = prod_pki.pending.known().expect("pending");
    assert_eq!(pki_pending.commits, 3);
    assert!(!pki_pending.risk.is_risky());
    assert_eq!(
        prod_pki.last_rc.known().map(|r| r.number.to_string()),
        Some("40".into())
    );

    let staging_idp = report.app("staging", "idp").expect("staging idp");
    assert_eq!(
        staging_idp.pending.known().map(|p| p.summary()),
        Some("up to date".into())
    );

    let text = render_status(&report, true);
    assert!(text.contains("7 commits, migrations, assets"), "{text}");
    assert!(!text.contains("MIXED!"), "{text}");
    assert!(text.contains("Add a remember-device option"), "{text}");
    let short = render_status(&report, false);
    assert!(!short.contains("Add a remember-device option"), "{short}");
}

#[tokio::test]
async fn a_half_done_recycle_is_flagged_as_mixed() {
    let world = World::login_gov();
    let idp = AppName::new("idp").expect("app");
    let vcs = world.vcs(&idp).expect("vcs");
    let old_sha = vcs.resolve("stages/prod").await.expect("prod");
    let new_sha = vcs.resolve("main").await.expect("main");
    let prod = env("prod");
    world
        .sim_fleet()
        .set_app_release_sha(&prod, "gitsha:idp", &new_sha);
    let (fleet, clock) = (world.fleet(), world.clock());
    let ctx = FleetContext {
        fleet: fleet.as_ref(),
        clock: clock.as_ref(),
        events: &NullSink,
    };
    recycle(
        &ctx,
        &RecycleRequest::new(
            prod.clone(),
            RoleSelector::Role(RoleName::new("idp").expect("role")),
        ),
    )
    .await
    .expect("recycle");
    // Past the migration head start: new app instances are up next to the old ones, the
    // spindown has not happened yet.
    world.virtual_clock().advance(Duration::from_secs(8 * 60));

    let report = read_status(&world, &["prod"]).await;
    assert!(report.is_complete(), "{:?}", report.problems());
    let prod_idp = report.app("prod", "idp").expect("prod idp");
    let inst = prod_idp.instances.known().expect("instances");
    let why = inst.mixed.as_deref().expect("mixed SHAs flagged");
    let (old, new) = (old_sha.short(), new_sha.short());
    assert!(
        why.contains(&format!("prod-idp runs 4×{new} + 4×{old}"))
            || why.contains(&format!("prod-idp runs 4×{old} + 4×{new}")),
        "{why}"
    );
    assert!(why.contains("prod-worker runs"), "{why}");
    assert!(why.contains("recycle is in progress"), "{why}");
    assert_eq!(inst.single_sha(), None);
    assert!(
        prod_idp
            .notes
            .iter()
            .any(|n| n.starts_with("instances disagree"))
    );

    // The migration instance ran the new SHA: nothing changed since that migration.
    let pending = prod_idp.pending.known().expect("pending");
    assert_eq!(
        pending.last_migration_from,
        MigrationSource::MigrationInstance
    );
    assert_eq!(pending.risk.last_migration, new_sha);
    assert!(!pending.risk.is_risky(), "{:?}", pending.risk);
    // Still 7 commits from what the deploy status document says runs.
    assert_eq!(pending.commits, 7);

    // pki is untouched.
    let pki = report.app("prod", "pki").expect("pki");
    assert!(!pki.instances.known().expect("instances").is_mixed());

    let text = render_status(&report, false);
    assert!(text.contains("MIXED! idp 4×"), "{text}");
    assert!(text.contains("! instances disagree (2 SHAs)"), "{text}");
}

#[tokio::test]
async fn a_failing_source_leaves_the_rest_of_the_status() {
    let world = World::login_gov();
    world
        .faults()
        .inject("code_host.releases", Fault::Permanent, 1);
    world
        .faults()
        .inject("deploy_status.deploy_status", Fault::Timeout, 1);

    let report = read_status(&world, &["prod"]).await;
    let problems = report.problems();
    assert_eq!(problems.len(), 3, "{problems:?}");
    let idp = report.app("prod", "idp").expect("idp");
    // Releases failed for idp: the last RC and release are unknown, with the reason.
    let reason = idp.last_rc.reason().expect("unknown last RC");
    assert!(
        reason.contains("releases: code_host.releases failed"),
        "{reason}"
    );
    assert!(idp.last_release.reason().is_some());
    // The document timed out for prod idp: the deployed SHA comes from the instances.
    assert!(
        idp.deployed
            .reason()
            .expect("unknown")
            .contains("timed out")
    );
    assert_eq!(idp.pending.known().map(|p| p.commits), Some(7));
    assert!(idp.instances.known().is_some());
    // pki is complete.
    let pki = report.app("prod", "pki").expect("pki");
    assert!(pki.problems().is_empty(), "{:?}", pki.problems());

    let text = render_status(&report, false);
    assert!(text.contains("? last RC unknown (releases:"), "{text}");
    assert!(text.contains("3 field(s) unknown"), "{text}");
}
