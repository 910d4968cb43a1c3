//! `redact_config_diff`: hides secret values in a configuration diff before it is
//! announced.
//!
//! A value is replaced by `[REDACTED]` when
//! - its key looks secret: it contains `password`, `secret`, `token`, `key`, `credential`,
//!   `private` or `signature` (any case), in `key: value`, `key = value`, `KEY=value` or JSON
//!   `"key": "value"` form, on context, `+` and `-` lines alike;
//! - its key is a parameter known to be a SecureString ([`RedactionRules::secure_parameters`],
//!   matched by full name or by last path segment);
//! - it matches one of the configured patterns ([`RedactionRules::with_pattern`]).
//!
//! The lines of a YAML block value (`key: |`) under a secret key, and everything between
//! `-----BEGIN` and `-----END` lines (PEM keys), are redacted too.
//!
//! Credentials inside a value are redacted under any key, keeping what is around them:
//! - the password of a URL's userinfo: `redis://:[REDACTED]@redis:6379`,
//!   `https://user:[REDACTED]@db.example.com/x` (the scheme, user and host stay visible);
//! - the credentials after `Authorization:` (`Authorization: Basic [REDACTED]`), and a
//!   token-like word after `Bearer` anywhere (`Bearer [REDACTED]`);
//! - the value of a query parameter whose name looks secret (same words as for keys):
//!   `?user=bob&access_token=[REDACTED]`.

use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

use crate::error::{Error, Result};

/// What [`redact_config_diff`] puts in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "key",
    "credential",
    "private",
    "signature",
];

/// A URL with a password in its userinfo: `scheme://user:` (`pre`), then everything up to the
/// last `@` before a `/`, whitespace or quote (`pw`, refined by [`url_password_end`]).
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:"'`]*:)(?P<pw>[^\s/"'`]+)@"#)
        .expect("a valid built-in regular expression")
});

/// `Authorization: <scheme> <credentials>` (also quoted, `=`, `Proxy-Authorization`).
static AUTHORIZATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?P<pre>authorization["']?\s*[:=]\s*["']?[A-Za-z][A-Za-z0-9._\-]*\s+)(?P<cred>[^\s"'`,;\[\]]+)"#,
    )
    .expect("a valid built-in regular expression")
});

/// `Bearer <token>` anywhere (the token is checked by [`looks_like_token`]).
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?P<pre>\bbearer\s+)(?P<token>[A-Za-z0-9._~+/=\-]+)")
        .expect("a valid built-in regular expression")
});

/// A query (or form) parameter `?name=value` / `&name=value`.
static QUERY_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<pre>[?&](?P<name>[A-Za-z0-9_.\-]+)=)(?P<value>[^&#\s"'`<>,;()\[\]{}]+)"#)
        .expect("a valid built-in regular expression")
});

/// What to redact beyond secret-looking keys.
#[derive(Debug, Clone, Default)]
pub struct RedactionRules {
    /// Names of SecureString parameters (`/prod/idp/db_url` or `db_url`): their values are
    /// always redacted.
    pub secure_parameters: Vec<String>,
    patterns: Vec<Regex>,
}

impl RedactionRules {
    /// Rules with the given SecureString parameter names and no patterns.
    pub fn new(secure_parameters: impl IntoIterator<Item = impl Into<String>>) -> Self {
        RedactionRules {
            secure_parameters: secure_parameters.into_iter().map(Into::into).collect(),
            patterns: Vec::new(),
        }
    }

    /// Adds a regular expression; every match is redacted wherever it appears.
    ///
    /// ```
    /// use deploykit_core::notify::{RedactionRules, redact_config_diff};
    /// let rules = RedactionRules::default().with_pattern(r"AKIA[0-9A-Z]{16}")?;
    /// assert_eq!(
    ///     redact_config_diff("+ note: AKIAABCDEFGHIJKLMNOP", &rules),
    ///     "+ note: [REDACTED]"
    /// );
    /// # Ok::<(), deploykit_core::Error>(())
    /// ```
    pub fn with_pattern(mut self, pattern: &str) -> Result<Self> {
        let re = Regex::new(pattern).map_err(|e| {
            Error::invalid_input(format!(
                "redaction pattern {pattern:?} is not a valid regular expression: {e}; fix it \
                 or remove it"
            ))
        })?;
        self.patterns.push(re);
        Ok(self)
    }

    /// Adds a value that is redacted wherever it appears, as it is and percent-encoded
    /// (a known secret: the configured tokens and webhook URLs). Empty values are ignored.
    ///
    /// ```
    /// use deploykit_core::notify::{RedactionRules, redact_config_diff};
    /// let rules = RedactionRules::default().with_literal("https://hooks.example/T0/B1/xyz");
    /// assert_eq!(
    ///     redact_config_diff("+ alerts_url: https://hooks.example/T0/B1/xyz", &rules),
    ///     "+ alerts_url: [REDACTED]"
    /// );
    /// ```
    pub fn with_literal(mut self, value: &str) -> Self {
        let value = value.trim();
        if value.is_empty() {
            return self;
        }
        let encoded = percent_encode(value);
        for v in [value.to_string(), encoded] {
            // An escaped literal always compiles.
            if let Ok(re) = Regex::new(&regex_lite::escape(&v)) {
                self.patterns.push(re);
            }
        }
        self
    }

    /// The configured patterns.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(Regex::as_str)
    }

    fn is_secure_parameter(&self, key: &str) -> bool {
        let last = key.rsplit('/').next().unwrap_or(key);
        self.secure_parameters.iter().any(|p| {
            let p_last = p.rsplit('/').next().unwrap_or(p);
            p == key || (!p.contains('/') && p == last) || (!key.contains('/') && p_last == key)
        })
    }

    fn is_secret_key(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        SECRET_WORDS.iter().any(|w| lower.contains(w)) || self.is_secure_parameter(key)
    }
}

/// `value` with every byte outside `A-Za-z0-9-._~` written as `%XX` (how a secret looks
/// once it went through a URL query or form encoding).
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Splits a diff line into its marker (`+`, `-`, ` `, `~`) with indentation, and the rest.
fn split_marker(line: &str) -> (&str, &str) {
    let mut end = 0;
    for (i, c) in line.char_indices() {
        if i == 0 && matches!(c, '+' | '-' | '~') {
            end = i + 1;
            continue;
        }
        if c == ' ' || c == '\t' {
            end = i + c.len_utf8();
            continue;
        }
        break;
    }
    line.split_at(end)
}

fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// The end (exclusive) of a quoted string starting at `start` (the quote), or the line end.
fn quoted_end(s: &str, start: usize) -> usize {
    let bytes = s.as_bytes();
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    s.len()
}

/// A key-value pair found in a line: the key and the byte span of its value.
struct Pair {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

/// Finds every `key sep value` pair in `body` (after the diff marker). A pair at the start
/// of the body takes the rest of the line as its value (YAML, env files); later pairs end
/// at a comma, brace, or whitespace unless quoted (JSON on one line).
fn pairs(body: &str) -> Vec<Pair> {
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        // A key starts at a key character, optionally quoted, after a boundary.
        let boundary = i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'{' | b',' | b'[' | b'(');
        if !boundary {
            i += 1;
            continue;
        }
        let (quoted, ks) = if c == '"' || c == '\'' {
            (Some(bytes[i]), i + 1)
        } else {
            (None, i)
        };
        let mut ke = ks;
        while ke < bytes.len() && key_char(bytes[ke] as char) {
            ke += 1;
        }
        if ke == ks {
            i += 1;
            continue;
        }
        let mut j = ke;
        if let Some(q) = quoted {
            if j >= bytes.len() || bytes[j] != q {
                i = ke;
                continue;
            }
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() {
            i = ke;
            continue;
        }
        let sep = bytes[j];
        let sep_ok = sep == b'='
            || (sep == b':'
                && (j + 1 >= bytes.len() || matches!(bytes[j + 1], b' ' | b'"' | b'\'')));
        if !sep_ok {
            i = ke;
            continue;
        }
        let mut vs = j + 1;
        while vs < bytes.len() && bytes[vs] == b' ' {
            vs += 1;
        }
        let at_start = i == 0;
        let ve = if vs < bytes.len() && (bytes[vs] == b'"' || bytes[vs] == b'\'') {
            if at_start {
                // `key = "a" -> "b"` (plans) and trailing commas: the rest of the line.
                body.len()
            } else {
                quoted_end(body, vs)
            }
        } else if at_start {
            body.len()
        } else {
            let mut e = vs;
            while e < bytes.len() && !matches!(bytes[e], b',' | b'}' | b']' | b' ' | b'\t') {
                e += 1;
            }
            e
        };
        out.push(Pair {
            key_start: ks,
            key_end: ke,
            value_start: vs,
            value_end: ve,
        });
        i = ve.max(i + 1);
    }
    out
}

/// Where the password captured by [`URL_USERINFO`] ends (the last `@` of the userinfo), or
/// `None` when it is no password. The authority ends at the first `?` or `#`: when an `@`
/// comes before it, the password ends at the last such `@` (`u:p@host?mail=a@b`); otherwise
/// `?` and `#` are taken as part of an unencoded password (`u:ab#cd@host`), unless what comes
/// before them is a port (`host:8080?q=a@b`).
fn url_password_end(pw: &str) -> Option<usize> {
    match pw.find(['?', '#']) {
        Some(cut) => match pw[..cut].rfind('@') {
            Some(at) => Some(at),
            None if pw[..cut].bytes().all(|b| b.is_ascii_digit()) => None,
            None => Some(pw.len()),
        },
        None => Some(pw.len()),
    }
}

/// Whether the word after `Bearer` is a credential rather than prose (`Bearer
/// authentication`): at least 8 characters with a digit or a symbol in it.
fn looks_like_token(word: &str) -> bool {
    word.len() >= 8
        && word.bytes().any(|b| {
            b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
        })
}

/// `text` with the credentials inside values redacted (see the module docs): URL passwords,
/// `Authorization` credentials, bearer tokens, secret query parameters.
fn redact_credentials(text: &str, rules: &RedactionRules) -> String {
    let text = URL_USERINFO.replace_all(text, |c: &Captures<'_>| {
        let pw = &c["pw"];
        match url_password_end(pw) {
            Some(end) => format!("{}{REDACTED}{}@", &c["pre"], &pw[end..]),
            None => c[0].to_string(),
        }
    });
    let text =
        AUTHORIZATION.replace_all(&text, |c: &Captures<'_>| format!("{}{REDACTED}", &c["pre"]));
    let text = BEARER.replace_all(&text, |c: &Captures<'_>| {
        if looks_like_token(&c["token"]) {
            format!("{}{REDACTED}", &c["pre"])
        } else {
            c[0].to_string()
        }
    });
    QUERY_PARAM
        .replace_all(&text, |c: &Captures<'_>| {
            if rules.is_secret_key(&c["name"]) {
                format!("{}{REDACTED}", &c["pre"])
            } else {
                c[0].to_string()
            }
        })
        .into_owned()
}

/// Replaces a value with `[REDACTED]`, keeping its quotes and a trailing comma so the line
/// still reads as what it was.
fn redacted_value(value: &str) -> String {
    let trimmed = value.trim_end();
    let (core, comma) = match trimmed.strip_suffix(',') {
        Some(c) => (c, ","),
        None => (trimmed, ""),
    };
    if core.is_empty() {
        return value.to_string();
    }
    let first = core.as_bytes()[0];
    if (first == b'"' || first == b'\'')
        && core.len() >= 2
        && core.as_bytes()[core.len() - 1] == first
    {
        let q = first as char;
        format!("{q}{REDACTED}{q}{comma}")
    } else {
        format!("{REDACTED}{comma}")
    }
}

fn indent_of(body_prefix: &str) -> usize {
    body_prefix
        .trim_start_matches(['+', '-', '~'])
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count()
}

/// The diff with every secret value replaced by `[REDACTED]` (see the module docs).
///
/// ```
/// use deploykit_core::notify::{RedactionRules, redact_config_diff};
/// let diff = "- db_password: hunter2\n+ db_password: hunter3\n  pool_size: 5";
/// assert_eq!(
///     redact_config_diff(diff, &RedactionRules::default()),
///     "- db_password: [REDACTED]\n+ db_password: [REDACTED]\n  pool_size: 5"
/// );
/// ```
pub fn redact_config_diff(diff: &str, rules: &RedactionRules) -> String {
    let mut out = Vec::new();
    // Indentation of a secret key whose block value (`key: |`) is being skipped.
    let mut block_indent: Option<usize> = None;
    let mut in_pem = false;
    for line in diff.split('\n') {
        let (marker, body) = split_marker(line);
        if in_pem {
            if body.contains("-----END") {
                in_pem = false;
                out.push(line.to_string());
            } else {
                out.push(format!("{marker}{REDACTED}"));
            }
            continue;
        }
        if let Some(indent) = block_indent {
            if !body.trim().is_empty() && indent_of(marker) > indent {
                out.push(format!("{marker}{REDACTED}"));
                continue;
            }
            block_indent = None;
        }
        if body.contains("-----BEGIN") && !body.contains("-----END") {
            in_pem = true;
        }
        let mut redacted = String::with_capacity(line.len());
        let mut last = 0;
        for pair in pairs(body) {
            let key = &body[pair.key_start..pair.key_end];
            if !rules.is_secret_key(key) {
                continue;
            }
            let value = &body[pair.value_start..pair.value_end];
            let v = value.trim();
            if v.starts_with('|') || v.starts_with('>') {
                block_indent = Some(indent_of(marker));
                continue;
            }
            if v.is_empty() {
                continue;
            }
            redacted.push_str(&body[last..pair.value_start]);
            redacted.push_str(&redacted_value(value));
            last = pair.value_end;
        }
        redacted.push_str(&body[last..]);
        let mut text = format!("{marker}{redacted}");
        for re in &rules.patterns {
            text = re.replace_all(&text, REDACTED).into_owned();
        }
        // After the patterns, so that a known secret value is hidden whole.
        out.push(redact_credentials(&text, rules));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(diff: &str) -> String {
        redact_config_diff(diff, &RedactionRules::default())
    }

    #[test]
    fn every_key_value_form_is_redacted() {
        assert_eq!(redact("+ api_token: abc123"), "+ api_token: [REDACTED]");
        assert_eq!(
            redact("- Password = \"p@ss w0rd\""),
            "- Password = \"[REDACTED]\""
        );
        assert_eq!(
            redact("+DATABASE_PASSWORD=s3cret"),
            "+DATABASE_PASSWORD=[REDACTED]"
        );
        assert_eq!(
            redact("+   \"client_secret\": \"zzz\","),
            "+   \"client_secret\": \"[REDACTED]\","
        );
        assert_eq!(
            redact("  {\"user\": \"bob\", \"privateKey\": \"k1\", \"n\": 2}"),
            "  {\"user\": \"bob\", \"privateKey\": \"[REDACTED]\", \"n\": 2}"
        );
        assert_eq!(
            redact("  credentials: my long phrase"),
            "  credentials: [REDACTED]"
        );
        assert_eq!(
            redact("~ secret_key_base = \"old\" -> \"new\""),
            "~ secret_key_base = \"[REDACTED]\""
        );
    }

    #[test]
    fn harmless_lines_are_unchanged() {
        let diff = "@@ -1,3 +1,3 @@\n- pool_size: 5\n+ pool_size: 10\n  url: https://example.gov:443/x\n  at 12:30";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn secure_parameters_and_patterns_are_redacted() {
        let rules = RedactionRules::new(["/prod/idp/database_url", "smtp_address"])
            .with_pattern(r"hooks\.slack\.com/services/[A-Za-z0-9/]+")
            .expect("pattern");
        let diff = "- /prod/idp/database_url: postgres://u:p@db/x\n\
                    + database_url = postgres://u:q@db/x\n\
                    + smtp_address: mail.example.gov\n\
                    + notes: see hooks.slack.com/services/T0/B1/abc";
        assert_eq!(
            redact_config_diff(diff, &rules),
            "- /prod/idp/database_url: [REDACTED]\n\
             + database_url = [REDACTED]\n\
             + smtp_address: [REDACTED]\n\
             + notes: see [REDACTED]"
        );
        assert_eq!(
            RedactionRules::default()
                .with_pattern("(")
                .expect_err("bad pattern")
                .kind(),
            crate::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn known_secret_values_are_redacted_under_any_key() {
        let hook = "https://hooks.slack.com/services/T0/B1/s3cr3t?x=1";
        let rules = RedactionRules::default()
            .with_literal(hook)
            .with_literal("  ");
        let diff = format!(
            "+ alerts: {hook}\n- form: a=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT0%2FB1%2Fs3cr3t%3Fx%3D1\n  n: 1"
        );
        let out = redact_config_diff(&diff, &rules);
        assert_eq!(out, "+ alerts: [REDACTED]\n- form: a=[REDACTED]\n  n: 1");
    }

    #[test]
    fn block_values_and_pem_keys_are_redacted() {
        let diff = "+ signing_key: |\n+   line-one-secret\n+   line-two-secret\n+ other: 1\n\
                    + cert: -----BEGIN PRIVATE KEY-----\n+ MIIEvQ\n+ -----END PRIVATE KEY-----";
        let out = redact(diff);
        assert!(
            !out.contains("line-one-secret") && !out.contains("line-two-secret"),
            "{out}"
        );
        assert!(!out.contains("MIIEvQ"), "{out}");
        assert!(out.contains("+ other: 1"));
    }

    #[test]
    fn url_passwords_are_redacted_keeping_scheme_user_and_host() {
        assert_eq!(
            redact("+ redis_url: redis://:s3cr3tpass@redis:6379"),
            "+ redis_url: redis://:[REDACTED]@redis:6379"
        );
        assert_eq!(
            redact("- database_url: https://user:pa55word@db.example.com/x"),
            "- database_url: https://user:[REDACTED]@db.example.com/x"
        );
        assert_eq!(
            redact("  {\"db\": \"postgres://app:pg-9876@db.internal:5432/idp\", \"n\": 2}"),
            "  {\"db\": \"postgres://app:[REDACTED]@db.internal:5432/idp\", \"n\": 2}"
        );
        assert_eq!(
            redact("+AMQP=amqp://guest:gu:est@mq.internal/vhost mysql://root:r00t@mysql"),
            "+AMQP=amqp://guest:[REDACTED]@mq.internal/vhost mysql://root:[REDACTED]@mysql"
        );
        // An `@` in the password: up to the last `@` of the userinfo.
        assert_eq!(
            redact("+ cache: redis://:p@ss@redis:6379/0"),
            "+ cache: redis://:[REDACTED]@redis:6379/0"
        );
        // `?` and `#` end the userinfo when an `@` comes before them...
        assert_eq!(
            redact("+ u: https://u:pw@host?mail=a@b.example"),
            "+ u: https://u:[REDACTED]@host?mail=a@b.example"
        );
        // ... and are part of an unencoded password otherwise.
        assert_eq!(
            redact("+ u: postgres://u:ab#c?d@db/x"),
            "+ u: postgres://u:[REDACTED]@db/x"
        );
        // URLs without a password are unchanged.
        let diff = "+ a: https://user@host.example/x\n\
                    - b: https://host.example:8443/path?q=1#frag\n\
                    + c: https://host.example:8080?mail=a@b.example\n\
                    + d: https://user:@host.example/\n\
                    + e: https://host.example/p?x=u:v@w\n\
                    + f: git@github.com:18F/identity-idp.git\n\
                    + g: https://[::1]:5432/db\n\
                    + h: 12:30 on mon:tue@noon";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn authorization_credentials_and_bearer_tokens_are_redacted() {
        assert_eq!(
            redact("+ Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
            "+ Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            redact("- headers: {\"authorization\": \"Basic dXNlcjpwYXNz\", \"accept\": \"*/*\"}"),
            "- headers: {\"authorization\": \"Basic [REDACTED]\", \"accept\": \"*/*\"}"
        );
        assert_eq!(
            redact("+ curl: curl -H 'AUTHORIZATION: basic Zm9vOmJhcg==' https://api.example"),
            "+ curl: curl -H 'AUTHORIZATION: basic [REDACTED]' https://api.example"
        );
        assert_eq!(
            redact("  proxy_header = Proxy-Authorization=Token abcdef"),
            "  proxy_header = Proxy-Authorization=Token [REDACTED]"
        );
        assert_eq!(
            redact("+ hook_header: X-Auth bearer abc.DEF-123_xyz used by the hook"),
            "+ hook_header: X-Auth bearer [REDACTED] used by the hook"
        );
        // Prose, and `Basic` away from `Authorization`, are unchanged.
        let diff = "+ auth_mode: Bearer authentication\n\
                    - note: the bearer of this flag owns it\n\
                    + plan: Basic dXNlcjpwYXNz tier\n\
                    + authorization: required";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        assert_eq!(
            redact("+ callback: https://api.example/cb?user=bob&access_token=abc123&page=2"),
            "+ callback: https://api.example/cb?user=bob&access_token=[REDACTED]&page=2"
        );
        assert_eq!(
            redact("- feed: https://h.example/f?Password=p4ss#top"),
            "- feed: https://h.example/f?Password=[REDACTED]#top"
        );
        assert_eq!(
            redact(
                "  \"asset\": \"https://b.s3.amazonaws.com/k?X-Amz-Signature=f00d&api_key=k1&secret=s1\""
            ),
            "  \"asset\": \"https://b.s3.amazonaws.com/k?X-Amz-Signature=[REDACTED]&api_key=[REDACTED]&secret=[REDACTED]\""
        );
        // Harmless parameters, and empty values, stay.
        let diff = "+ link: https://h.example/s?q=rust&page=2&token=\n+ n: a?b";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn credentials_already_redacted_stay_redacted_once() {
        let rules = RedactionRules::default().with_literal("abc123tok");
        assert_eq!(
            redact_config_diff(
                "+ db: https://user:pa55word@db.example/x?token=abc123tok\n\
                 + h: Authorization: Bearer abc123tok\n\
                 + api_token: Bearer abc123tok",
                &rules
            ),
            "+ db: https://user:[REDACTED]@db.example/x?token=[REDACTED]\n\
             + h: Authorization: Bearer [REDACTED]\n\
             + api_token: [REDACTED]"
        );
    }
}
