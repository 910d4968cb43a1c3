//! The changelog of a release candidate, byte-compatible with identity-idp's
//! `changelog_check.rb`: commit trailers `changelog: Category, Subcategory, Change`, mapped to
//! four categories, grouped, sorted and merged.
//!
//! - [`trailer`]: the trailer grammar and the automatic entries' patterns;
//! - [`category`]: the categories and Levenshtein mapping;
//! - [`entry`]: one commit's entry;
//! - [`format`](mod@format): the printed text.

pub mod category;
pub mod entry;
pub mod format;
pub mod trailer;

pub use category::{Category, MAX_CATEGORY_DISTANCE, levenshtein};
pub use entry::{ChangelogEntry, CommitEntry, commit_entry};
pub use format::INVALID_HEADING;
pub use trailer::{Trailer, parse_trailer};

use crate::error::{Error, Result};
use crate::ports::Commit;

/// The repository PR links point at when none is configured.
pub const DEFAULT_REPOSITORY: &str = "18F/identity-idp";

/// A built changelog.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Changelog {
    /// The text changelog_check.rb prints (without its final newline).
    pub text: String,
    /// Every valid entry, in commit order (newest first), before merging.
    pub entries: Vec<ChangelogEntry>,
    /// Titles of commits without a valid entry that were not skipped, newest first.
    pub invalid_titles: Vec<String>,
    /// Titles of commits whose trailer names a category too far from the known ones: their
    /// entry is dropped and they are not listed as invalid (as changelog_check.rb does).
    pub dropped_titles: Vec<String>,
    /// Whether any commit carried `[skip changelog]`.
    pub skipped_any: bool,
}

/// Explains the trailer format; the error of a changelog without any valid entry.
pub const TRAILER_HELP: &str = "A valid changelog line was not found in any commit. \
Add a line `changelog: Category, Subcategory, Change` to a commit message (or the squashed \
PR's description), where Category is one of User-Facing Improvements, Bug Fixes, Internal, \
Upcoming Features (e.g. `changelog: Bug Fixes, Login, Fix the remember-device checkbox`), \
or add `[skip changelog]` to commits that need no entry.";

/// Builds the changelog of `commits` (newest first, as [`crate::ports::Vcs::commits_between`]
/// returns them), with PR links into `repository` (`owner/name`).
///
/// Fails with InvalidInput, explaining the trailer format, when no commit has a valid entry
/// and none is marked `[skip changelog]`.
///
/// ```
/// use deploykit_core::changelog::build_changelog;
/// use deploykit_core::ports::Commit;
/// use deploykit_core::Sha;
/// let commits = vec![Commit {
///     sha: Sha::new("abcdef1").unwrap(),
///     title: "Fix login (#42)".into(),
///     body: "changelog: Bug Fixes, Login, fix the button".into(),
/// }];
/// let changelog = build_changelog(&commits, "18F/identity-idp").unwrap();
/// assert_eq!(
///     changelog.text,
///     "## Bug Fixes\n- Login: Fix the button ([#42](https://github.com/18F/identity-idp/pull/42))"
/// );
/// ```
pub fn build_changelog(commits: &[Commit], repository: &str) -> Result<Changelog> {
    if commits.is_empty() {
        return Err(Error::invalid_input(
            "There are no commits between the base and the source: everything in the source \
             is already in the base, so nothing would ship. Check the two revisions (the base \
             is the production branch; the source, what would be released).",
        )
        .with("commits", 0));
    }
    let mut changelog = sorted(commits);
    if changelog.entries.is_empty() && !changelog.skipped_any {
        let message = match changelog.dropped_warning() {
            Some(dropped) => format!("{dropped}\n{TRAILER_HELP}"),
            None => TRAILER_HELP.to_string(),
        };
        return Err(Error::invalid_input(message)
            .with("commits", commits.len())
            .with("invalid", changelog.invalid_titles.len()));
    }
    changelog.text = format::render(&changelog.entries, &changelog.invalid_titles, repository);
    Ok(changelog)
}

impl Changelog {
    /// What a person verifying the changelog must know about [`Changelog::dropped_titles`]:
    /// those commits have a changelog line, but its category is not within three letters of
    /// a known one, so their change is left out (as changelog_check.rb leaves it out) and
    /// they are not listed as invalid either. `None` when nothing was dropped.
    pub fn dropped_warning(&self) -> Option<String> {
        if self.dropped_titles.is_empty() {
            return None;
        }
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        Some(format!(
            "{} commit(s) have a changelog line whose category is none of {}, so their \
             change is left out of the changelog: {}. Correct the category in the commit \
             message (or the squashed PR's description) if the change should be listed.",
            self.dropped_titles.len(),
            known.join(", "),
            self.dropped_titles.join("; ")
        ))
    }
}

/// The commits sorted into entries, invalid, dropped and skipped ones, with no text: what
/// [`build_changelog`] renders, and what a caller shows of a range without a valid entry.
pub fn sorted(commits: &[Commit]) -> Changelog {
    let mut changelog = Changelog {
        text: String::new(),
        entries: Vec::new(),
        invalid_titles: Vec::new(),
        dropped_titles: Vec::new(),
        skipped_any: false,
    };
    for commit in commits {
        match commit_entry(commit) {
            CommitEntry::Skipped => changelog.skipped_any = true,
            CommitEntry::Entry(entry) => changelog.entries.push(entry),
            CommitEntry::Dropped(_) => changelog.dropped_titles.push(commit.title.clone()),
            CommitEntry::Invalid => changelog.invalid_titles.push(commit.title.clone()),
        }
    }
    changelog
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::model::Sha;

    fn commit(title: &str, body: &str) -> Commit {
        Commit {
            sha: Sha::new("0123456789abcdef0123456789abcdef01234567").expect("sha"),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn whole_changelog_with_merge_and_invalid_section() {
        let commits = [
            commit(
                "Merge pull request #9603 from 18F/stages/rc",
                "Deploy RC 333",
            ),
            commit(
                "Prompt env (#9592)",
                "changelog: Internal, Console, Show env",
            ),
            commit("Tidy (#9590)", "[skip changelog]"),
            commit("Prompt (#9585)", "changelog: Internal, Console, show env"),
            commit("Refactor", "changelog: internal, Source code, Refactor"),
            commit(
                "Limits (#9370)",
                "changelog: Improvements, Rate, limit more",
            ),
            commit("Fix (#7)", "* changelog: Bug Fixes, Login, fix it"),
        ];
        let changelog = build_changelog(&commits, "18F/identity-idp").expect("valid");
        assert_eq!(
            changelog.text,
            "## Bug Fixes\n\
             - Login: Fix it ([#7](https://github.com/18F/identity-idp/pull/7))\n\
             \n\
             ## Internal\n\
             - Console: Show env ([#9585](https://github.com/18F/identity-idp/pull/9585), \
             [#9592](https://github.com/18F/identity-idp/pull/9592))\n\
             - Source code: Refactor\n\
             \n\
             !!! Invalid Changelog Entries !!!\n\
             Merge pull request #9603 from 18F/stages/rc"
        );
        assert_eq!(changelog.entries.len(), 4);
        assert_eq!(
            changelog.invalid_titles,
            vec!["Merge pull request #9603 from 18F/stages/rc".to_string()]
        );
        assert_eq!(changelog.dropped_titles, vec!["Limits (#9370)".to_string()]);
        assert!(changelog.skipped_any);
    }

    #[test]
    fn a_dropped_entry_alone_is_a_failure() {
        let err = build_changelog(
            &[commit(
                "Limits (#9370)",
                "changelog: Improvements, Rate, limit",
            )],
            DEFAULT_REPOSITORY,
        )
        .expect_err("no valid entry");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn nothing_valid_and_nothing_skipped_fails_with_the_format() {
        let err = build_changelog(&[commit("Oops (#1)", "no trailer")], DEFAULT_REPOSITORY)
            .expect_err("no valid entry");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .contains("changelog: Category, Subcategory, Change"),
            "{err}"
        );
        let err = build_changelog(&[], DEFAULT_REPOSITORY).expect_err("no commits");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .contains("There are no commits between the base and the source"),
            "{err}"
        );
    }

    #[test]
    fn dropped_entries_are_named_in_a_warning_and_in_the_failure_they_cause() {
        let mixed = build_changelog(
            &[
                commit("Docs (#802)", "changelog: Documentation, Readme, docs"),
                commit("Good (#803)", "changelog: Internal, Build, good"),
            ],
            DEFAULT_REPOSITORY,
        )
        .expect("one valid entry");
        assert!(!mixed.text.contains("Docs"), "left out, as the Ruby does");
        let warning = mixed.dropped_warning().expect("a warning");
        assert!(
            warning.starts_with("1 commit(s) have a changelog line"),
            "{warning}"
        );
        assert!(warning.contains("Docs (#802)"), "{warning}");
        assert!(
            warning.contains("User-Facing Improvements, Bug Fixes"),
            "{warning}"
        );
        assert_eq!(
            build_changelog(
                &[commit("Good (#803)", "changelog: Internal, Build, good")],
                DEFAULT_REPOSITORY
            )
            .expect("valid")
            .dropped_warning(),
            None
        );
        let err = build_changelog(
            &[commit(
                "Docs (#802)",
                "changelog: Documentation, Readme, docs",
            )],
            DEFAULT_REPOSITORY,
        )
        .expect_err("nothing valid");
        let text = err.to_string();
        assert!(text.contains("whose category is none of"), "{text}");
        assert!(text.contains("Docs (#802)"), "{text}");
        assert!(text.contains(TRAILER_HELP), "{text}");
    }

    #[test]
    fn only_skipped_commits_give_an_empty_changelog() {
        let changelog = build_changelog(
            &[
                commit("Tidy [skip changelog]", ""),
                commit("Oops (#2)", "no trailer"),
            ],
            DEFAULT_REPOSITORY,
        )
        .expect("skip marker seen");
        assert_eq!(
            changelog.text,
            "!!! Invalid Changelog Entries !!!\nOops (#2)"
        );
        assert!(changelog.entries.is_empty());
        assert!(changelog.skipped_any);
    }
}
