//! The guide's "steps to roll back" as a PR: revert the production branch's top merge on a
//! new branch `revert-rc-<N>` and open a PR `Revert RC <N>` into the production branch.

use crate::error::{Error, ErrorKind, Result};
use crate::model::{ReleaseNumber, Sha};
use crate::ports::{NewPullRequest, PrState, PullRequestQuery};
use crate::release::{ReleaseContext, Writes};

/// What to roll back.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenRevertRequest {
    /// The RC being rolled back; default: from the merged promotion PR whose merge commit is
    /// the production branch's tip.
    pub rc: Option<ReleaseNumber>,
    /// Do every read, no write.
    pub dry_run: bool,
}

/// The revert PR opened (or planned).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenRevertOutcome {
    /// The RC rolled back.
    pub rc: ReleaseNumber,
    /// The merge commit reverted (the production branch's tip).
    pub merge_sha: Sha,
    /// The revert commit (`None` in a dry run).
    pub revert_sha: Option<Sha>,
    /// The branch holding the revert.
    pub branch: String,
    /// The PR's number, once opened.
    pub pr_number: Option<u64>,
    /// The PR's link, once opened.
    pub pr_url: Option<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done), in order.
    pub actions: Vec<String>,
}

/// Whether `rev` resolves; other errors than NotFound are passed on.
async fn resolves(ctx: &ReleaseContext<'_>, rev: &str) -> Result<bool> {
    match ctx.vcs.resolve(rev).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The RC whose promotion PR was merged as `merge`.
async fn rc_merged_as(ctx: &ReleaseContext<'_>, merge: &Sha) -> Result<Option<ReleaseNumber>> {
    let query =
        PullRequestQuery::into_base(ctx.settings.production_branch.clone(), PrState::Merged);
    let prs = ctx.code_host.pull_requests(&query).await?;
    Ok(prs
        .iter()
        .filter(|pr| {
            pr.merge_commit_sha
                .as_ref()
                .is_some_and(|m| m.matches(merge))
        })
        .find_map(|pr| ReleaseNumber::from_pr_title(&pr.title).ok()))
}

/// What a revert PR's body tells its reader to do: get it approved and deploy it as a revert
/// deploy (which merges it and recycles), then hold the retrospective.
pub fn how_to_ship_revert(settings: &crate::model::AppSettings) -> String {
    format!(
        "Get this PR approved, then deploy it with `deploykit deploy <production environment> \
         {} --kind revert`: it merges this PR into {} (with a merge commit) and recycles, on any \
         day, and creates no release. Then schedule a blameless retrospective.",
        settings.name, settings.production_branch
    )
}

/// Reverts the production branch's top merge commit onto `revert-rc-<N>` and opens the PR.
/// Refuses when the tip is not a merge of two parents.
pub async fn open_revert(
    ctx: &ReleaseContext<'_>,
    request: &OpenRevertRequest,
) -> Result<OpenRevertOutcome> {
    let settings = ctx.settings;
    ctx.vcs.fetch(&settings.remote).await?;
    let production_ref = ctx.production_ref();
    let merge_sha = ctx.vcs.resolve(&production_ref).await?;
    let is_merge = resolves(ctx, &format!("{merge_sha}^2")).await?
        && !resolves(ctx, &format!("{merge_sha}^3")).await?;
    if !is_merge {
        return Err(Error::invalid_input(format!(
            "the tip of {production_ref} ({}) is not a merge of two parents, so it is not a \
             merged promotion PR; revert by hand (git revert) or check the branch",
            merge_sha.short()
        ))
        .with("sha", &merge_sha));
    }
    let rc = match request.rc {
        Some(rc) => rc,
        None => rc_merged_as(ctx, &merge_sha).await?.ok_or_else(|| {
            Error::invalid_input(format!(
                "no merged promotion PR has {} as its merge commit, so the RC number is \
                 unknown; name the promotion PR that shipped it (its title carries the RC \
                 number: `deploykit rollback ... --pr N`), or revert the merge by hand (git \
                 revert -m 1 {})",
                merge_sha.short(),
                merge_sha.short()
            ))
        })?,
    };
    let branch = format!("revert-rc-{rc}");
    if ctx
        .vcs
        .remote_branch_exists(&settings.remote, &branch)
        .await?
    {
        return Err(Error::conflict(format!(
            "{}/{branch} already exists; a revert PR may be open already. Delete the branch \
             to open a new one",
            settings.remote
        )));
    }
    let title = rc.revert_title();
    let message = format!(
        "{title}\n\nThis reverts the merge of RC {rc} into {} ({merge_sha}).",
        settings.production_branch
    );
    let body = format!(
        "Rolls back RC {rc}: reverts the merge commit {merge_sha} at the tip of {}.\n\n{}",
        settings.production_branch,
        how_to_ship_revert(settings)
    );

    let mut writes = Writes::new(ctx, request.dry_run);
    let mut revert_sha = None;
    let mut pr_number = None;
    let mut pr_url = None;
    if writes.record(format!(
        "revert {} and push the revert to {}/{branch}",
        merge_sha.short(),
        settings.remote
    )) {
        let revert = ctx.vcs.revert_merge(&merge_sha, &message).await?;
        ctx.vcs
            .push(&settings.remote, &revert, &branch, false)
            .await?;
        revert_sha = Some(revert);
        writes.done();
    }
    if writes.record(format!(
        "open PR {title:?} from {branch} into {}",
        settings.production_branch
    )) {
        let pr = ctx
            .code_host
            .create_pull_request(&NewPullRequest {
                title,
                head: branch.clone(),
                base: settings.production_branch.clone(),
                body,
            })
            .await?;
        pr_number = Some(pr.number);
        pr_url = Some(pr.html_url);
        writes.done();
    }
    Ok(OpenRevertOutcome {
        rc,
        merge_sha,
        revert_sha,
        branch,
        pr_number,
        pr_url,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSettings;
    use crate::release::test_support::{Ports, pull_request, sha};

    /// Production's tip is `e`; `parents` is how many parents it has.
    fn reads(p: &mut Ports, parents: u32) {
        p.vcs.expect_fetch().times(1).returning(|_| Ok(()));
        p.vcs.expect_resolve().returning(move |rev| {
            let e = sha('e');
            if rev == "origin/stages/prod" {
                Ok(e)
            } else if rev == format!("{e}^2") && parents >= 2 {
                Ok(sha('2'))
            } else if rev == format!("{e}^3") && parents >= 3 {
                Ok(sha('3'))
            } else {
                Err(Error::not_found(rev.to_string()))
            }
        });
    }

    fn merged_prs(p: &mut Ports) {
        p.host.expect_pull_requests().returning(|query| {
            assert_eq!(query.state, Some(PrState::Merged));
            let mut older = pull_request(
                1,
                "Deploy RC 111 to Production",
                "stages/rc-2024-01-02",
                PrState::Merged,
            );
            older.merge_commit_sha = Some(sha('d'));
            Ok(vec![
                pull_request(
                    2,
                    "Deploy RC 112 to Production",
                    "stages/rc-2024-01-09",
                    PrState::Merged,
                ),
                older,
            ])
        });
    }

    #[tokio::test]
    async fn the_top_merge_is_reverted_on_a_new_branch_with_a_pr() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, 2);
        merged_prs(&mut p);
        p.vcs
            .expect_remote_branch_exists()
            .withf(|_, branch| branch == "revert-rc-112")
            .returning(|_, _| Ok(false));
        p.vcs
            .expect_revert_merge()
            .withf(|merge, message| *merge == sha('e') && message.starts_with("Revert RC 112"))
            .times(1)
            .returning(|_, _| Ok(sha('f')));
        p.vcs
            .expect_push()
            .withf(|remote, s, branch, force| {
                remote == "origin" && *s == sha('f') && branch == "revert-rc-112" && !force
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        p.host
            .expect_create_pull_request()
            .times(1)
            .returning(|new| {
                assert_eq!(new.title, "Revert RC 112");
                assert_eq!(new.head, "revert-rc-112");
                assert_eq!(new.base, "stages/prod");
                assert!(new.body.contains(sha('e').as_str()));
                Ok(pull_request(9800, &new.title, &new.head, PrState::Open))
            });
        let outcome = open_revert(&p.ctx(), &OpenRevertRequest::default())
            .await
            .expect("revert PR");
        assert_eq!(outcome.rc.to_string(), "112");
        assert_eq!(outcome.revert_sha, Some(sha('f')));
        assert_eq!(outcome.pr_number, Some(9800));
    }

    #[tokio::test]
    async fn a_tip_that_is_not_a_two_parent_merge_is_refused() {
        for parents in [1, 3] {
            let mut p = Ports::new(AppSettings::idp());
            reads(&mut p, parents);
            let err = open_revert(&p.ctx(), &OpenRevertRequest::default())
                .await
                .expect_err("not a merge");
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains("not a merge"), "{err}");
        }
    }

    #[tokio::test]
    async fn an_existing_revert_branch_is_a_conflict_and_a_dry_run_writes_nothing() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, 2);
        p.vcs
            .expect_remote_branch_exists()
            .returning(|_, _| Ok(true));
        let request = OpenRevertRequest {
            rc: Some("112".parse().expect("rc")),
            dry_run: false,
        };
        let err = open_revert(&p.ctx(), &request).await.expect_err("exists");
        assert_eq!(err.kind(), ErrorKind::Conflict);

        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, 2);
        p.vcs
            .expect_remote_branch_exists()
            .returning(|_, _| Ok(false));
        let outcome = open_revert(
            &p.ctx(),
            &OpenRevertRequest {
                dry_run: true,
                ..request
            },
        )
        .await
        .expect("dry run");
        assert_eq!(outcome.branch, "revert-rc-112");
        assert_eq!((outcome.revert_sha, outcome.pr_number), (None, None));
        assert_eq!(outcome.actions.len(), 2);
    }
}
