//! The ports a command works with: the simulated world (`--sandbox`) or the real backends,
//! built by `deploykit-backends` (shared with the Python bindings).

pub use deploykit_backends::{FleetBackends, ReleaseBackends, deploy_lock, deploy_ports};
