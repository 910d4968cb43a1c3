//! The policies preflight asks: the cadence calendar, the fleet pre-checks and the
//! no-migration risk check (from [`crate::policy`] and [`crate::fleet_ops::prechecks`]).

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::request::DeployRequest;
use crate::deploy::settings::EnvSettings;
use crate::deploy::state::DeployState;
use crate::deploy::steps::main_role;
use crate::error::Result;
use crate::fleet_ops::prechecks::check_groups;
use crate::model::fleet::Group;
use crate::model::names::RoleSelector;
use crate::policy::assess_no_migration_risk;

/// The calendar's verdict: Err(refusal) when it refuses; Ok(concerns) otherwise (warnings
/// to show, e.g. an off-cycle deploy on a Friday).
pub(crate) fn cadence(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> std::result::Result<Vec<String>, String> {
    cadence_at(ctx.settings, ctx.now(), &state.request)
}

/// The calendar's verdict on `req` at `now` (the day in the settings' calendar offset), as
/// [`cadence`] gives it; the dry-run plan asks it too.
pub(crate) fn cadence_at(
    settings: &EnvSettings,
    now: DateTime<Utc>,
    req: &DeployRequest,
) -> std::result::Result<Vec<String>, String> {
    let local = now + chrono::Duration::hours(i64::from(settings.calendar_utc_offset_hours));
    let d = settings
        .cadence
        .check(local.date_naive(), req.kind, req.reason.as_deref());
    if d.allowed {
        Ok(d.reasons)
    } else {
        Err(d.reasons.join("; "))
    }
}

/// The refusal of a deploy the calendar refuses, with the way on.
pub(crate) fn cadence_refusal(refusal: &str) -> String {
    format!(
        "cadence policy: {refusal}; to deploy anyway, give an override reason, which is \
         recorded (`--override-cadence REASON`; Python: `cadence_override=`)"
    )
}

/// What stops a deploy in the fleet: extra servers, a recycle in progress.
pub(crate) fn fleet_problems(groups: &[Group], state: &DeployState) -> Result<Vec<String>> {
    let roles = RoleSelector::Role(main_role(state)?);
    Ok(check_groups(groups, &state.request.env, &roles).problems())
}

/// Why a no-migration recycle is risky now, if it is: migrations or assets changed between
/// the SHA serving now (where the last migration ran) and the production branch the new
/// instances will run.
pub(crate) async fn no_migration_risk(
    ctx: &StepContext<'_>,
    state: &DeployState,
    serving: Option<&crate::model::sha::Sha>,
) -> Result<Option<String>> {
    let app = &state.request.app;
    let vcs = &ctx.ports.vcs;
    let Some(serving) = serving else {
        return Ok(Some(
            "no instance reports the SHA it runs (gitsha tag), so what changed since the last \
             migration cannot be checked"
                .into(),
        ));
    };
    ctx.retry("fetch", async || vcs.fetch(&app.remote).await)
        .await?;
    let target_rev = format!("{}/{}", app.remote, app.production_branch);
    let target = ctx
        .retry("resolve the production branch", async || {
            vcs.resolve(&target_rev).await
        })
        .await?;
    let risk = ctx
        .retry("list changed files", async || {
            assess_no_migration_risk(vcs.as_ref(), serving, &target).await
        })
        .await?;
    Ok(risk.verdict(None).err().map(|e| e.message().to_string()))
}
