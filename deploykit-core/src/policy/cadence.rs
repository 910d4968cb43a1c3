//! The deploy calendar of the guide's Cadence section: full deploys on Tuesdays and
//! Thursdays; not on Fridays, weekends, federal holidays or the day before one, nor in a
//! freeze, nor when much of the team is on leave that day or the next. Off-cycle and patch
//! deploys may go any day with a reason (recorded); config and no-migration recycles may go
//! any day, with a warning on the days above.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::error::{Error, Result};
use crate::model::deploy_kind::DeployKind;
use crate::policy::holidays;

/// Dates in the config file: `"2026-12-04"` (JSON, quoted TOML) or a TOML local date
/// (`2026-12-04`, which the toml crate hands over as a one-entry map).
mod config_date {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Toml(BTreeMap<String, String>),
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = match Repr::deserialize(d)? {
            Repr::Text(s) => s,
            Repr::Toml(m) => m.into_values().next().unwrap_or_default(),
        };
        text.parse().map_err(|_| {
            serde::de::Error::custom(format!("invalid date {text:?}: expected YYYY-MM-DD"))
        })
    }
}

/// A period (inclusive) when nothing but urgent fixes ships.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Freeze {
    /// First day.
    #[serde(deserialize_with = "config_date::deserialize")]
    pub start: NaiveDate,
    /// Last day (inclusive).
    #[serde(deserialize_with = "config_date::deserialize")]
    pub end: NaiveDate,
    /// Why, e.g. `end-of-year change freeze`.
    pub reason: String,
}

/// A day when a large part of the team is expected to be out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamLeave {
    /// The day.
    #[serde(deserialize_with = "config_date::deserialize")]
    pub date: NaiveDate,
    /// Why, e.g. `team offsite`.
    pub reason: String,
}

/// The calendar; deserializes from the config file with every field optional.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CadencePolicy {
    /// Days full deploys happen (Tuesday and Thursday).
    pub deploy_days: Vec<Weekday>,
    /// Days nothing routine ships (Friday, Saturday, Sunday).
    pub no_deploy_weekdays: Vec<Weekday>,
    /// Freezes.
    pub freezes: Vec<Freeze>,
    /// Team leave days.
    pub team_leave: Vec<TeamLeave>,
}

impl Default for CadencePolicy {
    fn default() -> Self {
        CadencePolicy {
            deploy_days: vec![Weekday::Tue, Weekday::Thu],
            no_deploy_weekdays: vec![Weekday::Fri, Weekday::Sat, Weekday::Sun],
            freezes: Vec::new(),
            team_leave: Vec::new(),
        }
    }
}

/// Whether a deploy may go on a date, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CadenceDecision {
    /// Whether it may go.
    pub allowed: bool,
    /// Every calendar concern (blocking for full deploys, warnings otherwise), in words,
    /// plus what is missing when not allowed.
    pub reasons: Vec<String>,
    /// Whether this kind of deploy needs a reason to be recorded.
    pub needs_reason: bool,
    /// The reason given, recorded for the journal and the announcement.
    pub recorded_reason: Option<String>,
}

impl CadenceDecision {
    /// Ok when allowed; PolicyRefused listing every reason otherwise.
    pub fn into_result(self) -> Result<Self> {
        if self.allowed {
            return Ok(self);
        }
        Err(Error::policy_refused(format!(
            "the deploy calendar refuses this deploy: {}",
            self.reasons.join("; ")
        )))
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn join_days(days: &[Weekday]) -> String {
    let names: Vec<&str> = days.iter().map(|d| weekday_name(*d)).collect();
    match names.as_slice() {
        [] => "no day".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl CadencePolicy {
    /// The calendar's concerns about deploying on `date` (days the team wants no deploy),
    /// each explained. Does not include "not a deploy day".
    pub fn concerns(&self, date: NaiveDate) -> Vec<String> {
        let mut out = Vec::new();
        let weekday = date.weekday();
        if self.no_deploy_weekdays.contains(&weekday) {
            out.push(format!(
                "{date} is a {}, a no-deploy day",
                weekday_name(weekday)
            ));
        }
        if let Some(h) = holidays::observed_on(date) {
            out.push(format!("{date} is {}", h.describe()));
        }
        if let Some(next) = date.checked_add_signed(Duration::days(1))
            && let Some(h) = holidays::observed_on(next)
        {
            out.push(format!("{date} is the day before {}", h.describe()));
        }
        for f in &self.freezes {
            if f.start <= date && date <= f.end {
                out.push(format!(
                    "{date} is in the freeze from {} to {}{}",
                    f.start,
                    f.end,
                    in_parentheses(&f.reason)
                ));
            }
        }
        for l in &self.team_leave {
            if l.date == date {
                out.push(format!(
                    "{date} is a team leave day{}",
                    in_parentheses(&l.reason)
                ));
            } else if date.checked_add_signed(Duration::days(1)) == Some(l.date) {
                out.push(format!(
                    "{date} is the day before a team leave day ({}: {})",
                    l.date, l.reason
                ));
            }
        }
        out
    }

    /// Decides whether a deploy of `kind` may go on `date`; `reason` is the operator's reason
    /// for an off-cycle or patch deploy.
    pub fn check(
        &self,
        date: NaiveDate,
        kind: DeployKind,
        reason: Option<&str>,
    ) -> CadenceDecision {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let mut reasons = self.concerns(date);
        match kind {
            DeployKind::Full => {
                if !self.deploy_days.contains(&date.weekday()) {
                    // A no-deploy weekday is said once, with the deploy days.
                    let weekday = weekday_name(date.weekday());
                    let no_deploy = format!("{date} is a {weekday}, a no-deploy day");
                    let what = if reasons.first() == Some(&no_deploy) {
                        reasons.remove(0);
                        format!("{weekday}, a no-deploy day")
                    } else {
                        weekday.to_string()
                    };
                    reasons.insert(
                        0,
                        format!(
                            "{date} is a {what}; full deploys are on {}",
                            join_days(&self.deploy_days)
                        ),
                    );
                }
                let allowed = reasons.is_empty();
                if !allowed {
                    reasons.push(
                        "deploy on the next deploy day, or ship it as an off-cycle deploy with \
                         a reason"
                            .to_string(),
                    );
                }
                CadenceDecision {
                    allowed,
                    reasons,
                    needs_reason: false,
                    recorded_reason: None,
                }
            }
            DeployKind::OffCycle | DeployKind::Patch => {
                if reason.is_none() {
                    reasons.push(format!(
                        "{kind} deploys need a reason (it is recorded and announced)"
                    ));
                }
                CadenceDecision {
                    allowed: reason.is_some(),
                    reasons,
                    needs_reason: true,
                    recorded_reason: reason.map(str::to_string),
                }
            }
            // A revert restores the code last released: it is not held to the calendar
            // (the guide: revert "as soon as possible").
            DeployKind::ConfigRecycle | DeployKind::NoMigrationRecycle | DeployKind::Revert => {
                CadenceDecision {
                    allowed: true,
                    reasons,
                    needs_reason: false,
                    recorded_reason: reason.map(str::to_string),
                }
            }
        }
    }

    /// The next date on or after `from` when a full deploy is allowed (within a year).
    pub fn next_full_deploy_day(&self, from: NaiveDate) -> Option<NaiveDate> {
        (0..366)
            .filter_map(|n| from.checked_add_signed(Duration::days(n)))
            .find(|d| self.check(*d, DeployKind::Full, None).allowed)
    }
}

/// ` (why)`, or nothing when no reason was given (a freeze or leave day configured without
/// one).
fn in_parentheses(reason: &str) -> String {
    match reason.trim() {
        "" => String::new(),
        reason => format!(" ({reason})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn full_deploys_go_on_tuesdays_and_thursdays() {
        let p = CadencePolicy::default();
        let tue = p.check(d("2026-11-17"), DeployKind::Full, None);
        assert!(tue.allowed && tue.reasons.is_empty(), "{tue:?}");
        assert!(p.check(d("2026-11-19"), DeployKind::Full, None).allowed);
        let wed = p.check(d("2026-11-18"), DeployKind::Full, None);
        assert!(!wed.allowed);
        assert_eq!(
            wed.reasons[0],
            "2026-11-18 is a Wednesday; full deploys are on Tuesday and Thursday"
        );
    }

    #[test]
    fn fridays_and_weekends_are_explained() {
        let p = CadencePolicy::default();
        let fri = p.check(d("2026-11-27"), DeployKind::Full, None);
        assert!(!fri.allowed);
        assert!(
            fri.reasons.contains(
                &"2026-11-27 is a Friday, a no-deploy day; full deploys are on Tuesday and \
                  Thursday"
                    .to_string()
            ),
            "{:?}",
            fri.reasons
        );
        // Said once, not as two reasons.
        assert_eq!(
            fri.reasons
                .iter()
                .filter(|r| r.contains("no-deploy day"))
                .count(),
            1
        );
        let err = fri.into_result().expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::PolicyRefused);
        assert!(err.to_string().contains("off-cycle"), "{err}");
        // Reverting a bad release is not held to the calendar.
        assert!(p.check(d("2026-11-27"), DeployKind::Revert, None).allowed);
    }

    #[test]
    fn holidays_and_the_day_before_block_full_deploys() {
        let p = CadencePolicy::default();
        // Thanksgiving 2026 is Thursday 11-26: the Thursday deploy is off, Wednesday too.
        let thu = p.check(d("2026-11-26"), DeployKind::Full, None);
        assert!(!thu.allowed);
        assert!(
            thu.reasons
                .contains(&"2026-11-26 is Thanksgiving Day".to_string()),
            "{thu:?}"
        );
        let before = p.concerns(d("2026-11-25"));
        assert_eq!(before, ["2026-11-25 is the day before Thanksgiving Day"]);
        // Independence Day 2026 is observed Friday 07-03: Thursday 07-02 is the day before.
        let jul2 = p.check(d("2026-07-02"), DeployKind::Full, None);
        assert!(!jul2.allowed);
        assert!(
            jul2.reasons[0]
                .contains("day before Independence Day (on 2026-07-04, observed 2026-07-03)")
        );
        // Christmas 2027 is observed Friday 12-24: Thursday 12-23 is out.
        assert!(!p.check(d("2027-12-23"), DeployKind::Full, None).allowed);
        // New Year 2022 is observed Friday 2021-12-31: Thursday 2021-12-30 is out.
        let nye = p.check(d("2021-12-30"), DeployKind::Full, None);
        assert!(
            nye.reasons
                .iter()
                .any(|r| r.contains("New Year's Day (on 2022-01-01, observed 2021-12-31)"))
        );
    }

    #[test]
    fn freezes_and_team_leave_block_full_deploys() {
        let p = CadencePolicy {
            freezes: vec![Freeze {
                start: d("2026-12-15"),
                end: d("2027-01-05"),
                reason: "end-of-year freeze".into(),
            }],
            team_leave: vec![TeamLeave {
                date: d("2026-12-04"),
                reason: "offsite".into(),
            }],
            ..CadencePolicy::default()
        };
        let frozen = p.check(d("2026-12-17"), DeployKind::Full, None);
        assert!(!frozen.allowed);
        assert!(
            frozen.reasons[0].contains("freeze from 2026-12-15 to 2027-01-05 (end-of-year freeze)")
        );
        // Thursday 12-03 is the day before the offsite (a Friday anyway, but it is named).
        let thu = p.check(d("2026-12-03"), DeployKind::Full, None);
        assert!(!thu.allowed);
        assert!(thu.reasons[0].contains("day before a team leave day (2026-12-04: offsite)"));
        assert!(p.check(d("2026-12-08"), DeployKind::Full, None).allowed);
        assert_eq!(
            p.next_full_deploy_day(d("2026-12-15")),
            Some(d("2027-01-07"))
        );
        // A freeze configured without a reason is named without empty parentheses.
        let bare = CadencePolicy {
            freezes: vec![Freeze {
                start: d("2026-12-15"),
                end: d("2027-01-05"),
                reason: String::new(),
            }],
            ..CadencePolicy::default()
        };
        let frozen = bare.check(d("2026-12-17"), DeployKind::Full, None);
        assert!(
            frozen
                .reasons
                .contains(&"2026-12-17 is in the freeze from 2026-12-15 to 2027-01-05".to_string()),
            "{:?}",
            frozen.reasons
        );
    }

    #[test]
    fn off_cycle_and_patch_need_a_reason_any_day() {
        let p = CadencePolicy::default();
        for kind in [DeployKind::OffCycle, DeployKind::Patch] {
            let no = p.check(d("2026-11-18"), kind, Some("  "));
            assert!(!no.allowed && no.needs_reason);
            assert!(
                no.reasons.iter().any(|r| r.contains("need a reason")),
                "{no:?}"
            );
            let yes = p.check(d("2026-11-27"), kind, Some("login outage fix"));
            assert!(yes.allowed);
            assert_eq!(yes.recorded_reason.as_deref(), Some("login outage fix"));
            assert!(yes.reasons[0].contains("Friday"), "concerns still shown");
        }
    }

    #[test]
    fn recycles_go_any_day_with_a_warning() {
        let p = CadencePolicy::default();
        for kind in [DeployKind::ConfigRecycle, DeployKind::NoMigrationRecycle] {
            let sat = p.check(d("2026-11-28"), kind, None);
            assert!(sat.allowed && !sat.needs_reason);
            assert_eq!(sat.reasons, ["2026-11-28 is a Saturday, a no-deploy day"]);
            assert!(p.check(d("2026-11-18"), kind, None).reasons.is_empty());
        }
    }

    #[test]
    fn the_policy_reads_from_toml_with_defaults() {
        let p: CadencePolicy = toml::from_str(
            "deploy_days = [\"Mon\", \"Wed\"]\n\
             [[team_leave]]\ndate = 2026-12-04\nreason = \"offsite\"\n",
        )
        .expect("toml");
        assert_eq!(p.deploy_days, [Weekday::Mon, Weekday::Wed]);
        assert_eq!(
            p.no_deploy_weekdays,
            CadencePolicy::default().no_deploy_weekdays
        );
        assert_eq!(p.team_leave[0].date, d("2026-12-04"));
        let f: Freeze =
            serde_json::from_str(r#"{"start":"2026-12-15","end":"2027-01-05","reason":"eoy"}"#)
                .expect("json");
        assert_eq!(f.end, d("2027-01-05"));
        let bad =
            serde_json::from_str::<Freeze>(r#"{"start":"12/15","end":"2027-01-05","reason":"x"}"#);
        assert!(bad.is_err_and(|e| e.to_string().contains("YYYY-MM-DD")));
    }
}
