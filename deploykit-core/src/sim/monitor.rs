//! Per-SHA traffic figures derived from a [`SimFleet`], with seeded noise.
//!
//! For each SHA whose instances of the role were `InService` during the window: requests ~
//! Poisson(rate x instance-minutes), 5xx ~ Binomial(requests, error rate), and for each
//! critical flow attempts ~ Poisson(requests x [`FLOW_SHARE`]) and successes ~
//! Binomial(attempts, success rate). Profiles are per SHA and may change at a given time, so
//! an error spike can start after the new SHA takes traffic. The same window sampled twice
//! gives the same figures.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::{
    Clock, FlowRate, InstanceSplitSample, MetricsWindow, Monitor, MonitorSample, ShaMetrics,
};
use crate::sim::fleet::InstanceRecord;
use crate::sim::rng::SplitMix64;
use crate::sim::{Faults, SimFleet, VirtualClock, lock};

/// The share of requests that attempt each critical flow.
pub const FLOW_SHARE: f64 = 0.02;

/// How one SHA's instances behave under traffic.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrafficProfile {
    /// Requests each instance serves per minute (mean).
    pub requests_per_instance_per_minute: f64,
    /// Probability that a request gets a 5xx.
    pub error_rate: f64,
    /// Critical flows and their success probabilities.
    pub flow_success: Vec<(String, f64)>,
}

impl Default for TrafficProfile {
    /// 600 requests per instance per minute, 0.1 % 5xx, two healthy critical flows.
    fn default() -> Self {
        TrafficProfile {
            requests_per_instance_per_minute: 600.0,
            error_rate: 0.001,
            flow_success: vec![
                ("IdV: doc auth verified".into(), 0.92),
                ("Sign in: success".into(), 0.98),
            ],
        }
    }
}

impl TrafficProfile {
    /// The default profile with another 5xx rate (e.g. 0.05 for a bad release).
    pub fn with_error_rate(error_rate: f64) -> Self {
        TrafficProfile {
            error_rate,
            ..Default::default()
        }
    }
}

#[derive(Debug)]
struct State {
    default: TrafficProfile,
    /// (sha, from, profile); `from: None` means from the beginning.
    profiles: Vec<(Sha, Option<DateTime<Utc>>, TrafficProfile)>,
    /// Instances launched at or after this time behave as this profile, whatever their SHA.
    launched: Option<(DateTime<Utc>, TrafficProfile)>,
    /// Whether `sample_by_instance` splits (false: as a monitor that cannot).
    splits_by_instance: bool,
}

/// Scripted metrics over a [`SimFleet`]; see the module documentation.
#[derive(Debug)]
pub struct ScriptedMonitor {
    fleet: Arc<SimFleet>,
    clock: Arc<VirtualClock>,
    faults: Arc<Faults>,
    seed: u64,
    state: Mutex<State>,
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl ScriptedMonitor {
    /// Figures from `fleet`'s instances, noise from `seed`; fails as `faults` says
    /// (op `monitor.sample`).
    pub fn new(
        fleet: Arc<SimFleet>,
        clock: Arc<VirtualClock>,
        faults: Arc<Faults>,
        seed: u64,
    ) -> Self {
        ScriptedMonitor {
            fleet,
            clock,
            faults,
            seed,
            state: Mutex::new(State {
                default: TrafficProfile::default(),
                profiles: Vec::new(),
                launched: None,
                splits_by_instance: true,
            }),
        }
    }

    /// The profile of SHAs that have none of their own.
    pub fn set_default_profile(&self, profile: TrafficProfile) {
        lock(&self.state).default = profile;
    }

    /// `sha`'s profile from the beginning (replacing earlier settings for it).
    pub fn set_profile(&self, sha: &Sha, profile: TrafficProfile) {
        let mut st = lock(&self.state);
        st.profiles.retain(|(s, _, _)| !s.matches(sha));
        st.profiles.push((sha.clone(), None, profile));
    }

    /// `sha`'s profile from `at` on (earlier traffic keeps the previous profile).
    pub fn set_profile_from(&self, sha: &Sha, at: DateTime<Utc>, profile: TrafficProfile) {
        lock(&self.state)
            .profiles
            .push((sha.clone(), Some(at), profile));
    }

    /// Every instance launched at or after `at` behaves as `profile`, whatever its SHA: a bad
    /// setting a config recycle brought to the instances it launched.
    pub fn set_launched_profile_from(&self, at: DateTime<Utc>, profile: TrafficProfile) {
        lock(&self.state).launched = Some((at, profile));
    }

    /// Whether [`Monitor::sample_by_instance`] splits the figures by instance (the default),
    /// or answers `None` as a monitor that cannot tell instances apart.
    pub fn set_splits_by_instance(&self, splits: bool) {
        lock(&self.state).splits_by_instance = splits;
    }

    /// The profile changes of `sha`: (from, profile), from the beginning on.
    fn schedule_of(&self, sha: &Sha) -> Vec<(Option<DateTime<Utc>>, TrafficProfile)> {
        let st = lock(&self.state);
        let mut own: Vec<_> = st
            .profiles
            .iter()
            .filter(|(s, _, _)| s.matches(sha))
            .map(|(_, at, p)| (*at, p.clone()))
            .collect();
        own.sort_by_key(|(at, _)| *at);
        if own.first().is_none_or(|(at, _)| at.is_some()) {
            own.insert(0, (None, st.default.clone()));
        }
        own
    }
}

/// Splits `[start, end)` at the schedule's change points: (minutes, profile index).
fn segments(
    schedule: &[(Option<DateTime<Utc>>, TrafficProfile)],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(f64, usize)> {
    let mut out = Vec::new();
    for (i, (from, _)) in schedule.iter().enumerate() {
        let seg_start = from.map_or(start, |f| f.max(start));
        let seg_end = schedule
            .get(i + 1)
            .and_then(|(next, _)| *next)
            .map_or(end, |n| n.min(end));
        if seg_end > seg_start {
            out.push((
                (seg_end - seg_start).num_milliseconds() as f64 / 60_000.0,
                i,
            ));
        }
    }
    out
}

impl ScriptedMonitor {
    /// The figures of `records` of `group`, all running `sha`, over `[start, end)`: each
    /// instance launched since [`ScriptedMonitor::set_launched_profile_from`]'s time with that
    /// profile, the others with `sha`'s. `salt` tells apart draws over the same window (none
    /// for a whole SHA). `None` when none of them served in the window.
    fn figures(
        &self,
        group: &GroupName,
        sha: &Sha,
        records: &[&InstanceRecord],
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        salt: &[u64],
    ) -> Option<ShaMetrics> {
        let launched = lock(&self.state).launched.clone();
        let (relaunched, own): (Vec<&InstanceRecord>, Vec<&InstanceRecord>) =
            records.iter().partition(|r| {
                launched
                    .as_ref()
                    .is_some_and(|(at, _)| r.launch_time >= *at)
            });
        let mut parts = Vec::new();
        parts.extend(self.draw(group, sha, &self.schedule_of(sha), &own, (start, end), salt));
        if let Some((_, profile)) = launched {
            let salt: Vec<u64> = salt.iter().copied().chain([hash_str("launched")]).collect();
            parts.extend(self.draw(
                group,
                sha,
                &[(None, profile)],
                &relaunched,
                (start, end),
                &salt,
            ));
        }
        ShaMetrics::added_up(parts)
    }

    /// Draws the traffic of `records` following `schedule`; see [`ScriptedMonitor::figures`].
    fn draw(
        &self,
        group: &GroupName,
        sha: &Sha,
        schedule: &[(Option<DateTime<Utc>>, TrafficProfile)],
        records: &[&InstanceRecord],
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        salt: &[u64],
    ) -> Option<ShaMetrics> {
        let first_seen = records.iter().filter_map(|r| r.in_service_at).min()?;
        let mut minutes = vec![0.0; schedule.len()];
        let mut instances = 0u32;
        for r in records {
            let Some(up) = r.in_service_at else { continue };
            let s = up.max(start);
            let e = r.terminated_at.map_or(end, |t| t.min(end));
            if e <= s {
                continue;
            }
            instances += 1;
            for (m, i) in segments(schedule, s, e) {
                minutes[i] += m;
            }
        }
        if instances == 0 {
            return None;
        }
        let mut seed = vec![
            self.seed,
            hash_str(&group.to_string()),
            start.timestamp_millis() as u64,
            end.timestamp_millis() as u64,
            hash_str(sha.as_str()),
        ];
        seed.extend_from_slice(salt);
        let mut rng = SplitMix64::new(SplitMix64::seed_from(&seed));
        let mut requests = 0u64;
        let mut errors = 0u64;
        let mut flows: Vec<FlowRate> = Vec::new();
        for (i, (_, profile)) in schedule.iter().enumerate() {
            if minutes[i] <= 0.0 {
                continue;
            }
            let req = rng.poisson(profile.requests_per_instance_per_minute * minutes[i]);
            requests += req;
            errors += rng.binomial(req, profile.error_rate);
            for (name, p) in &profile.flow_success {
                let attempts = rng.poisson(req as f64 * FLOW_SHARE);
                FlowRate {
                    name: name.clone(),
                    attempts,
                    successes: rng.binomial(attempts, *p),
                }
                .add_to(&mut flows);
            }
        }
        Some(ShaMetrics {
            sha: sha.clone(),
            first_seen: Some(first_seen),
            requests,
            errors_5xx: errors,
            instances,
            flows,
        })
    }

    /// The in-service instances of `role` in `env`, and the window's span up to now.
    fn serving(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> (
        GroupName,
        Vec<InstanceRecord>,
        (DateTime<Utc>, DateTime<Utc>),
    ) {
        let group = GroupName::new(env, role);
        let records = self
            .fleet
            .instance_records()
            .into_iter()
            .filter(|r| r.group == group && r.in_service_at.is_some())
            .collect();
        (
            group,
            records,
            (window.start, window.end.min(self.clock.now())),
        )
    }

    /// The figures of `records` added up over their SHAs, in the order the SHAs were first
    /// seen (earliest InService time).
    fn per_sha(
        &self,
        group: &GroupName,
        records: &[&InstanceRecord],
        span: (DateTime<Utc>, DateTime<Utc>),
        salt: &[u64],
    ) -> Vec<ShaMetrics> {
        let mut shas: Vec<(DateTime<Utc>, Sha)> = Vec::new();
        for r in records {
            let Some(t) = r.in_service_at else { continue };
            match shas.iter_mut().find(|(_, s)| s == &r.sha) {
                Some((first, _)) => *first = (*first).min(t),
                None => shas.push((t, r.sha.clone())),
            }
        }
        shas.sort();
        shas.into_iter()
            .filter_map(|(_, sha)| {
                let own: Vec<&InstanceRecord> =
                    records.iter().copied().filter(|r| r.sha == sha).collect();
                self.figures(group, &sha, &own, span, salt)
            })
            .collect()
    }
}

#[async_trait]
impl Monitor for ScriptedMonitor {
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        self.faults.check("monitor.sample")?;
        let (group, records, span) = self.serving(env, role, window);
        let all: Vec<&InstanceRecord> = records.iter().collect();
        Ok(MonitorSample {
            window: *window,
            per_sha: self.per_sha(&group, &all, span, &[]),
        })
    }

    /// Readable unless a fault is injected (`monitor.check_readable`).
    async fn check_readable(&self, _env: &EnvName, _role: &RoleName) -> Result<()> {
        self.faults.check("monitor.check_readable")
    }

    /// Splits by instance unless [`ScriptedMonitor::set_splits_by_instance`] said it cannot.
    async fn sample_by_instance(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        self.faults.check("monitor.sample")?;
        if !lock(&self.state).splits_by_instance {
            return Ok(None);
        }
        let (group, records, span) = self.serving(env, role, window);
        let (olds, news): (Vec<&InstanceRecord>, Vec<&InstanceRecord>) =
            records.iter().partition(|r| old.contains(&r.id));
        let side = |records: &[&InstanceRecord], name: &str| {
            ShaMetrics::added_up(self.per_sha(&group, records, span, &[hash_str(name)]))
        };
        Ok(Some(InstanceSplitSample {
            window: *window,
            old_instances: side(&olds, "old instances"),
            new_instances: side(&news, "new instances"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::CapacityChange;
    use crate::ports::Fleet;
    use crate::sim::GroupSpec;
    use chrono::Duration;

    fn setup() -> (Arc<VirtualClock>, Arc<SimFleet>, ScriptedMonitor, GroupName) {
        let (clock, faults, fleet) = crate::sim::test_fleet();
        let group = GroupName::new(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
        );
        fleet.add_group(GroupSpec::simple(
            group.clone(),
            4,
            Sha::new("0001d5a1").expect("sha"),
        ));
        let monitor = ScriptedMonitor::new(fleet.clone(), clock.clone(), faults, 7);
        (clock, fleet, monitor, group)
    }

    fn window(end: DateTime<Utc>, minutes: i64) -> MetricsWindow {
        MetricsWindow {
            start: end - Duration::minutes(minutes),
            end,
        }
    }

    #[tokio::test]
    async fn requests_follow_instances_and_the_profile() {
        let (clock, _, monitor, group) = setup();
        let w = window(clock.now(), 5);
        let s = monitor
            .sample(&group.env, &group.role, &w)
            .await
            .expect("sample");
        assert_eq!(s.per_sha.len(), 1);
        let m = &s.per_sha[0];
        assert_eq!(m.instances, 4);
        // 600 x 4 instances x 5 minutes = 12000 expected.
        assert!((11_500..12_500).contains(&m.requests), "{}", m.requests);
        let rate = m.error_rate().expect("rate");
        assert!(rate < 0.003, "{rate}");
        assert_eq!(m.flows.len(), 2);
        assert!(
            m.flows
                .iter()
                .all(|f| f.successes <= f.attempts && f.attempts > 100)
        );
        // The same window twice gives the same figures.
        assert_eq!(
            monitor
                .sample(&group.env, &group.role, &w)
                .await
                .expect("again"),
            s
        );
        // Another role has no instances: no data.
        let other = RoleName::new("worker").expect("role");
        assert!(
            monitor
                .sample(&group.env, &other, &w)
                .await
                .expect("none")
                .per_sha
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_new_sha_is_seen_after_the_old_and_can_spike_later() {
        let (clock, fleet, monitor, group) = setup();
        let new = Sha::new("0002beef").expect("sha");
        fleet
            .set_group_release_sha(&group, new.clone())
            .expect("release");
        fleet
            .set_capacity(&group, CapacityChange::desired(8))
            .await
            .expect("out");
        let in_service = clock.now() + Duration::seconds(240);
        monitor.set_profile_from(
            &new,
            in_service + Duration::minutes(10),
            TrafficProfile::with_error_rate(0.05),
        );
        clock.advance(std::time::Duration::from_secs(30 * 60));
        let calm = window(in_service + Duration::minutes(10), 5);
        let s = monitor
            .sample(&group.env, &group.role, &calm)
            .await
            .expect("sample");
        let shas: Vec<_> = s.per_sha.iter().map(|m| m.sha.clone()).collect();
        assert_eq!(shas[1], new);
        assert_eq!(s.per_sha[1].first_seen, Some(in_service));
        assert!(s.per_sha[1].error_rate().expect("rate") < 0.005);
        let spike = window(clock.now(), 5);
        let s = monitor
            .sample(&group.env, &group.role, &spike)
            .await
            .expect("sample");
        let rate = s.per_sha[1].error_rate().expect("rate");
        assert!((0.04..0.06).contains(&rate), "{rate}");
        assert!(s.per_sha[0].error_rate().expect("old") < 0.005);
    }

    #[tokio::test]
    async fn a_split_by_instance_tells_the_launched_instances_from_the_old_ones() {
        let (clock, fleet, monitor, group) = setup();
        let old: Vec<InstanceId> = fleet
            .instance_records()
            .into_iter()
            .filter(|r| r.group == group)
            .map(|r| r.id)
            .collect();
        // A config recycle: the same SHA on four more instances, which carry a bad setting.
        monitor.set_launched_profile_from(clock.now(), TrafficProfile::with_error_rate(0.05));
        fleet
            .set_capacity(&group, CapacityChange::desired(8))
            .await
            .expect("out");
        clock.advance(std::time::Duration::from_secs(20 * 60));
        let w = window(clock.now(), 5);
        let split = monitor
            .sample_by_instance(&group.env, &group.role, &w, &old)
            .await
            .expect("split")
            .expect("the scripted monitor splits");
        let (o, n) = (
            split.old_instances.expect("old side"),
            split.new_instances.expect("new side"),
        );
        assert_eq!((o.instances, n.instances), (4, 4));
        assert_eq!(o.sha, n.sha);
        assert!(o.error_rate().expect("old rate") < 0.005);
        let rate = n.error_rate().expect("new rate");
        assert!((0.04..0.06).contains(&rate), "{rate}");
        // Per SHA, both sides are one: the bad setting is diluted by the old instances.
        let s = monitor
            .sample(&group.env, &group.role, &w)
            .await
            .expect("sample");
        assert_eq!(s.per_sha.len(), 1);
        assert_eq!(s.per_sha[0].instances, 8);
        // A monitor that cannot tell instances apart says so.
        monitor.set_splits_by_instance(false);
        assert!(
            monitor
                .sample_by_instance(&group.env, &group.role, &w, &old)
                .await
                .expect("split")
                .is_none()
        );
    }
}
