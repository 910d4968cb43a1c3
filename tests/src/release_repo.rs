//! A GitHub repository's git side for end-to-end runs: a bare `origin` (reached over
//! `file://`, named like the GitHub repository) holding `main` and the production branch,
//! and the release manager's working repository with that origin as its remote.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The production branch of the seeded origin.
pub const PRODUCTION_BRANCH: &str = "stages/prod";

/// A bare origin and the release manager's working repository.
#[derive(Debug, Clone)]
pub struct ReleaseRepo {
    /// The bare repository (`<root>/origin/<owner>/<name>.git`).
    pub origin: PathBuf,
    /// The working repository (its `origin` remote is the bare one).
    pub work: PathBuf,
    /// The `HOME` git runs with (no user or system configuration is read).
    pub home: PathBuf,
}

impl ReleaseRepo {
    /// Seeds `repository` (`owner/name`) under `root`, the working repository in `work`:
    /// `Initial commit (#1)` on `main` and on [`PRODUCTION_BRANCH`], then
    /// `Add an audit column (#2)` (with a changelog line) on `main` only, both pushed.
    pub fn seed(root: &Path, work: &Path, repository: &str) -> Self {
        let origin = root.join("origin").join(format!("{repository}.git"));
        std::fs::create_dir_all(&origin)
            .unwrap_or_else(|e| panic!("create {}: {e}", origin.display()));
        std::fs::create_dir_all(work).unwrap_or_else(|e| panic!("create {}: {e}", work.display()));
        let repo = ReleaseRepo {
            origin,
            work: work.to_path_buf(),
            home: root.to_path_buf(),
        };
        repo.git(&repo.origin, &["init", "-q", "--bare", "-b", "main"]);
        repo.git(work, &["init", "-q", "-b", "main"]);
        let url = format!("file://{}", repo.origin.display());
        repo.git(work, &["remote", "add", "origin", &url]);
        repo.git(
            work,
            &["commit", "-q", "--allow-empty", "-m", "Initial commit (#1)"],
        );
        let production = format!("main:{PRODUCTION_BRANCH}");
        repo.git(work, &["push", "-q", "origin", "main", &production]);
        repo.git(
            work,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "Add an audit column (#2)",
                "-m",
                "changelog: Internal, Audit, Add an audit column",
            ],
        );
        repo.git(work, &["push", "-q", "origin", "main"]);
        repo
    }

    /// Runs git in `dir` as the release manager, isolated from the user's and the system's
    /// configuration; its trimmed standard output. Panics when git fails.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Release Manager")
            .env("GIT_AUTHOR_EMAIL", "rm@example.gov")
            .env("GIT_COMMITTER_NAME", "Release Manager")
            .env("GIT_COMMITTER_EMAIL", "rm@example.gov")
            .output()
            .unwrap_or_else(|e| panic!("git {args:?} cannot run: {e}"));
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `rev` resolved in the working repository.
    pub fn work_rev(&self, rev: &str) -> String {
        self.git(&self.work, &["rev-parse", rev])
    }

    /// `rev` resolved in the origin.
    pub fn origin_rev(&self, rev: &str) -> String {
        self.git(&self.origin, &["rev-parse", rev])
    }
}
