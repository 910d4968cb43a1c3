//! Release numbers: `112` for a full release, `112.1` for a patch on top of it.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An RC number as used in release titles (`RC 112`) and promotion PR titles
/// (`Deploy RC 112.1 to Production`).
///
/// ```
/// use deploykit_core::ReleaseNumber;
/// let last: ReleaseNumber = "112.1".parse().unwrap();
/// assert_eq!(last.next_full().to_string(), "113");
/// assert_eq!(last.next_patch().to_string(), "112.2");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseNumber {
    /// The full-release part.
    pub major: u32,
    /// The patch part, if this is a patch release.
    pub minor: Option<u32>,
}

impl ReleaseNumber {
    /// `0`, the number before the first release.
    pub const ZERO: ReleaseNumber = ReleaseNumber {
        major: 0,
        minor: None,
    };

    /// A full release number.
    pub fn full(major: u32) -> Self {
        ReleaseNumber { major, minor: None }
    }

    /// The next full release: the major part plus one, the patch part dropped
    /// (`112.2` -> `113`).
    pub fn next_full(self) -> Self {
        ReleaseNumber::full(self.major.saturating_add(1))
    }

    /// The next patch release: the patch part plus one (`112` -> `112.1`, `112.1` -> `112.2`).
    pub fn next_patch(self) -> Self {
        ReleaseNumber {
            major: self.major,
            minor: Some(self.minor.unwrap_or(0).saturating_add(1)),
        }
    }

    /// Parses a release title, `RC 112` or `RC 112.1` (surrounding spaces ignored).
    pub fn from_release_title(title: &str) -> Result<Self> {
        let rest = title.trim().strip_prefix("RC ").ok_or_else(|| {
            Error::invalid_input(format!(
                "release title {title:?} is not of the form \"RC <number>\" (e.g. \"RC 112\")"
            ))
        })?;
        rest.trim().parse().map_err(|_| {
            Error::invalid_input(format!(
                "release title {title:?} does not end in an RC number such as 112 or 112.1"
            ))
        })
    }

    /// Parses a promotion PR title, `Deploy RC 112 to Production` or `Deploy RC 112.1 to Prod`
    /// (any target after `to`).
    pub fn from_pr_title(title: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_input(format!(
                "PR title {title:?} is not of the form \"Deploy RC <number> to Production\""
            ))
        };
        let rest = title.trim().strip_prefix("Deploy RC ").ok_or_else(bad)?;
        let (number, target) = rest.split_once(' ').ok_or_else(bad)?;
        if !target.starts_with("to ") || target.len() <= 3 {
            return Err(bad());
        }
        number.parse().map_err(|_| bad())
    }

    /// The title of the PR that reverts this RC's merge: `Revert RC 112` (the guide's steps
    /// to roll back; `deploykit rollback` opens it).
    pub fn revert_title(self) -> String {
        format!("Revert RC {self}")
    }

    /// The RC a revert PR's title reverts (`Revert RC 112`, or Git's `Revert "Deploy RC 112
    /// to Production"`).
    pub fn from_revert_title(title: &str) -> Result<Self> {
        let title = title.trim();
        let bad = || {
            Error::invalid_input(format!(
                "PR title {title:?} is not of the form \"Revert RC <number>\""
            ))
        };
        if let Some(quoted) = title
            .strip_prefix("Revert \"")
            .and_then(|t| t.strip_suffix('"'))
        {
            return Self::from_pr_title(quoted).map_err(|_| bad());
        }
        title
            .strip_prefix("Revert RC ")
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())
    }
}

fn parse_part(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl FromStr for ReleaseNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid release number {s:?}: expected digits, optionally a dot and more digits \
                 (e.g. 112 or 112.1)"
            ))
        };
        match s.split_once('.') {
            None => Ok(ReleaseNumber::full(parse_part(s).ok_or_else(bad)?)),
            Some((major, minor)) => Ok(ReleaseNumber {
                major: parse_part(major).ok_or_else(bad)?,
                minor: Some(parse_part(minor).ok_or_else(bad)?),
            }),
        }
    }
}

impl TryFrom<String> for ReleaseNumber {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ReleaseNumber> for String {
    fn from(n: ReleaseNumber) -> String {
        n.to_string()
    }
}

impl fmt::Display for ReleaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            None => write!(f, "{}", self.major),
            Some(minor) => write!(f, "{}.{}", self.major, minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> ReleaseNumber {
        s.parse().expect(s)
    }

    #[test]
    fn arithmetic_follows_the_guide() {
        assert_eq!(n("112").next_full(), n("113"));
        assert_eq!(n("112.2").next_full(), n("113"));
        assert_eq!(n("112").next_patch(), n("112.1"));
        assert_eq!(n("112.1").next_patch(), n("112.2"));
        assert_eq!(ReleaseNumber::ZERO.next_full(), n("1"));
        assert!(n("112.1") > n("112"));
        assert!(n("113") > n("112.9"));
    }

    #[test]
    fn titles_parse() {
        assert_eq!(
            ReleaseNumber::from_release_title("RC 112").ok(),
            Some(n("112"))
        );
        assert_eq!(
            ReleaseNumber::from_release_title("RC 112.1").ok(),
            Some(n("112.1"))
        );
        assert_eq!(
            ReleaseNumber::from_pr_title("Deploy RC 112 to Production").ok(),
            Some(n("112"))
        );
        assert_eq!(
            ReleaseNumber::from_pr_title("Deploy RC 112.1 to Prod").ok(),
            Some(n("112.1"))
        );
        assert_eq!(n("112.1").revert_title(), "Revert RC 112.1");
        for revert in [
            "Revert RC 112.1",
            " Revert RC 112.1 ",
            "Revert \"Deploy RC 112.1 to Production\"",
        ] {
            assert_eq!(
                ReleaseNumber::from_revert_title(revert).ok(),
                Some(n("112.1")),
                "{revert}"
            );
        }
        for other in [
            "Deploy RC 112 to Production",
            "Revert RC",
            "Revert \"fix typo\"",
        ] {
            assert!(ReleaseNumber::from_revert_title(other).is_err(), "{other}");
        }
    }

    #[test]
    fn bad_input_is_refused() {
        for s in [
            "",
            "rc",
            "1.2.3",
            ".1",
            "1.",
            "-1",
            "1 2",
            "abc",
            "1234567890",
        ] {
            assert!(s.parse::<ReleaseNumber>().is_err(), "{s}");
        }
        for t in ["RC", "Release 112", "RC 11x", "rc 112"] {
            let err = ReleaseNumber::from_release_title(t).expect_err(t);
            assert!(err.to_string().contains("RC"), "{err}");
        }
        for t in [
            "Deploy RC 112",
            "Deploy RC 112 Production",
            "Deploy RC x to Prod",
            "RC 112",
        ] {
            assert!(ReleaseNumber::from_pr_title(t).is_err(), "{t}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["0", "1", "112", "112.1", "112.10"] {
            assert_eq!(n(s).to_string(), s);
        }
    }
}
