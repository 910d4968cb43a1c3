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
    now.format(TAG_FORMAT).to_string()
}

/// How a release tag names its time (UTC).
const TAG_FORMAT: &str = "%Y-%m-%dT%H%M%S";

/// The newest release tag (`YYYY-MM-DDTHHMMSS`) on `tip` that no release uses: what a release
/// of a signed-tag app that stopped between its tag and its release left.
async fn leftover_release_tag(
    ctx: &ReleaseContext<'_>,
    tip: &Sha,
    releases: &[Release],
) -> Result<Option<String>> {
    let is_release_tag = |t: &str| chrono::NaiveDateTime::parse_from_str(t, TAG_FORMAT).is_ok();
    Ok(ctx
        .vcs
        .tags_at(tip)
        .await?
        .into_iter()
        .filter(|t| is_release_tag(t) && releases.iter().all(|r| &r.tag_name != t))
        .max())
}

/// Creates the release of a merged promotion PR. Refuses unmerged PRs, PRs into another
/// branch, and an RC whose release (titled exactly `RC <N>`) exists already. For an app that
/// signs its tags, a release tag already on the production tip that no release uses (left by
/// a run that stopped before publishing) is pushed and used instead of tagging again.
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
    let mut tag = tag_name(ctx.clock.now());
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
            match leftover_release_tag(ctx, &tip, &releases).await? {
                Some(left) => {
                    ctx.warning(format!(
                        "the release tag {left} is already on {} with no release of its own (a \
                         release create that stopped before publishing?): using it instead of \
                         tagging again",
                        tip.short()
                    ));
                    tag = left;
                }
                None => {
                    let message = format!("{tag} release");
                    if writes.record(format!(
                        "create the signed tag {tag} on {} ({})",
                        settings.production_branch,
                        tip.short()
                    )) {
                        ctx.vcs.create_tag(&tag, &tip, &message, true).await?;
                        writes.done();
                    }
                }
            }
            if writes.record(format!("push the tag {tag} to {}", settings.remote)) {
                ctx.vcs.push_tag(&settings.remote, &tag).await?;
                writes.done();
            }
            (tip, true)
        }
    };

    let mut release = None;
    if writes.record(format!(
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
        writes.done();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::model::AppSettings;
    use crate::release::test_support::{Ports, pull_request, release, sha};

    fn request(pr: &str, dry_run: bool) -> CreateReleaseRequest {
        CreateReleaseRequest {
            pr: pr.parse().expect("pr reference"),
            dry_run,
        }
    }

    fn merged_pr(p: &mut Ports, title: &'static str) {
        p.host.expect_pull_request().returning(move |n| {
            Ok(pull_request(
                n,
                title,
                "stages/rc-2024-01-09",
                PrState::Merged,
            ))
        });
    }

    #[tokio::test]
    async fn github_release_targets_the_merge_commit_with_the_pr_notes() {
        let mut p = Ports::new(AppSettings::idp());
        merged_pr(&mut p, "Deploy RC 112 to Production");
        p.host.expect_releases().returning(|| {
            Ok(vec![
                release("RC 11", false, false),
                release("RC 1120", false, false),
                release("RC 112.1", false, false),
            ])
        });
        p.host.expect_create_release().times(1).returning(|new| {
            assert_eq!(new.name, "RC 112");
            assert_eq!(new.tag_name, "2024-01-09T180102");
            assert_eq!(new.target, sha('e'));
            assert_eq!(new.body, "## Internal\n- Code: Change");
            assert!(new.make_latest);
            Ok(release(&new.name, false, false))
        });
        let outcome = create_release(
            &p.ctx(),
            &request("https://github.com/18F/identity-idp/pull/9603", false),
        )
        .await
        .expect("release");
        assert_eq!(outcome.tag, "2024-01-09T180102");
        assert_eq!(outcome.title, "RC 112");
        assert!(!outcome.signed_tag);
        assert!(outcome.release.is_some());
    }

    #[tokio::test]
    async fn an_existing_release_with_exactly_that_title_is_refused() {
        let mut p = Ports::new(AppSettings::idp());
        merged_pr(&mut p, "Deploy RC 11 to Production");
        p.host.expect_releases().returning(|| {
            Ok(vec![
                release("RC 112", false, false),
                release("RC 11", false, false),
            ])
        });
        let err = create_release(&p.ctx(), &request("9603", false))
            .await
            .expect_err("exists");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("\"RC 11\""), "{err}");
    }

    #[tokio::test]
    async fn rc_11_is_not_taken_by_rc_112() {
        let mut p = Ports::new(AppSettings::idp());
        merged_pr(&mut p, "Deploy RC 11 to Production");
        p.host.expect_releases().returning(|| {
            Ok(vec![
                release("RC 112", false, false),
                release("RC 11.1", false, false),
            ])
        });
        let outcome = create_release(&p.ctx(), &request("9603", true))
            .await
            .expect("RC 11 is free");
        assert_eq!(outcome.title, "RC 11");
    }

    #[tokio::test]
    async fn unmerged_prs_are_refused() {
        for state in [PrState::Open, PrState::Closed] {
            let mut p = Ports::new(AppSettings::idp());
            p.host.expect_pull_request().returning(move |n| {
                Ok(pull_request(
                    n,
                    "Deploy RC 112 to Production",
                    "stages/rc-2024-01-09",
                    state,
                ))
            });
            let err = create_release(&p.ctx(), &request("9603", false))
                .await
                .expect_err("unmerged");
            assert_eq!(err.kind(), ErrorKind::Conflict);
            assert!(err.to_string().contains("merged"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_pr_link_of_another_repository_is_refused() {
        let p = Ports::new(AppSettings::idp());
        let err = create_release(
            &p.ctx(),
            &request("https://github.com/18F/identity-pki/pull/5", false),
        )
        .await
        .expect_err("other repo");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn pki_signs_and_pushes_a_tag_on_the_production_tip_then_releases() {
        let mut p = Ports::new(AppSettings::pki());
        merged_pr(&mut p, "Deploy RC 40 to Prod");
        p.host.expect_releases().returning(|| Ok(vec![]));
        p.vcs.expect_fetch().times(1).returning(|_| Ok(()));
        p.vcs
            .expect_resolve()
            .withf(|rev| rev == "origin/stages/prod")
            .returning(|_| Ok(sha('e')));
        p.vcs
            .expect_tags_at()
            .withf(|target| *target == sha('e'))
            .returning(|_| Ok(vec!["v0-not-a-release-tag".into()]));
        let mut seq = mockall::Sequence::new();
        p.vcs
            .expect_create_tag()
            .withf(|name, target, message, signed| {
                name == "2024-01-09T180102"
                    && *target == sha('e')
                    && message == "2024-01-09T180102 release"
                    && *signed
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _, _| Ok(()));
        p.vcs
            .expect_push_tag()
            .withf(|remote, name| remote == "origin" && name == "2024-01-09T180102")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        p.host
            .expect_create_release()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|new| {
                assert_eq!(new.name, "RC 40");
                assert_eq!(new.tag_name, "2024-01-09T180102");
                Ok(release(&new.name, false, false))
            });
        let outcome = create_release(&p.ctx(), &request("17", false))
            .await
            .expect("release");
        assert!(outcome.signed_tag);
        assert_eq!(outcome.actions.len(), 3);
    }

    #[tokio::test]
    async fn a_release_run_again_uses_the_tag_a_stopped_run_left_on_the_tip() {
        // The run before pushed 2024-01-09T170000 and stopped before the release. The tip also
        // carries RC 39's tag (a release uses it) and a tag of another kind.
        let mut p = Ports::new(AppSettings::pki());
        merged_pr(&mut p, "Deploy RC 40 to Prod");
        p.host.expect_releases().returning(|| {
            let mut rc_39 = release("RC 39", false, false);
            rc_39.tag_name = "2024-01-09T160000".into();
            Ok(vec![rc_39])
        });
        p.vcs.expect_fetch().returning(|_| Ok(()));
        p.vcs.expect_resolve().returning(|_| Ok(sha('e')));
        p.vcs.expect_tags_at().returning(|_| {
            Ok(vec![
                "2024-01-09T160000".into(),
                "2024-01-09T170000".into(),
                "v40".into(),
            ])
        });
        // No create_tag expectation: tagging again would panic the mock.
        p.vcs
            .expect_push_tag()
            .withf(|remote, name| remote == "origin" && name == "2024-01-09T170000")
            .times(1)
            .returning(|_, _| Ok(()));
        p.host
            .expect_create_release()
            .withf(|new| new.name == "RC 40" && new.tag_name == "2024-01-09T170000")
            .times(1)
            .returning(|new| Ok(release(&new.name, false, false)));
        let outcome = create_release(&p.ctx(), &request("17", false))
            .await
            .expect("release");
        assert_eq!(outcome.tag, "2024-01-09T170000");
        assert_eq!(outcome.actions.len(), 2, "{:?}", outcome.actions);
    }

    #[tokio::test]
    async fn a_dry_run_tags_and_releases_nothing() {
        let mut p = Ports::new(AppSettings::pki());
        merged_pr(&mut p, "Deploy RC 40 to Prod");
        p.host.expect_releases().returning(|| Ok(vec![]));
        p.vcs.expect_fetch().returning(|_| Ok(()));
        p.vcs.expect_resolve().returning(|_| Ok(sha('e')));
        p.vcs.expect_tags_at().returning(|_| Ok(vec![]));
        let outcome = create_release(&p.ctx(), &request("17", true))
            .await
            .expect("dry run");
        assert_eq!(outcome.release, None);
        assert_eq!(outcome.actions.len(), 3);
        assert!(p.actions().iter().all(|(_, dry_run)| *dry_run));
    }

    #[test]
    fn tag_names_are_utc_times() {
        let now = crate::release::test_support::at(2023, 11, 16, 9, 5, 7);
        assert_eq!(tag_name(now), "2023-11-16T090507");
    }
}
