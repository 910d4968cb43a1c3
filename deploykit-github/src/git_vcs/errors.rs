//! Turning libgit2 errors into deploykit errors with a kind a caller can act on.

use deploykit_core::Error;
use git2::{ErrorClass, ErrorCode};

use crate::token::{Token, redact};

/// A deploykit error for a failed git operation: `doing` says what we tried ("pushing
/// stages/prod to origin"); the kind follows libgit2's code and class. The token, if one was
/// in play, is redacted from libgit2's message.
pub(crate) fn git_error(doing: &str, e: &git2::Error, token: Option<&Token>) -> Error {
    let detail = redact(token, e.message());
    let message = format!("git failed {doing}: {detail}");
    let error = match (e.code(), e.class()) {
        (ErrorCode::NotFound, _) => Error::not_found(message),
        (ErrorCode::Auth, _) | (_, ErrorClass::Ssh) if is_auth(e) => Error::unauthenticated(
            format!("{message}; set GITHUB_TOKEN (https) or load your key in ssh-agent (ssh)"),
        ),
        (ErrorCode::Certificate, _) => Error::unauthenticated(message),
        (ErrorCode::NotFastForward, _) => Error::conflict(format!(
            "{message}; the remote has commits this push would drop (fetch, or push with force)"
        )),
        (ErrorCode::Exists, _) | (ErrorCode::Modified, _) => Error::conflict(message),
        (ErrorCode::Locked, _) => Error::conflict(message).temporary(true),
        (ErrorCode::InvalidSpec, _) | (ErrorCode::Invalid, _) | (ErrorCode::Ambiguous, _) => {
            Error::invalid_input(message)
        }
        (_, ErrorClass::Net) | (_, ErrorClass::Http) if is_auth(e) => Error::unauthenticated(
            format!("{message}; set GITHUB_TOKEN (https) or load your key in ssh-agent (ssh)"),
        ),
        (_, ErrorClass::Net) | (_, ErrorClass::Http) | (_, ErrorClass::Ssh) => {
            Error::backend(message).temporary(true)
        }
        _ => Error::backend(message),
    };
    error.with("git_code", format!("{:?}", e.code()))
}

fn is_auth(e: &git2::Error) -> bool {
    let m = e.message().to_ascii_lowercase();
    e.code() == ErrorCode::Auth
        || m.contains("authentication")
        || m.contains("401")
        || m.contains("403")
        || m.contains("credentials")
}

/// The failure of a blocking task (a panic inside libgit2 work, or runtime shutdown).
pub(crate) fn join_error(e: tokio::task::JoinError) -> Error {
    Error::backend(format!("the git task did not finish: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploykit_core::ErrorKind;

    #[test]
    fn codes_map_to_kinds_and_tokens_are_redacted() {
        let token = Token::new("ghp_topsecret").expect("token");
        let e = git2::Error::new(
            ErrorCode::Auth,
            ErrorClass::Http,
            "authentication failed for https://x-access-token:ghp_topsecret@github.com/a/b",
        );
        let mapped = git_error("fetching origin", &e, Some(&token));
        assert_eq!(mapped.kind(), ErrorKind::Unauthenticated);
        assert!(!mapped.to_string().contains("ghp_topsecret"), "{mapped}");
        let nff = git2::Error::new(ErrorCode::NotFastForward, ErrorClass::Reference, "nff");
        assert_eq!(git_error("pushing", &nff, None).kind(), ErrorKind::Conflict);
        let nf = git2::Error::new(ErrorCode::NotFound, ErrorClass::Reference, "no ref");
        assert_eq!(
            git_error("resolving", &nf, None).kind(),
            ErrorKind::NotFound
        );
        let net = git2::Error::new(ErrorCode::GenericError, ErrorClass::Net, "reset");
        let net = git_error("fetching", &net, None);
        assert_eq!(net.kind(), ErrorKind::Backend);
        assert!(net.is_temporary());
    }
}
