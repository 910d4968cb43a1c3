//! `status` on a real git history: GitVcs on a clone of a bare origin (over file://), the
//! GitHub fake, and a simulated fleet whose instances run production's SHA. Proves the pending
//! commit count, the changelog and the migration / asset flags from real `git log` and
//! `git diff`.

mod support;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use deploykit_core::ports::{DeployStatusSource, PrState};
use deploykit_core::sim::{GroupSpec, World};
use deploykit_core::status::{
    AppSource, MigrationSource, StatusPorts, StatusRequest, render_status, status,
};
use deploykit_core::{
    AppName, AppSettings, DeployStatus, EnvName, GroupName, Result, RoleName, Sha,
};
use deploykit_github::{GitHubCodeHost, GitVcs, Token};
use support::git_world::git_as_release_manager as git;
use support::github_fake::FakeGitHub;

const TOKEN: &str = "ghp_status_test_token";

/// Production's deploy status document: `stages/prod` at `sha`.
#[derive(Debug)]
struct Prod(String);

#[async_trait]
impl DeployStatusSource for Prod {
    async fn deploy_status(&self, _app: &AppName, _env: &EnvName) -> Result<DeployStatus> {
        DeployStatus::parse(&format!(
            r#"{{"branch":"stages/prod","git_sha":"{}","chef_run_timestamp":"20261117180102"}}"#,
            self.0
        ))
    }
}

fn commit(work: &Path, home: &Path, files: &[(&str, &str)], message: &str) {
    for (path, text) in files {
        let path = work.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
    git(work, home, &["add", "."]);
    git(work, home, &["commit", "-q", "-m", message]);
}

struct Repos {
    _dir: tempfile::TempDir,
    home: PathBuf,
    work: PathBuf,
}

/// A clone whose origin has `stages/prod` at a baseline and `main` three commits ahead,
/// touching a migration, a JavaScript file and an unrelated file. The clone's own `main`
/// stays at the baseline, so only a fetch shows what is pending.
fn repos() -> Repos {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let origin = dir.path().join("18F").join("identity-idp.git");
    std::fs::create_dir_all(&origin).expect("origin dir");
    git(&origin, &home, &["init", "-q", "--bare", "-b", "main"]);
    let url = format!("file://{}", origin.display());
    git(dir.path(), &home, &["clone", "-q", &url, "author"]);
    let author = dir.path().join("author");
    commit(
        &author,
        &home,
        &[("db/schema.rb", "version: 1\n"), ("README.md", "idp\n")],
        "Production baseline\n\n[skip changelog]",
    );
    git(
        &author,
        &home,
        &["push", "-q", "origin", "main", "main:stages/prod"],
    );
    git(dir.path(), &home, &["clone", "-q", &url, "work"]);
    let work = dir.path().join("work");
    commit(
        &author,
        &home,
        &[(
            "app/javascript/packages/remember-device/index.tsx",
            "export const x = 1;\n",
        )],
        "Add a remember-device option (#201)\n\nchangelog: User-Facing Improvements, Sign in, \
         Add a remember-device option",
    );
    commit(
        &author,
        &home,
        &[
            ("db/migrate/20261120_add_column.rb", "add_column\n"),
            ("db/schema.rb", "version: 2\n"),
        ],
        "Add a column to users (#202)\n\nchangelog: Internal, Database, Add a column to users",
    );
    commit(
        &author,
        &home,
        &[(".rubocop.yml", "AllCops: {}\n")],
        "Tidy RuboCop (#203)\n\n[skip changelog]",
    );
    git(&author, &home, &["push", "-q", "origin", "main"]);
    Repos {
        _dir: dir,
        home,
        work,
    }
}

#[tokio::test]
async fn pending_changes_come_from_the_real_history() {
    let r = repos();
    let prod_sha = git(&r.work, &r.home, &["rev-parse", "origin/stages/prod"]);

    let github = FakeGitHub::start("18F/identity-idp", Some(TOKEN));
    github.add_release(
        "RC 111",
        "2026-11-17T180102",
        false,
        false,
        Some("2026-11-17T18:01:02Z"),
    );
    let open_pr = github.add_pull(
        "Deploy RC 112 to Production",
        "stages/rc-2026-11-24",
        "stages/prod",
        "open",
        false,
        &["status - promotion"],
    );
    let host = GitHubCodeHost::new("18F/identity-idp", &github.url(), Token::new(TOKEN))
        .expect("code host");
    let vcs = GitVcs::open(&r.work).expect("open").with_token(None);

    let world = World::new(deploykit_core::sim::world::login_gov_start());
    let prod = EnvName::new("prod").expect("env");
    let sha = Sha::new(&prod_sha).expect("sha");
    for (role, n) in [("idp", 2), ("worker", 1)] {
        let name = GroupName::new(&prod, &RoleName::new(role).expect("role"));
        world
            .sim_fleet()
            .add_group(GroupSpec::simple(name, n, sha.clone()));
    }
    let (fleet, clock) = (world.fleet(), world.clock());
    let doc = Prod(prod_sha.clone());
    let settings = AppSettings::idp();
    let apps = [AppSource {
        settings: &settings,
        vcs: Ok(&vcs),
        code_host: &host,
    }];
    let ports = StatusPorts {
        fleet: fleet.as_ref(),
        deploy_status: &doc,
        clock: clock.as_ref(),
    };
    let request = StatusRequest {
        envs: vec![prod],
        fetch: true,
    };
    let report = status(&ports, &apps, &request).await;
    assert!(report.is_complete(), "{:?}", report.problems());
    let idp = report.app("prod", "idp").expect("idp");

    let deployed = idp.deployed.known().expect("deployed");
    assert_eq!(deployed.sha.as_str(), prod_sha);
    assert_eq!(
        deployed.deployed_at.map(|t| t.to_rfc3339()),
        Some("2026-11-17T18:01:02+00:00".into())
    );
    assert!(!idp.instances.known().expect("instances").is_mixed());

    let rc = idp.last_rc.known().expect("last rc");
    assert_eq!(rc.number.to_string(), "112");
    assert!(!rc.released);
    let pr = rc.pr.as_ref().expect("pr");
    assert_eq!((pr.number, pr.state), (open_pr, PrState::Open));
    let release = idp.last_release.known().and_then(|r| r.as_ref());
    assert_eq!(release.map(|r| r.name.as_str()), Some("RC 111"));

    let pending = idp.pending.known().expect("pending");
    let main_sha = git(&r.work, &r.home, &["rev-parse", "origin/main"]);
    assert_eq!(pending.main.as_str(), main_sha);
    assert_eq!(pending.main_ref, "origin/main");
    assert_eq!(pending.commits, 3);
    assert_eq!(pending.last_migration_from, MigrationSource::Deployed);
    assert_eq!(
        pending.risk.migrations,
        ["db/migrate/20261120_add_column.rb", "db/schema.rb"]
    );
    assert_eq!(
        pending.risk.assets,
        ["app/javascript/packages/remember-device/index.tsx"]
    );
    assert_eq!(
        pending.changelog,
        "## User-Facing Improvements\n- Sign in: Add a remember-device option \
         ([#201](https://github.com/18F/identity-idp/pull/201))\n\n## Internal\n- Database: Add \
         a column to users ([#202](https://github.com/18F/identity-idp/pull/202))"
    );
    let text = render_status(&report, true);
    assert!(text.contains("3 commits, migrations, assets"), "{text}");
    assert!(
        text.contains(&format!("RC 112 (#{open_pr} open)")),
        "{text}"
    );
}

#[tokio::test]
async fn without_a_checkout_pending_is_unknown_and_the_rest_is_shown() {
    let github = FakeGitHub::start("18F/identity-pki", Some(TOKEN));
    github.add_release("RC 40", "2026-11-17T190233", false, false, None);
    let host = GitHubCodeHost::new("18F/identity-pki", &github.url(), Token::new(TOKEN))
        .expect("code host");
    let world = World::new(deploykit_core::sim::world::login_gov_start());
    let prod = EnvName::new("prod").expect("env");
    let sha = Sha::new("abcdef1234567").expect("sha");
    let name = GroupName::new(&prod, &RoleName::new("pivcac").expect("role"));
    world
        .sim_fleet()
        .add_group(GroupSpec::simple(name, 2, sha.clone()));
    let (fleet, clock) = (world.fleet(), world.clock());
    let doc = Prod(sha.to_string());
    let settings = AppSettings::pki();
    let apps = [AppSource {
        settings: &settings,
        vcs: Err("no git repository at /nowhere"),
        code_host: &host,
    }];
    let ports = StatusPorts {
        fleet: fleet.as_ref(),
        deploy_status: &doc,
        clock: clock.as_ref(),
    };
    let report = status(
        &ports,
        &apps,
        &StatusRequest {
            envs: vec![prod],
            fetch: true,
        },
    )
    .await;
    let problems = report.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .contains("no local checkout of 18F/identity-pki (no git repository at /nowhere)"),
        "{problems:?}"
    );
    let pki = report.app("prod", "pki").expect("pki");
    assert_eq!(
        pki.last_rc.known().map(|r| r.number.to_string()),
        Some("40".into())
    );
    assert!(pki.deployed.known().is_some());
}
