//! `redact_config_diff`: hides secret values in a configuration diff before it is
//! announced.
//!
//! A value is replaced by `[REDACTED]` when
//! - its key looks secret, in `key: value`, `key = value`, `KEY=value`, `key:<tab>value`, JSON
//!   `"key": "value"` (at any nesting, also inline: `{"a":{"password":"x"}}`), YAML flow
//!   `{user: bob, password: x}`, Ruby `:password => 'x'` or `"password" => "x"`, header
//!   `'X-Api-Key: x'` and `--token=x` form, on context, `+` and `-` lines alike. A key looks
//!   secret when
//!   - it contains `password`, `passphrase`, `secret`, `token`, `key`, `credential`,
//!     `private` or `signature` (any case);
//!   - or its last name segments (split at `_ - . /` and camelCase) are `pass`, `passwd`,
//!     `pwd`, `pw`, `auth`, `bearer`, `creds`, `cred` or `otp_seed` (`totp_seed`,
//!     `mfa_seed`): `DB_PASS`, `basic_auth`, `github_creds`, but not `passenger_pool_size`,
//!     `compass_url`, `author`, `authority_url` or `auth_mode`; such short names keep
//!     `true`, `false`, `yes`, `no`, `on`, `off` and `null` values visible;
//!   - or it is the header `Cookie` or `Set-Cookie`;
//!   - or it is a parameter known to be a SecureString ([`RedactionRules::secure_parameters`],
//!     matched by full name or by last path segment);
//! - it matches one of the configured patterns ([`RedactionRules::with_pattern`]) or is a
//!   known secret ([`RedactionRules::with_literal`]);
//! - it is the value of a secret key elsewhere in the same diff (`db_password: hunter2` hides
//!   `hunter2` under `notes:` too), when it is worth tracking: 4 characters or more, not only
//!   digits, not a short lower-case word (`secret`, `true`), not a placeholder (`${X}`,
//!   `{{ x }}`, `<%= x %>`); values shorter than 12 characters are matched as whole words.
//!
//! Values that span lines are redacted on every line:
//! - a YAML block value (`key: |`, `key: >-`, also tagged: `key: !vault |`);
//! - a value on the lines below its key (`key:` alone on its line), scalar, list
//!   (`- x`) or mapping (the nested keys stay, their values go);
//! - a quoted value whose closing quote is on a later line, and a value continued with `\`;
//! - everything between `-----BEGIN` and `-----END` lines (PEM keys).
//!
//! Credentials inside a value are redacted under any key, keeping what is around them:
//! - the password of a URL's userinfo: `redis://:[REDACTED]@redis:6379`,
//!   `https://user:[REDACTED]@db.example.com/x` (the scheme, user and host stay visible),
//!   also without a scheme when a port or path follows (`u:[REDACTED]@db:5432`);
//! - the user of a password-less userinfo when it is a key: on a Sentry host
//!   (`https://[REDACTED]@o1.ingest.sentry.io/2`) or random-looking (`https://user@host`
//!   stays);
//! - the credentials after `Authorization:` (`Authorization: Basic [REDACTED]`), and a
//!   token-like word after `Bearer` anywhere (`Bearer [REDACTED]`);
//! - the value of a query parameter whose name looks secret (as for keys, plus `sig` and
//!   `code`): `?user=bob&access_token=[REDACTED]`, `X-Amz-Signature=[REDACTED]`;
//! - the token of any Slack webhook URL (`hooks.slack.com/services/T0/B1/[REDACTED]`);
//! - the value of a secret `--flag value` (not `--password-file path`), and the password
//!   glued to `-p` after a MySQL client command (`mysql -uroot -p[REDACTED]`);
//! - the text of a one-line XML element with a secret tag (`<password>[REDACTED]</password>`);
//! - tokens with a well-known format: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
//!   `github_pat_`), Slack (`xoxb-`, `xoxp-`, `xoxa-`, `xapp-`, ...), New Relic (`NRAK-`,
//!   `NRII-`), JWTs (`eyJ...`), Stripe live keys, GitLab tokens and Google API keys. AWS
//!   access key ids (`AKIA...`) name a key and stay.
//!
//! Diff markers and hunk headers are kept, and the diff keeps its lines: one line out for
//! each line in.

use regex_lite::Regex;

use super::redact_credentials::redact_credentials;
use crate::error::{Error, Result};

/// What [`redact_config_diff`] puts in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Words that make a key secret wherever they are in it (`db_password`, `privateKey`).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passphrase",
    "secret",
    "token",
    "key",
    "credential",
    "private",
    "signature",
];

/// Short words that make a key secret only as its last name segments (`DB_PASS`,
/// `basic_auth`): as substrings they would catch `passenger`, `compass` and `author`, and
/// as a first segment `auth_mode`.
const SECRET_TAILS: &[&[&str]] = &[
    &["pass"],
    &["passwd"],
    &["pwd"],
    &["pw"],
    &["auth"],
    &["bearer"],
    &["creds"],
    &["cred"],
    &["otp", "seed"],
    &["totp", "seed"],
    &["mfa", "seed"],
];

/// HTTP headers whose whole value is a credential (their names hold no secret word).
const SECRET_HEADERS: &[&str] = &["cookie", "set-cookie"];

/// Values that say how something is set rather than being a secret; kept under the short
/// key names of [`SECRET_TAILS`] (`basic_auth: false`).
const SETTING_WORDS: &[&str] = &["true", "false", "yes", "no", "on", "off", "null", "~"];

/// How a key tells that its value is secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secrecy {
    /// No secret word in it.
    Harmless,
    /// A short word as its last segments ([`SECRET_TAILS`]).
    ShortName,
    /// A secret word, a secret header, a SecureString parameter.
    Secret,
}

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

    /// Adds a value that is redacted wherever it appears (a known secret: the configured
    /// tokens and webhook URLs). Empty values are ignored. Besides the value as it is, its
    /// forms are redacted too:
    /// - percent-encoded (as it looks in a URL query or a form);
    /// - base64-encoded, standard and URL-safe, padded or not (values of 6 characters or
    ///   more; the value must be encoded alone, not inside a longer encoded text);
    /// - for a URL, its last path segment alone when it looks like a token (8 characters or
    ///   more with a digit or a capital): a webhook's token without the rest of the URL.
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
        let mut forms = vec![value.to_string(), percent_encode(value)];
        if value.len() >= 6 {
            for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
                let encoded = base64_encode(value.as_bytes(), alphabet);
                let unpadded = encoded.trim_end_matches('=').to_string();
                // Padded first, so that a padded form is hidden whole.
                forms.push(encoded);
                forms.push(unpadded);
            }
        }
        if let Some(token) = url_path_token(value) {
            forms.push(token.to_string());
        }
        let mut seen = Vec::new();
        for v in forms {
            if seen.contains(&v) {
                continue;
            }
            // An escaped literal always compiles.
            if let Ok(re) = Regex::new(&regex_lite::escape(&v)) {
                self.patterns.push(re);
            }
            seen.push(v);
        }
        self
    }

    /// The configured patterns (a literal counts once per form it is redacted in).
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

    fn secrecy(&self, key: &str) -> Secrecy {
        let lower = key.to_ascii_lowercase();
        if SECRET_WORDS.iter().any(|w| lower.contains(w))
            || SECRET_HEADERS.contains(&lower.as_str())
            || self.is_secure_parameter(key)
        {
            return Secrecy::Secret;
        }
        let segments = name_segments(key);
        let short = SECRET_TAILS.iter().any(|tail| {
            segments.len() >= tail.len()
                && segments[segments.len() - tail.len()..]
                    .iter()
                    .zip(tail.iter())
                    .all(|(s, t)| s == t)
        });
        if short {
            Secrecy::ShortName
        } else {
            Secrecy::Harmless
        }
    }

    /// Whether a key (or query parameter, flag, XML tag) names a secret, by the rules of the
    /// module docs.
    pub(super) fn is_secret_key(&self, key: &str) -> bool {
        self.secrecy(key) != Secrecy::Harmless
    }
}

/// The lower-case name segments of a key: split at anything but a letter or digit, and
/// where a lower-case letter or digit is followed by a capital (`dbPass` is `db`, `pass`).
fn name_segments(key: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut after_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                segments.push(std::mem::take(&mut current));
            }
            after_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && after_lower && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        after_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
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

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` in base64 with the given alphabet, padded with `=`.
fn base64_encode(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The last path segment of a URL when it looks like a token (a webhook's secret part):
/// 8 characters or more of `A-Za-z0-9_-`, with a digit or a capital in it.
fn url_path_token(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let path = rest.split(['?', '#']).next().unwrap_or(rest);
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    segments.next()?; // the host
    let last = segments.next_back()?;
    let token_like = last.len() >= 8
        && last
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        && last
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    token_like.then_some(last)
}

/// Splits a diff line into its marker (`+`, `-`, `~`) with indentation, and the rest.
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

/// The indentation of a line's content: the whitespace after its diff marker column (`+`,
/// `-`, `~` or the space of a context line).
fn column_indent(line: &str) -> usize {
    let content = line.strip_prefix(['+', '-', '~', ' ']).unwrap_or(line);
    content
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count()
}

fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')
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

/// The end (exclusive) of the `{...}` or `[...]` starting at `start`, quotes respected, or
/// the line end.
fn bracket_end(s: &str, start: usize) -> usize {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = quoted_end(s, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The index of the quote closing a string continued from an earlier line, if on this line.
fn closing_quote(body: &str, quote: u8) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The quote of a value that opens a string and does not close it on its line.
fn unclosed_quote(value: &str) -> Option<u8> {
    let first = *value.as_bytes().first()?;
    if first != b'"' && first != b'\'' {
        return None;
    }
    match closing_quote(&value[1..], first) {
        Some(_) => None,
        None => Some(first),
    }
}

/// How a key is separated from its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// `key: value` (YAML, JSON, headers).
    Colon,
    /// `key = value`, `KEY=value`.
    Equals,
    /// `key => value` (Ruby, PHP).
    Arrow,
}

/// A key-value pair found in a line: the key and the byte span of its value.
struct Pair {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
    separator: Separator,
    /// The key begins the line (after list markers): its value is the rest of the line.
    at_start: bool,
}

/// Finds every `key sep value` pair in `body` (after the diff marker). A pair at the start
/// of the body (after YAML list markers) takes the rest of the line as its value (YAML, env
/// files); later pairs end at a comma, brace, or whitespace unless quoted (JSON on one line),
/// or at the quote that opened the string they are in (`'X-Api-Key: v'`). The values of
/// pairs at the start, and `{...}`/`[...]` values, are searched for pairs too: a harmless
/// key's value may hold secret ones (`db: {user: bob, password: x}`); the pairs come in
/// order of their keys, and a caller redacting a value skips the pairs inside it.
fn pairs(body: &str) -> Vec<Pair> {
    let bytes = body.as_bytes();
    let len = bytes.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < len {
        // A key starts at a key character, optionally quoted or after a sigil (`:password`,
        // `$password`, `@password`), after a boundary.
        let boundary = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'{' | b',' | b'[' | b'(' | b'"' | b'\''
            );
        if !boundary {
            i += 1;
            continue;
        }
        let c = bytes[i];
        let quote = (c == b'"' || c == b'\'').then_some(c);
        let sigil = matches!(c, b':' | b'$' | b'@')
            && bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic());
        let ks = if quote.is_some() || sigil { i + 1 } else { i };
        let mut ke = ks;
        while ke < len && key_char(bytes[ke]) {
            ke += 1;
        }
        if ke == ks {
            i += 1;
            continue;
        }
        let mut j = ke;
        // A quote not closed right after the key opens the string the pair is in.
        let mut opener = None;
        let mut quoted_key = false;
        if let Some(q) = quote {
            if j < len && bytes[j] == q {
                j += 1;
                quoted_key = true;
            } else {
                opener = Some(q);
            }
        }
        while j < len && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        if j >= len {
            i = ke;
            continue;
        }
        let (separator, after) = match bytes[j] {
            b'=' if bytes.get(j + 1) == Some(&b'>') => (Separator::Arrow, j + 2),
            b'=' => (Separator::Equals, j + 1),
            b':' if quoted_key
                || j + 1 >= len
                || matches!(bytes[j + 1], b' ' | b'\t' | b'"' | b'\'') =>
            {
                (Separator::Colon, j + 1)
            }
            _ => {
                i = ke;
                continue;
            }
        };
        let mut vs = after;
        while vs < len && matches!(bytes[vs], b' ' | b'\t') {
            vs += 1;
        }
        let at_start = bytes[..i].iter().all(|b| matches!(b, b'-' | b' ' | b'\t'));
        let (ve, next) = if let Some(q) = opener {
            let e = body[vs..].find(char::from(q)).map_or(len, |k| vs + k);
            (e, e)
        } else if at_start {
            (len, vs)
        } else if vs < len && matches!(bytes[vs], b'{' | b'[') {
            (bracket_end(body, vs), vs + 1)
        } else if vs < len && matches!(bytes[vs], b'"' | b'\'') {
            let e = quoted_end(body, vs);
            (e, e)
        } else {
            let mut e = vs;
            while e < len && !matches!(bytes[e], b',' | b'}' | b']' | b' ' | b'\t') {
                e += 1;
            }
            (e, e)
        };
        out.push(Pair {
            key_start: ks,
            key_end: ke,
            value_start: vs,
            value_end: ve,
            separator,
            at_start,
        });
        i = next.max(i + 1);
    }
    out
}

/// Replaces a value with `[REDACTED]`, keeping its quotes and a trailing comma so the line
/// still reads as what it was (also the closing quote of a string the pair is inside).
fn redacted_value(value: &str) -> String {
    let trimmed = value.trim_end();
    let (core, comma) = match trimmed.strip_suffix(',') {
        Some(c) => (c, ","),
        None => (trimmed, ""),
    };
    if core.is_empty() {
        return value.to_string();
    }
    let bytes = core.as_bytes();
    let first = bytes[0];
    let last = bytes[bytes.len() - 1];
    let is_quote = |b: u8| b == b'"' || b == b'\'';
    if is_quote(first) && core.len() >= 2 && last == first {
        let q = char::from(first);
        format!("{q}{REDACTED}{q}{comma}")
    } else if is_quote(last) && first != last {
        format!("{REDACTED}{}{comma}", char::from(last))
    } else {
        format!("{REDACTED}{comma}")
    }
}

/// A value without its YAML tag (`!vault |` is `|`, `!!binary x` is `x`).
fn untagged(value: &str) -> &str {
    if value.starts_with('!') {
        value
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest.trim_start())
    } else {
        value
    }
}

fn is_block_indicator(value: &str) -> bool {
    value.starts_with('|') || value.starts_with('>')
}

/// What a line leaves open for the lines after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    None,
    /// Inside a PEM block.
    Pem,
    /// Inside the block value (`key: |`) of a secret key indented so.
    Block {
        indent: usize,
    },
    /// Below a secret key with no value on its line (`key:`), indented so.
    Nested {
        indent: usize,
    },
    /// Inside a secret quoted value not closed on the line of its key, indented so.
    Quote {
        quote: u8,
        indent: usize,
    },
    /// After a secret value line ending with `\`.
    Backslash,
}

/// The values of secret keys seen so far, to hide where they appear under harmless keys.
#[derive(Default)]
struct SeenSecrets(Vec<String>);

impl SeenSecrets {
    /// Remembers a redacted value (without quotes, trailing comma, continuation `\`; both
    /// sides of a plan's `"old" -> "new"`).
    fn remember(&mut self, value: &str) {
        for part in value.split(" -> ") {
            let v = part
                .trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '\\'));
            if worth_tracking(v) && !self.0.iter().any(|s| s == v) {
                self.0.push(v.to_string());
            }
        }
    }

    /// Redacts every remembered value in `line` (after its marker; not in hunk headers),
    /// longest first.
    fn redact(&self, line: &str) -> String {
        if self.0.is_empty() || line.starts_with("@@") {
            return line.to_string();
        }
        let (marker, body) = split_marker(line);
        let mut body = body.to_string();
        let mut values: Vec<&String> = self.0.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            if body.contains(v.as_str()) {
                body = replace_occurrences(&body, v);
            }
        }
        format!("{marker}{body}")
    }
}

/// Whether a secret value is distinctive enough to redact wherever it appears (see the
/// module docs): hiding `true` or `5` everywhere would destroy the diff.
fn worth_tracking(v: &str) -> bool {
    let short_word = v.len() < 8 && v.bytes().all(|b| b.is_ascii_lowercase());
    let placeholder = v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with("<%")
        || v.starts_with("ENV[")
        || v.starts_with("ENV.");
    v.chars().count() >= 4
        && v.bytes().any(|b| b.is_ascii_alphabetic())
        && !short_word
        && !placeholder
        && !REDACTED.contains(v)
        && !v.contains(REDACTED)
}

/// `text` with `secret` replaced by `[REDACTED]`; a secret shorter than 12 characters only
/// where it is a whole word (no letter or digit right before or after it).
fn replace_occurrences(text: &str, secret: &str) -> String {
    let whole_word_only = secret.len() < 12;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(secret) {
        if at < last {
            continue;
        }
        let end = at + secret.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if whole_word_only && (alnum(before) || alnum(after)) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// A line below a secret `key:` with no value on its line: a scalar goes whole, a list item
/// keeps its `- `, a nested `key: value` keeps its key.
fn redact_nested_line(marker: &str, body: &str, seen: &mut SeenSecrets) -> String {
    let mut start = 0;
    while let Some(rest) = body[start..].strip_prefix('-') {
        if rest.is_empty() || rest.starts_with([' ', '\t']) {
            start += 1;
            start += body[start..].len() - body[start..].trim_start().len();
        } else {
            break;
        }
    }
    let (list, rest) = body.split_at(start);
    if rest.trim().is_empty() {
        return format!("{marker}{body}");
    }
    if let Some(p) = pairs(rest).into_iter().find(|p| p.at_start) {
        let value = &rest[p.value_start..p.value_end];
        let v = untagged(value.trim());
        if v.is_empty() || is_block_indicator(v) {
            return format!("{marker}{body}");
        }
        seen.remember(v);
        return format!(
            "{marker}{list}{}{}{}",
            &rest[..p.value_start],
            redacted_value(value),
            &rest[p.value_end..]
        );
    }
    seen.remember(rest);
    format!("{marker}{list}{REDACTED}")
}

/// Whether a line starts a new `key: value` or `KEY=value` entry (ends a quoted value that
/// seemed never to close).
fn starts_an_entry(body: &str) -> bool {
    pairs(body)
        .first()
        .is_some_and(|p| p.at_start && p.key_start <= 1 && p.separator != Separator::Arrow)
}

/// The line redacted, given what the lines before it left open, and what it leaves open.
fn redact_line(
    line: &str,
    carry: Carry,
    rules: &RedactionRules,
    seen: &mut SeenSecrets,
) -> (String, Carry) {
    let (marker, body) = split_marker(line);
    let blank = body.trim().is_empty();
    let hunk = line.starts_with("@@");
    match carry {
        Carry::None => {}
        Carry::Pem => {
            if body.contains("-----END") {
                return (line.to_string(), Carry::None);
            }
            return (format!("{marker}{REDACTED}"), Carry::Pem);
        }
        Carry::Block { indent } | Carry::Nested { indent } => {
            if blank && !hunk {
                return (line.to_string(), carry);
            }
            let list_at_key_level = matches!(carry, Carry::Nested { .. })
                && column_indent(line) == indent
                && (body == "-" || body.starts_with("- "));
            if !hunk && (column_indent(line) > indent || list_at_key_level) {
                if matches!(carry, Carry::Block { .. }) {
                    seen.remember(body);
                    return (format!("{marker}{REDACTED}"), carry);
                }
                return (redact_nested_line(marker, body, seen), carry);
            }
        }
        Carry::Quote { quote, indent } => {
            if !hunk {
                if let Some(close) = closing_quote(body, quote) {
                    if close == 0 {
                        return (line.to_string(), Carry::None);
                    }
                    seen.remember(&body[..close]);
                    return (format!("{marker}{REDACTED}{}", &body[close..]), Carry::None);
                }
                if blank {
                    return (line.to_string(), carry);
                }
                if !(column_indent(line) <= indent && starts_an_entry(body)) {
                    seen.remember(body);
                    return (format!("{marker}{REDACTED}"), carry);
                }
            }
        }
        Carry::Backslash => {
            if !hunk && !blank {
                let continues = body.trim_end().ends_with('\\');
                seen.remember(body);
                let next = if continues {
                    Carry::Backslash
                } else {
                    Carry::None
                };
                return (format!("{marker}{REDACTED}"), next);
            }
        }
    }

    let mut next = Carry::None;
    if body.contains("-----BEGIN") && !body.contains("-----END") {
        next = Carry::Pem;
    }
    let indent = column_indent(line);
    let mut redacted = String::with_capacity(line.len());
    let mut last = 0;
    for pair in pairs(body) {
        if pair.key_start < last {
            continue;
        }
        let key = &body[pair.key_start..pair.key_end];
        let secrecy = rules.secrecy(key);
        if secrecy == Secrecy::Harmless {
            continue;
        }
        let value = &body[pair.value_start..pair.value_end];
        let v = value.trim();
        let bare = untagged(v);
        if is_block_indicator(bare) {
            if next == Carry::None {
                next = Carry::Block { indent };
            }
            continue;
        }
        if bare.is_empty() {
            let alone =
                pair.at_start && pair.separator == Separator::Colon && pair.value_end == body.len();
            if alone && next == Carry::None {
                next = Carry::Nested { indent };
            }
            continue;
        }
        if secrecy == Secrecy::ShortName && SETTING_WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
        {
            continue;
        }
        redacted.push_str(&body[last..pair.value_start]);
        redacted.push_str(&redacted_value(value));
        last = pair.value_end;
        seen.remember(v);
        if pair.value_end == body.len() && next == Carry::None {
            if let Some(quote) = unclosed_quote(v) {
                next = Carry::Quote { quote, indent };
            } else if v.ends_with('\\') {
                next = Carry::Backslash;
            }
        }
    }
    redacted.push_str(&body[last..]);
    let mut text = format!("{marker}{redacted}");
    for re in &rules.patterns {
        text = re.replace_all(&text, REDACTED).into_owned();
    }
    // After the patterns, so that a known secret value is hidden whole.
    let mut found = Vec::new();
    let text = redact_credentials(&text, rules, &mut found);
    for f in &found {
        seen.remember(f);
    }
    (text, next)
}

/// The diff with every secret value replaced by `[REDACTED]` (see the module docs). Never
/// fails: text it does not understand is left as it is.
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
    let mut seen = SeenSecrets::default();
    let mut carry = Carry::None;
    // First pass: line by line, remembering the secret values; second pass: those values
    // wherever else they appear.
    let lines: Vec<String> = diff
        .split('\n')
        .map(|line| {
            let (text, next) = redact_line(line, carry, rules, &mut seen);
            carry = next;
            text
        })
        .collect();
    lines
        .iter()
        .map(|line| seen.redact(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The diff redacted with the default rules.
    pub(in crate::notify) fn redact(diff: &str) -> String {
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

    /// Each case: the input, the secrets that must be gone, what must remain. The output
    /// keeps the input's lines, and shows `[REDACTED]` where a secret was.
    pub(in crate::notify) fn assert_cases(cases: &[(&str, &[&str], &[&str])]) {
        for (input, secrets, kept) in cases {
            let out = redact(input);
            for s in *secrets {
                assert!(!out.contains(s), "{s} still in {out:?} (from {input:?})");
            }
            for k in *kept {
                assert!(out.contains(k), "{k} lost from {out:?} (from {input:?})");
            }
            assert_eq!(out.lines().count(), input.lines().count(), "{out:?}");
            if !secrets.is_empty() {
                assert!(out.contains(REDACTED), "{out:?} (from {input:?})");
            }
        }
    }

    #[test]
    fn header_lines_are_redacted() {
        assert_eq!(
            redact("+ cmd: curl -H 'X-Api-Key: SECRET06' https://api.example"),
            "+ cmd: curl -H 'X-Api-Key: [REDACTED]' https://api.example"
        );
        assert_eq!(
            redact("+ headers: [\"Cookie: _session_id=SECRET08; theme=dark\", \"Accept: */*\"]"),
            "+ headers: [\"Cookie: [REDACTED]\", \"Accept: */*\"]"
        );
        assert_cases(&[
            (
                "+ Set-Cookie: sid=SECRET09; Path=/",
                &["SECRET09"],
                &["+ Set-Cookie: "],
            ),
            (
                "  \"X-Auth-Token: SECRET10\"",
                &["SECRET10"],
                &["\"X-Auth-Token: ", "\""],
            ),
        ]);
    }

    #[test]
    fn inline_json_flow_maps_ruby_hashes_are_redacted_at_any_nesting() {
        assert_eq!(
            redact(
                "+ oauth: {\"client_id\":\"abc\",\"client_secret\":\"SECRET12\",\"nested\":{\"password\":\"SECRET13\"}}"
            ),
            "+ oauth: {\"client_id\":\"abc\",\"client_secret\":\"[REDACTED]\",\"nested\":{\"password\":\"[REDACTED]\"}}"
        );
        assert_eq!(
            redact("+ {\"a\":[{\"token\":\"SECRET14\"}],\"n\":1,\"pin\":2}"),
            "+ {\"a\":[{\"token\":\"[REDACTED]\"}],\"n\":1,\"pin\":2}"
        );
        assert_eq!(
            redact("  \"credentials\": {\"user\": \"u\", \"x\": \"SECRET15\"},"),
            "  \"credentials\": [REDACTED],"
        );
        assert_eq!(
            redact("+ db: {user: bob, password: SECRET54}"),
            "+ db: {user: bob, password: [REDACTED]}"
        );
        assert_eq!(
            redact("+   - {user: bob, pass: SECRET55}"),
            "+   - {user: bob, pass: [REDACTED]}"
        );
        assert_eq!(
            redact("+   :password => 'SECRET56',"),
            "+   :password => '[REDACTED]',"
        );
        assert_eq!(
            redact("+ opts = { :user => 'bob', \"api_key\" => \"SECRET63\" }"),
            "+ opts = { :user => 'bob', \"api_key\" => \"[REDACTED]\" }"
        );
    }

    #[test]
    fn short_secret_key_names_are_matched_by_segment() {
        assert_cases(&[
            ("+DB_PASS=SECRET20", &["SECRET20"], &["+DB_PASS="]),
            ("+ pass: SECRET21", &["SECRET21"], &["+ pass: "]),
            ("+ pwd: SECRET22", &["SECRET22"], &["+ pwd: "]),
            ("+ auth: SECRET23", &["SECRET23"], &["+ auth: "]),
            (
                "+ basic_auth: u:SECRET24",
                &["SECRET24"],
                &["+ basic_auth: "],
            ),
            ("+ bearer: SECRET25", &["SECRET25"], &["+ bearer: "]),
            (
                "+ github_creds: SECRET26",
                &["SECRET26"],
                &["+ github_creds: "],
            ),
            ("+ otp_seed: SECRET27", &["SECRET27"], &["+ otp_seed: "]),
            ("+ smtpPass: SECRET28", &["SECRET28"], &["+ smtpPass: "]),
            ("+ MYSQL_PWD=SECRET29", &["SECRET29"], &["+ MYSQL_PWD="]),
            ("+ - pw: SECRET33", &["SECRET33"], &["+ - pw: "]),
        ]);
        // Settings under a short name, and words that only contain one, stay.
        let diff = "+ basic_auth: false\n\
                    + passenger_pool_size: 5\n\
                    + bypass: SECRETLESS\n\
                    + auth_mode: oidc\n\
                    + oauth_client: idp\n\
                    + authority_url: https://login.example.gov";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn tab_separated_values_are_redacted() {
        assert_eq!(redact("+ secret:\tSECRET40"), "+ secret:\t[REDACTED]");
        assert_eq!(redact("+ api_key\t=\tSECRET41"), "+ api_key\t=\t[REDACTED]");
        assert_eq!(
            redact("  {\"token\":\t\"SECRET42\"}"),
            "  {\"token\":\t\"[REDACTED]\"}"
        );
    }

    #[test]
    fn values_on_the_lines_below_a_secret_key_are_redacted() {
        assert_eq!(
            redact("+ database_password:\n+   SECRET32\n+ pool: 5"),
            "+ database_password:\n+   [REDACTED]\n+ pool: 5"
        );
        assert_eq!(
            redact("+ api_token:\n+   - SECRET87\n+   - SECRET88\n+ after: 1"),
            "+ api_token:\n+   - [REDACTED]\n+   - [REDACTED]\n+ after: 1"
        );
        // A YAML list may sit at its key's indentation.
        assert_eq!(
            redact("+ api_token:\n+ - SECRET86\n+ after: 1"),
            "+ api_token:\n+ - [REDACTED]\n+ after: 1"
        );
        assert_eq!(
            redact(
                "  password: !vault |\n+   $ANSIBLE_VAULT;1.1;AES256\n+   SECRET89\n  user: bob"
            ),
            "  password: !vault |\n+   [REDACTED]\n+   [REDACTED]\n  user: bob"
        );
        assert_eq!(
            redact(
                "- credentials:\n-   user: bob\n-   password: SECRET90\n-\n-   nested:\n-     key: SECRET91\n- other: 1"
            ),
            "- credentials:\n-   user: [REDACTED]\n-   password: [REDACTED]\n-\n-   nested:\n-     key: [REDACTED]\n- other: 1"
        );
        // An empty value, and `KEY=` (empty in env files), leave the next line alone.
        let diff = "+ password:\n+ pool: 5\n+PASSWORD=\n+  indented: kept";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn continued_values_are_redacted_on_every_line() {
        assert_eq!(
            redact("+ api_key: \"SECRET30first\\\n+ SECRET31second\"\n+ next: 1"),
            "+ api_key: [REDACTED]\n+ [REDACTED]\"\n+ next: 1"
        );
        assert_eq!(
            redact("+ private_key: \"SECRET34\n+   SECRET35\n+   SECRET36\",\n  n: 2"),
            "+ private_key: [REDACTED]\n+   [REDACTED]\n+   [REDACTED]\",\n  n: 2"
        );
        assert_eq!(
            redact("+TOKEN=SECRET37\\\n+SECRET38\\\n+SECRET39\n+PORT=80"),
            "+TOKEN=[REDACTED]\n+[REDACTED]\n+[REDACTED]\n+PORT=80"
        );
        // A quote that never closes stops at the next entry as indented as its key.
        assert_eq!(
            redact("+ secret: 'C:\\dir\\'\n+ pool: 5"),
            "+ secret: '[REDACTED]'\n+ pool: 5"
        );
    }

    #[test]
    fn values_redacted_under_a_secret_key_are_redacted_everywhere() {
        let diff = "+ database_password: hunter2\n\
                    + some_value: hunter2\n\
                    + url: https://x.example/?q=hunter2&n=hunter22\n\
                    - api_token: \"0ld-t0ken-value-abc\"\n\
                    + note: rotated 0ld-t0ken-value-abc yesterday\n\
                    + redis_url: redis://:s3cr3tpw@redis\n\
                    + echo: s3cr3tpw";
        assert_eq!(
            redact(diff),
            "+ database_password: [REDACTED]\n\
             + some_value: [REDACTED]\n\
             + url: https://x.example/?q=[REDACTED]&n=hunter22\n\
             - api_token: \"[REDACTED]\"\n\
             + note: rotated [REDACTED] yesterday\n\
             + redis_url: redis://:[REDACTED]@redis\n\
             + echo: [REDACTED]"
        );
        // Values too plain to track stay where they are not secret.
        let diff = "+ token_ttl: 3600\n+ timeout: 3600\n+ password: secret\n+ secret_path: /a\n\
                    + api_key: true\n+ enabled: true\n+ key: ${API_KEY}\n+ env: ${API_KEY}";
        assert_eq!(
            redact(diff),
            "+ token_ttl: [REDACTED]\n+ timeout: 3600\n+ password: [REDACTED]\n+ secret_path: [REDACTED]\n\
             + api_key: [REDACTED]\n+ enabled: true\n+ key: [REDACTED]\n+ env: ${API_KEY}"
        );
    }

    #[test]
    fn typical_harmless_config_lines_stay_byte_identical() {
        let diff = "diff --git a/prod/idp.yml b/prod/idp.yml\n\
                    --- a/prod/idp.yml\n\
                    +++ b/prod/idp.yml\n\
                    @@ -1,20 +1,20 @@\n\
                    - passenger_pool_size: 5\n\
                    + passenger_pool_size: 6\n\
                    \x20 author: jdoe\n\
                    \x20 compass_url: https://x\n\
                    \x20 authority_url: https://login.example.gov/oauth2/authorize\n\
                    \x20 code_review: true\n\
                    \x20 session_timeout_in_minutes: 15\n\
                    - version: 1.2.3\n\
                    + version: 1.2.4\n\
                    + sha: 3f2a9c0e1b7d4e8fa6c1b2d3e4f5a6b7c8d9e0f1\n\
                    \x20 user: bob\n\
                    \x20 email: ops@example.gov\n\
                    \x20 url: https://example.gov:443/x?page=2&q=rust#top\n\
                    \x20 repo: git@github.com:18F/identity-idp.git\n\
                    \x20 image: 123.dkr.ecr.us-west-2.amazonaws.com/idp@sha256:0123abcd\n\
                    \x20 started_at: 2024-05-01T12:30:00Z\n\
                    \x20 cron: \"0 12 * * 1-5\"\n\
                    \x20 json: {\"user\": \"bob\", \"pool\": 5, \"tags\": [\"a\", \"b\"]}\n\
                    \x20 flow: {user: bob, region: us-west-2}\n\
                    \x20 cmd: deploy --env prod --dry-run -p 2222\n\
                    \x20 aws_region: us-west-2\n\
                    \x20 path: /srv/idp/current\n\
                    \x20 note: the author passed the compass to the passenger\n";
        assert_eq!(redact(diff), diff);
    }

    #[test]
    fn the_security_review_diff_leaks_nothing() {
        let diff = "@@ -1,40 +1,40 @@\n\
                    + cmd: curl -H 'X-Api-Key: SECRET06' -H \"Cookie: _session_id=SECRET08\" https://a.example\n\
                    + oauth: {\"client_id\":\"abc\",\"client_secret\":\"SECRET12\",\"nested\":{\"password\":\"SECRET13\"}}\n\
                    + api_key: \"SECRET30first\\\n\
                    + SECRET31second\"\n\
                    + database_password:\n\
                    +   SECRET32\n\
                    + db: {user: bob, password: SECRET54}\n\
                    + ruby: { :password => 'SECRET56' }\n\
                    + xml: <password>SECRET57</password>\n\
                    + run: tool --password SECRET58 --token=SECRET59\n\
                    + mysql: mysql -uroot -pSECRET77 idp\n\
                    + DB_PASS=SECRET60\n\
                    + pass: SECRET61\n\
                    + pwd: SECRET62\n\
                    + auth: SECRET63\n\
                    + bearer: SECRET64\n\
                    + github_creds: SECRET65\n\
                    + otp_seed: SECRET66\n\
                    + secret:\tSECRET67\n\
                    + proxy: u:SECRET68@h:5432\n\
                    + api_token:\n\
                    +   - SECRET87\n\
                    + password: !vault |\n\
                    +   SECRET89\n\
                    + gh: ghp_SECRET90abcdefghijklmnopqrstuvwxyz01\n\
                    + slack: xoxb-SECRET91-abcdefgh\n\
                    + jwt: eyJhbGciOiJIUzI1NiJ9.eyJTRUNSRVQ5MiI6MX0.SECRET92\n\
                    + nr: NRAK-SECRET93ABCDEFGHIJKLMNOPQ\n\
                    + dsn: https://SECRET94abcdef0123456789abcdef@o1.ingest.sentry.io/2\n\
                    + hook: https://hooks.slack.com/services/T000/B000/SECRET95xyz\n\
                    + signed: https://h.example/f?sig=SECRET96&code=SECRET97&X-Amz-Credential=SECRET98\n\
                    + database_password: hunter2SECRET99\n\
                    + some_value: hunter2SECRET99\n\
                    \x20 pool_size: 5";
        let out = redact(diff);
        assert!(!out.contains("SECRET"), "{out}");
        assert_eq!(out.lines().count(), diff.lines().count());
        for kept in [
            "'X-Api-Key: [REDACTED]'",
            "\"Cookie: [REDACTED]\"",
            "\"client_id\":\"abc\"",
            "+ database_password:\n+   [REDACTED]",
            "{user: bob, password: [REDACTED]}",
            "<password>[REDACTED]</password>",
            "--password [REDACTED] --token=[REDACTED]",
            "+ proxy: u:[REDACTED]@h:5432",
            "+   - [REDACTED]",
            "+ password: !vault |\n+   [REDACTED]",
            "https://[REDACTED]@o1.ingest.sentry.io/2",
            "hooks.slack.com/services/T000/B000/[REDACTED]",
            "  pool_size: 5",
        ] {
            assert!(out.contains(kept), "{kept} lost from {out}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any text: no panic, one line out per line in, every first character (diff marker)
        /// kept.
        #[test]
        fn any_text_keeps_its_lines_and_markers(
            diff in "([-+ ~@]?[ \t]*[a-zA-Z_\"':{},=>|\\\\!@/.\\- \t\\[\\]<>?&%é0-9]{0,40}\n?){0,8}",
        ) {
            let rules = RedactionRules::new(["x/y"]).with_literal("tok12345");
            let out = redact_config_diff(&diff, &rules);
            let ins: Vec<&str> = diff.split('\n').collect();
            let outs: Vec<&str> = out.split('\n').collect();
            proptest::prop_assert_eq!(ins.len(), outs.len());
            for (i, o) in ins.iter().zip(&outs) {
                if let Some(m) = i.chars().next().filter(|c| matches!(c, '+' | '-' | ' ' | '@')) {
                    proptest::prop_assert!(o.starts_with(m), "{:?} -> {:?}", i, o);
                }
            }
        }

        /// Arbitrary unicode never panics.
        #[test]
        fn arbitrary_text_never_panics(diff in "\\PC{0,200}") {
            let _ = redact_config_diff(&diff, &RedactionRules::default());
        }
    }
}
