//! GitHub REST payloads (only the fields deploykit reads) and their conversion into core
//! types.

use chrono::{DateTime, Utc};
use deploykit_core::ports::{PrState, PullRequest, Release, Review, ReviewState};
use deploykit_core::{Error, Result, Sha};
use serde::Deserialize;

/// `GET /repos/{owner}/{repo}/releases` item.
#[derive(Debug, Deserialize)]
pub(crate) struct GhRelease {
    pub id: u64,
    pub name: Option<String>,
    pub tag_name: String,
    pub body: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: String,
}

impl From<GhRelease> for Release {
    fn from(r: GhRelease) -> Release {
        Release {
            id: r.id,
            name: r.name.unwrap_or_default(),
            tag_name: r.tag_name,
            body: r.body.unwrap_or_default(),
            draft: r.draft,
            prerelease: r.prerelease,
            published_at: r.published_at,
            html_url: r.html_url,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct GhRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GhLabel {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GhUser {
    pub login: String,
}

/// `GET /repos/{owner}/{repo}/pulls/{number}` (and list items, which lack `mergeable`).
#[derive(Debug, Deserialize)]
pub(crate) struct GhPull {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub head: GhRef,
    pub base: GhRef,
    #[serde(default)]
    pub labels: Vec<GhLabel>,
    #[serde(default)]
    pub html_url: String,
    pub user: Option<GhUser>,
    pub mergeable: Option<bool>,
}

fn optional_sha(field: &str, number: u64, value: Option<String>) -> Result<Option<Sha>> {
    value
        .filter(|s| !s.is_empty())
        .map(|s| {
            Sha::new(&s).map_err(|e| {
                Error::backend(format!(
                    "GitHub sent a bad {field} for pull request #{number}: {e}"
                ))
            })
        })
        .transpose()
}

impl TryFrom<GhPull> for PullRequest {
    type Error = Error;
    fn try_from(p: GhPull) -> Result<PullRequest> {
        let merged = p.merged_at.is_some();
        let state = match (p.state.as_str(), merged) {
            (_, true) => PrState::Merged,
            ("open", false) => PrState::Open,
            ("closed", false) => PrState::Closed,
            (other, _) => {
                return Err(Error::backend(format!(
                    "GitHub sent an unknown state {other:?} for pull request #{}",
                    p.number
                )));
            }
        };
        Ok(PullRequest {
            number: p.number,
            title: p.title,
            body: p.body.unwrap_or_default(),
            head: p.head.name,
            head_sha: optional_sha("head.sha", p.number, p.head.sha)?,
            base: p.base.name,
            state,
            // GitHub fills merge_commit_sha with a test merge while a PR is open.
            merge_commit_sha: if merged {
                optional_sha("merge_commit_sha", p.number, p.merge_commit_sha)?
            } else {
                None
            },
            mergeable: p.mergeable,
            labels: p.labels.into_iter().map(|l| l.name).collect(),
            html_url: p.html_url,
            author: p.user.map(|u| u.login),
        })
    }
}

/// `GET /repos/{owner}/{repo}/pulls/{number}/reviews` item.
#[derive(Debug, Deserialize)]
pub(crate) struct GhReview {
    pub user: Option<GhUser>,
    pub state: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl TryFrom<GhReview> for Review {
    type Error = Error;
    fn try_from(r: GhReview) -> Result<Review> {
        let state = match r.state.as_str() {
            "APPROVED" => ReviewState::Approved,
            "CHANGES_REQUESTED" => ReviewState::ChangesRequested,
            "COMMENTED" => ReviewState::Commented,
            "DISMISSED" => ReviewState::Dismissed,
            "PENDING" => ReviewState::Pending,
            other => {
                return Err(Error::backend(format!(
                    "GitHub sent an unknown review state {other:?}"
                )));
            }
        };
        Ok(Review {
            // A deleted account shows as GitHub's "ghost" user.
            user: r
                .user
                .map(|u| u.login)
                .unwrap_or_else(|| "ghost".to_string()),
            state,
            submitted_at: r.submitted_at,
        })
    }
}

/// `PUT /repos/{owner}/{repo}/pulls/{number}/merge` response.
#[derive(Debug, Deserialize)]
pub(crate) struct GhMergeResult {
    pub sha: Option<String>,
    #[serde(default)]
    pub merged: bool,
    #[serde(default)]
    pub message: String,
}

/// GitHub's error body.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GhErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<GhErrorDetail>,
}

/// One entry of `errors` in a 422 body; GitHub sends objects or, sometimes, plain strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum GhErrorDetail {
    Object {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        resource: Option<String>,
    },
    Text(String),
}
