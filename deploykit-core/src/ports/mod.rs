//! The ports: traits the workflows call, implemented by real backends and by the simulated
//! world. Every port is object-safe and used as `Arc<dyn Port>`.

pub mod clock;
pub mod code_host;
pub mod deploy_lock;
pub mod deploy_status_source;
pub mod fleet;
pub mod instance_split;
pub mod log_source;
pub mod monitor;
pub mod notifier;
pub mod vcs;

pub use clock::{Clock, SystemClock};
pub use code_host::{
    CodeHost, MergeMethod, NewPullRequest, NewRelease, PrState, PullRequest, PullRequestQuery,
    Release, Review, ReviewState,
};
pub use deploy_lock::{DeployLock, LockHolder};
pub use deploy_status_source::DeployStatusSource;
pub use fleet::Fleet;
pub use instance_split::{InstanceSplitSample, NameWithoutInstanceId, split_by_name};
pub use log_source::{LogChunk, LogSource};
pub use monitor::{FlowRate, MetricsWindow, Monitor, MonitorSample, ShaMetrics};
pub use notifier::{Announcement, Notifier};
pub use vcs::{Commit, Vcs};

#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use code_host::MockCodeHost;
#[cfg(any(test, feature = "mocks"))]
pub use deploy_lock::MockDeployLock;
#[cfg(any(test, feature = "mocks"))]
pub use deploy_status_source::MockDeployStatusSource;
#[cfg(any(test, feature = "mocks"))]
pub use fleet::MockFleet;
#[cfg(any(test, feature = "mocks"))]
pub use log_source::MockLogSource;
#[cfg(any(test, feature = "mocks"))]
pub use monitor::MockMonitor;
#[cfg(any(test, feature = "mocks"))]
pub use notifier::MockNotifier;
#[cfg(any(test, feature = "mocks"))]
pub use vcs::MockVcs;
