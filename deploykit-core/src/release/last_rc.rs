//! The last release candidate number, from the code host's releases.

use crate::model::ReleaseNumber;
use crate::ports::Release;

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
