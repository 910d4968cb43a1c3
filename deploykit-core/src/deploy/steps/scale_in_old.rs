//! `scale_in_old` (production only): fleet_ops' scale-in of old instances for each recycled
//! group, after the spindown, and of the migration instance a protecting migration group
//! kept past its spindown (as `deploykit scale-in old` does). Safe to repeat: instances
//! already unprotected are not candidates again.

use crate::deploy::context::StepContext;
use crate::deploy::state::DeployState;
use crate::deploy::steps::StepBody;
use crate::error::{ErrorKind, Result};
use crate::fleet_ops::{ScaleInMode, ScaleInRequest, scale_in};
use crate::model::names::{RoleName, RoleSelector};

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
                "{}: {} old unprotected for Auto Scaling to terminate, {} kept",
                g.group,
                g.removed.len(),
                g.kept.len()
            ));
        }
    }
    // The migration instance: its group's spindown takes desired back to 0, but a group that
    // protects its instances from scale-in keeps it running, and the next recycle would be
    // refused over it.
    let migrated =
        state.request.kind.runs_migrations() && state.request.app.roles.iter().any(|r| r.migrates);
    if migrated {
        let req = ScaleInRequest {
            env: state.request.env.clone(),
            roles: RoleSelector::Role(RoleName::migration()),
            mode: ScaleInMode::Old,
            dry_run: false,
        };
        let group = format!("{}-migration", state.request.env);
        let outcome = ctx
            .act(
                "scale_in_old/migration",
                &format!("scale in {group}'s old instances (a migration instance kept past its spindown, if any)"),
                async || match scale_in(&ctx.fleet_ctx(), &req).await {
                    // No migration group in this environment: nothing was left.
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    other => other.map(Some),
                },
            )
            .await?;
        let removed: usize = outcome
            .iter()
            .flat_map(|o| &o.groups)
            .map(|g| g.removed.len())
            .sum();
        if removed > 0 {
            lines.push(format!(
                "{group}: the migration instance unprotected for Auto Scaling to terminate"
            ));
        }
    }
    Ok(StepBody::done(lines.join("; "), vec![]))
}
