//! `migration_gate`: follow the newest migration instance's log until it proves success
//! (final marker and no migration error), fails (an error line or the failure marker), or
//! the timeout passes.

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::migration_log::{FINAL_MARKER, MigrationLogReader, MigrationLogStatus};
use crate::deploy::state::{DeployState, Fact, GateVerdict};
use crate::deploy::steps::{StepBody, plus};
use crate::error::Result;
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::names::RoleName;

const VERDICT_KEY: &str = "verdict/migration_gate";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Recorded {
    passed: bool,
    explanation: String,
}

pub(crate) async fn migration_gate(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<StepBody> {
    let req = &state.request;
    if !req.kind.runs_migrations() {
        return Ok(StepBody::skipped(
            "no-migration recycle: no migration instance",
        ));
    }
    if !req.app.roles.iter().any(|r| r.migrates) {
        return Ok(StepBody::skipped(format!(
            "{} has no role that runs migrations",
            req.app.name
        )));
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

async fn newest_migration_instance(
    ctx: &StepContext<'_>,
    group: &GroupName,
    since: DateTime<Utc>,
) -> Result<Option<InstanceId>> {
    let fleet = &ctx.ports.fleet;
    let g = ctx
        .retry("read the migration group", async || {
            fleet.group(group).await
        })
        .await?;
    Ok(g.instances
        .iter()
        .filter(|i| i.launch_time >= since)
        .max_by_key(|i| (i.launch_time, i.id.clone()))
        .map(|i| i.id.clone()))
}

async fn follow(
    ctx: &StepContext<'_>,
    state: &DeployState,
    started_at: DateTime<Utc>,
) -> Result<Recorded> {
    let timeout = ctx.settings.migration_timeout_secs;
    let deadline = plus(started_at, timeout);
    let since = state.facts.recycled_at.unwrap_or(started_at);
    let group = GroupName::new(&state.request.env, &RoleName::migration());
    let mut instance: Option<InstanceId> = None;
    let mut cursor: Option<String> = None;
    let mut reader = MigrationLogReader::default();
    loop {
        if instance.is_none() {
            instance = newest_migration_instance(ctx, &group, since).await?;
            if let Some(i) = &instance {
                ctx.info(format!("following the migration log of {i} ({group})"));
            }
        }
        if let Some(i) = &instance {
            let logs = &ctx.ports.logs;
            let chunk = ctx
                .retry("read the migration log", async || {
                    logs.read_log(i, cursor.clone()).await
                })
                .await?;
            reader.feed(chunk.lines.iter().map(String::as_str));
            if chunk.cursor.is_some() {
                cursor = chunk.cursor;
            }
            match reader.status() {
                MigrationLogStatus::Running => {}
                MigrationLogStatus::Succeeded => {
                    return Ok(Recorded {
                        passed: true,
                        explanation: format!(
                            "{i}: migrations ran without error and provisioning finished \
                             (\"{FINAL_MARKER}\", {} lines read)",
                            reader.lines_read
                        ),
                    });
                }
                MigrationLogStatus::MigrationError { line } => {
                    return Ok(Recorded {
                        passed: false,
                        explanation: format!("{i}: a migration failed: {line:?}"),
                    });
                }
                MigrationLogStatus::ProvisioningFailed { line } => {
                    return Ok(Recorded {
                        passed: false,
                        explanation: format!("{i}: provisioning failed: {line:?}"),
                    });
                }
            }
        }
        if ctx.now() >= deadline {
            let what = match &instance {
                None => format!("no migration instance started in {group}"),
                Some(i) => format!(
                    "{i} did not print \"{FINAL_MARKER}\" ({} lines read)",
                    reader.lines_read
                ),
            };
            return Ok(Recorded {
                passed: false,
                explanation: format!("timed out after {timeout} s: {what}"),
            });
        }
        ctx.waiting(
            match &instance {
                None => format!("the migration instance of {group} to start"),
                Some(i) => format!("migrations on {i} ({} log lines so far)", reader.lines_read),
            },
            started_at,
            timeout,
        );
        ctx.sleep(ctx.settings.poll_secs.max(1)).await;
    }
}
