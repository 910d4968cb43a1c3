//! The questions a deploy asks at a terminal, answered through a pseudo-terminal
//! (util-linux `script`): the smoke tests after the follow-up check. Skipped, saying so, where
//! `script` is not installed.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};

use deploykit_tests::deploykit_bin;

/// `deploykit ARGS` started on a pseudo-terminal (util-linux `script`) with its state in
/// `state`, its terminal's input and output piped. `None` when `script` is not available.
fn start_on_a_terminal(args: &[&str], state: &std::path::Path) -> Option<Child> {
    let command = std::iter::once(deploykit_bin().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    match Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("XDG_STATE_HOME", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => Some(child),
        Err(e) => {
            eprintln!("skipped: util-linux `script` is not available ({e})");
            None
        }
    }
}

/// Runs `deploykit ARGS` on a terminal, typing `answers` (one per line); its exit code and
/// everything it showed on the terminal. `None` when `script` is not available.
fn at_a_terminal(args: &[&str], answers: &[&str]) -> Option<(Option<i32>, String)> {
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = start_on_a_terminal(args, state.path())?;
    // The answers wait in the terminal's line buffer until the prompt reads them; the input
    // stays open until the command ends (closing it would end `script` early).
    let mut input = child.stdin.take().expect("stdin");
    for answer in answers {
        writeln!(input, "{answer}").expect("type an answer");
    }
    let mut shown = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut shown)
        .expect("read the terminal");
    let status = child.wait().expect("wait");
    drop(input);
    Some((status.code(), shown))
}

#[test]
fn a_typo_is_asked_again_and_a_no_to_the_smoke_tests_rolls_back() {
    let Some((code, shown)) =
        at_a_terminal(&["--sandbox", "deploy", "prod", "idp"], &["maybe", "no"])
    else {
        return;
    };
    assert!(
        shown.contains("Test the app there by hand:") && shown.contains("Sign up for an account"),
        "{shown}"
    );
    assert!(
        shown.contains("\"maybe\" is not one of the answers in brackets"),
        "{shown}"
    );
    assert_eq!(code, Some(5), "rolled back:\n{shown}");
    assert!(
        shown.contains("said the smoke tests did not all pass"),
        "{shown}"
    );
    assert!(!shown.contains("released RC"), "no release:\n{shown}");
}

#[test]
fn a_yes_to_the_smoke_tests_creates_the_release() {
    let Some((code, shown)) = at_a_terminal(&["--sandbox", "deploy", "prod", "idp"], &["yes"])
    else {
        return;
    };
    assert_eq!(code, Some(0), "deployed:\n{shown}");
    assert!(
        shown.contains("confirmed the smoke tests passed"),
        "{shown}"
    );
    assert!(shown.contains("released RC 112"), "{shown}");
}

/// Ctrl-C typed at the smoke-test question stops the deploy (exit 130), and what it says
/// starts on a line of its own, not after the question.
#[test]
fn ctrl_c_at_the_question_is_said_on_its_own_line() {
    let state = tempfile::tempdir().expect("tempdir");
    let Some(mut child) =
        start_on_a_terminal(&["--sandbox", "deploy", "prod", "idp"], state.path())
    else {
        return;
    };
    let mut input = child.stdin.take().expect("stdin");
    let mut output = child.stdout.take().expect("stdout");
    let mut shown = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the question is on the terminal, then type Ctrl-C.
    while !String::from_utf8_lossy(&shown).contains("[yes/no/later]") {
        let n = output.read(&mut buf).expect("read the terminal");
        assert!(
            n > 0,
            "ended before the question:\n{}",
            String::from_utf8_lossy(&shown)
        );
        shown.extend_from_slice(&buf[..n]);
    }
    input.write_all(&[0x03]).expect("type Ctrl-C");
    input.flush().expect("flush");
    output.read_to_end(&mut shown).expect("read the rest");
    let status = child.wait().expect("wait");
    drop(input);
    let shown = String::from_utf8_lossy(&shown).replace("\r\n", "\n");
    assert_eq!(status.code(), Some(130), "{shown}");
    let said = shown
        .lines()
        .find(|l| l.contains("deploykit: "))
        .unwrap_or_else(|| panic!("no message:\n{shown}"));
    assert!(
        said.starts_with("deploykit: ") || said.trim_start_matches("^C").starts_with("deploykit: "),
        "the message shares the question's line: {said:?}\n{shown}"
    );
    assert!(!said.contains("[yes/no/later]"), "{said:?}");
}
