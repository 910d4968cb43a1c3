//! True up a release candidate: merge the production branch into the RC branch, keeping the
//! RC branch's tree (`git merge -s ours`), so the promotion PR merges cleanly.

use crate::error::{Error, ErrorKind, Result};
use crate::model::{RcBranch, Sha};
use crate::release::{ReleaseContext, Writes, newest_promotion_pr, no_promotion_pr};

/// Which RC branch to true up.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrueUpRequest {
    /// The RC branch; default: the newest `stages/rc-*` head of the open promotion PR.
    pub rc_branch: Option<String>,
    /// Allow a force push when the remote RC branch refuses a fast-forward (RC branches only).
    pub force: bool,
    /// Do every read, no write.
    pub dry_run: bool,
}

/// What the true-up did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrueUpOutcome {
    /// The RC branch.
    pub branch: RcBranch,
    /// Its commit before the true-up.
    pub previous_sha: Sha,
    /// The production branch's tip that was merged.
    pub production_sha: Sha,
    /// The merge commit now at the RC branch's tip (`None` in a dry run or when nothing
    /// needed merging).
    pub new_sha: Option<Sha>,
    /// False when the RC branch already contained the production branch.
    pub merged: bool,
    /// Whether the push was forced.
    pub forced: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done), in order.
    pub actions: Vec<String>,
}

/// Refuses to true up (and so to push to) anything but an RC branch, and above all the
/// production branch.
fn rc_branch(name: &str, production_branch: &str) -> Result<RcBranch> {
    if name == production_branch {
        return Err(Error::unsafe_op(format!(
            "refusing to true up {name}: it is the production branch, which deploykit never \
             pushes to; name the stages/rc-* branch instead"
        )));
    }
    name.parse::<RcBranch>().map_err(|e| {
        Error::unsafe_op(format!(
            "refusing to true up {name}: it is not a release candidate branch, and only those \
             (stages/rc-YYYY-MM-DD[.N]) are trued up and pushed; name one with --branch, or \
             leave --branch out to true up the open promotion PR's branch"
        ))
        .with_source(e)
    })
}

/// Merges `<remote>/<production branch>` into the RC branch with the RC branch's tree and
/// pushes the merge to the RC branch.
pub async fn true_up(ctx: &ReleaseContext<'_>, request: &TrueUpRequest) -> Result<TrueUpOutcome> {
    let settings = ctx.settings;
    let branch = match &request.rc_branch {
        Some(name) => rc_branch(name, &settings.production_branch)?,
        None => {
            newest_promotion_pr(ctx.code_host, ctx.settings)
                .await?
                .ok_or_else(|| {
                    no_promotion_pr(
                        settings,
                        "or name the RC branch to true up with --branch \
                         stages/rc-YYYY-MM-DD[.N]",
                    )
                })?
                .1
        }
    };
    let branch_name = branch.to_string();
    // Checked again on the printed name: the push below must never reach production.
    rc_branch(&branch_name, &settings.production_branch)?;

    ctx.vcs.fetch(&settings.remote).await?;
    let previous_sha = ctx
        .vcs
        .resolve(&format!("{}/{branch_name}", settings.remote))
        .await?;
    let production_sha = ctx.vcs.resolve(&ctx.production_ref()).await?;
    let missing = ctx
        .vcs
        .commits_between(previous_sha.as_str(), production_sha.as_str())
        .await?;
    let mut writes = Writes::new(ctx, request.dry_run);
    if missing.is_empty() {
        ctx.info(format!(
            "{branch_name} already contains {}; nothing to true up",
            settings.production_branch
        ));
        return Ok(TrueUpOutcome {
            branch,
            previous_sha,
            production_sha,
            new_sha: None,
            merged: false,
            forced: false,
            dry_run: request.dry_run,
            actions: writes.into_list(),
        });
    }

    let message = format!(
        "Merge {} into {branch_name}\n\nTrue-up: keeps the release candidate's tree.",
        ctx.production_ref()
    );
    let mut new_sha = None;
    let mut forced = false;
    if writes.record(format!(
        "merge {} ({}) into {branch_name} keeping the RC tree, and push it to {}/{branch_name}",
        ctx.production_ref(),
        production_sha.short(),
        settings.remote
    )) {
        let merge = ctx
            .vcs
            .merge_ours(&previous_sha, &production_sha, &message)
            .await?;
        match ctx
            .vcs
            .push(&settings.remote, &merge, &branch_name, false)
            .await
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Conflict && request.force => {
                ctx.warning(format!(
                    "{branch_name} moved on the remote; force-pushing the true-up as asked"
                ));
                writes.record(format!(
                    "force-push {merge} to {}/{branch_name}",
                    settings.remote
                ));
                ctx.vcs
                    .push(&settings.remote, &merge, &branch_name, true)
                    .await?;
                forced = true;
            }
            Err(e) if e.kind() == ErrorKind::Conflict => {
                return Err(Error::conflict(format!(
                    "{branch_name} moved on the remote while truing up; run the true-up again, \
                     or pass --force to overwrite the RC branch"
                ))
                .with_source(e));
            }
            Err(e) => return Err(e),
        }
        // The push (or the force-push after it) is said once it went through.
        writes.done();
        new_sha = Some(merge);
    }
    Ok(TrueUpOutcome {
        branch,
        previous_sha,
        production_sha,
        new_sha,
        merged: true,
        forced,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSettings;
    use crate::ports::PrState;
    use crate::release::test_support::{Ports, commit, pull_request, sha};

    /// RC branch at `a`, production at `b`; `behind` says whether production has commits
    /// the RC branch lacks.
    fn reads(p: &mut Ports, branch: &'static str, behind: bool) {
        p.vcs.expect_fetch().times(1).returning(|_| Ok(()));
        p.vcs.expect_resolve().returning(move |rev| {
            if rev == format!("origin/{branch}") {
                Ok(sha('a'))
            } else if rev == "origin/stages/prod" {
                Ok(sha('b'))
            } else {
                Err(Error::not_found(rev.to_string()))
            }
        });
        p.vcs
            .expect_commits_between()
            .withf(|base, source| base == sha('a').as_str() && source == sha('b').as_str())
            .returning(move |_, _| {
                Ok(if behind {
                    vec![commit("Hotfix on prod", "")]
                } else {
                    vec![]
                })
            });
    }

    fn request(branch: &str) -> TrueUpRequest {
        TrueUpRequest {
            rc_branch: Some(branch.into()),
            ..TrueUpRequest::default()
        }
    }

    #[tokio::test]
    async fn true_up_merges_production_keeping_the_rc_tree_and_pushes_without_force() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, "stages/rc-2024-01-09", true);
        // `ours` (whose tree is kept) is the RC branch; `theirs` is production.
        p.vcs
            .expect_merge_ours()
            .withf(|ours, theirs, message| {
                *ours == sha('a')
                    && *theirs == sha('b')
                    && message.starts_with("Merge origin/stages/prod into stages/rc-2024-01-09")
            })
            .times(1)
            .returning(|_, _, _| Ok(sha('d')));
        p.vcs
            .expect_push()
            .withf(|remote, s, branch, force| {
                remote == "origin" && *s == sha('d') && branch == "stages/rc-2024-01-09" && !force
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        let outcome = true_up(&p.ctx(), &request("stages/rc-2024-01-09"))
            .await
            .expect("true-up");
        assert_eq!(outcome.new_sha, Some(sha('d')));
        assert_eq!(outcome.previous_sha, sha('a'));
        assert_eq!(outcome.production_sha, sha('b'));
        assert!(outcome.merged && !outcome.forced);
    }

    #[tokio::test]
    async fn production_and_other_branches_are_refused_before_any_git_call() {
        for branch in ["stages/prod", "main", "stages/rc-latest"] {
            let p = Ports::new(AppSettings::idp());
            let err = true_up(&p.ctx(), &request(branch)).await.expect_err(branch);
            assert_eq!(err.kind(), ErrorKind::Unsafe, "{branch}");
            assert!(err.to_string().contains(branch), "{err}");
        }
        let p = Ports::new(AppSettings::idp());
        let err = true_up(
            &p.ctx(),
            &TrueUpRequest {
                force: true,
                ..request("stages/prod")
            },
        )
        .await
        .expect_err("never production");
        assert!(err.to_string().contains("production branch"), "{err}");
    }

    #[tokio::test]
    async fn a_refused_push_is_forced_only_when_asked() {
        let build = |force: bool| {
            let mut p = Ports::new(AppSettings::idp());
            reads(&mut p, "stages/rc-2024-01-09.2", true);
            p.vcs.expect_merge_ours().returning(|_, _, _| Ok(sha('d')));
            p.vcs
                .expect_push()
                .withf(|_, _, _, force| !force)
                .times(1)
                .returning(|_, _, _, _| Err(Error::conflict("non-fast-forward")));
            if force {
                p.vcs
                    .expect_push()
                    .withf(|_, _, branch, force| *force && branch == "stages/rc-2024-01-09.2")
                    .times(1)
                    .returning(|_, _, _, _| Ok(()));
            }
            p
        };
        let p = build(false);
        let err = true_up(&p.ctx(), &request("stages/rc-2024-01-09.2"))
            .await
            .expect_err("not forced");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("--force"), "{err}");

        let p = build(true);
        let outcome = true_up(
            &p.ctx(),
            &TrueUpRequest {
                force: true,
                ..request("stages/rc-2024-01-09.2")
            },
        )
        .await
        .expect("forced");
        assert!(outcome.forced);
    }

    #[tokio::test]
    async fn the_default_branch_is_the_newest_rc_of_the_open_promotion_pr() {
        let mut p = Ports::new(AppSettings::idp());
        p.host.expect_pull_requests().returning(|query| {
            assert_eq!(query.base.as_deref(), Some("stages/prod"));
            assert_eq!(query.state, Some(PrState::Open));
            let mut unlabelled = pull_request(
                3,
                "Deploy RC 114 to Production",
                "stages/rc-2024-01-10",
                PrState::Open,
            );
            unlabelled.labels.clear();
            Ok(vec![
                pull_request(
                    1,
                    "Deploy RC 112 to Production",
                    "stages/rc-2024-01-02",
                    PrState::Open,
                ),
                pull_request(
                    2,
                    "Deploy RC 113 to Production",
                    "stages/rc-2024-01-09.2",
                    PrState::Open,
                ),
                unlabelled,
                pull_request(4, "Tidy", "feature/x", PrState::Open),
            ])
        });
        reads(&mut p, "stages/rc-2024-01-09.2", false);
        let outcome = true_up(&p.ctx(), &TrueUpRequest::default())
            .await
            .expect("true-up");
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09.2");
        // Production was already contained: nothing merged, nothing pushed.
        assert!(!outcome.merged);
        assert!(outcome.actions.is_empty());
    }

    #[tokio::test]
    async fn no_open_promotion_pr_is_not_found() {
        let mut p = Ports::new(AppSettings::idp());
        p.host.expect_pull_requests().returning(|_| Ok(vec![]));
        let err = true_up(&p.ctx(), &TrueUpRequest::default())
            .await
            .expect_err("none");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        // The way on names what `rc true-up` takes: an RC branch, not a PR.
        let message = err.to_string();
        assert!(
            message.contains("deploykit rc create")
                && message.contains("or name the RC branch to true up with --branch"),
            "{message}"
        );
        assert!(!message.contains(" PR or "), "{message}");
    }

    #[tokio::test]
    async fn a_branch_that_is_no_rc_branch_is_refused_in_a_whole_sentence() {
        let p = Ports::new(AppSettings::idp());
        let err = true_up(&p.ctx(), &request("nosuch"))
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        let message = err.to_string();
        assert!(
            message.starts_with("refusing to true up nosuch: it is not a release candidate")
                && message.ends_with("to true up the open promotion PR's branch"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_dry_run_neither_merges_nor_pushes() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, "stages/rc-2024-01-09", true);
        let outcome = true_up(
            &p.ctx(),
            &TrueUpRequest {
                dry_run: true,
                ..request("stages/rc-2024-01-09")
            },
        )
        .await
        .expect("dry run");
        assert_eq!(outcome.new_sha, None);
        assert_eq!(outcome.actions.len(), 1);
        assert!(p.actions().iter().all(|(_, dry_run)| *dry_run));
    }
}
