//! `deploykit monitor --by-instance`: during a recycle, the figures of the instances it is
//! replacing beside the ones it launched, the split the monitor gate judges a config recycle
//! by (old and new instances run one SHA there, so the per-SHA table has a single row). When
//! there is nothing to split, or the monitor cannot tell instances apart, the per-SHA table is
//! shown with a note saying why.

use crate::error::Result;
use crate::fleet_ops::monitor_table::{MonitorTable, instance_table, monitor_table};
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::names::{EnvName, RoleName};
use crate::ports::{Fleet, MetricsWindow, Monitor};

/// The table of `role` in `env` over `window`, split between the instances a recycle is
/// replacing ([`Group::old_instances`](crate::model::fleet::Group::old_instances)) and every
/// other instance; the per-SHA table, with a note, when no recycle has left old instances or
/// the monitor cannot split its figures by instance.
///
/// Errors: the group's or the monitor's.
pub async fn monitor_by_instance(
    fleet: &dyn Fleet,
    monitor: &dyn Monitor,
    env: &EnvName,
    role: &RoleName,
    window: &MetricsWindow,
) -> Result<MonitorTable> {
    let group = fleet.group(&GroupName::new(env, role)).await?;
    let old = group.old_instances();
    let note = if old.is_empty() {
        format!(
            "{}: no recycle is replacing instances (no instance runs beside the newest {}), \
             so the figures are per SHA",
            group.name,
            group
                .recycle_in_progress()
                .and_then(|a| a.change.desired)
                .unwrap_or(group.capacity.desired)
        )
    } else if let Some(split) = monitor.sample_by_instance(env, role, window, &old).await? {
        let mut table = instance_table(&split);
        table.note = Some(format!(
            "old instances: {} ({} of {}, launched before the newest {}); new instances: the rest",
            listed(&old),
            old.len(),
            group.name,
            group.counted_instances().count().saturating_sub(old.len())
        ));
        return Ok(table);
    } else {
        format!(
            "this monitor cannot tell {}'s instances apart (host names or log streams without \
             an EC2 instance id), so the figures are per SHA",
            group.name
        )
    };
    let mut table = monitor_table(&monitor.sample(env, role, window).await?);
    table.note = Some(note);
    Ok(table)
}

/// How many instance ids a note lists before it only counts the rest.
const LISTED_IDS: usize = 4;

/// `i-1, i-2, i-3, i-4 and 6 more`.
fn listed(ids: &[InstanceId]) -> String {
    let shown: Vec<&str> = ids
        .iter()
        .take(LISTED_IDS)
        .map(InstanceId::as_str)
        .collect();
    match ids.len().saturating_sub(LISTED_IDS) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::fleet_ops::monitor_table::{ShaLabel, render_monitor_table};
    use crate::model::fleet::CapacityChange;
    use crate::model::sha::Sha;
    use crate::ports::Clock;
    use crate::sim::{GroupSpec, ScriptedMonitor, SimFleet, VirtualClock};

    struct Rig {
        clock: Arc<VirtualClock>,
        fleet: Arc<SimFleet>,
        monitor: ScriptedMonitor,
        group: GroupName,
    }

    fn rig() -> Rig {
        let (clock, faults, fleet) = crate::sim::test_fleet();
        let group = GroupName::new(
            &EnvName::new("prod").expect("env"),
            &RoleName::new("idp").expect("role"),
        );
        fleet.add_group(GroupSpec::simple(
            group.clone(),
            4,
            Sha::new("cf6def2").expect("sha"),
        ));
        let monitor = ScriptedMonitor::new(fleet.clone(), clock.clone(), faults, 7);
        Rig {
            clock,
            fleet,
            monitor,
            group,
        }
    }

    impl Rig {
        async fn table(&self) -> MonitorTable {
            let end = self.clock.now();
            let window = MetricsWindow {
                start: end - chrono::Duration::minutes(5),
                end,
            };
            monitor_by_instance(
                &*self.fleet,
                &self.monitor,
                &self.group.env,
                &self.group.role,
                &window,
            )
            .await
            .expect("table")
        }

        /// A config recycle: the group doubled on the same SHA, its spindown scheduled.
        async fn recycle_one_sha(&self) {
            let spindown = crate::model::fleet::ScheduledAction {
                name: crate::model::fleet::RECYCLE_ACTION.to_string(),
                start_time: self.clock.now() + chrono::Duration::minutes(15),
                change: CapacityChange::desired(4),
            };
            self.fleet
                .put_scheduled_action(&self.group, &spindown)
                .await
                .expect("spindown");
            self.fleet
                .set_capacity(&self.group, CapacityChange::desired(8))
                .await
                .expect("scale out");
            self.clock.sleep(std::time::Duration::from_secs(600)).await;
        }
    }

    #[tokio::test]
    async fn a_config_recycle_shows_old_and_new_instances_side_by_side() {
        let rig = rig();
        rig.recycle_one_sha().await;
        let table = rig.table().await;
        let text = render_monitor_table(&table);
        let labels: Vec<ShaLabel> = table.rows.iter().map(|r| r.label).collect();
        assert_eq!(
            labels,
            [ShaLabel::OldInstances, ShaLabel::NewInstances],
            "{text}"
        );
        assert!(table.rows.iter().all(|r| r.instances == 4), "{text}");
        assert!(table.rows.iter().all(|r| r.requests > 0), "{text}");
        let group = rig.fleet.group_snapshot(&rig.group).expect("group");
        let old: Vec<String> = group
            .old_instances()
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert_eq!(old.len(), 4);
        assert!(
            text.contains(&format!(
                "old instances: {} (4 of prod-idp, launched before the newest 4)",
                old.join(", ")
            )),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("old instances  cf6def2")),
            "{text}"
        );
    }

    #[tokio::test]
    async fn without_a_recycle_or_a_split_the_figures_are_per_sha_and_say_why() {
        let rig = rig();
        let table = rig.table().await;
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].label, ShaLabel::Current);
        let text = render_monitor_table(&table);
        assert!(
            text.contains("prod-idp: no recycle is replacing instances"),
            "{text}"
        );

        rig.recycle_one_sha().await;
        rig.monitor.set_splits_by_instance(false);
        let text = render_monitor_table(&rig.table().await);
        assert!(
            text.contains("this monitor cannot tell prod-idp's instances apart"),
            "{text}"
        );
        assert!(text.lines().any(|l| l.starts_with("current")), "{text}");
    }
}
