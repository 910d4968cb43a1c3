//! The ports a deploy works through, bundled; the CLI and Python build it from real
//! backends or from the simulated world.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use crate::deploy::monitor_verdict::WindowFigures;
use crate::error::Result;
use crate::ports::{
    Clock, CodeHost, DeployLock, DeployStatusSource, Fleet, LogSource, Monitor, Notifier, Vcs,
};

/// The gate of the question asked when the monitor gate's verdict is inconclusive: go on or
/// roll back? Its verdicts are recorded under the same name.
pub const MONITOR_GATE: &str = "monitor";

/// The gate of the question asked once the new code has served production for an hour: did
/// the smoke tests pass? ([`Decision::Go`]: they did; [`Decision::Rollback`]: they did not.)
pub const SMOKE_TESTS_GATE: &str = "smoke_tests";

/// What a person is asked when a gate cannot decide.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRequest {
    /// The gate: [`MONITOR_GATE`] (its verdict was inconclusive) or [`SMOKE_TESTS_GATE`].
    pub gate: String,
    /// Why it could not decide, with the numbers; or what to confirm.
    pub explanation: String,
    /// The guide's rollback criteria, as a decision aid.
    pub criteria: Vec<String>,
    /// The windows watched (none for the smoke tests).
    pub windows: Vec<WindowFigures>,
    /// The checks to run by hand before answering (the app's smoke tests; none for the
    /// monitor gate).
    #[serde(default)]
    pub checks: Vec<String>,
}

impl DecisionRequest {
    /// Whether this asks for the smoke tests' result rather than a verdict.
    pub fn is_smoke_tests(&self) -> bool {
        self.gate == SMOKE_TESTS_GATE
    }
}

/// A person's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go on with the deploy.
    Go,
    /// Roll back.
    Rollback,
}

impl Decision {
    /// `go` or `rollback`, as `resume --decision` takes them.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "go",
            Decision::Rollback => "rollback",
        }
    }
}

/// Someone who can decide when a gate cannot (the CLI prompts; Python calls back).
#[async_trait]
pub trait Operator: Send + Sync + Debug {
    /// Asks; `None` means "not now" (the run pauses and `resume` asks again).
    async fn decide(&self, request: &DecisionRequest) -> Result<Option<Decision>>;
}

/// An operator that always answers the same (e.g. `resume --decision rollback`).
#[derive(Debug, Clone, Copy)]
pub struct FixedDecision(pub Decision);

#[async_trait]
impl Operator for FixedDecision {
    async fn decide(&self, _request: &DecisionRequest) -> Result<Option<Decision>> {
        Ok(Some(self.0))
    }
}

/// One answer to one gate's question (`resume --decision` answers the question the run is
/// paused at); any other question goes to `otherwise`, or pauses the run when there is none.
/// So a `go` given to an inconclusive monitor gate is never taken, an hour later, as "the
/// smoke tests passed".
#[derive(Debug, Clone)]
pub struct DecisionFor {
    /// The gate answered ([`DecisionRequest::gate`]).
    pub gate: String,
    /// The answer.
    pub decision: Decision,
    /// Who is asked anything else (the terminal), if anyone.
    pub otherwise: Option<Arc<dyn Operator>>,
}

#[async_trait]
impl Operator for DecisionFor {
    async fn decide(&self, request: &DecisionRequest) -> Result<Option<Decision>> {
        if request.gate == self.gate {
            return Ok(Some(self.decision));
        }
        match &self.otherwise {
            Some(op) => op.decide(request).await,
            None => Ok(None),
        }
    }
}

/// Every port a deploy uses.
#[derive(Debug, Clone)]
pub struct DeployPorts {
    /// Git.
    pub vcs: Arc<dyn Vcs>,
    /// GitHub (PRs, releases).
    pub code_host: Arc<dyn CodeHost>,
    /// Auto Scaling groups.
    pub fleet: Arc<dyn Fleet>,
    /// Migration logs.
    pub logs: Arc<dyn LogSource>,
    /// Per-SHA request figures.
    pub monitor: Arc<dyn Monitor>,
    /// Slack.
    pub notifier: Arc<dyn Notifier>,
    /// The deploy lock.
    pub lock: Arc<dyn DeployLock>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Staging's deploy.json.
    pub deploy_status: Arc<dyn DeployStatusSource>,
    /// Who decides when a gate cannot; `None` pauses the run instead (unless `--yes`).
    pub operator: Option<Arc<dyn Operator>>,
}
