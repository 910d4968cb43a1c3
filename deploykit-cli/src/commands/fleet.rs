//! Fleet commands: recycle, scale-in, servers ls, asg size, migration logs, monitor.

use std::ops::ControlFlow;
use std::time::Duration;

use deploykit_core::deploy::migration_log::{MigrationLogReader, MigrationLogStatus};
use deploykit_core::fleet_ops::{
    self, FleetContext, HandChange, InProgressPolicy, MigrationLogRequest, RecycleRequest,
    ScaleInMode, ScaleInRequest,
};
use deploykit_core::ports::{Fleet, MetricsWindow};
use deploykit_core::{
    Asker, CapacityChange, EnvName, Error, ErrorKind, GroupName, Result, RoleName, RoleSelector,
};

use crate::args::{
    AsgSizeArgs, MigrationLogsArgs, MonitorArgs, RecycleArgs, ScaleInArgs, ScaleInWhich,
    ServersLsArgs,
};
use crate::backends::{FleetBackends, deploy_lock};
use crate::commands::Invocation;
use crate::exit;
use crate::output::{print_line, print_result};
use crate::prompt::confirm;

/// A fleet command's `result`; a not-found error (no such group) in an environment the
/// configuration does not know names the configured one `env` is likely a typo of. Fleet
/// commands work on any environment of the account, so an unknown name is not refused first.
pub fn with_env_meant(inv: &Invocation<'_>, env: &str, result: Result<u8>) -> Result<u8> {
    let Err(e) = result else {
        return result;
    };
    if e.kind() != ErrorKind::NotFound {
        return Err(e);
    }
    let (Ok(env), Ok(config)) = (env.parse::<EnvName>(), inv.config()) else {
        return Err(e);
    };
    Err(match config.env_meant(&env) {
        Some(meant) => e.hinted(&format!("did you mean {meant}?")),
        None => e,
    })
}

async fn backends(inv: &Invocation<'_>, env: &EnvName) -> Result<FleetBackends> {
    let (b, _world) = FleetBackends::for_command(inv.cli.sandbox, &inv.config()?, env).await?;
    Ok(b)
}

/// Refuses `what` on `roles` of `env` while a deploy holds the lock of an app they touch
/// (a sandbox's fresh world holds none; a dry run changes nothing).
async fn refuse_while_deploying(
    inv: &Invocation<'_>,
    env: &EnvName,
    roles: &RoleSelector,
    what: &str,
) -> Result<()> {
    if inv.cli.sandbox {
        return Ok(());
    }
    let config = inv.config()?;
    let (lock, clock, _world) = deploy_lock(false, &config).await?;
    let apps: Vec<_> = config.apps.values().cloned().collect();
    let change = HandChange {
        what,
        env,
        roles,
        asker: Asker::Cli,
        // An unreadable lock refuses a production change unless --yes says to go on.
        refuse_if_unreadable: config.env_settings(env).production && !inv.cli.yes,
    };
    fleet_ops::refuse_while_deploying(lock.as_ref(), clock.as_ref(), &apps, change, &inv.sink).await
}

/// `deploykit recycle ENV ROLE|ALL`.
pub async fn recycle(inv: &Invocation<'_>, args: &RecycleArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let mut req = RecycleRequest::new(env.clone(), args.role.parse::<RoleSelector>()?);
    req.skip_migration = args.skip_migration;
    req.dry_run = args.dry_run;
    if args.force {
        req.if_in_progress = InProgressPolicy::Proceed;
    }
    if !args.dry_run {
        refuse_while_deploying(inv, &env, &req.roles, "recycle").await?;
    }
    let b = backends(inv, &env).await?;
    let ctx = FleetContext {
        fleet: b.fleet.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
    };
    let outcome = fleet_ops::recycle(&ctx, &req)
        .await
        .map_err(|e| with_force_hint(e, args))?;
    // Production protects its instances from scale-in, so the old ones stay until
    // `scale-in old` (the guide's step); elsewhere the spindown removes them, and a migration
    // group goes back to 0 by itself.
    let then = if outcome.groups.is_empty() {
        String::new()
    } else if inv.config()?.env_settings(&env).production {
        format!(
            "; then run `deploykit scale-in old {} {}`",
            args.env, args.role
        )
    } else {
        "; its spindown removes the old instances".to_string()
    };
    print_result(inv.format, &outcome, || {
        let mut out = String::new();
        let verb = if args.dry_run {
            "would recycle"
        } else {
            "recycling"
        };
        for g in outcome.migration.iter().chain(outcome.groups.iter()) {
            out.push_str(&g.describe(verb));
            out.push('\n');
        }
        out.push_str(&format!(
            "the recycle finishes at {}{then}",
            outcome.finishes_at.format("%Y-%m-%d %H:%M:%S UTC"),
        ));
        out
    });
    Ok(exit::OK)
}

/// `e` with the command that goes on from it, when that is the same recycle with `--force`: a
/// recycle stopped after some groups were recycled ([`fleet_ops::RECYCLED_KEY`]), or one
/// refused over a recycle in progress (the refusal names its spindown).
fn with_force_hint(e: Error, args: &RecycleArgs) -> Error {
    let Some(key) = fleet_ops::recycle::proceed_hint_key(&e) else {
        return e;
    };
    let skip = if args.skip_migration {
        " --skip-migration"
    } else {
        ""
    };
    e.with(
        key,
        format!("deploykit recycle {} {}{skip} --force", args.env, args.role),
    )
}

/// `deploykit scale-in old|new ENV ROLE|ALL`.
pub async fn scale_in(inv: &Invocation<'_>, args: &ScaleInArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let req = ScaleInRequest {
        env: env.clone(),
        roles: args.role.parse()?,
        mode: match args.which {
            ScaleInWhich::Old => ScaleInMode::Old,
            ScaleInWhich::New => ScaleInMode::New,
        },
        dry_run: args.dry_run,
    };
    if !args.dry_run {
        refuse_while_deploying(inv, &env, &req.roles, "scale-in").await?;
    }
    let b = backends(inv, &env).await?;
    let ctx = FleetContext {
        fleet: b.fleet.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
    };
    // The groups `deploykit recycle ENV ROLE` recycled (idp's worker too), as its hint says.
    let outcome = fleet_ops::scale_in_as_recycled(&ctx, &req).await?;
    print_result(inv.format, &outcome, || {
        // Scale-in takes the instances' protection off; Auto Scaling terminates them (the
        // group's desired capacity is already below what runs), within minutes, not here.
        let verb = if args.dry_run {
            "would unprotect for Auto Scaling to terminate"
        } else {
            "unprotected for Auto Scaling to terminate"
        };
        outcome
            .groups
            .iter()
            .map(|g| {
                let removed: Vec<String> = g.removed.iter().map(|i| i.to_string()).collect();
                if removed.is_empty() {
                    format!("{}: nothing to remove, {} kept", g.group, g.kept.len())
                } else {
                    format!(
                        "{}: {verb} {} ({}), {} kept",
                        g.group,
                        removed.len(),
                        removed.join(", "),
                        g.kept.len()
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(exit::OK)
}

/// `deploykit servers ls -e ENV [-r ROLE]`.
pub async fn servers_ls(inv: &Invocation<'_>, args: &ServersLsArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let role = args.role.as_deref().map(RoleName::new).transpose()?;
    let b = backends(inv, &env).await?;
    let ctx = FleetContext {
        fleet: b.fleet.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
    };
    let rows = fleet_ops::servers::list_servers(&ctx, &env, role.as_ref()).await?;
    print_result(inv.format, &rows, || {
        fleet_ops::servers::render_servers(&rows)
    });
    Ok(exit::OK)
}

/// `deploykit asg size ENV ROLE [--min N] [--desired N] [--max N]`.
pub async fn asg_size(inv: &Invocation<'_>, args: &AsgSizeArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let group = GroupName::new(&env, &RoleName::new(&args.role)?);
    let b = backends(inv, &env).await?;
    let ctx = FleetContext {
        fleet: b.fleet.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
    };
    let change = CapacityChange {
        min: args.min,
        desired: args.desired,
        max: args.max,
    };
    if change != CapacityChange::default() {
        refuse_while_deploying(inv, &env, &RoleSelector::Role(group.role.clone()), "resize")
            .await?;
        // Taking instances out of service in production is asked first.
        let now = fleet_ops::group_size(&ctx, &group).await?.capacity;
        let next = change.apply(now);
        if next.desired < now.desired && inv.config()?.env_settings(&env).production && !inv.cli.yes
        {
            confirm(
                &format!(
                    "{group}: desired {} -> {} takes {} instance(s) out of service in \
                     production. Go on? [y/N]",
                    now.desired,
                    next.desired,
                    now.desired - next.desired
                ),
                &format!(
                    "lowering {group}'s desired capacity from {} to {} in production",
                    now.desired, next.desired
                ),
            )
            .await?;
        }
        fleet_ops::set_group_size(&ctx, &group, change, false).await?;
    }
    let size = fleet_ops::group_size(&ctx, &group).await?;
    print_result(inv.format, &size, || size.render());
    Ok(exit::OK)
}

/// `deploykit migration logs ENV`.
pub async fn migration_logs(inv: &Invocation<'_>, args: &MigrationLogsArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let env_name = env.to_string();
    let b = backends(inv, &env).await?;
    let ctx = FleetContext {
        fleet: b.fleet.as_ref(),
        clock: b.clock.as_ref(),
        events: &inv.sink,
    };
    let req = MigrationLogRequest::new(env).with_timeout(Duration::from_secs(args.timeout));
    let json = inv.format == crate::output::Format::Json;
    // Judged as the deploy's migration gate judges it.
    let mut verdict = MigrationLogReader::default();
    let mut on_line = |line: &str| {
        verdict.feed([line]);
        let shown = if json {
            print_line(&serde_json::json!({ "line": line }).to_string())
        } else {
            print_line(line)
        };
        // Stop at the final marker, or when nobody reads any more (`| head`).
        if !shown || verdict.ended() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let tail = fleet_ops::tail_migration_log(&ctx, b.logs.as_ref(), &req, &mut on_line).await?;
    if let MigrationLogStatus::ProvisioningFailed { line }
    | MigrationLogStatus::MigrationError { line } = verdict.status()
    {
        return Err(Error::backend(format!(
            "the migration on {} failed: {line}; a deploy's migration gate rolls back on this \
             (a deploy in progress does so itself; after a recycle by hand, roll back with \
             `deploykit rollback {} APP --reason ...`)",
            tail.instance, env_name
        ))
        .temporary(false));
    }
    match tail.instance_gone {
        Some(state) => Err(Error::backend(format!(
            "{} is {state} and its log stopped after {} lines, before provisioning finished: \
             the migration did not finish",
            tail.instance, tail.lines_read
        ))
        .temporary(false)),
        None => Ok(exit::OK),
    }
}

/// `deploykit monitor ENV ROLE`: the per-SHA table, refreshed.
pub async fn monitor(inv: &Invocation<'_>, args: &MonitorArgs) -> Result<u8> {
    let env: EnvName = args.env.parse()?;
    let role = RoleName::new(&args.role)?;
    let b = backends(inv, &env).await?;
    // A mistyped environment or role has no group: say so rather than "no data" forever.
    let groups = fleet_ops::env_groups(&*b.fleet, &env).await?;
    fleet_ops::role_groups(&groups, &env, &role)?;
    let interval = Duration::from_secs(args.interval.max(1));
    let window_len = chrono::Duration::minutes(5);
    let mut round = 0u32;
    let mut trend = fleet_ops::MonitorTrend::new();
    loop {
        let now = b.clock.now();
        let window = MetricsWindow {
            start: now - window_len,
            end: now,
        };
        let table = if args.by_instance {
            fleet_ops::monitor_by_instance(&*b.fleet, &*b.monitor, &env, &role, &window).await?
        } else {
            let mut table =
                fleet_ops::monitor_table(&b.monitor.sample(&env, &role, &window).await?);
            table.note = one_sha_recycle_hint(&*b.fleet, &env, &role, &table).await;
            table
        };
        trend.push(&table);
        if inv.format == crate::output::Format::Json {
            // JSON lines: one compact document a refresh, so the stream parses line by line.
            match crate::output::json_line(&table) {
                Ok(line) => {
                    if !print_line(&line) {
                        return Ok(exit::OK);
                    }
                }
                Err(e) => eprintln!("deploykit: could not print the table as JSON: {e}"),
            }
        } else if !print_result(inv.format, &table, || {
            let mut text = format!(
                "{} — last 5 minutes\n{}",
                now.format("%H:%M:%S UTC"),
                fleet_ops::render_monitor_table(&table)
            );
            if let Some(line) = trend.render(&table) {
                text.push_str(&format!("{line} (one block per refresh, oldest first)\n"));
            }
            text
        }) {
            // Nobody reads any more (`| head`).
            return Ok(exit::OK);
        }
        round += 1;
        if args.count.is_some_and(|c| round >= c) {
            return Ok(exit::OK);
        }
        b.clock.sleep(interval).await;
        if inv.cli.sandbox {
            // The sandbox's clock is virtual and its sleep instant: wait in real time too,
            // so it refreshes like a real monitor (and Ctrl-C finds it waiting).
            tokio::time::sleep(interval).await;
        }
    }
}

/// When the table has one SHA while a recycle is replacing instances (a config recycle), a
/// note that `--by-instance` tells the old instances from the new. A hint only: a fleet error
/// leaves it out.
async fn one_sha_recycle_hint(
    fleet: &dyn Fleet,
    env: &EnvName,
    role: &RoleName,
    table: &fleet_ops::MonitorTable,
) -> Option<String> {
    if table.rows.len() != 1 {
        return None;
    }
    let group = fleet.group(&GroupName::new(env, role)).await.ok()?;
    let old = group.old_instances();
    let shas: std::collections::BTreeSet<String> = group
        .running_instances()
        .filter_map(|i| i.deployed_sha().map(|s| s.as_str().to_string()))
        .collect();
    (!old.is_empty() && shas.len() <= 1).then(|| {
        format!(
            "a recycle of {} is under way and its instances run one SHA: --by-instance shows \
             its {} old instances beside the new ones",
            group.name,
            old.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn recycle_args(args: &[&str]) -> RecycleArgs {
        let cli = Cli::try_parse_from([&["deploykit", "recycle"], args].concat()).expect("args");
        match cli.command {
            Command::Recycle(a) => a,
            other => panic!("not a recycle: {other:?}"),
        }
    }

    #[test]
    fn a_recycle_stopped_part_way_says_the_command_that_finishes_it() {
        let args = recycle_args(&["prod", "idp", "--skip-migration"]);
        let stopped = Error::backend("UpdateAutoScalingGroup failed")
            .with(fleet_ops::RECYCLED_KEY, "prod-idp")
            .with(fleet_ops::NOT_RECYCLED_KEY, "prod-worker");
        let text = with_force_hint(stopped, &args).to_string();
        assert!(
            text.contains("to finish it: deploykit recycle prod idp --skip-migration --force"),
            "{text}"
        );
        let refused = Error::conflict("a recycle of prod-idp is already in progress")
            .with("group", "prod-idp")
            .with(fleet_ops::SPINDOWN_AT_KEY, "2026-11-24 15:15:00 UTC");
        let text = with_force_hint(refused, &recycle_args(&["prod", "ALL"])).to_string();
        assert!(
            text.contains("to go on: deploykit recycle prod ALL --force"),
            "{text}"
        );
        // Anything else is left as it is.
        let other = Error::not_found("no Auto Scaling group named prod-nosuch");
        let text = with_force_hint(other, &args).to_string();
        assert!(!text.contains("--force"), "{text}");
    }
}

#[cfg(test)]
mod hint_tests {
    use std::sync::Arc;

    use deploykit_core::Sha;
    use deploykit_core::fleet_ops::monitor_table;
    use deploykit_core::model::fleet::{RECYCLE_ACTION, ScheduledAction};
    use deploykit_core::ports::{Clock, MonitorSample, ShaMetrics};
    use deploykit_core::sim::{Faults, GroupSpec, SimFleet, SimFleetConfig, VirtualClock};

    use super::*;

    fn table(shas: &[&str], at: chrono::DateTime<chrono::Utc>) -> fleet_ops::MonitorTable {
        monitor_table(&MonitorSample {
            window: MetricsWindow { start: at, end: at },
            per_sha: shas
                .iter()
                .map(|s| ShaMetrics {
                    sha: Sha::new(*s).expect("sha"),
                    first_seen: None,
                    requests: 1_000,
                    errors_5xx: 1,
                    instances: 4,
                    flows: vec![],
                })
                .collect(),
        })
    }

    #[tokio::test]
    async fn one_sha_during_a_recycle_points_at_by_instance() {
        let clock = Arc::new(VirtualClock::new(
            "2026-11-24T15:00:00Z".parse().expect("time"),
        ));
        let fleet = SimFleet::new(
            clock.clone(),
            Arc::new(Faults::new()),
            SimFleetConfig::default(),
        );
        let (env, role) = (
            EnvName::new("prod").expect("env"),
            RoleName::new("idp").expect("role"),
        );
        let group = GroupName::new(&env, &role);
        fleet.add_group(GroupSpec::simple(
            group.clone(),
            4,
            Sha::new("cf6def2").expect("sha"),
        ));
        let one = table(&["cf6def2"], clock.now());
        assert_eq!(
            one_sha_recycle_hint(&fleet, &env, &role, &one).await,
            None,
            "no recycle"
        );

        let spindown = ScheduledAction {
            name: RECYCLE_ACTION.to_string(),
            start_time: clock.now() + chrono::Duration::minutes(15),
            change: CapacityChange::desired(4),
        };
        fleet
            .put_scheduled_action(&group, &spindown)
            .await
            .expect("spindown");
        fleet
            .set_capacity(&group, CapacityChange::desired(8))
            .await
            .expect("scale out");
        clock.sleep(Duration::from_secs(60)).await;
        let hint = one_sha_recycle_hint(&fleet, &env, &role, &one).await;
        assert_eq!(
            hint.as_deref(),
            Some(
                "a recycle of prod-idp is under way and its instances run one SHA: \
                 --by-instance shows its 4 old instances beside the new ones"
            )
        );
        let two = table(&["cf6def2", "fa232d0"], clock.now());
        assert_eq!(
            one_sha_recycle_hint(&fleet, &env, &role, &two).await,
            None,
            "two SHAs"
        );
    }
}
