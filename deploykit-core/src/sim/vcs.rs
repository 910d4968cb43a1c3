//! An in-memory git repository and its `origin`.
//!
//! Commits have parents, a title, a body and a full file snapshot. The local clone is always
//! in sync with `origin` (fetch only counts the call): branches are `origin`'s branches, and
//! `main`, `origin/main` and `refs/heads/main` all name the same one. Tags are created
//! locally and become visible on `origin` when pushed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::sha::Sha;
use crate::ports::{Commit, Vcs};
use crate::sim::{Faults, lock};

/// The remote every workflow talks to.
pub const ORIGIN: &str = "origin";

/// One commit of a [`SimVcs`], with everything the simulation knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCommit {
    /// Full SHA.
    pub sha: Sha,
    /// Parents, first parent first.
    pub parents: Vec<Sha>,
    /// `%s`.
    pub title: String,
    /// `%b`.
    pub body: String,
    /// The complete file snapshot (path -> content).
    pub files: BTreeMap<String, String>,
    /// Creation order (newer commits have larger numbers).
    pub seq: u64,
}

/// An annotated tag of a [`SimVcs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTag {
    /// Tag name.
    pub name: String,
    /// The commit it points at.
    pub target: Sha,
    /// The tag message.
    pub message: String,
    /// Whether it was GPG-signed.
    pub signed: bool,
    /// Whether it was pushed to `origin`.
    pub pushed: bool,
}

#[derive(Debug, Default)]
struct State {
    commits: BTreeMap<String, SimCommit>,
    branches: BTreeMap<String, Sha>,
    tags: BTreeMap<String, SimTag>,
    seq: u64,
    pushes: Vec<(String, Sha, bool)>,
}

/// The in-memory repository; see the module documentation.
#[derive(Debug)]
pub struct SimVcs {
    url: String,
    faults: Arc<Faults>,
    state: Mutex<State>,
}

/// Splits a commit message as `git log` shows it: `%s` is the first paragraph with its
/// lines joined by spaces, `%b` the rest.
pub fn split_message(message: &str) -> (String, String) {
    let message = message.trim_matches(|c| c == '\n' || c == '\r');
    let (first, rest) = match message.find("\n\n") {
        Some(i) => (&message[..i], &message[i + 2..]),
        None => (message, ""),
    };
    let title = first.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    (title, rest.trim_start_matches('\n').to_string())
}

/// A deterministic 40-digit SHA from the commit's content and creation order.
fn make_sha(seq: u64, parents: &[Sha], title: &str, body: &str) -> Sha {
    let mut text = format!("{seq}\0{title}\0{body}");
    for p in parents {
        text.push('\0');
        text.push_str(p.as_str());
    }
    let mut out = String::with_capacity(48);
    for salt in 0u64..3 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Final avalanche (SplitMix64) so near-identical inputs differ everywhere.
        h ^= h >> 30;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 27;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(40);
    // Not external input: 40 hexadecimal digits always make a valid SHA.
    Sha::new(&out).expect("40 hexadecimal digits are a valid SHA")
}

fn not_found(rev: &str) -> Error {
    Error::not_found(format!(
        "revision {rev:?} does not resolve to a commit; expected a SHA, a branch, \
         origin/<branch> or a tag (fetch first if it is new)"
    ))
    .with("rev", rev)
}

impl State {
    fn get(&self, sha: &Sha) -> Result<&SimCommit> {
        self.commits
            .get(sha.as_str())
            .ok_or_else(|| not_found(sha.as_str()))
    }

    fn resolve(&self, rev: &str) -> Result<Sha> {
        let rev = rev.trim();
        // `<rev>~N` and `<rev>^` walk first parents.
        if let Some((base, n)) = rev.rsplit_once('~') {
            let n: usize = if n.is_empty() {
                1
            } else {
                n.parse().map_err(|_| not_found(rev))?
            };
            let mut sha = self.resolve(base)?;
            for _ in 0..n {
                sha = self
                    .get(&sha)?
                    .parents
                    .first()
                    .cloned()
                    .ok_or_else(|| not_found(rev))?;
            }
            return Ok(sha);
        }
        // `<rev>^` is the first parent, `<rev>^N` the Nth (as git counts them).
        if let Some((base, n)) = rev.rsplit_once('^') {
            let n: usize = if n.is_empty() {
                1
            } else {
                n.parse().map_err(|_| not_found(rev))?
            };
            let sha = self.resolve(base)?;
            return self
                .get(&sha)?
                .parents
                .get(n.wrapping_sub(1))
                .cloned()
                .ok_or_else(|| not_found(rev));
        }
        let name = rev
            .strip_prefix("refs/heads/")
            .or_else(|| rev.strip_prefix("refs/remotes/origin/"))
            .or_else(|| rev.strip_prefix("origin/"))
            .unwrap_or(rev);
        if let Some(sha) = self.branches.get(name) {
            return Ok(sha.clone());
        }
        let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
        if let Some(t) = self.tags.get(tag) {
            return Ok(t.target.clone());
        }
        if let Ok(sha) = Sha::new(rev)
            && sha.as_str().len() == rev.len()
        {
            let matches: Vec<&String> = self
                .commits
                .range(sha.as_str().to_string()..)
                .take_while(|(k, _)| k.starts_with(sha.as_str()))
                .map(|(k, _)| k)
                .collect();
            match matches.as_slice() {
                [one] => return Sha::new(one.as_str()),
                [] => {}
                _ => {
                    return Err(Error::invalid_input(format!(
                        "short SHA {rev} is ambiguous ({} commits start with it); give more digits",
                        matches.len()
                    ))
                    .with("rev", rev));
                }
            }
        }
        Err(not_found(rev))
    }

    fn ancestors(&self, tip: &Sha) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([tip.clone()]);
        while let Some(sha) = queue.pop_front() {
            if !seen.insert(sha.as_str().to_string()) {
                continue;
            }
            if let Some(c) = self.commits.get(sha.as_str()) {
                queue.extend(c.parents.iter().cloned());
            }
        }
        seen
    }

    fn add_commit(
        &mut self,
        parents: Vec<Sha>,
        title: &str,
        body: &str,
        files: BTreeMap<String, String>,
    ) -> Sha {
        self.seq += 1;
        let sha = make_sha(self.seq, &parents, title, body);
        self.commits.insert(
            sha.as_str().to_string(),
            SimCommit {
                sha: sha.clone(),
                parents,
                title: title.to_string(),
                body: body.to_string(),
                files,
                seq: self.seq,
            },
        );
        sha
    }
}

impl SimVcs {
    /// An empty repository whose `origin` has URL `origin_url`
    /// (e.g. `git@github.com:18F/identity-idp.git`); fails as `faults` says (op `vcs.<method>`).
    pub fn new(origin_url: impl Into<String>, faults: Arc<Faults>) -> Self {
        SimVcs {
            url: origin_url.into(),
            faults,
            state: Mutex::new(State::default()),
        }
    }

    /// Commits `files` (path, content) with `title` and `body` on top of `branch` (creating
    /// the branch, from no parent, when it does not exist); returns the new SHA.
    pub fn commit(&self, branch: &str, title: &str, body: &str, files: &[(&str, &str)]) -> Sha {
        let mut st = lock(&self.state);
        let parent = st.branches.get(branch).cloned();
        let mut snapshot = parent
            .as_ref()
            .and_then(|p| st.commits.get(p.as_str()))
            .map(|c| c.files.clone())
            .unwrap_or_default();
        for (path, content) in files {
            snapshot.insert((*path).to_string(), (*content).to_string());
        }
        let sha = st.add_commit(parent.into_iter().collect(), title, body, snapshot);
        st.branches.insert(branch.to_string(), sha.clone());
        sha
    }

    /// Merges `theirs` into `branch` with a merge commit (parents: branch tip, `theirs`;
    /// files: the branch's, overwritten by `theirs`'s); returns the merge commit.
    pub fn merge_into(&self, branch: &str, theirs: &Sha, title: &str, body: &str) -> Result<Sha> {
        let mut st = lock(&self.state);
        let ours = st.resolve(branch)?;
        let mut files = st.get(&ours)?.files.clone();
        files.extend(st.get(theirs)?.files.clone());
        let sha = st.add_commit(vec![ours, theirs.clone()], title, body, files);
        st.branches.insert(branch.to_string(), sha.clone());
        Ok(sha)
    }

    /// Creates a commit with the given parents and snapshot, moving no ref.
    pub fn create_commit(
        &self,
        parents: &[Sha],
        title: &str,
        body: &str,
        files: BTreeMap<String, String>,
    ) -> Result<Sha> {
        let mut st = lock(&self.state);
        for p in parents {
            st.get(p)?;
        }
        Ok(st.add_commit(parents.to_vec(), title, body, files))
    }

    /// Points `name` at `sha` (creating or moving the branch, no fast-forward check).
    pub fn branch(&self, name: &str, sha: &Sha) {
        lock(&self.state)
            .branches
            .insert(name.to_string(), sha.clone());
    }

    /// Deletes branch `name`, if it exists.
    pub fn delete_branch(&self, name: &str) {
        lock(&self.state).branches.remove(name);
    }

    /// The tip of `name`, if the branch exists.
    pub fn branch_tip(&self, name: &str) -> Option<Sha> {
        lock(&self.state).branches.get(name).cloned()
    }

    /// Every branch and its tip, sorted by name.
    pub fn branches(&self) -> Vec<(String, Sha)> {
        lock(&self.state)
            .branches
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Resolves a revision without counting a call.
    pub fn rev(&self, rev: &str) -> Result<Sha> {
        lock(&self.state).resolve(rev)
    }

    /// One commit, by revision.
    pub fn commit_info(&self, rev: &str) -> Result<SimCommit> {
        let st = lock(&self.state);
        let sha = st.resolve(rev)?;
        st.get(&sha).cloned()
    }

    /// The file snapshot at a revision.
    pub fn files_at(&self, rev: &str) -> Result<BTreeMap<String, String>> {
        self.commit_info(rev).map(|c| c.files)
    }

    /// Creates a tag without counting a call (history, or the code host creating a release's
    /// tag); Conflict when it exists.
    pub fn add_tag(
        &self,
        name: &str,
        target: &Sha,
        message: &str,
        signed: bool,
        pushed: bool,
    ) -> Result<()> {
        let mut st = lock(&self.state);
        let target = st.resolve(target.as_str())?;
        if let Some(t) = st.tags.get(name) {
            return Err(Error::conflict(format!(
                "tag {name} already exists (on {}); pick another name",
                t.target.short()
            ))
            .with("tag", name));
        }
        st.tags.insert(
            name.to_string(),
            SimTag {
                name: name.to_string(),
                target,
                message: message.to_string(),
                signed,
                pushed,
            },
        );
        Ok(())
    }

    /// One tag, if it exists.
    pub fn tag(&self, name: &str) -> Option<SimTag> {
        lock(&self.state).tags.get(name).cloned()
    }

    /// Every push made through the port: (branch, sha, forced), oldest first.
    pub fn pushes(&self) -> Vec<(String, Sha, bool)> {
        lock(&self.state).pushes.clone()
    }

    fn check_remote(&self, remote: &str) -> Result<()> {
        if remote == ORIGIN {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "no git remote named {remote:?}; this repository has only {ORIGIN:?}"
            ))
            .with("remote", remote))
        }
    }
}

#[async_trait]
impl Vcs for SimVcs {
    async fn remote_url(&self, remote: &str) -> Result<String> {
        self.faults.check("vcs.remote_url")?;
        self.check_remote(remote)?;
        Ok(self.url.clone())
    }

    async fn fetch(&self, remote: &str) -> Result<()> {
        self.faults.check("vcs.fetch")?;
        self.check_remote(remote)
    }

    async fn resolve(&self, rev: &str) -> Result<Sha> {
        self.faults.check("vcs.resolve")?;
        lock(&self.state).resolve(rev)
    }

    async fn commits_between(&self, base: &str, source: &str) -> Result<Vec<Commit>> {
        self.faults.check("vcs.commits_between")?;
        let st = lock(&self.state);
        let base = st.resolve(base)?;
        let source = st.resolve(source)?;
        let exclude = st.ancestors(&base);
        let mut commits: Vec<&SimCommit> = st
            .ancestors(&source)
            .iter()
            .filter(|s| !exclude.contains(*s))
            .filter_map(|s| st.commits.get(s))
            .collect();
        commits.sort_by_key(|c| std::cmp::Reverse(c.seq));
        Ok(commits
            .into_iter()
            .map(|c| Commit {
                sha: c.sha.clone(),
                title: c.title.clone(),
                body: c.body.clone(),
            })
            .collect())
    }

    async fn files_changed(&self, base: &str, source: &str) -> Result<Vec<String>> {
        self.faults.check("vcs.files_changed")?;
        let st = lock(&self.state);
        let a = &st.get(&st.resolve(base)?)?.files;
        let b = &st.get(&st.resolve(source)?)?.files;
        let paths: BTreeSet<&String> = a
            .keys()
            .chain(b.keys())
            .filter(|p| a.get(*p) != b.get(*p))
            .collect();
        Ok(paths.into_iter().cloned().collect())
    }

    async fn remote_branch_exists(&self, remote: &str, branch: &str) -> Result<bool> {
        self.faults.check("vcs.remote_branch_exists")?;
        self.check_remote(remote)?;
        Ok(lock(&self.state).branches.contains_key(branch))
    }

    async fn push(&self, remote: &str, sha: &Sha, branch: &str, force: bool) -> Result<()> {
        self.faults.act("vcs.push", || {
            self.check_remote(remote)?;
            let mut st = lock(&self.state);
            let sha = st.resolve(sha.as_str())?;
            if let Some(current) = st.branches.get(branch).cloned()
                && !force
                && !st.ancestors(&sha).contains(current.as_str())
            {
                return Err(Error::conflict(format!(
                    "push of {} to {remote}/{branch} refused: not a fast-forward of {} \
                     (someone pushed to {branch}, or history was rewritten); fetch and retry, \
                     or force only if you mean to discard {}",
                    sha.short(),
                    current.short(),
                    current.short()
                ))
                .with("branch", branch)
                .with("remote_tip", &current));
            }
            st.branches.insert(branch.to_string(), sha.clone());
            st.pushes.push((branch.to_string(), sha, force));
            Ok(())
        })
    }

    async fn merge_ours(&self, ours: &Sha, theirs: &Sha, message: &str) -> Result<Sha> {
        self.faults.check("vcs.merge_ours")?;
        let mut st = lock(&self.state);
        let ours = st.resolve(ours.as_str())?;
        let theirs = st.resolve(theirs.as_str())?;
        let files = st.get(&ours)?.files.clone();
        let (title, body) = split_message(message);
        Ok(st.add_commit(vec![ours, theirs], &title, &body, files))
    }

    async fn revert_merge(&self, merge: &Sha, message: &str) -> Result<Sha> {
        self.faults.check("vcs.revert_merge")?;
        let mut st = lock(&self.state);
        let merge = st.resolve(merge.as_str())?;
        let commit = st.get(&merge)?;
        if commit.parents.len() < 2 {
            return Err(Error::invalid_input(format!(
                "{} is not a merge commit (it has {} parent(s)); revert_merge reverts a merge \
                 against its first parent",
                merge.short(),
                commit.parents.len()
            )));
        }
        let first = commit.parents[0].clone();
        let files = st.get(&first)?.files.clone();
        let (title, body) = split_message(message);
        Ok(st.add_commit(vec![merge], &title, &body, files))
    }

    async fn create_tag(
        &self,
        name: &str,
        target: &Sha,
        message: &str,
        signed: bool,
    ) -> Result<()> {
        self.faults.check("vcs.create_tag")?;
        self.add_tag(name, target, message, signed, false)
    }

    async fn push_tag(&self, remote: &str, name: &str) -> Result<()> {
        self.faults.act("vcs.push_tag", || {
            self.check_remote(remote)?;
            let mut st = lock(&self.state);
            let tag = st.tags.get_mut(name).ok_or_else(|| {
                Error::not_found(format!("no tag named {name} to push; create it first"))
                    .with("tag", name)
            })?;
            tag.pushed = true;
            Ok(())
        })
    }

    async fn tags_at(&self, target: &Sha) -> Result<Vec<String>> {
        self.faults.check("vcs.tags_at")?;
        let st = lock(&self.state);
        let target = st.resolve(target.as_str())?;
        Ok(st
            .tags
            .iter()
            .filter(|(_, t)| t.target == target)
            .map(|(name, _)| name.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_like_git_log() {
        assert_eq!(
            split_message("Fix the thing\nacross lines\n\nchangelog: Bug Fixes, X, y\n"),
            (
                "Fix the thing across lines".to_string(),
                "changelog: Bug Fixes, X, y".to_string()
            )
        );
        assert_eq!(
            split_message("One line"),
            ("One line".into(), String::new())
        );
    }

    #[tokio::test]
    async fn revisions_resolve_by_prefix_branch_tag_and_ancestry() {
        let vcs = SimVcs::new(
            "git@github.com:18F/identity-idp.git",
            Arc::new(Faults::new()),
        );
        let a = vcs.commit("main", "A", "", &[("README.md", "a")]);
        let b = vcs.commit("main", "B", "", &[("README.md", "b")]);
        assert_eq!(vcs.resolve(&b.as_str()[..8]).await.expect("prefix"), b);
        assert_eq!(vcs.resolve("origin/main").await.expect("remote"), b);
        assert_eq!(vcs.resolve("main~1").await.expect("parent"), a);
        assert_eq!(vcs.resolve("main^").await.expect("parent"), a);
        assert_eq!(vcs.resolve("main^1").await.expect("first parent"), a);
        let side = vcs.commit("side", "S", "", &[("README.md", "s")]);
        let merge = vcs
            .merge_into("main", &side, "Merge side", "")
            .expect("merge");
        assert_eq!(
            vcs.resolve(&format!("{merge}^2"))
                .await
                .expect("second parent"),
            side
        );
        assert_eq!(vcs.resolve("main^2").await.expect("second parent"), side);
        let e = vcs.resolve("main^3").await.expect_err("no third parent");
        assert_eq!(e.kind(), crate::ErrorKind::NotFound);
        assert!(
            vcs.resolve(&format!("{a}^2")).await.is_err(),
            "a has one parent at most"
        );
        vcs.create_tag("v1", &a, "v1 release", true)
            .await
            .expect("tag");
        assert_eq!(vcs.resolve("v1").await.expect("tag"), a);
        assert!(vcs.tag("v1").is_some_and(|t| t.signed && !t.pushed));
        let e = vcs.resolve("nope").await.expect_err("missing");
        assert_eq!(e.kind(), crate::ErrorKind::NotFound);
    }
}
