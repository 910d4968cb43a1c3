//! `Monitor`: per-SHA request and error figures of an app, as monitor-deploy computes them.

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::fleet::InstanceId;
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
pub use crate::ports::instance_split::InstanceSplitSample;

/// A time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricsWindow {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// Success rate of one critical flow (e.g. identity verification) for one SHA.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FlowRate {
    /// Event name.
    pub name: String,
    /// How many were attempted.
    pub attempts: u64,
    /// How many succeeded.
    pub successes: u64,
}

impl FlowRate {
    /// Adds this flow's counts into `flows`: to the flow of the same name, or as a new one.
    pub fn add_to(self, flows: &mut Vec<FlowRate>) {
        match flows.iter_mut().find(|f| f.name == self.name) {
            Some(f) => {
                f.attempts += self.attempts;
                f.successes += self.successes;
            }
            None => flows.push(self),
        }
    }
}

/// The figures of one deployed SHA over a window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShaMetrics {
    /// The SHA the requests were served by.
    pub sha: Sha,
    /// First log line seen from this SHA (tells old from new).
    pub first_seen: Option<DateTime<Utc>>,
    /// Requests served.
    pub requests: u64,
    /// Responses with status 500-599.
    pub errors_5xx: u64,
    /// Instances that served them.
    pub instances: u32,
    /// Critical flow success rates.
    pub flows: Vec<FlowRate>,
}

impl ShaMetrics {
    /// 5xx responses as a fraction of requests, `None` with no requests.
    pub fn error_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.errors_5xx as f64 / self.requests as f64)
    }

    /// What makes these figures impossible, if anything: more 5xx than requests, or a flow
    /// with more successes than attempts (a monitor's query or a port's arithmetic gone
    /// wrong; judging them would read `110%`).
    pub fn impossible(&self) -> Option<String> {
        if self.errors_5xx > self.requests {
            return Some(format!(
                "{}: {} 5xx of {} requests (more errors than requests)",
                self.sha.short(),
                self.errors_5xx,
                self.requests
            ));
        }
        self.flows
            .iter()
            .find(|f| f.successes > f.attempts)
            .map(|f| {
                format!(
                    "{}: flow {:?} succeeded {} times of {} attempts (more successes than \
                     attempts)",
                    self.sha.short(),
                    f.name,
                    f.successes,
                    f.attempts
                )
            })
    }

    /// `parts` added up as one (flows matched by name, the earliest `first_seen`), under the
    /// SHA of the part that served the most requests; `None` without parts.
    pub fn added_up(parts: impl IntoIterator<Item = ShaMetrics>) -> Option<ShaMetrics> {
        let parts: Vec<ShaMetrics> = parts.into_iter().collect();
        let sha = parts.iter().max_by_key(|p| p.requests)?.sha.clone();
        parts
            .into_iter()
            .reduce(|mut total, part| {
                total.requests += part.requests;
                total.errors_5xx += part.errors_5xx;
                total.instances += part.instances;
                total.first_seen = match (total.first_seen, part.first_seen) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                for flow in part.flows {
                    flow.add_to(&mut total.flows);
                }
                total
            })
            .map(|total| ShaMetrics { sha, ..total })
    }
}

/// One sample: the figures of every SHA seen in the window. An empty list means "no data",
/// never "no errors".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MonitorSample {
    /// The window the figures cover.
    pub window: MetricsWindow,
    /// Per-SHA figures, in the order SHAs were first seen.
    pub per_sha: Vec<ShaMetrics>,
}

/// Where per-SHA request figures of an app come from.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Monitor: Send + Sync + Debug {
    /// The per-SHA figures of `role` in `env` over `window`.
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample>;

    /// The figures of `role` in `env` over `window`, split between the instances in `old`
    /// and every other instance, or `None` when this monitor cannot tell its figures'
    /// instances apart (the gate then compares a config recycle with a baseline from before
    /// it). The default cannot.
    async fn sample_by_instance(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        let _ = (env, role, window, old);
        Ok(None)
    }

    /// Checks, before a deploy changes anything, that the figures of `role` in `env` can be
    /// read at all (e.g. that the log group exists): `Err` says what is missing and where it
    /// is configured. A gate that cannot read the monitor rolls the deploy back, so preflight
    /// asks this first. The default has nothing to check.
    async fn check_readable(&self, env: &EnvName, role: &RoleName) -> Result<()> {
        let _ = (env, role);
        Ok(())
    }
}
