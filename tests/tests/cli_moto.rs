//! The `deploykit` binary against a moto server (`AWS_ENDPOINT_URL` pointing at it):
//! servers ls, asg size, recycle of `prod-idp` with the migration group first, the scheduled
//! actions checked with the SDK and their effect applied by hand (moto never fires them),
//! then scale-in of the old instances; the deploy lock shown and released by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../deploykit-aws/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;

use deploykit_aws::moto::MotoServer;
use deploykit_aws::{AwsClients, SsmDeployLock};
use deploykit_core::ports::{Clock, DeployLock, LockHolder, SystemClock};
use deploykit_core::{DELAYED_SCALE_OUT_ACTION, RECYCLE_ACTION};
use deploykit_tests::{run_in, stderr, stdout};

fn cli(moto: &MotoServer, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let env = moto.env_vars();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_in(dir.path(), args, &env)
}

async fn group(c: &AwsClients, name: &str) -> (i32, Vec<String>, Vec<(String, Option<i32>)>) {
    let g = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .unwrap();
    let g = &g.auto_scaling_groups()[0];
    let ids = g
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(String::from))
        .collect();
    let actions = c
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name(name)
        .send()
        .await
        .unwrap();
    let mut actions: Vec<(String, Option<i32>)> = actions
        .scheduled_update_group_actions()
        .iter()
        .filter(|a| a.auto_scaling_group_name() == Some(name))
        .map(|a| {
            (
                a.scheduled_action_name().unwrap_or_default().to_string(),
                a.desired_capacity(),
            )
        })
        .collect();
    actions.sort();
    (g.desired_capacity().unwrap_or(0), ids, actions)
}

async fn fire(c: &AwsClients, name: &str, action: &str, desired: i32) {
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .desired_capacity(desired)
        .send()
        .await
        .unwrap();
    c.autoscaling
        .delete_scheduled_action()
        .auto_scaling_group_name(name)
        .scheduled_action_name(action)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn recycle_and_scale_in_prod_idp_through_the_cli() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    support::seed(&c).await;
    let (_, old_ids, _) = group(&c, "prod-idp").await;
    assert_eq!(old_ids.len(), 2);

    let ls = cli(&moto, &["servers", "ls", "-e", "prod"]);
    assert!(ls.status.success(), "{}", stderr(&ls));
    for id in &old_ids {
        assert!(
            stdout(&ls).contains(id.as_str()),
            "ls-servers lists {id}:\n{}",
            stdout(&ls)
        );
    }
    assert!(
        stdout(&ls).contains("0123456"),
        "the gitsha tag is shown:\n{}",
        stdout(&ls)
    );

    let size = cli(&moto, &["--json", "asg", "size", "prod", "idp"]);
    assert!(size.status.success(), "{}", stderr(&size));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&size)).unwrap();
    assert_eq!(doc["capacity"]["desired"], 2);
    assert_eq!(doc["capacity"]["max"], 8);

    // Instances launched by the recycle must be newer (launch times have 1 s resolution).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let recycle = cli(&moto, &["recycle", "prod", "idp"]);
    assert!(recycle.status.success(), "{}", stderr(&recycle));
    assert!(
        stdout(&recycle).contains("prod-idp: desired 2 -> 4"),
        "{}",
        stdout(&recycle)
    );

    let (migration_desired, migration_ids, _) = group(&c, "prod-migration").await;
    assert_eq!(
        (migration_desired, migration_ids.len()),
        (1, 1),
        "migration first"
    );
    let (desired, _, actions) = group(&c, "prod-idp").await;
    assert_eq!(
        desired, 2,
        "the app's scale-out waits for the migration head start"
    );
    assert_eq!(
        actions,
        vec![
            (DELAYED_SCALE_OUT_ACTION.to_string(), Some(4)),
            (RECYCLE_ACTION.to_string(), Some(2)),
        ],
        "the doubling and the spindown live on the group"
    );

    // A second recycle while this one is in progress is refused.
    let again = cli(&moto, &["recycle", "prod", "idp"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("in progress"), "{}", stderr(&again));

    // moto never fires scheduled actions: apply their effect by hand.
    fire(&c, "prod-idp", DELAYED_SCALE_OUT_ACTION, 4).await;
    fire(&c, "prod-idp", RECYCLE_ACTION, 2).await;
    let (desired, ids, _) = group(&c, "prod-idp").await;
    assert_eq!(
        (desired, ids.len()),
        (2, 4),
        "protected old instances survive the spindown"
    );
    let new_ids: BTreeSet<String> = ids
        .iter()
        .filter(|i| !old_ids.contains(i))
        .cloned()
        .collect();

    // Until scale-in, the monitor can split the figures: the two launched first are old.
    // (moto's Logs Insights returns no rows: the split has no figures, but says which is which.)
    c.logs
        .create_log_group()
        .log_group_name("prod_/srv/idp/shared/log/production.log")
        .send()
        .await
        .unwrap();
    let by_instance = cli(
        &moto,
        &[
            "--json",
            "monitor",
            "prod",
            "idp",
            "--count",
            "1",
            "--by-instance",
        ],
    );
    assert!(by_instance.status.success(), "{}", stderr(&by_instance));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&by_instance)).unwrap();
    let note = doc["note"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("old instances: i-")
            && note.ends_with(
                " (2 of prod-idp, launched before the newest 2); new instances: the rest"
            ),
        "{doc}"
    );
    assert!(old_ids.iter().all(|id| note.contains(id.as_str())), "{doc}");
    assert!(
        !new_ids.iter().any(|id| note.contains(id.as_str())),
        "{doc}"
    );

    // The new instances are past their grace period (time we cannot wait for here).
    support::end_grace_period(&c, "prod-idp").await;
    let scale_in = cli(&moto, &["--json", "scale-in", "old", "prod", "idp"]);
    assert!(scale_in.status.success(), "{}", stderr(&scale_in));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&scale_in)).unwrap();
    let removed: BTreeSet<String> = doc["groups"][0]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(removed, old_ids.iter().cloned().collect::<BTreeSet<_>>());

    // Real Auto Scaling terminates the unprotected instances; moto needs a nudge.
    fire_desired(&c, "prod-idp", 2).await;
    let (_, left, _) = group(&c, "prod-idp").await;
    assert_eq!(left.into_iter().collect::<BTreeSet<_>>(), new_ids);
}

async fn fire_desired(c: &AwsClients, name: &str, desired: i32) {
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .desired_capacity(desired)
        .send()
        .await
        .unwrap();
}

async fn put_lines(c: &AwsClients, group: &str, stream: &str, lines: &[&str]) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    // The log group is made once, for the first instance.
    if let Err(e) = c.logs.create_log_group().log_group_name(group).send().await {
        assert!(
            e.as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception()),
            "{e:?}"
        );
    }
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let base = chrono::Utc::now().timestamp_millis();
    let mut req = c
        .logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream);
    for (n, line) in lines.iter().enumerate() {
        let event = InputLogEvent::builder()
            .timestamp(base + n as i64)
            .message(*line)
            .build()
            .unwrap();
        req = req.log_events(event);
    }
    req.send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn migration_logs_and_monitor_through_the_cli() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    support::seed(&c).await;
    fire_desired(&c, "prod-migration", 1).await;
    let (_, migration, _) = group(&c, "prod-migration").await;
    let instance = migration.first().expect("a migration instance").clone();
    put_lines(
        &c,
        "prod_/var/log/cloud-init-output.log",
        &instance,
        &[
            "Cloud-init v. 23.1 running 'modules:final'",
            "bundle exec rake db:create db:migrate",
            "== 20241120150000 AddDeployKitColumn: migrated (0.0123s) ==",
            "All done! provision.sh finished for identity-devops",
        ],
    )
    .await;
    let logs = cli(&moto, &["migration", "logs", "prod", "--timeout", "120"]);
    assert!(logs.status.success(), "{}", stderr(&logs));
    let text = stdout(&logs);
    assert!(text.contains("db:migrate"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("All done! provision.sh finished for identity-devops"),
        "follows the newest migration instance's log to its final marker:\n{text}"
    );

    // A newer migration instance whose migration failed: the lines, then the verdict the
    // deploy's migration gate would reach, and exit 1.
    // Launched a second later, so that it is the newest one (launch times are in seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    fire_desired(&c, "prod-migration", 2).await;
    let (_, migration, _) = group(&c, "prod-migration").await;
    let newer = migration
        .iter()
        .find(|i| **i != instance)
        .expect("a second migration instance")
        .clone();
    put_lines(
        &c,
        "prod_/var/log/cloud-init-output.log",
        &newer,
        &[
            "bundle exec rake db:migrate",
            "rake aborted!",
            "provision.sh: ERROR -- exiting after failure",
        ],
    )
    .await;
    let failed = cli(&moto, &["migration", "logs", "prod", "--timeout", "120"]);
    let err = stderr(&failed);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    assert!(
        stdout(&failed).contains("rake aborted!"),
        "{}",
        stdout(&failed)
    );
    assert!(
        err.contains(&format!("the migration on {newer} failed: rake aborted!")),
        "{err}"
    );

    // The request log exists but has no requests in the window: "no data", not zero errors.
    c.logs
        .create_log_group()
        .log_group_name("prod_/srv/idp/shared/log/production.log")
        .send()
        .await
        .unwrap();
    let monitor = cli(&moto, &["--json", "monitor", "prod", "idp", "--count", "1"]);
    assert!(monitor.status.success(), "{}", stderr(&monitor));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&monitor)).unwrap();
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(0), "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_lock_is_shown_and_released_only_by_naming_its_holder() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    let lock = SsmDeployLock::new(c.clone(), std::sync::Arc::new(SystemClock));
    let (env, app) = (
        support::env("prod"),
        deploykit_core::AppName::new("idp").unwrap(),
    );
    let run = "20261124T150000Z-idp-prod";
    let now = SystemClock.now();
    lock.acquire(&LockHolder {
        env: env.clone(),
        app: app.clone(),
        owner: format!("bob@laptop (run {run})"),
        acquired_at: now,
        expires_at: now + chrono::Duration::hours(4),
    })
    .await
    .unwrap();
    let cli_in_place = |args: &[&str]| tokio::task::block_in_place(|| cli(&moto, args));

    let show = cli_in_place(&["lock", "show", "prod", "idp"]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(
        text.contains("held by bob@laptop (run 20261124T150000Z-idp-prod)"),
        "{text}"
    );
    assert!(text.contains(&format!("deploykit resume {run}")), "{text}");

    // While the run holds the lock, changes by hand to idp's groups are refused before
    // anything is read or changed, naming the run; nothing was seeded, and nothing is asked.
    for args in [
        &["recycle", "prod", "idp"][..],
        &["scale-in", "old", "prod", "worker"][..],
        &["asg", "size", "prod", "idp", "--max", "20"][..],
    ] {
        let refused = cli_in_place(args);
        let err = stderr(&refused);
        assert_eq!(refused.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the deploy run {run} holds the deploy lock of idp in prod"
            )),
            "{args:?}: {err}"
        );
    }

    // Another run named: refused, naming the real holder; the lock stays.
    let wrong = cli_in_place(&[
        "--yes",
        "lock",
        "release",
        "prod",
        "idp",
        "20261124T090000Z-idp-prod",
    ]);
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("bob@laptop"), "{}", stderr(&wrong));
    assert!(lock.holder(&env, &app).await.unwrap().is_some());

    // Not at a terminal and no --yes: refused, saying how to confirm.
    let unconfirmed = cli_in_place(&["lock", "release", "prod", "idp", run]);
    assert_eq!(
        unconfirmed.status.code(),
        Some(2),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(
        stderr(&unconfirmed).contains("--yes"),
        "{}",
        stderr(&unconfirmed)
    );
    assert!(lock.holder(&env, &app).await.unwrap().is_some());

    let released = cli_in_place(&["--yes", "lock", "release", "prod", "idp", run]);
    assert!(released.status.success(), "{}", stderr(&released));
    assert!(stdout(&released).contains("released the deploy lock of idp in prod"));
    assert_eq!(lock.holder(&env, &app).await.unwrap(), None);
    let show = cli_in_place(&["lock", "show", "prod", "idp"]);
    assert!(
        stdout(&show).contains("is free (in the SSM Parameter Store of region us-west-2)"),
        "{}",
        stdout(&show)
    );
    // A mistyped environment is unknown, not "free".
    let typo = cli_in_place(&["lock", "show", "prud", "idp"]);
    assert_eq!(typo.status.code(), Some(2), "{}", stderr(&typo));
    assert!(
        stderr(&typo).contains("unknown environment prud: did you mean prod?"),
        "{}",
        stderr(&typo)
    );
}
