//! The changelog of three real identity-idp release ranges matches what changelog_check.rb
//! printed for them, byte for byte (lines with the same subcategory may come in any order,
//! as the script's sort is not stable).

use std::path::{Path, PathBuf};
use std::process::Command;

use deploykit_core::Sha;
use deploykit_core::changelog::{DEFAULT_REPOSITORY, build_changelog};
use deploykit_core::ports::Commit;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/changelog")
}

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `git log base..source` as `Commit`s, newest first.
fn commits_between(repo: &Path, base: &str, source: &str) -> Vec<Commit> {
    let range = format!("{base}..{source}");
    let out = git(repo, &["log", "-z", "--format=%H%x00%s%x00%b", &range]);
    let text = String::from_utf8(out).expect("utf-8 log");
    // `-z` ends every commit with a NUL, the last one included.
    let fields: Vec<&str> = text
        .strip_suffix('\0')
        .unwrap_or(&text)
        .split('\0')
        .collect();
    assert_eq!(fields.len() % 3, 0, "three fields per commit");
    fields
        .chunks(3)
        .map(|c| Commit {
            sha: Sha::new(c[0]).expect("sha"),
            title: c[1].to_string(),
            body: c[2].to_string(),
        })
        .collect()
}

/// Sorts runs of consecutive `- <sub>: ...` lines with the same subcategory.
fn normalise_ties(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let sub = |l: &str| -> Option<String> {
        l.strip_prefix("- ")
            .and_then(|r| r.split_once(": "))
            .map(|(s, _)| s.to_string())
    };
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i + 1;
        if let Some(s) = sub(lines[i]) {
            while j < lines.len() && sub(lines[j]).as_deref() == Some(s.as_str()) {
                j += 1;
            }
        }
        let mut run = lines[i..j].to_vec();
        run.sort_unstable();
        out.extend(run);
        i = j;
    }
    out.join("\n") + if text.ends_with('\n') { "\n" } else { "" }
}

#[test]
fn fixture_ranges_match_changelog_check_rb() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("idp");
    let bundle = fixtures().join("idp-history.bundle");
    let out = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(&bundle)
        .arg(&repo)
        .output()
        .expect("git clone runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in 1..=3 {
        let commits = commits_between(
            &repo,
            &format!("range-{n}-base"),
            &format!("range-{n}-source"),
        );
        assert!(!commits.is_empty());
        let changelog = build_changelog(&commits, DEFAULT_REPOSITORY).expect("valid changelog");
        let printed = format!("{}\n", changelog.text);
        let expected = std::fs::read_to_string(fixtures().join(format!("range-{n}.expected.md")))
            .expect("fixture");
        assert_eq!(
            normalise_ties(&printed),
            normalise_ties(&expected),
            "range {n}"
        );
    }
}

#[test]
fn tie_normalisation_only_reorders_equal_subcategories() {
    assert_eq!(
        normalise_ties("## A\n- S: b\n- S: a\n- T: c\n"),
        "## A\n- S: a\n- S: b\n- T: c\n"
    );
    assert_ne!(
        normalise_ties("- S: a\n- T: b"),
        normalise_ties("- T: b\n- S: a")
    );
}
