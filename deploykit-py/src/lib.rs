//! deploykit for Python: `import deploykit`.
//!
//! Every operation exists twice: `name(...)` blocks on one shared tokio runtime with the GIL
//! released and stays interruptible with Ctrl-C; `name_async(...)` returns an awaitable.
//! Errors are `deploykit.DeployKitError` subclasses, one per core `ErrorKind`. Python objects
//! with the right methods can be passed as ports (`Notifier`, `Monitor`).

mod args;
mod backends;
mod cadence;
mod call;
mod callbacks;
mod convert;
mod deploy;
mod errors;
mod events;
mod fleet;
mod lock;
mod model;
mod monitor_table;
mod operations;
mod ports;
mod record;
mod release;
mod runs;
mod runtime;
mod wait;
mod world;

use pyo3::prelude::*;

/// The native module behind the `deploykit` package.
#[pymodule]
fn _deploykit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    model::register(m)?;
    ports::register(m)?;
    monitor_table::register(m)?;
    cadence::register(m)?;
    release::register(m)?;
    fleet::register(m)?;
    lock::register(m)?;
    deploy::register(m)?;
    runs::register(m)?;
    operations::register(m)?;
    world::register(m)?;
    backends::register(m)?;
    m.add_function(wrap_pyfunction!(wait::wait, m)?)?;
    m.add_function(wrap_pyfunction!(wait::wait_async, m)?)?;
    Ok(())
}
