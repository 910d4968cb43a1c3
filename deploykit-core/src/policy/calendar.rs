//! The deploy calendar laid out ahead: each of the coming deploy days (Tuesdays and Thursdays
//! by default), whether a full deploy may go on it, and why not, so a release manager can
//! plan around holidays, freezes and team leave before the day.

use chrono::{Datelike, Duration, NaiveDate};

use crate::model::deploy_kind::DeployKind;
use crate::policy::cadence::CadencePolicy;

/// The most weeks the calendar is laid out ahead (`cadence show --weeks`): a year.
pub const MAX_CALENDAR_WEEKS: u32 = 53;

/// One deploy day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployDay {
    /// The date.
    pub date: NaiveDate,
    /// Whether a full deploy may go that day.
    pub allowed: bool,
    /// Why not (holiday, the day before one, a freeze, team leave), in words; empty when
    /// allowed.
    pub concerns: Vec<String>,
}

impl CadencePolicy {
    /// The deploy days (`deploy_days`) among the `days` days starting at `from` (itself
    /// included), in order, each with the [`CadencePolicy::check`] verdict for a full deploy.
    pub fn deploy_days_from(&self, from: NaiveDate, days: u32) -> Vec<DeployDay> {
        (0..i64::from(days))
            .map_while(|n| from.checked_add_signed(Duration::days(n)))
            .filter(|date| self.deploy_days.contains(&date.weekday()))
            .map(|date| {
                let allowed = self.check(date, DeployKind::Full, None).allowed;
                DeployDay {
                    date,
                    allowed,
                    concerns: self.concerns(date),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;
    use crate::policy::cadence::{Freeze, TeamLeave};

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn line(day: &DeployDay) -> String {
        format!("{} {} {:?}", day.date, day.allowed, day.concerns)
    }

    #[test]
    fn the_weeks_of_thanksgiving_and_christmas_2026() {
        let p = CadencePolicy::default();
        let days: Vec<String> = p
            .deploy_days_from(d("2026-11-22"), 35)
            .iter()
            .map(line)
            .collect();
        assert_eq!(
            days,
            [
                "2026-11-24 true []",
                "2026-11-26 false [\"2026-11-26 is Thanksgiving Day\"]",
                "2026-12-01 true []",
                "2026-12-03 true []",
                "2026-12-08 true []",
                "2026-12-10 true []",
                "2026-12-15 true []",
                "2026-12-17 true []",
                "2026-12-22 true []",
                "2026-12-24 false [\"2026-12-24 is the day before Christmas Day\"]",
            ]
        );
    }

    #[test]
    fn freezes_leave_and_other_deploy_days_are_followed() {
        let p = CadencePolicy {
            deploy_days: vec![Weekday::Mon, Weekday::Wed],
            freezes: vec![Freeze {
                start: d("2027-01-04"),
                end: d("2027-01-05"),
                reason: "audit".into(),
            }],
            team_leave: vec![TeamLeave {
                date: d("2027-01-07"),
                reason: "offsite".into(),
            }],
            ..CadencePolicy::default()
        };
        let days = p.deploy_days_from(d("2027-01-04"), 7);
        let lines: Vec<String> = days.iter().map(line).collect();
        assert_eq!(
            lines,
            [
                "2027-01-04 false [\"2027-01-04 is in the freeze from 2027-01-04 to 2027-01-05 \
                 (audit)\"]",
                "2027-01-06 false [\"2027-01-06 is the day before a team leave day \
                 (2027-01-07: offsite)\"]",
            ]
        );
        // The range starts on `from` and has `days` days: the next Monday is outside it.
        assert!(p.deploy_days_from(d("2027-01-05"), 1).is_empty());
        assert!(p.deploy_days_from(d("2027-01-04"), 0).is_empty());
    }
}
