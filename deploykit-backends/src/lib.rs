//! Builds deploykit's ports from the configuration: the real backends (AWS fleet, migration
//! logs, deploy lock and Logs Insights monitor; New Relic; GitHub; git; the deploy status
//! documents over HTTPS; Slack) or the simulated world. Both front ends (the `deploykit` CLI
//! and the Python bindings) build their ports here, so they behave the same.
//!
//! It is a crate of its own (rather than a `lib.rs` in the CLI) so that the Python extension
//! gets the builders without clap and the CLI's command code, and so that neither
//! `deploykit-aws` nor `deploykit-github` has to depend on the other.

mod deploy;
mod fleet;
mod printed;
mod release;

pub use deploy::{
    deploy_lock, deploy_ports, real_deploy_ports, sandbox_code_host, sandbox_deploy_ports,
};
pub use fleet::{FleetBackends, monitor_for};
pub use printed::PrintedNotifier;
pub use release::{ReleaseBackends, deploy_status_source, deploy_status_source_for};
