//! Per-environment deploy settings: timeouts, polling, monitor thresholds, and what to do
//! when a verdict is inconclusive. The defaults reproduce the guide.

use crate::model::names::EnvName;
use crate::policy::CadencePolicy;

/// What an inconclusive monitor verdict turns into when nobody can be asked (`--yes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InconclusivePolicy {
    /// Roll back. The guide: "It's safer to roll back the IDP to a known good state than leave
    /// it up in a possibly bad one", and "Do you need more than 15 minutes to confirm how bad
    /// the error is?" is a criterion for rolling back. The production default.
    Rollback,
    /// Go on with the deploy (environments with too little traffic to judge).
    Proceed,
    /// Stop and wait for a person's decision even with `--yes`.
    Ask,
}

impl InconclusivePolicy {
    /// What the policy does, in words (`roll back`, `go on`, `ask a person`).
    pub fn describe(self) -> &'static str {
        match self {
            InconclusivePolicy::Rollback => "roll back",
            InconclusivePolicy::Proceed => "go on",
            InconclusivePolicy::Ask => "ask a person",
        }
    }
}

/// The explicit rules of the monitor gate. Rates are fractions (0.01 is 1 %).
///
/// A window is *judged* only when the new SHA served at least `min_requests` requests in it.
/// A judged window is **bad** when the new SHA's 5xx rate is above `max_error_rate` (and, beside
/// an old SHA, at least `watch_z` standard errors above it), or when, compared with the old SHA,
/// the 5xx rate is up by `max_error_rate_increase` or more with at least `window_bad_z` standard
/// errors in one window, or `bad_z` in the running totals (and `ratio_bad_z` on the ratio of the
/// rates either way), or a critical flow (at least
/// `min_flow_attempts` attempts on each SHA) is down by `max_flow_success_drop` or more with at
/// least `flow_window_bad_z` standard errors in one window, or `flow_bad_z` in the running
/// totals. Standard errors are those of the difference of two
/// proportions, widened by the wobbles `error_rate_wobble` / `flow_failure_wobble` and the drifts
/// `error_rate_drift` / `flow_success_drift`, and against a baseline from another time also by
/// the whole role's wobble `shared_error_wobble` / `shared_flow_failure_wobble`.
/// It is **unclear** when a rise over `good_margin_over_old` (5xx, above `good_error_rate`) or
/// a drop over `good_flow_drop_margin` (flows) reaches `watch_z` standard errors, and **good**
/// otherwise. From the second window on, the running totals are judged the same way. Any bad
/// window or bad totals: Rollback. `good_windows_needed` good windows in a row with good totals:
/// Go; so too, at the last of `max_windows` windows, when every window was judged and the last
/// one and the totals are good (an earlier unclear window was a passing wobble). Otherwise,
/// after `max_windows` windows: Inconclusive. The module
/// [`crate::deploy::monitor_verdict`] explains the statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MonitorThresholds {
    /// Length of one window, in seconds.
    pub window_secs: u64,
    /// Windows watched before the verdict is Inconclusive.
    pub max_windows: u32,
    /// Good windows in a row needed for Go.
    pub good_windows_needed: u32,
    /// Requests of the new SHA in a window before it is judged.
    pub min_requests: u64,
    /// 5xx rate of the new SHA at or below which its 5xx never keep a window from good.
    pub good_error_rate: f64,
    /// 5xx rate of the new SHA above which a window is bad.
    pub max_error_rate: f64,
    /// Smallest rise of the new 5xx rate over the old one that makes a window bad (when it
    /// also reaches `bad_z` standard errors).
    pub max_error_rate_increase: f64,
    /// How far the new 5xx rate may exceed the old one and the window still be good, however
    /// many standard errors (above it, `watch_z` standard errors make the window unclear).
    pub good_margin_over_old: f64,
    /// Attempts of a flow (on each SHA) before its success rate is compared.
    pub min_flow_attempts: u64,
    /// A drop of the flow success rate (new below old) this large or larger is bad, when it
    /// also reaches `flow_window_bad_z` standard errors in one window or `flow_bad_z` in the
    /// running totals.
    pub max_flow_success_drop: f64,
    /// How far a flow's success rate may drop below the old SHA's and the window still be good.
    pub good_flow_drop_margin: f64,
    /// Standard errors a rise of the 5xx rate must reach, besides its size, to be bad in the
    /// running totals of two or more windows.
    pub bad_z: f64,
    /// Standard errors a rise of the 5xx rate must reach in one window alone to be bad at once.
    /// 5xx come in bursts that last about a window (a retrying client, one instance's bad
    /// minute), so a healthy SHA's single window reaches the totals' `bad_z` far more often
    /// than counting predicts; a rise that lasts adds up in the running totals, and a fault's
    /// sudden rise to ten times the old rate is far past this bar in its first window.
    pub window_bad_z: f64,
    /// Standard errors the same rise must also reach on the log of the ratio of the rates (new
    /// over old) to be bad. 5xx bursts multiply a rate: a healthy SHA's rate at two or three
    /// times the other's for one window is within a burst's reach even when, with tens of
    /// thousands of requests, the difference looks many standard errors away; a fault's rise
    /// to ten times the old rate is far beyond it.
    pub ratio_bad_z: f64,
    /// Standard errors a critical flow's drop must reach, besides its size, to be bad in the
    /// running totals of two or more windows. Flow outcomes vary about as counting predicts,
    /// without the 5xx bursts, so they need fewer than the 5xx.
    pub flow_bad_z: f64,
    /// Standard errors a critical flow's drop must reach in one window alone to be bad at once
    /// (a flow that collapsed). A smaller drop waits for the running totals: for a drop that
    /// lasts, they hold all the evidence the single windows do, and each extra look at a
    /// single window is one more chance for a healthy deploy's noise to be taken for a fault.
    pub flow_window_bad_z: f64,
    /// Standard errors from which a rise over the good margin keeps the gate watching.
    pub watch_z: f64,
    /// How much a SHA's 5xx rate wobbles from one window to the next beyond counting noise,
    /// relative to the rate (0.15: a 0.1 % rate is 0.085 % to 0.115 % about two thirds of the
    /// time). Added to the standard error of the 5xx comparison: 5xx come in bursts (a retrying
    /// client, one instance's bad minute), so with tens of thousands of requests counting noise
    /// alone would make such wobbles look significant.
    pub error_rate_wobble: f64,
    /// The same for a critical flow's failure rate (0.07: a flow failing 10 % of the time
    /// wobbles by about 0.7 points between windows).
    pub flow_failure_wobble: f64,
    /// How much the whole role's 5xx rate moves from one window to the next, old and new SHA
    /// together (a slow dependency, the mix of traffic), relative to the rate (0.3). The old
    /// SHA's figures in the same window move with the new SHA's and cancel it; a baseline from
    /// another time does not (the follow-up check an hour later, a config recycle), so it
    /// widens the standard error of comparisons with a baseline only.
    pub shared_error_wobble: f64,
    /// The same for a critical flow's failure rate (0.2: a flow failing 3 % of the time moves
    /// by about 0.6 points between windows, on every SHA at once).
    pub shared_flow_failure_wobble: f64,
    /// How much a healthy new SHA's 5xx rate lastingly differs from the old one's, relative to
    /// the old rate (0.1: a healthy change is within about 10 % of the old rate two times in
    /// three). Unlike the wobble, it does not average out over windows.
    pub error_rate_drift: f64,
    /// How much a healthy new SHA's flow success rate lastingly differs from the old one's,
    /// in points as a fraction (0.003: within 0.3 points two times in three).
    pub flow_success_drift: f64,
}

impl Default for MonitorThresholds {
    fn default() -> Self {
        MonitorThresholds {
            window_secs: 300,
            max_windows: 3,
            good_windows_needed: 2,
            min_requests: 1000,
            good_error_rate: 0.001,
            max_error_rate: 0.01,
            max_error_rate_increase: 0.002,
            good_margin_over_old: 0.001,
            min_flow_attempts: 20,
            max_flow_success_drop: 0.02,
            good_flow_drop_margin: 0.01,
            bad_z: 5.0,
            window_bad_z: 5.75,
            ratio_bad_z: 4.0,
            flow_bad_z: 4.5,
            flow_window_bad_z: 5.25,
            watch_z: 3.0,
            error_rate_wobble: 0.15,
            flow_failure_wobble: 0.07,
            shared_error_wobble: 0.3,
            shared_flow_failure_wobble: 0.2,
            error_rate_drift: 0.1,
            flow_success_drift: 0.003,
        }
    }
}

/// How a deploy behaves in one environment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvSettings {
    /// The environment.
    pub name: EnvName,
    /// Production: old instances are scaled in by hand after the spindown (the guide's
    /// "PRODUCTION ONLY" step); other environments let the spindown remove them.
    pub production: bool,
    /// Overrides the recycle's computed spindown delay (seconds), if set. Not applied yet:
    /// the deploy uses fleet_ops' computed spindown (max(2 x grace, 600) + spinup delay); a
    /// value here is reported as ignored.
    pub spindown_secs: Option<u64>,
    /// How long the migration instance may take (appear, run, print its final marker).
    pub migration_timeout_secs: u64,
    /// How long new instances may take to be InService and healthy in the load balancer.
    pub health_timeout_secs: u64,
    /// Seconds between two polls of a wait.
    pub poll_secs: u64,
    /// The monitor gate's rules.
    pub monitor: MonitorThresholds,
    /// When the follow-up check runs, counted from the end of the monitor gate.
    pub follow_up_after_secs: u64,
    /// What `--yes` does with an inconclusive verdict.
    pub inconclusive_with_yes: InconclusivePolicy,
    /// How long a deploy lock lasts before the next deploy may take it over.
    pub lock_ttl_secs: u64,
    /// Attempts of a call failing with a temporary error (throttling, timeouts).
    pub retry_attempts: u32,
    /// First backoff between attempts, doubled each time.
    pub retry_backoff_secs: u64,
    /// The deploy calendar preflight checks.
    pub cadence: CadencePolicy,
    /// The team's offset from UTC in hours, for the calendar's date (-5: Washington in
    /// winter; a deploy at 01:00 UTC on Wednesday is still Tuesday for the team).
    pub calendar_utc_offset_hours: i32,
}

impl EnvSettings {
    /// The defaults for `env`: production rules when the environment is `prod`.
    pub fn for_env(env: &EnvName) -> Self {
        let production = env.is_production();
        EnvSettings {
            name: env.clone(),
            production,
            spindown_secs: None,
            migration_timeout_secs: 1800,
            health_timeout_secs: 1200,
            poll_secs: 15,
            monitor: MonitorThresholds::default(),
            follow_up_after_secs: 3600,
            inconclusive_with_yes: if production {
                InconclusivePolicy::Rollback
            } else {
                InconclusivePolicy::Proceed
            },
            lock_ttl_secs: 4 * 3600,
            retry_attempts: 5,
            retry_backoff_secs: 2,
            cadence: CadencePolicy::default(),
            calendar_utc_offset_hours: -5,
        }
    }

    /// Whether old instances are scaled in by hand after the spindown.
    pub fn scales_in_old(&self) -> bool {
        self.production
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_guide() {
        let prod = EnvSettings::for_env(&EnvName::new("prod").expect("env"));
        assert!(prod.scales_in_old());
        assert_eq!(prod.migration_timeout_secs, 1800);
        assert_eq!(prod.follow_up_after_secs, 3600);
        assert_eq!(prod.inconclusive_with_yes, InconclusivePolicy::Rollback);
        // The guide's "more than 15 minutes to confirm" criterion bounds the monitor gate.
        assert_eq!(
            prod.monitor.window_secs * u64::from(prod.monitor.max_windows),
            15 * 60
        );
        let int = EnvSettings::for_env(&EnvName::new("int").expect("env"));
        assert!(!int.scales_in_old());
        assert_eq!(int.inconclusive_with_yes, InconclusivePolicy::Proceed);
    }

    #[test]
    fn thresholds_deserialize_with_defaults() {
        let t: MonitorThresholds = toml::from_str("min_requests = 50").expect("toml");
        assert_eq!(t.min_requests, 50);
        assert_eq!(t.max_error_rate, 0.01);
    }
}
