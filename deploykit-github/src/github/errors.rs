//! GitHub's HTTP answers turned into deploykit errors a caller can act on.

use deploykit_core::Error;

use super::payloads::{GhErrorBody, GhErrorDetail};

/// The parts of a failed response the mapping needs.
#[derive(Debug, Default)]
pub(crate) struct FailedResponse {
    pub status: u16,
    pub ratelimit_remaining: Option<String>,
    pub ratelimit_reset: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

fn detail_text(d: &GhErrorDetail) -> Option<String> {
    match d {
        GhErrorDetail::Text(t) => Some(t.clone()),
        GhErrorDetail::Object {
            message: Some(m), ..
        } => Some(m.clone()),
        GhErrorDetail::Object {
            code: Some(code),
            field,
            resource,
            ..
        } => Some(
            [resource.as_deref(), field.as_deref(), Some(code.as_str())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        GhErrorDetail::Object { .. } => None,
    }
}

fn has_code(body: &GhErrorBody, wanted: &str) -> bool {
    body.errors
        .iter()
        .any(|d| matches!(d, GhErrorDetail::Object { code: Some(c), .. } if c == wanted))
}

/// Maps a non-success answer to `what` (e.g. "pull request #12 of 18F/identity-idp").
pub(crate) fn github_error(what: &str, r: &FailedResponse) -> Error {
    let parsed: GhErrorBody = serde_json::from_str(&r.body).unwrap_or_default();
    let mut said = if parsed.message.is_empty() {
        r.body.chars().take(200).collect::<String>()
    } else {
        parsed.message.clone()
    };
    let details: Vec<String> = parsed.errors.iter().filter_map(detail_text).collect();
    if !details.is_empty() {
        said = format!("{said}: {}", details.join("; "));
    }
    let rate_limited = r.status == 429
        || (r.status == 403
            && (r.ratelimit_remaining.as_deref() == Some("0")
                || said.to_ascii_lowercase().contains("rate limit")
                || r.retry_after.is_some()));
    let error = match r.status {
        401 => Error::unauthenticated(format!(
            "GitHub refused the credentials for {what} (401 {said}); set GITHUB_TOKEN or \
             GH_TOKEN to a valid token"
        )),
        _ if rate_limited => {
            let mut e = Error::rate_limited(format!(
                "GitHub's rate limit stops {what} ({} {said}); wait for the limit to reset \
                 or use a token with a higher limit",
                r.status
            ));
            if let Some(reset) = &r.ratelimit_reset {
                e = e.with("ratelimit_reset", reset);
            }
            if let Some(after) = &r.retry_after {
                e = e.with("retry_after_seconds", after);
            }
            e
        }
        403 => Error::unauthenticated(format!(
            "GitHub forbids {what} (403 {said}); the token lacks a permission on the repository"
        )),
        404 => Error::not_found(format!(
            "{what} was not found on GitHub (404 {said}); check the name, and that the token \
             can see the repository"
        )),
        // A duplicate release tag comes as code `already_exists`; a duplicate pull request as
        // a custom error "A pull request already exists for owner:branch."
        422 if has_code(&parsed, "already_exists") || said.contains("already exists") => {
            Error::conflict(format!("GitHub says {what} already exists (422 {said})"))
        }
        422 => Error::invalid_input(format!("GitHub refused {what} (422 {said})")),
        405 | 409 => Error::conflict(format!("GitHub cannot do {what} ({} {said})", r.status)),
        500..=599 => Error::backend(format!(
            "GitHub failed on {what} ({} {said}); try again later",
            r.status
        ))
        .temporary(true),
        other => Error::backend(format!("GitHub answered {other} to {what}: {said}")),
    };
    error.with("status", r.status)
}

/// A failure before any answer (connection refused, timeout, TLS).
pub(crate) fn transport_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::backend(format!(
        "could not reach GitHub for {what} ({e}); check the network and GITHUB_API_URL"
    ))
    .temporary(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploykit_core::ErrorKind;

    fn failed(status: u16, body: &str) -> FailedResponse {
        FailedResponse {
            status,
            body: body.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn statuses_map_to_kinds_with_githubs_message() {
        let e = github_error(
            "pull request #9",
            &failed(404, r#"{"message":"Not Found"}"#),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("pull request #9"), "{e}");
        let e = github_error(
            "creating a release",
            &failed(
                422,
                r#"{"message":"Validation Failed","errors":[{"resource":"Release","code":"custom","field":"tag_name","message":"tag_name is not a valid tag"}]}"#,
            ),
        );
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("tag_name is not a valid tag"), "{e}");
        let e = github_error(
            "creating a release",
            &failed(
                422,
                r#"{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}]}"#,
            ),
        );
        assert_eq!(e.kind(), ErrorKind::Conflict);
        let mut limited = failed(403, r#"{"message":"API rate limit exceeded for 1.2.3.4."}"#);
        limited.ratelimit_remaining = Some("0".into());
        limited.ratelimit_reset = Some("1700000000".into());
        let e = github_error("listing releases", &limited);
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert!(e.is_temporary());
        assert_eq!(e.context_value("ratelimit_reset"), Some("1700000000"));
        let e = github_error(
            "x",
            &failed(403, r#"{"message":"Resource not accessible"}"#),
        );
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        let e = github_error(
            "merging",
            &failed(405, r#"{"message":"Pull Request is not mergeable"}"#),
        );
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.to_string().contains("not mergeable"));
        let e = github_error("x", &failed(429, "{}"));
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let e = github_error("x", &failed(502, "<html>bad gateway</html>"));
        assert_eq!(e.kind(), ErrorKind::Backend);
        assert!(e.is_temporary());
    }
}
