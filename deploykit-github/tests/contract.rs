//! deploykit-core's Vcs and CodeHost contract suites against the real backends: GitVcs on a
//! clone of a bare origin, GitHubCodeHost on the local GitHub fake.

mod support;

use async_trait::async_trait;
use deploykit_core::Sha;
use deploykit_core::contract::code_host::{self, CodeHostHarness};
use deploykit_core::contract::vcs::{self, VcsHarness};
use deploykit_core::ports::{CodeHost, MergeMethod, Vcs};
use deploykit_github::{GitHubCodeHost, GitVcs, Token};
use support::git_world::{GitWorld, try_git_in};
use support::github_fake::{FakeGitHub, fake_sha};

/// GitVcs on `work`, with history built on the bare origin by git plumbing.
struct GitHarness {
    world: GitWorld,
    vcs: GitVcs,
}

impl GitHarness {
    fn new() -> Self {
        let world = GitWorld::new();
        let vcs = GitVcs::open(&world.work).expect("open").with_token(None);
        GitHarness { world, vcs }
    }

    fn origin(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Result<String, String> {
        try_git_in(
            &self.world.origin,
            &self.world.home(),
            args,
            Some(self.world.tick()),
            env,
            stdin,
        )
        .map(|out| out.trim().to_string())
    }

    fn tip(&self, branch: &str) -> Option<String> {
        self.origin(
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ],
            &[],
            None,
        )
        .ok()
    }
}

fn sha(s: &str) -> Result<Sha, String> {
    Sha::new(s).map_err(|e| e.to_string())
}

#[async_trait]
impl VcsHarness for GitHarness {
    fn vcs(&self) -> &dyn Vcs {
        &self.vcs
    }

    async fn commit(
        &self,
        branch: &str,
        title: &str,
        body: &str,
        files: &[(&str, &str)],
    ) -> Result<Sha, String> {
        let index = self
            .world
            .dir
            .path()
            .join(format!("index-{}", self.world.tick()));
        let index = index.to_string_lossy().into_owned();
        let env = [("GIT_INDEX_FILE", index.as_str())];
        let parent = self.tip(branch);
        match &parent {
            Some(p) => self.origin(&["read-tree", p], &env, None)?,
            None => self.origin(&["read-tree", "--empty"], &env, None)?,
        };
        for (path, content) in files {
            let blob = self.origin(&["hash-object", "-w", "--stdin"], &env, Some(content))?;
            self.origin(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{blob},{path}"),
                ],
                &env,
                None,
            )?;
        }
        let tree = self.origin(&["write-tree"], &env, None)?;
        let message = if body.is_empty() {
            title.to_string()
        } else {
            format!("{title}\n\n{body}")
        };
        let mut args = vec!["commit-tree".to_string(), tree];
        if let Some(p) = &parent {
            args.push("-p".into());
            args.push(p.clone());
        }
        args.push("-m".into());
        args.push(message);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let commit = self.origin(&args, &[], None)?;
        self.origin(
            &["update-ref", &format!("refs/heads/{branch}"), &commit],
            &[],
            None,
        )?;
        sha(&commit)
    }

    async fn branch(&self, branch: &str, at: &Sha) -> Result<(), String> {
        self.origin(
            &["update-ref", &format!("refs/heads/{branch}"), at.as_str()],
            &[],
            None,
        )
        .map(|_| ())
    }

    async fn merge(&self, branch: &str, theirs: &Sha, title: &str) -> Result<Sha, String> {
        let tip = self
            .tip(branch)
            .ok_or_else(|| format!("no branch {branch} on origin"))?;
        let tree = self.origin(&["rev-parse", &format!("{theirs}^{{tree}}")], &[], None)?;
        let commit = self.origin(
            &[
                "commit-tree",
                &tree,
                "-p",
                &tip,
                "-p",
                theirs.as_str(),
                "-m",
                title,
            ],
            &[],
            None,
        )?;
        self.origin(
            &["update-ref", &format!("refs/heads/{branch}"), &commit],
            &[],
            None,
        )?;
        sha(&commit)
    }
}

/// GitHubCodeHost on the fake, with small pages so that every list crosses pages.
struct GitHubHarness {
    fake: FakeGitHub,
    host: GitHubCodeHost,
}

const TOKEN: &str = "ghp_contractToken";

impl GitHubHarness {
    fn new() -> Self {
        let fake = FakeGitHub::start("18F/identity-idp", Some(TOKEN));
        fake.state.lock().expect("lock").max_per_page = 10;
        let host =
            GitHubCodeHost::new("18F/identity-idp", &fake.url(), Token::new(TOKEN)).expect("host");
        GitHubHarness { fake, host }
    }
}

#[async_trait]
impl CodeHostHarness for GitHubHarness {
    fn host(&self) -> &dyn CodeHost {
        &self.host
    }

    async fn branches(&self, base: &str, head: &str) -> Result<Sha, String> {
        let mut s = self.fake.state.lock().map_err(|e| e.to_string())?;
        let n = s.next_id;
        s.next_id += 2;
        let base_sha = fake_sha(0xb000 + n);
        let head_sha = fake_sha(0xb000 + n + 1);
        s.branches.retain(|(b, _)| b != base && b != head);
        s.branches.push((base.to_string(), base_sha));
        s.branches.push((head.to_string(), head_sha.clone()));
        sha(&head_sha)
    }

    async fn approve(&self, number: u64, user: &str) -> Result<(), String> {
        self.fake
            .add_review(number, user, "APPROVED", "2024-01-09T12:00:00Z");
        Ok(())
    }

    async fn merge_method_used(&self, number: u64) -> Option<MergeMethod> {
        let path = format!("/repos/18F/identity-idp/pulls/{number}/merge");
        let put = self
            .fake
            .requests()
            .into_iter()
            .find(|r| r.method == "PUT" && r.path() == path)?;
        match put.json()["merge_method"].as_str()? {
            "merge" => Some(MergeMethod::Merge),
            "squash" => Some(MergeMethod::Squash),
            "rebase" => Some(MergeMethod::Rebase),
            _ => None,
        }
    }
}

#[tokio::test]
async fn git_vcs_passes_the_vcs_contract() {
    let h = GitHarness::new();
    assert_eq!(vcs::all(&h).await, Ok(()));
}

#[tokio::test]
async fn github_code_host_passes_the_code_host_contract() {
    let h = GitHubHarness::new();
    assert_eq!(code_host::all(&h).await, Ok(()));
}
