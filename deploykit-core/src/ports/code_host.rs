//! `CodeHost`: releases, labels and pull requests on GitHub (or a fake).

use std::fmt::{self, Debug};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::sha::Sha;

/// A published (or draft) release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Release {
    /// Host id.
    pub id: u64,
    /// Title, e.g. `RC 112`.
    pub name: String,
    /// Tag name, e.g. `2024-01-09T180102`.
    pub tag_name: String,
    /// Release notes.
    pub body: String,
    /// Draft releases are not published.
    pub draft: bool,
    /// Pre-releases are not production releases.
    pub prerelease: bool,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Web page of the release.
    pub html_url: String,
}

/// A release to create.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewRelease {
    /// Title, e.g. `RC 112`.
    pub name: String,
    /// Tag to create (or use, when it exists).
    pub tag_name: String,
    /// Commit the tag points at when it is created.
    pub target: Sha,
    /// Release notes.
    pub body: String,
    /// Mark as the latest release.
    pub make_latest: bool,
}

/// State of a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrState {
    /// Open.
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PullRequest {
    /// PR number.
    pub number: u64,
    /// Title, e.g. `Deploy RC 112 to Production`.
    pub title: String,
    /// Body (the changelog for promotion PRs).
    pub body: String,
    /// Head branch.
    pub head: String,
    /// Head commit.
    pub head_sha: Option<Sha>,
    /// Base branch.
    pub base: String,
    /// Open, closed or merged.
    pub state: PrState,
    /// The merge commit, once merged.
    pub merge_commit_sha: Option<Sha>,
    /// Whether the host can merge it cleanly (`None`: not computed yet).
    pub mergeable: Option<bool>,
    /// Label names.
    pub labels: Vec<String>,
    /// Web page.
    pub html_url: String,
    /// Author login.
    pub author: Option<String>,
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewPullRequest {
    /// Title.
    pub title: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Body.
    pub body: String,
}

/// Which pull requests to list.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PullRequestQuery {
    /// Only PRs into this base branch.
    pub base: Option<String>,
    /// Only PRs from this head branch.
    pub head: Option<String>,
    /// Only PRs in this state (`None`: all).
    pub state: Option<PrState>,
}

impl PullRequestQuery {
    /// The PRs into `base` in `state`, from any head.
    pub fn into_base(base: impl Into<String>, state: PrState) -> Self {
        PullRequestQuery {
            base: Some(base.into()),
            head: None,
            state: Some(state),
        }
    }
}

/// The verdict of one review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Approved.
    Approved,
    /// Changes requested.
    ChangesRequested,
    /// Comment only.
    Commented,
    /// Dismissed.
    Dismissed,
    /// Not submitted yet.
    Pending,
}

/// A review of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    /// Reviewer login.
    pub user: String,
    /// Verdict.
    pub state: ReviewState,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// How to merge a pull request. Promotion PRs are always merged with [`MergeMethod::Merge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMethod {
    /// A merge commit.
    Merge,
    /// One squashed commit.
    Squash,
    /// Rebased commits.
    Rebase,
}

impl fmt::Display for MergeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        })
    }
}

/// A code host holding one repository's releases and pull requests.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CodeHost: Send + Sync + Debug {
    /// Every release (all pages), newest first, drafts and pre-releases included.
    async fn releases(&self) -> Result<Vec<Release>>;
    /// Creates and publishes a release.
    async fn create_release(&self, release: &NewRelease) -> Result<Release>;
    /// Creates the label if it does not exist.
    async fn ensure_label(&self, name: &str) -> Result<()>;
    /// Adds labels to a pull request.
    async fn add_labels(&self, number: u64, labels: &[String]) -> Result<()>;
    /// Opens a pull request.
    async fn create_pull_request(&self, pr: &NewPullRequest) -> Result<PullRequest>;
    /// One pull request; NotFound when there is none with that number.
    async fn pull_request(&self, number: u64) -> Result<PullRequest>;
    /// Pull requests matching the query (all pages), newest first.
    async fn pull_requests(&self, query: &PullRequestQuery) -> Result<Vec<PullRequest>>;
    /// The reviews of a pull request, oldest first.
    async fn reviews(&self, number: u64) -> Result<Vec<Review>>;
    /// Merges a pull request; returns the merge commit. Conflict when it cannot be merged.
    async fn merge_pull_request(&self, number: u64, method: MergeMethod) -> Result<Sha>;
}
