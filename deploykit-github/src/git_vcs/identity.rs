//! Who commits and tags: the repository's `user.name`/`user.email`, else
//! `DEPLOYKIT_GIT_NAME`/`DEPLOYKIT_GIT_EMAIL`.

use deploykit_core::{Error, Result};
use git2::{Config, Repository, Signature};

fn setting(
    config: Option<&Config>,
    key: &str,
    env: &str,
    read_env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let from_config = config
        .and_then(|c| c.get_string(key).ok())
        .filter(|v| !v.trim().is_empty());
    from_config.or_else(|| read_env(env).filter(|v| !v.trim().is_empty()))
}

/// The identity from `config`, else from the environment as `read_env` reads it.
fn signature_from(
    config: Option<&Config>,
    read_env: &dyn Fn(&str) -> Option<String>,
) -> Result<Signature<'static>> {
    let name = setting(config, "user.name", "DEPLOYKIT_GIT_NAME", read_env);
    let email = setting(config, "user.email", "DEPLOYKIT_GIT_EMAIL", read_env);
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

/// The author/committer/tagger for new objects, stamped now.
pub(crate) fn signature(repo: &Repository) -> Result<Signature<'static>> {
    let config = repo.config().ok();
    signature_from(config.as_ref(), &|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_file(text: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, text).expect("write");
        let config = Config::open(&path).expect("config");
        (dir, config)
    }

    #[test]
    fn config_wins_and_the_environment_fills_in() {
        let env = |name: &str| match name {
            "DEPLOYKIT_GIT_NAME" => Some("Deploy Bot".to_string()),
            "DEPLOYKIT_GIT_EMAIL" => Some("bot@example.gov".to_string()),
            _ => None,
        };
        let (_d, full) =
            config_file("[user]\n\tname = Release Manager\n\temail = rm@example.gov\n");
        let who = signature_from(Some(&full), &env).expect("config");
        assert_eq!(who.name_bytes(), b"Release Manager");
        let (_d, empty) = config_file("");
        let who = signature_from(Some(&empty), &env).expect("env");
        assert_eq!(who.name_bytes(), b"Deploy Bot");
        assert_eq!(who.email_bytes(), b"bot@example.gov");
        let Err(err) = signature_from(Some(&empty), &|_| None) else {
            panic!("an identity came from nowhere");
        };
        assert!(err.to_string().contains("DEPLOYKIT_GIT_NAME"), "{err}");
    }
}
