//! `report`: the summary of the run; after a successful deploy, the "deploy done"
//! announcement.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Phase};
use crate::deploy::steps::StepBody;
use crate::deploy::steps::announce::post;
use crate::error::Result;
use crate::ports::notifier::Announcement;

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
                    release_url: f.release_url.clone(),
                },
            )
            .await?;
            format!(
                "{} {} deployed to {}{}",
                req.app.name,
                f.rc()
                    .map(|r| format!("RC {r}"))
                    .unwrap_or_else(|| req.kind.words().to_string()),
                req.env,
                f.release_url
                    .as_ref()
                    .map(|u| format!("; release {u}"))
                    .unwrap_or_default()
            )
        }
        Phase::RollingBack { reason } => format!(
            "{} in {} rolled back: {reason}{}",
            req.app.name,
            req.env,
            f.revert_pr
                .as_ref()
                .map(|(n, u)| format!(
                    "; revert PR #{n} ({u}) must be approved, merged and deployed"
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
