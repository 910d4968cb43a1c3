//! `deploykit deploy`, `rollback` and `resume`: the guided production deploy.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use deploykit_core::deploy::state::StepOutcome;
use deploykit_core::deploy::{
    self, Decision, DecisionFor, DecisionRequest, DeployOutcome, DeployRequest, FileJournal,
    FinalStatus, Journal, Operator, RollbackRequest, RunId, StepName,
};
use deploykit_core::notify::redact_config_diff;
use deploykit_core::release;
use deploykit_core::report::duration_text;
use deploykit_core::{AppSettings, DeployKind, EnvName, Error, Result};

use crate::args::{DeployArgs, ResumeArgs, RollbackArgs};
use crate::backends::deploy_ports;
use crate::commands::Invocation;
use crate::commands::sandbox_pr::{Prepared, sandbox_promotion_pr, sandbox_revert_pr};
use crate::exit;
use crate::output::print_result;
use crate::prompt::{all_of_stdin, ask};
use crate::run_tracker::TrackedJournal;

/// One line for a final status.
pub fn status_line(status: &FinalStatus) -> String {
    status.summary()
}

/// One line for a step record.
pub fn step_line(step: &deploy::state::StepRecord) -> String {
    let secs = (step.finished_at - step.started_at).num_seconds();
    // In words: a gate's verdict as the verdict itself (`go`, `rollback`), `gate failed`,
    // `awaiting decision`.
    let outcome = match &step.outcome {
        StepOutcome::Done => "done",
        StepOutcome::Skipped => "skipped",
        StepOutcome::Refused { .. } => "refused",
        StepOutcome::GateFailed { .. } => "gate failed",
        StepOutcome::Verdict { verdict, .. } => verdict.as_str(),
        StepOutcome::AwaitDecision { .. } => "awaiting decision",
        StepOutcome::Failed { .. } => "failed",
    };
    format!(
        "{} {:<21} {:<17} {:>8}  {}",
        step.started_at.format("%H:%M:%S"),
        step.step.as_str(),
        outcome,
        duration_text(secs),
        step.detail
    )
}

fn exit_code(status: &FinalStatus) -> u8 {
    match status {
        FinalStatus::Deployed => exit::OK,
        FinalStatus::RolledBack { .. } => exit::ROLLED_BACK,
        FinalStatus::Stopped {
            refused_as: Some(kind),
            ..
        } => exit::code_for_kind(*kind),
        FinalStatus::Paused { .. } => exit::PAUSED,
        FinalStatus::Stopped { .. } => exit::FAILED,
    }
}

/// Until when a paused run's deploy lock holds (`None` when the run is not paused, or the
/// lock cannot be read: the outcome is printed all the same).
async fn paused_lock_until(
    ports: &deploy::DeployPorts,
    outcome: &DeployOutcome,
    env: &EnvName,
    app: &deploykit_core::AppName,
) -> Option<chrono::DateTime<chrono::Utc>> {
    if !matches!(outcome.status, FinalStatus::Paused { .. }) {
        return None;
    }
    let holder = ports.lock.holder(env, app).await.ok()??;
    holder
        .owner
        .contains(&outcome.run_id)
        .then_some(holder.expires_at)
}

fn print_outcome(
    inv: &Invocation<'_>,
    outcome: &DeployOutcome,
    lock_until: Option<chrono::DateTime<chrono::Utc>>,
) -> u8 {
    print_result(inv.format, outcome, || {
        let mut out = format!("run {}: {}\n", outcome.run_id, status_line(&outcome.status));
        for step in &outcome.steps {
            out.push_str(&format!("  {}\n", step_line(step)));
        }
        for v in &outcome.verdicts {
            out.push_str(&format!(
                "  gate {} -> {}: {}\n",
                v.gate, v.verdict, v.explanation
            ));
        }
        for note in &outcome.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        if let Some(url) = &outcome.release_url {
            out.push_str(&format!("release: {url}\n"));
        }
        if let Some(url) = &outcome.revert_pr_url {
            out.push_str(&format!("revert PR: {url}\n"));
        }
        if let FinalStatus::Paused { .. } = outcome.status {
            if inv.cli.sandbox {
                out.push_str(
                    "a sandboxed run cannot be resumed (its world is gone with this command): \
                     run it again with --yes, or answer at the prompt\n",
                );
            } else {
                out.push_str(&format!(
                    "continue with: deploykit resume {} --decision go|rollback\n",
                    outcome.run_id
                ));
                if let Some(until) = lock_until {
                    out.push_str(&format!(
                        "the run holds the deploy lock until {}; after that another deploy may \
                         take it (resume takes it back if it is free)\n",
                        until.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
            }
        }
        out.trim_end().to_string()
    });
    exit_code(&outcome.status)
}

/// Asks the person at the terminal when a gate cannot decide.
#[derive(Debug)]
struct TerminalOperator;

#[async_trait]
impl Operator for TerminalOperator {
    async fn decide(&self, request: &DecisionRequest) -> Result<Option<Decision>> {
        if request.is_smoke_tests() {
            return ask_smoke_tests(request).await;
        }
        {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "\nThe {} gate cannot decide: {}",
                request.gate, request.explanation
            );
            let _ = writeln!(err, "Roll back if any of these is yes:");
            for c in &request.criteria {
                let _ = writeln!(err, "  - {c}");
            }
        }
        ask_until_understood(
            "Go on or roll back? [go/rollback/later]",
            |answer| match answer {
                "go" | "g" => Some(Some(Decision::Go)),
                "rollback" | "r" => Some(Some(Decision::Rollback)),
                "later" | "l" => Some(None),
                _ => None,
            },
        )
        .await
    }
}

/// Asks `question` until `understood` makes sense of the answer (`Some`), at most three
/// times: a typo is asked again rather than taken for "later"; after three answers it cannot
/// read (or a closed input), the run pauses as with "later".
async fn ask_until_understood(
    question: &str,
    understood: impl Fn(&str) -> Option<Option<Decision>>,
) -> Result<Option<Decision>> {
    for _ in 0..3 {
        let answer = ask(question).await?.to_ascii_lowercase();
        if let Some(decision) = understood(&answer) {
            return Ok(decision);
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{answer:?} is not one of the answers in brackets; the run pauses after three"
        );
    }
    Ok(None)
}

/// The guide's steps 8 and 9 at the terminal: the checks to run by hand, then whether they
/// passed (a no rolls back; anything else asks again on `resume`).
async fn ask_smoke_tests(request: &DecisionRequest) -> Result<Option<Decision>> {
    {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "\nThe new code has served production for an hour. Test the app there by hand:"
        );
        for c in &request.checks {
            let _ = writeln!(err, "  - {c}");
        }
        let _ = writeln!(
            err,
            "If everything looks good, the release is created next; if not, the deploy rolls back."
        );
    }
    ask_until_understood(
        "Did the smoke tests pass? [yes/no/later]",
        |answer| match answer {
            "yes" | "y" | "go" => Some(Some(Decision::Go)),
            "no" | "n" | "rollback" => Some(Some(Decision::Rollback)),
            "later" | "l" => Some(None),
            _ => None,
        },
    )
    .await
}

/// Who answers a gate's question: `answer` (`resume --decision`, for the gate the run is
/// paused at) answers only that question; anything else is asked at the terminal, if there
/// is one and no `--yes`.
fn operator(inv: &Invocation<'_>, answer: Option<DecisionFor>) -> Option<Arc<dyn Operator>> {
    let terminal: Option<Arc<dyn Operator>> = (!inv.cli.yes && std::io::stdin().is_terminal())
        .then(|| Arc::new(TerminalOperator) as Arc<dyn Operator>);
    match answer {
        Some(answer) => Some(Arc::new(DecisionFor {
            otherwise: terminal,
            ..answer
        })),
        None => terminal,
    }
}

/// The run journal ([`Invocation::journal`]), with what is written to it noted in `inv.runs`.
fn journal(inv: &Invocation<'_>) -> Result<TrackedJournal<FileJournal>> {
    Ok(inv.runs.journal(inv.journal()?))
}

fn whoami() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    format!("{user}@{}", host.trim())
}

/// The configured settings of `app`; InvalidInput for an app the configuration does not know.
pub(crate) fn app_settings(inv: &Invocation<'_>, app: &str) -> Result<AppSettings> {
    inv.config()?.app(app)
}

/// The `--config-diff` of a config recycle, read from its file (`-`: standard input) and
/// redacted with the configuration's rules before anything else sees it.
async fn config_diff(
    config: &deploykit_core::config::EffectiveConfig,
    kind: DeployKind,
    path: Option<&Path>,
) -> Result<Option<String>> {
    let Some(path) = path else {
        return Ok(None);
    };
    if kind != DeployKind::ConfigRecycle {
        return Err(Error::invalid_input(format!(
            "--config-diff is announced by config recycles only, but this is {} deploy; \
             pass --kind config-recycle or drop --config-diff",
            kind.with_article()
        )));
    }
    let text = if path == Path::new("-") {
        all_of_stdin().await.map_err(|e| {
            Error::invalid_input(format!(
                "could not read the configuration diff from standard input: {e}"
            ))
        })?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!(
                "could not read the configuration diff {}: {e}; check the path",
                path.display()
            ))
        })?
    };
    let rules = config.redaction_rules()?;
    Ok(Some(redact_config_diff(text.trim_end(), &rules)))
}

/// `deploykit deploy ENV APP`.
pub async fn deploy(inv: &Invocation<'_>, args: &DeployArgs) -> Result<u8> {
    let config = inv.config()?;
    let env: EnvName = args.env.parse()?;
    config.configured_env(&env)?;
    let app = app_settings(inv, &args.app)?;
    let kind: DeployKind = args.kind.parse()?;
    let diff = config_diff(&config, kind, args.config_diff.as_deref()).await?;
    let settings = config.env_settings(&env);
    let mut req = DeployRequest::new(env.clone(), app.clone(), kind, &whoami());
    req.reason = args.reason.clone();
    req.cadence_override = args.override_cadence.clone();
    req.no_migration_override = args.override_no_migration.clone();
    req.config_diff = diff;
    req.yes = inv.cli.yes;
    // Bad input is refused before a sandboxed PR is cut or a real one looked up.
    deploy::check_inputs(&req, &settings)?;
    let (mut ports, world) = deploy_ports(inv.cli.sandbox, &config, &app, &env).await?;
    ports.operator = operator(inv, None);
    let mut pr = args.pr;
    if let (Some(world), None, DeployKind::Revert) = (&world, pr, kind) {
        // A fresh simulated world has nothing to revert: ship an RC and open its revert.
        let revert = sandbox_revert_pr(
            world,
            ports.code_host.as_ref(),
            ports.clock.as_ref(),
            &app,
            &inv.sink,
        )
        .await?;
        pr = Some(revert);
    }
    if let (Some(world), None, true) = (&world, pr, kind.ships_code()) {
        // A fresh simulated world has no promotion PR yet: cut one (a patch RC for a patch
        // deploy) and approve it.
        pr = Some(
            sandbox_promotion_pr(
                world,
                ports.code_host.as_ref(),
                ports.clock.as_ref(),
                &app,
                kind == DeployKind::Patch,
                Prepared::Approved,
                |_| String::new(),
                &inv.sink,
            )
            .await?,
        );
    }
    if kind.ships_code() {
        req.pr_number = Some(match pr {
            Some(n) => n,
            None if kind == DeployKind::Revert => {
                release::open_revert_pr(ports.code_host.as_ref(), &app)
                    .await?
                    .number
            }
            None => {
                release::open_promotion_pr(ports.code_host.as_ref(), &app)
                    .await?
                    .0
                    .number
            }
        });
    }
    if args.dry_run {
        let plan = deploy::plan(&ports, &settings, &req).await?;
        print_result(inv.format, &plan, || plan.render());
        return Ok(if plan.blockers.is_empty() {
            exit::OK
        } else {
            exit::FAILED
        });
    }
    let journal = journal(inv)?;
    let outcome = deploy::deploy(&ports, &settings, &journal, &inv.sink, &req).await?;
    let lock_until = paused_lock_until(&ports, &outcome, &req.env, &app.name).await;
    Ok(print_outcome(inv, &outcome, lock_until))
}

/// `deploykit rollback ENV APP --reason ...`.
pub async fn rollback(inv: &Invocation<'_>, args: &RollbackArgs) -> Result<u8> {
    let config = inv.config()?;
    let env: EnvName = args.env.parse()?;
    config.configured_env(&env)?;
    let app = app_settings(inv, &args.app)?;
    let settings = config.env_settings(&env);
    let (ports, _world) = deploy_ports(inv.cli.sandbox, &config, &app, &env).await?;
    let req = RollbackRequest {
        env,
        app,
        reason: args.reason.clone(),
        pr_number: args.pr,
        operator: whoami(),
    };
    let journal = journal(inv)?;
    let outcome = deploy::rollback(&ports, &settings, &journal, &inv.sink, &req).await?;
    Ok(print_outcome(inv, &outcome, None))
}

/// `deploykit resume RUN_ID [--decision go|rollback]`.
pub async fn resume(inv: &Invocation<'_>, args: &ResumeArgs) -> Result<u8> {
    let config = inv.config()?;
    let run = RunId::parse(&args.run_id)?;
    let journal = journal(inv)?;
    if inv.cli.sandbox {
        return Err(Error::unsupported(
            "a sandboxed run cannot be resumed: the simulated world is built afresh for each \
             command and what the run did is gone with it; run the deploy again (with --yes, \
             or answer at the prompt)",
        ));
    }
    let state = deploy::replay(&journal.load(&run)?)?;
    if args.decision.is_some() && !matches!(state.status, Some(FinalStatus::Paused { .. })) {
        return Err(Error::invalid_input(format!(
            "run {run} is not waiting for a decision ({}): resume it without --decision",
            state
                .status
                .as_ref()
                .map_or_else(|| "it was interrupted".to_string(), FinalStatus::summary)
        )));
    }
    let env = state.request.env.clone();
    let settings = config.env_settings(&env);
    let (mut ports, _world) =
        deploy_ports(inv.cli.sandbox, &config, &state.request.app, &env).await?;
    // A paused run waits at a step that asks (checked above when --decision is given).
    let answer = args.decision.as_deref().and_then(|d| {
        Some(DecisionFor {
            gate: state.next.and_then(StepName::decision_gate)?.to_string(),
            decision: if d == "go" {
                Decision::Go
            } else {
                Decision::Rollback
            },
            otherwise: None,
        })
    });
    ports.operator = operator(inv, answer);
    let outcome = deploy::resume(&ports, &settings, &journal, &inv.sink, &run).await?;
    let lock_until = paused_lock_until(&ports, &outcome, &env, &state.request.app.name).await;
    Ok(print_outcome(inv, &outcome, lock_until))
}

#[cfg(test)]
mod tests {
    use deploykit_core::deploy::Verdict;
    use deploykit_core::deploy::state::{StepName, StepOutcome, StepRecord};

    use super::step_line;

    fn line(step: StepName, outcome: StepOutcome) -> String {
        let at = "2026-11-24T15:00:00Z".parse().expect("time");
        step_line(&StepRecord {
            step,
            started_at: at,
            finished_at: at,
            outcome,
            detail: "detail".into(),
        })
    }

    #[test]
    fn a_step_line_says_its_outcome_in_words_in_aligned_columns() {
        let verdict = line(
            StepName::MonitorGate,
            StepOutcome::Verdict {
                verdict: Verdict::Rollback,
                explanation: String::new(),
            },
        );
        let waiting = line(
            StepName::SmokeTests,
            StepOutcome::AwaitDecision {
                question: String::new(),
            },
        );
        let failed = line(
            StepName::RollbackScaleInNew,
            StepOutcome::GateFailed {
                reason: String::new(),
            },
        );
        assert!(verdict.contains(" rollback "), "{verdict}");
        assert!(waiting.contains(" awaiting decision "), "{waiting}");
        assert!(failed.contains(" gate failed "), "{failed}");
        // The longest step name and outcome still leave the detail in one column.
        let column = |l: &str| l.find("detail").expect("detail");
        assert_eq!(column(&verdict), column(&waiting));
        assert_eq!(column(&waiting), column(&failed));
    }
}
