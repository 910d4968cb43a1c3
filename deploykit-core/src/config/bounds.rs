//! The allowed ranges of the numeric settings (durations and counts), and the checks between
//! them: a value outside its range is a problem naming the key path, the value and the range.
//!
//! Each maximum is generous but finite: an unbounded number of seconds once hung a deploy
//! polling with `poll_interval_secs = 9223372036854775807`, and `100000` made every wait
//! overshoot its timeout. The poll interval must also stay well below what it paces (a
//! gate's timeout, a monitor window), and the monitor gate needs windows long enough to hold
//! `min_requests` requests.

use std::fmt::Write as _;

use super::effective::EffectiveConfig;
use super::schema::MonitorKind;
use super::walk::Walk;
use crate::deploy::settings::MonitorThresholds;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;

/// The shortest `monitor.observe_secs`: three windows of 20 s. Windows of a few seconds
/// never hold `min_requests` requests at any real traffic, so every window would go
/// unjudged and the verdict be Inconclusive (a rollback with `--yes` in production).
pub(crate) const MIN_OBSERVE_SECS: u64 = 60;
/// The shortest `monitor.window_secs`: a third of [`MIN_OBSERVE_SECS`], the window the
/// default split of the shortest watch gives.
pub(crate) const MIN_WINDOW_SECS: u64 = 20;
/// A wait checks at least this many times before its timeout.
const POLLS_PER_TIMEOUT: u64 = 4;
/// Team leave is listed day by day, so a span of it is at most a year long.
pub(crate) const MAX_TEAM_LEAVE_DAYS: i64 = 366;

/// Seconds or a plain count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Count,
}

/// The range of one numeric setting, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub min: u64,
    pub max: u64,
    pub unit: Unit,
    /// What the setting is, completing "... must be 1 to 300 seconds".
    pub what: &'static str,
    /// Why the minimum is what it is, when it is more than "not 0".
    pub why_min: &'static str,
}

const fn secs(min: u64, max: u64, what: &'static str) -> Range {
    Range {
        min,
        max,
        unit: Unit::Seconds,
        what,
        why_min: "",
    }
}

/// The range of the numeric setting at `key_path` (`environments.prod.health_timeout_secs`),
/// if it has one.
pub(crate) fn range_of(key_path: &str) -> Option<Range> {
    let section = key_path.split('.').next()?;
    let key = key_path.rsplit('.').next()?;
    let range = match (section, key) {
        ("environments", "migration_timeout_secs") => {
            secs(1, DAY, "the time the migration may take")
        }
        ("environments", "health_timeout_secs") => {
            secs(1, DAY, "the time new servers may take to be healthy")
        }
        ("environments", "follow_up_after_secs") => {
            secs(0, WEEK, "the time before the follow-up check")
        }
        ("environments", "spindown_secs") => secs(0, DAY, "the spindown delay"),
        ("monitor", "poll_interval_secs") => secs(1, 5 * MINUTE, "the time between two polls"),
        ("monitor", "observe_secs") => Range {
            why_min: "the gate splits it into windows and judges a window only once the new \
                      SHA served min_requests requests in it; windows of a few seconds never \
                      get there, so every window would go unjudged and the verdict be \
                      inconclusive (a rollback with --yes in production)",
            ..secs(MIN_OBSERVE_SECS, DAY, "the time the monitor gate watches")
        },
        ("monitor", "window_secs") => Range {
            why_min: "a window is judged only once the new SHA served min_requests requests \
                      in it, and a window of a few seconds never gets there, so the verdict \
                      would be inconclusive (a rollback with --yes in production)",
            ..secs(MIN_WINDOW_SECS, DAY / 2, "one monitor window")
        },
        ("monitor", "min_requests") => Range {
            min: 1,
            max: 10_000_000,
            unit: Unit::Count,
            what: "the requests the new SHA must serve in a window before it is judged",
            why_min: "",
        },
        ("monitor", "account_id") => Range {
            min: 1,
            max: i64::MAX.unsigned_abs(),
            unit: Unit::Count,
            what: "a New Relic account id",
            why_min: "",
        },
        _ => return None,
    };
    Some(range)
}

/// `300 seconds (5 minutes)`, `86400 seconds (a day)`.
fn in_words(secs: u64) -> String {
    let words = match secs {
        s if s == WEEK => "a week".to_string(),
        s if s == DAY => "a day".to_string(),
        s if s == DAY / 2 => "12 hours".to_string(),
        s if s == HOUR => "an hour".to_string(),
        s if s >= DAY && s % DAY == 0 => format!("{} days", s / DAY),
        s if s >= HOUR && s % HOUR == 0 => format!("{} hours", s / HOUR),
        s if s >= MINUTE && s % MINUTE == 0 => format!("{} minutes", s / MINUTE),
        _ => return format!("{secs} seconds"),
    };
    format!("{secs} seconds ({words})")
}

impl Range {
    /// `1 to 300 seconds (5 minutes)` / `1 to 10000000`.
    fn span(&self) -> String {
        match self.unit {
            Unit::Seconds => format!("{} to {}", self.min, in_words(self.max)),
            Unit::Count => format!("{} to {}", self.min, self.max),
        }
    }

    /// What is wrong with `value`, if it is outside the range.
    pub fn problem(&self, value: u64) -> Option<String> {
        if value > self.max {
            return Some(self.too_large(&value.to_string()));
        }
        if value >= self.min {
            return None;
        }
        if value == 0 && self.unit == Unit::Seconds {
            return Some("expected more than 0 seconds, found 0".into());
        }
        let mut message = format!(
            "{value} is too small (at least {}): {} must be {}",
            self.min,
            self.what,
            self.span()
        );
        if !self.why_min.is_empty() {
            let _ = write!(message, "; {}", self.why_min);
        }
        Some(message)
    }

    /// `shown is too large (at most N): what must be MIN to MAX`.
    pub fn too_large(&self, shown: &str) -> String {
        format!(
            "{shown} is too large (at most {}): {} must be {}",
            self.max,
            self.what,
            self.span()
        )
    }
}

/// Whether `url` points to this machine: a local fake standing in for the monitor (a test
/// rig), whose figures do not depend on real traffic; where plain http is harmless.
pub(super) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.")
}

/// Whether the monitor reads real traffic, so windows must be long enough to hold
/// `min_requests` (not when there is no monitor, or it is a local fake).
fn monitor_reads_real_traffic(c: &EffectiveConfig) -> bool {
    match c.monitor.kind {
        MonitorKind::None => false,
        MonitorKind::Newrelic => !is_loopback(&c.monitor.newrelic.api_url),
        MonitorKind::Cloudwatch => !c.aws.endpoint_url.as_deref().is_some_and(is_loopback),
    }
}

/// Records a problem at `path` when `value` is outside its range; whether it is inside.
fn check(w: &mut Walk, path: &str, value: u64, skip_min: bool) -> bool {
    let Some(range) = range_of(path) else {
        return true;
    };
    let range = if skip_min {
        Range {
            min: range.min.min(1),
            ..range
        }
    } else {
        range
    };
    match range.problem(value) {
        Some(message) => {
            w.problem(path, message);
            false
        }
        None => true,
    }
}

/// Checks every numeric setting against its range, then the poll interval against what it
/// paces. A value already out of range is not compared with others.
pub(crate) fn check_ranges(w: &mut Walk, c: &EffectiveConfig) {
    // (limit, why) for the poll interval, from every value that is in range.
    let mut poll_limits: Vec<(u64, String)> = Vec::new();
    for (name, env) in &c.environments {
        let p = format!("environments.{name}");
        if let Some(spindown) = env.spindown_secs {
            check(w, &format!("{p}.spindown_secs"), spindown, false);
        }
        for (key, value) in [
            ("migration_timeout_secs", env.migration_timeout_secs),
            ("health_timeout_secs", env.health_timeout_secs),
        ] {
            let path = format!("{p}.{key}");
            if check(w, &path, value, false) {
                poll_limits.push((
                    value / POLLS_PER_TIMEOUT,
                    format!(
                        "a quarter of {path} ({value} s), so the wait checks at least \
                         {POLLS_PER_TIMEOUT} times before it gives up"
                    ),
                ));
            }
        }
        check(
            w,
            &format!("{p}.follow_up_after_secs"),
            env.follow_up_after_secs,
            false,
        );
    }
    let m = &c.monitor;
    let local = !monitor_reads_real_traffic(c);
    let observe_ok = check(w, "monitor.observe_secs", m.observe_secs, local);
    let window_ok = match m.window_secs {
        Some(window) => check(w, "monitor.window_secs", window, local),
        None => true,
    };
    if observe_ok && window_ok {
        let (window, how) = match m.window_secs {
            Some(window) => (window, "monitor.window_secs".to_string()),
            None => {
                let windows = u64::from(MonitorThresholds::default().max_windows.max(1));
                (
                    m.observe_secs / windows,
                    format!("monitor.observe_secs / {windows}"),
                )
            }
        };
        poll_limits.push((
            window.max(1),
            format!("one monitor window ({window} s, {how}), so each window is waited out"),
        ));
    }
    if m.min_requests > 0 {
        check(w, "monitor.min_requests", m.min_requests, false);
    }
    if let Some(id) = m.newrelic.account_id {
        check(w, "monitor.newrelic.account_id", id, false);
    }
    let poll = m.poll_interval_secs;
    if check(w, "monitor.poll_interval_secs", poll, false)
        && let Some((limit, why)) = poll_limits.into_iter().min_by_key(|(l, _)| *l)
        && poll > limit
    {
        w.problem(
            "monitor.poll_interval_secs",
            format!("{poll} is too large (at most {limit}): the time between two polls must be at most {why}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:4566/graphql"));
        assert!(is_loopback("http://localhost:8080"));
        assert!(is_loopback("http://[::1]:80/x"));
        assert!(!is_loopback("https://api.newrelic.com/graphql"));
        assert!(!is_loopback("https://localhost.example.com/"));
    }

    #[test]
    fn durations_are_said_in_words() {
        assert_eq!(in_words(300), "300 seconds (5 minutes)");
        assert_eq!(in_words(DAY), "86400 seconds (a day)");
        assert_eq!(in_words(7), "7 seconds");
    }
}
