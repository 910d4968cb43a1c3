//! `recycle`: fleet_ops' recycle of the app's main role (idp also recycles worker; migration
//! first unless skipped), exactly once: after an interruption the fleet is asked whether the
//! recycle happened before it is tried again, and a retry over a half-done recycle keeps the
//! baseline capacity, so no group is ever doubled twice.

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, RecycledGroup};
use crate::deploy::steps::{StepBody, main_role};
use crate::error::Result;
use crate::fleet_ops::{
    GroupRecycle, InProgressPolicy, RecycleOutcome, RecycleRequest, recycle as fleet_recycle,
    stopped_before_scale_out,
};
use crate::model::fleet::{Capacity, Group, RECYCLE_ACTION};
use crate::model::names::RoleSelector;

const KEY: &str = "recycle";

/// The request the deploy makes.
pub(crate) fn request(state: &DeployState) -> Result<RecycleRequest> {
    let mut r = RecycleRequest::new(
        state.request.env.clone(),
        RoleSelector::Role(main_role(state)?),
    );
    r.skip_migration = !state.request.kind.runs_migrations();
    Ok(r)
}

/// Whether `g` shows this recycle happened: its timers are on the group, or instances
/// launched since the recycle started run in it. A spindown without a scale-out (done or
/// scheduled) is a recycle stopped part way, not one that happened.
fn recycled_since(g: &Group, since: DateTime<Utc>) -> Option<GroupRecycle> {
    if stopped_before_scale_out(g) {
        return None;
    }
    let spindown = g.recycle_in_progress();
    let delayed = g.delayed_scale_out();
    let launched = g.running_instances().any(|i| i.launch_time >= since);
    if spindown.is_none() && delayed.is_none() && !launched {
        return None;
    }
    let old_desired = spindown
        .and_then(|a| a.change.desired)
        .unwrap_or(g.capacity.desired);
    let new_desired = delayed
        .and_then(|a| a.change.desired)
        .unwrap_or(g.capacity.desired.max(old_desired));
    Some(GroupRecycle {
        group: g.name.clone(),
        old: Capacity {
            desired: old_desired,
            ..g.capacity
        },
        new_desired,
        desired_before: None,
        scale_out_at: delayed.map(|a| a.start_time).unwrap_or(since),
        spindown_at: spindown.map(|a| a.start_time).unwrap_or(since),
    })
}

pub(crate) async fn recycle(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let req = request(state)?;
    if let Some(secs) = ctx.settings.spindown_secs {
        ctx.warn(format!(
            "the spindown override ({secs} s) is not applied: the recycle computes its own \
             spindown delay"
        ));
    }
    let resumed = ctx.was_started(KEY);
    let mut tries = 0u32;
    let fleet = &ctx.ports.fleet;
    let env = &state.request.env;
    let expected: Vec<_> = state
        .facts
        .pre_deploy
        .iter()
        .filter(|s| s.desired > 0)
        .map(|s| s.group.clone())
        .collect();
    let outcome: RecycleOutcome = ctx
        .effect(
            KEY,
            &format!(
                "recycle {} {}{}",
                env,
                req.roles,
                if req.skip_migration {
                    " (skipping migrations)"
                } else {
                    ""
                }
            ),
            async || {
                let Some(since) = ctx.started_at(KEY) else {
                    return Ok(None);
                };
                let groups = fleet.groups(env).await?;
                let done: Vec<GroupRecycle> = groups
                    .iter()
                    .filter(|g| expected.contains(&g.name))
                    .filter_map(|g| recycled_since(g, since))
                    .collect();
                // All or nothing: a half-done recycle is redone over itself (see below).
                if done.len() < expected.len() || done.is_empty() {
                    return Ok(None);
                }
                let migration = if req.skip_migration {
                    None
                } else {
                    groups
                        .iter()
                        .find(|g| g.name.role.as_str() == "migration")
                        .and_then(|g| recycled_since(g, since))
                };
                if !req.skip_migration && migration.is_none() {
                    return Ok(None);
                }
                let finishes_at = done
                    .iter()
                    .chain(migration.iter())
                    .map(|g| g.spindown_at)
                    .max()
                    .unwrap_or(since);
                Ok(Some(RecycleOutcome {
                    migration,
                    groups: done,
                    finishes_at,
                    dry_run: false,
                }))
            },
            async || {
                let mut r = req.clone();
                if resumed || tries > 0 {
                    // Over our own half-done recycle (resumed, or retried after a temporary
                    // error): replace its timers; the baseline stays the capacity before the
                    // deploy, so nothing is doubled twice.
                    r.if_in_progress = InProgressPolicy::Proceed;
                }
                tries += 1;
                fleet_recycle(&ctx.fleet_ctx(), &r).await
            },
        )
        .await?;
    let at = ctx.started_at(KEY).unwrap_or_else(|| ctx.now());
    let groups: Vec<RecycledGroup> = outcome
        .groups
        .iter()
        .map(|g| RecycledGroup {
            group: g.group.clone(),
            old_desired: g.old.desired,
            new_desired: g.new_desired,
            spindown_at: Some(g.spindown_at),
        })
        .collect();
    // The migration instance first, then the app groups, as they were recycled.
    let migration = outcome.migration.as_ref().map(|m| {
        format!(
            "{} {} -> {} (the migration instance first; spindown at {})",
            m.group, m.old.desired, m.new_desired, m.spindown_at
        )
    });
    // A group whose scale-out waits for the migration instance's head start is scheduled,
    // not grown yet: the line says when, so a rollback before then is not read as having
    // launched (and removed) new instances.
    let detail = migration
        .into_iter()
        .chain(outcome.groups.iter().map(|g| {
            let when = if g.scale_out_at > at {
                format!(" at {}", g.scale_out_at)
            } else {
                String::new()
            };
            format!(
                "{} {} -> {}{when} (spindown {RECYCLE_ACTION} at {})",
                g.group, g.old.desired, g.new_desired, g.spindown_at
            )
        }))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(StepBody::done(
        format!("recycled: {detail}"),
        vec![Fact::Recycled { at, groups }],
    ))
}
