//! The `deploykit` binary: help, version, planned commands, exit codes.

use deploykit_tests::{run, stderr, stdout};

#[test]
fn help_lists_every_planned_command() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for command in [
        "demo",
        "changelog",
        "rc",
        "release",
        "deploy",
        "rollback",
        "resume",
        "recycle",
        "scale-in",
        "servers",
        "asg",
        "migration",
        "monitor",
        "cadence",
        "status",
        "report",
        "config",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "--help does not list {command}:\n{text}"
        );
    }
}

#[test]
fn bad_names_are_usage_errors_that_say_what_is_wrong() {
    let out = run(&["--sandbox", "recycle", "Prod", "idp"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid environment name \"Prod\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_errors_carry_the_kind() {
    let out = run(&["--json", "--sandbox", "asg", "size", "prod", "nosuchrole"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(doc["error"]["kind"], "not_found");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("prod-nosuchrole"))
    );
}

#[test]
fn set_flags_override_the_configuration_and_typos_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("deploykit.toml"),
        "[aws]\nregion = \"us-west-2\"\n",
    )
    .expect("write config");
    let show = deploykit_tests::run_in(dir.path(), &["config", "show"], &[]);
    assert!(
        stdout(&show).contains("region = \"us-west-2\""),
        "{}",
        stdout(&show)
    );
    let over = deploykit_tests::run_in(
        dir.path(),
        &["--set", "aws.region=us-east-1", "config", "show"],
        &[],
    );
    assert!(over.status.success(), "{}", stderr(&over));
    assert!(
        stdout(&over).contains("region = \"us-east-1\""),
        "{}",
        stdout(&over)
    );
    let typo = deploykit_tests::run_in(
        dir.path(),
        &["--set", "aws.regoin=x", "config", "check"],
        &[],
    );
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        stderr(&typo).contains("region"),
        "the closest key is named: {}",
        stderr(&typo)
    );
    // As JSON: the same configuration, secrets redacted.
    let json = deploykit_tests::run_in(
        dir.path(),
        &["--json", "config", "show"],
        &[("GITHUB_TOKEN", "ghp_notshown123")],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(doc["aws"]["region"], "us-west-2");
    assert_eq!(doc["secrets"]["github_token"]["value"], "[REDACTED]");
    assert!(
        doc["config_file"]
            .as_str()
            .is_some_and(|f| f.ends_with("deploykit.toml"))
    );
    assert!(!stdout(&json).contains("ghp_notshown123"));
    let negative = deploykit_tests::run_in(
        dir.path(),
        &["--set", "monitor.min_requests=-3", "config", "check"],
        &[],
    );
    assert_eq!(negative.status.code(), Some(2));
    assert!(
        stderr(&negative)
            .contains("monitor.min_requests: \"-3\" is not a whole number of 0 or more"),
        "{}",
        stderr(&negative)
    );
    let bad = deploykit_tests::run_in(dir.path(), &["--set", "aws.region", "config", "show"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("KEY=VALUE"), "{}", stderr(&bad));
}

#[test]
fn monitor_by_instance_without_a_recycle_shows_the_per_sha_table_and_says_why() {
    let out = run(&[
        "--sandbox",
        "monitor",
        "prod",
        "idp",
        "--count",
        "1",
        "--by-instance",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("prod-idp: no recycle is replacing instances"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("current")), "{text}");
}

#[test]
fn an_environment_without_groups_is_not_found_naming_it() {
    for args in [
        &["--sandbox", "recycle", "prdo", "ALL"][..],
        &["--sandbox", "scale-in", "old", "prdo", "ALL"],
        &["--sandbox", "servers", "ls", "-e", "prdo"],
        &["--sandbox", "monitor", "prdo", "idp", "--count", "1"],
    ] {
        let out = run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("no Auto Scaling group in environment prdo")
                && err.contains("check the environment name")
                && err.contains("`deploykit servers ls -e ENV`"),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
    let out = run(&["--json", "--sandbox", "recycle", "prdo", "ALL"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(doc["error"]["kind"], "not_found");
    // A mistyped role of a real environment: named, with the roles there are (the monitor
    // said "no data" for ever).
    let out = run(&["--sandbox", "monitor", "prod", "foo", "--count", "1"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no Auto Scaling group named prod-foo: prod's roles are")
            && err.contains("idp"),
        "{err}"
    );
}

#[test]
fn monitor_json_is_one_document_a_line_per_refresh() {
    let out = run(&[
        "--json",
        "--sandbox",
        "monitor",
        "prod",
        "idp",
        "--count",
        "2",
        "--interval",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in lines {
        let doc: serde_json::Value = serde_json::from_str(line).expect("a JSON document a line");
        assert!(doc["rows"].is_array(), "{doc}");
        assert!(doc["window"]["end"].is_string(), "{doc}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_monitor_without_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    // `deploykit monitor ... | head -1`: the reader closes the pipe after the first bytes.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(deploykit_tests::deploykit_bin())
        .args(["--sandbox", "monitor", "prod", "idp", "--interval", "1"])
        .env("XDG_STATE_HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("first bytes");
    // The pipe's reader is gone now: the monitor must notice and end, not refresh forever.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the monitor went on writing to a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("exit");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn the_help_lists_the_exit_codes() {
    let out = run(&["--help"]);
    let text = stdout(&out);
    for code in [
        "0 ok",
        "1 failed",
        "2 bad input",
        "3 refused by a policy",
        "4 refused as unsafe",
        "5 rolled back",
        "6 paused",
        "69 not supported",
        "130 interrupted",
        "143 stopped by SIGTERM",
    ] {
        assert!(text.contains(code), "{code:?} missing from --help:\n{text}");
    }
}

#[test]
fn a_recycle_names_the_scale_in_only_where_the_guide_runs_it() {
    // Production keeps its old instances (protected from scale-in) until `scale-in old`.
    let out = run(&["--sandbox", "recycle", "prod", "idp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("then run `deploykit scale-in old prod idp`"),
        "{}",
        stdout(&out)
    );
    // Elsewhere the spindown removes them; a migration group goes back to 0 by itself.
    let out = run(&["--sandbox", "recycle", "staging", "idp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("its spindown removes the old instances")
            && !stdout(&out).contains("scale-in old"),
        "{}",
        stdout(&out)
    );
    let out = run(&["--sandbox", "recycle", "prod", "migration"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("scale-in") && !stdout(&out).contains("spindown removes"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_deploy_without_its_reason_is_refused_before_anything_is_prepared() {
    let out = run(&["--sandbox", "deploy", "prod", "idp", "--kind", "patch"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a patch deploy needs a reason: give it with --reason"),
        "{}",
        stderr(&out)
    );
    // No promotion PR was cut or opened for a deploy that cannot start.
    assert!(
        !stderr(&out).contains("open PR") && !stderr(&out).contains("push"),
        "{}",
        stderr(&out)
    );
}

/// The configuration's warnings reach every command, not only `config check` (which lists
/// them once, as before): with only the main Slack webhook, a command says the cross-posts
/// will not happen, without the webhook URL.
#[test]
fn configuration_warnings_are_said_by_every_command_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state").display().to_string();
    let hook = "https://hooks.slack.com/services/T0FAKE/B0FAKE/secretvalue";
    let env = [
        ("XDG_STATE_HOME", state.as_str()),
        ("HOME", state.as_str()),
        ("SLACK_WEBHOOK_URL", hook),
    ];
    let out = deploykit_tests::run_in(
        dir.path(),
        &["cadence", "check", "--date", "2026-12-08"],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.matches("no webhook for #login-delivery").count(),
        1,
        "{err}"
    );
    assert!(err.contains("no webhook for #login-devops"), "{err}");
    assert!(!err.contains("secretvalue"), "{err}");
    let out = deploykit_tests::run_in(dir.path(), &["config", "check"], &env);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        all.matches("no webhook for #login-delivery").count(),
        1,
        "{all}"
    );
}

/// In the sandbox, the calendar's "today" is the simulated world's (2026-11-24, the day its
/// sandboxed deploys run), so `cadence check --sandbox` and a sandboxed deploy agree.
#[test]
fn the_sandbox_calendar_is_the_simulated_worlds_today() {
    let out = run(&["--sandbox", "cadence", "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("2026-11-24 (Tuesday)"),
        "{}",
        stdout(&out)
    );
}
