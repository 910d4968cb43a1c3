//! The guided deploy (`deploy ENV APP`) as a resumable state machine.
//!
//! - [`state`]: the serde [`DeployState`] and the facts steps learn;
//! - [`step`](mod@step): the pure transition `step(state, report) -> (state, actions)`;
//! - [`journal`]: every transition appended (and fsync'd) before the next action;
//! - [`driver`]: performs actions through [`DeployPorts`], records them, resumes;
//! - [`plan`]: the dry-run plan;
//! - gates: [`migration_log`], [`monitor_verdict`].

pub mod context;
#[cfg(feature = "sim")]
pub mod demo;
pub mod driver;
pub mod journal;
pub mod migration_log;
pub mod monitor_verdict;
pub mod outcome;
pub mod plan;
pub mod ports;
pub mod request;
pub mod settings;
pub mod state;
pub mod step;
mod steps;

pub use driver::{deploy, replay, resume, rollback};
pub use journal::{FileJournal, Journal, MemoryJournal, Record, RunId};
pub use monitor_verdict::{MonitorVerdict, Verdict};
pub use outcome::DeployOutcome;
pub use plan::{DeployPlan, PlannedStep, plan};
pub use ports::{Decision, DecisionRequest, DeployPorts, FixedDecision, Operator};
pub use request::{DeployRequest, RollbackRequest};
pub use settings::{EnvSettings, InconclusivePolicy, MonitorThresholds};
pub use state::{DeployState, FinalStatus, StepName};
