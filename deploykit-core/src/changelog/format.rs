//! The changelog text, exactly as changelog_check.rb prints it.

use std::collections::HashMap;

use crate::changelog::category::Category;
use crate::changelog::entry::ChangelogEntry;

/// The heading of the list of commits without an entry.
pub const INVALID_HEADING: &str = "!!! Invalid Changelog Entries !!!";

/// One printed line: entries of a category with the same change, merged.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line<'a> {
    subcategory: &'a str,
    change: &'a str,
    prs: Vec<u64>,
}

/// The lines of one category: sorted by subcategory (byte order, stable), then entries with
/// the same change merged into the first one's line, PR numbers sorted.
fn category_lines(category: Category, entries: &[ChangelogEntry]) -> Vec<Line<'_>> {
    let mut chosen: Vec<&ChangelogEntry> =
        entries.iter().filter(|e| e.category == category).collect();
    chosen.sort_by(|a, b| a.subcategory.as_bytes().cmp(b.subcategory.as_bytes()));
    let mut lines: Vec<Line<'_>> = Vec::new();
    // Where each change text's line is, so merging stays linear in the number of entries.
    let mut line_of: HashMap<&str, usize> = HashMap::new();
    for entry in chosen {
        let index = *line_of.entry(&entry.change).or_insert_with(|| {
            lines.push(Line {
                subcategory: &entry.subcategory,
                change: &entry.change,
                prs: Vec::new(),
            });
            lines.len() - 1
        });
        if let Some(pr) = entry.pr_number {
            lines[index].prs.push(pr);
        }
    }
    for line in &mut lines {
        line.prs.sort_unstable();
    }
    lines
}

fn render_line(line: &Line<'_>, repository: &str) -> String {
    let mut text = format!("- {}: {}", line.subcategory, line.change);
    if !line.prs.is_empty() {
        let links: Vec<String> = line
            .prs
            .iter()
            .map(|n| format!("[#{n}](https://github.com/{repository}/pull/{n})"))
            .collect();
        text.push_str(&format!(" ({})", links.join(", ")));
    }
    text
}

/// The changelog text: one `## <Category>` section per category with entries, separated by a
/// blank line, then the invalid commit titles; trimmed, without a final newline.
pub fn render(entries: &[ChangelogEntry], invalid_titles: &[String], repository: &str) -> String {
    let mut sections: Vec<String> = Vec::new();
    for category in Category::ALL {
        let lines = category_lines(category, entries);
        if lines.is_empty() {
            continue;
        }
        let mut section = format!("## {category}");
        for line in &lines {
            section.push('\n');
            section.push_str(&render_line(line, repository));
        }
        sections.push(section);
    }
    let mut text = sections.join("\n\n");
    if !invalid_titles.is_empty() {
        text.push_str("\n\n");
        text.push_str(INVALID_HEADING);
        for title in invalid_titles {
            text.push('\n');
            text.push_str(title);
        }
    }
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(category: Category, sub: &str, change: &str, pr: Option<u64>) -> ChangelogEntry {
        ChangelogEntry {
            category,
            subcategory: sub.into(),
            change: change.into(),
            pr_number: pr,
        }
    }

    const REPO: &str = "18F/identity-idp";

    #[test]
    fn sections_in_category_order_sorted_by_subcategory_in_byte_order() {
        let entries = [
            e(Category::UpcomingFeatures, "Later", "Soon", Some(4)),
            e(
                Category::Internal,
                "remote",
                "Lower case sorts last",
                Some(3),
            ),
            e(Category::Internal, "Zeta", "Z", Some(2)),
            e(Category::BugFixes, "Login", "Fix", None),
            e(Category::Internal, "Alpha", "A", Some(1)),
        ];
        assert_eq!(
            render(&entries, &[], REPO),
            "## Bug Fixes\n\
             - Login: Fix\n\
             \n\
             ## Internal\n\
             - Alpha: A ([#1](https://github.com/18F/identity-idp/pull/1))\n\
             - Zeta: Z ([#2](https://github.com/18F/identity-idp/pull/2))\n\
             - remote: Lower case sorts last ([#3](https://github.com/18F/identity-idp/pull/3))\n\
             \n\
             ## Upcoming Features\n\
             - Later: Soon ([#4](https://github.com/18F/identity-idp/pull/4))"
        );
    }

    #[test]
    fn same_change_in_a_category_is_merged_with_sorted_links() {
        let entries = [
            e(Category::Internal, "Deps", "Update", Some(9655)),
            e(Category::Internal, "Console", "Prompt", Some(9592)),
            e(Category::Internal, "Console", "Prompt", Some(9585)),
            e(Category::Internal, "Dependencies", "Update", Some(9647)),
            e(Category::BugFixes, "Deps", "Update", Some(1)),
        ];
        assert_eq!(
            render(&entries, &[], "acme/app"),
            "## Bug Fixes\n\
             - Deps: Update ([#1](https://github.com/acme/app/pull/1))\n\
             \n\
             ## Internal\n\
             - Console: Prompt ([#9585](https://github.com/acme/app/pull/9585), \
             [#9592](https://github.com/acme/app/pull/9592))\n\
             - Dependencies: Update ([#9647](https://github.com/acme/app/pull/9647), \
             [#9655](https://github.com/acme/app/pull/9655))"
        );
    }

    #[test]
    fn merged_line_without_any_pr_has_no_parenthesis() {
        let entries = [
            e(Category::Internal, "Code", "Refactor", None),
            e(Category::Internal, "Code", "Refactor", None),
        ];
        assert_eq!(render(&entries, &[], REPO), "## Internal\n- Code: Refactor");
    }

    #[test]
    fn invalid_titles_follow_after_a_blank_line() {
        let invalid = ["Merge pull request #1".to_string(), "Oops (#2)".to_string()];
        assert_eq!(
            render(&[e(Category::Internal, "Code", "X", None)], &invalid, REPO),
            "## Internal\n- Code: X\n\n!!! Invalid Changelog Entries !!!\n\
             Merge pull request #1\nOops (#2)"
        );
        // With no section, the text is trimmed to start at the heading.
        assert_eq!(
            render(&[], &invalid, REPO),
            "!!! Invalid Changelog Entries !!!\nMerge pull request #1\nOops (#2)"
        );
        assert_eq!(render(&[], &[], REPO), "");
    }
}
