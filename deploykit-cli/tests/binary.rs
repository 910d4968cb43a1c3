//! The binary itself starts and identifies itself. (Having an integration test here also makes
//! `cargo test --workspace` build the `deploykit` binary that the end-to-end tests in `tests/`
//! run.)

use std::process::Command;

#[test]
fn the_binary_prints_its_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_deploykit"))
        .arg("--version")
        .output()
        .expect("run deploykit");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("deploykit {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_deploykit"))
        .arg("deploy-everything")
        .output()
        .expect("run deploykit");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}
