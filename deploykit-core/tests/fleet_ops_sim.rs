//! The fleet operations on the simulated fleet: a recycle completes on the groups' own
//! timers, old protected instances stay until scale-in removes them, and healthy capacity
//! never drops below the baseline.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deploykit_core::fleet_ops::{
    FleetContext, InProgressPolicy, NOT_RECYCLED_KEY, RECYCLED_KEY, RecycleRequest, ScaleInMode,
    ScaleInRequest, prechecks, recycle, scale_in, stopped_before_scale_out,
};
use deploykit_core::ports::Clock;
use deploykit_core::sim::{Fault, Faults, GroupSpec, SimFleet, SimFleetConfig, VirtualClock};
use deploykit_core::{
    Capacity, EnvName, ErrorKind, GroupName, RECYCLE_ACTION, RecordingSink, RoleName, RoleSelector,
    Sha,
};

fn start() -> DateTime<Utc> {
    "2026-11-24T17:00:00Z".parse().expect("time")
}

fn prod() -> EnvName {
    EnvName::new("prod").expect("env")
}

fn gname(role: &str) -> GroupName {
    GroupName::new(&prod(), &RoleName::new(role).expect("role"))
}

fn old_sha() -> Sha {
    Sha::new("1".repeat(40)).expect("sha")
}

fn new_sha() -> Sha {
    Sha::new("2".repeat(40)).expect("sha")
}

/// Production: idp 4 and worker 2, protected from scale-in; the migration group (utility,
/// EC2 checks only) empty.
fn prod_fleet() -> (Arc<VirtualClock>, Arc<SimFleet>) {
    prod_fleet_with(Arc::new(Faults::new()))
}

/// [`prod_fleet`], its calls meeting `faults`.
fn prod_fleet_with(faults: Arc<Faults>) -> (Arc<VirtualClock>, Arc<SimFleet>) {
    let clock = Arc::new(VirtualClock::new(start()));
    let fleet = Arc::new(SimFleet::new(
        clock.clone(),
        faults,
        SimFleetConfig::default(),
    ));
    for (role, desired, max) in [("idp", 4, 16), ("worker", 2, 8)] {
        let mut spec = GroupSpec::simple(gname(role), desired, old_sha());
        spec.capacity = Capacity {
            min: 1,
            desired,
            max,
        };
        spec.protect_new_instances = true;
        spec.app_tag = "gitsha:idp".into();
        fleet.add_group(spec);
    }
    let mut migration = GroupSpec::simple(gname("migration"), 0, old_sha());
    migration.capacity = Capacity {
        min: 0,
        desired: 0,
        max: 1,
    };
    migration.tags = BTreeMap::from([("utility".to_string(), "true".to_string())]);
    migration.load_balanced = false;
    migration.app_tag = "gitsha:idp".into();
    fleet.add_group(migration);
    fleet.set_app_release_sha(&prod(), "gitsha:idp", &new_sha());
    fleet.mark_capacity_baseline();
    (clock, fleet)
}

/// The fleet operations' context on `fleet` and `clock`, events dropped.
fn quiet<'a>(clock: &'a VirtualClock, fleet: &'a SimFleet) -> FleetContext<'a> {
    FleetContext {
        fleet,
        clock,
        events: &deploykit_core::NullSink,
    }
}

/// One role.
fn role(name: &str) -> RoleSelector {
    RoleSelector::Role(RoleName::new(name).expect("role"))
}

fn running_shas(fleet: &SimFleet, role: &str) -> Vec<Option<Sha>> {
    let g = fleet.group_snapshot(&gname(role)).expect("group");
    g.running_instances().map(|i| i.deployed_sha()).collect()
}

#[tokio::test]
async fn a_production_recycle_then_scale_in_old_replaces_every_instance_safely() {
    let (clock, fleet) = prod_fleet();
    let sink = RecordingSink::default();
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &sink,
    };
    let idp = role("idp");
    let out = recycle(&ctx, &RecycleRequest::new(prod(), idp.clone()))
        .await
        .expect("recycle");
    assert_eq!(out.finishes_at, start() + chrono::Duration::seconds(900));

    // Too early: the new instances are not there yet and the recycle is still running.
    let early = ScaleInRequest {
        env: prod(),
        roles: RoleSelector::All,
        mode: ScaleInMode::Old,
        dry_run: false,
    };
    let err = scale_in(&ctx, &early).await.expect_err("too early");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(
        err.to_string().contains("recycle still in progress until"),
        "{err}"
    );

    // Walk virtual time past the spindown, in poll-sized steps.
    while clock.now() <= out.finishes_at + chrono::Duration::seconds(30) {
        clock.sleep(Duration::from_secs(30)).await;
    }
    let group = fleet.group_snapshot(&gname("idp")).expect("idp");
    assert_eq!(group.capacity.desired, 4, "back to the old desired");
    assert!(group.recycle_in_progress().is_none());
    assert_eq!(
        group.running_instances().count(),
        8,
        "protected old instances remain after the spindown"
    );
    let migration = fleet
        .group_snapshot(&gname("migration"))
        .expect("migration");
    assert_eq!(migration.capacity.desired, 0);
    let report = prechecks(&ctx, &prod(), &RoleSelector::All)
        .await
        .expect("prechecks");
    assert!(
        report
            .problems()
            .iter()
            .any(|p| p.contains("prod-idp has 8 running"))
    );

    let out = scale_in(&ctx, &early).await.expect("scale in old");
    let idp_out = out
        .groups
        .iter()
        .find(|g| g.group == gname("idp"))
        .expect("idp scaled in");
    assert_eq!(idp_out.removed.len(), 4);
    clock.sleep(Duration::from_secs(60)).await;

    assert_eq!(running_shas(&fleet, "idp"), vec![Some(new_sha()); 4]);
    assert_eq!(running_shas(&fleet, "worker"), vec![Some(new_sha()); 2]);
    let running: Vec<_> = fleet
        .group_snapshot(&gname("idp"))
        .expect("idp")
        .running_instances()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(running, idp_out.kept, "exactly the kept instances remain");
    assert!(fleet.min_healthy_in_service(&gname("idp")) >= 4);
    assert!(fleet.min_healthy_in_service(&gname("worker")) >= 2);
    assert!(
        prechecks(&ctx, &prod(), &RoleSelector::All)
            .await
            .expect("prechecks")
            .is_clear()
    );
}

#[tokio::test]
async fn the_migration_runs_before_the_apps_scale_out() {
    let (clock, fleet) = prod_fleet();
    let ctx = quiet(&clock, &fleet);
    let idp = role("idp");
    recycle(&ctx, &RecycleRequest::new(prod(), idp))
        .await
        .expect("recycle");
    clock.sleep(Duration::from_secs(60)).await;
    assert_eq!(running_shas(&fleet, "migration"), vec![Some(new_sha())]);
    assert_eq!(
        fleet
            .group_snapshot(&gname("idp"))
            .expect("idp")
            .capacity
            .desired,
        4
    );
    clock.sleep(Duration::from_secs(300)).await;
    let idp = fleet.group_snapshot(&gname("idp")).expect("idp");
    assert_eq!(idp.capacity.desired, 8, "scaled out after the head start");
    assert!(
        idp.scheduled_actions
            .iter()
            .any(|a| a.name == RECYCLE_ACTION)
    );
}

#[tokio::test]
async fn rolling_back_with_scale_in_new_keeps_the_old_instances() {
    let (clock, fleet) = prod_fleet();
    let ctx = quiet(&clock, &fleet);
    let mut req = RecycleRequest::new(prod(), role("idp"));
    req.skip_migration = true;
    let out = recycle(&ctx, &req).await.expect("recycle");
    clock.advance_to(out.finishes_at + chrono::Duration::seconds(60));
    let new = ScaleInRequest {
        env: prod(),
        roles: RoleSelector::All,
        mode: ScaleInMode::New,
        dry_run: false,
    };
    scale_in(&ctx, &new).await.expect("scale in new");
    clock.sleep(Duration::from_secs(60)).await;
    assert_eq!(running_shas(&fleet, "idp"), vec![Some(old_sha()); 4]);
    assert!(fleet.min_healthy_in_service(&gname("idp")) >= 4);
}

/// A fleet of `prod-pki` (2 instances; no migration) and the production idp groups, with
/// the faults its calls meet.
fn fleet_with_faults() -> (Arc<VirtualClock>, Arc<SimFleet>, Arc<Faults>) {
    let faults = Arc::new(Faults::new());
    let (clock, fleet) = prod_fleet_with(faults.clone());
    let mut pki = GroupSpec::simple(gname("pki"), 2, old_sha());
    pki.capacity = Capacity {
        min: 1,
        desired: 2,
        max: 16,
    };
    fleet.add_group(pki);
    (clock, fleet, faults)
}

fn desired_and_spindown(fleet: &SimFleet, role: &str) -> (u32, Option<u32>) {
    let g = fleet.group_snapshot(&gname(role)).expect("group");
    let back_to = g.recycle_in_progress().and_then(|a| a.change.desired);
    (g.capacity.desired, back_to)
}

/// Stopped between its calls (an error, or the process killed, at any of them), a recycle run
/// again over itself finishes at twice the baseline, with the spindown back to the baseline:
/// never doubled twice, never left without its spindown.
#[tokio::test]
async fn a_recycle_stopped_part_way_then_run_again_doubles_each_group_once() {
    let pki = role("pki");
    let idp = role("idp");
    // pki scales out at once: put the spindown, set the capacity.
    // idp: the migration group's spindown and scale-out, then idp's and worker's spindowns
    // and delayed scale-outs (five scheduled actions in all).
    let mut cells = vec![
        (pki.clone(), "fleet.put_scheduled_action", 0),
        (pki.clone(), "fleet.set_capacity", 0),
        (idp.clone(), "fleet.set_capacity", 0),
    ];
    cells.extend((0..5).map(|n| (idp.clone(), "fleet.put_scheduled_action", n)));
    for (roles, op, passes) in cells {
        let cell = format!("{roles} stopped at call {} of {op}", passes + 1);
        let (clock, fleet, faults) = fleet_with_faults();
        let ctx = quiet(&clock, &fleet);
        let mut req = RecycleRequest::new(prod(), roles.clone());
        faults.inject_after(op, passes, Fault::Permanent, 1);
        let stopped = recycle(&ctx, &req).await.expect_err("stopped part way");
        assert_eq!(stopped.kind(), ErrorKind::Backend, "{cell}");
        let changed: Vec<&str> = ["migration", "idp", "worker", "pki"]
            .into_iter()
            .filter(|r| desired_and_spindown(&fleet, r).1.is_some())
            .collect();
        // Run again: over a recycle stopped before any group changed, as a new recycle;
        // otherwise the default refuses, and proceeding finishes it.
        if !changed.is_empty() {
            let refused = recycle(&ctx, &req).await.expect_err("refused");
            assert_eq!(refused.kind(), ErrorKind::Conflict, "{cell}: {refused}");
            req.if_in_progress = InProgressPolicy::Proceed;
        }
        recycle(&ctx, &req)
            .await
            .unwrap_or_else(|e| panic!("{cell}: {e}"));
        let expect: &[(&str, u32, u32)] = if roles == pki {
            &[("pki", 4, 2)]
        } else {
            &[("migration", 1, 0), ("idp", 4, 4), ("worker", 2, 2)]
        };
        for (role, desired_now, back_to) in expect {
            let (desired, spindown) = desired_and_spindown(&fleet, role);
            assert_eq!(desired, *desired_now, "{cell}: {role} desired");
            assert_eq!(spindown, Some(*back_to), "{cell}: {role} spindown");
        }
        // The delayed scale-outs and the spindowns run: every group doubled once, then back.
        clock.advance_to(start() + chrono::Duration::seconds(400));
        clock.sleep(Duration::from_secs(1)).await;
        if roles == idp {
            assert_eq!(desired_and_spindown(&fleet, "idp").0, 8, "{cell}: idp out");
            assert_eq!(
                desired_and_spindown(&fleet, "worker").0,
                4,
                "{cell}: worker out"
            );
        }
        clock.advance_to(start() + chrono::Duration::seconds(3600));
        clock.sleep(Duration::from_secs(1)).await;
        for (role, back) in [("migration", 0), ("idp", 4), ("worker", 2), ("pki", 2)] {
            assert_eq!(
                desired_and_spindown(&fleet, role),
                (back, None),
                "{cell}: {role} after the spindown"
            );
        }
    }
}

/// The error of a recycle that stopped after some groups were recycled names them, and the
/// groups it had not reached.
#[tokio::test]
async fn a_recycle_stopped_part_way_says_which_groups_were_recycled() {
    let (clock, fleet, faults) = fleet_with_faults();
    let ctx = quiet(&clock, &fleet);
    // Worker's spindown (the fourth scheduled action) fails.
    faults.inject_after("fleet.put_scheduled_action", 3, Fault::Permanent, 1);
    let req = RecycleRequest::new(prod(), role("idp"));
    let e = recycle(&ctx, &req).await.expect_err("stopped");
    assert_eq!(
        e.context_value(RECYCLED_KEY),
        Some("prod-migration, prod-idp"),
        "{e}"
    );
    assert_eq!(
        e.context_value(NOT_RECYCLED_KEY),
        Some("prod-worker"),
        "{e}"
    );
    assert!(e.to_string().contains("permanent backend failure"), "{e}");
}

/// Run again without proceeding, a recycle stopped before its group scaled out is refused
/// with a message that says so and how to finish it.
#[tokio::test]
async fn a_recycle_stopped_before_its_scale_out_is_refused_as_stopped_part_way() {
    let (clock, fleet, faults) = fleet_with_faults();
    let ctx = quiet(&clock, &fleet);
    faults.inject("fleet.set_capacity", Fault::Permanent, 1);
    let req = RecycleRequest::new(prod(), role("pki"));
    recycle(&ctx, &req).await.expect_err("stopped");
    let group = fleet.group_snapshot(&gname("pki")).expect("group");
    assert!(stopped_before_scale_out(&group));
    let e = recycle(&ctx, &req).await.expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let text = e.to_string();
    assert!(text.contains("prod-pki was stopped part way"), "{text}");
    assert!(text.contains("never scaled out (desired 2)"), "{text}");
    assert!(
        text.contains("proceed over the recycle in progress"),
        "{text}"
    );
}

/// A change that failed is not reported as done: the recycle's events say what it did up to
/// the failure, and nothing after it.
#[tokio::test]
async fn a_change_that_failed_is_not_reported_as_done() {
    let (clock, fleet, faults) = fleet_with_faults();
    let sink = RecordingSink::default();
    let ctx = FleetContext {
        fleet: fleet.as_ref(),
        clock: clock.as_ref(),
        events: &sink,
    };
    faults.inject("fleet.set_capacity", Fault::Permanent, 1);
    recycle(&ctx, &RecycleRequest::new(prod(), role("pki")))
        .await
        .expect_err("the scale-out failed");
    let did: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            deploykit_core::Event::Action {
                description,
                dry_run: false,
                ..
            } => Some(description),
            _ => None,
        })
        .collect();
    assert!(
        did.iter().any(|d| d.starts_with("schedule ")),
        "the spindown was scheduled: {did:?}"
    );
    assert!(
        !did.iter().any(|d| d.starts_with("scale out")),
        "the scale-out failed and is not reported: {did:?}"
    );
}

fn messages(sink: &RecordingSink) -> (Vec<String>, Vec<String>) {
    let mut did = Vec::new();
    let mut said = Vec::new();
    for e in sink.events() {
        match e {
            deploykit_core::Event::Action { description, .. } => did.push(description),
            deploykit_core::Event::Info { message, .. }
            | deploykit_core::Event::Warning { message, .. } => said.push(message),
            _ => {}
        }
    }
    (did, said)
}

/// An instance parked in Standby (desired lowered for it) is not a leftover: the recycle goes
/// ahead, scale-in old removes the other old instances and leaves it, and nothing counts it
/// as running capacity.
#[tokio::test]
async fn a_standby_instance_is_neither_a_leftover_nor_scaled_in() {
    let (clock, fleet) = prod_fleet();
    let sink = RecordingSink::default();
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &sink,
    };
    let before = fleet.group_snapshot(&gname("idp")).expect("idp");
    let parked = before.instances[0].id.clone();
    fleet
        .enter_standby(&gname("idp"), std::slice::from_ref(&parked), true)
        .expect("standby");
    let report = prechecks(&ctx, &prod(), &RoleSelector::All)
        .await
        .expect("prechecks");
    assert!(report.is_clear(), "{:?}", report.problems());

    let out = recycle(&ctx, &RecycleRequest::new(prod(), role("idp")))
        .await
        .expect("a Standby instance is no leftover");
    let idp = out
        .groups
        .iter()
        .find(|g| g.group == gname("idp"))
        .expect("idp");
    assert_eq!((idp.old.desired, idp.new_desired), (3, 6));
    let (_, said) = messages(&sink);
    let note = format!("prod-idp: 1 instance in Standby (not counted): {parked}");
    assert!(said.iter().any(|m| m.starts_with(&note)), "{said:?}");

    clock.advance_to(out.finishes_at + chrono::Duration::seconds(60));
    let all_old = ScaleInRequest {
        env: prod(),
        roles: RoleSelector::All,
        mode: ScaleInMode::Old,
        dry_run: false,
    };
    let scaled = scale_in(&ctx, &all_old).await.expect("scale in old");
    let idp_out = scaled
        .groups
        .iter()
        .find(|g| g.group == gname("idp"))
        .expect("idp");
    assert_eq!(idp_out.removed.len(), 3, "{idp_out:?}");
    assert!(!idp_out.removed.contains(&parked), "{idp_out:?}");
    assert_eq!(idp_out.standby, std::slice::from_ref(&parked));
    clock.sleep(Duration::from_secs(60)).await;

    let after = fleet.group_snapshot(&gname("idp")).expect("idp");
    let counted: Vec<_> = after.counted_instances().map(|i| i.id.clone()).collect();
    assert_eq!(counted, idp_out.kept, "exactly the kept instances serve");
    assert!(
        after
            .counted_instances()
            .all(|i| i.deployed_sha() == Some(new_sha()))
    );
    let still: Vec<_> = after.standby_instances().map(|i| i.id.clone()).collect();
    assert_eq!(
        still,
        [parked],
        "Auto Scaling never scales in a Standby instance"
    );
    assert!(fleet.min_healthy_in_service(&gname("idp")) >= 3);
    let report = prechecks(&ctx, &prod(), &RoleSelector::All)
        .await
        .expect("prechecks");
    assert!(report.is_clear(), "{:?}", report.problems());
    let again = RecycleRequest {
        dry_run: true,
        ..RecycleRequest::new(prod(), role("idp"))
    };
    recycle(&ctx, &again)
        .await
        .expect("the next recycle is not refused");
}

/// Run again with `--force` after its scale-out, a recycle launches nothing (never doubling a
/// group twice), and says so: no `desired 4 -> 8`, no "scale out" claimed.
#[tokio::test]
async fn forcing_a_recycle_that_already_scaled_out_says_no_instance_is_launched() {
    let (clock, fleet) = prod_fleet();
    let ctx = quiet(&clock, &fleet);
    recycle(&ctx, &RecycleRequest::new(prod(), role("idp")))
        .await
        .expect("recycle");
    clock.advance_to(start() + chrono::Duration::seconds(360));
    assert_eq!(desired_and_spindown(&fleet, "idp"), (8, Some(4)));
    let launched = fleet.history().len();

    let sink = RecordingSink::default();
    let ctx = FleetContext {
        fleet: &*fleet,
        clock: &*clock,
        events: &sink,
    };
    let mut forced = RecycleRequest::new(prod(), role("idp"));
    forced.if_in_progress = InProgressPolicy::Proceed;
    let out = recycle(&ctx, &forced).await.expect("forced");
    let described: Vec<String> = out
        .migration
        .iter()
        .chain(&out.groups)
        .map(|g| g.describe("recycling"))
        .collect();
    assert_eq!(
        described,
        [
            "recycling prod-migration: already scaled out to 1 (no new instances); spindown \
             moved to 17:16:00 UTC, back to 0",
            "recycling prod-idp: already scaled out to 8 (no new instances); spindown moved to \
             17:21:00 UTC, back to 4",
            "recycling prod-worker: already scaled out to 4 (no new instances); spindown moved \
             to 17:21:00 UTC, back to 2",
        ]
    );
    let (did, said) = messages(&sink);
    assert!(
        did.iter().all(|d| d.starts_with("schedule RecycleOnce")),
        "{did:?}"
    );
    assert!(
        said.iter()
            .any(|m| m.starts_with("prod-migration already scaled out to 1 (no new instances)")),
        "{said:?}"
    );
    // Nothing launched or resized: only the spindowns were put again.
    let history = fleet.history();
    assert!(
        history[launched..].iter().all(|e| matches!(
            e.kind,
            deploykit_core::sim::FleetEventKind::ActionPut { .. }
        )),
        "{:?}",
        &history[launched..]
    );
    assert_eq!(desired_and_spindown(&fleet, "idp"), (8, Some(4)));
    assert_eq!(desired_and_spindown(&fleet, "migration"), (1, Some(0)));
}
