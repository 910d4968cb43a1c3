//! What the operator asks for: `deploy ENV APP` and `rollback ENV APP`.

use crate::model::app::AppSettings;
use crate::model::deploy_kind::DeployKind;
use crate::model::names::EnvName;

/// A guided deploy of one app to one environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployRequest {
    /// The environment (`prod`, `staging`, ...).
    pub env: EnvName,
    /// The app and its settings (roles, branches, repository).
    pub app: AppSettings,
    /// Full, patch, off-cycle, config recycle or no-migration recycle.
    pub kind: DeployKind,
    /// The promotion PR to merge (required when the kind ships code).
    pub pr_number: Option<u64>,
    /// Why this deploy happens now (off-cycle deploys need one; recorded in the journal).
    pub reason: Option<String>,
    /// Deploy even though the cadence calendar refuses, for this reason (recorded).
    pub cadence_override: Option<String>,
    /// Run a no-migration recycle even though the risk check refuses, for this reason.
    pub no_migration_override: Option<String>,
    /// The redacted configuration diff a config recycle announces.
    pub config_diff: Option<String>,
    /// Do not ask: inconclusive verdicts follow the environment's documented policy.
    pub yes: bool,
    /// Who runs the deploy (shown as the lock holder).
    pub operator: String,
}

impl DeployRequest {
    /// Whether the kind needs a reason (off-cycle, patch) and none was given: the request
    /// is refused for that alone, before the calendar is asked.
    pub fn lacks_reason(&self) -> bool {
        self.kind.needs_reason() && self.given_reason().is_none()
    }

    /// The reason, when one was given with something in it (a blank one is none).
    pub fn given_reason(&self) -> Option<&str> {
        self.reason.as_deref().filter(|r| !r.trim().is_empty())
    }

    /// The configuration diff, when one was given with something in it: an empty file or
    /// stdin at its end is no diff.
    pub fn given_config_diff(&self) -> Option<&str> {
        self.config_diff.as_deref().filter(|d| !d.trim().is_empty())
    }

    /// A request with no PR, reason or overrides, run by `operator`.
    pub fn new(env: EnvName, app: AppSettings, kind: DeployKind, operator: &str) -> Self {
        DeployRequest {
            env,
            app,
            kind,
            pr_number: None,
            reason: None,
            cadence_override: None,
            no_migration_override: None,
            config_diff: None,
            yes: false,
            operator: operator.to_string(),
        }
    }

    /// Sets the promotion PR.
    pub fn with_pr(mut self, number: u64) -> Self {
        self.pr_number = Some(number);
        self
    }
}

/// A rollback of whatever was last recycled, invoked on its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RollbackRequest {
    /// The environment.
    pub env: EnvName,
    /// The app.
    pub app: AppSettings,
    /// Why (announced and recorded).
    pub reason: String,
    /// The merged promotion PR whose merge commit is reverted, if code shipped.
    pub pr_number: Option<u64>,
    /// Who runs it.
    pub operator: String,
}
