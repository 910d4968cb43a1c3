//! `spindown_wait`: wait until every recycled group's spindown ([`RECYCLE_ACTION`]) has
//! fired, i.e. the group is back to its old desired capacity.

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
        for r in &state.facts.recycled {
            let g = ctx
                .retry("read the group", async || fleet.group(&r.group).await)
                .await?;
            if let Some(a) = g.recycle_in_progress() {
                pending.push((g.name.clone(), a.start_time));
            }
        }
        if pending.is_empty() {
            return Ok(StepBody::done(
                "every recycled group is back to its old desired capacity",
                vec![],
            ));
        }
        let now = ctx.now();
        if now >= deadline {
            let list: Vec<String> = pending
                .iter()
                .map(|(g, at)| format!("{g} (due {at})"))
                .collect();
            return Err(Error::timeout(format!(
                "the spindown ({RECYCLE_ACTION}) has not fired {GRACE_SECS} s after it was due: \
                 {}; check the groups' scheduled actions (asg-size), then resume the run",
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
