//! The `deploykit` binary stopped by Ctrl-C (SIGINT) or SIGTERM: it stops, says what
//! stopped (for a command that only reads, no more than that), and exits with the code a
//! shell reports for the signal. (That a stopped deploy names its run and resumes is tested
//! with the stopping itself, in the CLI's `interrupt`.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use deploykit_tests::deploykit_bin;

/// A running `deploykit` and its standard error, read to the end by a thread.
struct Running {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

/// `deploykit --sandbox monitor prod idp`, which refreshes until it is stopped, once it has
/// printed its first table (so its signal handling is in place).
fn refreshing_monitor(state: &std::path::Path) -> Running {
    let mut child = Command::new(deploykit_bin())
        .args(["--sandbox", "monitor", "prod", "idp", "--interval", "1"])
        .env("XDG_STATE_HOME", state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start deploykit: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    // Keep reading both, so that a full pipe never holds the process up.
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let (first, printed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if !line.trim().is_empty() {
                let _ = first.send(());
            }
        }
    });
    printed
        .recv_timeout(Duration::from_secs(60))
        .expect("the monitor printed nothing");
    Running { child, stderr }
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits for the process to end; a process still running after a minute failed to stop.
fn ended(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("deploykit did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the refreshing monitor, sends `signal`, and checks that the process ended with
/// `code` and said `said` on standard error.
fn stops_on(signal: &str, code: i32, said: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Running { mut child, stderr } = refreshing_monitor(dir.path());
    send(&child, signal);
    let status = ended(&mut child);
    let err = stderr.join().expect("stderr reader");
    assert_eq!(status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(said), "{said:?} missing from stderr: {err}");
}

#[test]
fn ctrl_c_stops_a_command_with_exit_130_and_says_so() {
    stops_on(
        "INT",
        130,
        "deploykit: Ctrl-C (SIGINT) stopped the command\n",
    );
}

#[test]
fn sigterm_stops_a_command_with_exit_143_and_says_so() {
    stops_on("TERM", 143, "deploykit: SIGTERM stopped the command\n");
}
