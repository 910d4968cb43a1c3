//! The changelog: commit titles and bodies -> trailers -> entries -> the printed text.
//!
//! Input: commits separated by the byte 0x1E (as `git log --format=%x1e%s%n%b` writes them);
//! in each, the title is the first line and the body the rest.
//!
//! Invariants beyond "no panic":
//! - `build_changelog` agrees with `commit_entry` on every commit (each valid entry kept once,
//!   in commit order; invalid and dropped titles listed; fails only when nothing is valid and
//!   nothing is skipped, with InvalidInput);
//! - every entry's heading and change, and every invalid title, are in the text;
//! - a trailer the parser found, written back as `changelog: C, S, X`, parses to itself.
#![no_main]

use deploykit_core::changelog::{
    Category, CommitEntry, Trailer, build_changelog, commit_entry, parse_trailer,
};
use deploykit_core::ports::Commit;
use deploykit_core::{ErrorKind, Sha};
use libfuzzer_sys::fuzz_target;

const REPOSITORY: &str = "18F/identity-idp";

fn commits(text: &str) -> Vec<Commit> {
    let sha = Sha::new("0123456789abcdef0123456789abcdef01234567").expect("constant SHA");
    text.split('\u{1e}')
        .map(|record| {
            let (title, body) = record.split_once('\n').unwrap_or((record, ""));
            Commit {
                sha: sha.clone(),
                title: title.to_string(),
                body: body.to_string(),
            }
        })
        .collect()
}

fn check_trailer_round_trip(trailer: &Trailer) {
    for written in [
        format!(
            "changelog: {}, {}, {}",
            trailer.category, trailer.subcategory, trailer.change
        ),
        format!(
            "* CHANGELOG:{},{},{}",
            trailer.category, trailer.subcategory, trailer.change
        ),
    ] {
        // Without the optional spaces, a part that starts with a space would lose it.
        if written.starts_with('*')
            && [&trailer.category, &trailer.subcategory, &trailer.change]
                .iter()
                .any(|part| part.starts_with(' '))
        {
            continue;
        }
        assert_eq!(
            parse_trailer(&written).as_ref(),
            Some(trailer),
            "trailer {trailer:?} written as {written:?} does not parse back"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The line parser on its own, on every line as the entry finder splits them.
    for line in text.split(['\r', '\n', '\u{1e}']) {
        if let Some(trailer) = parse_trailer(line) {
            check_trailer_round_trip(&trailer);
        }
    }

    let commits = commits(text);
    let per_commit: Vec<CommitEntry> = commits.iter().map(commit_entry).collect();
    let expected_entries: Vec<_> = per_commit
        .iter()
        .filter_map(|e| match e {
            CommitEntry::Entry(entry) => Some(entry.clone()),
            _ => None,
        })
        .collect();
    let titles_of = |wanted: fn(&CommitEntry) -> bool| -> Vec<String> {
        commits
            .iter()
            .zip(&per_commit)
            .filter(|(_, e)| wanted(e))
            .map(|(c, _)| c.title.clone())
            .collect()
    };
    let invalid = titles_of(|e| matches!(e, CommitEntry::Invalid));
    let dropped = titles_of(|e| matches!(e, CommitEntry::Dropped(_)));
    let skipped_any = per_commit.iter().any(|e| matches!(e, CommitEntry::Skipped));

    match build_changelog(&commits, REPOSITORY) {
        Ok(changelog) => {
            assert!(!expected_entries.is_empty() || skipped_any);
            assert_eq!(changelog.entries, expected_entries);
            assert_eq!(changelog.invalid_titles, invalid);
            assert_eq!(changelog.dropped_titles, dropped);
            assert_eq!(changelog.skipped_any, skipped_any);
            for entry in &changelog.entries {
                let heading = format!("## {}", entry.category);
                assert!(changelog.text.contains(&heading), "{heading} missing");
                assert!(
                    Category::ALL.contains(&entry.category),
                    "unknown category {:?}",
                    entry.category
                );
                let change = entry.change.trim_end();
                assert!(
                    changelog.text.contains(change),
                    "change {change:?} missing from {:?}",
                    changelog.text
                );
            }
            for title in &changelog.invalid_titles {
                assert!(changelog.text.contains(title.trim()), "{title:?} missing");
            }
        }
        Err(err) => {
            assert!(expected_entries.is_empty() && !skipped_any, "{err}");
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    }
});
