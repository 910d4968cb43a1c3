//! Git object names: full (40 hex digits) or abbreviated (at least 4).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A git commit id, full or abbreviated, stored lowercase.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Sha(String);

impl Sha {
    /// Parses a SHA: 4 to 40 hexadecimal digits, any case.
    pub fn new(s: impl AsRef<str>) -> Result<Self> {
        let s = s.as_ref().trim();
        if s.len() < 4 || s.len() > 40 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid_input(format!(
                "invalid git SHA {s:?}: expected 4 to 40 hexadecimal digits \
                 (a full SHA has 40, e.g. from `git rev-parse HEAD`)"
            )));
        }
        Ok(Sha(s.to_ascii_lowercase()))
    }

    /// Whether all 40 digits are present.
    pub fn is_full(&self) -> bool {
        self.0.len() == 40
    }

    /// The first 7 digits (or all, if shorter), as people write SHAs.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(7)]
    }

    /// Whether `self` and `other` name the same commit as far as both are known
    /// (one is a prefix of the other).
    pub fn matches(&self, other: &Sha) -> bool {
        self.0.starts_with(&other.0) || other.0.starts_with(&self.0)
    }

    /// The SHA as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sha {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Sha::new(s)
    }
}

impl TryFrom<String> for Sha {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Sha::new(s)
    }
}

impl From<Sha> for String {
    fn from(s: Sha) -> String {
        s.0
    }
}

impl fmt::Display for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_short_shas_parse() {
        let full = Sha::new("0123456789ABCDEF0123456789abcdef01234567").expect("full");
        assert!(full.is_full());
        assert_eq!(full.as_str(), "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(full.short(), "0123456");
        let short = Sha::new("abc1234").expect("short");
        assert!(!short.is_full());
        assert!(full.matches(&Sha::new("0123456").expect("prefix")));
        assert!(!full.matches(&short));
    }

    #[test]
    fn bad_shas_are_refused() {
        for s in [
            "",
            "abc",
            "xyz1234",
            "0123456789abcdef0123456789abcdef012345678",
            "ab cd",
        ] {
            let err = Sha::new(s).expect_err(s);
            assert!(err.to_string().contains("hexadecimal"), "{err}");
        }
    }
}
