//! The `Monitor` contract: what the monitor gate relies on in every backend's figures.

use std::collections::BTreeSet;

use crate::contract::{Outcome, call, ensure};
use crate::model::names::{EnvName, RoleName};
use crate::ports::{MetricsWindow, Monitor};

/// A window with traffic: the sample covers the window asked for, lists each SHA once, and
/// every figure is consistent (5xx responses within requests, flow successes within
/// attempts, at least one instance for a SHA that served requests).
pub async fn figures_are_consistent(
    m: &dyn Monitor,
    env: &EnvName,
    role: &RoleName,
    busy: &MetricsWindow,
) -> Outcome {
    let sample = call("sample(busy window)", m.sample(env, role, busy).await)?;
    ensure!(
        sample.window == *busy,
        "the sample should cover the window asked for ({busy:?}), got {:?}",
        sample.window
    );
    ensure!(
        !sample.per_sha.is_empty(),
        "a window with traffic should have figures"
    );
    let shas: BTreeSet<&str> = sample.per_sha.iter().map(|s| s.sha.as_str()).collect();
    ensure!(
        shas.len() == sample.per_sha.len(),
        "each SHA should be listed once, got {:?}",
        sample
            .per_sha
            .iter()
            .map(|s| s.sha.as_str())
            .collect::<Vec<_>>()
    );
    for s in &sample.per_sha {
        ensure!(
            s.errors_5xx <= s.requests,
            "{}: {} 5xx responses out of {} requests",
            s.sha,
            s.errors_5xx,
            s.requests
        );
        ensure!(
            s.requests == 0 || s.instances > 0,
            "{}: {} requests served by no instance",
            s.sha,
            s.requests
        );
        for f in &s.flows {
            ensure!(
                f.successes <= f.attempts,
                "{}: flow {:?} has {} successes out of {} attempts",
                s.sha,
                f.name,
                f.successes,
                f.attempts
            );
        }
    }
    Ok(())
}

/// A window without traffic is "no data" (no SHA at all), never a SHA with zero errors.
pub async fn quiet_window_is_no_data(
    m: &dyn Monitor,
    env: &EnvName,
    role: &RoleName,
    quiet: &MetricsWindow,
) -> Outcome {
    let sample = call("sample(quiet window)", m.sample(env, role, quiet).await)?;
    ensure!(
        sample.per_sha.is_empty(),
        "a window without traffic should give no figures, got {:?}",
        sample.per_sha
    );
    Ok(())
}
