//! Scripted provisioning logs of the migration instances of a [`SimFleet`].
//!
//! Each migration instance gets the script in effect when it was launched
//! ([`ScriptedLogs::set_migration_script`]), or one set for it alone. Lines appear at fixed
//! offsets after the instance's launch time, on the virtual clock, and stop at termination.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};
use crate::model::fleet::InstanceId;
use crate::model::names::RoleName;
use crate::ports::{Clock, LogChunk, LogSource};
use crate::sim::{Faults, SimFleet, VirtualClock, lock};

/// The last line of a successful provisioning run, and of a failed one: the markers the
/// real log's readers look for.
pub use crate::fleet_ops::migration_logs::{
    PROVISION_DONE_MARKER as SUCCESS_MARKER, PROVISION_FAILED_MARKER as FAILURE_MARKER,
};
/// The migrate command line.
pub const MIGRATE_LINE: &str = "+ bundle exec rake db:create db:migrate";

/// How a migration instance's provisioning goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum MigrationScript {
    /// Migrations run, assets compile, the success marker is printed.
    #[default]
    Success,
    /// A migration fails (`rake aborted!`, `PG::UndefinedColumn`) but provisioning goes on
    /// and STILL prints the success marker, as the real provisioner does.
    MigrationError,
    /// Migrations pass, then provisioning fails with the failure marker.
    ProvisioningFailure,
    /// The log stops after the migrate command line.
    Hang,
}

/// The script's lines with their offsets (seconds after launch), oldest first.
pub fn script_lines(script: MigrationScript, launch_time: DateTime<Utc>) -> Vec<(i64, String)> {
    let stamp = |secs: i64| {
        (launch_time + Duration::seconds(secs))
            .format("%a, %d %b %Y %H:%M:%S +0000")
            .to_string()
    };
    let mut lines: Vec<(i64, String)> = vec![
        (
            20,
            format!(
                "Cloud-init v. 23.4.4 running 'modules:final' at {}. Up 20.31 seconds.",
                stamp(20)
            ),
        ),
        (
            22,
            "provision.sh: Starting provisioning of identity-devops (role migration)".into(),
        ),
        (40, "Starting Chef Infra Client, version 18.4.12".into()),
        (55, "Recipe: identity-idp::migrate".into()),
        (60, MIGRATE_LINE.into()),
    ];
    if script == MigrationScript::Hang {
        return lines;
    }
    lines.push((
        90,
        "== 20241120150000 AddDeployKitColumn: migrating ==".into(),
    ));
    lines.push((91, "-- add_column(:users, :deploy_kit, :string)".into()));
    match script {
        MigrationScript::MigrationError => {
            lines.push((95, "rake aborted!".into()));
            lines.push((
                95,
                "StandardError: An error has occurred, all later migrations canceled:".into(),
            ));
            lines.push((
                96,
                "PG::UndefinedColumn: ERROR:  column \"deploy_kit_id\" of relation \"users\" \
                 does not exist"
                    .into(),
            ));
            lines.push((
                96,
                "/srv/idp/releases/chef/db/migrate/20241120150000_add_deploy_kit_column.rb:5:in \
                 `change'"
                    .into(),
            ));
            lines.push((97, "Tasks: TOP => db:migrate".into()));
        }
        _ => {
            lines.push((99, "   -> 0.0118s".into()));
            lines.push((
                100,
                "== 20241120150000 AddDeployKitColumn: migrated (0.0123s) ==".into(),
            ));
        }
    }
    lines.push((180, "+ bundle exec rake assets:precompile".into()));
    match script {
        MigrationScript::ProvisioningFailure => {
            lines.push((
                210,
                "ERROR: bundle exec rake assets:precompile exited with status 1".into(),
            ));
            lines.push((230, FAILURE_MARKER.into()));
        }
        _ => {
            lines.push((
                225,
                "Chef Infra Client finished, 312/1480 resources updated".into(),
            ));
            lines.push((230, SUCCESS_MARKER.into()));
        }
    }
    lines
}

#[derive(Debug, Default)]
struct State {
    /// (from, script): the script of instances launched at or after `from`.
    schedule: Vec<(DateTime<Utc>, MigrationScript)>,
    per_instance: BTreeMap<InstanceId, MigrationScript>,
}

/// Migration logs derived from a [`SimFleet`]; see the module documentation.
#[derive(Debug)]
pub struct ScriptedLogs {
    fleet: Arc<SimFleet>,
    clock: Arc<VirtualClock>,
    faults: Arc<Faults>,
    migration_role: RoleName,
    state: Mutex<State>,
}

impl ScriptedLogs {
    /// Logs of `fleet`'s migration instances, every one succeeding until told otherwise;
    /// fails as `faults` says (op `logs.read_log`).
    pub fn new(fleet: Arc<SimFleet>, clock: Arc<VirtualClock>, faults: Arc<Faults>) -> Self {
        ScriptedLogs {
            fleet,
            clock,
            faults,
            migration_role: RoleName::migration(),
            state: Mutex::new(State::default()),
        }
    }

    /// Migration instances launched from now on follow `script`.
    pub fn set_migration_script(&self, script: MigrationScript) {
        let now = self.clock.now();
        lock(&self.state).schedule.push((now, script));
    }

    /// One instance follows `script`, whenever it was launched.
    pub fn set_instance_script(&self, instance: &InstanceId, script: MigrationScript) {
        lock(&self.state)
            .per_instance
            .insert(instance.clone(), script);
    }

    /// The script `instance` follows (given its launch time).
    pub fn script_of(&self, instance: &InstanceId, launch_time: DateTime<Utc>) -> MigrationScript {
        let st = lock(&self.state);
        if let Some(s) = st.per_instance.get(instance) {
            return *s;
        }
        st.schedule
            .iter()
            .rev()
            .find(|(from, _)| *from <= launch_time)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    /// Every line of the instance's log visible now (empty for unknown or non-migration
    /// instances).
    pub fn visible_lines(&self, instance: &InstanceId) -> Vec<String> {
        let Some(rec) = self.fleet.instance_record(instance) else {
            return Vec::new();
        };
        if rec.group.role != self.migration_role {
            return Vec::new();
        }
        let now = self.clock.now();
        let until = rec.terminated_at.map_or(now, |t| t.min(now));
        let script = self.script_of(instance, rec.launch_time);
        script_lines(script, rec.launch_time)
            .into_iter()
            .filter(|(offset, _)| rec.launch_time + Duration::seconds(*offset) <= until)
            .map(|(_, line)| line)
            .collect()
    }
}

#[async_trait]
impl LogSource for ScriptedLogs {
    async fn read_log(&self, instance: &InstanceId, cursor: Option<String>) -> Result<LogChunk> {
        self.faults.check("logs.read_log")?;
        let from = match &cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                Error::invalid_input(format!(
                    "log cursor {c:?} was not made by this log source; pass the cursor of the \
                     previous read, or none to start over"
                ))
            })?,
        };
        let lines = self.visible_lines(instance);
        let new: Vec<String> = lines.iter().skip(from).cloned().collect();
        let next = from.max(lines.len().min(from + new.len()));
        Ok(LogChunk {
            lines: new,
            cursor: Some(next.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::{CapacityChange, GroupName};
    use crate::model::names::EnvName;
    use crate::model::sha::Sha;
    use crate::ports::Fleet;
    use crate::sim::GroupSpec;
    use std::time::Duration as StdDuration;

    struct Setup {
        clock: Arc<VirtualClock>,
        fleet: Arc<SimFleet>,
        logs: ScriptedLogs,
        group: GroupName,
    }

    fn setup() -> Setup {
        let (clock, faults, fleet) = crate::sim::test_fleet();
        let group = GroupName::new(&EnvName::new("prod").expect("env"), &RoleName::migration());
        let mut spec = GroupSpec::simple(group.clone(), 0, Sha::new("abcdef12").expect("sha"));
        spec.load_balanced = false;
        fleet.add_group(spec);
        let logs = ScriptedLogs::new(fleet.clone(), clock.clone(), faults);
        Setup {
            clock,
            fleet,
            logs,
            group,
        }
    }

    async fn launch(s: &Setup) -> InstanceId {
        s.fleet
            .set_capacity(&s.group, CapacityChange::desired(1))
            .await
            .expect("launch");
        s.fleet.group_snapshot(&s.group).expect("group").instances[0]
            .id
            .clone()
    }

    async fn read_all(s: &Setup, id: &InstanceId, step_secs: u64) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..(400 / step_secs) {
            let chunk = s.logs.read_log(id, cursor.clone()).await.expect("read");
            out.extend(chunk.lines);
            cursor = chunk.cursor;
            s.clock.advance(StdDuration::from_secs(step_secs));
        }
        out
    }

    #[tokio::test]
    async fn a_successful_run_appears_line_by_line_without_loss_or_repeat() {
        let s = setup();
        let id = launch(&s).await;
        let first = s.logs.read_log(&id, None).await.expect("read");
        assert!(first.lines.is_empty(), "nothing before 20 s: {first:?}");
        let lines = read_all(&s, &id, 7).await;
        assert_eq!(lines, s.logs.visible_lines(&id));
        assert_eq!(lines.last().map(String::as_str), Some(SUCCESS_MARKER));
        assert!(
            lines
                .iter()
                .any(|l| l.contains("AddDeployKitColumn: migrated (0.0123s)"))
        );
        assert!(!lines.iter().any(|l| l.contains("rake aborted!")));
    }

    #[tokio::test]
    async fn a_migration_error_still_ends_with_the_success_marker() {
        let s = setup();
        s.logs.set_migration_script(MigrationScript::MigrationError);
        let id = launch(&s).await;
        let lines = read_all(&s, &id, 30).await;
        assert!(lines.iter().any(|l| l == "rake aborted!"));
        assert!(lines.iter().any(|l| l.starts_with("PG::UndefinedColumn")));
        assert!(
            lines.iter().any(
                |l| l == "StandardError: An error has occurred, all later migrations canceled:"
            )
        );
        assert_eq!(lines.last().map(String::as_str), Some(SUCCESS_MARKER));
    }

    #[tokio::test]
    async fn failures_hangs_and_terminations_show_in_the_log() {
        let s = setup();
        s.logs
            .set_migration_script(MigrationScript::ProvisioningFailure);
        let id = launch(&s).await;
        let lines = read_all(&s, &id, 50).await;
        assert_eq!(lines.last().map(String::as_str), Some(FAILURE_MARKER));

        s.fleet
            .set_capacity(&s.group, CapacityChange::desired(0))
            .await
            .expect("down");
        s.logs.set_migration_script(MigrationScript::Hang);
        let hung = launch(&s).await;
        let lines = read_all(&s, &hung, 50).await;
        assert_eq!(lines.last().map(String::as_str), Some(MIGRATE_LINE));

        // A terminated instance's log stops at termination and stays readable.
        s.fleet
            .set_capacity(&s.group, CapacityChange::desired(0))
            .await
            .expect("down");
        s.logs.set_migration_script(MigrationScript::Success);
        let short = launch(&s).await;
        s.clock.advance(StdDuration::from_secs(95));
        s.fleet
            .set_capacity(&s.group, CapacityChange::desired(0))
            .await
            .expect("down");
        s.clock.advance(StdDuration::from_secs(600));
        let lines = s.logs.read_log(&short, None).await.expect("read").lines;
        assert!(lines.iter().any(|l| l.ends_with("migrating ==")));
        assert!(!lines.iter().any(|l| l == SUCCESS_MARKER));
        // Unknown instances and bad cursors.
        let unknown = InstanceId::new("i-0123456789abcdef0").expect("id");
        assert!(
            s.logs
                .read_log(&unknown, None)
                .await
                .expect("read")
                .lines
                .is_empty()
        );
        let e = s
            .logs
            .read_log(&short, Some("x".into()))
            .await
            .expect_err("bad cursor");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
    }
}
