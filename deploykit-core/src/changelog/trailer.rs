//! Finding a commit's changelog entry: the `changelog:` trailer and the automatic entries.

/// A trailer as written, before its category is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// The category as written (may differ from a known one by a few edits).
    pub category: String,
    /// The subcategory.
    pub subcategory: String,
    /// The change text as written.
    pub change: String,
}

/// The line dependabot adds to its commits.
pub const DEPENDABOT_SIGN_OFF: &str = "Signed-off-by: dependabot[bot] <support@github.com>";

/// The marker that excludes a commit from the changelog.
pub const SKIP_MARKER: &str = "[skip changelog]";

/// Strips one optional leading space, then requires at least `min` characters.
fn optional_space_then(segment: &str, min: usize) -> Option<&str> {
    if let Some(rest) = segment.strip_prefix(' ')
        && rest.chars().count() >= min
    {
        return Some(rest);
    }
    (segment.chars().count() >= min).then_some(segment)
}

fn is_category_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ' ' || c == '-'
}

/// Parses one line as a trailer, with the grammar of changelog_check.rb:
/// `^(?:\* )?changelog: ?(category: [\w -]{2,}), ?(subcategory: [^,]{2,}), ?(change: .+)$`,
/// `changelog` in any case.
///
/// ```
/// use deploykit_core::changelog::parse_trailer;
/// let t = parse_trailer("* changelog: Internal, Testing, add a test").unwrap();
/// assert_eq!((t.category.as_str(), t.subcategory.as_str()), ("Internal", "Testing"));
/// assert_eq!(t.change, "add a test");
/// ```
pub fn parse_trailer(line: &str) -> Option<Trailer> {
    let line = line.strip_prefix("* ").unwrap_or(line);
    let keyword = line.get(..10)?;
    if !keyword.eq_ignore_ascii_case("changelog:") {
        return None;
    }
    let rest = &line[10..];
    // The category cannot hold a comma, so it ends at the first one.
    let (category, rest) = rest.split_once(',')?;
    if !category.chars().all(is_category_char) {
        return None;
    }
    let category = optional_space_then(category, 2)?;
    let (subcategory, change) = rest.split_once(',')?;
    let subcategory = optional_space_then(subcategory, 2)?;
    let change = optional_space_then(change, 1)?;
    Some(Trailer {
        category: category.to_string(),
        subcategory: subcategory.to_string(),
        change: change.to_string(),
    })
}

/// The SHA in a `This reverts commit <sha>.` line, if `line` holds one.
pub fn reverted_sha(line: &str) -> Option<&str> {
    const PREFIX: &str = "This reverts commit ";
    let start = line.find(PREFIX)? + PREFIX.len();
    let rest = &line[start..];
    let end = rest.find(|c: char| !c.is_ascii_hexdigit())?;
    (end >= 4 && rest[end..].starts_with('.')).then_some(&rest[..end])
}

/// The PR number of a squashed commit: the first `(#1234)` in its title.
pub fn pr_number(title: &str) -> Option<u64> {
    let mut rest = title;
    while let Some(start) = rest.find("(#") {
        let after = &rest[start + 2..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        if digits > 0
            && after[digits..].starts_with(')')
            && let Ok(n) = after[..digits].parse()
        {
            return Some(n);
        }
        rest = after;
    }
    None
}

/// The change text with its first letter capitalised.
pub fn capitalise(change: &str) -> String {
    let mut chars = change.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Option<(String, String, String)> {
        parse_trailer(line).map(|t| (t.category, t.subcategory, t.change))
    }

    fn p(c: &str, s: &str, ch: &str) -> Option<(String, String, String)> {
        Some((c.into(), s.into(), ch.into()))
    }

    #[test]
    fn trailer_grammar() {
        assert_eq!(
            parts("changelog: Internal, Testing, Add a test"),
            p("Internal", "Testing", "Add a test")
        );
        // Optional bullet, any case, no space after the colon or the commas.
        assert_eq!(
            parts("* ChangeLog:Bug Fixes,Login,fix it, really"),
            p("Bug Fixes", "Login", "fix it, really")
        );
        // A second space after the colon belongs to the category.
        assert_eq!(
            parts("changelog:  User-Facing Improvements, Doc Auth, x"),
            p(" User-Facing Improvements", "Doc Auth", "x")
        );
        // Only one optional space before the change; the rest is kept.
        assert_eq!(
            parts("changelog: Internal, Testing,  two spaces"),
            p("Internal", "Testing", " two spaces")
        );
        // Category characters: word characters, spaces and hyphens only.
        assert_eq!(parts("changelog: Bug/Fixes, Login, fix"), None);
        assert_eq!(parts("changelog: Bug.Fixes, Login, fix"), None);
        // Minimum lengths; the optional space counts when the part is too short without it,
        // as the regular expression backtracks.
        assert_eq!(parts("changelog:I, Login, fix"), None);
        assert_eq!(parts("changelog: I, Login, fix"), p(" I", "Login", "fix"));
        assert_eq!(parts("changelog: Internal,L, fix"), None);
        assert_eq!(
            parts("changelog: Internal, L, fix"),
            p("Internal", " L", "fix")
        );
        assert_eq!(parts("changelog: Internal, Login,"), None);
        assert_eq!(
            parts("changelog: Internal, Login, "),
            p("Internal", "Login", " ")
        );
        // Missing parts, not at the start of the line, other bullets.
        assert_eq!(parts("changelog: Internal, Login"), None);
        assert_eq!(parts("changelog Internal, Login, fix"), None);
        assert_eq!(parts("  changelog: Internal, Login, fix"), None);
        assert_eq!(parts("- changelog: Internal, Login, fix"), None);
        assert_eq!(parts("*changelog: Internal, Login, fix"), None);
        assert_eq!(parts("see changelog: Internal, Login, fix"), None);
        assert_eq!(parts("chängelog: Internal, Login, fix"), None);
        assert_eq!(parts(""), None);
    }

    #[test]
    fn revert_lines() {
        assert_eq!(
            reverted_sha("This reverts commit 4055b1bd9db5c562ba343716dfdbae3d7d33a2a5."),
            Some("4055b1bd9db5c562ba343716dfdbae3d7d33a2a5")
        );
        assert_eq!(reverted_sha("This reverts commit abc."), None);
        assert_eq!(reverted_sha("This reverts commit 4055b1bd"), None);
        assert_eq!(reverted_sha("Reverts 4055b1bd."), None);
    }

    #[test]
    fn pr_numbers_come_from_the_title() {
        assert_eq!(pr_number("Fix login (#9578)"), Some(9578));
        assert_eq!(
            pr_number("Revert \"Upgrade rails (#9577)\" (#9606)"),
            Some(9577)
        );
        assert_eq!(pr_number("Fix #9578"), None);
        assert_eq!(pr_number("Fix (#) (#12a) (#42)"), Some(42));
        assert_eq!(pr_number("No number"), None);
    }

    #[test]
    fn first_letter_is_capitalised() {
        assert_eq!(capitalise("undo future steps"), "Undo future steps");
        assert_eq!(capitalise("break up PIV/CAC"), "Break up PIV/CAC");
        assert_eq!(capitalise("élan"), "Élan");
        assert_eq!(capitalise(""), "");
    }
}
