//! The four changelog categories and how a written category is mapped to one of them.

use std::fmt;

/// A changelog section, in output order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Category {
    /// `User-Facing Improvements`.
    #[serde(rename = "User-Facing Improvements")]
    UserFacingImprovements,
    /// `Bug Fixes`.
    #[serde(rename = "Bug Fixes")]
    BugFixes,
    /// `Internal`.
    #[serde(rename = "Internal")]
    Internal,
    /// `Upcoming Features`.
    #[serde(rename = "Upcoming Features")]
    UpcomingFeatures,
}

/// The farthest (Levenshtein distance) a written category may be from a known one.
pub const MAX_CATEGORY_DISTANCE: usize = 3;

impl Category {
    /// Every category, in the order sections are printed.
    pub const ALL: [Category; 4] = [
        Category::UserFacingImprovements,
        Category::BugFixes,
        Category::Internal,
        Category::UpcomingFeatures,
    ];

    /// The heading text, e.g. `Bug Fixes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::UserFacingImprovements => "User-Facing Improvements",
            Category::BugFixes => "Bug Fixes",
            Category::Internal => "Internal",
            Category::UpcomingFeatures => "Upcoming Features",
        }
    }

    /// The known category closest to `written` (case-sensitive), when it is at most
    /// [`MAX_CATEGORY_DISTANCE`] edits away; the earlier category wins a tie.
    ///
    /// ```
    /// use deploykit_core::changelog::Category;
    /// assert_eq!(Category::closest("Bug Fix"), Some(Category::BugFixes));
    /// assert_eq!(Category::closest("Docs"), None);
    /// ```
    pub fn closest(written: &str) -> Option<Category> {
        let mut best: Option<(usize, Category)> = None;
        let written_len = written.chars().count();
        for category in Category::ALL {
            // The distance is at least the difference in length: a long written category
            // (a whole sentence before the first comma) costs no edit-distance table.
            if written_len.abs_diff(category.as_str().chars().count()) > MAX_CATEGORY_DISTANCE {
                continue;
            }
            let distance = levenshtein(written, category.as_str());
            if distance <= MAX_CATEGORY_DISTANCE && best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, category));
            }
        }
        best.map(|(_, category)| category)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The number of single-character insertions, deletions and substitutions that turn `a`
/// into `b` (characters, not bytes).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the edit-distance table: row[j] = distance(a[..i], b[..j]).
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("Internal", "Internal"), 0);
        assert_eq!(levenshtein("internal", "Internal"), 1);
        assert_eq!(levenshtein("é", "e"), 1);
    }

    #[test]
    fn close_categories_map_and_far_ones_are_dropped() {
        assert_eq!(
            Category::closest("User-facing Improvements"),
            Some(Category::UserFacingImprovements)
        );
        assert_eq!(
            Category::closest(" User-Facing Improvements"),
            Some(Category::UserFacingImprovements)
        );
        assert_eq!(Category::closest("Bug Fix"), Some(Category::BugFixes));
        assert_eq!(Category::closest("internal"), Some(Category::Internal));
        // Three edits is the limit, four is too far; the comparison is case-sensitive.
        assert_eq!(Category::closest("Intern"), Some(Category::Internal));
        assert_eq!(Category::closest("Inter"), Some(Category::Internal));
        assert_eq!(Category::closest("Inte"), None);
        assert_eq!(Category::closest("INTERNAL"), None);
        assert_eq!(Category::closest("Documentation"), None);
    }
}
