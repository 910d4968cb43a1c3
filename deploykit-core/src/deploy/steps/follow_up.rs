//! `follow_up`: an hour after the monitor gate, watch the figures again (only a bad window
//! rolls back: old instances are gone by then, so there is nothing left to compare). The
//! smoke-test checklist is shown as the hour starts; `smoke_tests` asks for its result.

use crate::deploy::context::StepContext;
use crate::deploy::monitor_verdict::Verdict;
use crate::deploy::state::{DeployState, Fact, StepOutcome};
use crate::deploy::steps::monitor_gate::gate_verdict;
use crate::deploy::steps::{StepBody, plus, secs_until, watch};
use crate::error::Result;

/// The app's checks by hand once it is live (`[apps.X] smoke_tests`), as one line.
pub(crate) fn smoke_tests(state: &DeployState) -> String {
    state.request.app.smoke_tests.join("; ")
}

pub(crate) async fn follow_up(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let ended = state.facts.monitor_ended_at.unwrap_or_else(|| ctx.now());
    let at = plus(ended, ctx.settings.follow_up_after_secs);
    let waited_from = ctx.now();
    let total = secs_until(waited_from, at);
    ctx.info(format!(
        "smoke tests to run by hand now: {}",
        smoke_tests(state)
    ));
    loop {
        let left = secs_until(ctx.now(), at);
        if left == 0 {
            break;
        }
        ctx.waiting(format!("the follow-up check at {at}"), waited_from, total);
        ctx.sleep(left.min(300)).await;
    }
    // The old instances are gone by now: the old code's figures from the monitor gate are
    // what the new code is compared with.
    let baseline = super::monitor_gate::monitor_gate_old_total(ctx)?;
    let v = watch(ctx, state, "follow_up", at, baseline).await?;
    let mut facts = Vec::new();
    match v.verdict {
        Verdict::Rollback => {
            ctx.note("verdict", format!("follow-up rollback: {}", v.explanation))?;
            facts.push(Fact::Verdict(gate_verdict(
                ctx,
                "follow_up",
                "rollback",
                &v.explanation,
            )));
            Ok(StepBody {
                outcome: StepOutcome::Verdict {
                    verdict: Verdict::Rollback,
                    explanation: v.explanation.clone(),
                },
                detail: v.explanation,
                facts,
            })
        }
        Verdict::Go | Verdict::Inconclusive => {
            let word = v.verdict.as_str();
            ctx.note("verdict", format!("follow-up {word}: {}", v.explanation))?;
            if v.verdict == Verdict::Inconclusive {
                ctx.warn(format!(
                    "the follow-up check could not judge ({}); check the error dashboards by hand",
                    v.explanation
                ));
            }
            facts.push(Fact::Verdict(gate_verdict(
                ctx,
                "follow_up",
                word,
                &v.explanation,
            )));
            Ok(StepBody::done(v.explanation, facts))
        }
    }
}
