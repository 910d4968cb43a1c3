//! The secret audit's searcher: known fake secrets, the forms they could leak in, and a
//! search of every byte a run produced.

use std::path::{Path, PathBuf};

/// A known fake secret and the text that marks it (a distinctive part of it that appears
/// only if the secret does).
#[derive(Debug, Clone)]
pub struct KnownSecret {
    /// What it is (for the failure message).
    pub name: &'static str,
    /// The whole value.
    pub value: String,
}

impl KnownSecret {
    /// A secret called `name` with `value`.
    pub fn new(name: &'static str, value: impl Into<String>) -> Self {
        KnownSecret {
            name,
            value: value.into(),
        }
    }

    /// Every form searched for: the value, its percent-encoding, its base64 encoding, and
    /// the value's last path segment (a webhook URL's secret part) when it is long enough to
    /// be distinctive.
    pub fn forms(&self) -> Vec<String> {
        let mut forms = vec![
            self.value.clone(),
            percent_encode(&self.value),
            base64(self.value.as_bytes()),
        ];
        if let Some(tail) = self.value.rsplit('/').next()
            && tail.len() >= 12
            && tail != self.value
        {
            forms.push(tail.to_string());
        }
        forms.sort();
        forms.dedup();
        forms
    }
}

/// `value` with every byte outside `A-Za-z0-9-._~` as `%XX`.
pub fn percent_encode(value: &str) -> String {
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

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Where a secret was found: the source's name, the secret, the form and some context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What was searched (`stdout of demo`, a file path, `slack request 2 body`).
    pub source: String,
    /// The secret's name.
    pub secret: &'static str,
    /// The text around the hit.
    pub context: String,
}

/// Every hit of any form of any secret in `bytes`.
pub fn search(source: &str, bytes: &[u8], secrets: &[KnownSecret]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for s in secrets {
        for form in s.forms() {
            let needle = form.as_bytes();
            if needle.is_empty() || needle.len() > bytes.len() {
                continue;
            }
            if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
                let from = at.saturating_sub(60);
                let to = (at + needle.len() + 60).min(bytes.len());
                hits.push(Hit {
                    source: source.to_string(),
                    secret: s.name,
                    context: String::from_utf8_lossy(&bytes[from..to]).into_owned(),
                });
            }
        }
    }
    hits
}

/// Every file under `dir`, recursively (symlinks not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Every hit in every file under `dir`, and how many files were read.
pub fn search_files(dir: &Path, secrets: &[KnownSecret]) -> (Vec<Hit>, usize) {
    let files = files_under(dir);
    let hits = files
        .iter()
        .flat_map(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            search(&f.display().to_string(), &bytes, secrets)
        })
        .collect();
    (hits, files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_the_standard_ones() {
        assert_eq!(base64(b"hello!?"), "aGVsbG8hPw==");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn every_form_is_found() {
        let s = [KnownSecret::new(
            "hook",
            "https://hooks.example/T0/B1/secretpart1234",
        )];
        assert_eq!(search("x", b"nothing here", &s), vec![]);
        assert_eq!(search("x", b"...secretpart1234...", &s).len(), 1);
        assert_eq!(
            search(
                "x",
                b"u=https%3A%2F%2Fhooks.example%2FT0%2FB1%2Fsecretpart1234",
                &s
            )
            .len(),
            2,
            "the percent-encoded value, and the secret tail inside it"
        );
        let b64 = base64(s[0].value.as_bytes());
        assert_eq!(search("x", b64.as_bytes(), &s).len(), 1);
    }
}
