//! `--dry-run`: the plan of a deploy — every step, the port operations it would call and
//! the numbers (groups, desired capacities, spindown times) — computed from reads only.

use chrono::{DateTime, Utc};

use crate::deploy::driver::check_request;
use crate::deploy::monitor_verdict::{pct, points};
use crate::deploy::ports::DeployPorts;
use crate::deploy::request::DeployRequest;
use crate::deploy::settings::EnvSettings;
use crate::deploy::state::StepName;
use crate::deploy::step::rollout_steps;
use crate::deploy::steps::{migration_gate, policy_hooks, preflight};
use crate::error::Result;
use crate::fleet_ops::{RecyclePlan, check_groups, plan_recycle};
use crate::model::deploy_kind::DeployKind;
use crate::model::fleet::{DELAYED_SCALE_OUT_ACTION, Group, RECYCLE_ACTION};
use crate::model::names::{AppName, EnvName};
use crate::model::release_number::ReleaseNumber;

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlannedStep {
    /// The step.
    pub step: StepName,
    /// The port operations it would call, with their numbers.
    pub operations: Vec<String>,
}

/// What `deploy` would do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployPlan {
    /// The environment.
    pub env: EnvName,
    /// The app.
    pub app: AppName,
    /// Full, patch, off-cycle, config recycle or no-migration recycle.
    pub kind: DeployKind,
    /// When it was planned (the recycle's times follow from it).
    pub planned_at: DateTime<Utc>,
    /// The steps, in order.
    pub steps: Vec<PlannedStep>,
    /// The recycle's numbers, when the fleet allows it now.
    pub recycle: Option<RecyclePlan>,
    /// What would stop the deploy now (a refusal preflight would give), if anything.
    pub blockers: Vec<String>,
}

impl DeployPlan {
    /// The plan as text: what would run, step by step, the recycle's numbers and times, and
    /// whether anything would stop the deploy now.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Dry run: deploy of {} to {} ({}), planned at {}; nothing was changed\n\nSteps:\n",
            self.app,
            self.env,
            self.kind,
            self.planned_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        for (i, step) in self.steps.iter().enumerate() {
            out.push_str(&format!("  {:>2}. {}\n", i + 1, step.step));
            for op in &step.operations {
                out.push_str(&format!("        - {op}\n"));
            }
        }
        if let Some(r) = &self.recycle {
            out.push_str("\nRecycle:\n");
            for g in r.migration.iter().chain(&r.groups) {
                out.push_str(&format!("  {}\n", g.describe("would recycle")));
            }
            out.push_str(&format!(
                "  every group is back to its old desired capacity at {}\n",
                r.finishes_at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
            for w in &r.warnings {
                out.push_str(&format!("  warning: {w}\n"));
            }
        }
        if self.blockers.is_empty() {
            out.push_str("\nNothing would stop it now: run the same command without --dry-run.\n");
        } else {
            out.push_str("\nIt would be refused now:\n");
            for b in &self.blockers {
                out.push_str(&format!("  - {b}\n"));
            }
        }
        out
    }
}

/// Plans a deploy without changing anything (reads the PR, the lock and the fleet).
pub async fn plan(
    ports: &DeployPorts,
    settings: &EnvSettings,
    req: &DeployRequest,
) -> Result<DeployPlan> {
    let now = ports.clock.now();
    let mut blockers = Vec::new();
    let app = &req.app;
    let env = &req.env;
    let pr_text = req
        .pr_number
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| "(no PR given)".into());
    if let Err(e) = check_request(req, settings) {
        blockers.push(e.message().to_string());
    }
    // The RC the release will be named after, from the promotion PR's title.
    let mut rc = None;
    if let Some(n) = req.pr_number.filter(|_| req.kind.ships_code()) {
        match ports.code_host.pull_request(n).await {
            Ok(pr) => {
                rc = ReleaseNumber::from_pr_title(&pr.title).ok();
                if pr.state != crate::ports::PrState::Open {
                    blockers.push(format!("PR #{n} is not open"));
                }
                blockers.extend(preflight::pr_kind_mismatch(req.kind, n, &pr.title));
            }
            Err(e) => blockers.push(format!("PR #{n}: {e}")),
        }
    }
    // Without the reason an off-cycle or patch deploy needs, the calendar says only that,
    // and `check_request` has said it with the flag that gives it.
    if !req.lacks_reason()
        && let Err(refusal) = policy_hooks::cadence_at(settings, now, req)
        && req
            .cadence_override
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        blockers.push(policy_hooks::cadence_refusal(&refusal));
    }
    if let Some(h) = ports.lock.holder(env, &app.name).await?
        && !h.has_expired(now)
    {
        blockers.push(format!("the deploy lock is held by {}", h.owner));
    }
    if let Some(role) = app.main_role()
        && let Err(e) = ports.monitor.check_readable(env, role).await
    {
        blockers.push(preflight::monitor_refusal(env, role, &e));
    }
    let groups = ports.fleet.groups(env).await?;
    let mut rreq = crate::fleet_ops::RecycleRequest::new(
        env.clone(),
        crate::model::names::RoleSelector::Role(
            app.main_role()
                .cloned()
                .unwrap_or_else(crate::model::names::RoleName::migration),
        ),
    );
    rreq.skip_migration = !req.kind.runs_migrations();
    rreq.dry_run = true;
    let fleet_problems = check_groups(&groups, env, &rreq.roles).problems();
    let recycle = match plan_recycle(&groups, &rreq, now) {
        Ok(p) => Some(p),
        Err(e) => {
            // A recycle in progress is both: the pre-check's words say what to do.
            if fleet_problems.is_empty() {
                blockers.push(format!("recycle: {e}"));
            }
            None
        }
    };
    blockers.extend(fleet_problems);
    // A recycle that ships no code must not put back code a rollback took out.
    if !req.kind.ships_code() && settings.production {
        let wanted = app.groups_in(env);
        let mine: Vec<&Group> = groups.iter().filter(|g| wanted.contains(&g.name)).collect();
        let serving = policy_hooks::serving_sha(&mine);
        if let Ok(Some(policy_hooks::UnshippedCode {
            why,
            revert: Some(revert),
        })) = policy_hooks::unshipped_code(
            ports.vcs.as_ref(),
            ports.code_host.as_ref(),
            app,
            env,
            serving.as_ref(),
        )
        .await
        {
            blockers.push(policy_hooks::rolled_back_code_refusal(req, &why, &revert));
        }
    }
    // What a no-migration recycle's new instances would run.
    let branch = policy_hooks::deployed_branch(app, settings);
    if !req.kind.runs_migrations() && req.no_migration_override.is_none() {
        let wanted = app.groups_in(env);
        let mine: Vec<&Group> = groups.iter().filter(|g| wanted.contains(&g.name)).collect();
        match policy_hooks::no_migration_risk(
            ports.vcs.as_ref(),
            app,
            branch,
            policy_hooks::serving_sha(&mine).as_ref(),
        )
        .await
        {
            Ok(None) => {}
            Ok(Some(risk)) => blockers.push(policy_hooks::no_migration_refusal(&risk)),
            Err(e) => blockers.push(format!(
                "the no-migration risk check could not read what changed: {e}"
            )),
        }
    }
    let t = &settings.monitor;
    let steps = rollout_steps(req.kind, settings.production)
        .into_iter()
        .map(|step| {
            let operations = match step {
                StepName::Preflight => {
                    let mut ops = vec![format!(
                        "policy: cadence calendar for {} on {}",
                        req.kind,
                        now.date_naive()
                    )];
                    if req.kind.ships_code() {
                        ops.push(format!(
                            "code_host.pull_request({pr_text}), code_host.reviews({pr_text}): open, \
                             approved, mergeable into {}",
                            app.production_branch
                        ));
                        ops.push(format!(
                            "vcs.fetch({}), vcs.commits_between / files_changed({}/{}..head)",
                            app.remote, app.remote, app.production_branch
                        ));
                    } else if !req.kind.runs_migrations() {
                        ops.push(format!(
                            "policy: no-migration risk (migrations or assets changed from the \
                             SHA serving to {}/{})",
                            app.remote, branch
                        ));
                    }
                    ops.push(format!("fleet.groups({env}): no extra servers, no recycle in progress"));
                    ops.push(format!("lock.acquire({env}/{})", app.name));
                    ops
                }
                StepName::MergePr => vec![format!(
                    "code_host.merge_pull_request({pr_text}, merge) into {}",
                    app.production_branch
                )],
                StepName::AnnounceRecycle => vec![if req.kind == crate::DeployKind::ConfigRecycle {
                    "notifier.announce(config_change with the redacted diff)".to_string()
                } else {
                    "notifier.announce(recycle_start)".to_string()
                }],
                StepName::Recycle => match &recycle {
                    Some(p) => p
                        .migration
                        .iter()
                        .chain(p.groups.iter())
                        .map(|g| {
                            let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC");
                            let out = if g.scale_out_at > p.planned_at {
                                format!(
                                    "fleet.put_scheduled_action({}, {DELAYED_SCALE_OUT_ACTION} at \
                                     {}: desired {} -> {})",
                                    g.group,
                                    at(g.scale_out_at),
                                    g.old.desired,
                                    g.new_desired
                                )
                            } else {
                                format!(
                                    "fleet.set_capacity({}, desired {} -> {})",
                                    g.group, g.old.desired, g.new_desired
                                )
                            };
                            // The spindown is scheduled first, as the recycle does it: a
                            // recycle stopped in between never leaves a group doubled for good.
                            format!(
                                "fleet.put_scheduled_action({}, {RECYCLE_ACTION} at {}: desired \
                                 back to {}); {out}",
                                g.group,
                                at(g.spindown_at),
                                g.old.desired
                            )
                        })
                        .collect(),
                    None => vec!["(the recycle cannot be planned now: see blockers)".into()],
                },
                StepName::MigrationGate => vec![match migration_gate::skipped_because(req) {
                    Some(why) => format!("skipped: {why}"),
                    None => format!(
                        "logs.read_log(newest {env}-migration instance) until the final marker, \
                         an error, or {} s",
                        settings.migration_timeout_secs
                    ),
                }],
                StepName::HealthGate => vec![format!(
                    "fleet.group / load_balancer_health every {} s until every new instance is \
                     InService and healthy, or {} s",
                    settings.poll_secs, settings.health_timeout_secs
                )],
                StepName::MonitorGate => vec![format!(
                    "monitor.sample: up to {} windows of {} s, each judged when the new code \
                     served at least {} requests; Go after {} good windows in a row (new 5xx at \
                     or below {}, or not significantly above old), or a good last window after \
                     an unclear one with all windows together good; Rollback on new 5xx above \
                     {}, or a rise of {} or more over old with {} standard errors in one window \
                     or {} over the windows together ({} on the ratio), or a flow drop of {} or \
                     more with {} in one window or {} over the windows together",
                    t.max_windows,
                    t.window_secs,
                    t.min_requests,
                    t.good_windows_needed,
                    pct(t.good_error_rate),
                    pct(t.max_error_rate),
                    points(t.max_error_rate_increase),
                    t.window_bad_z,
                    t.bad_z,
                    t.ratio_bad_z,
                    points(t.max_flow_success_drop),
                    t.flow_window_bad_z,
                    t.flow_bad_z,
                )],
                StepName::SpindownWait => vec![match &recycle {
                    Some(p) => format!("fleet.group until {RECYCLE_ACTION} fired (by {})", p.finishes_at),
                    None => format!("fleet.group until {RECYCLE_ACTION} fired"),
                }],
                StepName::ScaleInOld => vec![
                    "fleet_ops scale_in(old): remove scale-in protection from the old instances"
                        .into(),
                ],
                StepName::FollowUp => vec![format!(
                    "wait {} s, monitor.sample again",
                    settings.follow_up_after_secs
                )],
                StepName::SmokeTests if app.smoke_tests.is_empty() => {
                    vec![format!("none configured ([apps.{}] smoke_tests): not asked", app.name)]
                }
                StepName::SmokeTests => vec![format!(
                    "operator: did the smoke tests pass? ({}); no: roll back; {}",
                    app.smoke_tests.join("; "),
                    if req.yes {
                        "--yes: not asked, noted as unconfirmed"
                    } else {
                        "no answer: the run pauses until `resume --decision`"
                    }
                )],
                StepName::CreateRelease => vec![format!(
                    "code_host.create_release({} from the merged PR {pr_text})",
                    rc.as_ref()
                        .map_or_else(|| "the RC".to_string(), |r| format!("RC {r}"))
                )],
                StepName::ReleaseLock => vec![format!("lock.release({env}/{})", app.name)],
                StepName::Report => vec!["notifier.announce(deploy_done)".into()],
                _ => Vec::new(),
            };
            PlannedStep { step, operations }
        })
        .collect();
    Ok(DeployPlan {
        env: env.clone(),
        app: app.name.clone(),
        kind: req.kind,
        planned_at: now,
        steps,
        recycle,
        blockers,
    })
}
