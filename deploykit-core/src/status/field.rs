//! A value a source reported, or why it is unknown.

use std::fmt;

use crate::error::{Error, Result};

/// One field of a status: known, or unknown with the reason its source failed.
///
/// A status reads several sources (deploy status documents, the fleet, git, the code host);
/// one failing source makes its fields unknown without hiding the others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Field<T> {
    /// The source answered.
    Known {
        /// The value.
        value: T,
    },
    /// The source failed.
    Unknown {
        /// What failed, from the source's error.
        reason: String,
    },
}

impl<T> Field<T> {
    /// Known from a result, unknown with the error's text (prefixed by `what`) otherwise.
    pub fn from_result(what: &str, result: Result<T>) -> Self {
        match result {
            Ok(value) => Field::Known { value },
            Err(e) => Field::unknown(what, &e),
        }
    }

    /// Unknown because reading `what` failed with `error`.
    pub fn unknown(what: &str, error: &Error) -> Self {
        Field::Unknown {
            reason: format!("{what}: {error}"),
        }
    }

    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known { value } => Some(value),
            Field::Unknown { .. } => None,
        }
    }

    /// The reason, when unknown.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Field::Known { .. } => None,
            Field::Unknown { reason } => Some(reason),
        }
    }

    /// Text for a table cell: `show(value)`, or `unknown`.
    pub fn cell(&self, show: impl FnOnce(&T) -> String) -> String {
        match self {
            Field::Known { value } => show(value),
            Field::Unknown { .. } => "unknown".into(),
        }
    }
}

impl<T: fmt::Display> fmt::Display for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Known { value } => write!(f, "{value}"),
            Field::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_keep_the_reason_and_serialize_it() {
        let f: Field<u32> = Field::from_result("releases", Err(Error::backend("GitHub is down")));
        assert_eq!(f.known(), None);
        assert_eq!(f.cell(|v| v.to_string()), "unknown");
        assert!(f.to_string().contains("releases: GitHub is down"), "{f}");
        let json = serde_json::to_value(&f).expect("json");
        assert_eq!(json["state"], "unknown");
        let ok: Field<u32> = Field::from_result("x", Ok(3));
        assert_eq!(serde_json::to_value(&ok).expect("json")["value"], 3);
        assert_eq!(ok.to_string(), "3");
    }
}
