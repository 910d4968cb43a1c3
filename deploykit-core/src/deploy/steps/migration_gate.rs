//! `migration_gate`: follow the newest migration instance's log until it proves success
//! (final marker and no migration error), fails (an error line or the failure marker), or
//! the timeout passes.

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::migration_log::{FINAL_MARKER, MigrationLogReader, MigrationLogStatus};
use crate::deploy::request::DeployRequest;
use crate::deploy::state::{DeployState, Fact, GateVerdict};
use std::ops::ControlFlow;
use std::time::Duration;

use crate::deploy::steps::{StepBody, plus, secs_until};
use crate::error::{ErrorKind, Result};
use crate::fleet_ops::migration_logs::{MigrationLogRequest, tail_migration_log};

const VERDICT_KEY: &str = "verdict/migration_gate";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Recorded {
    passed: bool,
    explanation: String,
}

/// Why the migration gate has nothing to watch for `req`, if it has not: a no-migration
/// recycle, or an app without a role that runs migrations (the dry-run plan says the same).
pub(crate) fn skipped_because(req: &DeployRequest) -> Option<String> {
    if !req.kind.runs_migrations() {
        Some("no-migration recycle: no migration instance".into())
    } else if !req.app.roles.iter().any(|r| r.migrates) {
        Some(format!("{} has no role that runs migrations", req.app.name))
    } else {
        None
    }
}

pub(crate) async fn migration_gate(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<StepBody> {
    if let Some(why) = skipped_because(&state.request) {
        return Ok(StepBody::skipped(why));
    }
    let recorded = match ctx.memo::<Recorded>(VERDICT_KEY)? {
        Some(r) => r,
        None => {
            let r = follow(ctx, state, started_at).await?;
            ctx.remember(VERDICT_KEY, &r)?;
            ctx.note(
                "verdict",
                format!(
                    "migration gate {}: {}",
                    if r.passed { "passed" } else { "failed" },
                    r.explanation
                ),
            )?;
            r
        }
    };
    let verdict = GateVerdict {
        at: ctx.now(),
        gate: "migration".into(),
        verdict: if recorded.passed { "go" } else { "failed" }.into(),
        explanation: recorded.explanation.clone(),
    };
    ctx.events.emit(crate::Event::GateVerdict {
        at: verdict.at,
        gate: verdict.gate.clone(),
        verdict: verdict.verdict.clone(),
        explanation: verdict.explanation.clone(),
    });
    if recorded.passed {
        Ok(StepBody::done(
            recorded.explanation,
            vec![Fact::Verdict(verdict)],
        ))
    } else {
        Ok(StepBody::gate_failed(
            recorded.explanation,
            vec![Fact::Verdict(verdict)],
        ))
    }
}

async fn follow(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<Recorded> {
    let timeout = ctx.settings.migration_timeout_secs;
    let deadline = plus(started_at, timeout);
    let since = state.facts.recycled_at.unwrap_or(started_at);
    let logs = ctx.ports.logs.clone();
    let mut attempt = 0u32;
    // A retry after a temporary error reads the log again from the start, with a fresh reader.
    // A Timeout is the gate's own deadline only once the deadline has passed; before that it
    // is a call that timed out (temporary, retried like throttling).
    let (tail, reader) = loop {
        attempt += 1;
        let remaining = secs_until(ctx.now(), deadline);
        let mut req = MigrationLogRequest::new(state.request.env.clone());
        req.launched_after = Some(since);
        req.appear_timeout = Duration::from_secs(remaining);
        req.read_timeout = Duration::from_secs(remaining);
        req.poll_interval = Duration::from_secs(ctx.settings.poll_secs.max(1));
        let mut reader = MigrationLogReader::default();
        let tail = {
            let reader = &mut reader;
            let mut on_line = |line: &str| {
                reader.feed([line]);
                if reader.status() == MigrationLogStatus::Running {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            };
            tail_migration_log(&ctx.fleet_ctx(), logs.as_ref(), &req, &mut on_line).await
        };
        match tail {
            Err(e)
                if e.is_temporary()
                    && ctx.now() < deadline
                    && attempt < ctx.settings.retry_attempts.max(1) =>
            {
                ctx.warn(format!("following the migration log: {e}; trying again"));
                ctx.sleep(ctx.settings.retry_backoff_secs.max(1)).await;
            }
            other => break (other, reader),
        }
    };
    let (instance, gone) = match tail {
        Ok(t) => (t.instance.to_string(), t.instance_gone),
        Err(e) if e.kind() == ErrorKind::Timeout && ctx.now() >= deadline => {
            return Ok(Recorded {
                passed: false,
                explanation: format!("timed out after {timeout} s: {}", e.message()),
            });
        }
        Err(e) => return Err(e),
    };
    Ok(match reader.status() {
        MigrationLogStatus::Succeeded => Recorded {
            passed: true,
            explanation: format!(
                "{instance}: migrations ran without error and provisioning finished \
                 (\"{FINAL_MARKER}\", {} lines read)",
                reader.lines_read
            ),
        },
        MigrationLogStatus::MigrationError { line } => Recorded {
            passed: false,
            explanation: format!("{instance}: a migration failed: {line:?}"),
        },
        MigrationLogStatus::ProvisioningFailed { line } => Recorded {
            passed: false,
            explanation: format!("{instance}: provisioning failed: {line:?}"),
        },
        MigrationLogStatus::Running => Recorded {
            passed: false,
            explanation: match gone {
                Some(state) => format!(
                    "{instance} is {state} and its log stopped before \"{FINAL_MARKER}\" ({} \
                     lines read): the migration did not finish (a migration instance runs until \
                     its group's spindown)",
                    reader.lines_read
                ),
                None => format!(
                    "{instance}: the log ended without \"{FINAL_MARKER}\" ({} lines read)",
                    reader.lines_read
                ),
            },
        },
    })
}
