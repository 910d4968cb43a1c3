//! `Vcs`: the git operations the release workflows need.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::sha::Sha;

/// One commit as `git log` shows it: `%H`, `%s` (first paragraph, lines joined by spaces)
/// and `%b` (the rest of the message).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    /// Full SHA.
    pub sha: Sha,
    /// `%s`.
    pub title: String,
    /// `%b`.
    pub body: String,
}

/// A git repository with one or more remotes.
///
/// Revisions (`rev`) are anything git can resolve: a SHA, a local branch, a remote-tracking
/// branch such as `origin/stages/prod`, or a tag. No operation needs a work tree checkout.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Vcs: Send + Sync + Debug {
    /// The URL of `remote`; NotFound when there is no such remote.
    async fn remote_url(&self, remote: &str) -> Result<String>;
    /// Fetches every branch and tag of `remote`.
    async fn fetch(&self, remote: &str) -> Result<()>;
    /// Resolves a revision to its full SHA; NotFound when it does not resolve.
    async fn resolve(&self, rev: &str) -> Result<Sha>;
    /// Commits reachable from `source` and not from `base`, newest first
    /// (as `git log base..source` lists them).
    async fn commits_between(&self, base: &str, source: &str) -> Result<Vec<Commit>>;
    /// Paths changed between two revisions (`git diff --name-only base source`), sorted.
    async fn files_changed(&self, base: &str, source: &str) -> Result<Vec<String>>;
    /// Whether `branch` exists on `remote` (as of the last fetch or push).
    async fn remote_branch_exists(&self, remote: &str, branch: &str) -> Result<bool>;
    /// Pushes `sha` to `refs/heads/<branch>` on `remote`; without `force` a non-fast-forward
    /// push is refused with Conflict.
    async fn push(&self, remote: &str, sha: &Sha, branch: &str, force: bool) -> Result<()>;
    /// Creates a merge commit of `ours` and `theirs` (parents in that order) whose tree is
    /// `ours`'s tree (`git merge -s ours`); returns its SHA. No ref is moved.
    async fn merge_ours(&self, ours: &Sha, theirs: &Sha, message: &str) -> Result<Sha>;
    /// Creates a commit on top of `merge` that reverts it against its first parent
    /// (`git revert -m 1`); returns its SHA. No ref is moved.
    async fn revert_merge(&self, merge: &Sha, message: &str) -> Result<Sha>;
    /// Creates an annotated tag `name` on `target` with `message`, GPG-signed when `signed`.
    async fn create_tag(&self, name: &str, target: &Sha, message: &str, signed: bool)
    -> Result<()>;
    /// Pushes tag `name` to `remote`.
    async fn push_tag(&self, remote: &str, name: &str) -> Result<()>;
    /// The names of the tags that point at `target` (created here or fetched), sorted.
    async fn tags_at(&self, target: &Sha) -> Result<Vec<String>>;
}
