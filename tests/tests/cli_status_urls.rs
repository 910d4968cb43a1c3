//! `deploykit status prod` on the real backends, with prod's deploy status URL configured in
//! `[apps.idp.deploy_status_urls]`: the deployed SHA comes from the document the URL serves
//! (a local HTTP fake); AWS is moto, GitHub a local fake, the repository a local checkout.
//! Also `config show` / `config check` for the key, through the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../deploykit-github/tests/support/mod.rs"]
mod github_support;

use std::path::Path;
use std::process::{Command, Output};

use deploykit_aws::moto::MotoServer;
use deploykit_tests::{run_in, stderr, stdout};
use github_support::github_fake::FakeGitHub;
use github_support::http_fake::{HttpFake, Response};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Release Bot",
            "-c",
            "user.email=bot@example.gov",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// A checkout of identity-idp: the deployed commit, then one more on `origin/main`.
/// Returns (deployed SHA, main SHA).
fn checkout(dir: &Path) -> (String, String) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/18F/identity-idp.git",
        ],
    );
    std::fs::write(dir.join("README.md"), "identity-idp\n").unwrap();
    git(dir, &["add", "README.md"]);
    git(dir, &["commit", "-q", "-m", "What prod runs"]);
    let deployed = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("CHANGELOG.md"), "next\n").unwrap();
    git(dir, &["add", "CHANGELOG.md"]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "changelog: Internal, Docs, Say what is next",
        ],
    );
    let main = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["update-ref", "refs/remotes/origin/main", &main]);
    (deployed, main)
}

fn deploy_json(sha: &str) -> Response {
    Response::json(
        200,
        &serde_json::json!({
            "env": "prod", "branch": "stages/prod", "user": "root", "git_sha": sha,
            "git_date": "2026-11-23T10:00:00-05:00",
            "chef_run_timestamp": "20261123150000",
            "instance_id": "i-0abc123def4567890"
        }),
    )
}

struct Setup {
    _work: tempfile::TempDir,
    repo: std::path::PathBuf,
    config: String,
    state: String,
    deployed: String,
}

fn setup(deploy_status_urls: &str) -> Setup {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("identity-idp");
    std::fs::create_dir(&repo).unwrap();
    let (deployed, _main) = checkout(&repo);
    let config = work.path().join("deploykit.toml");
    std::fs::write(&config, deploy_status_urls).unwrap();
    let state = work.path().join("state").display().to_string();
    Setup {
        repo,
        config: config.display().to_string(),
        state,
        deployed,
        _work: work,
    }
}

fn status(
    s: &Setup,
    moto: &MotoServer,
    github: &FakeGitHub,
    extra: &[&str],
) -> (Output, Vec<String>) {
    let repo = s.repo.display().to_string();
    let mut args = vec!["--config", s.config.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "status",
        "prod",
        "--app",
        "idp",
        "--no-fetch",
        "--dir",
        repo.as_str(),
    ]);
    let mut env: Vec<(&str, String)> = moto.env_vars();
    env.push(("GITHUB_API_URL", github.url()));
    env.push(("XDG_STATE_HOME", s.state.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_in(&s.repo, &args, &env);
    (out, args.iter().map(|a| a.to_string()).collect())
}

fn github() -> FakeGitHub {
    let gh = FakeGitHub::start("18F/identity-idp", None);
    gh.add_release(
        "RC 111",
        "2026-11-17T180102",
        false,
        false,
        Some("2026-11-17T18:01:02Z"),
    );
    gh.add_pull(
        "Deploy RC 111 to Production",
        "main",
        "stages/prod",
        "closed",
        true,
        &["status - promotion"],
    );
    gh
}

#[test]
fn status_prod_reads_the_configured_prod_deploy_json() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let doc_sha = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = doc_sha.clone();
    let prod = HttpFake::start(move |req| match req.path() {
        "/api/deploy.json" => deploy_json(&served.lock().unwrap()),
        _ => Response::raw(404, "text/plain", "Not Found"),
    });
    let s = setup(&format!(
        "[apps.idp.deploy_status_urls]\nprod = \"{}/api/deploy.json\"\n",
        prod.url
    ));
    *doc_sha.lock().unwrap() = s.deployed.clone();
    let gh = github();

    let (out, args) = status(&s, &moto, &gh, &["--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}\n{}", stdout(&out), stderr(&out)));
    let idp = &doc["environments"][0]["apps"][0];
    assert_eq!(doc["environments"][0]["env"], "prod");
    assert_eq!(idp["app"], "idp");
    assert_eq!(idp["deployed"]["state"], "known", "{idp:#}");
    assert_eq!(
        idp["deployed"]["value"]["sha"],
        s.deployed.as_str(),
        "{idp:#}"
    );
    assert_eq!(idp["deployed"]["value"]["branch"], "stages/prod");
    // Pending is counted from the deployed SHA the document reported.
    assert_eq!(idp["pending"]["value"]["commits"], 1, "{idp:#}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "every source answered: {idp:#}\n{}",
        stderr(&out)
    );
    assert_eq!(
        prod.requests()
            .iter()
            .map(|r| r.path().to_string())
            .collect::<Vec<_>>(),
        ["/api/deploy.json"]
    );

    let (out, _) = status(&s, &moto, &gh, &[]);
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with("prod") && l.contains("idp"))
        .unwrap_or_else(|| panic!("a prod idp row:\n{text}\n{}", stderr(&out)));
    assert!(row.contains(&s.deployed[..7]), "{row}");
    assert!(row.contains("stages/prod"), "{row}");
    assert!(!text.contains("deployed unknown"), "{text}");
}

#[test]
fn without_the_key_status_prod_says_which_key_to_set() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let s = setup("");
    let gh = github();
    let (out, _) = status(&s, &moto, &gh, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let deployed = &doc["environments"][0]["apps"][0]["deployed"];
    assert_eq!(deployed["state"], "unknown", "{deployed:#}");
    let why = deployed.to_string();
    assert!(
        why.contains("no deploy status URL is configured for idp in prod"),
        "{why}"
    );
    assert!(why.contains("[apps.idp.deploy_status_urls]"), "{why}");
}

#[test]
fn config_show_prints_the_key_and_config_check_names_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state").display().to_string();
    let env = [("XDG_STATE_HOME", state.as_str())];
    std::fs::write(
        dir.path().join("deploykit.toml"),
        "[apps.idp.deploy_status_urls]\nprod = \"https://secure.login.gov/api/deploy.json\"\n",
    )
    .unwrap();
    let show = run_in(
        dir.path(),
        &["--config", "deploykit.toml", "config", "show"],
        &env,
    );
    assert!(show.status.success(), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(text.contains("[apps.idp.deploy_status_urls]"), "{text}");
    assert!(
        text.contains("prod = \"https://secure.login.gov/api/deploy.json\""),
        "{text}"
    );
    assert!(
        text.contains(
            "staging_deploy_status_url = \"https://idp.staging.login.gov/api/deploy.json\""
        ),
        "{text}"
    );

    std::fs::write(
        dir.path().join("deploykit.toml"),
        "[apps.idp]\nstaging_deploy_status_url = \"https://a.example.gov/api/deploy.json\"\n\
         deploy_status_urls = { staging = \"https://b.example.gov/api/deploy.json\", Prod = \"x\" }\n",
    )
    .unwrap();
    let check = run_in(
        dir.path(),
        &["--config", "deploykit.toml", "config", "check"],
        &env,
    );
    assert_ne!(check.status.code(), Some(0));
    let all = format!("{}{}", stdout(&check), stderr(&check));
    assert!(all.contains("apps.idp.deploy_status_urls.staging"), "{all}");
    assert!(all.contains("keep one"), "{all}");
    assert!(all.contains("apps.idp.deploy_status_urls.Prod"), "{all}");
}
