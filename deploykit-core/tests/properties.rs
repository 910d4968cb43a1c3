//! Property tests (proptest): release-number arithmetic, titles and RC branch names, the
//! changelog trailer grammar, and the changelog formatter over generated commit histories.

use deploykit_core::changelog::{
    Category, INVALID_HEADING, Trailer, build_changelog, parse_trailer,
};
use deploykit_core::ports::Commit;
use deploykit_core::{AppSettings, RcBranch, ReleaseNumber, Sha};
use proptest::prelude::*;

/// The largest part a release number may have: nine digits.
const MAX_PART: u32 = 999_999_999;

fn release_number() -> impl Strategy<Value = ReleaseNumber> {
    (0..=MAX_PART, proptest::option::of(0..=MAX_PART))
        .prop_map(|(major, minor)| ReleaseNumber { major, minor })
}

/// Small numbers, where the interesting neighbours (0, 1, 9, 10) are.
fn small_release_number() -> impl Strategy<Value = ReleaseNumber> {
    (0..20u32, proptest::option::of(0..20u32))
        .prop_map(|(major, minor)| ReleaseNumber { major, minor })
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Full,
    Patch,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn release_numbers_print_and_parse_back(n in release_number()) {
        let printed = n.to_string();
        prop_assert_eq!(printed.parse::<ReleaseNumber>().ok(), Some(n));
        let json = serde_json::to_string(&n).expect("serializes");
        prop_assert_eq!(json, format!("\"{printed}\""));
    }

    #[test]
    fn only_digits_with_an_optional_dot_part_parse(text in "[0-9.a -]{0,12}") {
        let grammar = regex_lite::Regex::new(r"^[0-9]{1,9}(\.[0-9]{1,9})?$").expect("regex");
        let parsed = text.parse::<ReleaseNumber>();
        prop_assert_eq!(parsed.is_ok(), grammar.is_match(&text), "{:?}", parsed);
        if let Ok(n) = parsed {
            let (major, minor) = text.split_once('.').map_or((text.as_str(), None), |(a, b)| (a, Some(b)));
            prop_assert_eq!(Some(n.major), major.parse().ok());
            prop_assert_eq!(n.minor, minor.map(|m| m.parse().expect("digits")));
        }
    }

    #[test]
    fn next_full_and_next_patch_follow_the_guide(n in release_number()) {
        let full = n.next_full();
        prop_assert_eq!(full, ReleaseNumber::full(n.major + 1));
        let patch = n.next_patch();
        prop_assert_eq!(patch.major, n.major);
        prop_assert_eq!(patch.minor, Some(n.minor.unwrap_or(0) + 1));
        // Each is later than the number it came from, and a patch comes before the next full
        // release.
        prop_assert!(n < patch && patch < full);
        prop_assert_eq!(patch.next_full(), full);
        prop_assert_eq!(patch.next_patch().major, n.major);
    }

    #[test]
    fn ordering_is_by_major_then_patch_with_the_full_release_first(
        a in small_release_number(),
        b in small_release_number(),
    ) {
        // 112 < 112.0 < 112.1 < 113.
        let key = |n: ReleaseNumber| (n.major, n.minor.map_or(0, |m| u64::from(m) + 1));
        prop_assert_eq!(a.cmp(&b), key(a).cmp(&key(b)));
        prop_assert_eq!(a == b, a.to_string() == b.to_string());
    }

    #[test]
    fn any_release_history_only_goes_up(steps in proptest::collection::vec(
        prop_oneof![Just(Step::Full), Just(Step::Patch)], 1..40)
    ) {
        let mut current = ReleaseNumber::ZERO;
        let mut seen = vec![current];
        for step in steps {
            let next = match step {
                Step::Full => current.next_full(),
                Step::Patch => current.next_patch(),
            };
            prop_assert!(next > current, "{current} -> {next}");
            current = next;
            seen.push(current);
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted, seen, "every number is new and in order");
    }

    #[test]
    fn release_and_pr_titles_give_back_their_number(
        n in release_number(),
        pad in "[ \t]{0,2}",
        target in "[A-Za-z]{1,12}",
    ) {
        prop_assert_eq!(ReleaseNumber::from_release_title(&format!("{pad}RC {n}{pad}")).ok(), Some(n));
        prop_assert_eq!(
            ReleaseNumber::from_pr_title(&format!("Deploy RC {n} to {target}")).ok(),
            Some(n)
        );
        for app in [AppSettings::idp(), AppSettings::pki()] {
            prop_assert_eq!(ReleaseNumber::from_pr_title(&app.pr_title(n)).ok(), Some(n));
        }
    }

    #[test]
    fn rc_branches_print_and_parse_back_exactly(
        days in 0i64..(366 * 200),
        ordinal in 1u32..200,
    ) {
        let date = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("date")
            + chrono::Duration::days(days);
        let branch = RcBranch { date, ordinal };
        let printed = branch.to_string();
        prop_assert_eq!(printed.parse::<RcBranch>().ok(), Some(branch));
        let next = branch.next_same_day();
        prop_assert!(next > branch && next.date == branch.date);
        prop_assert_eq!(next.to_string(), format!("stages/rc-{}.{}", date.format("%Y-%m-%d"), ordinal + 1));
    }

    #[test]
    fn an_accepted_rc_branch_name_is_exactly_how_it_prints(
        text in r"stages/rc-[0-9+ -]{8,11}(\.[0-9]{1,3})?"
    ) {
        if let Ok(branch) = text.parse::<RcBranch>() {
            prop_assert_eq!(branch.to_string(), text);
        }
    }

    #[test]
    fn written_trailers_parse_back(
        category in category_text(),
        subcategory in "[A-Za-z0-9][^,\r\n]{1,12}",
        change in "[^ \r\n][^\r\n]{0,20}",
        bullet in any::<bool>(),
        keyword in prop::sample::select(vec!["changelog:", "Changelog:", "CHANGELOG:"]),
        spaced in any::<bool>(),
    ) {
        let sep = if spaced { " " } else { "" };
        let line = format!(
            "{}{keyword}{sep}{category},{sep}{subcategory},{sep}{change}",
            if bullet { "* " } else { "" }
        );
        prop_assert_eq!(
            parse_trailer(&line),
            Some(Trailer { category, subcategory, change })
        );
    }
}

/// A category as people write it: exact, or with a small slip.
fn category_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(Category::ALL.to_vec()).prop_map(|c| c.as_str().to_string()),
        Just("internal".to_string()),
        Just("Bug Fix".to_string()),
        Just("Improvements".to_string()),
        "[A-Za-z][A-Za-z_ -]{1,15}",
    ]
}

// ----- the changelog formatter over generated histories -----

/// What one generated commit is.
#[derive(Debug, Clone)]
enum Kind {
    /// A valid trailer.
    Valid {
        category: Category,
        subcategory: String,
        change: String,
    },
    /// `[skip changelog]`.
    Skipped,
    /// No trailer.
    Invalid,
    /// A trailer whose category is too far from every known one.
    Dropped,
}

#[derive(Debug, Clone)]
struct Generated {
    kind: Kind,
    pr: Option<u64>,
}

fn kind() -> impl Strategy<Value = Kind> {
    // Few subcategories and changes, so that lines merge and ties in the sort happen.
    let subcategory = prop_oneof![
        prop::sample::select(vec![
            "Login",
            "Doc Auth",
            "Console",
            "Source code",
            "a-b",
            "Zz"
        ])
        .prop_map(str::to_string),
        "[A-Z][a-z]{1,5}",
    ];
    let change = prop::sample::select(vec![
        "fix the login button",
        "Fix the login button",
        "add a test",
        "show env",
        "Show env",
        "élan vital",
        "update dependencies, all of them",
    ])
    .prop_map(str::to_string);
    let valid = (
        prop::sample::select(Category::ALL.to_vec()),
        subcategory,
        change,
    )
        .prop_map(|(category, subcategory, change)| Kind::Valid {
            category,
            subcategory,
            change,
        });
    prop_oneof![
        6 => valid,
        1 => Just(Kind::Skipped),
        2 => Just(Kind::Invalid),
        1 => Just(Kind::Dropped),
    ]
}

fn history() -> impl Strategy<Value = Vec<Generated>> {
    proptest::collection::vec(
        (kind(), proptest::option::of(1u64..50)).prop_map(|(kind, pr)| Generated { kind, pr }),
        0..30,
    )
}

fn title(index: usize, generated: &Generated) -> String {
    match generated.pr {
        Some(pr) => format!("Work item {index} (#{pr})"),
        None => format!("Work item {index}"),
    }
}

fn commits(history: &[Generated]) -> Vec<Commit> {
    history
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let body = match &g.kind {
                Kind::Valid {
                    category,
                    subcategory,
                    change,
                } => format!("Some context.\n\nchangelog: {category}, {subcategory}, {change}\n"),
                Kind::Skipped => "Tidy up.\n[skip changelog]\n".to_string(),
                Kind::Invalid => "No trailer here.".to_string(),
                Kind::Dropped => "changelog: Documentation, Readme, fix a typo".to_string(),
            };
            Commit {
                sha: Sha::new(format!("{:040x}", i + 1)).expect("sha"),
                title: title(i, g),
                body,
            }
        })
        .collect()
}

fn capitalised(change: &str) -> String {
    let mut chars = change.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One printed changelog line: `- Sub: Change ([#1](…), [#2](…))`.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    subcategory: String,
    change: String,
    prs: Vec<u64>,
}

#[derive(Debug, Default, PartialEq)]
struct Printed {
    sections: Vec<(String, Vec<Line>)>,
    invalid: Vec<String>,
}

/// Reads the text back; fails the test on anything out of format.
fn read_back(text: &str, repository: &str) -> Printed {
    let mut printed = Printed::default();
    let mut in_invalid = false;
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if line == INVALID_HEADING {
            in_invalid = true;
        } else if in_invalid {
            printed.invalid.push(line.to_string());
        } else if let Some(heading) = line.strip_prefix("## ") {
            printed.sections.push((heading.to_string(), Vec::new()));
        } else {
            let item = line.strip_prefix("- ").expect("an item line");
            let (subcategory, rest) = item.split_once(": ").expect("`sub: change`");
            let (change, prs) = match rest.split_once(" ([#") {
                Some((change, links)) => {
                    let links = links.strip_suffix(')').expect("closing parenthesis");
                    let prs = format!("[#{links}")
                        .split(", ")
                        .map(|link| {
                            let (label, url) = link.split_once("](").expect("link");
                            let n: u64 = label.strip_prefix("[#").expect("#").parse().expect("n");
                            assert_eq!(
                                url,
                                format!("https://github.com/{repository}/pull/{n})"),
                                "link {link}"
                            );
                            n
                        })
                        .collect();
                    (change, prs)
                }
                None => (rest, Vec::new()),
            };
            let section = printed
                .sections
                .last_mut()
                .expect("an item under a heading");
            section.1.push(Line {
                subcategory: subcategory.to_string(),
                change: change.to_string(),
                prs,
            });
        }
    }
    printed
}

const REPOSITORY: &str = "18F/identity-idp";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_valid_commit_is_printed_once_under_its_category(history in history()) {
        let commits = commits(&history);
        let any_valid = history.iter().any(|g| matches!(g.kind, Kind::Valid { .. }));
        let any_skipped = history.iter().any(|g| matches!(g.kind, Kind::Skipped));
        let changelog = match build_changelog(&commits, REPOSITORY) {
            Ok(changelog) => changelog,
            Err(err) => {
                prop_assert!(!any_valid && !any_skipped, "{}", err);
                return Ok(());
            }
        };
        prop_assert!(any_valid || any_skipped);
        let printed = read_back(&changelog.text, REPOSITORY);

        // Sections: exactly the categories with a valid commit, in the fixed order.
        let expected_headings: Vec<String> = Category::ALL
            .iter()
            .filter(|c| history.iter().any(|g| matches!(&g.kind, Kind::Valid { category, .. } if category == *c)))
            .map(|c| c.to_string())
            .collect();
        let headings: Vec<String> = printed.sections.iter().map(|(h, _)| h.clone()).collect();
        prop_assert_eq!(headings, expected_headings);

        for (heading, lines) in &printed.sections {
            let category = Category::ALL.into_iter().find(|c| c.as_str() == heading).expect("known");
            let valid: Vec<(&str, String, Option<u64>)> = history
                .iter()
                .filter_map(|g| match &g.kind {
                    Kind::Valid { category: c, subcategory, change } if *c == category => {
                        Some((subcategory.as_str(), capitalised(change), g.pr))
                    }
                    _ => None,
                })
                .collect();
            // One line per distinct change, every valid commit's change among them.
            let mut changes: Vec<&str> = valid.iter().map(|(_, c, _)| c.as_str()).collect();
            changes.sort_unstable();
            changes.dedup();
            let mut printed_changes: Vec<&str> = lines.iter().map(|l| l.change.as_str()).collect();
            printed_changes.sort_unstable();
            prop_assert_eq!(printed_changes, changes, "{}", changelog.text);
            for line in lines {
                let merged: Vec<_> = valid.iter().filter(|(_, c, _)| *c == line.change).collect();
                // Every PR of the merged commits, each once per commit, in order.
                let mut prs: Vec<u64> = merged.iter().filter_map(|(_, _, pr)| *pr).collect();
                prs.sort_unstable();
                prop_assert_eq!(&line.prs, &prs);
                // The line shows the subcategory that sorts first among the merged commits.
                let first = merged.iter().map(|(s, _, _)| *s).min_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
                prop_assert_eq!(Some(line.subcategory.as_str()), first);
            }
            // Lines are in subcategory (byte) order.
            prop_assert!(lines.windows(2).all(|w| w[0].subcategory.as_bytes() <= w[1].subcategory.as_bytes()));
        }

        // Invalid commits are listed in commit order; skipped and dropped ones nowhere.
        let invalid: Vec<String> = history
            .iter()
            .enumerate()
            .filter(|(_, g)| matches!(g.kind, Kind::Invalid))
            .map(|(i, g)| title(i, g))
            .collect();
        prop_assert_eq!(&printed.invalid, &invalid);
        for (i, g) in history.iter().enumerate() {
            if matches!(g.kind, Kind::Skipped | Kind::Dropped) {
                let listed = format!("{}\n", title(i, g));
                let text = format!("{}\n", changelog.text);
                prop_assert!(!text.contains(&listed), "{} is listed", title(i, g));
            }
        }
        prop_assert_eq!(changelog.entries.len(), history.iter().filter(|g| matches!(g.kind, Kind::Valid { .. })).count());
    }

    #[test]
    fn the_text_depends_only_on_each_categorys_own_order(history in history()) {
        // Moving commits of different categories past each other (keeping each category's
        // commits, and the invalid ones, in their order) changes nothing: the output is
        // deterministic and its sort stable.
        let commits = commits(&history);
        let Ok(original) = build_changelog(&commits, REPOSITORY) else {
            return Ok(());
        };
        let rank = |g: &Generated| match &g.kind {
            Kind::Valid { category, .. } => Category::ALL.iter().position(|c| c == category).unwrap_or(0),
            _ => Category::ALL.len(),
        };
        let mut order: Vec<usize> = (0..commits.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(rank(&history[*i])));
        let regrouped: Vec<Commit> = order.iter().map(|i| commits[*i].clone()).collect();
        let again = build_changelog(&regrouped, REPOSITORY).expect("same commits");
        prop_assert_eq!(&again.text, &original.text);
        prop_assert_eq!(build_changelog(&commits, REPOSITORY).expect("again").text, original.text);
    }
}
