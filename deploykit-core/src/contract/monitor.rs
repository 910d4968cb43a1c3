//! The `Monitor` contract: what the monitor gate relies on in every backend's figures.

use std::collections::BTreeSet;

use crate::contract::{Outcome, call, ensure};
use crate::model::fleet::InstanceId;
use crate::model::names::{EnvName, RoleName};
use crate::ports::{MetricsWindow, Monitor, ShaMetrics};

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
        consistent(s)?;
    }
    Ok(())
}

/// One SHA's (or side's) figures are consistent: 5xx responses within requests, flow
/// successes within attempts, at least one instance when requests were served.
fn consistent(s: &ShaMetrics) -> Outcome {
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
    Ok(())
}

/// A window with traffic split by instance, where the monitor can split (`None` passes: the
/// gate then uses a baseline): the split covers the window asked for, each side's figures
/// are consistent, no more instances count as old than `old` lists, and with no instance
/// listed as old every figure is on the new side.
pub async fn instance_split_is_consistent(
    m: &dyn Monitor,
    env: &EnvName,
    role: &RoleName,
    busy: &MetricsWindow,
    old: &[InstanceId],
) -> Outcome {
    let Some(split) = call(
        "sample_by_instance(busy window)",
        m.sample_by_instance(env, role, busy, old).await,
    )?
    else {
        return Ok(());
    };
    ensure!(
        split.window == *busy,
        "the split should cover the window asked for ({busy:?}), got {:?}",
        split.window
    );
    ensure!(
        split.old_instances.is_some() || split.new_instances.is_some(),
        "a window with traffic should have figures on one side at least"
    );
    for side in [&split.old_instances, &split.new_instances]
        .into_iter()
        .flatten()
    {
        consistent(side)?;
    }
    if let Some(o) = &split.old_instances {
        ensure!(
            o.instances as usize <= old.len(),
            "{} instances counted as old, but only {} were listed",
            o.instances,
            old.len()
        );
    }
    let none_old = call(
        "sample_by_instance(busy window, no old instances)",
        m.sample_by_instance(env, role, busy, &[]).await,
    )?;
    if let Some(none_old) = none_old {
        ensure!(
            none_old.old_instances.is_none_or(|o| o.requests == 0),
            "with no instance listed as old, the old side should be empty"
        );
        ensure!(
            none_old.new_instances.is_some_and(|n| n.requests > 0),
            "with no instance listed as old, every request should be on the new side"
        );
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
