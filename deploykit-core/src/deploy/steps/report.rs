//! `report`: the summary of the run; after a successful deploy, the "deploy done"
//! announcement.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Phase};
use crate::deploy::steps::StepBody;
use crate::deploy::steps::announce::post;
use crate::error::Result;
use crate::ports::notifier::{Announcement, shipped_words};

pub(crate) async fn report(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let req = &state.request;
    let f = &state.facts;
    let mut facts = Vec::new();
    let summary = match &state.phase {
        Phase::Rollout => {
            facts = post(
                ctx,
                "deploy_done",
                Announcement::DeployDone {
                    app: req.app.name.clone(),
                    env: req.env.clone(),
                    rc: f.rc(),
                    reverted: f.reverted(),
                    release_url: f.release_url.clone(),
                },
            )
            .await?;
            let shipped = if f.rc().is_some() || f.reverted().is_some() {
                shipped_words(f.rc(), f.reverted())
            } else {
                req.kind.words().to_string()
            };
            format!(
                "{} {shipped} deployed to {}{}",
                req.app.name,
                req.env,
                f.release_url
                    .as_ref()
                    .map(|u| format!("; release {u}"))
                    .unwrap_or_default()
            )
        }
        Phase::RollingBack { reason } => format!(
            "{} in {} rolled back: {reason}{}{}",
            req.app.name,
            req.env,
            if f.new_code_stays.is_empty() {
                String::new()
            } else {
                format!(
                    "; the new code still serves in {} (the old instances were gone) until \
                     the revert is deployed",
                    f.new_code_stays
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            f.revert_pr
                .as_ref()
                .map(|(n, u)| format!(
                    "; revert PR #{n} ({u}): get it approved, then deploy it: {}",
                    super::release::deploy_revert_hint(state, *n)
                ))
                .unwrap_or_default()
        ),
        Phase::Stopping { reason, .. } => {
            let nothing = if state.is_standalone_rollback() {
                "nothing rolled back"
            } else {
                "nothing deployed"
            };
            format!("{} in {}: {nothing}: {reason}", req.app.name, req.env)
        }
    };
    ctx.info(summary.clone());
    Ok(StepBody::done(summary, facts))
}
