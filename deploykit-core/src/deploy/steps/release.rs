//! `create_release` and `open_revert`: the code-host side of the end of a deploy and of a
//! rollback, each exactly once (the host is asked before anything is created again).

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, Phase};
use crate::deploy::steps::StepBody;
use crate::error::{Error, Result};
use crate::ports::code_host::{NewPullRequest, NewRelease, PullRequestQuery};

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
    let target = state.facts.merge_sha.clone().ok_or_else(|| {
        Error::invalid_input("create_release needs the merge commit; none is recorded")
    })?;
    let name = format!("RC {rc}");
    let host = &ctx.ports.code_host;
    let tag = ctx.now().format("%Y-%m-%dT%H%M%S").to_string();
    let release = NewRelease {
        name: name.clone(),
        tag_name: tag,
        target,
        body: pr.body.clone(),
        make_latest: true,
    };
    let url: String = ctx
        .effect(
            "create_release",
            &format!("create the release {name}"),
            async || {
                let all = host.releases().await?;
                // Exact title match: `RC 11` must not match `RC 112`.
                Ok(all
                    .into_iter()
                    .find(|r| r.name.trim() == name)
                    .map(|r| r.html_url))
            },
            async || host.create_release(&release).await.map(|r| r.html_url),
        )
        .await?;
    Ok(StepBody::done(
        format!("released {name}: {url}"),
        vec![Fact::Release { url }],
    ))
}

pub(crate) async fn open_revert(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let Some(merge) = state.facts.merge_sha.clone() else {
        return Ok(StepBody::skipped(
            "no code was merged: revert the configuration change by hand if it was one, and \
             recycle again",
        ));
    };
    let app = &state.request.app;
    let rc = state.facts.rc();
    let branch = match rc {
        Some(rc) => format!("revert-rc-{rc}"),
        None => format!("revert-{}", merge.short()),
    };
    let what = rc
        .map(|r| format!("RC {r}"))
        .unwrap_or_else(|| merge.short().to_string());
    let reason = match &state.phase {
        Phase::RollingBack { reason } => reason.clone(),
        _ => String::new(),
    };
    let host = &ctx.ports.code_host;
    let vcs = &ctx.ports.vcs;
    let (number, url): (u64, String) = ctx
        .effect(
            "open_revert",
            &format!("open a PR reverting {what} on {}", app.production_branch),
            async || {
                let open = host
                    .pull_requests(&PullRequestQuery {
                        base: Some(app.production_branch.clone()),
                        head: Some(branch.clone()),
                        state: None,
                    })
                    .await?;
                Ok(open.first().map(|p| (p.number, p.html_url.clone())))
            },
            async || {
                vcs.fetch(&app.remote).await?;
                let revert = vcs
                    .revert_merge(&merge, &format!("Revert \"Deploy {what} to Production\""))
                    .await?;
                vcs.push(&app.remote, &revert, &branch, true).await?;
                let pr = host
                    .create_pull_request(&NewPullRequest {
                        title: format!("Revert {what} from {}", app.production_branch),
                        head: branch.clone(),
                        base: app.production_branch.clone(),
                        body: format!(
                            "Rolls {} back to the last deploy.\n\nReason: {reason}\n\nGet it \
                             approved and merged, then recycle (deploykit deploy) to put the \
                             known good code back on every instance.",
                            app.production_branch
                        ),
                    })
                    .await?;
                Ok((pr.number, pr.html_url))
            },
        )
        .await?;
    Ok(StepBody::done(
        format!("revert PR #{number} opened: {url}; get it approved, merged and deployed"),
        vec![Fact::RevertPr { number, url }],
    ))
}
