//! `spindown_wait`: wait until every recycled group's spindown ([`RECYCLE_ACTION`]) has
//! fired, i.e. the group is back to its old desired capacity. A spindown that is gone while
//! the group still has the recycle's doubled capacity (someone deleted or changed the
//! scheduled action) stops the run instead of being taken for done.

use crate::deploy::context::StepContext;
use crate::deploy::state::DeployState;
use crate::deploy::steps::{StepBody, plus, secs_until};
use crate::error::{Error, Result};
use crate::model::fleet::RECYCLE_ACTION;

/// How long past the scheduled spindown the wait goes on before giving up.
const GRACE_SECS: u64 = 1800;

pub(crate) async fn spindown_wait(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let fleet = &ctx.ports.fleet;
    let started = ctx.now();
    let last = state
        .facts
        .recycled
        .iter()
        .filter_map(|g| g.spindown_at)
        .max()
        .unwrap_or(started);
    let deadline = plus(last, GRACE_SECS);
    let timeout = secs_until(started, deadline);
    loop {
        let mut pending = Vec::new();
        let mut still_doubled = Vec::new();
        let mut above_old = Vec::new();
        for r in &state.facts.recycled {
            let g = ctx
                .retry("read the group", async || fleet.group(&r.group).await)
                .await?;
            let desired = g.capacity.desired;
            if let Some(a) = g.recycle_in_progress() {
                pending.push((g.name.clone(), a.start_time));
            } else if r.new_desired > r.old_desired && desired >= r.new_desired {
                still_doubled.push(format!(
                    "{} (desired {desired}, {} before the recycle)",
                    g.name, r.old_desired
                ));
            } else if desired > r.old_desired {
                above_old.push(format!(
                    "{} is at {desired}, above its {} before the recycle (scaled out since?)",
                    g.name, r.old_desired
                ));
            }
        }
        if !still_doubled.is_empty() {
            return Err(Error::conflict(format!(
                "the spindown ({RECYCLE_ACTION}) is gone but the recycle's capacity is still \
                 there: {}; someone deleted or changed the scheduled action. Set each group \
                 back to its old desired capacity (deploykit asg size), then resume the run",
                still_doubled.join(", ")
            ))
            .temporary(false));
        }
        if pending.is_empty() {
            let detail = if above_old.is_empty() {
                "every recycled group is back to its old desired capacity".to_string()
            } else {
                format!("the spindowns fired; {}", above_old.join("; "))
            };
            return Ok(StepBody::done(detail, vec![]));
        }
        let now = ctx.now();
        if now >= deadline {
            let list: Vec<String> = pending
                .iter()
                .map(|(g, at)| format!("{g} (due {at})"))
                .collect();
            return Err(Error::timeout(format!(
                "the spindown ({RECYCLE_ACTION}) has not fired {GRACE_SECS} s after it was due: \
                 {}; check the groups' scheduled actions (`deploykit asg size ENV ROLE`), then resume the run",
                list.join(", ")
            ))
            .temporary(false));
        }
        let due = pending.iter().map(|(_, at)| *at).max().unwrap_or(now);
        ctx.waiting(
            format!("the spindown ({RECYCLE_ACTION}) at {due}"),
            started,
            timeout,
        );
        ctx.sleep(secs_until(now, due).clamp(1, ctx.settings.poll_secs.max(1) * 4))
            .await;
    }
}
