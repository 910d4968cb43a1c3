//! The `deploykit` binary on its main jobs: the demo scenarios, a sandboxed guided deploy,
//! the cadence calendar, and the changelog on a real git history.

use std::path::{Path, PathBuf};
use std::process::Command;

use deploykit_tests::{run, run_in, stderr, stdout, workspace_root};

fn state_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![("XDG_STATE_HOME", dir.join("state").display().to_string())]
}

#[test]
fn every_demo_scenario_ends_as_it_should() {
    for (scenario, expected) in [
        ("healthy", "deployed"),
        ("migration-fails", "rolled back"),
        ("provisioning-failure", "rolled back"),
        ("migration-hang", "rolled back"),
        ("error-spike", "rolled back"),
        ("unhealthy-hosts", "rolled back"),
    ] {
        let out = run(&["demo", "--scenario", scenario]);
        assert!(out.status.success(), "{scenario}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("— {expected}")),
            "{scenario}:\n{text}"
        );
        // Reported by the name typed.
        assert!(
            text.starts_with(&format!("demo {scenario}: ")),
            "{scenario}:\n{text}"
        );
        // A step that ends in a rollback is not shown as done.
        let progress = stderr(&out);
        assert!(
            !progress.contains("✓ migration_gate: failed")
                && !progress.contains("✓ monitor_gate: rollback")
                && !progress.contains("✓ health_gate: failed"),
            "{scenario}:\n{progress}"
        );
        assert!(
            text.contains("never below 4"),
            "{scenario}: capacity kept:\n{text}"
        );
    }
}

#[test]
fn demo_json_is_a_document_with_the_deploy_outcome() {
    let out = run(&["--json", "demo", "--scenario", "migration-fails"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(doc["scenario"], "migration-fails");
    let out = run(&["--json", "demo", "--scenario", "error-spike"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(doc["scenario"], "error-spike");
    assert_eq!(doc["deploy"]["status"]["status"], "rolled_back");
    assert!(
        doc["deploy"]["revert_pr_url"]
            .as_str()
            .is_some_and(|u| u.contains("/pull/"))
    );
    // Events went to stderr as JSON lines.
    let first = stderr(&out)
        .lines()
        .next()
        .map(String::from)
        .unwrap_or_default();
    let event: serde_json::Value = serde_json::from_str(&first).expect("json event");
    assert!(event["event"].is_string(), "{first}");
}

#[test]
fn a_wait_prints_a_line_a_minute_as_text_and_every_poll_as_json() {
    let window = "waiting for monitor_gate: window 1 of 3";
    let out = run(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(window)).collect();
    // A 5-minute window polled every 15 s: its first line and one a minute after it.
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].ends_with("(0s of 15m00s)") && lines[4].ends_with("(4m00s of 15m00s)"),
        "{text}"
    );
    let out = run(&["--json", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let polls = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| {
            e["event"] == "waiting"
                && e["what"]
                    .as_str()
                    .is_some_and(|w| w.starts_with("monitor_gate: window 1 of 3"))
        })
        .count();
    assert_eq!(polls, 20);
}

/// A sandboxed revert deploy rehearses the guide's last step to roll back: the sandbox ships
/// RC 112 and opens its revert, and the deploy merges the revert, recycles, and creates no
/// release.
#[test]
fn a_sandboxed_revert_deploy_ships_the_revert_without_a_release() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_in(
        dir.path(),
        &[
            "--sandbox",
            "--yes",
            "deploy",
            "prod",
            "idp",
            "--kind",
            "revert",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = format!("{}{}", stderr(&out), stdout(&out));
    assert!(
        text.contains("opened and approved its revert PR")
            && text.contains("Starting a recycle of idp in prod to deploy the revert of RC 112")
            && text.contains("idp the revert of RC 112 deployed to prod"),
        "{text}"
    );
    assert!(!text.contains("create_release"), "{text}");
}

#[test]
fn sandboxed_deploy_runs_the_guide_and_journals_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_in(
        dir.path(),
        &["--sandbox", "--yes", "deploy", "prod", "idp"],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for step in [
        "preflight",
        "merge_pr",
        "recycle",
        "migration_gate",
        "health_gate",
        "monitor_gate",
        "scale_in_old",
        "create_release",
    ] {
        assert!(text.contains(step), "{step} missing:\n{text}");
    }
    let runs = dir.path().join("state/deploykit/sandbox/runs");
    let journals: Vec<PathBuf> = std::fs::read_dir(&runs)
        .expect("sandbox runs")
        .filter_map(|e| e.ok().map(|e| e.path().join("journal.jsonl")))
        .collect();
    assert_eq!(journals.len(), 1, "one journal in {}", runs.display());
    let journal = std::fs::read_to_string(&journals[0]).expect("journal");
    assert!(
        journal.lines().count() > 10,
        "every transition is journalled"
    );

    // `deploykit runs` lists it, deployed, in text and in JSON.
    let listed = run_in(dir.path(), &["--sandbox", "runs"], &env);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let run_id = journals[0]
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .expect("run dir")
        .to_string();
    let row = stdout(&listed)
        .lines()
        .find(|l| l.starts_with(&run_id))
        .map(String::from)
        .unwrap_or_else(|| panic!("{run_id} not listed:\n{}", stdout(&listed)));
    assert!(row.contains("deployed") && row.contains("idp"), "{row}");
    let json = run_in(dir.path(), &["--sandbox", "--json", "runs"], &env);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["runs"][0]["run_id"], run_id.as_str());
    assert_eq!(doc["runs"][0]["standing"], "deployed");
}

#[test]
fn a_sandboxed_yes_deploy_reports_flow_success_rates_and_the_smoke_tests_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_in(
        dir.path(),
        &["--sandbox", "--yes", "deploy", "prod", "idp"],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The monitor gate's line quotes each critical flow's success rate, new beside old.
    let text = stdout(&out);
    let gate = text
        .lines()
        .find(|l| l.contains("gate monitor -> go"))
        .unwrap_or_else(|| panic!("no monitor verdict:\n{text}"));
    for flow in ["Sign in: success ", "IdV: doc auth verified "] {
        assert!(
            gate.contains(flow) && gate.contains("% (old SHA "),
            "{flow}: {gate}"
        );
    }
    let printed = run_in(dir.path(), &["--sandbox", "report", "latest"], &env);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let report = stdout(&printed);
    // The monitor windows table has the flows' rates in a column of their own.
    assert!(
        report.contains("| Flow success, new (old) | Judgement |"),
        "{report}"
    );
    let rows: Vec<&str> = report
        .lines()
        // The window rows (`| monitor_gate | 1 15:10:00–15:15:00 | ...`), not the steps'.
        .filter(|l| {
            (l.starts_with("| monitor_gate | ") || l.starts_with("| follow_up | "))
                && l.contains('–')
        })
        .collect();
    assert!(!rows.is_empty(), "{report}");
    for row in rows {
        assert!(
            row.contains("| IdV: doc auth verified ")
                && row.contains(", Sign in: success ")
                && (row.contains("% (old SHA ") || row.contains("% (baseline ")),
            "{row}"
        );
    }
    // With --yes nobody was asked about the smoke tests: that answer is a decision.
    assert!(
        report.contains("- decision: smoke tests: not asked, --yes answered go at 16:30:00 UTC"),
        "{report}"
    );
    assert!(!report.contains("None: every gate"), "{report}");
}

#[test]
fn without_yes_or_a_terminal_a_production_deploy_pauses_for_the_smoke_tests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_in(dir.path(), &["--sandbox", "deploy", "prod", "idp"], &env);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "paused:\n{text}\n{}",
        stderr(&out)
    );
    assert!(
        text.contains("paused: did the smoke tests pass in prod?"),
        "{text}"
    );
    assert!(text.contains("Sign in to an account"), "{text}");
    // Everything up to the question ran; the release waits for the answer.
    assert!(
        text.contains("follow_up") && !text.contains("released RC"),
        "{text}"
    );
    // A sandboxed run's world is gone with the command: the way on is to run it again.
    assert!(
        text.contains("a sandboxed run cannot be resumed") && text.contains("--yes"),
        "{text}"
    );
    // Its report says nothing has been decided yet (not that every gate decided alone).
    let runs = dir.path().join("state/deploykit/sandbox/runs");
    let report = std::fs::read_dir(&runs)
        .expect("sandbox runs")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("report.md")).ok())
        .next()
        .expect("a report");
    assert!(
        report.contains("None yet: the run waits for a person's decision."),
        "{report}"
    );
    // `runs` lists it paused, and says the same.
    let listed = stdout(&run_in(dir.path(), &["--sandbox", "runs"], &env));
    assert!(
        listed.contains("paused") && listed.contains("smoke_tests"),
        "{listed}"
    );
    assert!(
        listed.contains("sandboxed runs cannot be resumed") && !listed.contains("deploykit resume"),
        "{listed}"
    );

    // Were it a real run (its journal moved to the real state directory), a release of its
    // PR by hand would skip the smoke tests' answer: refused before GitHub is asked, naming
    // the run and the answer that releases it.
    let real = dir.path().join("state/deploykit/runs");
    std::fs::rename(&runs, &real).expect("move the run");
    let run_id = std::fs::read_dir(&real)
        .expect("runs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .next()
        .expect("a run");
    let refused = run_in(dir.path(), &["release", "create", "11502"], &env);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("deploy run {run_id}")), "{err}");
    assert!(
        err.contains(&format!("deploykit resume {run_id} --decision go")),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    // Another PR is not held up; --force goes past the guard (to GitHub, absent here).
    for args in [
        &["release", "create", "11503"][..],
        &["release", "create", "11502", "--force"][..],
    ] {
        let out = run_in(dir.path(), args, &env);
        assert!(
            !stderr(&out).contains("deploy run"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn cadence_check_exit_codes_follow_the_calendar() {
    // Tuesday 2026-12-01: a deploy day.
    let ok = run(&["cadence", "check", "--date", "2026-12-01"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    // Wednesday 2026-11-25: not a deploy day, and the day before Thanksgiving.
    let refused = run(&["cadence", "check", "--date", "2026-11-25"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(
        stdout(&refused).contains("Thanksgiving"),
        "{}",
        stdout(&refused)
    );
    // Friday: never.
    let friday = run(&["cadence", "check", "--date", "2026-11-27"]);
    assert_eq!(friday.status.code(), Some(3));
    // The way on names the deploy command's real flags.
    for flag in [
        "--override-cadence REASON",
        "--kind off-cycle --reason REASON",
    ] {
        assert!(stdout(&friday).contains(flag), "{}", stdout(&friday));
    }
    let bad = run(&["cadence", "check", "--date", "27/11/2026"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));
}

#[test]
fn cadence_show_lays_out_the_deploy_days_with_why_not() {
    let out = run(&["cadence", "show", "--from", "2026-12-21", "--weeks", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim_end(),
        "Deploy days from 2026-12-21 to 2027-01-03:\n  \
         2026-12-22 Tue  full deploy\n  \
         2026-12-24 Thu  no full deploy: 2026-12-24 is the day before Christmas Day\n  \
         2026-12-29 Tue  full deploy\n  \
         2026-12-31 Thu  no full deploy: 2026-12-31 is the day before New Year's Day"
    );
    let json = run(&[
        "--json",
        "cadence",
        "show",
        "--from",
        "2026-11-23",
        "--weeks",
        "1",
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["to"], "2026-11-29");
    assert_eq!(doc["deploy_days"][0]["date"], "2026-11-24");
    assert_eq!(doc["deploy_days"][0]["allowed"], true);
    assert_eq!(doc["deploy_days"][1]["allowed"], false);
    assert!(
        doc["deploy_days"][1]["concerns"][0]
            .as_str()
            .is_some_and(|c| c.contains("Thanksgiving")),
        "{doc}"
    );
    let bad = run(&["cadence", "show", "--from", "21/12/2026"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("invalid --from"), "{}", stderr(&bad));
    let too_long = run(&["cadence", "show", "--weeks", "60"]);
    assert_eq!(too_long.status.code(), Some(2));
    assert!(
        stderr(&too_long).contains("--weeks"),
        "{}",
        stderr(&too_long)
    );
}

fn fixtures() -> PathBuf {
    workspace_root().join("deploykit-core/tests/fixtures/changelog")
}

fn clone_bundle(dir: &Path) -> PathBuf {
    let repo = dir.join("idp");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(fixtures().join("idp-history.bundle"))
        .arg(&repo)
        .status()
        .expect("git clone");
    assert!(status.success());
    let status = Command::new("git")
        .args(["fetch", "-q", "origin", "refs/tags/*:refs/tags/*"])
        .current_dir(&repo)
        .status()
        .expect("git fetch tags");
    assert!(status.success());
    repo
}

/// Lines with the same subcategory may come in any order in the script's output.
fn normalise(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut i = 0;
    while i < lines.len() {
        let key = |l: &str| l.split(':').next().map(String::from);
        let mut j = i;
        while j < lines.len() && lines[j].starts_with("- ") && key(&lines[j]) == key(&lines[i]) {
            j += 1;
        }
        if j > i + 1 {
            lines[i..j].sort();
        }
        i = j.max(i + 1);
    }
    lines
}

#[test]
fn changelog_matches_changelog_check_rb_on_real_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = clone_bundle(dir.path());
    for n in 1..=3 {
        let base = format!("range-{n}-base");
        let source = format!("range-{n}-source");
        let out = run_in(
            &repo,
            &["changelog", "--base", &base, "--source", &source],
            &[],
        );
        assert!(out.status.success(), "range {n}: {}", stderr(&out));
        let expected = std::fs::read_to_string(fixtures().join(format!("range-{n}.expected.md")))
            .expect("expected output");
        assert_eq!(normalise(&stdout(&out)), normalise(&expected), "range {n}");
        assert!(stdout(&out).ends_with('\n') && !stdout(&out).ends_with("\n\n"));
    }
}

#[test]
fn changelog_with_nothing_valid_exits_1_and_explains() {
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
    let out = run_in(&repo, &["changelog", "-b", "base", "-s", "main"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).is_empty(),
        "nothing on stdout: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("changelog: Category, Subcategory, Change"),
        "{}",
        stderr(&out)
    );
    // As JSON: an error document on stdout that says nothing was valid, still exit 1: one
    // JSON value (no empty changelog beside the error), whose kind is not invalid_input
    // (exit 2 everywhere else).
    let out = run_in(
        &repo,
        &["--json", "changelog", "-b", "base", "-s", "main"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert!(doc.get("entries").is_none(), "{doc}");
    assert_eq!(
        doc["error"]["invalid_titles"],
        serde_json::json!(["Tweak a thing (#12)"])
    );
    assert_eq!(doc["error"]["kind"], "no_valid_entries");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("changelog: Category, Subcategory, Change")),
        "{doc}"
    );

    // A line with a category too far from the known four leaves its change out, as the Ruby
    // does: stdout stays the Ruby's text, and stderr says what was left out.
    git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Docs (#13)",
        "-m",
        "changelog: Documentation, Readme, docs",
    ]);
    git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Build (#14)",
        "-m",
        "changelog: Internal, Build, faster",
    ]);
    let out = run_in(&repo, &["changelog", "-b", "base", "-s", "main"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "## Internal\n- Build: Faster ([#14](https://github.com/18F/identity-idp/pull/14))\n\n\
         !!! Invalid Changelog Entries !!!\nTweak a thing (#12)\n"
    );
    let err = stderr(&out);
    assert!(
        err.contains("warning: 1 commit(s) have a changelog line whose category is none of")
            && err.contains("Docs (#13)"),
        "{err}"
    );
}

#[test]
fn every_demo_scenario_leaves_a_report_that_deploykit_report_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = state_env(dir.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let runs = dir.path().join("state/deploykit/sandbox/runs");
    for scenario in [
        "healthy",
        "migration-fails",
        "provisioning-failure",
        "migration-hang",
        "error-spike",
        "unhealthy-hosts",
    ] {
        let out = run_in(dir.path(), &["demo", "--scenario", scenario], &env);
        assert!(out.status.success(), "{scenario}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("report: "),
            "{scenario}: {}",
            stdout(&out)
        );
        // The newest run directory is this scenario's.
        let latest = std::fs::read_dir(&runs)
            .expect("sandbox runs")
            .filter_map(|e| e.ok())
            .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
            .expect("a run")
            .path();
        for file in ["journal.jsonl", "report.md", "report.svg"] {
            assert!(latest.join(file).exists(), "{scenario}: no {file}");
        }
        let svg = std::fs::read_to_string(latest.join("report.svg")).expect("svg");
        assert!(
            svg.starts_with("<svg") && svg.contains("gate-marker"),
            "{scenario}"
        );
        let printed = run_in(dir.path(), &["--sandbox", "report", "latest"], &env);
        assert!(printed.status.success(), "{scenario}: {}", stderr(&printed));
        let text = stdout(&printed);
        assert!(
            text.starts_with("# Deploy report: idp to prod"),
            "{scenario}:\n{text}"
        );
        let word = if scenario == "healthy" {
            "deployed"
        } else {
            "rolled back"
        };
        assert!(
            text.contains(&format!("**Outcome: {word}")),
            "{scenario}:\n{text}"
        );
    }
    // A report whose files were lost is rebuilt from the journal.
    let some_run = std::fs::read_dir(&runs)
        .expect("runs")
        .filter_map(|e| e.ok())
        .next()
        .expect("a run")
        .path();
    std::fs::remove_file(some_run.join("report.svg")).expect("remove");
    let id = some_run
        .file_name()
        .and_then(|n| n.to_str())
        .expect("id")
        .to_string();
    let json = run_in(dir.path(), &["--sandbox", "--json", "report", &id], &env);
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(doc["run_id"], id.as_str());
    assert!(some_run.join("report.svg").exists(), "rebuilt");
    // --open with a browser that fails says where the report is, and exits 1.
    let mut env2 = env.clone();
    env2.push(("BROWSER", "false"));
    let opened = run_in(dir.path(), &["--sandbox", "report", &id, "--open"], &env2);
    assert_eq!(opened.status.code(), Some(1), "{}", stderr(&opened));
    assert!(
        stdout(&opened).contains("report.svg"),
        "{}",
        stdout(&opened)
    );
}

#[test]
fn the_sandbox_changelog_reads_the_simulated_repository() {
    // No git clone needed: the simulated idp repository's pending commits.
    let out = run(&["--sandbox", "changelog", "-b", "stages/prod", "-s", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("identity-idp/pull/11490"),
        "{}",
        stdout(&out)
    );
    let other = run(&[
        "--sandbox",
        "changelog",
        "-b",
        "stages/prod",
        "-s",
        "main",
        "--repo",
        "18F/other",
    ]);
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("pass --repo with one of them"),
        "{}",
        stderr(&other)
    );
}

#[test]
fn the_sandbox_rehearses_a_true_up() {
    // The sandbox cuts an RC first: a fresh world has none to true up.
    let out = run(&["--sandbox", "rc", "true-up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("stages/rc-2026-11-24 trued up with stages/prod"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_sandbox_rehearses_a_release() {
    // The sandbox cuts, approves and merges the next promotion PR (#11502) first.
    let out = run(&["--sandbox", "release", "create", "11502"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("created release RC 112"),
        "{}",
        stdout(&out)
    );
    let other = run(&["--sandbox", "release", "create", "11503"]);
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("`deploykit --sandbox release create 11502` releases it"),
        "{}",
        stderr(&other)
    );
}
