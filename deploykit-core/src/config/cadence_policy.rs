//! The `[cadence]` section as the calendar policy the workflows apply.

use chrono::Weekday;

use crate::config::CadenceConfig;
use crate::policy::cadence::{CadencePolicy, Freeze, TeamLeave};

impl CadenceConfig {
    /// The policy this section describes. Weekdays were checked when the configuration was
    /// loaded; a name that still does not parse is left out. Team-leave spans become one
    /// entry per day.
    pub fn policy(&self) -> CadencePolicy {
        let mut team_leave = Vec::new();
        for span in &self.team_leave {
            let mut day = span.start;
            while day <= span.end {
                team_leave.push(TeamLeave { date: day, reason: span.reason.clone() });
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
        }
        CadencePolicy {
            deploy_days: self
                .deploy_days
                .iter()
                .filter_map(|d| d.parse::<Weekday>().ok())
                .collect(),
            freezes: self
                .freezes
                .iter()
                .map(|f| Freeze { start: f.start, end: f.end, reason: f.reason.clone() })
                .collect(),
            team_leave,
            ..CadencePolicy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;

    use crate::DeployKind;

    #[test]
    fn the_configured_calendar_is_the_policy_applied() {
        let text = "[cadence]\ndeploy_days = [\"mon\"]\n\
                    team_leave = [{ start = 2026-12-07, end = 2026-12-08, reason = \"offsite\" }]\n";
        let config = crate::config::resolve(Some(text), &BTreeMap::new(), &BTreeMap::new())
            .expect("valid config");
        let policy = config.cadence.policy();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        // Monday 2026-11-30 is a deploy day by this configuration, Tuesday is not.
        assert!(policy.check(day("2026-11-30"), DeployKind::Full, None).allowed);
        assert!(!policy.check(day("2026-12-01"), DeployKind::Full, None).allowed);
        // Both days of the leave span (and the day before) refuse a full deploy.
        let leave = policy.check(day("2026-12-07"), DeployKind::Full, None);
        assert!(!leave.allowed);
        assert!(leave.reasons.iter().any(|r| r.contains("offsite")), "{:?}", leave.reasons);
    }
}
