//! US federal holidays (5 U.S.C. 6103), computed for any year, with the dates they are
//! observed: a holiday on a Saturday is observed the Friday before, on a Sunday the Monday
//! after. So New Year's Day on a Saturday is observed on December 31 of the year before.
//! Inauguration Day is left out: it is a holiday only around Washington, DC.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The eleven federal holidays observed nationwide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FederalHoliday {
    /// January 1.
    NewYearsDay,
    /// Third Monday of January.
    MartinLutherKingJrDay,
    /// Third Monday of February (Washington's Birthday).
    PresidentsDay,
    /// Last Monday of May.
    MemorialDay,
    /// June 19, since 2021.
    Juneteenth,
    /// July 4.
    IndependenceDay,
    /// First Monday of September.
    LaborDay,
    /// Second Monday of October.
    ColumbusDay,
    /// November 11.
    VeteransDay,
    /// Fourth Thursday of November.
    ThanksgivingDay,
    /// December 25.
    ChristmasDay,
}

impl FederalHoliday {
    /// Every holiday, in calendar order.
    pub const ALL: [FederalHoliday; 11] = [
        FederalHoliday::NewYearsDay,
        FederalHoliday::MartinLutherKingJrDay,
        FederalHoliday::PresidentsDay,
        FederalHoliday::MemorialDay,
        FederalHoliday::Juneteenth,
        FederalHoliday::IndependenceDay,
        FederalHoliday::LaborDay,
        FederalHoliday::ColumbusDay,
        FederalHoliday::VeteransDay,
        FederalHoliday::ThanksgivingDay,
        FederalHoliday::ChristmasDay,
    ];

    /// Its common name.
    pub fn name(self) -> &'static str {
        match self {
            FederalHoliday::NewYearsDay => "New Year's Day",
            FederalHoliday::MartinLutherKingJrDay => "Martin Luther King Jr. Day",
            FederalHoliday::PresidentsDay => "Presidents' Day",
            FederalHoliday::MemorialDay => "Memorial Day",
            FederalHoliday::Juneteenth => "Juneteenth",
            FederalHoliday::IndependenceDay => "Independence Day",
            FederalHoliday::LaborDay => "Labor Day",
            FederalHoliday::ColumbusDay => "Columbus Day",
            FederalHoliday::VeteransDay => "Veterans Day",
            FederalHoliday::ThanksgivingDay => "Thanksgiving Day",
            FederalHoliday::ChristmasDay => "Christmas Day",
        }
    }

    /// Its date in `year` (before any weekend shift); `None` when it did not exist that year
    /// (Juneteenth before 2021) or the year is out of range.
    pub fn date_in(self, year: i32) -> Option<NaiveDate> {
        let nth = |month, weekday, n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
        let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day);
        match self {
            FederalHoliday::NewYearsDay => fixed(1, 1),
            FederalHoliday::MartinLutherKingJrDay => nth(1, Weekday::Mon, 3),
            FederalHoliday::PresidentsDay => nth(2, Weekday::Mon, 3),
            FederalHoliday::MemorialDay => {
                let may31 = fixed(5, 31)?;
                let back = i64::from(may31.weekday().num_days_from_monday());
                Some(may31 - Duration::days(back))
            }
            FederalHoliday::Juneteenth if year < 2021 => None,
            FederalHoliday::Juneteenth => fixed(6, 19),
            FederalHoliday::IndependenceDay => fixed(7, 4),
            FederalHoliday::LaborDay => nth(9, Weekday::Mon, 1),
            FederalHoliday::ColumbusDay => nth(10, Weekday::Mon, 2),
            FederalHoliday::VeteransDay => fixed(11, 11),
            FederalHoliday::ThanksgivingDay => nth(11, Weekday::Thu, 4),
            FederalHoliday::ChristmasDay => fixed(12, 25),
        }
    }
}

/// One holiday of one year: its date and the day federal offices close for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holiday {
    /// Which holiday.
    pub holiday: FederalHoliday,
    /// Its calendar date.
    pub date: NaiveDate,
    /// The date it is observed (Saturday -> Friday before, Sunday -> Monday after).
    pub observed: NaiveDate,
}

impl Holiday {
    /// `Thanksgiving Day`, or `Independence Day (on 2026-07-04, observed 2026-07-03)` when
    /// offices close on another day than the holiday's date.
    pub fn describe(&self) -> String {
        if self.observed == self.date {
            self.holiday.name().to_string()
        } else {
            format!(
                "{} (on {}, observed {})",
                self.holiday.name(),
                self.date,
                self.observed
            )
        }
    }
}

/// The observed date of a holiday falling on `date`.
pub fn observed_date(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date - Duration::days(1),
        Weekday::Sun => date + Duration::days(1),
        _ => date,
    }
}

/// The holidays whose calendar date is in `year`, in order.
pub fn holidays_of(year: i32) -> Vec<Holiday> {
    FederalHoliday::ALL
        .into_iter()
        .filter_map(|holiday| {
            let date = holiday.date_in(year)?;
            Some(Holiday {
                holiday,
                date,
                observed: observed_date(date),
            })
        })
        .collect()
}

/// The holiday observed on `date`, if any (New Year's Day of the next year counts on a
/// December 31).
pub fn observed_on(date: NaiveDate) -> Option<Holiday> {
    [date.year(), date.year() + 1]
        .into_iter()
        .flat_map(holidays_of)
        .find(|h| h.observed == date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn observed(h: FederalHoliday, year: i32) -> Option<NaiveDate> {
        holidays_of(year)
            .into_iter()
            .find(|x| x.holiday == h)
            .map(|x| x.observed)
    }

    #[test]
    fn weekend_holidays_move_to_the_nearest_weekday() {
        use FederalHoliday::*;
        assert_eq!(observed(NewYearsDay, 2022), Some(d("2021-12-31")));
        assert_eq!(observed(NewYearsDay, 2023), Some(d("2023-01-02")));
        assert_eq!(observed(IndependenceDay, 2026), Some(d("2026-07-03")));
        assert_eq!(observed(IndependenceDay, 2027), Some(d("2027-07-05")));
        assert_eq!(observed(ChristmasDay, 2027), Some(d("2027-12-24")));
        assert_eq!(observed(ChristmasDay, 2028), Some(d("2028-12-25")));
        assert_eq!(observed(Juneteenth, 2021), Some(d("2021-06-18")));
        assert_eq!(observed(Juneteenth, 2022), Some(d("2022-06-20")));
        assert_eq!(observed(VeteransDay, 2029), Some(d("2029-11-12")));
    }

    #[test]
    fn the_monday_and_thursday_holidays_of_2026_and_2024() {
        use FederalHoliday::*;
        let expect_2026 = [
            (MartinLutherKingJrDay, "2026-01-19"),
            (PresidentsDay, "2026-02-16"),
            (MemorialDay, "2026-05-25"),
            (LaborDay, "2026-09-07"),
            (ColumbusDay, "2026-10-12"),
            (ThanksgivingDay, "2026-11-26"),
        ];
        for (h, date) in expect_2026 {
            assert_eq!(observed(h, 2026), Some(d(date)), "{h:?}");
        }
        let expect_2024 = [
            (MartinLutherKingJrDay, "2024-01-15"),
            (PresidentsDay, "2024-02-19"),
            (MemorialDay, "2024-05-27"),
            (LaborDay, "2024-09-02"),
            (ColumbusDay, "2024-10-14"),
            (ThanksgivingDay, "2024-11-28"),
        ];
        for (h, date) in expect_2024 {
            assert_eq!(observed(h, 2024), Some(d(date)), "{h:?}");
        }
        assert_eq!(observed(MemorialDay, 2021), Some(d("2021-05-31")));
    }

    #[test]
    fn juneteenth_starts_in_2021() {
        assert_eq!(holidays_of(2020).len(), 10);
        assert_eq!(holidays_of(2021).len(), 11);
        assert_eq!(observed(FederalHoliday::Juneteenth, 2020), None);
    }

    #[test]
    fn observed_on_finds_next_years_new_year_on_december_31() {
        let h = observed_on(d("2021-12-31")).expect("holiday");
        assert_eq!(h.holiday, FederalHoliday::NewYearsDay);
        assert_eq!(h.date, d("2022-01-01"));
        assert_eq!(
            h.describe(),
            "New Year's Day (on 2022-01-01, observed 2021-12-31)"
        );
        assert!(
            observed_on(d("2022-01-01")).is_none(),
            "Saturday itself is not observed"
        );
        assert!(observed_on(d("2026-11-25")).is_none());
        assert_eq!(
            observed_on(d("2026-11-26")).map(|h| h.holiday),
            Some(FederalHoliday::ThanksgivingDay)
        );
    }
}
