//! `--dry-run`: the plan of a deploy — every step, the port operations it would call and
//! the numbers (groups, desired capacities, spindown times) — computed from reads only.

use crate::deploy::ports::DeployPorts;
use crate::deploy::request::DeployRequest;
use crate::deploy::settings::EnvSettings;
use crate::deploy::state::StepName;
use crate::deploy::step::rollout_steps;
use crate::error::Result;
use crate::fleet_ops::{RecyclePlan, plan_recycle};
use crate::model::fleet::{DELAYED_SCALE_OUT_ACTION, RECYCLE_ACTION};

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
    /// The steps, in order.
    pub steps: Vec<PlannedStep>,
    /// The recycle's numbers, when the fleet allows it now.
    pub recycle: Option<RecyclePlan>,
    /// What would stop the deploy now (a refusal preflight would give), if anything.
    pub blockers: Vec<String>,
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
    if req.kind.ships_code() && req.pr_number.is_none() {
        blockers.push(format!(
            "a {} deploy needs the promotion PR's number",
            req.kind
        ));
    }
    if let Some(n) = req.pr_number.filter(|_| req.kind.ships_code()) {
        match ports.code_host.pull_request(n).await {
            Ok(pr) if pr.state != crate::ports::PrState::Open => {
                blockers.push(format!("PR #{n} is not open"))
            }
            Ok(_) => {}
            Err(e) => blockers.push(format!("PR #{n}: {e}")),
        }
    }
    if let Some(h) = ports.lock.holder(env, &app.name).await?
        && !h.has_expired(now)
    {
        blockers.push(format!("the deploy lock is held by {}", h.owner));
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
    let recycle = match plan_recycle(&groups, &rreq, now) {
        Ok(p) => Some(p),
        Err(e) => {
            blockers.push(format!("recycle: {e}"));
            None
        }
    };
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
                        ops.push("policy: no-migration risk (migrations or assets changed)".into());
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
                            let out = if g.scale_out_at > p.planned_at {
                                format!(
                                    "fleet.put_scheduled_action({}, {DELAYED_SCALE_OUT_ACTION} at \
                                     {}: desired {} -> {})",
                                    g.group, g.scale_out_at, g.old.desired, g.new_desired
                                )
                            } else {
                                format!(
                                    "fleet.set_capacity({}, desired {} -> {})",
                                    g.group, g.old.desired, g.new_desired
                                )
                            };
                            format!(
                                "{out}; fleet.put_scheduled_action({}, {RECYCLE_ACTION} at {}: \
                                 desired back to {})",
                                g.group, g.spindown_at, g.old.desired
                            )
                        })
                        .collect(),
                    None => vec!["(the recycle cannot be planned now: see blockers)".into()],
                },
                StepName::MigrationGate => vec![format!(
                    "logs.read_log(newest {env}-migration instance) until the final marker, an \
                     error, or {} s",
                    settings.migration_timeout_secs
                )],
                StepName::HealthGate => vec![format!(
                    "fleet.group / load_balancer_health every {} s until every new instance is \
                     InService and healthy, or {} s",
                    settings.poll_secs, settings.health_timeout_secs
                )],
                StepName::MonitorGate => vec![format!(
                    "monitor.sample: up to {} windows of {} s; Go after {} good windows in a row \
                     (new 5xx <= {} or not significantly above old), or a good last window \
                     after an unclear one with all windows together good; Rollback on new 5xx > {}, or a \
                     rise of >= {} over old with >= {} standard errors in one window or >= {} \
                     over the windows together ({} on the ratio), or a flow drop >= {} with >= \
                     {} in one window or >= {} over the windows together; at least {} requests \
                     to judge",
                    t.max_windows,
                    t.window_secs,
                    t.good_windows_needed,
                    t.good_error_rate,
                    t.max_error_rate,
                    t.max_error_rate_increase,
                    t.window_bad_z,
                    t.bad_z,
                    t.ratio_bad_z,
                    t.max_flow_success_drop,
                    t.flow_window_bad_z,
                    t.flow_bad_z,
                    t.min_requests
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
                    "wait {} s, monitor.sample again; smoke tests by hand: sign in, sign up, \
                     proofing",
                    settings.follow_up_after_secs
                )],
                StepName::CreateRelease => {
                    vec!["code_host.create_release(RC N from the merged PR)".into()]
                }
                StepName::ReleaseLock => vec![format!("lock.release({env}/{})", app.name)],
                StepName::Report => vec!["notifier.announce(deploy_done)".into()],
                _ => Vec::new(),
            };
            PlannedStep { step, operations }
        })
        .collect();
    Ok(DeployPlan {
        steps,
        recycle,
        blockers,
    })
}
