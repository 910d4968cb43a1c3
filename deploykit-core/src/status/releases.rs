//! The last release candidate (from promotion PR titles and release titles) and the last
//! published release of an app.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::{AppSettings, ReleaseNumber};
use crate::ports::{CodeHost, PrState, PullRequest, PullRequestQuery, Release};
use crate::release::last_release_number;

/// A promotion PR, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrSummary {
    /// PR number.
    pub number: u64,
    /// Web page.
    pub url: String,
    /// Open or merged.
    pub state: PrState,
}

/// The newest release candidate that was cut.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastRc {
    /// Its number (0 when no RC was ever cut).
    pub number: ReleaseNumber,
    /// Its promotion PR, when one is found.
    pub pr: Option<PrSummary>,
    /// Whether a published release carries its number.
    pub released: bool,
}

/// The newest published release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastRelease {
    /// Title, e.g. `RC 111`.
    pub name: String,
    /// Tag, e.g. `2026-11-17T180102`.
    pub tag_name: String,
    /// Web page.
    pub url: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

/// The newest published (non-draft, non-prerelease) release, if any; `releases` newest
/// first as [`CodeHost::releases`] returns them.
pub fn last_release(releases: &[Release]) -> Option<LastRelease> {
    releases
        .iter()
        .find(|r| !r.draft && !r.prerelease)
        .map(|r| LastRelease {
            name: r.name.clone(),
            tag_name: r.tag_name.clone(),
            url: r.html_url.clone(),
            published_at: r.published_at,
        })
}

/// The RC numbers of promotion PRs (into the production branch, open or merged) whose
/// titles parse.
fn promotion_prs(
    prs: Vec<PullRequest>,
    settings: &AppSettings,
) -> Vec<(ReleaseNumber, PullRequest)> {
    prs.into_iter()
        .filter(|pr| pr.base == settings.production_branch && pr.state != PrState::Closed)
        .filter_map(|pr| {
            ReleaseNumber::from_pr_title(&pr.title)
                .ok()
                .map(|rc| (rc, pr))
        })
        .collect()
}

/// The newest RC: the highest number among published `RC <n>` releases and open or merged
/// promotion PRs, with its PR (`rc create` numbers after the releases and the merged ones).
pub async fn last_rc(
    code_host: &dyn CodeHost,
    settings: &AppSettings,
    releases: &[Release],
) -> Result<LastRc> {
    let released = last_release_number(releases);
    let query = PullRequestQuery {
        base: Some(settings.production_branch.clone()),
        head: None,
        state: None,
    };
    let prs = promotion_prs(code_host.pull_requests(&query).await?, settings);
    let newest_pr = prs.iter().map(|(rc, _)| *rc).max();
    let number = newest_pr.map_or(released, |n| n.max(released));
    let pr = prs
        .into_iter()
        .filter(|(rc, _)| *rc == number)
        .map(|(_, pr)| pr)
        // Prefer the merged PR, then the newest.
        .max_by_key(|pr| (pr.state == PrState::Merged, pr.number))
        .map(|pr| PrSummary {
            number: pr.number,
            url: pr.html_url,
            state: pr.state,
        });
    Ok(LastRc {
        number,
        pr,
        released: number == released && number != ReleaseNumber::ZERO,
    })
}
