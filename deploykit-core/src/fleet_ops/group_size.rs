//! asg-size: read a group's min / desired / max and scheduled actions; set some of them.

use crate::error::{Error, Result};
use crate::fleet_ops::{FleetContext, show_time, stopped_before_scale_out};
use crate::model::fleet::{
    Capacity, CapacityChange, GroupName, InstanceId, ScheduledAction, standby_note,
};

/// A group's size as asg-size prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupSize {
    /// The group.
    pub group: GroupName,
    /// min / desired / max.
    pub capacity: Capacity,
    /// Running instances counted toward the desired capacity (pending or in service; not
    /// those in Standby).
    pub running: u32,
    /// Instances in Standby: running, but not counted toward the desired capacity.
    #[serde(default)]
    pub standby: Vec<InstanceId>,
    /// Scheduled actions on the group, earliest first.
    pub scheduled_actions: Vec<ScheduledAction>,
    /// A recycle was stopped before this group scaled out: its spindown is scheduled, its
    /// scale-out is not ([`stopped_before_scale_out`]).
    #[serde(default)]
    pub recycle_stopped: bool,
}

impl GroupSize {
    /// Plain text: one line of capacity, then one line per scheduled action.
    pub fn render(&self) -> String {
        let c = self.capacity;
        let standby = standby_note(&self.standby)
            .map(|n| format!("; {n}"))
            .unwrap_or_default();
        let mut out = format!(
            "{}: min {} / desired {} / max {} ({} running{standby})\n",
            self.group, c.min, c.desired, c.max, self.running
        );
        for a in &self.scheduled_actions {
            let mut parts = Vec::new();
            if let Some(v) = a.change.min {
                parts.push(format!("min {v}"));
            }
            if let Some(v) = a.change.desired {
                parts.push(format!("desired {v}"));
            }
            if let Some(v) = a.change.max {
                parts.push(format!("max {v}"));
            }
            out.push_str(&format!(
                "  scheduled {} at {}: {}\n",
                a.name,
                show_time(a.start_time),
                parts.join(", ")
            ));
        }
        if self.recycle_stopped {
            out.push_str(&format!(
                "  a recycle was stopped before this group scaled out (its spindown is \
                 scheduled, its scale-out is not): finish it by running the recycle again over \
                 it (deploykit recycle {} {} --force)\n",
                self.group.env, self.group.role
            ));
        }
        out
    }
}

/// Reads a group's size and scheduled actions.
pub async fn group_size(ctx: &FleetContext<'_>, group: &GroupName) -> Result<GroupSize> {
    let g = ctx.fleet.group(group).await?;
    let mut actions = g.scheduled_actions.clone();
    actions.sort_by_key(|a| a.start_time);
    Ok(GroupSize {
        group: g.name.clone(),
        capacity: g.capacity,
        running: u32::try_from(g.counted_instances().count()).unwrap_or(u32::MAX),
        standby: g.standby_instances().map(|i| i.id.clone()).collect(),
        scheduled_actions: actions,
        recycle_stopped: stopped_before_scale_out(&g),
    })
}

/// The capacity after `change`, checked: something must change and min <= desired <= max.
pub fn check_resize(
    group: &GroupName,
    current: Capacity,
    change: CapacityChange,
) -> Result<Capacity> {
    if change == CapacityChange::default() {
        return Err(Error::invalid_input(format!(
            "no size given for {group}: set min, desired or max"
        )));
    }
    let next = change.apply(current);
    next.validate().map_err(|e| {
        Error::invalid_input(format!(
            "{group} cannot go from {current} to {next}: need min <= desired <= max; change \
             the other limits in the same call"
        ))
        .with("group", group)
        .with_source(e)
    })?;
    Ok(next)
}

/// Sets some of a group's min / desired / max (after [`check_resize`]); returns the new
/// capacity. A dry run only emits the action. Lowering desired below the running count on a
/// protected group leaves instances running until they are scaled in, so that is warned
/// about.
pub async fn set_group_size(
    ctx: &FleetContext<'_>,
    group: &GroupName,
    change: CapacityChange,
    dry_run: bool,
) -> Result<Capacity> {
    let g = ctx.fleet.group(group).await?;
    let next = check_resize(group, g.capacity, change)?;
    if let Some(a) = g.recycle_in_progress() {
        ctx.warning(format!(
            "{group} has a recycle in progress: its spindown at {} sets desired to {} again",
            show_time(a.start_time),
            a.change
                .desired
                .map_or_else(|| "-".to_string(), |d| d.to_string())
        ));
    }
    ctx.act(
        format!("resize {group}: {} -> {next}", g.capacity),
        dry_run,
        async || ctx.fleet.set_capacity(group, change).await,
    )
    .await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::fleet_ops::test_support::*;

    #[test]
    fn resizes_are_validated_with_a_way_out() {
        let c = Capacity {
            min: 1,
            desired: 2,
            max: 4,
        };
        let g = gname("idp");
        assert_eq!(
            check_resize(&g, c, CapacityChange::desired(4)).expect("ok"),
            Capacity {
                min: 1,
                desired: 4,
                max: 4
            }
        );
        let err = check_resize(&g, c, CapacityChange::desired(5)).expect_err("above max");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("prod-idp cannot go from"), "{err}");
        assert!(check_resize(&g, c, CapacityChange::default()).is_err());
        let both = CapacityChange {
            desired: Some(6),
            max: Some(8),
            min: None,
        };
        assert_eq!(check_resize(&g, c, both).map(|c| c.max).ok(), Some(8));
    }

    #[tokio::test]
    async fn reads_and_sets_size() {
        let idp = with_recycle(group("idp", 1, 4, 8), at(600), 2);
        let fleet = RecordingFleet::new(vec![idp]);
        let clock = FixedClock(t0());
        let ctx = quiet(&fleet, &clock);
        let size = group_size(&ctx, &gname("idp")).await.expect("size");
        let text = size.render();
        assert!(
            text.starts_with("prod-idp: min 1 / desired 4 / max 8"),
            "{text}"
        );
        assert!(text.contains("RecycleOnce.asg-recycle at 2026-11-24 17:10:00 UTC: desired 2"));
        assert!(
            !size.recycle_stopped,
            "desired 4 is above the spindown's 2: it scaled out"
        );
        assert!(!text.contains("stopped"), "{text}");
        set_group_size(&ctx, &gname("idp"), CapacityChange::desired(3), true)
            .await
            .expect("dry");
        assert!(fleet.calls().is_empty());
        set_group_size(&ctx, &gname("idp"), CapacityChange::desired(3), false)
            .await
            .expect("set");
        assert_eq!(
            fleet.calls(),
            vec![Call::SetCapacity(
                "prod-idp".into(),
                CapacityChange::desired(3)
            )]
        );
        let err = set_group_size(&ctx, &gname("idp"), CapacityChange::desired(9), false)
            .await
            .expect_err("above max");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn standby_instances_are_not_counted_running_and_are_noted() {
        let mut pivcac = group("pivcac", 0, 1, 4);
        pivcac.instances = vec![inst(1, -3000), inst(2, -2000)];
        pivcac.instances[0].lifecycle = crate::model::fleet::Lifecycle::Standby;
        let fleet = RecordingFleet::new(vec![pivcac]);
        let clock = FixedClock(t0());
        let size = group_size(&quiet(&fleet, &clock), &gname("pivcac"))
            .await
            .expect("size");
        assert_eq!(size.running, 1);
        let text = size.render();
        assert!(
            text.starts_with(
                "prod-pivcac: min 0 / desired 1 / max 4 (1 running; 1 instance in Standby (not \
                 counted): i-00000001)"
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_recycle_stopped_before_the_scale_out_is_pointed_out_with_the_way_to_finish_it() {
        // The spindown back to 2 is scheduled, but the group is still at 2.
        let idp = with_recycle(group("idp", 1, 2, 8), at(600), 2);
        let fleet = RecordingFleet::new(vec![idp]);
        let clock = FixedClock(t0());
        let ctx = quiet(&fleet, &clock);
        let size = group_size(&ctx, &gname("idp")).await.expect("size");
        assert!(size.recycle_stopped);
        let text = size.render();
        assert!(
            text.contains("a recycle was stopped before this group scaled out"),
            "{text}"
        );
        assert!(
            text.contains("deploykit recycle prod idp --force"),
            "{text}"
        );
    }
}
