//! `GitVcs`: the [`Vcs`] port on a local git repository through libgit2.
//!
//! Every operation works on the object database and refs only, never on a checkout, so the
//! repository may be bare. libgit2 is blocking and its `Repository` is not `Sync`: each call
//! opens the repository inside `tokio::task::spawn_blocking`.

mod errors;
mod gpg;
mod history;
mod identity;
mod merge;
mod message;
mod remote_auth;
mod remote_sync;
mod tag;

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use deploykit_core::ports::{Commit, Vcs};
use deploykit_core::{Error, Result, Sha};
use git2::Repository;

use crate::token::Token;

/// A git repository on disk (work tree or bare) used as deploykit's [`Vcs`].
///
/// Remotes are reached with the token from `GITHUB_TOKEN`/`GH_TOKEN` over https
/// (`x-access-token`), the ssh agent over ssh, and nothing for local paths. New commits and
/// tags are made by the repository's `user.name`/`user.email`, else `DEPLOYKIT_GIT_NAME`/
/// `DEPLOYKIT_GIT_EMAIL`; signed tags use `gpg.program` (default `gpg`) and
/// `user.signingKey` (default: the tagger identity), as `git tag -s` does.
///
/// ```no_run
/// # async fn demo() -> deploykit_core::Result<()> {
/// use deploykit_core::ports::Vcs;
/// let vcs = deploykit_github::GitVcs::open(".")?;
/// vcs.fetch("origin").await?;
/// let prod = vcs.resolve("origin/stages/prod").await?;
/// println!("production runs {}", prod.short());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct GitVcs {
    path: PathBuf,
    token: Option<Token>,
}

impl fmt::Debug for GitVcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitVcs")
            .field("path", &self.path)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl GitVcs {
    /// Opens the repository at `path` (its work tree, its `.git` directory, or a bare
    /// repository), with the token from `GITHUB_TOKEN`/`GH_TOKEN` if set.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let repo = Repository::open(path).map_err(|e| {
            Error::not_found(format!(
                "no git repository at {} ({}); run deploykit inside a clone of the app's \
                 repository (the rc, release, status and changelog commands also take --dir PATH)",
                path.display(),
                e.message()
            ))
            .with("path", path.display())
        })?;
        Ok(GitVcs {
            path: repo.path().to_path_buf(),
            token: Token::from_env(),
        })
    }

    /// Opens the repository containing `path`, searching parent directories as the git
    /// command does (for a program started inside a subdirectory of the work tree).
    pub fn discover(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let repo = Repository::discover(path).map_err(|e| {
            Error::not_found(format!(
                "no git repository at or above {} ({}); run deploykit inside a clone of the \
                 app's repository (the rc, release, status and changelog commands also take --dir PATH)",
                path.display(),
                e.message()
            ))
            .with("path", path.display())
        })?;
        Ok(GitVcs {
            path: repo.path().to_path_buf(),
            token: Token::from_env(),
        })
    }

    /// The same repository with `token` (or none) for https remotes instead of the
    /// environment's.
    pub fn with_token(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// The repository's git directory.
    pub fn git_dir(&self) -> &Path {
        &self.path
    }

    /// Runs blocking libgit2 work on a freshly opened repository.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Repository, Option<&Token>) -> Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        let token = self.token.clone();
        tokio::task::spawn_blocking(move || {
            let repo = Repository::open(&path).map_err(|e| {
                Error::not_found(format!(
                    "the git repository at {} cannot be opened any more: {}",
                    path.display(),
                    e.message()
                ))
            })?;
            work(&repo, token.as_ref())
        })
        .await
        .map_err(errors::join_error)?
    }
}

#[async_trait]
impl Vcs for GitVcs {
    async fn remote_url(&self, remote: &str) -> Result<String> {
        let remote = remote.to_string();
        self.run(move |repo, _| remote_sync::remote_url(repo, &remote))
            .await
    }

    async fn fetch(&self, remote: &str) -> Result<()> {
        let remote = remote.to_string();
        self.run(move |repo, token| remote_sync::fetch(repo, &remote, token))
            .await
    }

    async fn resolve(&self, rev: &str) -> Result<Sha> {
        let rev = rev.to_string();
        self.run(move |repo, _| history::sha_of(history::resolve_commit(repo, &rev)?))
            .await
    }

    async fn commits_between(&self, base: &str, source: &str) -> Result<Vec<Commit>> {
        let (base, source) = (base.to_string(), source.to_string());
        self.run(move |repo, _| history::commits_between(repo, &base, &source))
            .await
    }

    async fn files_changed(&self, base: &str, source: &str) -> Result<Vec<String>> {
        let (base, source) = (base.to_string(), source.to_string());
        self.run(move |repo, _| history::files_changed(repo, &base, &source))
            .await
    }

    async fn remote_branch_exists(&self, remote: &str, branch: &str) -> Result<bool> {
        let (remote, branch) = (remote.to_string(), branch.to_string());
        self.run(move |repo, _| remote_sync::remote_branch_exists(repo, &remote, &branch))
            .await
    }

    async fn push(&self, remote: &str, sha: &Sha, branch: &str, force: bool) -> Result<()> {
        let (remote, sha, branch) = (remote.to_string(), sha.clone(), branch.to_string());
        self.run(move |repo, token| {
            let target = format!("refs/heads/{branch}");
            if !git2::Reference::is_valid_name(&target) {
                return Err(Error::invalid_input(format!(
                    "{branch:?} is not a valid branch name"
                )));
            }
            let oid = history::commit_oid(repo, &sha)?;
            let plus = if force { "+" } else { "" };
            let refspec = format!("{plus}{oid}:{target}");
            remote_sync::push_refspec(
                repo,
                &remote,
                &refspec,
                &format!("{} to {branch}", sha.short()),
                token,
            )
        })
        .await
    }

    async fn merge_ours(&self, ours: &Sha, theirs: &Sha, message: &str) -> Result<Sha> {
        let (ours, theirs, message) = (ours.clone(), theirs.clone(), message.to_string());
        self.run(move |repo, _| merge::merge_ours(repo, &ours, &theirs, &message))
            .await
    }

    async fn revert_merge(&self, merge: &Sha, message: &str) -> Result<Sha> {
        let (merge, message) = (merge.clone(), message.to_string());
        self.run(move |repo, _| merge::revert_merge(repo, &merge, &message))
            .await
    }

    async fn create_tag(
        &self,
        name: &str,
        target: &Sha,
        message: &str,
        signed: bool,
    ) -> Result<()> {
        let (name, target, message) = (name.to_string(), target.clone(), message.to_string());
        self.run(move |repo, _| tag::create_tag(repo, &name, &target, &message, signed))
            .await
    }

    async fn push_tag(&self, remote: &str, name: &str) -> Result<()> {
        let (remote, name) = (remote.to_string(), name.to_string());
        self.run(move |repo, token| {
            let refname = format!("refs/tags/{name}");
            if repo.find_reference(&refname).is_err() {
                return Err(Error::not_found(format!(
                    "there is no tag {name:?} in this repository to push; create it first"
                ))
                .with("tag", &name));
            }
            remote_sync::push_refspec(
                repo,
                &remote,
                &format!("{refname}:{refname}"),
                &format!("tag {name}"),
                token,
            )
        })
        .await
    }

    async fn tags_at(&self, target: &Sha) -> Result<Vec<String>> {
        let target = target.clone();
        self.run(move |repo, _| tag::tags_at(repo, &target)).await
    }
}
