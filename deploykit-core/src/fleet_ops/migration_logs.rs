//! Following the migration log: the guide's `ssm-instance --newest asg-<env>-migration` and
//! `tail -f /var/log/cloud-init-output.log`, as a loop on the [`Clock`](crate::ports::Clock).
//!
//! First the newest instance of `<env>-migration` is found, waiting for one to appear (the
//! recycle starts it); then its log is read through [`LogSource`] with the cursor, each new
//! line handed to a callback that decides when to stop (e.g. on
//! `All done! provision.sh finished for identity-devops`). Judging the lines is the caller's
//! business (the migration gate): this module only reads.

use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::events::Event;
use crate::fleet_ops::{FleetContext, show_time};
use crate::model::fleet::{GroupName, InstanceId};
use crate::model::names::{EnvName, RoleName};
use crate::ports::LogSource;

/// The final line of a provisioning run that finished (not proof that migrations passed).
pub const PROVISION_DONE_MARKER: &str = "All done! provision.sh finished for identity-devops";
/// The line of a provisioning run that failed.
pub const PROVISION_FAILED_MARKER: &str = "provision.sh: ERROR -- exiting after failure";

/// How to follow the migration log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationLogRequest {
    /// The environment.
    pub env: EnvName,
    /// Only instances launched at or after this time count (the recycle's start), so an
    /// earlier migration instance is never mistaken for this one.
    pub launched_after: Option<DateTime<Utc>>,
    /// How long to wait for a migration instance to appear.
    pub appear_timeout: Duration,
    /// How long to read the log before giving up on the stop condition.
    pub read_timeout: Duration,
    /// Time between polls.
    pub poll_interval: Duration,
}

impl MigrationLogRequest {
    /// Defaults: any instance, 10 minutes to appear, 30 minutes of log, polls every 10 s.
    pub fn new(env: EnvName) -> Self {
        MigrationLogRequest {
            env,
            launched_after: None,
            appear_timeout: Duration::from_secs(600),
            read_timeout: Duration::from_secs(1800),
            poll_interval: Duration::from_secs(10),
        }
    }

    /// The whole wait bounded by `timeout`: the log is read for at most that long, the
    /// instance awaited no longer, and a poll never outlasts it (so a short timeout gives up
    /// on time, not at the next poll; polls stay at least a second apart).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self.appear_timeout = self.appear_timeout.min(timeout);
        self.poll_interval = self.poll_interval.min(timeout).max(Duration::from_secs(1));
        self
    }
}

/// What following the log came to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MigrationLogTail {
    /// The migration instance read.
    pub instance: InstanceId,
    /// How many lines were handed to the callback.
    pub lines_read: u64,
    /// The cursor after the last line read (to resume).
    pub cursor: Option<String>,
    /// When the log was left unfinished because the instance stopped running (terminated by
    /// its group's spindown, or by hand): its state then. No further line can come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_gone: Option<String>,
}

fn elapsed_secs(start: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((now - start).num_seconds()).unwrap_or(0)
}

/// Waits for the newest instance of `<env>-migration` launched at or after
/// `req.launched_after`, emitting a [`Event::Waiting`] per poll. NotFound when there is no
/// migration group; Timeout when no instance appears within `req.appear_timeout`.
pub async fn newest_migration_instance(
    ctx: &FleetContext<'_>,
    req: &MigrationLogRequest,
) -> Result<InstanceId> {
    let name = GroupName::new(&req.env, &RoleName::migration());
    let start = ctx.clock.now();
    let what = format!("a migration instance in {name}");
    loop {
        let group = ctx.fleet.group(&name).await?;
        let newest = group
            .instances
            .iter()
            // EC2 launch times have whole seconds: an instance launched in the same second
            // as `launched_after` shows an earlier time than it.
            .filter(|i| {
                req.launched_after
                    .is_none_or(|t| i.launch_time >= chrono::SubsecRound::trunc_subsecs(t, 0))
            })
            .max_by(|a, b| a.launch_time.cmp(&b.launch_time).then(a.id.cmp(&b.id)));
        if let Some(i) = newest {
            ctx.info(format!(
                "following the migration log of {} (launched {})",
                i.id,
                show_time(i.launch_time)
            ));
            return Ok(i.id.clone());
        }
        let now = ctx.clock.now();
        let elapsed = elapsed_secs(start, now);
        if elapsed >= req.appear_timeout.as_secs() {
            let since = req
                .launched_after
                .map(|t| format!(" launched since {}", show_time(t)))
                .unwrap_or_default();
            return Err(Error::timeout(format!(
                "no instance{since} appeared in {name} after {elapsed} s: check that the \
                 recycle started the migration group (`deploykit asg size {} migration`)",
                req.env
            ))
            .with("group", &name));
        }
        ctx.events.emit(Event::Waiting {
            at: now,
            what: what.clone(),
            elapsed_secs: elapsed,
            timeout_secs: req.appear_timeout.as_secs(),
        });
        ctx.clock.sleep(req.poll_interval).await;
    }
}

/// Whether `instance` of the migration group no longer runs (gone from the group, or in a
/// stopping state): its state in words, else `None`. A failed read of the group is an error
/// like a failed read of the log: whoever follows the log decides (the migration gate retries
/// a temporary one and rolls back on a lasting one, since it can no longer observe).
async fn not_running(
    ctx: &FleetContext<'_>,
    env: &EnvName,
    instance: &InstanceId,
) -> Result<Option<String>> {
    let group = ctx
        .fleet
        .group(&GroupName::new(env, &RoleName::migration()))
        .await?;
    Ok(match group.instances.iter().find(|i| &i.id == instance) {
        None => Some("no longer in its group".into()),
        Some(i) if !i.lifecycle.is_running() => Some(i.lifecycle.to_string()),
        Some(_) => None,
    })
}

/// Follows the migration log: finds the instance ([`newest_migration_instance`]), then reads
/// its log from the start, calling `on_line` for each line in order until it returns
/// `ControlFlow::Break` (Ok), the instance stopped running and a last read brought nothing
/// more (Ok, with [`MigrationLogTail::instance_gone`]), or `req.read_timeout` passes (Timeout,
/// saying how many lines were read). Sleeps `req.poll_interval` on the clock when no new line
/// came.
pub async fn tail_migration_log(
    ctx: &FleetContext<'_>,
    logs: &dyn LogSource,
    req: &MigrationLogRequest,
    on_line: &mut (dyn FnMut(&str) -> ControlFlow<()> + Send),
) -> Result<MigrationLogTail> {
    let instance = newest_migration_instance(ctx, req).await?;
    let start = ctx.clock.now();
    let mut cursor = None;
    let mut lines_read = 0u64;
    let what = format!("the migration log of {instance}");
    // Seen stopped after a read that brought nothing: one more read drains what the log
    // still had, then the tail ends.
    let mut gone: Option<String> = None;
    loop {
        let chunk = logs.read_log(&instance, cursor.clone()).await?;
        let got_lines = !chunk.lines.is_empty();
        if chunk.cursor.is_some() {
            cursor = chunk.cursor;
        }
        for line in &chunk.lines {
            lines_read += 1;
            if on_line(line).is_break() {
                return Ok(MigrationLogTail {
                    instance,
                    lines_read,
                    cursor,
                    instance_gone: None,
                });
            }
        }
        if !got_lines {
            if gone.is_some() {
                return Ok(MigrationLogTail {
                    instance,
                    lines_read,
                    cursor,
                    instance_gone: gone,
                });
            }
            gone = not_running(ctx, &req.env, &instance).await?;
            if gone.is_some() {
                continue;
            }
        }
        let now = ctx.clock.now();
        let elapsed = elapsed_secs(start, now);
        if elapsed >= req.read_timeout.as_secs() {
            return Err(Error::timeout(format!(
                "the migration log of {instance} did not reach its end after {elapsed} s \
                 ({lines_read} lines read): the migration may be hung; read the log and check \
                 the instance"
            ))
            .with("instance", &instance)
            .with("lines_read", lines_read));
        }
        if !got_lines {
            ctx.events.emit(Event::Waiting {
                at: now,
                what: what.clone(),
                elapsed_secs: elapsed,
                timeout_secs: req.read_timeout.as_secs(),
            });
            ctx.clock.sleep(req.poll_interval).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::events::RecordingSink;
    use crate::fleet_ops::test_support::*;
    use crate::ports::LogChunk;
    use std::sync::Mutex;

    /// A clock that moves when slept on.
    #[derive(Debug)]
    struct StepClock(Mutex<DateTime<Utc>>);
    #[async_trait::async_trait]
    impl crate::ports::Clock for StepClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().expect("lock")
        }
        async fn sleep(&self, d: Duration) {
            let mut t = self.0.lock().expect("lock");
            *t += chrono::Duration::from_std(d).expect("duration");
        }
    }

    /// Serves a log in chunks of two lines per read, with the line number as cursor.
    #[derive(Debug)]
    struct ChunkedLog {
        lines: Vec<String>,
        reads: Mutex<Vec<(InstanceId, Option<String>)>>,
    }
    #[async_trait::async_trait]
    impl LogSource for ChunkedLog {
        async fn read_log(&self, i: &InstanceId, cursor: Option<String>) -> Result<LogChunk> {
            self.reads
                .lock()
                .expect("lock")
                .push((i.clone(), cursor.clone()));
            let from: usize = cursor.as_deref().map_or(0, |c| c.parse().expect("cursor"));
            let to = (from + 2).min(self.lines.len());
            Ok(LogChunk {
                lines: self.lines[from..to].to_vec(),
                cursor: Some(to.to_string()),
            })
        }
    }

    fn migration_with(instances: Vec<crate::model::fleet::Instance>) -> Vec<crate::Group> {
        let mut g = tagged(group("migration", 0, 1, 1), "utility");
        g.instances = instances;
        vec![g]
    }

    #[tokio::test]
    async fn reads_the_newest_instance_in_order_until_the_stop_condition() {
        let fleet = RecordingFleet::new(migration_with(vec![inst(1, -9000), inst(2, 30)]));
        let clock = StepClock(Mutex::new(t0()));
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let log = ChunkedLog {
            lines: ["a", "db:migrate", PROVISION_DONE_MARKER, "after"]
                .map(String::from)
                .to_vec(),
            reads: Mutex::new(Vec::new()),
        };
        let mut seen = Vec::new();
        let mut on_line = |l: &str| {
            seen.push(l.to_string());
            if l == PROVISION_DONE_MARKER {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let mut req = MigrationLogRequest::new(prod());
        req.launched_after = Some(t0());
        let tail = tail_migration_log(&ctx, &log, &req, &mut on_line)
            .await
            .expect("tail");
        assert_eq!(tail.instance, iid(2));
        assert_eq!(seen, ["a", "db:migrate", PROVISION_DONE_MARKER]);
        assert_eq!(tail.lines_read, 3);
        let reads = log.reads.lock().expect("lock").clone();
        assert_eq!(reads, vec![(iid(2), None), (iid(2), Some("2".into()))]);
    }

    #[tokio::test]
    async fn an_instance_launched_in_the_recycles_second_is_new() {
        // EC2 reports t0 for an instance launched at t0 + 0.9 s, after a recycle at t0 + 0.4 s.
        let fleet = RecordingFleet::new(migration_with(vec![inst(1, -9000), inst(2, 0)]));
        let clock = StepClock(Mutex::new(t0()));
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let mut req = MigrationLogRequest::new(prod());
        req.launched_after = Some(t0() + chrono::Duration::milliseconds(400));
        let found = newest_migration_instance(&ctx, &req)
            .await
            .expect("the instance launched in the same second");
        assert_eq!(found, iid(2));
    }

    #[tokio::test]
    async fn waits_for_an_instance_then_times_out_with_waiting_events() {
        let fleet = RecordingFleet::new(migration_with(vec![inst(1, -9000)]));
        let clock = StepClock(Mutex::new(t0()));
        let sink = RecordingSink::default();
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &sink,
        };
        let mut req = MigrationLogRequest::new(prod());
        req.launched_after = Some(t0());
        req.appear_timeout = Duration::from_secs(60);
        let err = newest_migration_instance(&ctx, &req)
            .await
            .expect_err("none");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("prod-migration"), "{err}");
        let waits = sink
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Waiting { .. }))
            .count();
        assert_eq!(waits, 6, "one per 10 s poll");
    }

    #[tokio::test]
    async fn a_log_that_never_ends_times_out_saying_how_much_was_read() {
        let fleet = RecordingFleet::new(migration_with(vec![inst(2, 30)]));
        let clock = StepClock(Mutex::new(t0()));
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &crate::NullSink,
        };
        let log = ChunkedLog {
            lines: vec!["only".into()],
            reads: Mutex::new(Vec::new()),
        };
        let mut req = MigrationLogRequest::new(prod());
        req.read_timeout = Duration::from_secs(120);
        let mut on_line = |_: &str| ControlFlow::Continue(());
        let err = tail_migration_log(&ctx, &log, &req, &mut on_line)
            .await
            .expect_err("hung");
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(err.context_value("lines_read"), Some("1"));
    }
}
