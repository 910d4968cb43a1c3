//! One commit's changelog entry, or why it has none.

use crate::changelog::category::Category;
use crate::changelog::trailer::{
    DEPENDABOT_SIGN_OFF, SKIP_MARKER, Trailer, capitalise, parse_trailer, pr_number, reverted_sha,
};
use crate::ports::Commit;

/// One line of the changelog before entries with the same change are merged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangelogEntry {
    /// The section.
    pub category: Category,
    /// The subcategory as written.
    pub subcategory: String,
    /// The change, first letter capitalised.
    pub change: String,
    /// The PR number from the commit title, if any.
    pub pr_number: Option<u64>,
}

/// What a commit contributes to the changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitEntry {
    /// The commit says `[skip changelog]`.
    Skipped,
    /// The commit's entry.
    Entry(ChangelogEntry),
    /// A trailer whose category is too far from every known one: the entry is dropped
    /// silently, and the commit is not listed as invalid either (as changelog_check.rb does).
    Dropped(Trailer),
    /// No trailer at all.
    Invalid,
}

/// The entry of one commit: its body lines (non-empty, split on CR or LF) then its title are
/// scanned and the first trailer (or dependabot sign-off) wins; a `Revert ` title with a
/// `This reverts commit <sha>.` line is a code revert.
pub fn commit_entry(commit: &Commit) -> CommitEntry {
    if commit.title.contains(SKIP_MARKER) || commit.body.contains(SKIP_MARKER) {
        return CommitEntry::Skipped;
    }
    let pr = pr_number(&commit.title);
    let entry = |category, subcategory: &str, change: &str| {
        CommitEntry::Entry(ChangelogEntry {
            category,
            subcategory: subcategory.to_string(),
            change: capitalise(change),
            pr_number: pr,
        })
    };
    let body_lines = || {
        commit
            .body
            .split(['\r', '\n'])
            .filter(|line| !line.is_empty())
    };
    for line in body_lines().chain(std::iter::once(commit.title.as_str())) {
        if line == DEPENDABOT_SIGN_OFF {
            return entry(
                Category::Internal,
                "Dependencies",
                "Update dependencies to latest versions",
            );
        }
        if let Some(trailer) = parse_trailer(line) {
            return match Category::closest(&trailer.category) {
                Some(category) => entry(category, &trailer.subcategory, &trailer.change),
                None => CommitEntry::Dropped(trailer),
            };
        }
    }
    if commit.title.starts_with("Revert ")
        && let Some(sha) = body_lines().find_map(reverted_sha)
    {
        return entry(
            Category::BugFixes,
            "Code Revert",
            &format!("Revert changes introduced in {sha}"),
        );
    }
    CommitEntry::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sha;

    fn commit(title: &str, body: &str) -> Commit {
        Commit {
            sha: Sha::new("0123456789abcdef0123456789abcdef01234567").expect("sha"),
            title: title.into(),
            body: body.into(),
        }
    }

    fn entry(title: &str, body: &str) -> Option<(Category, String, String, Option<u64>)> {
        match commit_entry(&commit(title, body)) {
            CommitEntry::Entry(e) => Some((e.category, e.subcategory, e.change, e.pr_number)),
            _ => None,
        }
    }

    #[test]
    fn body_lines_come_before_the_title_and_the_first_match_wins() {
        assert_eq!(
            entry(
                "changelog: Internal, Title, from the title (#1)",
                "text\r\nchangelog: Bug Fixes, First, first\rchangelog: Internal, Second, second\n"
            ),
            Some((Category::BugFixes, "First".into(), "First".into(), Some(1)))
        );
        assert_eq!(
            entry(
                "changelog: Internal, Title, from the title (#1)",
                "no trailer"
            ),
            Some((
                Category::Internal,
                "Title".into(),
                "From the title (#1)".into(),
                Some(1)
            ))
        );
    }

    #[test]
    fn far_category_drops_the_entry() {
        // The first trailer wins even when its category is unknown.
        assert_eq!(
            commit_entry(&commit(
                "Docs (#3)",
                "changelog: Documentation, Readme, typo\nchangelog: Internal, Readme, typo"
            )),
            CommitEntry::Dropped(Trailer {
                category: "Documentation".into(),
                subcategory: "Readme".into(),
                change: "typo".into()
            })
        );
    }

    #[test]
    fn dependabot_sign_off_is_a_dependency_update() {
        assert_eq!(
            entry(
                "Bump rack from 2.2.3 to 2.2.8 (#9000)",
                "Bumps rack.\n\nSigned-off-by: dependabot[bot] <support@github.com>\n"
            ),
            Some((
                Category::Internal,
                "Dependencies".into(),
                "Update dependencies to latest versions".into(),
                Some(9000)
            ))
        );
        // Only the exact line counts.
        assert_eq!(
            entry(
                "Bump rack (#9000)",
                "Signed-off-by: dependabot[bot] <support@github.com> "
            ),
            None
        );
    }

    #[test]
    fn reverts_are_bug_fixes() {
        assert_eq!(
            entry(
                "Revert \"Upgrade rails (#9577)\" (#9606)",
                "This reverts commit 4055b1bd9db5c562ba343716dfdbae3d7d33a2a5.\n"
            ),
            Some((
                Category::BugFixes,
                "Code Revert".into(),
                "Revert changes introduced in 4055b1bd9db5c562ba343716dfdbae3d7d33a2a5".into(),
                Some(9577)
            ))
        );
        // Without the `Revert ` title, the line alone is no entry.
        assert_eq!(
            entry(
                "Undo the upgrade (#9606)",
                "This reverts commit 4055b1bd9db5c562ba343716dfdbae3d7d33a2a5.\n"
            ),
            None
        );
        // A written trailer wins over the automatic revert entry.
        assert_eq!(
            entry(
                "Revert \"x\" (#5)",
                "This reverts commit 4055b1bd.\nchangelog: Internal, Build, undo x"
            ),
            Some((Category::Internal, "Build".into(), "Undo x".into(), Some(5)))
        );
    }

    #[test]
    fn skip_marker_in_title_or_body() {
        for (title, body) in [
            ("Tidy [skip changelog]", "changelog: Internal, A, b"),
            ("Tidy", "* more\n\n[skip changelog]\n"),
            ("Tidy", "* [skip changelog] please"),
        ] {
            assert_eq!(
                commit_entry(&commit(title, body)),
                CommitEntry::Skipped,
                "{title} {body}"
            );
        }
    }

    #[test]
    fn no_trailer_is_invalid() {
        assert_eq!(
            commit_entry(&commit(
                "Merge pull request #9603 from 18F/stages/rc-2023-11-16",
                "Deploy RC 333 to Prod"
            )),
            CommitEntry::Invalid
        );
    }
}
