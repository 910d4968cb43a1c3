//! `Token`: a GitHub token that never shows itself in Debug, Display, logs or errors.

use std::fmt;

/// A GitHub access token. `Debug` prints `Token(***)`; read it only with [`Token::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; `None` when it is empty or only whitespace.
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into().trim().to_string();
        (!token.is_empty()).then_some(Token(token))
    }

    /// The token from `GITHUB_TOKEN`, else `GH_TOKEN`, as the `gh` CLI reads them.
    pub fn from_env() -> Option<Self> {
        ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .find_map(|name| std::env::var(name).ok().and_then(Token::new))
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// `text` with the token (if any) replaced by `***`.
pub(crate) fn redact(token: Option<&Token>, text: &str) -> String {
    match token {
        Some(t) => t.redact(text),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redact_hide_the_secret() {
        let t = Token::new(" ghp_secret123 ").expect("token");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(t.expose(), "ghp_secret123");
        assert_eq!(t.redact("bad ghp_secret123 here"), "bad *** here");
        assert!(Token::new("  ").is_none());
    }
}
