//! The last release candidate number, from the code host's releases (and the merged
//! promotion PRs not released yet).

use crate::error::Result;
use crate::model::{AppSettings, ReleaseNumber};
use crate::ports::{CodeHost, PrState, PullRequestQuery, Release};

/// The number of the newest published (non-draft, non-prerelease) release whose title reads
/// `RC <n>` or `RC <n>.<m>`; [`ReleaseNumber::ZERO`] when there is none. `releases` are newest
/// first, as [`crate::ports::CodeHost::releases`] returns them (every page).
pub fn last_release_number(releases: &[crate::ports::Release]) -> ReleaseNumber {
    releases
        .iter()
        .filter(|r: &&Release| !r.draft && !r.prerelease)
        .find_map(|r| ReleaseNumber::from_release_title(&r.name).ok())
        .unwrap_or(ReleaseNumber::ZERO)
}

/// The newest promotion PR merged into the production branch whose RC is newer than
/// `released` (the last release): a deploy of it is still going on (the release comes at its
/// end) or was rolled back (never released). Its RC and PR number. The next RC is numbered
/// after it, so that two promotion PRs never carry the same RC.
pub async fn merged_unreleased(
    code_host: &dyn CodeHost,
    settings: &AppSettings,
    released: ReleaseNumber,
) -> Result<Option<(ReleaseNumber, u64)>> {
    let query = PullRequestQuery::into_base(settings.production_branch.clone(), PrState::Merged);
    Ok(code_host
        .pull_requests(&query)
        .await?
        .into_iter()
        .filter(|pr| pr.state == PrState::Merged && pr.base == settings.production_branch)
        .filter_map(|pr| {
            ReleaseNumber::from_pr_title(&pr.title)
                .ok()
                .map(|rc| (rc, pr.number))
        })
        .filter(|(rc, _)| *rc > released)
        .max())
}
