//! Checking that a git remote names the configured GitHub repository.

use crate::error::{Error, Result};
use crate::model::AppSettings;

/// The `owner/name` a remote URL points at, lowercased, from the https form
/// (`https://github.com/18F/identity-idp.git`) or the ssh forms (`git@github.com:18F/identity-idp`,
/// `ssh://git@github.com/18F/identity-idp.git`); `None` when the URL has no owner and name.
///
/// ```
/// use deploykit_core::release::repository_from_url;
/// assert_eq!(
///     repository_from_url("git@github.com:18F/identity-idp.git").as_deref(),
///     Some("18f/identity-idp")
/// );
/// ```
pub fn repository_from_url(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    let path = match url.split_once("://") {
        // https://host/owner/name, ssh://git@host/owner/name
        Some((_, rest)) => rest.split_once('/')?.1,
        // scp-like: git@host:owner/name
        None => url.split_once(':')?.1,
    };
    let mut parts = path.rsplit('/');
    let name = parts.next().filter(|s| !s.is_empty())?;
    let owner = parts.next().filter(|s| !s.is_empty())?;
    Some(format!("{owner}/{name}").to_lowercase())
}

/// Refuses (InvalidInput, naming both) when `url`, the URL of the app's remote, does not name
/// the app's repository (`owner/name`, compared case-insensitively, `.git` ignored).
pub fn check_remote(app: &AppSettings, url: &str) -> Result<()> {
    let (remote, repository) = (&app.remote, &app.repository);
    let expected = repository.trim().to_lowercase();
    match repository_from_url(url) {
        Some(found) if found == expected => Ok(()),
        _ => Err(Error::invalid_input(format!(
            "the git remote {remote:?} points at {url}, not at the configured repository \
             {repository}; name the remote that points at {repository} in the app's `remote` \
             setting (`[apps.{name}] remote = \"upstream\"` in deploykit.toml, or \
             `--set apps.{name}.remote=upstream`), or configure the right repository \
             (`apps.{name}.repository`)",
            name = app.name
        ))
        .with("remote", remote)
        .with("url", url)
        .with("repository", repository)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_ssh_forms_name_the_repository() {
        for url in [
            "https://github.com/18F/identity-idp",
            "https://github.com/18F/identity-idp.git",
            "https://github.com/18f/IDENTITY-IDP/",
            "git@github.com:18F/identity-idp.git",
            "git@github.com:18F/identity-idp",
            "ssh://git@github.com/18F/identity-idp.git",
        ] {
            assert!(check_remote(&AppSettings::idp(), url).is_ok(), "{url}");
        }
    }

    #[test]
    fn other_repositories_are_refused_naming_both() {
        for url in [
            "https://github.com/18F/identity-pki.git",
            "git@github.com:someone/identity-idp.git",
            "https://github.com/18F/identity-idp-fork",
            "not a url",
            "",
        ] {
            let err = check_remote(&AppSettings::idp(), url).expect_err(url);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            let text = err.to_string();
            assert!(text.contains("18F/identity-idp"), "{text}");
            assert!(text.contains(url), "{text}");
            assert!(text.contains("--set apps.idp.remote=upstream"), "{text}");
        }
    }
}
