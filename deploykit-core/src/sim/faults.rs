//! Fault injection and call counting shared by every simulated port.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::sim::lock;

/// A failure a simulated port can be told to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A permanent backend failure ([`crate::ErrorKind::Backend`]).
    Permanent,
    /// Throttling ([`crate::ErrorKind::RateLimited`], temporary).
    Throttle,
    /// A call that did not finish in time ([`crate::ErrorKind::Timeout`], temporary).
    Timeout,
    /// A call the operator stopped ([`crate::ErrorKind::Interrupted`]): what a port gives
    /// back after Ctrl-C, e.g. a Python monitor whose caller pressed it.
    Interrupted,
    /// A call that did what it was asked but whose reply was lost: a timeout
    /// ([`crate::ErrorKind::Timeout`], temporary) *after* the change was made, as when a
    /// connection drops on the way back. The operations that change something remote go
    /// through [`Faults::act`], which makes the change first; for any other operation a lost
    /// reply is the same as [`Fault::Timeout`].
    LostReply,
}

/// Every operation a simulated port checks for faults (`<port>.<method>`), sorted: the names
/// [`Faults::inject`] acts on. A fault injected under any other name is never consumed, so
/// callers taking names from people (the Python `World.inject_fault`) check them here with
/// [`operation_named`].
pub const OPERATIONS: &[&str] = &[
    "code_host.add_labels",
    "code_host.create_pull_request",
    "code_host.create_release",
    "code_host.ensure_label",
    "code_host.merge_pull_request",
    "code_host.pull_request",
    "code_host.pull_requests",
    "code_host.releases",
    "code_host.reviews",
    "deploy_status.deploy_status",
    "fleet.delete_scheduled_action",
    "fleet.group",
    "fleet.groups",
    "fleet.load_balancer_health",
    "fleet.put_scheduled_action",
    "fleet.set_capacity",
    "fleet.set_scale_in_protection",
    "lock.acquire",
    "lock.holder",
    "lock.release",
    "lock.renew",
    "logs.read_log",
    "monitor.check_readable",
    "monitor.sample",
    "notifier.announce",
    "vcs.commits_between",
    "vcs.create_tag",
    "vcs.fetch",
    "vcs.files_changed",
    "vcs.merge_ours",
    "vcs.push",
    "vcs.push_tag",
    "vcs.remote_branch_exists",
    "vcs.remote_url",
    "vcs.resolve",
    "vcs.revert_merge",
    "vcs.tags_at",
];

/// `op` when it is one of [`OPERATIONS`]; otherwise an invalid-input error listing them.
///
/// ```
/// use deploykit_core::sim::faults::operation_named;
/// assert!(operation_named("monitor.sample").is_ok());
/// let typo = operation_named("monitr.sample").unwrap_err();
/// assert!(typo.to_string().contains("monitor.sample"));
/// ```
pub fn operation_named(op: &str) -> Result<&'static str> {
    OPERATIONS
        .iter()
        .find(|known| **known == op)
        .copied()
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "no simulated operation is called {op:?}, so a fault injected for it would never \
                 happen: use one of {}",
                OPERATIONS.join(", ")
            ))
        })
}

#[derive(Debug, Default)]
struct State {
    /// Per operation, what its next calls do: `None` lets them through.
    pending: BTreeMap<String, VecDeque<(Option<Fault>, u32)>>,
    calls: BTreeMap<String, u64>,
}

/// Injected faults and call counts, keyed by operation name `<port>.<method>`
/// (e.g. `fleet.set_capacity`, `vcs.push`, `monitor.sample`).
///
/// Share one `Arc<Faults>` between the fakes of a world; every simulated port method calls
/// [`Faults::check`] before doing anything.
///
/// ```
/// use deploykit_core::sim::{Fault, Faults};
/// let faults = Faults::new();
/// faults.inject("fleet.set_capacity", Fault::Throttle, 2);
/// assert!(faults.check("fleet.set_capacity").is_err());
/// assert!(faults.check("fleet.set_capacity").is_err());
/// assert!(faults.check("fleet.set_capacity").is_ok());
/// assert_eq!(faults.calls("fleet.set_capacity"), 3);
/// ```
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    /// No faults, no calls counted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `times` calls of `op` fail with `fault` (after faults already queued).
    pub fn inject(&self, op: &str, fault: Fault, times: u32) {
        self.queue(op, Some(fault), times);
    }

    /// Lets the next `passes` calls of `op` through, then makes `times` calls fail with
    /// `fault` (after faults already queued): to stop a run between two calls of one
    /// operation.
    ///
    /// ```
    /// use deploykit_core::sim::{Fault, Faults};
    /// let faults = Faults::new();
    /// faults.inject_after("fleet.put_scheduled_action", 2, Fault::Permanent, 1);
    /// assert!(faults.check("fleet.put_scheduled_action").is_ok());
    /// assert!(faults.check("fleet.put_scheduled_action").is_ok());
    /// assert!(faults.check("fleet.put_scheduled_action").is_err());
    /// assert!(faults.check("fleet.put_scheduled_action").is_ok());
    /// ```
    pub fn inject_after(&self, op: &str, passes: u32, fault: Fault, times: u32) {
        self.queue(op, None, passes);
        self.queue(op, Some(fault), times);
    }

    fn queue(&self, op: &str, fault: Option<Fault>, times: u32) {
        if times == 0 {
            return;
        }
        lock(&self.state)
            .pending
            .entry(op.to_string())
            .or_default()
            .push_back((fault, times));
    }

    /// Removes every queued fault (call counts are kept).
    pub fn clear(&self) {
        lock(&self.state).pending.clear();
    }

    /// Counts one call of `op` and returns the next injected fault for it, if any.
    pub fn check(&self, op: &str) -> Result<()> {
        match self.next(op) {
            None => Ok(()),
            Some(fault) => Err(fault_error(op, fault)),
        }
    }

    /// Counts one call of `op`, an operation that changes something, and runs `change`
    /// unless an injected fault stops it first; a [`Fault::LostReply`] runs `change` and
    /// then fails as a timeout.
    ///
    /// ```
    /// use deploykit_core::sim::{Fault, Faults};
    /// let faults = Faults::new();
    /// faults.inject("vcs.push", Fault::LostReply, 1);
    /// let mut pushed = 0;
    /// let lost = faults.act("vcs.push", || {
    ///     pushed += 1;
    ///     Ok(())
    /// });
    /// assert!(lost.is_err() && lost.unwrap_err().is_temporary());
    /// assert_eq!(pushed, 1, "the push happened; only its reply was lost");
    /// ```
    pub fn act<T>(&self, op: &str, change: impl FnOnce() -> Result<T>) -> Result<T> {
        match self.next(op) {
            None => change(),
            Some(Fault::LostReply) => {
                change()?;
                Err(fault_error(op, Fault::LostReply))
            }
            Some(fault) => Err(fault_error(op, fault)),
        }
    }

    /// Counts one call of `op` and takes the next injected fault for it, if any.
    fn next(&self, op: &str) -> Option<Fault> {
        let mut state = lock(&self.state);
        *state.calls.entry(op.to_string()).or_default() += 1;
        let queue = state.pending.get_mut(op)?;
        let (fault, left) = queue.front_mut()?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            queue.pop_front();
        }
        fault
    }

    /// How many times `op` was called since the last [`Faults::reset_counts`].
    pub fn calls(&self, op: &str) -> u64 {
        lock(&self.state).calls.get(op).copied().unwrap_or(0)
    }

    /// How many calls of any operation were made since the last [`Faults::reset_counts`].
    pub fn total_calls(&self) -> u64 {
        lock(&self.state).calls.values().sum()
    }

    /// Every operation called so far with its count, sorted by name.
    pub fn call_counts(&self) -> Vec<(String, u64)> {
        lock(&self.state)
            .calls
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Forgets the call counts (queued faults are kept).
    pub fn reset_counts(&self) {
        lock(&self.state).calls.clear();
    }
}

/// The error `fault` gives for a call of `op`, marked as injected.
fn fault_error(op: &str, fault: Fault) -> Error {
    match fault {
        Fault::Permanent => Error::backend(format!(
            "{op} failed: a permanent backend failure was injected by the simulated world"
        )),
        Fault::Throttle => Error::rate_limited(format!(
            "{op} was throttled: a rate limit was injected by the simulated world; retry later"
        )),
        Fault::Timeout => Error::timeout(format!(
            "{op} timed out: a timeout was injected by the simulated world; retry later"
        )),
        Fault::LostReply => Error::timeout(format!(
            "{op} timed out after it acted: a lost reply was injected by the simulated world; \
             retry later"
        )),
        Fault::Interrupted => Error::interrupted(format!(
            "{op} was interrupted: an interruption was injected by the simulated world"
        )),
    }
    .with("op", op)
    .with("injected", true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn faults_are_consumed_in_order_and_name_the_op() {
        let f = Faults::new();
        f.inject("vcs.push", Fault::Permanent, 1);
        f.inject("vcs.push", Fault::Timeout, 1);
        let e = f.check("vcs.push").expect_err("first");
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(e.to_string().contains("vcs.push") && e.to_string().contains("injected"));
        assert!(!e.is_temporary());
        let e = f.check("vcs.push").expect_err("second");
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(e.is_temporary());
        assert!(f.check("vcs.push").is_ok());
        assert!(f.check("vcs.fetch").is_ok());
        assert_eq!(f.calls("vcs.push"), 3);
        assert_eq!(f.total_calls(), 4);
        f.reset_counts();
        assert_eq!(f.total_calls(), 0);
    }

    /// The operation names the simulated ports check (`faults.check("...")`,
    /// `faults.act("...")`, the fleet's `with_group("...", ...)`) in `source`.
    fn checked_operations(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        for call in [".check(\"", ".act(\"", "with_group(\""] {
            for (at, _) in source.match_indices(call) {
                let rest = &source[at + call.len()..];
                if let Some(end) = rest.find('"') {
                    found.push(rest[..end].to_string());
                }
            }
        }
        found
    }

    #[test]
    fn operations_lists_exactly_the_names_the_simulated_ports_check() {
        // Every file of the simulated world but this one (whose examples name operations).
        let sources = [
            include_str!("clock.rs"),
            include_str!("code_host.rs"),
            include_str!("deploy_status.rs"),
            include_str!("fleet.rs"),
            include_str!("lock.rs"),
            include_str!("logs.rs"),
            include_str!("monitor.rs"),
            include_str!("mod.rs"),
            include_str!("notifier.rs"),
            include_str!("population.rs"),
            include_str!("releasing_code_host.rs"),
            include_str!("rng.rs"),
            include_str!("vcs.rs"),
            include_str!("verdict_quality.rs"),
            include_str!("world.rs"),
        ];
        let mut used: Vec<String> = sources.iter().flat_map(|s| checked_operations(s)).collect();
        used.sort();
        used.dedup();
        let listed: Vec<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            used, listed,
            "OPERATIONS must list every checked operation, sorted"
        );
        assert!(
            listed.windows(2).all(|w| w[0] < w[1]),
            "OPERATIONS is sorted"
        );
    }

    #[test]
    fn an_unknown_operation_is_refused_with_the_known_ones() {
        assert_eq!(operation_named("vcs.push").ok(), Some("vcs.push"));
        let e = operation_named("monitr.sample").expect_err("a typo");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("\"monitr.sample\""));
        assert!(e.to_string().contains("monitor.sample, notifier.announce"));
    }

    #[test]
    fn throttling_is_rate_limited() {
        let f = Faults::new();
        f.inject("monitor.sample", Fault::Throttle, 1);
        assert_eq!(
            f.check("monitor.sample").expect_err("throttled").kind(),
            ErrorKind::RateLimited
        );
        f.inject("monitor.sample", Fault::Throttle, 5);
        f.clear();
        assert!(f.check("monitor.sample").is_ok());
    }
}
