//! The policies preflight asks: the cadence calendar, the fleet pre-checks and the
//! no-migration risk check (deploykit_core::policy and fleet_ops pre-checks).

use crate::deploy::context::StepContext;
use crate::deploy::state::DeployState;
use crate::deploy::steps::app_groups;
use crate::error::Result;
use crate::model::fleet::Group;

/// Why the cadence calendar refuses this deploy today, if it does.
pub(crate) async fn cadence_refusal(
    _ctx: &StepContext<'_>,
    _state: &DeployState,
) -> Result<Option<String>> {
    // TODO(integration): policy::cadence once the engine branch lands.
    Ok(None)
}

/// What stops a deploy in the fleet: extra servers, a recycle in progress.
pub(crate) fn fleet_problems(groups: &[Group], state: &DeployState) -> Vec<String> {
    // TODO(integration): fleet_ops::prechecks::check_groups once the engine branch lands.
    let wanted = app_groups(state);
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| wanted.contains(&g.name)) {
        if let Some(a) = g.recycle_in_progress() {
            out.push(format!(
                "{} has a recycle in progress until {}: wait for it to finish",
                g.name, a.start_time
            ));
            continue;
        }
        let running = g.running_instances().count();
        let desired = usize::try_from(g.capacity.desired).unwrap_or(usize::MAX);
        if running > desired {
            out.push(format!(
                "{} has {} extra servers ({running} running, desired {desired}): scale in old \
                 instances before deploying",
                g.name,
                running - desired
            ));
        }
    }
    out
}

/// Why a no-migration recycle is risky now, if it is.
pub(crate) async fn no_migration_risk(
    _ctx: &StepContext<'_>,
    _state: &DeployState,
) -> Result<Option<String>> {
    // TODO(integration): policy::no_migration_risk once the engine branch lands.
    Ok(None)
}
