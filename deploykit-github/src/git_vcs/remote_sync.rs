//! Talking to remotes: URL, fetch, remote-tracking branches, push.

use std::cell::RefCell;

use deploykit_core::{Error, Result};
use git2::{AutotagOption, FetchOptions, FetchPrune, PushOptions, Repository};

use super::errors::git_error;
use super::remote_auth::callbacks_with_credentials;
use crate::token::Token;

fn find_remote<'r>(repo: &'r Repository, remote: &str) -> Result<git2::Remote<'r>> {
    repo.find_remote(remote).map_err(|e| {
        let known: Vec<String> = repo
            .remotes()
            .map(|names| {
                names
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Error::not_found(format!(
            "no git remote named {remote:?} (remotes: {}); add it with `git remote add` \
             or configure another remote",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
        .with("remote", remote)
        .with_source(e)
    })
}

/// A URL with any password in it replaced by `***`, so that printing it leaks nothing.
pub(crate) fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let is_http = url[..scheme_end].to_ascii_lowercase().starts_with("http");
            let hidden = if userinfo.contains(':') {
                format!("{user}:***")
            } else if is_http {
                // A lone token as user name (https://TOKEN@github.com) is a secret too.
                "***".to_string()
            } else {
                user.to_string()
            };
            format!("{}{hidden}{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_string(),
    }
}

/// The remote's URL (any password hidden).
pub(crate) fn remote_url(repo: &Repository, remote: &str) -> Result<String> {
    let r = find_remote(repo, remote)?;
    let url = r.url().map_err(|e| {
        Error::invalid_input(format!("the URL of remote {remote:?} is not UTF-8: {e}"))
    })?;
    Ok(without_password(url))
}

/// Fetches every branch into `refs/remotes/<remote>/*` (pruning deleted ones) and every tag.
pub(crate) fn fetch(repo: &Repository, remote: &str, token: Option<&Token>) -> Result<()> {
    let mut r = find_remote(repo, remote)?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks_with_credentials(token))
        .prune(FetchPrune::On)
        .download_tags(AutotagOption::All);
    let refspec = format!("+refs/heads/*:refs/remotes/{remote}/*");
    r.fetch(
        &[refspec.as_str()],
        Some(&mut options),
        Some("deploykit: fetch"),
    )
    .map_err(|e| git_error(&format!("fetching {remote}"), &e, token))
}

/// Whether `refs/remotes/<remote>/<branch>` exists (as of the last fetch or push).
pub(crate) fn remote_branch_exists(repo: &Repository, remote: &str, branch: &str) -> Result<bool> {
    find_remote(repo, remote)?;
    let name = format!("refs/remotes/{remote}/{branch}");
    match repo.find_reference(&name) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
        Err(e) if e.code() == git2::ErrorCode::InvalidSpec => Err(Error::invalid_input(format!(
            "{branch:?} is not a valid branch name"
        ))),
        Err(e) => Err(git_error(&format!("reading {name}"), &e, None)),
    }
}

/// Pushes one refspec; a rejection by the remote (per-ref status) is a Conflict.
pub(crate) fn push_refspec(
    repo: &Repository,
    remote: &str,
    refspec: &str,
    what: &str,
    token: Option<&Token>,
) -> Result<()> {
    let mut r = find_remote(repo, remote)?;
    let rejected: RefCell<Vec<(String, String)>> = RefCell::new(Vec::new());
    {
        let mut callbacks = callbacks_with_credentials(token);
        callbacks.push_update_reference(|refname, status| {
            if let Some(status) = status {
                rejected
                    .borrow_mut()
                    .push((refname.to_string(), status.to_string()));
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        r.push(&[refspec], Some(&mut options))
            .map_err(|e| git_error(&format!("pushing {what} to {remote}"), &e, token))?;
    }
    let rejected = rejected.into_inner();
    if let Some((refname, status)) = rejected.first() {
        return Err(Error::conflict(format!(
            "{remote} refused the push of {what} to {refname}: {}; fetch and check what is \
             there, or push with force if replacing it is intended",
            crate::token::redact(token, status)
        ))
        .with("remote", remote)
        .with("ref", refname));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_in_urls_are_hidden() {
        assert_eq!(
            without_password("https://x-access-token:ghp_x@github.com/18F/identity-idp.git"),
            "https://x-access-token:***@github.com/18F/identity-idp.git"
        );
        assert_eq!(
            without_password("https://ghp_x@github.com/a/b"),
            "https://***@github.com/a/b"
        );
        assert_eq!(
            without_password("git@github.com:18F/identity-idp.git"),
            "git@github.com:18F/identity-idp.git"
        );
        assert_eq!(
            without_password("ssh://git@github.com/a/b.git"),
            "ssh://git@github.com/a/b.git"
        );
        assert_eq!(
            without_password("https://github.com/a/b@c"),
            "https://github.com/a/b@c"
        );
    }
}
