//! deploykit-core: Login.gov's release process as a library.
//!
//! - [`model`]: names, SHAs, release numbers, RC branches, fleet types, deploy status;
//! - [`ports`]: the traits workflows call (`Vcs`, `CodeHost`, `Fleet`, `LogSource`, `Monitor`,
//!   `Notifier`, plus `DeployStatusSource`, `Clock`, `DeployLock`);
//! - [`Error`]: the one error type, with a kind callers can act on.

pub mod asker;
pub mod changelog;
pub mod config;
pub mod contract;
pub mod deploy;
pub mod error;
pub mod events;
pub mod fleet_ops;
pub mod model;
#[cfg(feature = "http")]
pub mod newrelic;
pub mod notify;
pub mod policy;
pub mod ports;
pub mod release;
pub mod report;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "http")]
pub mod slack;
pub mod status;

#[cfg(all(test, feature = "http"))]
mod http_fake;

pub use asker::Asker;
pub use error::{Error, ErrorKind, Result};
pub use events::{Event, EventSink, NullSink, RecordingSink};
pub use model::*;
