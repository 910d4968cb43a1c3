//! `smoke_tests`: the guide's steps 8 and 9. Once the new code has served production for an
//! hour (the follow-up check), a person runs the app's checks by hand (`[apps.X]
//! smoke_tests`: sign in, sign up, proofing) and says whether they passed. Only then is the
//! release created; a failure rolls back.
//!
//! Who answers: the operator (the terminal's prompt, a Python callback, or `resume
//! --decision`). Without one, the run pauses here holding the lock, so that `resume` asks
//! again; with `--yes` nobody is asked, the report says the checks were not confirmed and
//! lists the automatic answer among its decisions.

use crate::deploy::context::StepContext;
use crate::deploy::monitor_verdict::rollback_criteria;
use crate::deploy::ports::{Decision, DecisionRequest, SMOKE_TESTS_GATE};
use crate::deploy::state::{DeployState, Fact, StepOutcome};
use crate::deploy::steps::StepBody;
use crate::deploy::steps::follow_up::smoke_tests as checklist;
use crate::deploy::steps::monitor_gate::gate_verdict;
use crate::error::Result;

const KEY: &str = "smoke_tests/decision";

pub(crate) async fn smoke_tests(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let app = &state.request.app;
    if app.smoke_tests.is_empty() {
        return Ok(StepBody::skipped(format!(
            "{} has no smoke tests configured (`[apps.{}] smoke_tests`): nobody was asked",
            app.name, app.name
        )));
    }
    let checks = checklist(state);
    let decided = match ctx.memo::<Decision>(KEY)? {
        Some(d) => Some(d),
        None => match &ctx.ports.operator {
            Some(op) => {
                let request = DecisionRequest {
                    gate: SMOKE_TESTS_GATE.into(),
                    explanation: format!(
                        "the new code has served {} for an hour; run these by hand there and \
                         say whether they passed: {checks}",
                        state.request.env
                    ),
                    criteria: rollback_criteria(),
                    windows: Vec::new(),
                    checks: app.smoke_tests.clone(),
                };
                let d = op.decide(&request).await?;
                if let Some(d) = d {
                    ctx.remember(KEY, &d)?;
                    ctx.note(
                        "decision",
                        format!("smoke tests: operator decided {}", d.as_str()),
                    )?;
                }
                d
            }
            None if state.request.yes => {
                let text = format!(
                    "smoke tests not confirmed: the run was told to go on without asking \
                     (--yes, yes=True, or the demo), so nobody said whether these passed; run \
                     them by hand now: {checks}"
                );
                ctx.warn(text.clone());
                // Answering for nobody is a decision too: the report's decisions show it.
                ctx.note(
                    "decision",
                    format!(
                        "smoke tests: not asked, --yes answered go at {} (nobody confirmed \
                         they passed; the release follows)",
                        ctx.now().format("%H:%M:%S UTC")
                    ),
                )?;
                return Ok(StepBody::done(text.clone(), vec![Fact::note(text)]));
            }
            None => None,
        },
    };
    let who = &state.request.operator;
    match decided {
        Some(Decision::Go) => {
            let text = format!("{who} confirmed the smoke tests passed: {checks}");
            ctx.note("verdict", format!("smoke tests go: {text}"))?;
            let verdict = gate_verdict(ctx, SMOKE_TESTS_GATE, "go", &text);
            Ok(StepBody::done(text, vec![Fact::Verdict(verdict)]))
        }
        Some(Decision::Rollback) => {
            let text =
                format!("{who} said the smoke tests did not all pass (the checks: {checks})");
            ctx.note("verdict", format!("smoke tests rollback: {text}"))?;
            let verdict = gate_verdict(ctx, SMOKE_TESTS_GATE, "rollback", &text);
            Ok(StepBody::gate_failed(text, vec![Fact::Verdict(verdict)]))
        }
        None => {
            let question = format!(
                "did the smoke tests pass in {}? Run these by hand: {checks}. Then answer go \
                 if they passed (the release is created next), or rollback if any failed.",
                state.request.env
            );
            Ok(StepBody {
                outcome: StepOutcome::AwaitDecision {
                    question: question.clone(),
                },
                detail: question,
                facts: Vec::new(),
            })
        }
    }
}
