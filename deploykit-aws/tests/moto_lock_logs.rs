//! `SsmDeployLock`, `CloudWatchMigrationLogs`, `SsmTailLogs` and `LogsInsightsMonitor`
//! against a moto server.
//!
//! What moto cannot show, and so is not tested here:
//! - SSM Run Command: GetCommandInvocation is always `Success` with empty output, and
//!   SendCommand targets every instance; so [`SsmTailLogs`] is tested for the calls it makes
//!   and for "no output, no lines, cursor unchanged"; the line/cursor arithmetic and partial
//!   lines are unit-tested in `src/ssm_tail.rs`.
//! - Logs Insights: moto's StartQuery/GetQueryResults do not run `stats`, so a query returns
//!   raw events, never per-SHA rows; the monitor is tested for its calls, its "no data"
//!   answer and a missing log group, the row mapping is unit-tested in `src/monitor.rs`; so
//!   is the split of old instances from new (`sample_by_instance`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::{Duration, Utc};
use deploykit_aws::moto::{CallCounter, MotoServer};
use deploykit_aws::{
    AwsClients, CloudWatchMigrationLogs, LogsInsightsMonitor, SsmDeployLock, SsmTailLogs,
};
use deploykit_core::error::ErrorKind;
use deploykit_core::model::fleet::InstanceId;
use deploykit_core::model::names::{AppName, RoleName};
use deploykit_core::ports::clock::SystemClock;
use deploykit_core::ports::deploy_lock::{DeployLock, LockHolder};
use deploykit_core::ports::log_source::LogSource;
use deploykit_core::ports::monitor::{MetricsWindow, Monitor};
use support::env;

fn holder(owner: &str, expires_in: Duration) -> LockHolder {
    let now = Utc::now();
    LockHolder {
        env: env("prod"),
        app: AppName::new("idp").unwrap(),
        owner: owner.to_string(),
        acquired_at: now,
        expires_at: now + expires_in,
    }
}

#[tokio::test]
async fn the_deploy_lock_is_taken_once_refused_to_others_and_released_by_its_owner() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let lock = SsmDeployLock::new(moto.clients().await, Arc::new(SystemClock));
    let (prod, idp) = (env("prod"), AppName::new("idp").unwrap());
    assert_eq!(lock.holder(&prod, &idp).await.unwrap(), None);

    let alice = holder("alice@laptop", Duration::hours(1));
    lock.acquire(&alice).await.unwrap();
    assert_eq!(lock.holder(&prod, &idp).await.unwrap(), Some(alice.clone()));

    let err = lock
        .acquire(&holder("bob@laptop", Duration::hours(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("alice@laptop"), "{err}");

    // Someone else's release leaves the lock alone.
    lock.release(&prod, &idp, "bob@laptop").await.unwrap();
    assert_eq!(lock.holder(&prod, &idp).await.unwrap(), Some(alice.clone()));
    lock.release(&prod, &idp, "alice@laptop").await.unwrap();
    assert_eq!(lock.holder(&prod, &idp).await.unwrap(), None);
    // Releasing a lock nobody holds is fine.
    lock.release(&prod, &idp, "alice@laptop").await.unwrap();

    // Another app of the same environment is another lock.
    let mut pki = holder("carol", Duration::hours(1));
    pki.app = AppName::new("pki").unwrap();
    lock.acquire(&pki).await.unwrap();
    lock.acquire(&alice).await.unwrap();
}

#[tokio::test]
async fn a_stale_lock_is_broken() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let lock = SsmDeployLock::new(moto.clients().await, Arc::new(SystemClock));
    let mut stale = holder("crashed@ci", Duration::hours(1));
    stale.acquired_at -= Duration::hours(3);
    stale.expires_at = Utc::now() - Duration::hours(2);
    lock.acquire(&stale).await.unwrap();
    let fresh = holder("alice@laptop", Duration::hours(1));
    lock.acquire(&fresh).await.unwrap();
    assert_eq!(
        lock.holder(&fresh.env, &fresh.app).await.unwrap(),
        Some(fresh)
    );
}

/// The real clock, except that while the deploy that broke a stale lock waits to read it
/// back, another deploy (`rival`) that found the same stale lock deletes it and takes it.
#[derive(Debug)]
struct RivalBreaksInDuringTheWait {
    clients: AwsClients,
    rival: LockHolder,
}

#[async_trait::async_trait]
impl deploykit_core::ports::clock::Clock for RivalBreaksInDuringTheWait {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now()
    }

    async fn sleep(&self, _duration: std::time::Duration) {
        let name = SsmDeployLock::parameter_name(&self.rival.env, &self.rival.app);
        self.clients
            .ssm
            .delete_parameter()
            .name(name)
            .send()
            .await
            .unwrap();
        SsmDeployLock::new(self.clients.clone(), Arc::new(SystemClock))
            .acquire(&self.rival)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn two_deploys_breaking_one_stale_lock_at_once_do_not_both_hold_it() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    let mut stale = holder("crashed@ci", Duration::hours(1));
    stale.expires_at = Utc::now() - Duration::hours(2);
    SsmDeployLock::new(clients.clone(), Arc::new(SystemClock))
        .acquire(&stale)
        .await
        .unwrap();
    let bob = holder("bob@laptop", Duration::hours(1));
    let alice = SsmDeployLock::new(
        clients.clone(),
        Arc::new(RivalBreaksInDuringTheWait {
            clients: clients.clone(),
            rival: bob.clone(),
        }),
    );
    let err = alice
        .acquire(&holder("alice@laptop", Duration::hours(1)))
        .await
        .expect_err("bob took it in the meantime");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("bob@laptop"), "{err}");
    assert_eq!(alice.holder(&bob.env, &bob.app).await.unwrap(), Some(bob));
}

async fn put_lines(c: &AwsClients, group: &str, stream: &str, lines: &[&str]) {
    let base = Utc::now().timestamp_millis();
    let mut req = c
        .logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for (n, l) in lines.iter().enumerate() {
        req = req.log_events(
            InputLogEvent::builder()
                .timestamp(base + n as i64)
                .message(*l)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
}

#[tokio::test]
async fn migration_logs_are_read_on_from_the_cursor_without_loss_or_repeat() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    let logs = CloudWatchMigrationLogs::new(c.clone(), &env("prod"));
    let group = logs.log_group().to_string();
    assert_eq!(group, "prod_/var/log/cloud-init-output.log");
    let instance = InstanceId::new("i-0abc123def4567890").unwrap();

    // No log group / stream yet: no lines, not an error.
    let chunk = logs.read_log(&instance, None).await.unwrap();
    assert!(chunk.lines.is_empty());
    c.logs
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let chunk = logs.read_log(&instance, None).await.unwrap();
    assert!(chunk.lines.is_empty());

    c.logs
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(instance.as_str())
        .send()
        .await
        .unwrap();
    put_lines(
        &c,
        &group,
        instance.as_str(),
        &["== provision.sh ==", "db:migrate"],
    )
    .await;
    let first = logs.read_log(&instance, None).await.unwrap();
    assert_eq!(first.lines, ["== provision.sh ==", "db:migrate"]);

    // Nothing new: no lines, and the cursor still works.
    let empty = logs
        .read_log(&instance, first.cursor.clone())
        .await
        .unwrap();
    assert!(empty.lines.is_empty(), "{:?}", empty.lines);

    put_lines(
        &c,
        &group,
        instance.as_str(),
        &[
            "migrated",
            "All done! provision.sh finished for identity-devops",
        ],
    )
    .await;
    let second = logs
        .read_log(&instance, empty.cursor.clone())
        .await
        .unwrap();
    assert_eq!(
        second.lines,
        [
            "migrated",
            "All done! provision.sh finished for identity-devops"
        ]
    );

    // Another stream pattern.
    let other = CloudWatchMigrationLogs::new(c.clone(), &env("prod"))
        .with_stream_pattern("{instance_id}/cloud-init");
    assert_eq!(
        other.stream_name(&instance),
        "i-0abc123def4567890/cloud-init"
    );
    assert!(
        other
            .read_log(&instance, None)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
}

#[tokio::test]
async fn ssm_tail_sends_one_bounded_command_and_polls_its_invocation() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let counter = CallCounter::new();
    let c = moto.clients_with(&[counter.interceptor()]).await;
    support::seed(&c).await;
    let groups = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("prod-idp")
        .send()
        .await
        .unwrap();
    let id = groups.auto_scaling_groups()[0].instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let instance = InstanceId::new(&id).unwrap();
    let tail = SsmTailLogs::new(c.clone(), Arc::new(SystemClock)).with_max_lines(50);
    assert!(tail.script(7).contains("tail -n +7"));
    assert!(tail.script(7).contains("head -n 50"));
    counter.clear();
    let chunk = tail
        .read_log(&instance, Some("7".to_string()))
        .await
        .unwrap();
    // moto runs nothing: no output, so no lines and the cursor stays on line 7.
    assert!(chunk.lines.is_empty());
    assert_eq!(chunk.cursor.as_deref(), Some("7"));
    assert_eq!(counter.calls(), ["SendCommand", "GetCommandInvocation"]);

    let err = tail
        .read_log(&instance, Some("seven".to_string()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        SsmTailLogs::new(c, Arc::new(SystemClock))
            .with_log_path("/tmp/x; rm -rf /")
            .is_err()
    );
}

/// A Logs Insights monitor on moto with its calls counted, and a 16-minute window ending a
/// minute from now for idp in prod.
struct MonitorRig {
    counter: CallCounter,
    c: AwsClients,
    monitor: LogsInsightsMonitor,
    now: chrono::DateTime<Utc>,
    window: MetricsWindow,
    prod: deploykit_core::model::names::EnvName,
    idp: RoleName,
}

impl MonitorRig {
    async fn new(moto: &MotoServer) -> MonitorRig {
        let counter = CallCounter::new();
        let c = moto.clients_with(&[counter.interceptor()]).await;
        let monitor = LogsInsightsMonitor::new(c.clone(), Arc::new(SystemClock));
        let now = Utc::now();
        let window = MetricsWindow {
            start: now - Duration::minutes(15),
            end: now + Duration::minutes(1),
        };
        MonitorRig {
            counter,
            c,
            monitor,
            now,
            window,
            prod: env("prod"),
            idp: RoleName::new("idp").unwrap(),
        }
    }
}

#[tokio::test]
async fn the_monitor_queries_the_request_log_and_says_no_data_when_there_is_none() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let MonitorRig {
        counter,
        c,
        monitor,
        now,
        window,
        prod,
        idp,
    } = MonitorRig::new(&moto).await;

    let err = monitor.sample(&prod, &idp, &window).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .contains("prod_/srv/idp/shared/log/production.log"),
        "{err}"
    );
    // What a deploy's preflight asks first: the log group is missing, named, with where to
    // look; a group whose name only starts the same does not count.
    c.logs
        .create_log_group()
        .log_group_name("prod_/srv/idp/shared/log/production.log.old")
        .send()
        .await
        .unwrap();
    let err = monitor.check_readable(&prod, &idp).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains(
            "the request log group prod_/srv/idp/shared/log/production.log does not exist"
        ) && err.to_string().contains("aws.region"),
        "{err}"
    );

    let group = "prod_/srv/idp/shared/log/production.log";
    c.logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    monitor.check_readable(&prod, &idp).await.expect("readable");
    counter.clear();
    let sample = monitor.sample(&prod, &idp, &window).await.unwrap();
    assert!(sample.per_sha.is_empty(), "no requests: no data");
    assert_eq!(sample.window, window);
    assert_eq!(counter.calls(), ["StartQuery", "GetQueryResults"]);

    let err = monitor
        .sample(
            &prod,
            &idp,
            &MetricsWindow {
                start: now,
                end: now,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn the_split_by_instance_queries_the_request_log_and_says_no_data_when_there_is_none() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let MonitorRig {
        counter,
        c,
        monitor,
        now,
        window,
        prod,
        idp,
    } = MonitorRig::new(&moto).await;
    let old = [InstanceId::new("i-0123456789abcdef0").unwrap()];
    let group = "prod_/srv/idp/shared/log/production.log";

    let err = monitor
        .sample_by_instance(&prod, &idp, &window, &old)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(group), "{err}");

    c.logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    counter.clear();
    let split = monitor
        .sample_by_instance(&prod, &idp, &window, &old)
        .await
        .unwrap()
        .expect("Logs Insights tells instances apart by log stream");
    assert_eq!(split.window, window);
    assert_eq!((split.old_instances, split.new_instances), (None, None));
    assert_eq!(counter.calls(), ["StartQuery", "GetQueryResults"]);

    // moto answers with raw events (no SHA: left out); with rows, the events log is asked
    // too, and its absence means no flow figures, not an error.
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("ip-10-0-1-23")
        .send()
        .await
        .unwrap();
    put_lines(&c, group, "ip-10-0-1-23", &["GET / 200"]).await;
    counter.clear();
    let split = monitor
        .sample_by_instance(&prod, &idp, &window, &old)
        .await
        .unwrap()
        .expect("rows without a SHA do not prevent the split");
    assert_eq!((split.old_instances, split.new_instances), (None, None));
    // The events log query is refused at StartQuery: there is no events log.
    assert_eq!(
        counter.calls(),
        ["StartQuery", "GetQueryResults", "StartQuery"]
    );

    // Custom queries without split queries: "cannot tell", without asking AWS.
    counter.clear();
    let custom = monitor.clone().with_queries(
        "stats count(*) as requests by git_sha",
        "stats count(*) as attempts by git_sha, name",
    );
    assert_eq!(
        custom
            .sample_by_instance(&prod, &idp, &window, &old)
            .await
            .unwrap(),
        None
    );
    assert!(counter.calls().is_empty(), "{:?}", counter.calls());

    let err = monitor
        .sample_by_instance(
            &prod,
            &idp,
            &MetricsWindow {
                start: now,
                end: now,
            },
            &old,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
