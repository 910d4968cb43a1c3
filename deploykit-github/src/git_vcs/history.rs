//! Reading history: resolving revisions, commits between two revisions, files changed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use deploykit_core::ports::Commit;
use deploykit_core::{Error, Result, Sha};
use git2::{Oid, Repository};

use super::errors::git_error;
use super::message::title_and_body;

/// The commit `rev` names (a SHA, branch, `origin/x`, tag...), peeled through tags.
pub(crate) fn resolve_commit(repo: &Repository, rev: &str) -> Result<Oid> {
    resolve_as(repo, "the revision", rev)
}

/// [`resolve_commit`], saying which revision (`the base`, `the source`) did not resolve.
fn resolve_as(repo: &Repository, which: &str, rev: &str) -> Result<Oid> {
    let not_found = |detail: &str| {
        Error::not_found(format!(
            "{which} {rev:?} does not name a commit in this repository ({detail}); check the \
             spelling, or fetch the remote first"
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

/// `git log base..source`, in git's own order: the commits reachable from `source` and not
/// from `base`, newest committer date first. As git does (revision.c), a commit's parents
/// join the queue in parent order when it leaves it, and commits of the same date leave in
/// the order they joined; a commit dated before its parent is listed after it.
pub(crate) fn commits_between(repo: &Repository, base: &str, source: &str) -> Result<Vec<Commit>> {
    let base = resolve_as(repo, "the base", base)?;
    let source = resolve_as(repo, "the source", source)?;
    let walk_error = |e: git2::Error| git_error("walking history", &e, None);
    // Which commits: libgit2's walk (its order is not git's when dates tie or go backwards).
    let mut walk = repo.revwalk().map_err(walk_error)?;
    walk.push(source).map_err(walk_error)?;
    walk.hide(base).map_err(walk_error)?;
    let listed = walk
        .collect::<std::result::Result<HashSet<Oid>, _>>()
        .map_err(walk_error)?;
    // In which order: every listed commit is reached from `source` through listed commits.
    let mut queue = BinaryHeap::new();
    let mut joined = HashSet::new();
    let mut arrivals = 0u64;
    let mut join = |queue: &mut BinaryHeap<_>, commit: git2::Commit<'_>| {
        if listed.contains(&commit.id()) && joined.insert(commit.id()) {
            arrivals += 1;
            queue.push((commit.time().seconds(), Reverse(arrivals), commit.id()));
        }
    };
    join(&mut queue, repo.find_commit(source).map_err(walk_error)?);
    let mut commits = Vec::with_capacity(listed.len());
    while let Some((_, _, oid)) = queue.pop() {
        let commit = repo.find_commit(oid).map_err(walk_error)?;
        for parent in commit.parents() {
            join(&mut queue, parent);
        }
        let message = decoded_message(&commit);
        let (title, body) = title_and_body(&message);
        commits.push(Commit {
            sha: sha_of(oid)?,
            title,
            body,
        });
    }
    Ok(commits)
}

/// A commit's message as text. `git log` re-encodes a message whose `encoding` header names
/// another charset (`i18n.commitEncoding`) to UTF-8; deploykit decodes the usual one,
/// ISO-8859-1 (Latin-1), and reads anything else as UTF-8, replacing what is not.
fn decoded_message(commit: &git2::Commit<'_>) -> String {
    let raw = commit.message_raw_bytes();
    let latin1 = commit.message_encoding().ok().flatten().is_some_and(|e| {
        let e = e.to_ascii_lowercase().replace(['-', '_'], "");
        matches!(e.as_str(), "iso88591" | "latin1" | "l1")
    });
    if latin1 {
        raw.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
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
