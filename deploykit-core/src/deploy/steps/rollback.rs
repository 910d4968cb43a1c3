//! The rollback's fleet side: remove the new instances and keep the old ones serving.
//!
//! Each group converges by a loop that reads the group, makes the one change its state calls
//! for, and reads again, so an interrupted rollback resumes safely:
//! 1. a pending delayed scale-out ([`DELAYED_SCALE_OUT_ACTION`]) is deleted: the new
//!    instances never start;
//! 2. while the spindown ([`RECYCLE_ACTION`]) is pending and new instances exist, the old
//!    instances are protected from scale-in first (so no capacity change can pick them),
//!    then the spindown is deleted and the desired capacity set back to what it was before
//!    the deploy: protected old instances stay, unprotected new ones go;
//! 3. new instances still protected (production) lose their protection through fleet_ops'
//!    scale-in of new instances, which checks that every kept (old) instance is Healthy and
//!    InService first;
//! 4. the group terminates the new instances; protection added in step 2 is removed again
//!    where the group did not have it.
//!
//! The migration group, when the recycle ran migrations, converges last the same way, back
//! to its capacity before the recycle (0): its spindown is deleted if still pending, and an
//! instance it kept protected (before or past its spindown) is scaled in, so that no
//! migration instance is left to refuse the next recycle. A resumed rollback's lines say what
//! its earlier attempts removed (the journal has their changes).
//!
//! Healthy in-service capacity never drops below the pre-deploy count: old instances are
//! never unprotected, terminated or drained, and desired never goes below its old value.
//! If the old instances are gone (scaled in after the monitor gate in production, or
//! replaced by the spindown where instances are not protected), there is nothing old to
//! return to: the report says so, and the revert PR is the way back.

use std::collections::BTreeSet;

use crate::deploy::context::StepContext;
use crate::deploy::state::PrFacts;
use crate::deploy::state::{
    DeployState, Fact, GroupSnapshot, RecycledGroup, StepName, StepOutcome,
};
use crate::deploy::steps::release::read_named_pr;
use crate::deploy::steps::{StepBody, app_groups, lock, plus};
use crate::error::{Error, ErrorKind, Result};
use crate::fleet_ops::scale_in::kept_past_spindown;
use crate::fleet_ops::{ScaleInMode, ScaleInRequest, scale_in};
use crate::model::fleet::{
    CapacityChange, DELAYED_SCALE_OUT_ACTION, Group, GroupName, InstanceId, RECYCLE_ACTION,
};
use crate::model::names::{RoleName, RoleSelector};
use crate::model::release_number::ReleaseNumber;
use crate::ports::code_host::PrState;

/// Standalone rollback: check the PR to revert (if any), take the lock, and read from the
/// fleet what the last recycle changed (the spindown's target is the old desired; the oldest instances are the old ones).
pub(crate) async fn rollback_prepare(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<StepBody> {
    // The PR is checked before the lock is taken: a wrong number refuses cleanly, holding
    // nothing.
    let mut facts = Vec::new();
    if let Some(number) = state.request.pr_number {
        let way_on = "--pr (Python: pr=) names the merged promotion PR to revert: give its \
                      number (its title is `Deploy RC <N> to Production`), or leave it out to \
                      roll back only the fleet";
        let pr = match read_named_pr(ctx, number, "read the PR", way_on).await? {
            Ok(pr) => pr,
            Err(refusal) => {
                return Ok(StepBody::refused_as(
                    ErrorKind::InvalidInput,
                    refusal,
                    facts,
                ));
            }
        };
        match (pr.state, pr.merge_commit_sha.clone()) {
            (PrState::Merged, Some(sha)) => facts.push(Fact::Merged { sha }),
            _ => {
                return Ok(StepBody::refused_as(
                    ErrorKind::InvalidInput,
                    format!("PR #{number} is not merged: there is nothing to revert"),
                    facts,
                ));
            }
        }
        facts.push(Fact::Pr(PrFacts {
            number,
            rc: ReleaseNumber::from_pr_title(&pr.title).ok(),
            reverts: ReleaseNumber::from_revert_title(&pr.title).ok(),
            title: pr.title,
            url: pr.html_url,
            head_sha: pr.head_sha,
            body: pr.body,
        }));
    }
    match lock::acquire(ctx, state).await? {
        Ok(owner) => facts.push(Fact::LockTaken { owner }),
        Err(refusal) => return Ok(StepBody::refused_as(ErrorKind::Unsafe, refusal, facts)),
    }
    let fleet = &ctx.ports.fleet;
    let env = &state.request.env;
    let groups = ctx
        .retry("read the fleet", async || fleet.groups(env).await)
        .await?;
    let wanted = app_groups(state);
    if !groups.iter().any(|g| wanted.contains(&g.name)) {
        let names: Vec<String> = wanted.iter().map(ToString::to_string).collect();
        return Ok(StepBody::refused_as(
            ErrorKind::NotFound,
            format!(
                "{env} has none of {}'s Auto Scaling groups ({}): check the environment's name \
                 (`deploykit servers ls -e {env}` lists its groups)",
                state.request.app.name,
                names.join(", ")
            ),
            facts,
        ));
    }
    let mut snaps = Vec::new();
    let mut recycled = Vec::new();
    // Groups whose last recycle is over, with how many instances serve.
    let mut settled: Vec<(&GroupName, usize)> = Vec::new();
    for g in groups.iter().filter(|g| wanted.contains(&g.name)) {
        let old_desired = g
            .recycle_in_progress()
            .and_then(|a| a.change.desired)
            .unwrap_or(g.capacity.desired);
        let running = g.counted_oldest_first();
        let keep = usize::try_from(old_desired).unwrap_or(usize::MAX);
        if g.recycle_in_progress().is_none()
            && g.delayed_scale_out().is_none()
            && running.len() <= keep
        {
            // The last recycle is over and its old instances are gone: every instance
            // serving runs what it deployed, and there is nothing newer to remove.
            settled.push((&g.name, running.len()));
            continue;
        }
        let old: Vec<InstanceId> = running.iter().take(keep).map(|i| i.id.clone()).collect();
        snaps.push(GroupSnapshot {
            group: g.name.clone(),
            desired: old_desired,
            healthy_in_service: u32::try_from(old.len()).unwrap_or(u32::MAX),
            instances: old,
        });
        recycled.push(RecycledGroup {
            group: g.name.clone(),
            old_desired,
            new_desired: g.capacity.desired,
            spindown_at: g.recycle_in_progress().map(|a| a.start_time),
        });
    }
    if snaps.is_empty() && state.request.pr_number.is_none() {
        return Ok(StepBody::refused_as(
            ErrorKind::InvalidInput,
            format!(
                "nothing to roll back in {env}: no recycle in progress and no instance beyond \
                 the desired capacity in {}, and no merged promotion PR was named to revert \
                 (--pr N; pr= in Python). The code serving is what the last deploy shipped: \
                 name its PR to open the revert of {}",
                settled
                    .iter()
                    .map(|(g, _)| g.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                state.request.app.production_branch
            ),
            facts,
        ));
    }
    facts.extend(settled.iter().map(|(g, _)| Fact::NewCodeStays {
        group: (*g).clone(),
    }));
    let settled: Vec<String> = settled
        .iter()
        .map(|(g, serving)| {
            format!(
                "{g}: no recycle in progress and no extra instance; the {serving} instance(s) \
                 serving stay until the revert is deployed"
            )
        })
        .collect();
    let detail = snaps
        .iter()
        .map(|s| format!("{}: keep {} old instances", s.group, s.instances.len()))
        .chain(settled.iter().cloned())
        .collect::<Vec<_>>()
        .join(", ");
    facts.extend(settled.into_iter().map(Fact::note));
    facts.push(Fact::PreDeploy { groups: snaps });
    facts.push(Fact::Recycled {
        at: ctx.now(),
        groups: recycled,
    });
    Ok(StepBody::done(detail, facts))
}

pub(crate) async fn rollback_scale_in_new(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<StepBody> {
    if state.facts.recycled_at.is_none() {
        return Ok(StepBody::skipped(
            "nothing was recycled: no instance to remove",
        ));
    }
    let mut lines = Vec::new();
    let mut facts = Vec::new();
    for snap in &state.facts.pre_deploy {
        if !state.facts.recycled.iter().any(|r| r.group == snap.group) {
            continue;
        }
        let done = converge(ctx, state, snap).await?;
        if done.old_gone {
            facts.push(Fact::note(done.line.clone()));
            facts.push(Fact::NewCodeStays {
                group: snap.group.clone(),
            });
        }
        lines.push(done.line);
    }
    // The migration instance the recycle started goes too, once the app groups serve from
    // their old instances again: a protected one would outlive its spindown and refuse the
    // next recycle.
    if let Some(snap) = migration_snapshot(ctx, state).await? {
        lines.push(converge(ctx, state, &snap).await?.line);
    }
    if lines.is_empty() {
        return Ok(StepBody::skipped(
            "no group has a recycle in progress or instances beyond its desired capacity: \
             nothing to remove",
        ));
    }
    Ok(StepBody::done(lines.join("; "), facts))
}

/// The migration group as the rollback converges it, when the recycle rolled back ran
/// migrations and left the group something to undo: its spindown still pending, or an
/// instance kept (protected from scale-in) past it. Its instances before the recycle are
/// the oldest of its old desired capacity (none: it rests at 0). Recorded before any change,
/// so a resumed rollback converges it to the same capacity even after its spindown, which
/// said what that capacity was, is gone.
async fn migration_snapshot(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<Option<GroupSnapshot>> {
    if !state.request.kind.runs_migrations() {
        return Ok(None);
    }
    let name = GroupName::new(&state.request.env, &RoleName::migration());
    let key = format!("rollback/{name}/before");
    if let Some(snap) = ctx.memo::<GroupSnapshot>(&key)? {
        return Ok(Some(snap));
    }
    let fleet = &ctx.ports.fleet;
    let g = match ctx
        .retry("read the migration group", async || {
            fleet.group(&name).await
        })
        .await
    {
        Ok(g) => g,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let spindown = g.recycle_in_progress();
    if spindown.is_none() && !kept_past_spindown(&g) {
        return Ok(None);
    }
    let desired = spindown
        .and_then(|a| a.change.desired)
        .unwrap_or(g.capacity.desired);
    let old: Vec<InstanceId> = g
        .counted_oldest_first()
        .iter()
        .take(usize::try_from(desired).unwrap_or(usize::MAX))
        .map(|i| i.id.clone())
        .collect();
    let snap = GroupSnapshot {
        group: g.name.clone(),
        desired,
        healthy_in_service: u32::try_from(old.len()).unwrap_or(u32::MAX),
        instances: old,
    };
    ctx.remember(&key, &snap)?;
    Ok(Some(snap))
}

/// Whether this run scaled in the old instances (production, after the monitor gate).
fn scaled_in_old(state: &DeployState) -> bool {
    state
        .steps
        .iter()
        .any(|s| s.step == StepName::ScaleInOld && s.outcome == StepOutcome::Done)
}

async fn read(ctx: &StepContext<'_>, snap: &GroupSnapshot) -> Result<Group> {
    let fleet = &ctx.ports.fleet;
    ctx.retry("read the group", async || fleet.group(&snap.group).await)
        .await
}

fn ok_if_gone(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// What earlier attempts of this rollback did to a group, as the journal recorded it.
struct Earlier {
    /// New instances were there: it protected the old ones against their removal, set the
    /// desired capacity back down, or scaled the new ones in.
    saw_new: bool,
    /// It deleted a scale-out that had not happened yet.
    cancelled_scale_out: bool,
}

fn earlier(ctx: &StepContext<'_>, name: &GroupName) -> Result<Earlier> {
    let done = |what: &str| -> Result<bool> {
        let key = format!("rollback/{name}/{what}");
        Ok(ctx.memo::<serde_json::Value>(&key)?.is_some())
    };
    Ok(Earlier {
        saw_new: done("protect_old")? || done("restore_desired")? || done("scale_in_new")?,
        cancelled_scale_out: done("delete_delayed_scale_out")?,
    })
}

/// How one group's rollback ended.
struct Converged {
    /// What happened, for people.
    line: String,
    /// The old instances were already gone (nothing old to return to): the report notes it.
    old_gone: bool,
}

async fn converge(
    ctx: &StepContext<'_>,
    state: &DeployState,
    snap: &GroupSnapshot,
) -> Result<Converged> {
    let fleet = &ctx.ports.fleet;
    let name = &snap.group;
    let old: BTreeSet<&InstanceId> = snap.instances.iter().collect();
    let protected_key = format!("rollback/{name}/protected_by_us");
    let mut protected_by_us: Vec<InstanceId> = ctx.memo(&protected_key)?.unwrap_or_default();
    let deadline = plus(ctx.now(), ctx.settings.health_timeout_secs);
    let started = ctx.now();
    let mut step = 0u32;
    let key = |what: &str| format!("rollback/{name}/{what}");
    // Whether new instances ever ran or were asked for, and whether this rollback deleted a
    // scale-out that had not happened yet: the group's line says which it was. An earlier
    // attempt of this run may have done either, leaving nothing to see in the group now.
    let Earlier {
        mut saw_new,
        mut cancelled_scale_out,
    } = earlier(ctx, name)?;
    let migration = name.role == RoleName::migration();
    let result =
        loop {
            step += 1;
            if step > 200 {
                return Err(Error::backend(format!(
                    "rolling back {name} did not settle after 200 changes; check the group by hand \
                 (`deploykit servers ls -e ENV`) and resume"
                )));
            }
            let g = read(ctx, snap).await?;
            // Standby instances neither serve nor go with the group's desired capacity.
            let running: Vec<_> = g.counted_instances().collect();
            let old_running: Vec<_> = running.iter().filter(|i| old.contains(&i.id)).collect();
            let new_running: Vec<_> = running.iter().filter(|i| !old.contains(&i.id)).collect();
            let has = |n: &str| g.scheduled_actions.iter().any(|a| a.name == n);
            saw_new |= !new_running.is_empty() || g.capacity.desired > snap.desired;

            if has(DELAYED_SCALE_OUT_ACTION) {
                cancelled_scale_out = true;
                ctx.act(
                    &key("delete_delayed_scale_out"),
                    &format!(
                        "delete {DELAYED_SCALE_OUT_ACTION} on {name}: the new instances never start"
                    ),
                    async || {
                        ok_if_gone(
                            fleet
                                .delete_scheduled_action(name, DELAYED_SCALE_OUT_ACTION)
                                .await,
                        )
                    },
                )
                .await?;
                continue;
            }
            if has(RECYCLE_ACTION) {
                let grown = !new_running.is_empty() || g.capacity.desired > snap.desired;
                let unprotected: Vec<InstanceId> = old_running
                    .iter()
                    .filter(|i| !i.protected_from_scale_in)
                    .map(|i| i.id.clone())
                    .collect();
                if grown && !unprotected.is_empty() {
                    // Recorded before the change, so a resumed run knows what to give back.
                    protected_by_us.extend(unprotected.iter().cloned());
                    ctx.remember(&protected_key, &protected_by_us)?;
                    ctx.act(
                    &key("protect_old"),
                    &format!(
                        "protect {} old instance(s) of {name} from scale-in while the new ones go",
                        unprotected.len()
                    ),
                    async || fleet.set_scale_in_protection(name, &unprotected, true).await,
                )
                .await?;
                    continue;
                }
                ctx.act(
                    &key("delete_spindown"),
                    &format!(
                        "delete {RECYCLE_ACTION} on {name} (the rollback sets the capacity itself)"
                    ),
                    async || ok_if_gone(fleet.delete_scheduled_action(name, RECYCLE_ACTION).await),
                )
                .await?;
                continue;
            }
            if g.capacity.desired > snap.desired {
                ctx.act(
                    &key("restore_desired"),
                    &format!(
                        "set {name} desired {} -> {} (its capacity before the deploy)",
                        g.capacity.desired, snap.desired
                    ),
                    async || {
                        fleet
                            .set_capacity(name, CapacityChange::desired(snap.desired))
                            .await
                    },
                )
                .await?;
                continue;
            }
            if new_running.is_empty() && migration {
                let what = if saw_new {
                    "the migration instance removed"
                } else {
                    "no migration instance running"
                };
                break Converged {
                    line: format!("{name}: {what}"),
                    old_gone: false,
                };
            }
            if new_running.is_empty() {
                let what = match (saw_new, cancelled_scale_out) {
                    (true, _) => "new instances removed",
                    (false, true) => "its scale-out was cancelled before it ran",
                    (false, false) => "no new instance running",
                };
                break Converged {
                    line: format!(
                        "{name}: {what}, {} old instance(s) serving",
                        old_running.len()
                    ),
                    old_gone: false,
                };
            }
            if old_running.len() < usize::try_from(snap.desired).unwrap_or(usize::MAX) {
                let by = if scaled_in_old(state) {
                    "scaled in after the monitor gate"
                } else {
                    "replaced by the spindown"
                };
                break Converged {
                    line: format!(
                        "{name}: the old instances are already gone, {by} ({} of {} left); the \
                         new code stays until the revert is deployed",
                        old_running.len(),
                        snap.desired
                    ),
                    old_gone: true,
                };
            }
            if new_running.iter().any(|i| i.protected_from_scale_in) {
                let req = ScaleInRequest {
                    env: state.request.env.clone(),
                    roles: RoleSelector::Role(name.role.clone()),
                    mode: ScaleInMode::New,
                    dry_run: false,
                };
                ctx.act(
                    &key("scale_in_new"),
                    &format!("scale in new instances of {name}"),
                    async || scale_in(&ctx.fleet_ctx(), &req).await,
                )
                .await?;
                continue;
            }
            if ctx.now() >= deadline {
                return Err(Error::timeout(format!(
                    "{name} still runs {} new instance(s) {} s into the rollback; check the group \
                 (`deploykit servers ls -e ENV`) and resume",
                    new_running.len(),
                    ctx.settings.health_timeout_secs
                ))
                .temporary(false));
            }
            ctx.waiting(
                format!(
                    "{} new instance(s) of {name} to terminate",
                    new_running.len()
                ),
                started,
                ctx.settings.health_timeout_secs,
            );
            ctx.sleep(ctx.settings.poll_secs.max(1)).await;
        };
    // Give back protection the group did not have (groups that do not protect instances).
    let g = read(ctx, snap).await?;
    let to_clear: Vec<InstanceId> = g
        .running_instances()
        .filter(|i| protected_by_us.contains(&i.id) && i.protected_from_scale_in)
        .map(|i| i.id.clone())
        .collect();
    if !to_clear.is_empty() {
        ctx.act(
            &format!("rollback/{name}/unprotect_old"),
            &format!(
                "remove the temporary scale-in protection from {} old instance(s) of {name}",
                to_clear.len()
            ),
            async || fleet.set_scale_in_protection(name, &to_clear, false).await,
        )
        .await?;
    }
    Ok(result)
}
