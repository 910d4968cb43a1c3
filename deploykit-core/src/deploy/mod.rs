//! The guided deploy (`deploy ENV APP`) as a resumable state machine.
//!
//! Steps, in the guide's words: `preflight` (cadence calendar, promotion PR open, approved and
//! mergeable, no extra servers, no recycle in progress, no-migration risk, the deploy lock, the
//! pending changes, the pre-deploy snapshot), `merge_pr` (a merge commit, never squashed),
//! `announce_recycle`, `recycle`, `migration_gate`, `health_gate`, `monitor_gate`,
//! `spindown_wait`, `scale_in_old` (production only), `follow_up`, `create_release`,
//! `release_lock`, `report`. A failed gate or a Rollback verdict switches to the rollback:
//! `rollback_scale_in_new`, `open_revert`, `announce_rollback`, `release_lock`, `report`.
//! Config and no-migration recycles skip the PR, the merge and the release.
//!
//! - [`state`]: the serde [`DeployState`] and the facts steps learn;
//! - [`step`](mod@step): the pure transition `step(state, report) -> (state, actions)`;
//! - [`journal`]: every transition appended (and fsync'd) before the next action;
//! - `context` (internal): side effects at most once per run (recorded before, replayed or checked
//!   against the world on resume), retries of temporary errors on the clock;
//! - [`driver`]: [`deploy`], [`resume`], [`rollback`];
//! - [`default_pr`](mod@default_pr): the PR a deploy ships when none is named;
//! - [`held_lock`]: who holds a deploy lock, and releasing one whose run will not be resumed;
//! - [`run_list`]: a journal's runs a line each, and which can be resumed;
//! - [`release_guard`]: a run that still has a PR's release ahead of it (a hand-made release
//!   would skip its smoke tests' confirmation);
//! - [`plan`](mod@plan): the dry-run plan;
//! - gates' rules: [`migration_log`], [`monitor_verdict`] with [`MonitorThresholds`];
//! - `demo` (feature `sim`): the rehearsal on the simulated Login.gov world.
//!
//! ```no_run
//! # async fn run(ports: deploykit_core::deploy::DeployPorts) -> deploykit_core::Result<()> {
//! use deploykit_core::deploy::{DeployRequest, EnvSettings, FileJournal, deploy};
//! use deploykit_core::{AppSettings, DeployKind, EnvName, NullSink};
//! let env = EnvName::new("prod")?;
//! let journal = FileJournal::new(FileJournal::default_dir()?);
//! let req = DeployRequest::new(env.clone(), AppSettings::idp(), DeployKind::Full, "alice")
//!     .with_pr(11502);
//! let outcome = deploy(&ports, &EnvSettings::for_env(&env), &journal, &NullSink, &req).await?;
//! println!("{} {:?}", outcome.run_id, outcome.status);
//! # Ok(()) }
//! ```

mod context;
pub mod default_pr;
#[cfg(feature = "sim")]
pub mod demo;
pub mod driver;
pub mod held_lock;
pub mod journal;
pub mod migration_log;
pub mod monitor_verdict;
pub mod outcome;
pub mod plan;
pub mod ports;
pub mod release_guard;
pub mod request;
pub mod run_list;
pub mod settings;
pub mod state;
pub mod step;
pub(crate) mod steps;

pub use default_pr::default_pr;
pub use driver::{check_inputs, deploy, replay, resume, rollback};
pub use journal::{FileJournal, Journal, MemoryJournal, Record, RunId};
pub use monitor_verdict::{MonitorVerdict, Verdict};
pub use outcome::DeployOutcome;
pub use plan::{DeployPlan, PlannedStep, plan};
pub use ports::{
    Decision, DecisionFor, DecisionRequest, DeployPorts, FixedDecision, MONITOR_GATE, Operator,
    SMOKE_TESTS_GATE,
};
pub use request::{DeployRequest, RollbackRequest};
pub use settings::{EnvSettings, InconclusivePolicy, MonitorThresholds};
pub use state::{DeployState, FinalStatus, StepName};
