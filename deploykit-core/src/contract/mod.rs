//! Contract suites: one `pub async fn` per behaviour a port must have, run against the fakes
//! of [`crate::sim`] in core's tests and against every real backend in that backend's tests.
//! A fake that passes a suite is as trustworthy as the real thing for workflow tests.
//!
//! Every function returns [`Outcome`]: `Ok(())` when the port behaved, or `Err` with a
//! message saying which expectation failed, what was expected and what was found. Callers
//! usually write `contract::fleet::raise_desired_launches(&h).await.unwrap()` (or
//! `assert_eq!(..., Ok(()))`) in a `#[tokio::test]`. A behaviour a backend cannot emulate
//! (announced by the harness's capability flags) is skipped: the function prints
//! `contract skipped: <name>: <reason>` and returns `Ok(())`.

pub mod code_host;
pub mod deploy_lock;
pub mod fleet;
pub mod log_source;
pub mod monitor;
pub mod notifier;
pub mod vcs;

use std::fmt::Debug;

use crate::error::{ErrorKind, Result};

/// The result of one contract check: `Err` says which expectation failed.
pub type Outcome = std::result::Result<(), String>;

/// Returns `Err(format!(...))` from the enclosing contract function unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}
pub(crate) use ensure;

/// Unwraps a port result inside a contract function, turning an error into a failure that
/// says which call failed.
pub(crate) fn call<T>(what: &str, r: Result<T>) -> std::result::Result<T, String> {
    r.map_err(|e| format!("{what} failed unexpectedly: {e} (kind {})", e.kind()))
}

/// Checks that a port call failed with `kind`, and that its message mentions `mentions`.
pub(crate) fn expect_error<T: Debug>(
    what: &str,
    r: Result<T>,
    kind: ErrorKind,
    mentions: &str,
) -> Outcome {
    match r {
        Ok(v) => Err(format!("{what}: expected a {kind} error, got Ok({v:?})")),
        Err(e) if e.kind() != kind => Err(format!(
            "{what}: expected a {kind} error, got {} error: {e}",
            e.kind()
        )),
        Err(e) if !e.to_string().contains(mentions) => Err(format!(
            "{what}: the {kind} error should mention {mentions:?}, got: {e}"
        )),
        Err(_) => Ok(()),
    }
}

/// Prints why a contract check is skipped, and passes.
pub(crate) fn skip(name: &str, reason: &str) -> Outcome {
    println!("contract skipped: {name}: {reason}");
    Ok(())
}
