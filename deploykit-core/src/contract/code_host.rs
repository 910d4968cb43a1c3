//! The `CodeHost` contract: releases, labels, pull requests, reviews and merges.
//!
//! Release names start with `CT `, branches with `ct-`, labels with `ct-`, so the functions
//! can share one host with other data.

use async_trait::async_trait;

use crate::contract::{Outcome, call, ensure, expect_error, skip};
use crate::error::ErrorKind;
use crate::model::sha::Sha;
use crate::ports::{
    CodeHost, MergeMethod, NewPullRequest, NewRelease, PrState, PullRequestQuery, ReviewState,
};

/// The code host under test and the means to prepare its repository.
#[async_trait]
pub trait CodeHostHarness: Send + Sync {
    /// The code host under test.
    fn host(&self) -> &dyn CodeHost;
    /// Makes branches `base` and `head` exist in the repository, `head` one new commit ahead
    /// of `base`; returns `head`'s tip.
    async fn branches(&self, base: &str, head: &str) -> Result<Sha, String>;
    /// Adds an approving review of PR `number` by `user`.
    async fn approve(&self, number: u64, user: &str) -> Result<(), String>;
    /// The merge method the host was asked to use for PR `number`, if the harness can tell.
    async fn merge_method_used(&self, number: u64) -> Option<MergeMethod>;
}

fn new_release(name: &str, tag: &str, target: &Sha, make_latest: bool) -> NewRelease {
    NewRelease {
        name: name.to_string(),
        tag_name: tag.to_string(),
        target: target.clone(),
        body: format!("## Internal\n- Contract: {name}"),
        make_latest,
    }
}

fn new_pr(title: &str, head: &str, base: &str) -> NewPullRequest {
    NewPullRequest {
        title: title.to_string(),
        head: head.to_string(),
        base: base.to_string(),
        body: format!("Body of {title}"),
    }
}

/// `releases()` returns every release (more than one page of 30), newest first.
pub async fn releases_newest_first_across_pages(h: &dyn CodeHostHarness) -> Outcome {
    let target = h.branches("ct-rel-base", "ct-rel-head").await?;
    for i in 1..=35 {
        call(
            "create_release",
            h.host()
                .create_release(&new_release(
                    &format!("CT {i}"),
                    &format!("ct-rel-{i}"),
                    &target,
                    i == 35,
                ))
                .await,
        )?;
    }
    let all = call("releases", h.host().releases().await)?;
    let ours: Vec<&str> = all
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| n.starts_with("CT ") && n[3..].parse::<u32>().is_ok())
        .collect();
    let expected: Vec<String> = (1..=35).rev().map(|i| format!("CT {i}")).collect();
    ensure!(
        ours == expected,
        "releases() should list all 35 contract releases newest first (not only the first page \
         of 30); got {} in order {:?}",
        ours.len(),
        ours
    );
    Ok(())
}

/// `create_release` publishes a release with the given name, tag and notes; a second release
/// for the same tag is Conflict.
pub async fn create_release_publishes(h: &dyn CodeHostHarness) -> Outcome {
    let target = h.branches("ct-create-base", "ct-create-head").await?;
    let req = new_release("CT release", "ct-create-tag", &target, true);
    let r = call("create_release", h.host().create_release(&req).await)?;
    ensure!(
        r.name == req.name && r.tag_name == req.tag_name && r.body == req.body,
        "the created release should carry the requested name, tag and notes, got {r:?}"
    );
    ensure!(
        !r.draft && !r.prerelease && r.published_at.is_some(),
        "the created release should be published, got {r:?}"
    );
    let listed = call("releases", h.host().releases().await)?;
    ensure!(
        listed
            .iter()
            .any(|x| x.tag_name == req.tag_name && x.name == req.name),
        "the created release should be listed"
    );
    expect_error(
        "create_release(same tag)",
        h.host()
            .create_release(&new_release(
                "CT release again",
                "ct-create-tag",
                &target,
                false,
            ))
            .await,
        ErrorKind::Conflict,
        "ct-create-tag",
    )
}

/// `ensure_label` is idempotent; `add_labels` adds each label once.
pub async fn labels_are_idempotent(h: &dyn CodeHostHarness) -> Outcome {
    h.branches("ct-label-base", "ct-label-head").await?;
    call("ensure_label", h.host().ensure_label("ct-label").await)?;
    call(
        "ensure_label(again)",
        h.host().ensure_label("ct-label").await,
    )?;
    let pr = call(
        "create_pull_request",
        h.host()
            .create_pull_request(&new_pr("CT labels", "ct-label-head", "ct-label-base"))
            .await,
    )?;
    let labels = vec!["ct-label".to_string()];
    call("add_labels", h.host().add_labels(pr.number, &labels).await)?;
    call(
        "add_labels(again)",
        h.host().add_labels(pr.number, &labels).await,
    )?;
    let got = call("pull_request", h.host().pull_request(pr.number).await)?;
    ensure!(
        got.labels == labels,
        "the PR should carry ct-label exactly once, got {:?}",
        got.labels
    );
    Ok(())
}

/// Pull requests are created open, read back by number, listed newest first by base, head
/// and state; a duplicate open PR is Conflict; a missing number is NotFound.
pub async fn pull_requests_create_get_list(h: &dyn CodeHostHarness) -> Outcome {
    let head_sha = h.branches("ct-pr-base", "ct-pr-head").await?;
    h.branches("ct-pr-base", "ct-pr-head2").await?;
    let req = new_pr("CT first PR", "ct-pr-head", "ct-pr-base");
    let first = call(
        "create_pull_request",
        h.host().create_pull_request(&req).await,
    )?;
    ensure!(
        first.state == PrState::Open
            && first.title == req.title
            && first.body == req.body
            && first.head == req.head
            && first.base == req.base,
        "the created PR should be open with the requested title, body, head and base, got \
         {first:?}"
    );
    ensure!(
        first.head_sha.as_ref().is_none_or(|s| s.matches(&head_sha)),
        "the PR's head SHA should be the head branch's tip {head_sha}, got {:?}",
        first.head_sha
    );
    let got = call("pull_request", h.host().pull_request(first.number).await)?;
    ensure!(
        got.number == first.number && got.title == first.title,
        "pull_request({}) should return the PR just created, got {got:?}",
        first.number
    );
    let second = call(
        "create_pull_request(second)",
        h.host()
            .create_pull_request(&new_pr("CT second PR", "ct-pr-head2", "ct-pr-base"))
            .await,
    )?;
    let by_base = call(
        "pull_requests(base)",
        h.host()
            .pull_requests(&PullRequestQuery {
                base: Some("ct-pr-base".into()),
                ..Default::default()
            })
            .await,
    )?;
    let numbers: Vec<u64> = by_base.iter().map(|p| p.number).collect();
    ensure!(
        numbers == [second.number, first.number],
        "pull_requests(base ct-pr-base) should be [#{}, #{}] (newest first), got {numbers:?}",
        second.number,
        first.number
    );
    let by_head = call(
        "pull_requests(head, open)",
        h.host()
            .pull_requests(&PullRequestQuery {
                head: Some("ct-pr-head".into()),
                state: Some(PrState::Open),
                ..Default::default()
            })
            .await,
    )?;
    ensure!(
        by_head.iter().map(|p| p.number).collect::<Vec<_>>() == [first.number],
        "pull_requests(head ct-pr-head, open) should be [#{}], got {by_head:?}",
        first.number
    );
    let closed = call(
        "pull_requests(closed)",
        h.host()
            .pull_requests(&PullRequestQuery {
                base: Some("ct-pr-base".into()),
                state: Some(PrState::Closed),
                ..Default::default()
            })
            .await,
    )?;
    ensure!(
        closed.is_empty(),
        "no PR into ct-pr-base is closed, got {closed:?}"
    );
    expect_error(
        "create_pull_request(duplicate)",
        h.host().create_pull_request(&req).await,
        ErrorKind::Conflict,
        "ct-pr-head",
    )?;
    expect_error(
        "pull_request(missing)",
        h.host().pull_request(987_654_321).await,
        ErrorKind::NotFound,
        "987654321",
    )
}

/// Reviews are listed oldest first with user and verdict.
pub async fn reviews_listed(h: &dyn CodeHostHarness) -> Outcome {
    h.branches("ct-review-base", "ct-review-head").await?;
    let pr = call(
        "create_pull_request",
        h.host()
            .create_pull_request(&new_pr("CT reviews", "ct-review-head", "ct-review-base"))
            .await,
    )?;
    let none = call("reviews", h.host().reviews(pr.number).await)?;
    ensure!(none.is_empty(), "a new PR has no reviews, got {none:?}");
    h.approve(pr.number, "ct-reviewer").await?;
    let reviews = call("reviews", h.host().reviews(pr.number).await)?;
    ensure!(
        reviews.len() == 1
            && reviews[0].user == "ct-reviewer"
            && reviews[0].state == ReviewState::Approved,
        "the PR should have one approval by ct-reviewer, got {reviews:?}"
    );
    Ok(())
}

/// Merging returns the merge commit, marks the PR merged, uses the method asked for, and a
/// second merge is Conflict.
pub async fn merge_uses_the_method_once(h: &dyn CodeHostHarness) -> Outcome {
    h.branches("ct-merge-base", "ct-merge-head").await?;
    let pr = call(
        "create_pull_request",
        h.host()
            .create_pull_request(&new_pr("CT merge", "ct-merge-head", "ct-merge-base"))
            .await,
    )?;
    let sha = call(
        "merge_pull_request",
        h.host()
            .merge_pull_request(pr.number, MergeMethod::Merge)
            .await,
    )?;
    let got = call("pull_request", h.host().pull_request(pr.number).await)?;
    ensure!(
        got.state == PrState::Merged
            && got
                .merge_commit_sha
                .as_ref()
                .is_some_and(|m| m.matches(&sha)),
        "after merging, the PR should be merged with merge commit {sha}, got {got:?}"
    );
    expect_error(
        "merge_pull_request(again)",
        h.host()
            .merge_pull_request(pr.number, MergeMethod::Merge)
            .await,
        ErrorKind::Conflict,
        &pr.number.to_string(),
    )?;
    match h.merge_method_used(pr.number).await {
        Some(m) => ensure!(
            m == MergeMethod::Merge,
            "the host should have been asked for a merge commit, was asked for {m}"
        ),
        None => {
            skip(
                "merge_uses_the_method_once (method check)",
                "the harness cannot tell which merge method was used",
            )?;
        }
    }
    Ok(())
}

/// Runs every CodeHost contract function, stopping at the first failure.
pub async fn all(h: &dyn CodeHostHarness) -> Outcome {
    macro_rules! run {
        ($($f:ident),* $(,)?) => {
            $( $f(h).await.map_err(|e| format!("{}: {e}", stringify!($f)))?; )*
        };
    }
    run!(
        releases_newest_first_across_pages,
        create_release_publishes,
        labels_are_idempotent,
        pull_requests_create_get_list,
        reviews_listed,
        merge_uses_the_method_once,
    );
    Ok(())
}
