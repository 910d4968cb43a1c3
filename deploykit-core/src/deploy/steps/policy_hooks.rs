//! The policies preflight asks: the cadence calendar, the fleet pre-checks and the
//! no-migration risk check (from [`crate::policy`] and [`crate::fleet_ops::prechecks`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::request::DeployRequest;
use crate::deploy::settings::EnvSettings;
use crate::deploy::state::DeployState;
use crate::deploy::steps::main_role;
use crate::error::{ErrorKind, Result};
use crate::fleet_ops::prechecks::check_groups;
use crate::model::app::AppSettings;
use crate::model::fleet::Group;
use crate::model::names::{EnvName, RoleSelector};
use crate::model::sha::Sha;
use crate::policy::assess_no_migration_risk;
use crate::ports::{CodeHost, Vcs};

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

/// The branch the environment of `settings` deploys: the production branch in production;
/// `main` elsewhere (staging deploys it every day, and the guide's warning for the other
/// environments is about a migration introduced on `main`).
pub(crate) fn deployed_branch<'a>(app: &'a AppSettings, settings: &EnvSettings) -> &'a str {
    if settings.production {
        &app.production_branch
    } else {
        &app.main_branch
    }
}

/// The SHA most running instances of the first group report: where the last migration ran.
pub(crate) fn serving_sha(groups: &[&Group]) -> Option<Sha> {
    let mut counts: BTreeMap<Sha, usize> = BTreeMap::new();
    for i in groups.first()?.running_instances() {
        if let Some(s) = i.deployed_sha() {
            *counts.entry(s).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(s, _)| s)
}

/// Why a no-migration recycle of `app` is risky now, if it is: migrations or assets changed
/// between `serving` (the SHA serving now, where the last migration ran) and the tip of
/// `branch` (what the new instances will run, [`deployed_branch`]). Reads only; callers
/// retry it.
pub(crate) async fn no_migration_risk(
    vcs: &dyn Vcs,
    app: &AppSettings,
    branch: &str,
    serving: Option<&Sha>,
) -> Result<Option<String>> {
    let Some(serving) = serving else {
        return Ok(Some(
            "no instance reports the SHA it runs (gitsha tag), so what changed since the last \
             migration cannot be checked"
                .into(),
        ));
    };
    vcs.fetch(&app.remote).await?;
    let target = vcs.resolve(&format!("{}/{branch}", app.remote)).await?;
    let risk = assess_no_migration_risk(vcs, serving, &target).await?;
    Ok(risk.verdict(None).err().map(|e| e.message().to_string()))
}

/// Code a recycle that ships none (config, no-migration) would ship in production: its new
/// instances boot the tip of the production branch, and that tip is not the SHA serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnshippedCode {
    /// What differs, in words.
    pub why: String,
    /// The open revert PR, when a rollback took that code out of production and its revert
    /// is not deployed yet (the guide: "new instances can start at any time").
    pub revert: Option<String>,
}

/// The code a recycle of `app` in `env` would ship although it ships none, if any (see
/// [`UnshippedCode`]). Reads only; callers retry it. Nothing to say where no instance reports
/// its SHA.
pub(crate) async fn unshipped_code(
    vcs: &dyn Vcs,
    code_host: &dyn CodeHost,
    app: &AppSettings,
    env: &EnvName,
    serving: Option<&Sha>,
) -> Result<Option<UnshippedCode>> {
    let Some(serving) = serving else {
        return Ok(None);
    };
    vcs.fetch(&app.remote).await?;
    let branch = format!("{}/{}", app.remote, app.production_branch);
    let tip = vcs.resolve(&branch).await?;
    if tip.matches(serving) {
        return Ok(None);
    }
    let why = format!(
        "{branch} is at {}, but {} serves in {env}: the new instances boot {} and ship its code",
        tip.short(),
        serving.short(),
        tip.short(),
    );
    let revert = match crate::release::open_revert_pr(code_host, app).await {
        Ok(pr) => Some(format!("revert PR #{} ({})", pr.number, pr.title)),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) if e.kind() == ErrorKind::InvalidInput => Some("several revert PRs".to_string()),
        Err(e) => return Err(e),
    };
    Ok(Some(UnshippedCode { why, revert }))
}

/// The refusal of a recycle of `req` that would put back the code a rollback took out
/// (`revert` is open), with the way on.
pub(crate) fn rolled_back_code_refusal(req: &DeployRequest, why: &str, revert: &str) -> String {
    format!(
        "{} refused: {why}, the code a rollback took out of production ({revert} is open); \
         deploy the revert first: `deploykit deploy {} {} --kind revert`",
        req.kind.words(),
        req.env,
        req.app.name
    )
}

/// The refusal of a no-migration recycle the risk check refuses, with the way on.
pub(crate) fn no_migration_refusal(risk: &str) -> String {
    format!(
        "no-migration recycle refused: {risk}; run a normal recycle, or give an override reason \
         (`--override-no-migration REASON`; Python: `no_migration_override=`)"
    )
}
