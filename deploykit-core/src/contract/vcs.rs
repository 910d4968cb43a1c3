//! The `Vcs` contract: what the release candidate, release and rollback workflows rely on.
//!
//! The harness builds history on `origin` (branches named `ct-...`); the functions then use
//! only the port, after a fetch.

use async_trait::async_trait;

use crate::contract::{Outcome, call, ensure, expect_error};
use crate::error::ErrorKind;
use crate::model::sha::Sha;
use crate::ports::Vcs;

/// The repository under test and the means to build history on its `origin`.
#[async_trait]
pub trait VcsHarness: Send + Sync {
    /// The repository under test (a clone whose remote `origin` is the harness's origin).
    fn vcs(&self) -> &dyn Vcs;
    /// Commits `files` (path, content; other files kept) with `title` and `body` on top of
    /// `branch` of origin, creating the branch from no parent when it does not exist;
    /// returns the commit.
    async fn commit(
        &self,
        branch: &str,
        title: &str,
        body: &str,
        files: &[(&str, &str)],
    ) -> Result<Sha, String>;
    /// Points `branch` of origin at `sha` (creating or moving it).
    async fn branch(&self, branch: &str, sha: &Sha) -> Result<(), String>;
    /// Creates on `branch` of origin a merge commit with parents (branch tip, `theirs`) whose
    /// tree is `theirs`'s tree; returns it.
    async fn merge(&self, branch: &str, theirs: &Sha, title: &str) -> Result<Sha, String>;
}

async fn fetch(h: &dyn VcsHarness) -> Outcome {
    call("fetch(origin)", h.vcs().fetch("origin").await)
}

async fn resolve(h: &dyn VcsHarness, rev: &str) -> Result<Sha, String> {
    call(&format!("resolve({rev})"), h.vcs().resolve(rev).await)
}

/// SHAs (full or a unique prefix), branches, `origin/<branch>` and tags resolve; anything
/// else is NotFound; `remote_url` knows `origin` only.
pub async fn resolve_revisions(h: &dyn VcsHarness) -> Outcome {
    let a = h
        .commit("ct-resolve", "First", "", &[("a.txt", "a")])
        .await?;
    let b = h
        .commit("ct-resolve", "Second", "", &[("a.txt", "b")])
        .await?;
    fetch(h).await?;
    ensure!(
        resolve(h, b.as_str()).await? == b,
        "a full SHA should resolve to itself"
    );
    let prefix = &a.as_str()[..12];
    ensure!(
        resolve(h, prefix).await? == a,
        "the unique prefix {prefix} should resolve to {a}"
    );
    ensure!(
        resolve(h, "origin/ct-resolve").await? == b,
        "origin/ct-resolve should resolve to its tip {b}"
    );
    call(
        "create_tag",
        h.vcs()
            .create_tag("ct-resolve-tag", &a, "ct-resolve-tag release", false)
            .await,
    )?;
    ensure!(
        resolve(h, "ct-resolve-tag").await? == a,
        "tag ct-resolve-tag should resolve to {a}"
    );
    expect_error(
        "resolve(missing)",
        h.vcs().resolve("origin/ct-no-such-branch").await,
        ErrorKind::NotFound,
        "ct-no-such-branch",
    )?;
    let url = call("remote_url(origin)", h.vcs().remote_url("origin").await)?;
    ensure!(!url.is_empty(), "origin should have a URL");
    expect_error(
        "remote_url(missing)",
        h.vcs().remote_url("ct-no-such-remote").await,
        ErrorKind::NotFound,
        "ct-no-such-remote",
    )
}

/// `commits_between(base, source)` lists what `source` has and `base` lacks, newest first,
/// with `%s` titles and `%b` bodies.
pub async fn commits_between_newest_first(h: &dyn VcsHarness) -> Outcome {
    let base = h.commit("ct-log", "Base", "", &[("base.txt", "0")]).await?;
    h.branch("ct-log-feature", &base).await?;
    let mut made = Vec::new();
    for i in 1..=3 {
        let body = format!("changelog: Internal, Contract, Change number {i}");
        let sha = h
            .commit(
                "ct-log-feature",
                &format!("Change {i} (#{i})"),
                &body,
                &[("feature.txt", &i.to_string())],
            )
            .await?;
        made.push((sha, format!("Change {i} (#{i})"), body));
    }
    fetch(h).await?;
    let commits = call(
        "commits_between",
        h.vcs()
            .commits_between("origin/ct-log", "origin/ct-log-feature")
            .await,
    )?;
    let got: Vec<(Sha, String, String)> = commits
        .iter()
        .map(|c| (c.sha.clone(), c.title.clone(), c.body.trim().to_string()))
        .collect();
    made.reverse();
    ensure!(
        got == made,
        "commits_between should list the 3 feature commits newest first with title and body;\n\
         expected {made:?}\ngot {got:?}"
    );
    let none = call(
        "commits_between(same)",
        h.vcs()
            .commits_between("origin/ct-log-feature", "origin/ct-log")
            .await,
    )?;
    ensure!(
        none.is_empty(),
        "nothing is reachable from the base and not the feature, got {none:?}"
    );
    Ok(())
}

/// `files_changed` lists added and modified paths, sorted.
pub async fn files_changed_sorted(h: &dyn VcsHarness) -> Outcome {
    let base = h
        .commit(
            "ct-files",
            "Base",
            "",
            &[("b.txt", "1"), ("a.txt", "1"), ("same.txt", "1")],
        )
        .await?;
    let tip = h
        .commit(
            "ct-files",
            "Change",
            "",
            &[("z/new.txt", "1"), ("b.txt", "2"), ("a.txt", "2")],
        )
        .await?;
    fetch(h).await?;
    let files = call(
        "files_changed",
        h.vcs().files_changed(base.as_str(), tip.as_str()).await,
    )?;
    ensure!(
        files == ["a.txt", "b.txt", "z/new.txt"],
        "files_changed should be [a.txt, b.txt, z/new.txt], got {files:?}"
    );
    Ok(())
}

/// Push fast-forwards; a non-fast-forward is refused with Conflict unless forced; pushing
/// creates branches; `remote_branch_exists` follows.
pub async fn push_fast_forward_and_force(h: &dyn VcsHarness) -> Outcome {
    let a = h.commit("ct-push", "A", "", &[("p.txt", "a")]).await?;
    let b = h.commit("ct-push", "B", "", &[("p.txt", "b")]).await?;
    h.branch("ct-push-target", &a).await?;
    h.branch("ct-push-side", &a).await?;
    let c = h.commit("ct-push-side", "C", "", &[("p.txt", "c")]).await?;
    fetch(h).await?;
    call(
        "push(fast-forward)",
        h.vcs().push("origin", &b, "ct-push-target", false).await,
    )?;
    fetch(h).await?;
    ensure!(
        resolve(h, "origin/ct-push-target").await? == b,
        "a fast-forward push should move the branch to {b}"
    );
    expect_error(
        "push(non-fast-forward)",
        h.vcs().push("origin", &c, "ct-push-target", false).await,
        ErrorKind::Conflict,
        "ct-push-target",
    )?;
    fetch(h).await?;
    ensure!(
        resolve(h, "origin/ct-push-target").await? == b,
        "a refused push must not move the branch"
    );
    call(
        "push(force)",
        h.vcs().push("origin", &c, "ct-push-target", true).await,
    )?;
    fetch(h).await?;
    ensure!(
        resolve(h, "origin/ct-push-target").await? == c,
        "a forced push should move the branch to {c}"
    );
    ensure!(
        !call(
            "remote_branch_exists(new)",
            h.vcs().remote_branch_exists("origin", "ct-push-new").await
        )?,
        "ct-push-new should not exist before it is pushed"
    );
    call(
        "push(new branch)",
        h.vcs().push("origin", &a, "ct-push-new", false).await,
    )?;
    ensure!(
        call(
            "remote_branch_exists(new)",
            h.vcs().remote_branch_exists("origin", "ct-push-new").await
        )?,
        "ct-push-new should exist after it was pushed"
    );
    Ok(())
}

/// `merge_ours` creates a commit with parents (ours, theirs) and ours's tree, moving no ref.
pub async fn merge_ours_keeps_our_tree(h: &dyn VcsHarness) -> Outcome {
    let base = h
        .commit("ct-ours", "Base", "", &[("x.txt", "base")])
        .await?;
    h.branch("ct-theirs", &base).await?;
    let ours = h
        .commit("ct-ours", "Ours", "", &[("x.txt", "ours")])
        .await?;
    let theirs = h
        .commit(
            "ct-theirs",
            "Theirs",
            "",
            &[("x.txt", "theirs"), ("y.txt", "new")],
        )
        .await?;
    fetch(h).await?;
    let merge = call(
        "merge_ours",
        h.vcs()
            .merge_ours(
                &ours,
                &theirs,
                "Merge theirs with the ours strategy\n\nTrue-up",
            )
            .await,
    )?;
    let changed = call(
        "files_changed(ours, merge)",
        h.vcs().files_changed(ours.as_str(), merge.as_str()).await,
    )?;
    ensure!(
        changed.is_empty(),
        "the merge should have ours's tree, but differs in {changed:?}"
    );
    let new = call(
        "commits_between(ours, merge)",
        h.vcs().commits_between(ours.as_str(), merge.as_str()).await,
    )?;
    let shas: Vec<&Sha> = new.iter().map(|c| &c.sha).collect();
    ensure!(
        shas == [&merge, &theirs],
        "the merge should have theirs as second parent: expected [merge, theirs], got {shas:?}"
    );
    ensure!(
        new[0].title == "Merge theirs with the ours strategy",
        "the merge title should be the message's first paragraph, got {:?}",
        new[0].title
    );
    ensure!(
        resolve(h, "origin/ct-ours").await? == ours,
        "merge_ours must not move any ref"
    );
    Ok(())
}

/// `revert_merge` creates a commit on top of the merge whose tree is the merge's first
/// parent's tree.
pub async fn revert_merge_restores_first_parent(h: &dyn VcsHarness) -> Outcome {
    let base = h
        .commit("ct-revert", "Base", "", &[("r.txt", "base")])
        .await?;
    h.branch("ct-revert-feature", &base).await?;
    let feature = h
        .commit(
            "ct-revert-feature",
            "Feature",
            "",
            &[("r.txt", "feature"), ("f.txt", "new")],
        )
        .await?;
    let merge = h.merge("ct-revert", &feature, "Merge the feature").await?;
    fetch(h).await?;
    let revert = call(
        "revert_merge",
        h.vcs()
            .revert_merge(
                &merge,
                "Revert \"Merge the feature\"\n\nThis reverts the merge.",
            )
            .await,
    )?;
    let vs_base = call(
        "files_changed(base, revert)",
        h.vcs().files_changed(base.as_str(), revert.as_str()).await,
    )?;
    ensure!(
        vs_base.is_empty(),
        "the revert should restore the first parent's tree, but differs in {vs_base:?}"
    );
    let vs_merge = call(
        "files_changed(merge, revert)",
        h.vcs().files_changed(merge.as_str(), revert.as_str()).await,
    )?;
    ensure!(
        vs_merge == ["f.txt", "r.txt"],
        "the revert should undo f.txt and r.txt, got {vs_merge:?}"
    );
    let on_top = call(
        "commits_between(merge, revert)",
        h.vcs()
            .commits_between(merge.as_str(), revert.as_str())
            .await,
    )?;
    ensure!(
        on_top.len() == 1 && on_top[0].sha == revert,
        "the revert should be one commit on top of the merge, got {on_top:?}"
    );
    ensure!(
        resolve(h, "origin/ct-revert").await? == merge,
        "revert_merge must not move any ref"
    );
    ensure!(
        h.vcs().revert_merge(&base, "Revert").await.is_err(),
        "reverting a commit that is not a merge should fail"
    );
    Ok(())
}

/// Tags are created once (Conflict on a second one of the same name) and pushed; pushing a
/// missing tag is NotFound; `tags_at` names the tags on a commit, and only those.
pub async fn tags_created_and_pushed(h: &dyn VcsHarness) -> Outcome {
    let a = h.commit("ct-tags", "Tagged", "", &[("t.txt", "t")]).await?;
    let b = h
        .commit("ct-tags", "Untagged", "", &[("u.txt", "u")])
        .await?;
    fetch(h).await?;
    call(
        "create_tag",
        h.vcs()
            .create_tag("ct-tag-1", &a, "ct-tag-1 release", false)
            .await,
    )?;
    call("push_tag", h.vcs().push_tag("origin", "ct-tag-1").await)?;
    ensure!(
        resolve(h, "ct-tag-1").await? == a,
        "the tag should point at {a}"
    );
    call(
        "create_tag",
        h.vcs()
            .create_tag("ct-tag-0", &a, "ct-tag-0 release", false)
            .await,
    )?;
    let on_a = call("tags_at", h.vcs().tags_at(&a).await)?;
    ensure!(
        on_a.iter()
            .filter(|t| t.starts_with("ct-tag-"))
            .collect::<Vec<_>>()
            == ["ct-tag-0", "ct-tag-1"],
        "tags_at({a}) should be [ct-tag-0, ct-tag-1], sorted; got {on_a:?}"
    );
    let on_b = call("tags_at", h.vcs().tags_at(&b).await)?;
    ensure!(
        on_b.iter().all(|t| !t.starts_with("ct-tag-")),
        "tags_at({b}) should name no ct-tag; got {on_b:?}"
    );
    expect_error(
        "create_tag(existing)",
        h.vcs().create_tag("ct-tag-1", &a, "again", false).await,
        ErrorKind::Conflict,
        "ct-tag-1",
    )?;
    expect_error(
        "push_tag(missing)",
        h.vcs().push_tag("origin", "ct-tag-missing").await,
        ErrorKind::NotFound,
        "ct-tag-missing",
    )
}

/// Runs every Vcs contract function, stopping at the first failure.
pub async fn all(h: &dyn VcsHarness) -> Outcome {
    macro_rules! run {
        ($($f:ident),* $(,)?) => {
            $( $f(h).await.map_err(|e| format!("{}: {e}", stringify!($f)))?; )*
        };
    }
    run!(
        resolve_revisions,
        commits_between_newest_first,
        files_changed_sorted,
        push_fast_forward_and_force,
        merge_ours_keeps_our_tree,
        revert_merge_restores_first_parent,
        tags_created_and_pushed,
    );
    Ok(())
}
