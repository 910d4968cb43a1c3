//! `deploykit changelog` over a generated 20,000-commit history, next to `git log` over the
//! same range with the same fields (`%H %s %b`), in the same run.
//!
//! Run with `cargo bench -p deploykit-github --bench changelog`; the ratio of the two medians
//! is the figure to report (BENCHMARKS.md).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use deploykit_core::changelog::build_changelog;
use deploykit_core::ports::Vcs;
use deploykit_github::GitVcs;

const COMMITS: usize = 20_000;
const CATEGORIES: [&str; 5] = [
    "User-Facing Improvements",
    "Bug Fixes",
    "Internal",
    "Upcoming Features",
    "Internals",
];

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
    assert!(status.success(), "git {args:?} failed");
}

/// A repository whose `main` has `COMMITS` commits after the tag `base`, most with a
/// changelog trailer, some without, some skipped, written with `git fast-import`.
fn generate(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut stream = String::with_capacity(COMMITS * 220);
    for n in 0..=COMMITS {
        let message = match n % 10 {
            0 => format!("Tidy module {n} (#{n})\n\n[skip changelog]"),
            7 => format!("Untitled change {n} (#{n})"),
            _ => format!(
                "Change number {n} (#{n})\n\nSome description of the change.\n\n\
                 changelog: {}, Area {}, Improve part {n} of the flow",
                CATEGORIES[n % CATEGORIES.len()],
                n % 37
            ),
        };
        let content = format!("{n}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter Bench <bench@example.gov> {} +0000\n\
             data {}\n{message}\n",
            n + 1,
            1_700_000_000 + n,
            message.len()
        ));
        if n > 0 {
            stream.push_str(&format!("from :{n}\n"));
        }
        stream.push_str(&format!(
            "M 644 inline counter.txt\ndata {}\n{content}\n",
            content.len()
        ));
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write the stream");
    assert!(child.wait().expect("fast-import").success());
    git(dir, &["tag", "base", "main~20000"]);
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path());
    let vcs = GitVcs::open(dir.path()).expect("open");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut group = c.benchmark_group("changelog_20k_commits");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("git_log", |b| {
        b.iter(|| {
            let out = Command::new("git")
                .args(["log", "-z", "--format=%H%x00%s%x00%b", "base..main"])
                .current_dir(dir.path())
                .output()
                .expect("git log");
            assert!(out.status.success());
            out.stdout.len()
        })
    });
    group.bench_function("deploykit_changelog", |b| {
        b.iter(|| {
            let commits = runtime
                .block_on(vcs.commits_between("base", "main"))
                .expect("commits");
            assert_eq!(commits.len(), COMMITS);
            build_changelog(&commits, "18F/identity-idp")
                .expect("changelog")
                .text
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
