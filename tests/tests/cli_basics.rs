//! The `deploykit` binary: help, version, planned commands, exit codes.

use deploykit_tests::{run, stderr, stdout};

#[test]
fn help_lists_every_planned_command() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for command in [
        "demo", "changelog", "rc", "release", "deploy", "rollback", "resume", "recycle",
        "scale-in", "servers", "asg", "migration", "monitor", "cadence", "status", "report",
        "config",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "--help does not list {command}:\n{text}"
        );
    }
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), format!("deploykit {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_names_are_usage_errors_that_say_what_is_wrong() {
    let out = run(&["--sandbox", "recycle", "Prod", "idp"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid environment name \"Prod\""), "{}", stderr(&out));
}

#[test]
fn json_errors_carry_the_kind() {
    let out = run(&["--json", "--sandbox", "asg", "size", "prod", "nosuchrole"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(doc["error"]["kind"], "not_found");
    assert!(doc["error"]["message"].as_str().is_some_and(|m| m.contains("prod-nosuchrole")));
}
