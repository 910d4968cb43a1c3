//! The release workflows of deploykit-core end to end on the real backends: GitVcs on a
//! clone of a bare origin (named like the GitHub repository, reached over file://) and
//! GitHubCodeHost on the local GitHub fake. Cut an RC, true it up after a production hotfix,
//! merge the promotion PR, create the release once.

mod support;

use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use deploykit_core::ports::{
    Announcement, CodeHost, DeployStatusSource, MergeMethod, Notifier, PrState, PullRequestQuery,
    SystemClock,
};
use deploykit_core::release::{
    self, CreateReleaseRequest, CutRcRequest, ReleaseContext, TrueUpRequest,
};
use deploykit_core::{AppName, AppSettings, DeployStatus, EnvName, ErrorKind, NullSink, Result};
use deploykit_github::{GitHubCodeHost, GitVcs, Token};
use support::git_world::git_as_release_manager as git;
use support::github_fake::FakeGitHub;

const TOKEN: &str = "ghp_release_workflow_test_token";

#[derive(Debug)]
struct Staging(String);

#[async_trait]
impl DeployStatusSource for Staging {
    async fn deploy_status(&self, _app: &AppName, _env: &EnvName) -> Result<DeployStatus> {
        DeployStatus::parse(&format!(r#"{{"branch":"main","git_sha":"{}"}}"#, self.0))
    }
}

#[derive(Debug, Default)]
struct Sent(Mutex<Vec<String>>);

#[async_trait]
impl Notifier for Sent {
    async fn announce(&self, a: &Announcement) -> Result<()> {
        self.0.lock().expect("lock").push(a.to_string());
        Ok(())
    }
}

struct Repos {
    _dir: tempfile::TempDir,
    home: PathBuf,
    origin: PathBuf,
    work: PathBuf,
}

fn repos() -> Repos {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let origin = dir.path().join("18F").join("identity-idp.git");
    std::fs::create_dir_all(&origin).expect("origin dir");
    git(&origin, &home, &["init", "-q", "--bare", "-b", "main"]);
    let url = format!("file://{}", origin.display());
    git(dir.path(), &home, &["clone", "-q", &url, "work"]);
    let work = dir.path().join("work");
    std::fs::write(work.join("README.md"), "identity-idp\n").expect("write");
    git(&work, &home, &["add", "."]);
    git(&work, &home, &["commit", "-q", "-m", "Initial commit"]);
    git(
        &work,
        &home,
        &["push", "-q", "origin", "main", "main:stages/prod"],
    );
    Repos {
        _dir: dir,
        home,
        origin,
        work,
    }
}

fn commit(r: &Repos, file: &str, message: &str) {
    std::fs::write(r.work.join(file), message).expect("write");
    git(&r.work, &r.home, &["add", "."]);
    git(&r.work, &r.home, &["commit", "-q", "-m", message]);
}

#[tokio::test]
async fn cut_true_up_and_release_on_git_and_the_github_fake() {
    let r = repos();
    commit(
        &r,
        "hint.txt",
        "Show a sign-in hint (#101)\n\nchangelog: User-Facing Improvements, Sign in, Show a hint",
    );
    commit(
        &r,
        "typo.txt",
        "Fix a typo (#102)\n\nchangelog: Bug Fixes, Typos, Fix a typo on the help page",
    );
    git(&r.work, &r.home, &["push", "-q", "origin", "main"]);
    let staging_sha = git(&r.work, &r.home, &["rev-parse", "HEAD"]);

    // With the origin, the fake gives each PR its branch's real head SHA.
    let github = FakeGitHub::start("18F/identity-idp", Some(TOKEN)).with_origin(&r.origin);
    github.add_release(
        "RC 111",
        "2024-01-02T180102",
        false,
        false,
        Some("2024-01-02T18:01:02Z"),
    );
    let host = GitHubCodeHost::new("18F/identity-idp", &github.url(), Token::new(TOKEN))
        .expect("code host");
    let vcs = GitVcs::open(&r.work).expect("open").with_token(None);
    let staging = Staging(staging_sha.clone());
    let sent = Sent::default();
    let settings = AppSettings::idp();
    let ctx = ReleaseContext {
        vcs: &vcs,
        code_host: &host,
        deploy_status: &staging,
        notifier: &sent,
        clock: &SystemClock,
        events: &NullSink,
        settings: &settings,
    };

    // A cut that stopped after pushing today's RC branch, before opening its PR: the cut
    // below uses that branch (resolved through the fetched origin/...) instead of `.2`.
    let today = chrono::Utc::now().date_naive();
    let stopped_branch = format!("stages/rc-{}", today.format("%Y-%m-%d"));
    git(
        &r.work,
        &r.home,
        &[
            "push",
            "-q",
            "origin",
            &format!("{staging_sha}:refs/heads/{stopped_branch}"),
        ],
    );

    // Cut RC 112 from what staging runs.
    let cut = release::cut_rc(
        &ctx,
        &CutRcRequest {
            working_dir: r.work.clone(),
            ..CutRcRequest::default()
        },
    )
    .await
    .expect("cut");
    assert_eq!(cut.rc.to_string(), "112");
    assert_eq!(cut.sha.as_str(), staging_sha);
    let branch = cut.branch.to_string();
    if chrono::Utc::now().date_naive() == today {
        assert_eq!(branch, stopped_branch, "the stopped cut's branch is used");
    }
    let pushed = git(
        &r.origin,
        &r.home,
        &["rev-parse", &format!("refs/heads/{branch}")],
    );
    assert_eq!(
        pushed, staging_sha,
        "the RC branch on origin is staging's SHA"
    );
    let expected_body = "## User-Facing Improvements\n\
        - Sign in: Show a hint ([#101](https://github.com/18F/identity-idp/pull/101))\n\n\
        ## Bug Fixes\n\
        - Typos: Fix a typo on the help page ([#102](https://github.com/18F/identity-idp/pull/102))";
    assert_eq!(cut.changelog.text, expected_body);
    let written = std::fs::read_to_string(r.work.join("tmp/.rc-changelog.md")).expect("file");
    assert_eq!(written.trim_end(), expected_body);
    let pr_number = cut.pr_number.expect("a promotion PR");
    let pr = host.pull_request(pr_number).await.expect("pr");
    assert_eq!(pr.title, "Deploy RC 112 to Production");
    assert_eq!(
        (pr.head.as_str(), pr.base.as_str()),
        (branch.as_str(), "stages/prod")
    );
    assert_eq!(pr.body, expected_body);
    assert!(
        pr.labels.iter().any(|l| l == "status - promotion"),
        "{:?}",
        pr.labels
    );

    // Cut again, as after a stop: the open PR of RC 112 is finished, not opened twice.
    let again = release::cut_rc(
        &ctx,
        &CutRcRequest {
            working_dir: r.work.clone(),
            ..CutRcRequest::default()
        },
    )
    .await
    .expect("cut again");
    assert!(again.pr_already_open);
    assert_eq!(again.pr_number, Some(pr_number));
    assert_eq!(again.branch, cut.branch);
    let open = host
        .pull_requests(&PullRequestQuery::into_base("stages/prod", PrState::Open))
        .await
        .expect("open PRs");
    assert_eq!(open.len(), 1, "{open:?}");

    // A hotfix lands on stages/prod: the true-up merges it with `-s ours`.
    git(
        &r.work,
        &r.home,
        &["checkout", "-q", "-b", "hotfix", "origin/stages/prod"],
    );
    commit(&r, "hotfix.txt", "Hotfix straight to production");
    git(
        &r.work,
        &r.home,
        &["push", "-q", "origin", "hotfix:stages/prod"],
    );
    let trued = release::true_up(
        &ctx,
        &TrueUpRequest {
            rc_branch: Some(branch.clone()),
            force: false,
            dry_run: false,
        },
    )
    .await
    .expect("true-up");
    let tip = trued.new_sha.expect("a merge commit").to_string();
    assert_eq!(
        git(
            &r.origin,
            &r.home,
            &["rev-parse", &format!("refs/heads/{branch}")]
        ),
        tip
    );
    let parents = git(
        &r.origin,
        &r.home,
        &["rev-list", "--parents", "-n", "1", &tip],
    );
    assert_eq!(
        parents.split(' ').count(),
        3,
        "a merge of two parents: {parents}"
    );
    assert_eq!(
        git(
            &r.origin,
            &r.home,
            &["rev-parse", &format!("{tip}^{{tree}}")]
        ),
        git(
            &r.origin,
            &r.home,
            &["rev-parse", &format!("{staging_sha}^{{tree}}")]
        ),
        "the RC branch's tree wins"
    );
    let refused = release::true_up(
        &ctx,
        &TrueUpRequest {
            rc_branch: Some("stages/prod".into()),
            force: true,
            dry_run: false,
        },
    )
    .await
    .expect_err("never on the production branch");
    assert_eq!(refused.kind(), ErrorKind::Unsafe);

    // Merge the promotion PR on GitHub, then create the release once.
    host.merge_pull_request(pr_number, MergeMethod::Merge)
        .await
        .expect("merge");
    let made = release::create_release(
        &ctx,
        &CreateReleaseRequest {
            pr: pr_number.to_string().parse().expect("pr"),
            dry_run: false,
        },
    )
    .await
    .expect("release");
    assert_eq!(made.title, "RC 112");
    let releases = host.releases().await.expect("releases");
    assert_eq!(releases[0].name, "RC 112");
    assert_eq!(
        releases[0].body, expected_body,
        "the PR body is the release notes"
    );
    let again = release::create_release(
        &ctx,
        &CreateReleaseRequest {
            pr: pr_number.to_string().parse().expect("pr"),
            dry_run: false,
        },
    )
    .await
    .expect_err("RC 112 exists");
    assert_eq!(again.kind(), ErrorKind::Conflict);
}
