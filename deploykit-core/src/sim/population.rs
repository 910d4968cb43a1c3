//! A seeded population of simulated deploys, healthy and bad, whose per-window figures a
//! [`PopulationMonitor`] serves through the [`Monitor`] port (for judging the monitor gate's
//! rules on many deploys; see [`crate::sim::verdict_quality`]).
//!
//! The traffic model ([`TrafficAssumptions::login_gov`]) per deploy:
//! - total requests of the role per second, drawn log-uniformly in a range (the time of day
//!   a deploy happens), split between the old and new SHA (half each);
//! - requests per SHA per window ~ Poisson(rate x share x window);
//! - a per-deploy baseline 5xx rate (log-normal around the median), the same for old and new
//!   apart from a small real difference a healthy change may bring;
//! - per-window noise beyond the binomial: a factor common to both SHAs (a slow dependency hurts
//!   everyone) and a smaller one of each SHA's own (one instance having a bad minute), so 5xx
//!   counts are over-dispersed as real ones are;
//! - 5xx ~ Binomial(requests, rate); for each critical flow attempts ~ Poisson(requests x
//!   share) and successes ~ Binomial(attempts, success rate with its own noise).
//!
//! Bad deploys either raise the new SHA's 5xx rate (at once, or ramping up over the first
//! windows) or drop one critical flow's success rate on the new SHA.
//!
//! The same seed gives the same population and the same figures, window by window.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::Result;
use crate::model::fleet::InstanceId;
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::{
    FlowRate, InstanceSplitSample, MetricsWindow, Monitor, MonitorSample, ShaMetrics,
};
use crate::sim::rng::SplitMix64;

/// One critical flow of the traffic model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FlowAssumption {
    /// Event name, as the monitor reports it.
    pub name: String,
    /// Attempts of the flow per request served (0.05: one attempt per 20 requests).
    pub share_of_requests: f64,
    /// Median success rate across deploys.
    pub success: f64,
    /// Standard deviation of the success rate from one deploy (time of day) to another.
    pub success_sd_between_deploys: f64,
    /// Standard deviation of the success rate of both SHAs together, window to window.
    pub common_sd_per_window: f64,
    /// Standard deviation of each SHA's own success rate, window to window.
    pub own_sd_per_window: f64,
}

/// The traffic and noise every simulated deploy is drawn from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrafficAssumptions {
    /// Length of one window, in seconds (the monitor gate's window).
    pub window_secs: u64,
    /// Fewest requests per second of the whole role (both SHAs) during a deploy.
    pub min_requests_per_second: f64,
    /// Most requests per second of the whole role during a deploy.
    pub max_requests_per_second: f64,
    /// Share of the requests the new SHA serves (0.5: half the fleet is new).
    pub new_share: f64,
    /// Median baseline 5xx rate across deploys.
    pub baseline_error_rate: f64,
    /// Sigma of the log-normal spread of the baseline 5xx rate between deploys.
    pub baseline_error_sigma: f64,
    /// Sigma of the log-normal 5xx factor both SHAs share in a window.
    pub common_error_sigma: f64,
    /// Sigma of the log-normal 5xx factor of each SHA of its own in a window.
    pub own_error_sigma: f64,
    /// Sigma of the log-normal factor between a healthy new SHA's 5xx rate and the old one's
    /// (a healthy change is not exactly as good as the code it replaces).
    pub healthy_error_change_sigma: f64,
    /// Standard deviation of a healthy new SHA's flow success rate from the old one's.
    pub healthy_flow_change_sd: f64,
    /// The critical flows.
    pub flows: Vec<FlowAssumption>,
}

impl TrafficAssumptions {
    /// The IdP in production during deploy hours (BENCHMARKS.md quotes the gate's verdict
    /// quality on it). Estimates from public figures, to replace with New Relic's when known:
    ///
    /// - 150 to 450 requests per second for the whole role: Login.gov had about 55 million
    ///   active users a year (FY2023), roughly a million sign-ins a weekday, each a dozen IdP
    ///   requests, plus OIDC/SAML and API traffic, mostly in US daytime when deploys happen:
    ///   about 300 per second, within a factor 1.7 either way by the hour;
    /// - baseline 5xx 0.1 % (the canary rule's good line), between about 0.05 % and 0.2 %
    ///   from one deploy to another;
    /// - window-to-window noise of 30 % common to both SHAs and 15 % of each SHA's own;
    /// - sign-in (one attempt per 25 requests, 97 % succeed) and identity verification's
    ///   document check (one attempt per 100 requests, 90 % succeed).
    pub fn login_gov() -> Self {
        TrafficAssumptions {
            window_secs: 300,
            min_requests_per_second: 150.0,
            max_requests_per_second: 450.0,
            new_share: 0.5,
            baseline_error_rate: 0.001,
            baseline_error_sigma: 0.4,
            common_error_sigma: 0.3,
            own_error_sigma: 0.15,
            healthy_error_change_sigma: 0.1,
            healthy_flow_change_sd: 0.003,
            flows: vec![
                FlowAssumption {
                    name: "Sign in: success".into(),
                    share_of_requests: 0.04,
                    success: 0.97,
                    success_sd_between_deploys: 0.005,
                    common_sd_per_window: 0.005,
                    own_sd_per_window: 0.002,
                },
                FlowAssumption {
                    name: "IdV: doc auth verified".into(),
                    share_of_requests: 0.01,
                    success: 0.90,
                    success_sd_between_deploys: 0.02,
                    common_sd_per_window: 0.01,
                    own_sd_per_window: 0.004,
                },
            ],
        }
    }
}

/// What is wrong with a simulated deploy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DeployFault {
    /// Nothing: a healthy deploy.
    Healthy,
    /// The new SHA's 5xx rate rises to `to`, linearly over the first `ramp_windows` windows
    /// (0: at once).
    ErrorRise {
        /// The 5xx rate reached.
        to: f64,
        /// Windows the rise takes.
        ramp_windows: u32,
    },
    /// The new SHA's success rate of flow number `flow` is `drop` lower (0.05: 5 points).
    FlowDrop {
        /// Index into [`TrafficAssumptions::flows`].
        flow: usize,
        /// The drop, as a fraction.
        drop: f64,
        /// How many times as many attempts fail as would without the fault (a 3-point drop of
        /// a flow failing 3 % of the time: 2).
        failures_times: f64,
    },
}

impl DeployFault {
    /// Whether the deploy should be rolled back.
    pub fn is_bad(&self) -> bool {
        !matches!(self, DeployFault::Healthy)
    }
}

/// How large the flow drops of bad deploys are.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FlowDropSize {
    /// Drops of `min` to `max` (fractions: 0.03 is 3 points), whatever the flow's failure rate.
    Points {
        /// Smallest drop.
        min: f64,
        /// Largest drop.
        max: f64,
    },
    /// The flow's failures on the new SHA multiplied by `min` to `max` (2: twice as many
    /// attempts fail), as the 5xx rises multiply the 5xx rate.
    FailureFactor {
        /// Smallest factor.
        min: f64,
        /// Largest factor.
        max: f64,
    },
}

/// How the bad part of a population is made.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BadDeployMix {
    /// Share of bad deploys that raise the 5xx rate (the rest drop a flow).
    pub error_rise_share: f64,
    /// Lowest 5xx rate a bad deploy rises to.
    pub error_rise_min: f64,
    /// Highest 5xx rate a bad deploy rises to.
    pub error_rise_max: f64,
    /// Share of error rises that ramp over two windows instead of starting at once.
    pub ramping_share: f64,
    /// How large the flow drops are.
    pub flow_drop: FlowDropSize,
    /// Flows a drop may hit (indexes into [`TrafficAssumptions::flows`]), equally likely.
    pub dropped_flows: Vec<usize>,
}

impl Default for BadDeployMix {
    /// The population. Half 5xx rises to 0.8 %-1.2 % (eight to twelve times the
    /// baseline; half of them ramping over two windows, as when a failing code path gets more
    /// traffic), half a critical flow failing two to four times as often on the new SHA, on
    /// sign-in or identity verification equally (a change that breaks the flow for one browser,
    /// document type or partner). Sized like the 5xx rises, by how many times the bad outcome
    /// multiplies, but four times milder: sign-in drops 3 to 9 points, identity verification
    /// 10 to 30. [`BadDeployMix::small_flow_drops`] has the smaller drops no rule can catch in
    /// two windows.
    fn default() -> Self {
        BadDeployMix {
            error_rise_share: 0.5,
            error_rise_min: 0.008,
            error_rise_max: 0.012,
            ramping_share: 0.5,
            flow_drop: FlowDropSize::FailureFactor { min: 2.0, max: 4.0 },
            dropped_flows: vec![0, 1],
        }
    }
}

impl BadDeployMix {
    /// The 5xx rises of [`BadDeployMix::default`], and flow drops of 3 to 10 points on either
    /// flow whatever its failure rate. On identity verification (about 450 attempts per SHA per
    /// window, 90 % succeed) the standard error of two windows' difference is about 1.5 points,
    /// so a drop under about 10 points cannot be caught 99 % of the time within two windows by
    /// any rule that rolls back healthy deploys less than once in ten thousand; the gate's
    /// figures on this population show how much of it the rules still catch, and when.
    pub fn small_flow_drops() -> Self {
        BadDeployMix {
            flow_drop: FlowDropSize::Points {
                min: 0.03,
                max: 0.10,
            },
            ..Self::default()
        }
    }
}

/// One simulated deploy: its traffic, its fault, and the seed of its figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimulatedDeploy {
    /// Position in the population.
    pub index: usize,
    /// What is wrong with it.
    pub fault: DeployFault,
    /// Requests per second of the whole role.
    pub requests_per_second: f64,
    /// The old SHA's 5xx rate.
    pub old_error_rate: f64,
    /// The new SHA's 5xx rate before any fault.
    pub new_error_rate: f64,
    /// The old SHA's success rate of each flow.
    pub old_flow_success: Vec<f64>,
    /// The new SHA's success rate of each flow before any fault.
    pub new_flow_success: Vec<f64>,
    /// The old SHA.
    pub old_sha: Sha,
    /// The new SHA.
    pub new_sha: Sha,
    seed: u64,
}

fn log_normal(rng: &mut SplitMix64, sigma: f64) -> f64 {
    (sigma * rng.normal()).exp()
}

fn sha_of(index: usize, salt: u64) -> Result<Sha> {
    Sha::new(format!(
        "{:016x}",
        SplitMix64::seed_from(&[index as u64, salt])
    ))
}

/// `healthy` healthy deploys followed by `bad` bad ones, drawn from `seed`.
pub fn population(
    traffic: &TrafficAssumptions,
    mix: &BadDeployMix,
    seed: u64,
    healthy: usize,
    bad: usize,
) -> Result<Vec<SimulatedDeploy>> {
    (0..healthy + bad)
        .map(|index| {
            let deploy_seed = SplitMix64::seed_from(&[seed, index as u64]);
            let mut rng = SplitMix64::new(deploy_seed);
            let (lo, hi) = (
                traffic.min_requests_per_second.max(f64::MIN_POSITIVE),
                traffic.max_requests_per_second.max(f64::MIN_POSITIVE),
            );
            let requests_per_second = (lo.ln() + (hi.ln() - lo.ln()) * rng.next_f64()).exp();
            let old_error_rate = (traffic.baseline_error_rate
                * log_normal(&mut rng, traffic.baseline_error_sigma))
            .min(1.0);
            let new_error_rate = (old_error_rate
                * log_normal(&mut rng, traffic.healthy_error_change_sigma))
            .min(1.0);
            let mut old_flow_success = Vec::new();
            let mut new_flow_success = Vec::new();
            for f in &traffic.flows {
                let old = (f.success + f.success_sd_between_deploys * rng.normal()).clamp(0.0, 1.0);
                old_flow_success.push(old);
                new_flow_success
                    .push((old + traffic.healthy_flow_change_sd * rng.normal()).clamp(0.0, 1.0));
            }
            let fault = if index < healthy {
                DeployFault::Healthy
            } else if rng.next_f64() < mix.error_rise_share || mix.dropped_flows.is_empty() {
                let to =
                    mix.error_rise_min + (mix.error_rise_max - mix.error_rise_min) * rng.next_f64();
                let ramp_windows = if rng.next_f64() < mix.ramping_share {
                    2
                } else {
                    0
                };
                DeployFault::ErrorRise { to, ramp_windows }
            } else {
                let pick = ((rng.next_f64() * mix.dropped_flows.len() as f64) as usize)
                    .min(mix.dropped_flows.len() - 1);
                let flow = mix.dropped_flows[pick];
                let failing = 1.0 - new_flow_success.get(flow).copied().unwrap_or(1.0);
                let mut between = |min: f64, max: f64| min + (max - min) * rng.next_f64();
                let drop = match mix.flow_drop {
                    FlowDropSize::Points { min, max } => between(min, max),
                    FlowDropSize::FailureFactor { min, max } => failing * (between(min, max) - 1.0),
                };
                DeployFault::FlowDrop {
                    flow,
                    drop,
                    failures_times: if failing > 0.0 {
                        (failing + drop) / failing
                    } else {
                        f64::INFINITY
                    },
                }
            };
            Ok(SimulatedDeploy {
                index,
                fault,
                requests_per_second,
                old_error_rate,
                new_error_rate,
                old_flow_success,
                new_flow_success,
                old_sha: sha_of(index, seed ^ 0x01d)?,
                new_sha: sha_of(index, seed ^ 0x0e3)?,
                seed: deploy_seed,
            })
        })
        .collect()
}

impl SimulatedDeploy {
    /// The new SHA's 5xx rate in window `window` (0-based) with the fault applied.
    fn new_error_rate_in(&self, window: u32) -> f64 {
        match self.fault {
            DeployFault::ErrorRise { to, ramp_windows } if to > self.new_error_rate => {
                // Linear rise from the start of the first window; the window's mean.
                let reached = if ramp_windows == 0 {
                    1.0
                } else {
                    ((f64::from(window) + 0.5) / f64::from(ramp_windows)).min(1.0)
                };
                self.new_error_rate + (to - self.new_error_rate) * reached
            }
            _ => self.new_error_rate,
        }
    }

    fn new_flow_success_in(&self, flow: usize) -> f64 {
        let base = self.new_flow_success.get(flow).copied().unwrap_or(1.0);
        match self.fault {
            DeployFault::FlowDrop { flow: f, drop, .. } if f == flow => (base - drop).max(0.0),
            _ => base,
        }
    }

    /// The figures of both SHAs in window `window` (0-based) of the monitor gate; the same
    /// window always gives the same figures.
    pub fn sample(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
    ) -> MonitorSample {
        self.sample_serving(traffic, window, window, span, traffic.new_share)
    }

    /// The figures of window `window` once the recycle is over: the new SHA alone serves all
    /// the requests (the follow-up check an hour after the gate). Window numbers count from the
    /// same start as [`SimulatedDeploy::sample`]'s, and a 5xx ramp has reached its end.
    pub fn sample_recycled(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
    ) -> MonitorSample {
        self.sample_serving(traffic, window, window, span, 1.0)
    }

    /// The figures of window `window` of a config recycle, where old and new instances run the
    /// same SHA and the monitor sees them as one: window 0 is the window before the recycle
    /// (old instances alone), later windows are the gate's (old and new instances side by side,
    /// the new ones with the deploy's fault, e.g. a bad setting), added up under the old SHA.
    /// They are [`SimulatedDeploy::sample_config_recycle_by_instance`]'s two sides added up.
    pub fn sample_config_recycle(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
    ) -> MonitorSample {
        seen_as_one(self.sample_config_recycle_by_instance(traffic, window, span))
    }

    /// The figures of window `window` once a config recycle is over: the new instances alone
    /// serve every request, under the old SHA (the follow-up check an hour after the gate).
    pub fn sample_config_recycled(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
    ) -> MonitorSample {
        seen_as_one(self.config_recycle_serving(traffic, window, span, 1.0))
    }

    /// The figures of window `window` of a config recycle as a monitor that tells instances
    /// apart sees them: the old instances' and the new ones', both under the old SHA (see
    /// [`SimulatedDeploy::sample_config_recycle`]).
    pub fn sample_config_recycle_by_instance(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
    ) -> InstanceSplitSample {
        let new_share = if window == 0 { 0.0 } else { traffic.new_share };
        self.config_recycle_serving(traffic, window, span, new_share)
    }

    /// A config recycle's figures split by instance, the new instances serving `new_share`.
    fn config_recycle_serving(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        span: MetricsWindow,
        new_share: f64,
    ) -> InstanceSplitSample {
        // The fault starts with the recycle: the gate's first window is the fault's first.
        let sample =
            self.sample_serving(traffic, window, window.saturating_sub(1), span, new_share);
        let side = |sha: &Sha| {
            sample
                .per_sha
                .iter()
                .find(|m| m.sha == *sha)
                .map(|m| ShaMetrics {
                    sha: self.old_sha.clone(),
                    ..m.clone()
                })
        };
        InstanceSplitSample {
            window: span,
            old_instances: side(&self.old_sha),
            new_instances: side(&self.new_sha),
        }
    }

    /// The figures of window `window` with the new SHA serving `new_share` of the requests and
    /// the old SHA the rest (a SHA serving none is left out), the fault as it is in its window
    /// `fault_window` (a 5xx ramp's progress). The window's shared noise (the factor common to
    /// both SHAs) is drawn first, so it is the same whatever the split.
    fn sample_serving(
        &self,
        traffic: &TrafficAssumptions,
        window: u32,
        fault_window: u32,
        span: MetricsWindow,
        new_share: f64,
    ) -> MonitorSample {
        let mut rng = SplitMix64::new(SplitMix64::seed_from(&[self.seed, u64::from(window)]));
        let secs = (span.end - span.start).num_seconds().max(0) as f64;
        let common_error = log_normal(&mut rng, traffic.common_error_sigma);
        let common_flow: Vec<f64> = traffic
            .flows
            .iter()
            .map(|f| f.common_sd_per_window * rng.normal())
            .collect();
        let mut per_sha = Vec::new();
        for (sha, share, new) in [
            (&self.old_sha, 1.0 - new_share, false),
            (&self.new_sha, new_share, true),
        ] {
            if share <= 0.0 {
                continue;
            }
            let requests = rng.poisson(self.requests_per_second * share * secs);
            let base = if new {
                self.new_error_rate_in(fault_window)
            } else {
                self.old_error_rate
            };
            let rate =
                (base * common_error * log_normal(&mut rng, traffic.own_error_sigma)).min(1.0);
            let errors_5xx = rng.binomial(requests, rate);
            let mut flows = Vec::new();
            for (i, f) in traffic.flows.iter().enumerate() {
                let success = if new {
                    self.new_flow_success_in(i)
                } else {
                    self.old_flow_success.get(i).copied().unwrap_or(1.0)
                };
                let p =
                    (success + common_flow[i] + f.own_sd_per_window * rng.normal()).clamp(0.0, 1.0);
                let attempts = rng.poisson(requests as f64 * f.share_of_requests);
                flows.push(FlowRate {
                    name: f.name.clone(),
                    attempts,
                    successes: rng.binomial(attempts, p),
                });
            }
            per_sha.push(ShaMetrics {
                sha: sha.clone(),
                first_seen: Some(span.start),
                requests,
                errors_5xx,
                instances: 0,
                flows,
            });
        }
        MonitorSample {
            window: span,
            per_sha,
        }
    }
}

/// A config recycle's split as a monitor that cannot tell instances apart sees it: both sides
/// (one SHA) added up.
fn seen_as_one(split: InstanceSplitSample) -> MonitorSample {
    MonitorSample {
        window: split.window,
        per_sha: ShaMetrics::added_up(split.old_instances.into_iter().chain(split.new_instances))
            .into_iter()
            .collect(),
    }
}

/// A [`Monitor`] serving one simulated deploy's figures: window `i` is the one starting
/// `i` windows after `start`.
#[derive(Debug, Clone)]
pub struct PopulationMonitor {
    deploy: SimulatedDeploy,
    traffic: TrafficAssumptions,
    start: DateTime<Utc>,
    serving: Serving,
}

/// What a [`PopulationMonitor`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serving {
    /// Old and new SHA side by side ([`SimulatedDeploy::sample`]).
    SideBySide,
    /// The new SHA alone ([`SimulatedDeploy::sample_recycled`]).
    NewAlone,
    /// One SHA on old and new instances ([`SimulatedDeploy::sample_config_recycle`]).
    ConfigRecycle,
    /// The same after the config recycle: the new instances alone
    /// ([`SimulatedDeploy::sample_config_recycled`]).
    ConfigRecycled,
}

impl PopulationMonitor {
    /// Serves `deploy`'s figures for windows counted from `start`, old and new SHA side by side
    /// (the monitor gate, halfway through the recycle).
    pub fn new(deploy: SimulatedDeploy, traffic: TrafficAssumptions, start: DateTime<Utc>) -> Self {
        PopulationMonitor {
            deploy,
            traffic,
            start,
            serving: Serving::SideBySide,
        }
    }

    /// The same deploy once the recycle is over: the new SHA alone serves every request
    /// ([`SimulatedDeploy::sample_recycled`]); for a config recycle, the new instances alone
    /// ([`SimulatedDeploy::sample_config_recycled`]).
    pub fn recycled(self) -> Self {
        let serving = match self.serving {
            Serving::ConfigRecycle | Serving::ConfigRecycled => Serving::ConfigRecycled,
            Serving::SideBySide | Serving::NewAlone => Serving::NewAlone,
        };
        PopulationMonitor { serving, ..self }
    }

    /// The same deploy as a config recycle: one SHA on old and new instances, window 0 being
    /// the window before the recycle ([`SimulatedDeploy::sample_config_recycle`]).
    pub fn config_recycle(self) -> Self {
        PopulationMonitor {
            serving: Serving::ConfigRecycle,
            ..self
        }
    }

    /// The number of `window`, counted from `start`.
    fn index(&self, window: &MetricsWindow) -> u32 {
        let len = i64::try_from(self.traffic.window_secs.max(1)).unwrap_or(300);
        let index = (window.start - self.start).num_seconds().div_euclid(len);
        u32::try_from(index.max(0)).unwrap_or(u32::MAX)
    }
}

#[async_trait]
impl Monitor for PopulationMonitor {
    async fn sample(
        &self,
        _env: &EnvName,
        _role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        let index = self.index(window);
        Ok(match self.serving {
            Serving::SideBySide => self.deploy.sample(&self.traffic, index, *window),
            Serving::NewAlone => self.deploy.sample_recycled(&self.traffic, index, *window),
            Serving::ConfigRecycle => {
                self.deploy
                    .sample_config_recycle(&self.traffic, index, *window)
            }
            Serving::ConfigRecycled => {
                self.deploy
                    .sample_config_recycled(&self.traffic, index, *window)
            }
        })
    }

    /// A config recycle's figures split by instance (the simulated deploy has no instance ids:
    /// `old` is not needed to tell its sides apart); `None` when serving anything else.
    async fn sample_by_instance(
        &self,
        _env: &EnvName,
        _role: &RoleName,
        window: &MetricsWindow,
        _old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        Ok((self.serving == Serving::ConfigRecycle).then(|| {
            self.deploy.sample_config_recycle_by_instance(
                &self.traffic,
                self.index(window),
                *window,
            )
        }))
    }
}

/// The window `index` (0-based) of a gate starting at `start`.
pub fn window_at(start: DateTime<Utc>, window_secs: u64, index: u32) -> MetricsWindow {
    let len = i64::try_from(window_secs).unwrap_or(300);
    MetricsWindow {
        start: start + Duration::seconds(len * i64::from(index)),
        end: start + Duration::seconds(len * (i64::from(index) + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_population_is_deterministic_and_near_its_assumptions() {
        let traffic = TrafficAssumptions::login_gov();
        let mix = BadDeployMix::default();
        let a = population(&traffic, &mix, 11, 50, 50).expect("population");
        assert_eq!(a, population(&traffic, &mix, 11, 50, 50).expect("again"));
        assert!(a[..50].iter().all(|d| !d.fault.is_bad()));
        assert!(a[50..].iter().all(|d| d.fault.is_bad()));
        let start = "2026-11-24T15:00:00Z".parse().expect("time");
        let span = window_at(start, 300, 0);
        let s = a[0].sample(&traffic, 0, span);
        assert_eq!(s, a[0].sample(&traffic, 0, span));
        let old = &s.per_sha[0];
        // 150-450 requests per second, half to each SHA, 300 s: 22,500 to 67,500.
        assert!((20_000..72_000).contains(&old.requests), "{}", old.requests);
        assert!(old.error_rate().expect("rate") < 0.005);
        let sign_in = &old.flows[0];
        assert!(sign_in.attempts > 500 && sign_in.successes * 100 > sign_in.attempts * 90);
    }
}
