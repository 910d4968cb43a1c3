//! `--json` for scripts: error documents with their context and exit code, argument errors,
//! `report --open`, `changelog` with nothing valid, a paused deploy's way on, and timestamps
//! in whole seconds.

use std::path::Path;
use std::process::{Command, Output};

use deploykit_tests::{deploykit_bin, run, run_in, stderr, stdout};

/// The one JSON document on stdout.
fn doc(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: stdout {:?}, stderr {:?}", stdout(out), stderr(out)))
}

fn state_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![("XDG_STATE_HOME", dir.join("state").display().to_string())]
}

#[test]
fn an_error_document_has_its_context_as_an_object_and_the_exit_code() {
    let out = run(&["--sandbox", "--json", "recycle", "prod", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = &doc(&out)["error"];
    assert_eq!(error["kind"], "not_found", "{error}");
    assert_eq!(error["context"]["group"], "prod-nope", "{error}");
    assert_eq!(error["exit_code"], 1, "{error}");
    // The fields there were: the message still says the context, as the text does.
    assert_eq!(error["temporary"], false, "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("(group: prod-nope)")),
        "{error}"
    );

    let out = run(&["--json", "report", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = &doc(&out)["error"];
    assert_eq!(error["context"]["run"], "nope", "{error}");
    assert_eq!(error["exit_code"], 1, "{error}");

    // Every error document has one, and its exit code.
    let out = run(&["--json", "--sandbox", "deploy", "prod", "foo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let error = &doc(&out)["error"];
    assert_eq!(error["kind"], "invalid_input", "{error}");
    assert!(error["context"].is_object(), "{error}");
    assert_eq!(error["exit_code"], 2, "{error}");
}

#[test]
fn argument_errors_with_json_are_an_invalid_input_document_on_stdout() {
    for args in [
        &["--json", "deploy", "prod"][..],
        &[
            "--json",
            "--sandbox",
            "deploy",
            "prod",
            "idp",
            "--kind",
            "nope",
        ],
        &["--json", "runs", "--bogus"],
        &["runs", "--last", "-5", "--json"],
        &["--json", "rc"],
        &["--json"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stdout(&out).lines().count(),
            1,
            "{args:?}: {}",
            stdout(&out)
        );
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
        let error = &doc(&out)["error"];
        assert_eq!(error["kind"], "invalid_input", "{args:?}: {error}");
        assert_eq!(error["exit_code"], 2, "{args:?}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && !message.starts_with("error:") && !message.contains('\n'),
            "{args:?}: {error}"
        );
    }
    let out = run(&["--json", "deploy", "prod"]);
    let error = &doc(&out)["error"];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("<APP>")),
        "{error}"
    );
    assert_eq!(error["context"]["usage"], "deploykit deploy <ENV> <APP>");

    // Without --json, clap's text on stderr, as before.
    let out = run(&["deploy", "prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with("error: the following required arguments"),
        "{}",
        stderr(&out)
    );
    // After `--`, `--json` is a value, not the flag.
    let out = run(&["deploy", "prod", "--", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    // --help and --version are not errors: printed as they are, exit 0.
    let out = run(&["--json", "--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("deploykit "), "{}", stdout(&out));
    let out = run(&["--json", "runs", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("Usage: deploykit runs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn report_open_says_in_json_whether_it_opened_and_exits_1_when_it_did_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let demo = run_in(dir.path(), &["demo"], &env);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let open = |browser: &str, json: bool| {
        let mut env = env.clone();
        env.push(("BROWSER", browser));
        let mut args = vec!["--sandbox", "report", "latest", "--open"];
        if json {
            args.insert(0, "--json");
        }
        run_in(dir.path(), &args, &env)
    };

    let out = open("true", true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let opened = doc(&out);
    assert_eq!(opened["opened"], true, "{opened}");
    assert!(opened.get("reason").is_none(), "{opened}");
    for (key, name) in [("markdown", "report.md"), ("svg", "report.svg")] {
        let path = opened[key].as_str().unwrap_or_default();
        assert!(path.ends_with(name) && Path::new(path).exists(), "{opened}");
    }
    assert!(opened["run_id"].as_str().is_some_and(|r| !r.is_empty()));

    let out = open("/nonexistent/browser", true);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let failed = doc(&out);
    assert_eq!(failed["opened"], false, "{failed}");
    assert!(
        failed["reason"]
            .as_str()
            .is_some_and(|r| r.contains("/nonexistent/browser")),
        "{failed}"
    );
    assert_eq!(failed["svg"], opened["svg"], "{failed}");
    assert_eq!(failed["markdown"], opened["markdown"], "{failed}");

    // As text too: it says where the report is, and exits 1.
    let out = open("/nonexistent/browser", false);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("could not open the report")
            && stdout(&out).contains("report.svg"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn changelog_with_nothing_valid_is_one_error_document_whose_kind_is_not_invalid_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("r");
    let git = |args: &[&str]| {
        let s = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&repo)
            .status()
            .expect("git");
        assert!(s.success(), "git {args:?}");
    };
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "base"]);
    git(&["tag", "base"]);
    git(&["commit", "-q", "--allow-empty", "-m", "Tweak a thing (#12)"]);
    for (base, invalid) in [("base", vec!["Tweak a thing (#12)"]), ("main", vec![])] {
        let out = run_in(
            &repo,
            &["--json", "changelog", "-b", base, "-s", "main"],
            &[],
        );
        // The README's exit 1 when nothing is valid...
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
        let doc = doc(&out);
        // ...is one error document (no changelog beside it)...
        assert_eq!(
            doc.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["error".to_string()]),
            "{doc}"
        );
        let error = &doc["error"];
        // ...whose kind is not invalid_input, which exits 2.
        assert_eq!(error["kind"], "no_valid_entries", "{error}");
        assert_eq!(error["exit_code"], 1, "{error}");
        assert_eq!(
            error["invalid_titles"],
            serde_json::json!(invalid),
            "{error}"
        );
        assert_eq!(error["dropped_titles"], serde_json::json!([]), "{error}");
    }
}

#[test]
fn a_paused_sandboxed_deploy_says_in_json_that_it_cannot_be_resumed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // No terminal and no --yes: it pauses for the smoke tests.
    let out = run_in(
        dir.path(),
        &["--sandbox", "--json", "deploy", "prod", "idp"],
        &env,
    );
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let paused = doc(&out);
    assert_eq!(paused["status"]["status"], "paused", "{paused}");
    assert_eq!(paused["resumable"], false, "{paused}");
    assert!(
        paused["why_not_resumable"]
            .as_str()
            .is_some_and(|w| w.contains("a sandboxed run cannot be resumed") && w.contains("--yes")),
        "{paused}"
    );
    // No `resume` command offered for a run that cannot be resumed.
    assert!(paused.get("next").is_none(), "{paused}");
    assert!(!stdout(&out).contains("deploykit resume"), "{paused}");

    // A deploy that is not paused has none of these fields.
    let out = run_in(
        dir.path(),
        &["--sandbox", "--json", "--yes", "deploy", "prod", "idp"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let deployed = doc(&out);
    for key in ["resumable", "next", "lock_until", "why_not_resumable"] {
        assert!(deployed.get(key).is_none(), "{key}: {deployed}");
    }
}

/// Every string in `value` that is an RFC 3339 date and time.
fn timestamps(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s)
            if s.len() >= 20
                && s.as_bytes().get(10) == Some(&b'T')
                && chrono::DateTime::parse_from_rfc3339(s).is_ok() =>
        {
            found.push(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| timestamps(v, found)),
        serde_json::Value::Object(map) => map.values().for_each(|v| timestamps(v, found)),
        _ => {}
    }
}

/// Whole seconds, UTC: what `jq fromdateiso8601` reads.
fn whole_seconds(at: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

#[test]
fn a_real_runs_json_timestamps_are_whole_seconds_and_its_journal_is_unchanged() {
    // A real (not sandboxed) deploy, on the real clock, that preflight stops at once: no AWS
    // credentials anywhere.
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("r");
    std::fs::create_dir_all(&repo).expect("mkdir");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
    ] {
        let s = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .status()
            .expect("git");
        assert!(s.success(), "git {args:?}");
    }
    let state = dir.path().join("state");
    let deploykit = |args: &[&str]| {
        Command::new(deploykit_bin())
            .args(args)
            .current_dir(&repo)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("XDG_STATE_HOME", &state)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-west-2")
            .output()
            .expect("deploykit")
    };
    let out = deploykit(&[
        "--json",
        "--yes",
        "deploy",
        "prod",
        "idp",
        "--kind",
        "config-recycle",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let mut found = Vec::new();
    timestamps(&doc(&out), &mut found);
    let events = stderr(&out);
    let mut lines = 0;
    for line in events.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["at"].is_string(), "{line}");
        timestamps(&event, &mut found);
        lines += 1;
    }
    assert!(lines > 0 && found.len() > lines, "{found:?}\n{events}");
    // Listing and reporting the run print its times the same way.
    for args in [&["--json", "runs"][..], &["--json", "report", "latest"]] {
        let listed = deploykit(args);
        assert!(listed.status.success(), "{args:?}: {}", stderr(&listed));
        let before = found.len();
        timestamps(&doc(&listed), &mut found);
        assert!(found.len() > before, "{args:?}: {}", stdout(&listed));
    }
    let fractional: Vec<&String> = found.iter().filter(|at| !whole_seconds(at)).collect();
    assert!(
        fractional.is_empty(),
        "not in whole seconds: {fractional:?}"
    );

    // The journal keeps the times as recorded, to the nanosecond.
    let runs = state.join("deploykit/runs");
    let journal = std::fs::read_dir(&runs)
        .expect("runs")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("journal.jsonl")).ok())
        .next()
        .expect("a journal");
    let mut recorded = Vec::new();
    for line in journal.lines() {
        timestamps(
            &serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")),
            &mut recorded,
        );
    }
    assert!(
        recorded
            .iter()
            .any(|at| at.contains('.') && at.ends_with('Z')),
        "{recorded:?}"
    );
}
