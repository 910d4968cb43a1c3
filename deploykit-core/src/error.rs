//! The one error type of deploykit: a kind, a temporary flag, context pairs and a source.
//!
//! Every port and workflow returns [`Error`]. Callers branch on [`Error::kind`] (retry only
//! what [`Error::is_temporary`] says is temporary); people read the message, which says what
//! was expected, what was found, and what to do.

use std::fmt;

/// What went wrong, in terms a caller can act on. Serialized by its snake_case name
/// ([`ErrorKind::as_str`]), as errors are in JSON output; journals written before that used
/// the variant names (`PolicyRefused`), which still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A named thing (group, revision, release, PR, instance) does not exist.
    #[serde(alias = "NotFound")]
    NotFound,
    /// The operation clashes with current state (release exists, lock held, branch exists).
    #[serde(alias = "Conflict")]
    Conflict,
    /// Going on could take capacity away from users; refused for safety.
    #[serde(alias = "Unsafe")]
    Unsafe,
    /// A policy (cadence calendar, no-migration risk check) refuses the operation.
    #[serde(alias = "PolicyRefused")]
    PolicyRefused,
    /// Credentials are missing, wrong or lack a permission.
    #[serde(alias = "Unauthenticated")]
    Unauthenticated,
    /// The backend asked us to slow down.
    #[serde(alias = "RateLimited")]
    RateLimited,
    /// A wait or a call did not finish in time.
    #[serde(alias = "Timeout")]
    Timeout,
    /// Input from the user or a file is malformed.
    #[serde(alias = "InvalidInput")]
    InvalidInput,
    /// The backend failed in a way not covered above.
    #[serde(alias = "Backend")]
    Backend,
    /// The operation is not available on this backend (or not built yet).
    #[serde(alias = "Unsupported")]
    Unsupported,
    /// The operator or a signal stopped the operation.
    #[serde(alias = "Interrupted")]
    Interrupted,
}

impl ErrorKind {
    /// A stable snake_case name, used in JSON output and Python exception names.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unsafe => "unsafe",
            ErrorKind::PolicyRefused => "policy_refused",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Backend => "backend",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// Whether errors of this kind are temporary unless said otherwise.
    pub fn default_temporary(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Timeout)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The boxed cause of an [`Error`].
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// deploykit's error: see the module documentation.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    temporary: bool,
    context: Vec<(String, String)>,
    #[source]
    source: Option<Source>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.context.is_empty() {
            f.write_str(" (")?;
            for (i, (k, v)) in self.context.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl Error {
    /// A new error of `kind` with a message saying what was expected, found, and what to do.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            temporary: kind.default_temporary(),
            context: Vec::new(),
            source: None,
        }
    }

    /// [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// [`ErrorKind::Conflict`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    /// [`ErrorKind::Unsafe`].
    pub fn unsafe_op(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsafe, message)
    }
    /// [`ErrorKind::PolicyRefused`].
    pub fn policy_refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PolicyRefused, message)
    }
    /// [`ErrorKind::Unauthenticated`].
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, message)
    }
    /// [`ErrorKind::RateLimited`] (temporary).
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited, message)
    }
    /// [`ErrorKind::Timeout`] (temporary).
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    /// [`ErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    /// [`ErrorKind::Backend`].
    pub fn backend(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Backend, message)
    }
    /// [`ErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// [`ErrorKind::Interrupted`].
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Interrupted, message)
    }

    /// Adds a context pair (shown after the message).
    pub fn with(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.context.push((key.into(), value.to_string()));
        self
    }

    /// Adds `hint` to the end of the message (e.g. the name a mistyped one was likely meant
    /// to be), before the context.
    pub fn hinted(mut self, hint: &str) -> Self {
        self.message = format!("{}; {hint}", self.message);
        self
    }

    /// Sets the temporary flag (retry wrappers retry only temporary errors).
    pub fn temporary(mut self, temporary: bool) -> Self {
        self.temporary = temporary;
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without context pairs.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// The context pairs, in the order they were added.
    pub fn context(&self) -> &[(String, String)] {
        &self.context
    }

    /// The value of a context key, if present.
    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `Result` with deploykit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_message_and_context() {
        let e =
            Error::not_found("no Auto Scaling group named prod-idp; check the environment name")
                .with("group", "prod-idp");
        assert_eq!(
            e.to_string(),
            "no Auto Scaling group named prod-idp; check the environment name (group: prod-idp)"
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.is_temporary());
        assert_eq!(e.context_value("group"), Some("prod-idp"));
        assert_eq!(
            e.hinted("did you mean prod?").to_string(),
            "no Auto Scaling group named prod-idp; check the environment name; did you mean \
             prod? (group: prod-idp)"
        );
    }

    #[test]
    fn kinds_serialize_by_their_snake_case_names_and_old_journals_still_read() {
        let json = serde_json::to_string(&ErrorKind::PolicyRefused).expect("json");
        assert_eq!(json, "\"policy_refused\"");
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::Unsafe,
            ErrorKind::InvalidInput,
        ] {
            let now: ErrorKind =
                serde_json::from_str(&format!("\"{}\"", kind.as_str())).expect("new name");
            let before: ErrorKind =
                serde_json::from_str(&format!("\"{kind:?}\"")).expect("old name");
            assert_eq!((now, before), (kind, kind));
        }
    }

    #[test]
    fn throttling_is_temporary_by_default() {
        assert!(Error::rate_limited("slow down").is_temporary());
        assert!(Error::timeout("late").is_temporary());
        assert!(!Error::backend("boom").is_temporary());
        assert!(Error::backend("boom").temporary(true).is_temporary());
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("disk full");
        let e = Error::backend("could not write the journal").with_source(io);
        assert_eq!(
            std::error::Error::source(&e).map(|s| s.to_string()),
            Some("disk full".to_string())
        );
    }
}
