//! The serde state of one deploy run: where it is, and every fact learned so far.
//! It changes only through [`crate::deploy::step::step`], so a journal of step reports
//! replays to the same state.

use chrono::{DateTime, Utc};

use crate::deploy::monitor_verdict::Verdict;
use crate::deploy::request::DeployRequest;
use crate::error::ErrorKind;
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::release_number::ReleaseNumber;
use crate::model::sha::Sha;
use crate::ports::notifier::Announcement;

/// The steps of a deploy, in the guide's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    /// Cadence, PR approval, fleet pre-checks, the lock, the pending changes.
    Preflight,
    /// Merge the promotion PR (a merge commit, never squashed).
    MergePr,
    /// "Announce a recycle" (or the configuration change).
    AnnounceRecycle,
    /// Recycle the app's groups (migration first).
    Recycle,
    /// Follow the migration instance's log.
    MigrationGate,
    /// Wait for every new instance to be InService and healthy in the load balancer.
    HealthGate,
    /// Compare the old and new SHA's figures.
    MonitorGate,
    /// Wait until the recycle's spindown has fired.
    SpindownWait,
    /// Production only: scale in the old instances.
    ScaleInOld,
    /// An hour later: monitor again, show the smoke-test checklist.
    FollowUp,
    /// Guide steps 8 and 9: a person confirms the smoke tests passed in production (a
    /// failure rolls back) before the release is created.
    SmokeTests,
    /// Create the release from the merged PR.
    CreateRelease,
    /// Standalone rollback: take the lock and read what was recycled.
    RollbackPrepare,
    /// Remove the new instances, keeping the old ones serving.
    RollbackScaleInNew,
    /// Open the revert PR of the production branch.
    OpenRevert,
    /// Announce the rollback and the retrospective to schedule.
    AnnounceRollback,
    /// Release the deploy lock.
    ReleaseLock,
    /// Summarise the run.
    Report,
}

impl StepName {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Preflight => "preflight",
            StepName::MergePr => "merge_pr",
            StepName::AnnounceRecycle => "announce_recycle",
            StepName::Recycle => "recycle",
            StepName::MigrationGate => "migration_gate",
            StepName::HealthGate => "health_gate",
            StepName::MonitorGate => "monitor_gate",
            StepName::SpindownWait => "spindown_wait",
            StepName::ScaleInOld => "scale_in_old",
            StepName::FollowUp => "follow_up",
            StepName::SmokeTests => "smoke_tests",
            StepName::CreateRelease => "create_release",
            StepName::RollbackPrepare => "rollback_prepare",
            StepName::RollbackScaleInNew => "rollback_scale_in_new",
            StepName::OpenRevert => "open_revert",
            StepName::AnnounceRollback => "announce_rollback",
            StepName::ReleaseLock => "release_lock",
            StepName::Report => "report",
        }
    }
}

impl StepName {
    /// The gate whose question a run paused at this step waits on: `monitor` for the monitor
    /// gate, `smoke_tests` for the smoke tests; `None` for steps that never ask.
    pub fn decision_gate(self) -> Option<&'static str> {
        match self {
            StepName::MonitorGate => Some(crate::deploy::ports::MONITOR_GATE),
            StepName::SmokeTests => Some(crate::deploy::ports::SMOKE_TESTS_GATE),
            _ => None,
        }
    }

    /// Whether the step belongs to a rollback (`rollback_prepare`, `rollback_scale_in_new`,
    /// `open_revert`, `announce_rollback`): a run stopped once one has started is part way
    /// through rolling back.
    pub fn is_rollback(self) -> bool {
        matches!(
            self,
            StepName::RollbackPrepare
                | StepName::RollbackScaleInNew
                | StepName::OpenRevert
                | StepName::AnnounceRollback
        )
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the run is heading.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Rolling out.
    Rollout,
    /// Rolling back, for this reason.
    RollingBack {
        /// Why.
        reason: String,
    },
    /// Stopping before anything changed in the fleet, for this reason.
    Stopping {
        /// Why.
        reason: String,
        /// What kind of refusal stopped it, when one did (a policy, an unsafe fleet, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused_as: Option<ErrorKind>,
    },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FinalStatus {
    /// The new code serves.
    Deployed,
    /// The new instances were removed and the revert opened.
    RolledBack {
        /// Why.
        reason: String,
    },
    /// Nothing was deployed.
    Stopped {
        /// Why.
        reason: String,
        /// What kind of refusal stopped it, when one did: a policy (the calendar, the
        /// no-migration risk), an unsafe fleet, a lock held, a name that does not exist.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused_as: Option<ErrorKind>,
    },
    /// Waiting for a person's decision; `resume` continues.
    Paused {
        /// What must be decided.
        reason: String,
    },
}

impl FinalStatus {
    /// `deployed`, `rolled back: why`, `stopped: why` or `paused: what`.
    pub fn summary(&self) -> String {
        match self {
            FinalStatus::Deployed => "deployed".into(),
            FinalStatus::RolledBack { reason } => format!("rolled back: {reason}"),
            FinalStatus::Stopped { reason, .. } => format!("stopped: {reason}"),
            FinalStatus::Paused { reason } => format!("paused: {reason}"),
        }
    }
}

/// How a step ended (the observation fed to [`crate::deploy::step::step`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Done.
    Done,
    /// Not applicable to this deploy.
    Skipped,
    /// A policy or pre-check refused (nothing changed in the fleet).
    Refused {
        /// Why.
        reason: String,
        /// What kind of refusal (a policy, an unsafe fleet, ...), when it is known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<ErrorKind>,
    },
    /// A gate failed: roll back.
    GateFailed {
        /// Why.
        reason: String,
    },
    /// A monitor verdict (Go or Rollback; Inconclusive is decided before it is reported).
    Verdict {
        /// The verdict.
        verdict: Verdict,
        /// The numbers and the rule.
        explanation: String,
    },
    /// A person must decide; the run pauses and `resume` asks again.
    AwaitDecision {
        /// The question.
        question: String,
    },
    /// A permanent error (or temporary errors beyond the retry budget).
    Failed {
        /// The error kind.
        kind: String,
        /// The message.
        message: String,
    },
}

impl StepOutcome {
    /// The word for this outcome in progress lines and reports (`ok`, `skipped`, `refused`,
    /// `failed`, the verdict, `awaiting_decision`, `error`).
    pub fn word(&self) -> &'static str {
        match self {
            StepOutcome::Done => "ok",
            StepOutcome::Skipped => "skipped",
            StepOutcome::Refused { .. } => "refused",
            StepOutcome::GateFailed { .. } => "failed",
            StepOutcome::Verdict { verdict, .. } => verdict.as_str(),
            StepOutcome::AwaitDecision { .. } => "awaiting_decision",
            StepOutcome::Failed { .. } => "error",
        }
    }
}

/// Old instances and capacity of one group before the deploy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupSnapshot {
    /// The group.
    pub group: GroupName,
    /// Desired capacity before the deploy.
    pub desired: u32,
    /// Running instances before the deploy (the "old" ones).
    pub instances: Vec<InstanceId>,
    /// How many of them were healthy and in service.
    pub healthy_in_service: u32,
}

/// The promotion PR as preflight saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrFacts {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Web page.
    pub url: String,
    /// Head commit.
    pub head_sha: Option<Sha>,
    /// RC number from the title.
    pub rc: Option<ReleaseNumber>,
    /// The RC a revert PR's title (`Revert RC 112`) reverts; `None` for a promotion PR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<ReleaseNumber>,
    /// Body (the changelog; release notes).
    pub body: String,
}

/// What the deploy ships, between the production branch and the PR head.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingChanges {
    /// Commits.
    pub commits: usize,
    /// Changed migration files (`db/`).
    pub migrations: Vec<String>,
    /// Changed asset files (`app/assets/stylesheets`, `app/javascript`).
    pub assets: Vec<String>,
}

/// A recycled group and its timers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecycledGroup {
    /// The group.
    pub group: GroupName,
    /// Desired before.
    pub old_desired: u32,
    /// Desired during the recycle.
    pub new_desired: u32,
    /// When the spindown (scale back to `old_desired`) fires.
    pub spindown_at: Option<DateTime<Utc>>,
}

/// A gate's decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GateVerdict {
    /// When.
    pub at: DateTime<Utc>,
    /// `migration`, `health`, `monitor`, `follow_up`, `smoke_tests`.
    pub gate: String,
    /// `go`, `rollback`, `inconclusive`, `failed`.
    pub verdict: String,
    /// The numbers and the rule.
    pub explanation: String,
}

/// A refusal overridden by a person, with the reason given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OverrideRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// What was overridden (`cadence`, `no_migration_risk`, `inconclusive_verdict`).
    pub what: String,
    /// What the policy said.
    pub refusal: String,
    /// The reason given.
    pub reason: String,
}

/// One fact a step learned; [`crate::deploy::step::step`] folds it into [`Facts`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// The lock is held by `owner`.
    LockTaken {
        /// Owner string.
        owner: String,
    },
    /// The lock was released.
    LockReleased,
    /// The promotion PR.
    Pr(PrFacts),
    /// Pending changes.
    Pending(PendingChanges),
    /// Groups before the deploy.
    PreDeploy {
        /// Snapshots.
        groups: Vec<GroupSnapshot>,
    },
    /// The SHA serving before the deploy.
    OldSha {
        /// The SHA.
        sha: Sha,
    },
    /// The merge commit of the promotion PR.
    Merged {
        /// The merge commit.
        sha: Sha,
    },
    /// The SHA the new instances run.
    NewSha {
        /// The SHA.
        sha: Sha,
    },
    /// The recycle started at `at`.
    Recycled {
        /// When.
        at: DateTime<Utc>,
        /// Groups and timers.
        groups: Vec<RecycledGroup>,
    },
    /// A gate verdict.
    Verdict(GateVerdict),
    /// An announcement was posted.
    Announced(Announcement),
    /// An override.
    Override(OverrideRecord),
    /// The monitor gate ended at this time.
    MonitorEnded {
        /// When.
        at: DateTime<Utc>,
    },
    /// A release was created.
    Release {
        /// Web page.
        url: String,
    },
    /// A revert PR was opened.
    RevertPr {
        /// Number.
        number: u64,
        /// Web page.
        url: String,
    },
    /// The rollback found `group`'s old instances gone (scaled in, or replaced by the
    /// spindown): its new instances serve the new code until the revert is deployed.
    NewCodeStays {
        /// The group.
        group: GroupName,
    },
    /// Something people should know (shown in the report).
    Note {
        /// The text.
        text: String,
    },
}

impl Fact {
    /// A [`Fact::Note`].
    pub fn note(text: impl Into<String>) -> Self {
        Fact::Note { text: text.into() }
    }
}

/// Everything learned so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    /// Lock owner while held.
    pub lock_owner: Option<String>,
    /// The promotion PR.
    pub pr: Option<PrFacts>,
    /// Pending changes.
    pub pending: Option<PendingChanges>,
    /// Groups before the deploy.
    pub pre_deploy: Vec<GroupSnapshot>,
    /// Old SHA.
    pub old_sha: Option<Sha>,
    /// Merge commit.
    pub merge_sha: Option<Sha>,
    /// New SHA.
    pub new_sha: Option<Sha>,
    /// When the recycle started, if it did.
    pub recycled_at: Option<DateTime<Utc>>,
    /// Recycled groups.
    pub recycled: Vec<RecycledGroup>,
    /// Gate verdicts.
    pub verdicts: Vec<GateVerdict>,
    /// Announcements posted.
    pub announcements: Vec<Announcement>,
    /// Overrides.
    pub overrides: Vec<OverrideRecord>,
    /// When the monitor gate ended.
    pub monitor_ended_at: Option<DateTime<Utc>>,
    /// Release page.
    pub release_url: Option<String>,
    /// Revert PR (number, page).
    pub revert_pr: Option<(u64, String)>,
    /// Groups still serving the new code after the rollback (their old instances were gone).
    pub new_code_stays: Vec<GroupName>,
    /// Notes.
    pub notes: Vec<String>,
}

impl Facts {
    /// Folds one fact in.
    pub fn apply(&mut self, fact: Fact) {
        match fact {
            Fact::LockTaken { owner } => self.lock_owner = Some(owner),
            Fact::LockReleased => self.lock_owner = None,
            Fact::Pr(pr) => self.pr = Some(pr),
            Fact::Pending(p) => self.pending = Some(p),
            Fact::PreDeploy { groups } => self.pre_deploy = groups,
            Fact::OldSha { sha } => self.old_sha = Some(sha),
            Fact::Merged { sha } => self.merge_sha = Some(sha),
            Fact::NewSha { sha } => self.new_sha = Some(sha),
            Fact::Recycled { at, groups } => {
                self.recycled_at = Some(at);
                self.recycled = groups;
            }
            Fact::Verdict(v) => self.verdicts.push(v),
            Fact::Announced(a) => self.announcements.push(a),
            Fact::Override(o) => self.overrides.push(o),
            Fact::MonitorEnded { at } => self.monitor_ended_at = Some(at),
            Fact::Release { url } => self.release_url = Some(url),
            Fact::RevertPr { number, url } => self.revert_pr = Some((number, url)),
            Fact::NewCodeStays { group } => self.new_code_stays.push(group),
            Fact::Note { text } => self.notes.push(text),
        }
    }

    /// The RC number, if code ships.
    pub fn rc(&self) -> Option<ReleaseNumber> {
        self.pr.as_ref().and_then(|p| p.rc)
    }

    /// The RC whose revert this run deploys (a revert deploy's PR).
    pub fn reverted(&self) -> Option<ReleaseNumber> {
        self.pr.as_ref().and_then(|p| p.reverts)
    }
}

/// One step as it ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepRecord {
    /// The step.
    pub step: StepName,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How.
    pub outcome: StepOutcome,
    /// One line for people.
    pub detail: String,
}

/// What a step executor reports: the observation [`crate::deploy::step::step`] consumes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepReport {
    /// The step.
    pub step: StepName,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: StepOutcome,
    /// One line for people.
    pub detail: String,
    /// What it learned.
    pub facts: Vec<Fact>,
}

/// The whole state of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployState {
    /// The run id.
    pub run_id: String,
    /// What was asked.
    pub request: DeployRequest,
    /// Whether the environment scales in old instances by hand (production).
    pub production: bool,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// The step to run next; `None` when finished.
    pub next: Option<StepName>,
    /// Rolling out, back, or stopping.
    pub phase: Phase,
    /// Set when the run has ended (or paused).
    pub status: Option<FinalStatus>,
    /// Steps run so far.
    pub steps: Vec<StepRecord>,
    /// Facts learned.
    pub facts: Facts,
}

impl DeployState {
    /// Whether the run is a standalone rollback (`deploykit rollback`) rather than a deploy:
    /// its first step is the rollback's preparation.
    pub fn is_standalone_rollback(&self) -> bool {
        self.steps.first().map_or(self.next, |s| Some(s.step)) == Some(StepName::RollbackPrepare)
    }
}
