//! `monitor_gate`: watch the old and new SHA's figures window by window and decide with the
//! explicit rules of [`crate::deploy::monitor_verdict`]; an inconclusive verdict goes to a
//! person (or, with `--yes`, to the environment's documented policy).

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::monitor_verdict::{
    MonitorVerdict, ShaFigures, Verdict, WindowFigures, WindowJudgement, figures_of,
    judge_instances, judge_window, old_total, rollback_criteria, verdict,
};
use crate::deploy::ports::{Decision, DecisionRequest, MONITOR_GATE};
use crate::deploy::settings::InconclusivePolicy;
use crate::deploy::state::{DeployState, Fact, GateVerdict, OverrideRecord, StepOutcome};
use crate::deploy::steps::{StepBody, main_role, plus, secs_until};
use crate::error::{Error, ErrorKind, Result};
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::monitor::{InstanceSplitSample, MetricsWindow};

/// The old and new SHA to compare.
pub(crate) fn shas(state: &DeployState) -> Result<(Sha, Sha)> {
    let f = &state.facts;
    let new = f
        .new_sha
        .clone()
        .or_else(|| f.merge_sha.clone())
        .or_else(|| f.old_sha.clone())
        .ok_or_else(|| {
            Error::not_found(
                "the monitor gate needs the new SHA, but no instance reported one (gitsha tag) \
                 and no merge is recorded",
            )
        })?;
    let old = f.old_sha.clone().unwrap_or_else(|| new.clone());
    Ok((old, new))
}

/// Watches windows from `start` under the key prefix `prefix` until a verdict; windows are
/// recorded as they are judged, so a resumed run does not watch them again.
pub(crate) async fn watch(
    ctx: &StepContext<'_>,
    state: &DeployState,
    prefix: &str,
    start: DateTime<Utc>,
    baseline_override: Option<ShaFigures>,
) -> Result<MonitorVerdict> {
    let t = &ctx.settings.monitor;
    let (old, new) = shas(state)?;
    let role = main_role(state)?;
    let env = &state.request.env;
    let monitor = &ctx.ports.monitor;
    let config_recycle = baseline_override.is_none() && old.matches(&new);
    let baseline = match baseline_override {
        Some(b) => Some(b),
        None if config_recycle => baseline(ctx, state, prefix, &new).await?,
        None => None,
    };
    // A config recycle is judged old instances against new ones when the monitor can tell
    // them apart; the baseline stands in for a window where it cannot, or where the old
    // instances served nothing (the spindown removed them).
    let old_instances = config_recycle
        .then(|| old_instances(state, env, &role))
        .flatten();
    // What the wait line says is compared: for a config recycle, what the last window was
    // judged on (old instances, or the baseline where the monitor could not split).
    let compared = |last: Option<&WindowFigures>| {
        let by_instance = old_instances.is_some() && last.is_none_or(|w| w.by_instance);
        if by_instance {
            format!("old vs new instances of {}", new.short())
        } else if baseline.is_some() {
            format!("new {} against a baseline of {}", new.short(), old.short())
        } else {
            format!("old {} vs new {}", old.short(), new.short())
        }
    };
    let mut windows: Vec<WindowFigures> = Vec::new();
    let total = t
        .window_secs
        .saturating_mul(u64::from(t.max_windows.max(1)));
    for i in 0..t.max_windows.max(1) {
        let key = format!("{prefix}/window/{i}");
        let figures = match ctx.memo::<WindowFigures>(&key)? {
            Some(w) => w,
            None => {
                let window = MetricsWindow {
                    start: plus(start, t.window_secs.saturating_mul(u64::from(i))),
                    end: plus(start, t.window_secs.saturating_mul(u64::from(i) + 1)),
                };
                loop {
                    let left = secs_until(ctx.now(), window.end);
                    if left == 0 {
                        break;
                    }
                    ctx.waiting(
                        format!(
                            "{prefix}: window {} of {} ({})",
                            i + 1,
                            t.max_windows,
                            compared(windows.last())
                        ),
                        start,
                        total,
                    );
                    ctx.sleep(left.min(ctx.settings.poll_secs.max(1))).await;
                }
                let read = async {
                    let split = match &old_instances {
                        Some(ids) => ctx
                            .retry("read the monitor by instance", async || {
                                monitor.sample_by_instance(env, &role, &window, ids).await
                            })
                            .await?
                            .and_then(InstanceSplitSample::with_old_side),
                        None => None,
                    };
                    Ok::<_, Error>(match split {
                        Some(split) => judge_instances(t, &split),
                        None => {
                            let sample = ctx
                                .retry("read the monitor", async || {
                                    monitor.sample(env, &role, &window).await
                                })
                                .await?;
                            judge_window(t, &old, &new, &sample, baseline.as_ref())
                        }
                    })
                };
                let w = match read.await {
                    Ok(w) => w,
                    // Still failing after the retries (a network blip, throttling): this
                    // window is not judged, and the others decide. An outage over every
                    // window leaves the gate inconclusive, which the environment's policy
                    // settles; it is never taken for a bad deploy on its own.
                    Err(e) if e.is_temporary() && e.kind() != ErrorKind::Interrupted => {
                        unreadable_window(window, &e)
                    }
                    Err(e) => return Err(e),
                };
                ctx.remember(&key, &w)?;
                w
            }
        };
        windows.push(figures);
        if let Some(figures) = windows.last() {
            ctx.info(format!(
                "{prefix} window {}: {}: {}{}",
                i + 1,
                figures.judgement,
                figures.explanation,
                crate::fleet_ops::monitor_trend::window_trend(&windows)
            ));
        }
        if let Some(v) = verdict(t, &windows) {
            return Ok(v);
        }
    }
    // verdict() always decides at max_windows; this is only reached with max_windows 0.
    Ok(MonitorVerdict {
        verdict: Verdict::Inconclusive,
        explanation: "no window was watched".into(),
        windows,
    })
}

/// A window whose figures could not be read (the monitor still failing temporarily after
/// the retries): not judged, saying why.
fn unreadable_window(window: MetricsWindow, e: &Error) -> WindowFigures {
    WindowFigures {
        window,
        old: None,
        new: None,
        old_is_baseline: false,
        by_instance: false,
        judgement: WindowJudgement::NotJudged,
        explanation: format!(
            "the monitor could not be read for this window ({}): not judged, the other \
             windows decide",
            e.message()
        ),
    }
}

/// The instances of `role`'s group that ran before the deploy (a config recycle's old side),
/// `None` when none were recorded.
fn old_instances(state: &DeployState, env: &EnvName, role: &RoleName) -> Option<Vec<InstanceId>> {
    let group = GroupName::new(env, role);
    state
        .facts
        .pre_deploy
        .iter()
        .find(|g| g.group == group)
        .map(|g| g.instances.clone())
        .filter(|ids| !ids.is_empty())
}

/// The old code's figures the monitor gate recorded, added up (the follow-up check's
/// baseline, when the old instances are gone).
pub(crate) fn monitor_gate_old_total(ctx: &StepContext<'_>) -> Result<Option<ShaFigures>> {
    let mut windows = Vec::new();
    for i in 0..ctx.settings.monitor.max_windows.max(1) {
        if let Some(w) = ctx.memo::<WindowFigures>(&format!("monitor_gate/window/{i}"))? {
            windows.push(w);
        }
    }
    // A config recycle's gate compared every window with the same baseline: it counts once.
    Ok(old_total(&windows))
}

/// The SHA's own figures over the window before the recycle (config recycles, where old and
/// new instances run the same SHA), recorded once.
async fn baseline(
    ctx: &StepContext<'_>,
    state: &DeployState,
    prefix: &str,
    sha: &Sha,
) -> Result<Option<ShaFigures>> {
    let key = format!("{prefix}/baseline");
    if let Some(b) = ctx.memo::<Option<ShaFigures>>(&key)? {
        return Ok(b);
    }
    let Some(end) = state.facts.recycled_at else {
        return Ok(None);
    };
    let secs = ctx.settings.monitor.window_secs;
    let window = MetricsWindow {
        start: end - chrono::Duration::seconds(i64::try_from(secs).unwrap_or(300)),
        end,
    };
    let role = main_role(state)?;
    let monitor = &ctx.ports.monitor;
    let env = &state.request.env;
    let sample = ctx
        .retry("read the monitor", async || {
            monitor.sample(env, &role, &window).await
        })
        .await?;
    let b = figures_of(&sample, sha);
    ctx.remember(&key, &b)?;
    Ok(b)
}

pub(crate) fn gate_verdict(
    ctx: &StepContext<'_>,
    gate: &str,
    verdict: &str,
    explanation: &str,
) -> GateVerdict {
    ctx.events.emit(crate::Event::GateVerdict {
        at: ctx.now(),
        gate: gate.into(),
        verdict: verdict.into(),
        explanation: explanation.into(),
    });
    GateVerdict {
        at: ctx.now(),
        gate: gate.into(),
        verdict: verdict.into(),
        explanation: explanation.into(),
    }
}

pub(crate) async fn monitor_gate(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<StepBody> {
    let v = watch(ctx, state, "monitor_gate", started_at, None).await?;
    let mut facts = vec![Fact::MonitorEnded { at: ctx.now() }];
    let rules = "rules: deploy settings' monitor thresholds";
    let (final_verdict, explanation) = match v.verdict {
        Verdict::Go | Verdict::Rollback => (v.verdict, v.explanation.clone()),
        Verdict::Inconclusive => match decide(ctx, state, &v).await? {
            Some((decision, how, record)) => {
                if let Some(o) = record {
                    facts.push(Fact::Override(o));
                }
                let d = match decision {
                    Decision::Go => Verdict::Go,
                    Decision::Rollback => Verdict::Rollback,
                };
                (d, format!("inconclusive ({}); {how}", v.explanation))
            }
            None => {
                let question = question(&v);
                ctx.note(
                    "verdict",
                    format!("monitor gate inconclusive: {}", v.explanation),
                )?;
                facts.push(Fact::Verdict(gate_verdict(
                    ctx,
                    MONITOR_GATE,
                    "inconclusive",
                    &v.explanation,
                )));
                return Ok(StepBody {
                    outcome: StepOutcome::AwaitDecision {
                        question: question.clone(),
                    },
                    detail: question,
                    facts,
                });
            }
        },
    };
    ctx.note(
        "verdict",
        format!(
            "monitor gate {}: {explanation} ({rules})",
            final_verdict.as_str()
        ),
    )?;
    facts.push(Fact::Verdict(gate_verdict(
        ctx,
        MONITOR_GATE,
        final_verdict.as_str(),
        &explanation,
    )));
    Ok(StepBody {
        outcome: StepOutcome::Verdict {
            verdict: final_verdict,
            explanation: explanation.clone(),
        },
        detail: explanation,
        facts,
    })
}

fn question(v: &MonitorVerdict) -> String {
    format!(
        "the monitor gate could not decide: {}. Roll back if any of these is yes: {} \
         Resume the run with a decision (go or rollback).",
        v.explanation,
        rollback_criteria().join(" ")
    )
}

type Decided = (Decision, String, Option<OverrideRecord>);

/// A person's (or the `--yes` policy's) decision on an inconclusive verdict; `None` pauses.
async fn decide(
    ctx: &StepContext<'_>,
    state: &DeployState,
    v: &MonitorVerdict,
) -> Result<Option<Decided>> {
    const KEY: &str = "monitor_gate/decision";
    if let Some(d) = ctx.memo::<Decision>(KEY)? {
        return Ok(Some((
            d,
            format!("decided {} earlier in this run", d.as_str()),
            None,
        )));
    }
    if let Some(op) = &ctx.ports.operator {
        let request = DecisionRequest {
            gate: MONITOR_GATE.into(),
            explanation: v.explanation.clone(),
            criteria: rollback_criteria(),
            windows: v.windows.clone(),
            checks: Vec::new(),
        };
        if let Some(d) = op.decide(&request).await? {
            ctx.remember(KEY, &d)?;
            let record = OverrideRecord {
                at: ctx.now(),
                what: "inconclusive_verdict".into(),
                refusal: v.explanation.clone(),
                reason: format!("{} decided {}", state.request.operator, d.as_str()),
            };
            ctx.note("decision", format!("operator decided {}", d.as_str()))?;
            return Ok(Some((
                d,
                format!("{} decided {}", state.request.operator, d.as_str()),
                Some(record),
            )));
        }
        return Ok(None);
    }
    if state.request.yes {
        let policy = ctx.settings.inconclusive_with_yes;
        let d = match policy {
            InconclusivePolicy::Rollback => Decision::Rollback,
            InconclusivePolicy::Proceed => Decision::Go,
            InconclusivePolicy::Ask => return Ok(None),
        };
        ctx.remember(KEY, &d)?;
        ctx.note(
            "decision",
            format!(
                "--yes: inconclusive verdict treated as {} (the environment's policy is to {})",
                d.as_str(),
                policy.describe()
            ),
        )?;
        return Ok(Some((
            d,
            format!(
                "--yes: the environment's policy for an inconclusive verdict is to {}",
                policy.describe()
            ),
            None,
        )));
    }
    Ok(None)
}
