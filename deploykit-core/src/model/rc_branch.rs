//! Release-candidate branch names: `stages/rc-YYYY-MM-DD`, then `.2`, `.3` on the same day.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// The branch a release candidate is pushed to.
///
/// ```
/// use deploykit_core::RcBranch;
/// let b: RcBranch = "stages/rc-2024-01-09".parse().unwrap();
/// assert_eq!(b.next_same_day().to_string(), "stages/rc-2024-01-09.2");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct RcBranch {
    /// The day the RC was cut (local date).
    pub date: NaiveDate,
    /// 1 for the first RC of the day (no suffix), 2 for `.2`, ...
    pub ordinal: u32,
}

const PREFIX: &str = "stages/rc-";

impl RcBranch {
    /// The first RC branch of a day.
    pub fn first(date: NaiveDate) -> Self {
        RcBranch { date, ordinal: 1 }
    }

    /// The next branch name on the same day (`.2` after none, `.3` after `.2`).
    pub fn next_same_day(self) -> Self {
        RcBranch {
            date: self.date,
            ordinal: self.ordinal.saturating_add(1),
        }
    }

    /// Whether a branch name looks like an RC branch (force-pushing is allowed only there).
    pub fn is_rc_branch(name: &str) -> bool {
        name.parse::<RcBranch>().is_ok()
    }
}

impl FromStr for RcBranch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid RC branch {s:?}: {why}; expected stages/rc-YYYY-MM-DD or \
                 stages/rc-YYYY-MM-DD.N (N >= 2)"
            ))
        };
        let rest = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("missing the stages/rc- prefix"))?;
        let (date, ordinal) = match rest.split_once('.') {
            None => (rest, 1),
            Some((date, n)) => {
                let ordinal = n
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v >= 2 && v.to_string() == n)
                    .ok_or_else(|| bad("the same-day suffix must be a number from 2 up"))?;
                (date, ordinal)
            }
        };
        // Exactly four, two and two digits: chrono alone would also take `+899-01-15` or
        // `02024-1-09`, names that print as another branch.
        let canonical = date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !canonical {
            return Err(bad("the date must be YYYY-MM-DD"));
        }
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| bad("the date is not a real YYYY-MM-DD date"))?;
        Ok(RcBranch { date, ordinal })
    }
}

impl TryFrom<String> for RcBranch {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<RcBranch> for String {
    fn from(b: RcBranch) -> String {
        b.to_string()
    }
}

impl fmt::Display for RcBranch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.date.format("%Y-%m-%d"))?;
        if self.ordinal > 1 {
            write!(f, ".{}", self.ordinal)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print() {
        for s in [
            "stages/rc-2024-01-09",
            "stages/rc-2024-01-09.2",
            "stages/rc-2024-12-31.13",
        ] {
            assert_eq!(
                s.parse::<RcBranch>().map(|b| b.to_string()).ok(),
                Some(s.to_string())
            );
        }
        let b: RcBranch = "stages/rc-2024-01-09".parse().expect("valid");
        assert_eq!(b.ordinal, 1);
        assert_eq!(
            b.next_same_day().next_same_day().to_string(),
            "stages/rc-2024-01-09.3"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        for s in [
            "stages/prod",
            "rc-2024-01-09",
            "stages/rc-2024-02-30",
            "stages/rc-2024-1-9",
            "stages/rc-2024-01-09.1",
            "stages/rc-2024-01-09.02",
            "stages/rc-2024-01-09.x",
            "stages/rc-2024-01-09.",
            // Found by the fuzzer: chrono reads a signed or longer year, or a one-digit month,
            // and the name printed as `stages/rc-0899-01-15`.
            "stages/rc-+899-01-15",
            "stages/rc-02024-1-09",
            "stages/rc-2024-1-009",
            "stages/rc- 2024-1-9",
        ] {
            let err = s.parse::<RcBranch>().expect_err(s);
            assert!(err.to_string().contains("stages/rc-YYYY-MM-DD"), "{err}");
        }
        assert!(!RcBranch::is_rc_branch("stages/prod"));
        assert!(RcBranch::is_rc_branch("stages/rc-2020-06-17"));
    }
}
