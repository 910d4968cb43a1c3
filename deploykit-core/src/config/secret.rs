//! `Secret`: a token or webhook URL that prints as `[REDACTED]` everywhere.

use std::fmt;
use std::path::PathBuf;

/// What a secret prints as in Debug, Display, Serialize and `config show`.
pub const REDACTED: &str = "[REDACTED]";

/// A secret value (token, webhook URL, API key). Its `Debug`, `Display` and `Serialize`
/// print `[REDACTED]`; only [`Secret::expose`] gives the value, for the one place that
/// sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: call only where it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Where a secret came from, shown by `config show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file the configuration points to.
    File(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "environment variable {name}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A secret and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedSecret {
    /// The value.
    pub secret: Secret,
    /// Where it came from.
    pub source: SecretSource,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("xoxb-123-abc");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(s.to_string(), "[REDACTED]");
        assert_eq!(serde_json::to_string(&s).expect("json"), "\"[REDACTED]\"");
        let sourced = SourcedSecret {
            secret: s.clone(),
            source: SecretSource::Env("SLACK_BOT_TOKEN".into()),
        };
        assert!(!format!("{sourced:?}").contains("xoxb"));
        assert_eq!(s.expose(), "xoxb-123-abc");
    }
}
