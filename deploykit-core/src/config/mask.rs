//! Keeping secrets out of what the configuration prints: problem messages and `config show`
//! hide every secret value deploykit was given (wherever it appears in the text), the
//! password of a URL's userinfo and secret-looking query parameters.

use std::sync::LazyLock;

use regex_lite::Regex;
use toml::Value;

use super::secret::{REDACTED, Secret};
use crate::notify::{RedactionRules, redact_config_diff};

/// A URL anywhere in a text, up to whitespace or a quote.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'`]+"#)
        .expect("a valid built-in regular expression")
});

/// Hides known secret values and URL credentials in text.
#[derive(Debug, Default)]
pub(crate) struct Masker {
    /// The forms a secret may take in a message (as is, escaped as Rust or TOML quote it,
    /// percent-encoded), longest first so a secret containing another is hidden whole.
    literals: Vec<String>,
}

/// `value` with every byte outside `A-Za-z0-9-._~` written as `%XX`.
fn percent_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Masker {
    /// A masker hiding each of `secrets` (empty ones are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let mut literals = Vec::new();
        for s in secrets {
            let value = s.expose().trim();
            if value.is_empty() {
                continue;
            }
            let debug = format!("{value:?}");
            let escaped = debug[1..debug.len() - 1].to_string();
            for form in [value.to_string(), escaped, percent_encoded(value)] {
                if !literals.contains(&form) {
                    literals.push(form);
                }
            }
        }
        literals.sort_by_key(|l: &String| std::cmp::Reverse(l.len()));
        Masker { literals }
    }

    /// `text` with every known secret, URL password and secret query parameter hidden.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for literal in &self.literals {
            if out.contains(literal.as_str()) {
                out = out.replace(literal.as_str(), REDACTED);
            }
        }
        mask_url_credentials(&out)
    }

    /// Every string in `value` masked; a `*_file` key holding what looks like a secret
    /// rather than a path is hidden whole.
    pub fn mask_value(&self, key: &str, value: &mut Value) {
        match value {
            Value::String(s) => {
                *s = if key.ends_with("_file") && looks_like_a_secret(s) {
                    REDACTED.to_string()
                } else {
                    self.mask(s)
                };
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_value(key, v)),
            Value::Table(t) => t.iter_mut().for_each(|(k, v)| self.mask_value(k, v)),
            _ => {}
        }
    }
}

/// The password of every URL's userinfo and its secret-looking query parameters hidden
/// (`https://x-access-token:[REDACTED]@github.com`, `?api_key=[REDACTED]`), by the
/// announcements' redactor.
fn mask_url_credentials(text: &str) -> String {
    let rules = RedactionRules::default();
    URL.replace_all(text, |c: &regex_lite::Captures<'_>| {
        redact_config_diff(&c[0], &rules)
    })
    .into_owned()
}

/// Whether a `*_file` value looks like the secret itself rather than a path to a file
/// holding it: a GitHub, Slack or New Relic token, or a URL (a webhook).
pub(crate) fn looks_like_a_secret(value: &str) -> bool {
    let v = value.trim();
    const PREFIXES: &[&str] = &[
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "ghr_",
        "github_pat_",
        "xox",
        "xapp-",
        "NRAK-",
        "NRII-",
        "https://",
        "http://",
    ];
    PREFIXES.iter().any(|p| v.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_url_credentials_are_hidden() {
        let secrets = [Secret::new("ghp_FAKE"), Secret::new("a\"b")];
        let m = Masker::new(&secrets);
        assert_eq!(
            m.mask("found \"xghp_FAKEy\" and \"a\\\"b\" and ghp%5FFAKE"),
            "found \"x[REDACTED]y\" and \"[REDACTED]\" and ghp%5FFAKE"
        );
        assert_eq!(
            m.mask("see \"https://x-access-token:pw123@github.example/x?api_key=k1&a=b\""),
            "see \"https://x-access-token:[REDACTED]@github.example/x?api_key=[REDACTED]&a=b\""
        );
        assert!(looks_like_a_secret("xoxb-1-2"));
        assert!(!looks_like_a_secret("/run/secrets/slack"));
    }
}
