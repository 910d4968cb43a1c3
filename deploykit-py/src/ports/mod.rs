//! Python objects as deploykit ports: any object with the right methods can stand in for a
//! `Notifier` (`announce`), a `Monitor` (`sample`) or a deploy `Operator` (`decide`). Calls run on a blocking thread of the
//! runtime with the GIL held; a Python exception becomes a core error (kind kept for a
//! `DeployKitError`, `backend` otherwise).

pub mod monitor;
pub mod notifier;
pub mod operator;

use pyo3::prelude::*;

/// Registers the port classes and functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    notifier::register(m)?;
    monitor::register(m)?;
    Ok(())
}
