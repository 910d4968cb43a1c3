//! `scale_in_old` (production only): fleet_ops' scale-in of old instances for each recycled
//! group, after the spindown. Safe to repeat: instances already unprotected are not
//! candidates again.

use crate::deploy::context::StepContext;
use crate::deploy::state::DeployState;
use crate::deploy::steps::StepBody;
use crate::error::Result;
use crate::fleet_ops::{ScaleInMode, ScaleInRequest, scale_in};
use crate::model::names::RoleSelector;

pub(crate) async fn scale_in_old(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let mut lines = Vec::new();
    for r in &state.facts.recycled {
        let req = ScaleInRequest {
            env: state.request.env.clone(),
            roles: RoleSelector::Role(r.group.role.clone()),
            mode: ScaleInMode::Old,
            dry_run: false,
        };
        let outcome = ctx
            .act(
                &format!("scale_in_old/{}", r.group),
                &format!("scale in old instances of {}", r.group),
                async || scale_in(&ctx.fleet_ctx(), &req).await,
            )
            .await?;
        for g in outcome.groups {
            lines.push(format!(
                "{}: {} old removed, {} kept",
                g.group,
                g.removed.len(),
                g.kept.len()
            ));
        }
    }
    Ok(StepBody::done(lines.join("; "), vec![]))
}
