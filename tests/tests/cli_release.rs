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

/// A work tree of `18F/identity-idp` with its bare origin, the GitHub fake over it, and a
/// Slack webhook fake answering with `slack`: what `rc create` runs against.
struct CutWorld {
    root: tempfile::TempDir,
    work: std::path::PathBuf,
    github: FakeGitHub,
    slack: HttpFake,
    config: String,
    sha: String,
}

impl CutWorld {
    fn new(slack: HttpFake) -> Self {
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
        let sha = repo.work_rev("HEAD");
        CutWorld {
            config: config.display().to_string(),
            root,
            work,
            github,
            slack,
            sha,
        }
    }

    /// `deploykit rc create --source <the work tree's HEAD>`.
    fn rc_create(&self) -> Output {
        let env = [
            (
                "XDG_STATE_HOME",
                self.root.path().join("state").display().to_string(),
            ),
            ("HOME", self.root.path().display().to_string()),
            (
                "SLACK_WEBHOOK_URL",
                format!("{}/services/T0/B0/cliRELEASE", self.slack.url),
            ),
        ];
        let cut = [
            "--config",
            self.config.as_str(),
            "rc",
            "create",
            "--source",
            self.sha.as_str(),
        ];
        deploykit(&self.work, &cut, &env)
    }

    /// How many PRs were opened.
    fn prs_opened(&self) -> usize {
        self.github
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path().ends_with("/pulls"))
            .count()
    }
}

#[test]
fn rc_create_run_again_after_github_refused_the_label_finishes_the_same_pr() {
    let w = CutWorld::new(HttpFake::start(|_| Response::raw(200, "text/plain", "ok")));
    // GitHub refuses to label the PR the cut opened: the cut stops there.
    w.github.inject(
        "POST",
        "/repos/18F/identity-idp/issues/",
        Response::json(
            422,
            &serde_json::json!({ "message": "Validation Failed", "errors": [] }),
        ),
        1,
    );
    let first = w.rc_create();
    assert!(!first.status.success(), "{}", stdout(&first));
    assert!(w.slack.requests().is_empty(), "nothing announced yet");

    let again = w.rc_create();
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    assert_eq!(w.prs_opened(), 1, "one PR opened in all");
    let state = w.github.state.lock().unwrap();
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
        w.slack.requests().len(),
        1,
        "announced once, by the run that finished"
    );
    assert!(w.work.join("tmp/.rc-changelog.md").exists());
}

/// Slack refuses the announcement of an RC the cut made: the command fails, but says the RC is
/// cut and its PR open (with the PR's address) and how to finish; run again, it announces the
/// same PR, opening no second one.
#[test]
fn rc_create_whose_announcement_failed_says_what_was_done_and_run_again_announces_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let posts = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = posts.clone();
    let w = CutWorld::new(HttpFake::start(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::raw(500, "text/plain", "internal_error")
        } else {
            Response::raw(200, "text/plain", "ok")
        }
    }));
    let first = w.rc_create();
    let (out, err) = (stdout(&first), stderr(&first));
    assert!(!first.status.success(), "{out}\n{err}");
    let pr_url = {
        let state = w.github.state.lock().unwrap();
        state.pulls.last().expect("the PR")["html_url"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(out.contains(&pr_url), "the outcome is still shown: {out}");
    assert!(
        err.contains("is cut and its promotion PR") && err.contains(&pr_url),
        "{err}"
    );
    assert!(err.contains("could not be announced"), "{err}");
    assert!(err.contains("run `deploykit rc create` again"), "{err}");
    assert!(
        !err.contains("cliRELEASE"),
        "no webhook address in errors: {err}"
    );

    let again = w.rc_create();
    assert!(
        again.status.success(),
        "{}\n{}",
        stdout(&again),
        stderr(&again)
    );
    assert_eq!(posts.load(Ordering::SeqCst), 2, "refused once, then posted");
    assert_eq!(w.prs_opened(), 1, "one PR opened in all");
}
