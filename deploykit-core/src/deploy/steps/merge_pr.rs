//! `merge_pr`: merge the promotion PR with a merge commit (never squashed), exactly once.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact};
use crate::deploy::steps::StepBody;
use crate::error::{Error, Result};
use crate::model::sha::Sha;
use crate::ports::code_host::{MergeMethod, PrState};

pub(crate) async fn merge_pr(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let pr = state.facts.pr.as_ref().ok_or_else(|| {
        Error::invalid_input("merge_pr needs the promotion PR found by preflight; none is recorded")
    })?;
    let number = pr.number;
    let host = &ctx.ports.code_host;
    let sha: Sha = ctx
        .effect(
            &format!("merge_pr/#{number}"),
            &format!(
                "merge PR #{number} into {} (merge commit, not squashed)",
                state.request.app.production_branch
            ),
            async || {
                let now = host.pull_request(number).await?;
                Ok(match (now.state, now.merge_commit_sha) {
                    (PrState::Merged, Some(sha)) => Some(sha),
                    _ => None,
                })
            },
            async || host.merge_pull_request(number, MergeMethod::Merge).await,
        )
        .await?;
    Ok(StepBody::done(
        format!("PR #{number} merged as {}", sha.short()),
        vec![Fact::Merged { sha }],
    ))
}
