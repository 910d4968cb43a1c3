//! New commits without a checkout: an `ours` merge and the revert of a merge.

use deploykit_core::{Error, Result, Sha};
use git2::Repository;

use super::errors::git_error;
use super::history::{commit_oid, sha_of};
use super::identity::signature;
use super::message::cleaned_message;

/// `git merge -s ours theirs` on `ours`, without moving a ref: parents `[ours, theirs]`,
/// the tree of `ours`.
pub(crate) fn merge_ours(
    repo: &Repository,
    ours: &Sha,
    theirs: &Sha,
    message: &str,
) -> Result<Sha> {
    let fail = |e: git2::Error| git_error("creating the merge commit", &e, None);
    let ours = repo.find_commit(commit_oid(repo, ours)?).map_err(fail)?;
    let theirs = repo.find_commit(commit_oid(repo, theirs)?).map_err(fail)?;
    let tree = ours.tree().map_err(fail)?;
    let who = signature(repo)?;
    let oid = repo
        .commit(
            None,
            &who,
            &who,
            &cleaned_message(message),
            &tree,
            &[&ours, &theirs],
        )
        .map_err(fail)?;
    sha_of(oid)
}

/// `git revert -m 1 merge` without a checkout: a commit on top of `merge` whose tree undoes
/// what the merge brought in relative to its first parent.
pub(crate) fn revert_merge(repo: &Repository, merge: &Sha, message: &str) -> Result<Sha> {
    let fail = |e: git2::Error| git_error(&format!("reverting {}", merge.short()), &e, None);
    let commit = repo.find_commit(commit_oid(repo, merge)?).map_err(fail)?;
    if commit.parent_count() < 2 {
        return Err(Error::invalid_input(format!(
            "{} is not a merge commit (it has {} parent); only a merge can be reverted \
             against its first parent",
            merge.short(),
            commit.parent_count()
        ))
        .with("commit", merge));
    }
    let mut index = repo
        .revert_commit(&commit, &commit, 1, None)
        .map_err(fail)?;
    if index.has_conflicts() {
        return Err(Error::conflict(format!(
            "reverting {} conflicts; revert it by hand",
            merge.short()
        )));
    }
    let tree_id = index.write_tree_to(repo).map_err(fail)?;
    let tree = repo.find_tree(tree_id).map_err(fail)?;
    let who = signature(repo)?;
    let oid = repo
        .commit(
            None,
            &who,
            &who,
            &cleaned_message(message),
            &tree,
            &[&commit],
        )
        .map_err(fail)?;
    sha_of(oid)
}
