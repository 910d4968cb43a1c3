//! Reading history: resolving revisions, commits between two revisions, files changed.

use deploykit_core::ports::Commit;
use deploykit_core::{Error, Result, Sha};
use git2::{Oid, Repository, Sort};

use super::errors::git_error;
use super::message::title_and_body;

/// The commit `rev` names (a SHA, branch, `origin/x`, tag...), peeled through tags.
pub(crate) fn resolve_commit(repo: &Repository, rev: &str) -> Result<Oid> {
    let not_found = |detail: &str| {
        Error::not_found(format!(
            "Invalid source: {rev:?} does not name a commit in this repository ({detail}); \
             check the spelling, or fetch the remote first"
        ))
        .with("revision", rev)
    };
    if rev.trim().is_empty() {
        return Err(not_found("empty revision"));
    }
    let object = repo
        .revparse_single(rev)
        .map_err(|e| not_found(e.message()))?;
    let commit = object
        .peel_to_commit()
        .map_err(|e| not_found(e.message()))?;
    Ok(commit.id())
}

/// A git object id as a deploykit SHA.
pub(crate) fn sha_of(oid: Oid) -> Result<Sha> {
    Sha::new(oid.to_string())
}

/// A deploykit SHA as a git object id (full or abbreviated, which must exist).
pub(crate) fn commit_oid(repo: &Repository, sha: &Sha) -> Result<Oid> {
    resolve_commit(repo, sha.as_str())
}

/// `git log base..source`: newest first, topological with commit time between branches.
pub(crate) fn commits_between(repo: &Repository, base: &str, source: &str) -> Result<Vec<Commit>> {
    let base = resolve_commit(repo, base)?;
    let source = resolve_commit(repo, source)?;
    let walk_error = |e: git2::Error| git_error("walking history", &e, None);
    let mut walk = repo.revwalk().map_err(walk_error)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(walk_error)?;
    walk.push(source).map_err(walk_error)?;
    walk.hide(base).map_err(walk_error)?;
    let mut commits = Vec::new();
    for oid in walk {
        let oid = oid.map_err(walk_error)?;
        let commit = repo.find_commit(oid).map_err(walk_error)?;
        let message = String::from_utf8_lossy(commit.message_raw_bytes());
        let (title, body) = title_and_body(&message);
        commits.push(Commit {
            sha: sha_of(oid)?,
            title,
            body,
        });
    }
    Ok(commits)
}

/// `git diff --no-renames --name-only base source`, sorted: a renamed file counts as its
/// old and its new path, so a rename out of a watched folder is still seen.
pub(crate) fn files_changed(repo: &Repository, base: &str, source: &str) -> Result<Vec<String>> {
    let diff_error = |e: git2::Error| git_error("comparing trees", &e, None);
    let tree_of = |rev: &str| -> Result<git2::Tree<'_>> {
        let oid = resolve_commit(repo, rev)?;
        repo.find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(diff_error)
    };
    let base_tree = tree_of(base)?;
    let source_tree = tree_of(source)?;
    let diff = repo
        .diff_tree_to_tree(Some(&base_tree), Some(&source_tree), None)
        .map_err(diff_error)?;
    let mut paths = std::collections::BTreeSet::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path_bytes() {
                paths.insert(String::from_utf8_lossy(path).into_owned());
            }
        }
    }
    Ok(paths.into_iter().collect())
}
