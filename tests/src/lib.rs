//! Support for deploykit's end-to-end tests: finding and running the `deploykit` binary.

pub mod release_repo;
pub mod secret_audit;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The `deploykit` binary of this build, built first if `cargo test` did not build it.
pub fn deploykit_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> -> target/<profile>/deploykit
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let bin = profile_dir.join("deploykit");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "deploykit-cli"])
            .current_dir(workspace_root())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "could not build the deploykit binary"
        );
    }
    bin
}

/// Runs `deploykit` with `args` in `dir`, with the given extra environment.
pub fn run_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(deploykit_bin());
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run deploykit {args:?}: {e}"))
}

/// Runs `deploykit` with `args` in a temporary directory, which is also its state directory
/// (so runs and demos never write to the user's).
pub fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let state = dir.path().join("state").display().to_string();
    run_in(dir.path(), args, &[("XDG_STATE_HOME", state.as_str())])
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
