//! What a deploy run reports when it ends (or pauses).

use crate::deploy::state::{
    DeployState, FinalStatus, GateVerdict, OverrideRecord, PendingChanges, StepRecord,
};
use crate::ports::notifier::Announcement;

/// The result of `deploy`, `resume` or `rollback`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployOutcome {
    /// The run id (`resume` takes it).
    pub run_id: String,
    /// Deployed, RolledBack, Stopped or Paused.
    pub status: FinalStatus,
    /// Every step with its start and end times.
    pub steps: Vec<StepRecord>,
    /// Gate verdicts with their numbers.
    pub verdicts: Vec<GateVerdict>,
    /// Announcements posted.
    pub announcements: Vec<Announcement>,
    /// Overrides with their reasons.
    pub overrides: Vec<OverrideRecord>,
    /// What shipped.
    pub pending: Option<PendingChanges>,
    /// The release created.
    pub release_url: Option<String>,
    /// The revert PR opened, if rolled back.
    pub revert_pr_url: Option<String>,
    /// Things people should know.
    pub notes: Vec<String>,
}

impl DeployOutcome {
    /// The outcome of a state (finished or paused).
    pub fn from_state(state: &DeployState) -> Self {
        DeployOutcome {
            run_id: state.run_id.clone(),
            status: state.status.clone().unwrap_or(FinalStatus::Paused {
                reason: format!(
                    "the run stopped before {}; resume it",
                    state.next.map(|s| s.as_str()).unwrap_or("its end")
                ),
            }),
            steps: state.steps.clone(),
            verdicts: state.facts.verdicts.clone(),
            announcements: state.facts.announcements.clone(),
            overrides: state.facts.overrides.clone(),
            pending: state.facts.pending.clone(),
            release_url: state.facts.release_url.clone(),
            revert_pr_url: state.facts.revert_pr.as_ref().map(|(_, u)| u.clone()),
            notes: state.facts.notes.clone(),
        }
    }
}
