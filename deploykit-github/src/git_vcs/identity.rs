//! Who commits and tags: the repository's `user.name`/`user.email`, else
//! `DEPLOYKIT_GIT_NAME`/`DEPLOYKIT_GIT_EMAIL`.

use deploykit_core::{Error, Result};
use git2::{Repository, Signature};

fn setting(repo: &Repository, key: &str, env: &str) -> Option<String> {
    let from_config = repo
        .config()
        .ok()
        .and_then(|c| c.get_string(key).ok())
        .filter(|v| !v.trim().is_empty());
    from_config.or_else(|| std::env::var(env).ok().filter(|v| !v.trim().is_empty()))
}

/// The author/committer/tagger for new objects, stamped now.
pub(crate) fn signature(repo: &Repository) -> Result<Signature<'static>> {
    let name = setting(repo, "user.name", "DEPLOYKIT_GIT_NAME");
    let email = setting(repo, "user.email", "DEPLOYKIT_GIT_EMAIL");
    let (Some(name), Some(email)) = (name, email) else {
        return Err(Error::invalid_input(
            "no git identity to commit or tag with: set user.name and user.email \
             (`git config user.name ...`) or DEPLOYKIT_GIT_NAME and DEPLOYKIT_GIT_EMAIL",
        ));
    };
    Signature::now(&name, &email).map_err(|e| {
        Error::invalid_input(format!(
            "the git identity {name:?} <{email}> is not usable: {}",
            e.message()
        ))
    })
}
