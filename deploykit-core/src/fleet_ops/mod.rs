//! The fleet operations of identity-devops' cloudlib as workflows over the ports: recycle,
//! scale in old / new instances, pre-checks, ls-servers, asg-size, the migration log tail and
//! monitor-deploy's table (per SHA, or old instances against new during a recycle).
//!
//! Each operation plans with a pure function first (so `--dry-run` and the deploy engine see
//! exactly what would happen), then acts through [`Fleet`], emitting an
//! [`Event::Action`] per change.

pub mod deploy_guard;
pub mod group_size;
pub mod migration_logs;
pub mod monitor_by_instance;
pub mod monitor_table;
pub mod monitor_trend;
pub mod prechecks;
pub mod recycle;
pub mod scale_in;
pub mod servers;
pub mod table;
#[cfg(test)]
pub(crate) mod test_support;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::events::{Event, EventSink};
use crate::model::fleet::Group;
use crate::model::names::EnvName;
use crate::ports::{Clock, Fleet};

pub use deploy_guard::{HandChange, refuse_while_deploying};
pub use group_size::{GroupSize, group_size, set_group_size};
pub use migration_logs::{
    MigrationLogRequest, MigrationLogTail, newest_migration_instance, tail_migration_log,
};
pub use monitor_by_instance::monitor_by_instance;
pub use monitor_table::{
    MonitorRow, MonitorTable, ShaLabel, instance_table, monitor_table, render_monitor_table,
};
pub use monitor_trend::{MonitorTrend, window_trend};
pub use prechecks::{GroupPreCheck, PreCheckReport, check_groups, prechecks};
pub use recycle::{
    GroupRecycle, InProgressPolicy, NOT_RECYCLED_KEY, RECYCLED_KEY, RecycleOutcome, RecyclePlan,
    RecycleRequest, RoleGroups, SPINDOWN_AT_KEY, plan_recycle, recycle, role_groups,
    stopped_before_scale_out,
};
pub use scale_in::{
    GroupScaleIn, ScaleInMode, ScaleInOutcome, ScaleInPlan, ScaleInRequest, plan_scale_in,
    plan_scale_in_as_recycled, scale_in, scale_in_as_recycled,
};
pub use servers::{ServerRow, format_uptime, list_servers, render_servers, server_rows};

/// What every fleet operation works with: the fleet, the clock and where progress goes.
#[derive(Debug, Clone, Copy)]
pub struct FleetContext<'a> {
    /// The Auto Scaling groups.
    pub fleet: &'a dyn Fleet,
    /// Now and sleep (virtual in tests).
    pub clock: &'a dyn Clock,
    /// Progress events.
    pub events: &'a dyn EventSink,
}

impl FleetContext<'_> {
    /// Makes one change to the fleet (none in a dry run), then says it was made (or would
    /// be): an [`Event::Action`] stamped with the clock's time, emitted only once the change
    /// succeeded, so a command stopped or failing part way never reports a change it did
    /// not make.
    pub(crate) async fn act(
        &self,
        description: String,
        dry_run: bool,
        change: impl AsyncFnOnce() -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        if !dry_run {
            change().await?;
        }
        self.events.emit(Event::Action {
            at: self.clock.now(),
            description,
            dry_run,
        });
        Ok(())
    }

    /// Emits an [`Event::Info`] stamped with the clock's time.
    pub(crate) fn info(&self, message: String) {
        self.events.emit(Event::Info {
            at: self.clock.now(),
            message,
        });
    }

    /// Emits an [`Event::Warning`] stamped with the clock's time.
    pub(crate) fn warning(&self, message: String) {
        self.events.emit(Event::Warning {
            at: self.clock.now(),
            message,
        });
    }
}

/// The Auto Scaling groups of `env`, refusing an environment that has none: a mistyped
/// environment (or credentials for another account or region) finds no group, and an
/// operation over no group would otherwise "succeed" doing nothing. NotFound, naming the
/// environment and what to check. Recycle, scale-in, ls-servers and the monitor command
/// start here.
pub async fn env_groups(fleet: &dyn Fleet, env: &EnvName) -> Result<Vec<Group>> {
    let groups = fleet.groups(env).await?;
    if groups.is_empty() {
        let searched = fleet
            .location()
            .map(|l| format!(" (looked for in {l})"))
            .unwrap_or_default();
        return Err(Error::not_found(format!(
            "no Auto Scaling group in environment {env}{searched}: check the environment \
             name, and that the AWS account and region are the ones it runs in (`deploykit \
             servers ls -e ENV` lists an environment's groups)"
        ))
        .with("env", env));
    }
    Ok(groups)
}

/// A time as operators read it in messages: `2026-11-27 14:05:00 UTC`.
pub(crate) fn show_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
