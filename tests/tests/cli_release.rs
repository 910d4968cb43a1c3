//! The release commands through the `deploykit` binary, on git (a bare origin named like the
//! GitHub repository, over file://), the GitHub REST fake and a Slack webhook fake: a cut that
//! failed part way, run again, finishes the same RC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../deploykit-github/tests/support/mod.rs"]
mod github_support;

use std::path::Path;
use std::process::{Command, Output};

use deploykit_tests::release_repo::ReleaseRepo;
use deploykit_tests::{deploykit_bin, stderr, stdout};
use github_support::github_fake::FakeGitHub;
use github_support::http_fake::{HttpFake, Response};

const TOKEN: &str = "ghp_cliRELEASEtoken000000000000000000001";

fn deploykit(work: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(deploykit_bin());
    cmd.args(args)
        .current_dir(work)
        .env_remove("GH_TOKEN")
        .env("GITHUB_TOKEN", TOKEN)
        .env("DEPLOYKIT_NOTIFIER_KIND", "slack-webhook");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run deploykit")
}

#[test]
fn rc_create_run_again_after_github_refused_the_label_finishes_the_same_pr() {
    let slack = HttpFake::start(|_| Response::raw(200, "text/plain", "ok"));
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let repo = ReleaseRepo::seed(root.path(), &work, "18F/identity-idp");
    // With the origin, the fake gives the PR its branch's real head SHA.
    let github = FakeGitHub::start("18F/identity-idp", Some(TOKEN)).with_origin(&repo.origin);
    let config = root.path().join("deploykit.toml");
    std::fs::write(
        &config,
        format!("[github]\napi_url = \"{}\"\n", github.url()),
    )
    .unwrap();
    let env = [
        (
            "XDG_STATE_HOME",
            root.path().join("state").display().to_string(),
        ),
        ("HOME", root.path().display().to_string()),
        (
            "SLACK_WEBHOOK_URL",
            format!("{}/services/T0/B0/cliRELEASE", slack.url),
        ),
    ];
    let sha = repo.work_rev("HEAD");
    let config = config.display().to_string();
    let cut = [
        "--config",
        config.as_str(),
        "rc",
        "create",
        "--source",
        sha.as_str(),
    ];

    // GitHub refuses to label the PR the cut opened: the cut stops there.
    github.inject(
        "POST",
        "/repos/18F/identity-idp/issues/",
        Response::json(
            422,
            &serde_json::json!({ "message": "Validation Failed", "errors": [] }),
        ),
        1,
    );
    let first = deploykit(&work, &cut, &env);
    assert!(!first.status.success(), "{}", stdout(&first));
    assert!(slack.requests().is_empty(), "nothing announced yet");

    let again = deploykit(&work, &cut, &env);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    let pulls: Vec<serde_json::Value> = github
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pulls"))
        .map(|r| r.json())
        .collect();
    assert_eq!(pulls.len(), 1, "one PR opened in all: {pulls:?}");
    let state = github.state.lock().unwrap();
    let pr = state.pulls.last().expect("the PR");
    let number = pr["number"].as_u64().unwrap();
    assert!(
        text.contains(&format!("PR #{number} for RC ")) && text.contains("was already open"),
        "{text}"
    );
    assert!(
        pr["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "status - promotion"),
        "{pr}"
    );
    drop(state);
    assert_eq!(
        slack.requests().len(),
        1,
        "announced once, by the run that finished"
    );
    assert!(work.join("tmp/.rc-changelog.md").exists());
}
