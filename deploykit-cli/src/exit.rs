//! Exit codes: what a script calling deploykit can branch on.

use deploykit_core::{Error, ErrorKind};

/// Success.
pub const OK: u8 = 0;
/// A failure (backend, not found, conflict, ...): the message says what to do.
pub const FAILED: u8 = 1;
/// Bad command-line usage or input.
pub const USAGE: u8 = 2;
/// A policy refused the operation: the cadence calendar, the no-migration risk check, a
/// promotion PR that is not open, approved and aimed at the production branch.
pub const POLICY_REFUSED: u8 = 3;
/// Refused because going on could take capacity away from users (a fleet not ready, a
/// recycle in progress) or race another deploy (its run holds the deploy lock).
pub const UNSAFE: u8 = 4;
/// The deploy ended rolled back.
pub const ROLLED_BACK: u8 = 5;
/// The deploy is paused, waiting for a person's decision (an inconclusive monitor gate, the
/// smoke tests): it holds the deploy lock and `deploykit resume RUN --decision go|rollback`
/// continues it.
pub const PAUSED: u8 = 6;
/// The operation is not supported here (e.g. by this backend or on this platform).
pub const UNSUPPORTED: u8 = 69;
/// Interrupted by the operator (Ctrl-C, SIGINT), or a run's input could not be read.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (a cancelled CI job, a stopped service).
pub const TERMINATED: u8 = 143;

/// The exit code for an error.
pub fn code_for(error: &Error) -> u8 {
    code_for_kind(error.kind())
}

/// The exit code for an error of `kind`, or a run stopped by a refusal of that kind.
pub fn code_for_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => USAGE,
        ErrorKind::PolicyRefused => POLICY_REFUSED,
        ErrorKind::Unsafe => UNSAFE,
        ErrorKind::Interrupted => INTERRUPTED,
        ErrorKind::Unsupported => UNSUPPORTED,
        _ => FAILED,
    }
}
