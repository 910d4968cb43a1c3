//! What an operator notices about environment names and AWS settings (moto-backed where a
//! server is needed):
//!
//! - `recycle dev ALL` recycles `dev`'s groups, never those of the sandbox `dev-jdoe`;
//! - another tool's group (`staging-GitLab.Runner`) does not break `servers ls` or `recycle`;
//! - a bad `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` is bad input naming the variable, not a
//!   panic;
//! - no credentials at all is a permanent "no AWS credentials were found", not "could not
//!   reach AWS";
//! - a missing group names the region (and endpoint) that was searched.
//!
//! The environment variable cases run in a child process (this test binary again, filtered
//! to [`child_calls_aws_with_this_environment`]) so that each gets its own environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use deploykit_aws::moto::{MotoServer, REGION};
use deploykit_aws::{AwsClients, AwsFleet};
use deploykit_core::config::AwsConfig;
use deploykit_core::error::ErrorKind;
use deploykit_core::events::NullSink;
use deploykit_core::fleet_ops::FleetContext;
use deploykit_core::fleet_ops::recycle::{RecycleRequest, recycle};
use deploykit_core::fleet_ops::servers::list_servers;
use deploykit_core::model::names::{RoleName, RoleSelector};
use deploykit_core::ports::clock::SystemClock;
use deploykit_core::ports::fleet::Fleet;
use support::{create_group, env, group, network};

/// Desired capacity of `name`, read with the SDK.
async fn desired(c: &AwsClients, name: &str) -> i32 {
    let out = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .unwrap();
    out.auto_scaling_groups()[0].desired_capacity().unwrap()
}

#[tokio::test]
async fn recycling_dev_leaves_the_dev_jdoe_sandbox_alone() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    let (_, subnet) = network(&c).await;
    for name in ["dev-idp", "dev-jdoe-idp", "dev-jdoe-worker"] {
        create_group(&c, &subnet, name, 1, 4, &[], None).await;
    }
    let fleet = AwsFleet::new(c.clone());

    // `deploykit recycle dev ALL --skip-migration`.
    let ctx = FleetContext {
        fleet: &fleet,
        clock: &SystemClock,
        events: &NullSink,
    };
    let mut req = RecycleRequest::new(env("dev"), RoleSelector::All);
    req.skip_migration = true;
    let outcome = recycle(&ctx, &req).await.unwrap();
    let recycled: Vec<String> = outcome.groups.iter().map(|g| g.group.to_string()).collect();
    assert_eq!(recycled, ["dev-idp"], "only dev's own group is recycled");
    assert_eq!(desired(&c, "dev-idp").await, 2, "dev-idp scaled out");
    assert_eq!(
        (
            desired(&c, "dev-jdoe-idp").await,
            desired(&c, "dev-jdoe-worker").await
        ),
        (1, 1),
        "the sandbox's groups are untouched"
    );

    // Listing: dev's own group; the sandbox still lists its own.
    let names = |groups: Vec<deploykit_core::model::fleet::Group>| -> Vec<String> {
        groups.iter().map(|g| g.name.to_string()).collect()
    };
    assert_eq!(names(fleet.groups(&env("dev")).await.unwrap()), ["dev-idp"]);
    let sandbox = names(fleet.groups(&env("dev-jdoe")).await.unwrap());
    assert_eq!(sandbox, ["dev-jdoe-idp", "dev-jdoe-worker"]);
}

#[tokio::test]
async fn another_tools_group_does_not_break_the_environment() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let c = moto.clients().await;
    let (_, subnet) = network(&c).await;
    create_group(&c, &subnet, "staging-idp", 1, 4, &[], None).await;
    create_group(&c, &subnet, "staging-GitLab.Runner", 1, 2, &[], None).await;
    let fleet = AwsFleet::new(c.clone());
    let ctx = FleetContext {
        fleet: &fleet,
        clock: &SystemClock,
        events: &NullSink,
    };

    // `deploykit servers ls -e staging`: staging-idp's one server, nothing of the runner.
    let rows = list_servers(&ctx, &env("staging"), None).await.unwrap();
    let rows_json = serde_json::to_string(&rows).unwrap();
    assert_eq!(rows.len(), 1, "{rows_json}");
    assert!(rows_json.contains("staging-idp"), "{rows_json}");
    assert!(!rows_json.contains("GitLab"), "{rows_json}");

    // `deploykit recycle staging idp --skip-migration --dry-run`.
    let mut req = RecycleRequest::new(
        env("staging"),
        RoleSelector::Role(RoleName::new("idp").unwrap()),
    );
    req.skip_migration = true;
    req.dry_run = true;
    let outcome = recycle(&ctx, &req).await.unwrap();
    let planned: Vec<String> = outcome.groups.iter().map(|g| g.group.to_string()).collect();
    assert_eq!(planned, ["staging-idp"]);
}

#[tokio::test]
async fn a_missing_group_names_the_region_and_endpoint_searched() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let fleet = AwsFleet::new(moto.clients().await);
    let err = fleet.group(&group("prod", "nosuch")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let text = err.to_string();
    assert!(
        text.contains(&format!("in region {REGION} at {}", moto.endpoint())),
        "{text}"
    );
    assert_eq!(
        fleet.searched(),
        format!("region {REGION} at {}", moto.endpoint())
    );
    // An environment with no group at all (a typo, or the wrong region) says the same.
    let err = deploykit_core::fleet_ops::env_groups(&fleet, &env("prdo"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "no Auto Scaling group in environment prdo (looked for in region {REGION} at {})",
            moto.endpoint()
        )),
        "{text}"
    );
}

/// The variable that makes [`child_calls_aws_with_this_environment`] run (else it returns).
const CHILD: &str = "DEPLOYKIT_TEST_CHILD_EXPECTS";

/// AWS variables of this machine the child must not see: credential sources, retry settings
/// and the endpoint.
const AWS_VARS: [&str; 12] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_ENDPOINT_URL",
];

/// Runs [`child_calls_aws_with_this_environment`] in a child process with `vars` set (after
/// removing every AWS credential and retry variable, and pointing the AWS config files at
/// nothing) and returns its exit status and output.
fn run_child(expects: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("deploykit-no-aws-config-{}", std::process::id()));
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_calls_aws_with_this_environment",
        "--nocapture",
        "--test-threads=1",
    ]);
    for v in AWS_VARS {
        cmd.env_remove(v);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(CHILD, expects);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The child: `deploykit servers ls -e prod` on clients built as the CLI builds them
/// (`AwsClients::from_settings` over `[aws]` with `AWS_PROFILE` and `AWS_ENDPOINT_URL`),
/// printing what the operator would see, and checking it against what the parent expects:
/// `ok`, `invalid_input` or `unauthenticated`.
#[tokio::test]
async fn child_calls_aws_with_this_environment() {
    let Ok(expects) = std::env::var(CHILD) else {
        return;
    };
    let aws = AwsConfig {
        region: REGION.to_string(),
        profile: std::env::var("AWS_PROFILE").ok(),
        endpoint_url: Some(
            std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:9".into()),
        ),
    };
    // The CLI builds its clients, then lists: a bad setting is refused at the first.
    let result = match AwsClients::from_settings(&aws).await {
        Ok(clients) => {
            let fleet = AwsFleet::new(clients);
            let ctx = FleetContext {
                fleet: &fleet,
                clock: &SystemClock,
                events: &NullSink,
            };
            list_servers(&ctx, &env("prod"), None).await
        }
        Err(e) => Err(e),
    };
    match &result {
        Ok(rows) => println!("CHILD OK {} servers", rows.len()),
        Err(e) => println!(
            "CHILD ERROR kind={} temporary={} message={e}",
            e.kind(),
            e.is_temporary()
        ),
    }
    match expects.as_str() {
        "ok" => assert!(result.is_ok()),
        "invalid_input" => {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        }
        "unauthenticated" => {
            let err = result.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
            assert!(!err.is_temporary(), "{err}");
        }
        other => panic!("unknown expectation {other}"),
    }
}

#[test]
fn bad_retry_variables_are_bad_input_naming_them_not_a_panic() {
    for (var, value, accepted) in [
        ("AWS_MAX_ATTEMPTS", "", "an integer >= 1"),
        ("AWS_MAX_ATTEMPTS", "abc", "an integer >= 1"),
        ("AWS_MAX_ATTEMPTS", "0", "an integer >= 1"),
        ("AWS_MAX_ATTEMPTS", "-1", "an integer >= 1"),
        ("AWS_RETRY_MODE", "bogus", "standard or adaptive"),
        ("AWS_RETRY_MODE", "", "standard or adaptive"),
    ] {
        let (ok, out) = run_child(
            "invalid_input",
            &[
                (var, value),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        );
        assert!(ok, "{var}={value:?}: the child failed:\n{out}");
        assert!(!out.contains("panicked"), "{var}={value:?}:\n{out}");
        let line = out
            .lines()
            .find_map(|l| l.find("CHILD ERROR").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("{var}={value:?}: no error shown:\n{out}"));
        assert!(
            line.contains("kind=invalid_input")
                && line.contains(&format!("{var} is set to {value:?}"))
                && line.contains(accepted),
            "{var}={value:?}: {line}"
        );
    }
}

#[test]
fn good_retry_variables_are_used() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let c = moto.clients().await;
        let (_, subnet) = network(&c).await;
        create_group(&c, &subnet, "prod-idp", 1, 2, &[], None).await;
    });
    let endpoint = moto.endpoint();
    for (var, value) in [
        ("AWS_MAX_ATTEMPTS", "2"),
        ("AWS_RETRY_MODE", "adaptive"),
        ("AWS_RETRY_MODE", "standard"),
    ] {
        let (ok, out) = run_child(
            "ok",
            &[
                (var, value),
                ("AWS_ENDPOINT_URL", &endpoint),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
            ],
        );
        assert!(
            ok && out.contains("CHILD OK 1 servers"),
            "{var}={value}:\n{out}"
        );
    }
}

#[test]
fn no_credentials_is_a_permanent_credentials_error_not_a_network_one() {
    for profile in [None, Some("nosuch-profile")] {
        let vars: Vec<(&str, &str)> = profile.iter().map(|p| ("AWS_PROFILE", *p)).collect();
        let (ok, out) = run_child("unauthenticated", &vars);
        assert!(ok, "AWS_PROFILE {profile:?}: the child failed:\n{out}");
        let line = out
            .lines()
            .find_map(|l| l.find("CHILD ERROR").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no error shown:\n{out}"));
        for wanted in [
            "kind=unauthenticated",
            "temporary=false",
            "no AWS credentials were found",
            "aws-vault exec PROFILE -- deploykit",
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(line.contains(wanted), "{wanted:?} missing: {line}");
        }
        assert!(!line.contains("could not reach AWS"), "{line}");
        if let Some(p) = profile {
            assert!(line.contains(&format!("AWS_PROFILE is {p:?}")), "{line}");
        }
    }
}
