//! Credentials for remotes: a token over https, the ssh agent over ssh, nothing for local
//! paths. Each kind is offered once, so a wrong credential fails instead of looping.

use git2::{Cred, CredentialType, RemoteCallbacks};

use crate::token::Token;

/// Callbacks that answer libgit2's credential requests.
pub(crate) fn callbacks_with_credentials<'a>(token: Option<&'a Token>) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut tried_token = false;
    let mut tried_agent = false;
    let mut tried_default = false;
    callbacks.credentials(move |_url, username, allowed| {
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !tried_token {
            tried_token = true;
            return match token {
                Some(t) => Cred::userpass_plaintext("x-access-token", t.expose()),
                None => Err(git2::Error::new(
                    git2::ErrorCode::Auth,
                    git2::ErrorClass::Http,
                    "authentication required and no token set (GITHUB_TOKEN or GH_TOKEN)",
                )),
            };
        }
        if allowed.contains(CredentialType::SSH_KEY) && !tried_agent {
            tried_agent = true;
            return Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(username.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::DEFAULT) && !tried_default {
            tried_default = true;
            return Cred::default();
        }
        Err(git2::Error::new(
            git2::ErrorCode::Auth,
            git2::ErrorClass::Net,
            "authentication failed with every credential available \
             (token from GITHUB_TOKEN/GH_TOKEN for https, ssh-agent for ssh)",
        ))
    });
    callbacks
}
