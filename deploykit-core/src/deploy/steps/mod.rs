//! The step executors: each performs one step of the guide through the ports and reports
//! what happened. Transitions between steps are decided by [`crate::deploy::step::step`].

mod announce;
mod follow_up;
mod health_gate;
pub(crate) mod lock;
mod merge_pr;
pub(crate) mod migration_gate;
mod monitor_gate;
pub(crate) mod policy_hooks;
pub(crate) mod preflight;
mod recycle;
mod release;
mod report;
mod rollback;
mod scale_in_old;
mod smoke_tests;
mod spindown_wait;

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, StepName, StepOutcome};
use crate::error::{ErrorKind, Result};
use crate::model::fleet::GroupName;
use crate::model::names::RoleName;

pub(crate) use monitor_gate::watch;

/// What an executor found: the outcome, one line for people, and the facts learned.
#[derive(Debug, Clone)]
pub(crate) struct StepBody {
    pub outcome: StepOutcome,
    pub detail: String,
    pub facts: Vec<Fact>,
}

impl StepBody {
    pub fn done(detail: impl Into<String>, facts: Vec<Fact>) -> Self {
        StepBody {
            outcome: StepOutcome::Done,
            detail: detail.into(),
            facts,
        }
    }

    pub fn skipped(detail: impl Into<String>) -> Self {
        StepBody {
            outcome: StepOutcome::Skipped,
            detail: detail.into(),
            facts: Vec::new(),
        }
    }

    /// A refusal of a known kind: a policy's, an unsafe fleet's, a name that does not exist;
    /// the CLI's exit code follows it.
    pub fn refused_as(kind: ErrorKind, reason: impl Into<String>, facts: Vec<Fact>) -> Self {
        let reason = reason.into();
        StepBody {
            outcome: StepOutcome::Refused {
                reason: reason.clone(),
                kind: Some(kind),
            },
            detail: reason,
            facts,
        }
    }

    pub fn gate_failed(reason: impl Into<String>, facts: Vec<Fact>) -> Self {
        let reason = reason.into();
        StepBody {
            outcome: StepOutcome::GateFailed {
                reason: reason.clone(),
            },
            detail: reason,
            facts,
        }
    }
}

/// Runs one step. `started_at` is when the step first started (kept across a resume, so
/// deadlines do not move).
pub(crate) async fn run_step(
    ctx: &StepContext<'_>,
    state: &DeployState,
    step: StepName,
    started_at: DateTime<Utc>,
) -> Result<StepBody> {
    match step {
        StepName::Preflight => preflight::preflight(ctx, state).await,
        StepName::MergePr => merge_pr::merge_pr(ctx, state).await,
        StepName::AnnounceRecycle => announce::announce_recycle(ctx, state).await,
        StepName::Recycle => recycle::recycle(ctx, state).await,
        StepName::MigrationGate => migration_gate::migration_gate(ctx, state, started_at).await,
        StepName::HealthGate => health_gate::health_gate(ctx, state, started_at).await,
        StepName::MonitorGate => monitor_gate::monitor_gate(ctx, state, started_at).await,
        StepName::SpindownWait => spindown_wait::spindown_wait(ctx, state).await,
        StepName::ScaleInOld => scale_in_old::scale_in_old(ctx, state).await,
        StepName::FollowUp => follow_up::follow_up(ctx, state).await,
        StepName::SmokeTests => smoke_tests::smoke_tests(ctx, state).await,
        StepName::CreateRelease => release::create_release(ctx, state).await,
        StepName::RollbackPrepare => rollback::rollback_prepare(ctx, state).await,
        StepName::RollbackScaleInNew => rollback::rollback_scale_in_new(ctx, state).await,
        StepName::OpenRevert => release::open_revert(ctx, state).await,
        StepName::AnnounceRollback => announce::announce_rollback(ctx, state).await,
        StepName::ReleaseLock => lock::release_lock(ctx, state).await,
        StepName::Report => report::report(ctx, state).await,
    }
}

/// The app's groups in the deploy's environment (`prod-idp`, `prod-worker`, ...).
pub(crate) fn app_groups(state: &DeployState) -> Vec<GroupName> {
    state.request.app.groups_in(&state.request.env)
}

/// The app's main role.
pub(crate) fn main_role(state: &DeployState) -> Result<RoleName> {
    state.request.app.main_role().cloned().ok_or_else(|| {
        crate::Error::invalid_input(format!(
            "app {} has no roles configured: give it at least one (e.g. idp)",
            state.request.app.name
        ))
    })
}

/// Seconds from `now` until `at` (0 when past).
pub(crate) fn secs_until(now: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0)
}

/// `t + secs`.
pub(crate) fn plus(t: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    t + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
}
