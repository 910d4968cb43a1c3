//! `create_release` and `open_revert`: the release module's workflows, each run exactly once
//! per deploy (the code host is asked before anything is created again); and the reading of
//! the PR a run is given ([`read_named_pr`]).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, Phase};
use crate::deploy::steps::StepBody;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::code_host::{NewPullRequest, PrState, PullRequest, PullRequestQuery};
use crate::release::open_revert::how_to_ship_revert;
use crate::release::{
    CreateReleaseRequest, OpenRevertRequest, PrReference, ReleaseContext,
    create_release as release_create, open_revert as release_open_revert,
};

fn release_ctx<'a>(ctx: &'a StepContext<'a>, state: &'a DeployState) -> ReleaseContext<'a> {
    ReleaseContext {
        vcs: ctx.ports.vcs.as_ref(),
        code_host: ctx.ports.code_host.as_ref(),
        deploy_status: ctx.ports.deploy_status.as_ref(),
        notifier: ctx.ports.notifier.as_ref(),
        clock: ctx.ports.clock.as_ref(),
        events: ctx.events,
        settings: &state.request.app,
    }
}

pub(crate) async fn create_release(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let Some(pr) = &state.facts.pr else {
        return Ok(StepBody::skipped("no promotion PR: nothing to release"));
    };
    let Some(rc) = pr.rc else {
        return Ok(StepBody::skipped(format!(
            "PR #{}'s title has no RC number: create the release by hand",
            pr.number
        )));
    };
    let name = format!("RC {rc}");
    let host = &ctx.ports.code_host;
    let rctx = release_ctx(ctx, state);
    let request = CreateReleaseRequest {
        pr: PrReference {
            number: pr.number,
            repository: None,
        },
        dry_run: false,
    };
    let existing = async || -> Result<Option<String>> {
        let all = host.releases().await?;
        // Exact title match: `RC 11` must not match `RC 112`.
        Ok(all
            .into_iter()
            .find(|r| r.name.trim() == name)
            .map(|r| r.html_url))
    };
    let url: String = ctx
        .effect(
            "create_release",
            &format!("create the release {name}"),
            async || existing().await,
            async || match release_create(&rctx, &request).await {
                Ok(out) => out
                    .release
                    .map(|r| r.html_url)
                    .ok_or_else(|| Error::backend(format!("creating {name} returned no release"))),
                // Someone released it by hand while the run waited (paused for the smoke
                // tests, say): the release exists, as a resume after a crash would find it.
                Err(e) if e.kind() == ErrorKind::Conflict => match existing().await? {
                    Some(url) => {
                        ctx.warn(format!(
                            "{name} was already released ({url}), not by this run: kept as it \
                             is; check that it is the release of PR #{}",
                            pr.number
                        ));
                        Ok(url)
                    }
                    None => Err(e),
                },
                Err(e) => Err(e),
            },
        )
        .await?;
    Ok(StepBody::done(
        format!("released {name}: {url}"),
        vec![Fact::Release { url }],
    ))
}

pub(crate) async fn open_revert(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    if let Some(reverted) = state
        .facts
        .reverted()
        .filter(|_| !state.is_standalone_rollback())
    {
        return Ok(StepBody::skipped(format!(
            "a revert deploy is not reverted: {} keeps the revert of RC {reverted}, and new \
             instances boot it; find why its recycle failed and recycle again",
            state.request.app.production_branch
        )));
    }
    let Some(merge) = state.facts.merge_sha.clone() else {
        return Ok(StepBody::skipped(if state.is_standalone_rollback() {
            format!(
                "no promotion PR was named (--pr N; pr= in Python): {} was not reverted; if \
                 the recycle shipped code, revert it as the guide's steps to roll back say",
                state.request.app.production_branch
            )
        } else {
            "no code was merged: revert the configuration change by hand if it was one, and \
             recycle again"
                .to_string()
        }));
    };
    let app = &state.request.app;
    let rc = state.facts.rc();
    let host = &ctx.ports.code_host;
    let rctx = release_ctx(ctx, state);
    let reason = match &state.phase {
        Phase::RollingBack { reason } => reason.clone(),
        _ => String::new(),
    };
    let what = rc
        .map(|r| format!("RC {r}"))
        .unwrap_or_else(|| merge.short().to_string());
    let branch = rc.map(|r| format!("revert-rc-{r}"));
    // The revert PR from the branch, in `state` (`None`: any state).
    let find = async |state: Option<PrState>| -> Result<Option<(u64, String)>> {
        let Some(branch) = &branch else {
            return Ok(None);
        };
        let found = host
            .pull_requests(&PullRequestQuery {
                base: Some(app.production_branch.clone()),
                head: Some(branch.clone()),
                state,
            })
            .await?;
        Ok(found.first().map(|p| (p.number, p.html_url.clone())))
    };
    // Set when the revert PR was already open, opened by an earlier rollback of the RC.
    let reused = AtomicBool::new(false);
    let (number, url): (u64, String) = ctx
        .effect(
            "open_revert",
            &format!("open a PR reverting {what} on {}", app.production_branch),
            async || find(None).await,
            async || {
                let request = OpenRevertRequest { rc, dry_run: false };
                match release_open_revert(&rctx, &request).await {
                    Ok(out) => match (out.pr_number, out.pr_url) {
                        (Some(n), Some(u)) => Ok((n, u)),
                        _ => Err(Error::backend("opening the revert PR returned no PR")),
                    },
                    // The revert branch exists. Its PR is open already (an earlier rollback of
                    // the RC, `rollback --pr N` run twice): this run takes it on as its own.
                    // Or the branch was pushed but its PR not opened (a crash between the
                    // two): open the PR from that branch.
                    Err(e) if e.kind() == ErrorKind::Conflict && branch.is_some() => {
                        if let Some((n, u)) = find(Some(PrState::Open)).await? {
                            let text = format!(
                                "the revert PR of {what} is already open: #{n} ({u}), opened \
                                 before this run (an earlier rollback); this run takes it on \
                                 rather than opening another"
                            );
                            ctx.warn(text.clone());
                            ctx.note("warning", text)?;
                            reused.store(true, Ordering::Relaxed);
                            return Ok((n, u));
                        }
                        let head = branch.clone().unwrap_or_default();
                        let pr = host
                            .create_pull_request(&NewPullRequest {
                                title: format!("Revert {what}"),
                                head,
                                base: app.production_branch.clone(),
                                body: format!(
                                    "Rolls back {what}.\n\nReason: {reason}\n\n{}",
                                    how_to_ship_revert(app)
                                ),
                            })
                            .await?;
                        Ok((pr.number, pr.html_url))
                    }
                    // The workflow reverts the production branch's tip and refuses when it
                    // cannot tell it is a merge; the deploy knows the merge it made, so it
                    // reverts exactly that one.
                    Err(e) if e.kind() == ErrorKind::InvalidInput => {
                        ctx.warn(format!(
                            "the revert workflow refused ({e}); reverting the deploy's own merge \
                             {} directly",
                            merge.short()
                        ));
                        let head = branch
                            .clone()
                            .unwrap_or_else(|| format!("revert-{}", merge.short()));
                        let vcs = &ctx.ports.vcs;
                        vcs.fetch(&app.remote).await?;
                        let revert = vcs
                            .revert_merge(
                                &merge,
                                &format!(
                                    "Revert {what}\n\nThis reverts the merge of {what} into {} \
                                     ({merge}).",
                                    app.production_branch
                                ),
                            )
                            .await?;
                        vcs.push(&app.remote, &revert, &head, false).await?;
                        let pr = host
                            .create_pull_request(&NewPullRequest {
                                title: format!("Revert {what}"),
                                head,
                                base: app.production_branch.clone(),
                                body: format!(
                                    "Rolls back {what}: reverts the merge commit {merge}.\n\n\
                                     Reason: {reason}\n\n{}",
                                    how_to_ship_revert(app)
                                ),
                            })
                            .await?;
                        Ok((pr.number, pr.html_url))
                    }
                    Err(e) => Err(e),
                }
            },
        )
        .await?;
    let how = if reused.load(Ordering::Relaxed) {
        "was already open (opened by an earlier rollback)"
    } else {
        "opened"
    };
    Ok(StepBody::done(
        format!(
            "revert PR #{number} {how}: {url}; get it approved, then deploy it: {}",
            deploy_revert_hint(state, number)
        ),
        vec![Fact::RevertPr { number, url }],
    ))
}

/// How to deploy revert PR `number` of the run's app and environment, in both front ends'
/// words.
pub(crate) fn deploy_revert_hint(state: &DeployState, number: u64) -> String {
    format!(
        "`deploykit deploy {} {} --kind revert --pr {number}` (Python: kind=\"revert\", \
         pr={number})",
        state.request.env, state.request.app.name
    )
}

/// PR `number`, the one a run was given (`deploy --pr N`, `rollback --pr N`), as the code host
/// has it; `reading` says what for in retry lines. A number that names no pull request is bad
/// input, not a failed step: `Ok(Err(refusal))`, to refuse as InvalidInput, saying so with the
/// host's words, then `way_on` (what to give instead).
pub(crate) async fn read_named_pr(
    ctx: &StepContext<'_>,
    number: u64,
    reading: &str,
    way_on: &str,
) -> Result<std::result::Result<PullRequest, String>> {
    let host = &ctx.ports.code_host;
    match ctx
        .retry(reading, async || host.pull_request(number).await)
        .await
    {
        Ok(pr) => Ok(Ok(pr)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Err(format!(
            "PR #{number} does not exist ({}): {way_on}",
            e.message()
        ))),
        Err(e) => Err(e),
    }
}
