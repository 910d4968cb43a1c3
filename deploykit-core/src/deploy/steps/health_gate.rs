//! `health_gate`: every new instance of every recycled group InService, Healthy and healthy
//! in the load balancer, within the timeout; a progress event on every poll.
//!
//! A group without a load balancer (worker, migration) has only Auto Scaling's health, which
//! reads Healthy throughout the health check grace period (nothing is checked then): its new
//! instances count once past their grace period too ([`Instance::past_grace`], as scale-in
//! requires of the instances it keeps).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, GateVerdict};
use crate::deploy::steps::{StepBody, plus};
use crate::error::Result;
use crate::model::fleet::{HealthStatus, Instance, InstanceId, LbState, Lifecycle};
use crate::model::sha::Sha;

struct GroupHealth {
    line: String,
    ready: bool,
    shas: Vec<Sha>,
}

pub(crate) async fn health_gate(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<StepBody> {
    let timeout = ctx.settings.health_timeout_secs;
    let deadline = plus(started_at, timeout);
    let fleet = &ctx.ports.fleet;
    let recycled: Vec<_> = state
        .facts
        .recycled
        .iter()
        .filter(|r| r.new_desired > r.old_desired)
        .collect();
    if recycled.is_empty() {
        return Ok(StepBody::skipped("no group gained instances"));
    }
    loop {
        let mut lines = Vec::new();
        let mut all_ready = true;
        let mut shas = Vec::new();
        for r in &recycled {
            let h = group_health(
                ctx,
                state,
                r.group.clone(),
                r.new_desired - r.old_desired,
                fleet,
            )
            .await?;
            all_ready &= h.ready;
            shas.extend(h.shas);
            lines.push(h.line);
        }
        let summary = lines.join("; ");
        if all_ready {
            let mut facts = vec![Fact::Verdict(verdict(ctx, "go", &summary))];
            ctx.note("verdict", format!("health gate passed: {summary}"))?;
            if let Some(sha) = most_common(shas) {
                facts.push(Fact::NewSha { sha });
            }
            emit(ctx, "go", &summary);
            return Ok(StepBody::done(summary, facts));
        }
        if ctx.now() >= deadline {
            let why = format!("new instances not healthy after {timeout} s: {summary}");
            ctx.note("verdict", format!("health gate failed: {why}"))?;
            emit(ctx, "failed", &why);
            return Ok(StepBody::gate_failed(
                why.clone(),
                vec![Fact::Verdict(verdict(ctx, "failed", &why))],
            ));
        }
        ctx.waiting(format!("new instances: {summary}"), started_at, timeout);
        ctx.sleep(ctx.settings.poll_secs.max(1)).await;
    }
}

fn verdict(ctx: &StepContext<'_>, v: &str, explanation: &str) -> GateVerdict {
    GateVerdict {
        at: ctx.now(),
        gate: "health".into(),
        verdict: v.into(),
        explanation: explanation.into(),
    }
}

fn emit(ctx: &StepContext<'_>, v: &str, explanation: &str) {
    ctx.events.emit(crate::Event::GateVerdict {
        at: ctx.now(),
        gate: "health".into(),
        verdict: v.into(),
        explanation: explanation.into(),
    });
}

fn most_common(shas: Vec<Sha>) -> Option<Sha> {
    let mut counts: BTreeMap<Sha, usize> = BTreeMap::new();
    for s in shas {
        *counts.entry(s).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(s, _)| s)
}

/// How a new instance of a group without a load balancer stands with its grace period.
fn grace_text(i: &Instance, grace_secs: u64, now: DateTime<Utc>) -> String {
    if i.past_grace(grace_secs, now) {
        format!("{:?}", i.health).to_lowercase()
    } else {
        format!(
            "in its {grace_secs} s health check grace period until {}",
            i.grace_ends(grace_secs).format("%H:%M:%S UTC")
        )
    }
}

async fn group_health(
    ctx: &StepContext<'_>,
    state: &DeployState,
    group: crate::model::fleet::GroupName,
    expected: u32,
    fleet: &std::sync::Arc<dyn crate::ports::Fleet>,
) -> Result<GroupHealth> {
    let old: Vec<InstanceId> = state
        .facts
        .pre_deploy
        .iter()
        .find(|s| s.group == group)
        .map(|s| s.instances.clone())
        .unwrap_or_default();
    let g = ctx
        .retry("read the group", async || fleet.group(&group).await)
        .await?;
    let lb = ctx
        .retry("read load-balancer health", async || {
            fleet.load_balancer_health(&group).await
        })
        .await?;
    let lb_state: BTreeMap<&InstanceId, LbState> =
        lb.iter().map(|t| (&t.instance_id, t.state)).collect();
    let new: Vec<_> = g
        .running_instances()
        .filter(|i| !old.contains(&i.id))
        .collect();
    let mut healthy = 0u32;
    let mut waiting = Vec::new();
    let mut shas = Vec::new();
    let now = ctx.now();
    let grace = g.health_check_grace_secs;
    for i in &new {
        // Without a load balancer, Healthy means something only past the grace period.
        let checked = if lb.is_empty() {
            i.past_grace(grace, now)
        } else {
            lb_state.get(&i.id) == Some(&LbState::Healthy)
        };
        if i.lifecycle == Lifecycle::InService && i.health == HealthStatus::Healthy && checked {
            healthy += 1;
            if let Some(s) = i.deployed_sha() {
                shas.push(s);
            }
        } else if lb.is_empty() {
            waiting.push(format!(
                "{} {} / {}",
                i.id,
                i.lifecycle,
                grace_text(i, grace, now)
            ));
        } else {
            let lb_text = lb_state
                .get(&i.id)
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|| "not registered".into());
            waiting.push(format!(
                "{} {} / lb {}",
                i.id,
                i.lifecycle,
                lb_text.to_lowercase()
            ));
        }
    }
    let mut line = format!("{}: {healthy} of {expected} new instances healthy", g.name);
    if !waiting.is_empty() {
        line.push_str(&format!(" (waiting: {})", waiting.join(", ")));
    }
    Ok(GroupHealth {
        line,
        ready: healthy >= expected,
        shas,
    })
}
