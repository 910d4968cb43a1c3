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

/// How a paused run goes on: said after the outcome as text, and beside its fields in JSON.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
enum WayOn {
    /// A run `deploykit resume` continues.
    Resume {
        /// Always true.
        resumable: bool,
        /// The command that continues it: `deploykit resume RUN --decision go|rollback`.
        next: String,
        /// Until when the run holds the deploy lock (null when the lock could not be read).
        lock_until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A sandboxed run, whose simulated world is gone with the command.
    Sandboxed {
        /// Always false.
        resumable: bool,
        /// Why, and what to do instead.
        why_not_resumable: &'static str,
    },
}

impl WayOn {
    /// The way on of `outcome` (`None` unless it is paused).
    fn of(
        sandbox: bool,
        outcome: &DeployOutcome,
        lock_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Option<Self> {
        if !matches!(outcome.status, FinalStatus::Paused { .. }) {
            return None;
        }
        Some(if sandbox {
            WayOn::Sandboxed {
                resumable: false,
                why_not_resumable: "a sandboxed run cannot be resumed (its world is gone with \
                                    this command): run it again with --yes, or answer at the \
                                    prompt",
            }
        } else {
            WayOn::Resume {
                resumable: true,
                next: format!("deploykit resume {} --decision go|rollback", outcome.run_id),
                lock_until,
            }
        })
    }

    /// The lines the text ends with.
    fn text(&self) -> String {
        match self {
            WayOn::Sandboxed {
                why_not_resumable, ..
            } => format!("{why_not_resumable}\n"),
            WayOn::Resume {
                next, lock_until, ..
            } => {
                let mut out = format!("continue with: {next}\n");
                if let Some(until) = lock_until {
                    out.push_str(&format!(
                        "the run holds the deploy lock until {}; after that another deploy may \
                         take it (resume takes it back if it is free)\n",
                        until.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
                out
            }
        }
    }
}

/// The JSON result of `deploy`, `rollback` and `resume`: the outcome's fields, and a paused
/// run's way on ([`WayOn`]: `resumable`, `next`, `lock_until`, or `why_not_resumable`).
#[derive(Debug, serde::Serialize)]
struct PrintedOutcome<'a> {
    /// The outcome, its fields as they are.
    #[serde(flatten)]
    outcome: &'a DeployOutcome,
    /// How a paused run goes on (nothing when it is not paused).
    #[serde(flatten)]
    way_on: Option<WayOn>,
}

fn print_outcome(
    inv: &Invocation<'_>,
    outcome: &DeployOutcome,
    lock_until: Option<chrono::DateTime<chrono::Utc>>,
) -> u8 {
    let printed = PrintedOutcome {
        outcome,
        way_on: WayOn::of(inv.cli.sandbox, outcome, lock_until),
    };
    print_result(inv.format, &printed, || {
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
        if let Some(way_on) = &printed.way_on {
            out.push_str(&way_on.text());
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
    // A recycle ships no PR; a code deploy ships the PR named, else the open one of its kind.
    req.pr_number = match pr.filter(|_| kind.ships_code()) {
        Some(n) => Some(n),
        None => deploy::default_pr(kind, ports.code_host.as_ref(), &app).await?,
    };
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
    use deploykit_core::deploy::state::{StepName, StepOutcome, StepRecord};
    use deploykit_core::deploy::{DeployOutcome, FinalStatus, Verdict};

    use super::{PrintedOutcome, WayOn, step_line};

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

    fn outcome(status: FinalStatus) -> DeployOutcome {
        DeployOutcome {
            run_id: "20261124T150000Z-idp-prod".into(),
            status,
            steps: Vec::new(),
            verdicts: Vec::new(),
            announcements: Vec::new(),
            overrides: Vec::new(),
            pending: None,
            release_url: None,
            revert_pr_url: None,
            notes: Vec::new(),
        }
    }

    fn printed(sandbox: bool, outcome: &DeployOutcome) -> serde_json::Value {
        let until = "2026-11-24T20:30:00Z".parse().expect("time");
        let printed = PrintedOutcome {
            outcome,
            way_on: WayOn::of(sandbox, outcome, Some(until)),
        };
        serde_json::to_value(&printed).expect("json")
    }

    #[test]
    fn a_paused_result_says_how_to_go_on_as_the_text_does() {
        let paused = outcome(FinalStatus::Paused {
            reason: "did the smoke tests pass in prod?".into(),
        });
        let doc = printed(false, &paused);
        assert_eq!(doc["run_id"], "20261124T150000Z-idp-prod");
        assert_eq!(doc["status"]["status"], "paused");
        assert_eq!(doc["resumable"], true);
        assert_eq!(
            doc["next"],
            "deploykit resume 20261124T150000Z-idp-prod --decision go|rollback"
        );
        assert_eq!(doc["lock_until"], "2026-11-24T20:30:00Z");
        let until = "2026-11-24T20:30:00Z".parse().expect("time");
        let text = WayOn::of(false, &paused, Some(until))
            .expect("paused")
            .text();
        assert!(
            text.contains("continue with: deploykit resume 20261124T150000Z-idp-prod")
                && text.contains("the run holds the deploy lock until 2026-11-24 20:30 UTC"),
            "{text}"
        );
        // Sandboxed: it cannot be resumed, and no command says it can.
        let doc = printed(true, &paused);
        assert_eq!(doc["resumable"], false);
        assert!(
            doc.get("next").is_none() && doc.get("lock_until").is_none(),
            "{doc}"
        );
        assert!(
            doc["why_not_resumable"]
                .as_str()
                .is_some_and(|w| w.contains("cannot be resumed")),
            "{doc}"
        );
        // Not paused: the outcome as it was, nothing added.
        let deployed = outcome(FinalStatus::Deployed);
        assert_eq!(
            printed(false, &deployed),
            serde_json::to_value(&deployed).expect("json")
        );
    }
}
