//! A pull request named by number (`123`, `#123`) or by URL
//! (`https://github.com/<owner>/<repo>/pull/123`).

use std::str::FromStr;

use crate::error::{Error, Result};

/// A pull request reference as a user types it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrReference {
    /// The PR number.
    pub number: u64,
    /// `owner/name` when given as a URL.
    pub repository: Option<String>,
}

impl PrReference {
    /// The number, after checking that a URL names `repository` (case-insensitive).
    pub fn number_in(&self, repository: &str) -> Result<u64> {
        match &self.repository {
            Some(found) if !found.eq_ignore_ascii_case(repository.trim()) => {
                Err(Error::invalid_input(format!(
                    "the PR link points at {found}, not at the configured repository \
                     {repository}; give the PR of {repository} (or its number)"
                ))
                .with("repository", repository))
            }
            _ => Ok(self.number),
        }
    }
}

fn parse_number(s: &str) -> Option<u64> {
    let s = s.strip_prefix('#').unwrap_or(s);
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
}

impl FromStr for PrReference {
    type Err = Error;

    /// ```
    /// use deploykit_core::release::PrReference;
    /// let r: PrReference = "https://github.com/18F/identity-idp/pull/9603".parse().unwrap();
    /// assert_eq!(r.number, 9603);
    /// assert_eq!(r.repository.as_deref(), Some("18F/identity-idp"));
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || {
            Error::invalid_input(format!(
                "{s:?} is not a pull request: give its number (e.g. 9603) or its URL \
                 (e.g. https://github.com/18F/identity-idp/pull/9603)"
            ))
        };
        if let Some(number) = parse_number(s) {
            return Ok(PrReference {
                number,
                repository: None,
            });
        }
        let rest = s
            .strip_prefix("https://github.com/")
            .or_else(|| s.strip_prefix("http://github.com/"))
            .ok_or_else(bad)?;
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [owner, name, "pull", number, ..] if !owner.is_empty() && !name.is_empty() => {
                Ok(PrReference {
                    number: parse_number(number).ok_or_else(bad)?,
                    repository: Some(format!("{owner}/{name}")),
                })
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_urls_parse() {
        let r: PrReference = "9603".parse().expect("number");
        assert_eq!((r.number, r.repository), (9603, None));
        assert_eq!(
            "#12".parse::<PrReference>().map(|r| r.number).ok(),
            Some(12)
        );
        let r: PrReference = "https://github.com/18F/identity-idp/pull/9603/files"
            .parse()
            .expect("url");
        assert_eq!(r.number, 9603);
        assert_eq!(r.number_in("18f/identity-idp").ok(), Some(9603));
    }

    #[test]
    fn urls_of_other_repositories_are_refused() {
        let r: PrReference = "https://github.com/18F/identity-pki/pull/5"
            .parse()
            .expect("url");
        let err = r.number_in("18F/identity-idp").expect_err("other repo");
        assert!(err.to_string().contains("18F/identity-pki"), "{err}");
        assert!(err.to_string().contains("18F/identity-idp"), "{err}");
    }

    #[test]
    fn bad_references_are_refused() {
        for s in [
            "",
            "0",
            "abc",
            "https://github.com/18F/identity-idp/issues/5",
            "https://github.com/18F/identity-idp/pull/x",
            "https://example.com/18F/identity-idp/pull/5",
            "99999999999999999999999",
        ] {
            let err = s.parse::<PrReference>().expect_err(s);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{s}");
        }
    }
}
