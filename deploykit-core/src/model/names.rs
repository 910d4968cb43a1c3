//! Names of environments, apps and roles, checked when parsed.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

fn check_name(what: &str, example: &str, s: &str) -> Result<()> {
    let valid_chars = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_with_letter = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if s.is_empty() || s.len() > 40 || !valid_chars || !starts_with_letter || s.ends_with('-') {
        return Err(Error::invalid_input(format!(
            "invalid {what} name {s:?}: expected 1 to 40 lowercase letters, digits, '-' or '_', \
             starting with a letter (for example {example:?})"
        ))
        .with(what, s));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $what:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            /// Parses and checks a name.
            pub fn new(s: impl AsRef<str>) -> Result<Self> {
                let s = s.as_ref();
                check_name($what, $example, s)?;
                Ok($ty(s.to_string()))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A built-in name from a literal (checked in debug builds and by the tests).
            #[allow(dead_code)]
            pub(crate) fn from_static(s: &'static str) -> Self {
                debug_assert!(check_name($what, $example, s).is_ok(), "{s}");
                $ty(s.to_string())
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                Self::new(s)
            }
        }

        impl From<$ty> for String {
            fn from(n: $ty) -> String {
                n.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// An environment: `prod`, `staging`, `int`, or a sandbox such as `dev-jdoe`.
    EnvName,
    "environment",
    "prod"
);
name_type!(
    /// An application: `idp` (identity-idp) or `pki` (identity-pki).
    AppName,
    "app",
    "idp"
);
name_type!(
    /// A server role, the second half of an Auto Scaling group name: `idp`, `worker`,
    /// `migration`, `pivcac`, `analytics`.
    RoleName,
    "role",
    "idp"
);

impl EnvName {
    /// Whether this is the production environment (`prod`), where old instances are removed
    /// by hand and scale-in protection is on.
    pub fn is_production(&self) -> bool {
        self.0 == "prod"
    }
}

impl RoleName {
    /// The role of the migration group (`migration`).
    pub fn migration() -> Self {
        RoleName::from_static("migration")
    }
}

/// A role, or every role of an environment (`ALL` on the command line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSelector {
    /// Every non-stateful, non-utility, non-empty group.
    All,
    /// One role.
    Role(RoleName),
}

impl FromStr for RoleSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "ALL" || s == "all" {
            Ok(RoleSelector::All)
        } else {
            RoleName::new(s).map(RoleSelector::Role)
        }
    }
}

impl fmt::Display for RoleSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleSelector::All => f.write_str("ALL"),
            RoleSelector::Role(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_parse() {
        for s in [
            "prod", "staging", "int", "dev-jdoe", "idp", "pivcac", "a1_b",
        ] {
            assert_eq!(EnvName::new(s).map(|n| n.to_string()).ok(), Some(s.into()));
        }
        assert!(EnvName::new("prod").is_ok_and(|e| e.is_production()));
        assert!(EnvName::new("staging").is_ok_and(|e| !e.is_production()));
    }

    #[test]
    fn bad_names_are_refused_with_the_rule() {
        for s in [
            "",
            "Prod",
            "1prod",
            "prod idp",
            "prod-",
            "p/q",
            &"x".repeat(41),
        ] {
            let err = EnvName::new(s).expect_err(s);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            assert!(
                err.to_string().contains("invalid environment name"),
                "{err}"
            );
        }
        let err = RoleName::new("IDP").expect_err("uppercase");
        assert!(err.to_string().contains("lowercase"), "{err}");
    }

    #[test]
    fn role_selector_accepts_all() {
        assert_eq!("ALL".parse::<RoleSelector>().ok(), Some(RoleSelector::All));
        assert_eq!(
            "idp".parse::<RoleSelector>().ok(),
            Some(RoleSelector::Role(RoleName::new("idp").expect("valid")))
        );
        assert!("Bad Role".parse::<RoleSelector>().is_err());
    }

    #[test]
    fn serde_round_trips_and_checks() {
        let e: EnvName = serde_json::from_str("\"prod\"").expect("valid");
        assert_eq!(serde_json::to_string(&e).ok(), Some("\"prod\"".into()));
        assert!(serde_json::from_str::<EnvName>("\"PROD\"").is_err());
    }
}
