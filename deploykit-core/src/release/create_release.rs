//! Create the release of a merged promotion PR (create-release, tag-release): `RC <N>` with
//! the PR's notes, tagged with the UTC time; signed tag first for apps that sign.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{ReleaseNumber, ReleaseStyle, Sha};
use crate::ports::{NewRelease, PrState, Release};
use crate::release::pr_reference::PrReference;
use crate::release::{ReleaseContext, Writes, rc_of};

/// Which PR to release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreateReleaseRequest {
    /// The merged promotion PR (number or URL).
    pub pr: PrReference,
    /// Do every read, no write.
    pub dry_run: bool,
}

/// The release created (or, in a dry run, planned).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreateReleaseOutcome {
    /// The RC released.
    pub rc: ReleaseNumber,
    /// The promotion PR.
    pub pr_number: u64,
    /// The release title, `RC <N>`.
    pub title: String,
    /// The tag, `YYYY-MM-DDTHHMMSS` in UTC.
    pub tag: String,
    /// The commit tagged.
    pub target: Sha,
    /// Whether the tag is a signed annotated tag pushed by deploykit.
    pub signed_tag: bool,
    /// The release, once created.
    pub release: Option<Release>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done), in order.
    pub actions: Vec<String>,
}

/// The tag name of a release made at `now`: `YYYY-MM-DDTHHMMSS` in UTC.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use deploykit_core::release::tag_name;
/// let now = Utc.with_ymd_and_hms(2024, 1, 9, 18, 1, 2).unwrap();
/// assert_eq!(tag_name(now), "2024-01-09T180102");
/// ```
pub fn tag_name(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H%M%S").to_string()
}

/// Creates the release of a merged promotion PR. Refuses unmerged PRs, PRs into another
/// branch, and an RC whose release (titled exactly `RC <N>`) exists already.
pub async fn create_release(
    ctx: &ReleaseContext<'_>,
    request: &CreateReleaseRequest,
) -> Result<CreateReleaseOutcome> {
    let settings = ctx.settings;
    let number = request.pr.number_in(&settings.repository)?;
    let pr = ctx.code_host.pull_request(number).await?;
    if pr.state != PrState::Merged {
        let state = match pr.state {
            PrState::Open => "still open",
            _ => "closed without merging",
        };
        return Err(Error::conflict(format!(
            "PR #{number} ({}) is {state}; a release is created only once the promotion PR \
             is merged into {}",
            pr.title, settings.production_branch
        ))
        .with("pr", number));
    }
    if pr.base != settings.production_branch {
        return Err(Error::invalid_input(format!(
            "PR #{number} was merged into {}, not into the production branch {}; \
             give the promotion PR",
            pr.base, settings.production_branch
        ))
        .with("pr", number));
    }
    let rc = rc_of(&pr)?;
    let title = format!("RC {rc}");
    let releases = ctx.code_host.releases().await?;
    if let Some(existing) = releases.iter().find(|r| r.name.trim() == title) {
        return Err(Error::conflict(format!(
            "a release titled {title:?} already exists ({}); nothing to do",
            existing.html_url
        ))
        .with("tag", &existing.tag_name));
    }
    let tag = tag_name(ctx.clock.now());
    let merge_commit = pr.merge_commit_sha.clone();
    let mut writes = Writes::new(ctx, request.dry_run);

    let (target, signed_tag) = match settings.release_style {
        ReleaseStyle::GithubRelease => {
            let target = merge_commit.ok_or_else(|| {
                Error::backend(format!(
                    "PR #{number} is merged but the code host gives no merge commit; \
                     try again in a minute"
                ))
            })?;
            (target, false)
        }
        ReleaseStyle::SignedTag => {
            ctx.vcs.fetch(&settings.remote).await?;
            let tip = ctx.vcs.resolve(&ctx.production_ref()).await?;
            if let Some(merge) = &merge_commit
                && !merge.matches(&tip)
            {
                ctx.warning(format!(
                    "{} is at {}, not at PR #{number}'s merge commit {}; tagging the branch tip",
                    settings.production_branch,
                    tip.short(),
                    merge.short()
                ));
            }
            let message = format!("{tag} release");
            if writes.announce(format!(
                "create the signed tag {tag} on {} ({})",
                settings.production_branch,
                tip.short()
            )) {
                ctx.vcs.create_tag(&tag, &tip, &message, true).await?;
            }
            if writes.announce(format!("push the tag {tag} to {}", settings.remote)) {
                ctx.vcs.push_tag(&settings.remote, &tag).await?;
            }
            (tip, true)
        }
    };

    let mut release = None;
    if writes.announce(format!(
        "publish the release {title:?} (tag {tag} on {}) as the latest",
        target.short()
    )) {
        release = Some(
            ctx.code_host
                .create_release(&NewRelease {
                    name: title.clone(),
                    tag_name: tag.clone(),
                    target: target.clone(),
                    body: pr.body.clone(),
                    make_latest: true,
                })
                .await?,
        );
    }
    Ok(CreateReleaseOutcome {
        rc,
        pr_number: number,
        title,
        tag,
        target,
        signed_tag,
        release,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}
