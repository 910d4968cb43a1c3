//! The simulated world: every port implemented in memory on a virtual clock, with fault
//! injection, so workflows can be rehearsed and tested in milliseconds.
//!
//! - [`VirtualClock`]: time that moves only when something sleeps or a test advances it;
//! - [`Faults`]: injected failures and per-operation call counts shared by every fake;
//! - [`SimFleet`]: Auto Scaling groups that boot, pass load-balancer checks, fire scheduled
//!   actions and honour scale-in protection on the virtual clock;
//! - [`ScriptedLogs`], [`ScriptedMonitor`]: migration logs and per-SHA traffic derived from
//!   the fleet;
//! - [`SimVcs`], [`SimCodeHost`]: an in-memory git repository and its code host;
//! - [`RecordingNotifier`], [`SimDeployStatus`], [`MemoryLock`];
//! - [`World`]: all of the above wired together, with a realistic Login.gov starting point;
//! - [`population`], [`verdict_quality`]: many simulated deploys, healthy and bad, judged by
//!   the monitor gate's rules.

pub mod clock;
pub mod code_host;
pub mod deploy_status;
pub mod faults;
pub mod fleet;
pub mod lock;
pub mod logs;
pub mod monitor;
pub mod notifier;
pub mod population;
pub mod releasing_code_host;
pub mod rng;
pub mod vcs;
pub mod verdict_quality;
pub mod world;

pub use clock::VirtualClock;
pub use code_host::{CreatedRelease, MergeRecord, SimCodeHost};
pub use deploy_status::SimDeployStatus;
pub use faults::{Fault, Faults};
pub use fleet::{FleetEvent, FleetEventKind, GroupSpec, InstanceRecord, SimFleet, SimFleetConfig};
pub use lock::MemoryLock;
pub use logs::{MigrationScript, ScriptedLogs};
pub use monitor::{ScriptedMonitor, TrafficProfile};
pub use notifier::RecordingNotifier;
pub use releasing_code_host::{OnMerge, ReleasingCodeHost};
pub use vcs::{SimCommit, SimTag, SimVcs};
pub use world::{AppRepo, World, login_gov_start};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a mutex, carrying on with the data if another thread panicked while holding it
/// (the fakes never leave their state half-updated across a panic point).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A simulated fleet on a virtual clock at Tuesday 2026-11-24 15:00 UTC, with its fault
/// injector, and no group yet: the start of the simulated ports' unit tests.
#[cfg(test)]
pub(crate) fn test_fleet() -> (
    std::sync::Arc<VirtualClock>,
    std::sync::Arc<Faults>,
    std::sync::Arc<SimFleet>,
) {
    let clock = std::sync::Arc::new(VirtualClock::new(
        "2026-11-24T15:00:00Z".parse().expect("time"),
    ));
    let faults = std::sync::Arc::new(Faults::new());
    let fleet = std::sync::Arc::new(SimFleet::new(
        clock.clone(),
        faults.clone(),
        SimFleetConfig::default(),
    ));
    (clock, faults, fleet)
}
