//! Releasing a PR by hand while a deploy run of it has not finished.
//!
//! The guided deploy creates the release itself, after the follow-up check and the smoke
//! tests' confirmation. A person running `release create` (or Python's `create_release`) for
//! the same PR while that run is paused at the smoke tests, stopped part way, or rolling back
//! would publish a release of code nobody confirmed, or that is being reverted.
//! [`unfinished_deploy_of`] finds such a run in the journal; its [`UnfinishedDeploy::refusal`]
//! says what to do instead. The run's own `create_release` step keeps a release made by hand,
//! so releasing anyway (`--force`) does not break its resume.

use crate::asker::Asker;
use crate::deploy::journal::Journal;
use crate::deploy::run_list::{RunStanding, RunSummary, run_states};
use crate::deploy::state::{DeployState, Phase, StepName};
use crate::error::{Error, Result};
use crate::model::names::AppName;

/// A run of the journal that still has the PR's release ahead of it, or is rolling it back.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedDeploy {
    /// The run, as `deploykit runs` lists it.
    pub run: RunSummary,
    /// The promotion PR it ships or rolls back.
    pub pr: u64,
    /// Whether it is rolling the PR back (a failed gate, or `deploykit rollback --pr`).
    pub rolling_back: bool,
}

/// The PR a run ships or reverts: what preflight read, else what was asked.
fn pr_of(state: &DeployState) -> Option<u64> {
    state
        .facts
        .pr
        .as_ref()
        .map(|p| p.number)
        .or(state.request.pr_number)
}

/// The newest run of `app` in `journal` that can still be resumed and either has not yet
/// created the release of PR `pr` or is rolling it back. Runs whose journal cannot be read
/// are skipped (`deploykit runs` lists them).
pub fn unfinished_deploy_of(
    journal: &dyn Journal,
    app: &AppName,
    pr: u64,
) -> Result<Option<UnfinishedDeploy>> {
    let mut found = None;
    for (_, state) in run_states(journal, journal.runs()?) {
        let Ok(state) = state else {
            continue;
        };
        let run = RunSummary::of(&state);
        if &run.app != app || !run.standing.resumable() || pr_of(&state) != Some(pr) {
            continue;
        }
        let rolling_back =
            matches!(state.phase, Phase::RollingBack { .. }) || state.is_standalone_rollback();
        let release_ahead =
            state.request.kind.creates_release() && state.facts.release_url.is_none();
        if rolling_back || release_ahead {
            found = Some(UnfinishedDeploy {
                run,
                pr,
                rolling_back,
            });
        }
    }
    Ok(found)
}

impl UnfinishedDeploy {
    /// Why a release of the PR now is refused, and the ways on: resume the run (it releases
    /// when it gets there), or release anyway (`--force`, `force=True`).
    pub fn refusal(&self, asker: Asker) -> Error {
        let id = &self.run.run_id;
        let (doing, way_on) = if self.rolling_back {
            (
                format!("is rolling PR #{} back", self.pr),
                format!("finish the rollback with {}", asker.resume(id)),
            )
        } else if self.run.standing == RunStanding::Paused
            && self.run.next_step == Some(StepName::SmokeTests)
        {
            (
                format!(
                    "is waiting for the smoke tests' answer before it releases PR #{}",
                    self.pr
                ),
                format!(
                    "once the smoke tests pass, {} creates the release ({} if they fail)",
                    asker.answer(id, "go"),
                    asker.answer(id, "rollback")
                ),
            )
        } else {
            let at = self
                .run
                .next_step
                .map_or_else(|| "part way".to_string(), |s| format!("at {}", s.as_str()));
            (
                format!(
                    "stopped {at}, before it released PR #{} ({})",
                    self.pr,
                    self.run.standing.as_str()
                ),
                format!("go on with {}: it creates the release", asker.resume(id)),
            )
        };
        Error::policy_refused(format!(
            "deploy run {id} of {} to {} {doing}; {way_on}. To release PR #{} anyway, pass \
             {} (the run keeps that release when it is resumed)",
            self.run.app,
            self.run.env,
            self.pr,
            asker.force()
        ))
        .with("run", id)
        .with("pr", self.pr)
    }
}
