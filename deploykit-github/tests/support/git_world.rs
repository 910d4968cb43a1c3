//! Real git repositories in a temp dir, made with the git CLI: a bare `origin` and a work
//! clone with an identity, commits on fixed, increasing dates.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};

/// A bare origin and a clone of it.
pub struct GitWorld {
    /// Holds everything; removed on drop.
    pub dir: tempfile::TempDir,
    /// The bare "origin".
    pub origin: PathBuf,
    /// The work clone.
    pub work: PathBuf,
    clock: AtomicI64,
}

/// Runs git in `dir` isolated from the user's and system's configuration; panics on failure.
pub fn git_in(dir: &Path, home: &Path, args: &[&str], date: Option<i64>) -> String {
    match try_git_in(dir, home, args, date, &[], None) {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

/// Runs git like [`git_in`] as the release manager (`Release Manager <rm@example.gov>`, for
/// commits and merges in repositories with no identity configured); panics on failure.
pub fn git_as_release_manager(dir: &Path, home: &Path, args: &[&str]) -> String {
    let identity = [
        ("GIT_AUTHOR_NAME", "Release Manager"),
        ("GIT_AUTHOR_EMAIL", "rm@example.gov"),
        ("GIT_COMMITTER_NAME", "Release Manager"),
        ("GIT_COMMITTER_EMAIL", "rm@example.gov"),
    ];
    match try_git_in(dir, home, args, None, &identity, None) {
        Ok(out) => out.trim().to_string(),
        Err(e) => panic!("{e}"),
    }
}

/// Runs git like [`git_in`] with extra environment and standard input; `Err` says what failed.
pub fn try_git_in(
    dir: &Path,
    home: &Path,
    args: &[&str],
    date: Option<i64>,
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Result<String, String> {
    use std::io::Write;
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    if let Some(t) = date {
        let stamp = format!("{t} +0000");
        cmd.env("GIT_AUTHOR_DATE", &stamp)
            .env("GIT_COMMITTER_DATE", &stamp);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("git {args:?} cannot run: {e}"))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.unwrap_or("").as_bytes())
            .map_err(|e| format!("git {args:?}: writing stdin: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git {args:?} did not finish: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl GitWorld {
    /// A bare origin with `main` holding one commit, and a clone `work` of it.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join("gitconfig"),
            "[user]\n\tname = Release Manager\n\temail = rm@example.gov\n\
             [init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("gitconfig");
        let origin = dir.path().join("origin.git");
        let work = dir.path().join("work");
        git_in(
            dir.path(),
            &home,
            &["init", "--bare", "-q", "origin.git"],
            None,
        );
        git_in(
            dir.path(),
            &home,
            &["clone", "-q", "origin.git", "work"],
            None,
        );
        let world = GitWorld {
            dir,
            origin,
            work,
            clock: AtomicI64::new(1_700_000_000),
        };
        world.git(&["config", "user.name", "Release Manager"]);
        world.git(&["config", "user.email", "rm@example.gov"]);
        world.commit_file("README.md", "hello\n", "Initial commit");
        world.git(&["push", "-q", "origin", "main"]);
        world
    }

    /// The isolated HOME.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The next commit date (a minute after the previous one).
    pub fn tick(&self) -> i64 {
        self.clock.fetch_add(60, Ordering::SeqCst) + 60
    }

    /// git in the work clone.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.work, &self.home(), args, Some(self.tick()))
    }

    /// git in the bare origin.
    pub fn origin_git(&self, args: &[&str]) -> String {
        git_in(&self.origin, &self.home(), args, Some(self.tick()))
    }

    /// git in any directory.
    pub fn git_at(&self, dir: &Path, args: &[&str]) -> String {
        git_in(dir, &self.home(), args, Some(self.tick()))
    }

    /// Writes a file, commits it with `message` verbatim; returns the new SHA.
    pub fn commit_file(&self, path: &str, content: &str, message: &str) -> String {
        let full = self.work.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("dirs");
        }
        std::fs::write(&full, content).expect("write");
        self.git(&["add", path]);
        self.commit_verbatim(message, false)
    }

    /// Commits the index (or nothing, with `allow_empty`) with `message` exactly as given.
    pub fn commit_verbatim(&self, message: &str, allow_empty: bool) -> String {
        let msg = self.dir.path().join("msg.txt");
        std::fs::write(&msg, message).expect("msg");
        let msg = msg.to_string_lossy().into_owned();
        let mut args = vec!["commit", "-q", "--cleanup=verbatim", "-F", msg.as_str()];
        if allow_empty {
            args.push("--allow-empty");
        }
        self.git(&args);
        self.rev("HEAD")
    }

    /// `git rev-parse` in the work clone.
    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    /// `git rev-parse` in origin; `None` when it does not resolve.
    pub fn origin_rev(&self, rev: &str) -> Option<String> {
        let out = Command::new("git")
            .current_dir(&self.origin)
            .args(["rev-parse", "--verify", "-q", rev])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.home())
            .output()
            .expect("git runs");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}
