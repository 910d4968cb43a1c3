//! `deploykit changelog`: changelog_check.rb's output for a range of commits.

use deploykit_core::changelog::{build_changelog, sorted};
use deploykit_core::ports::{Commit, Vcs};
use deploykit_core::sim::World;
use deploykit_core::{AppSettings, Error, ErrorKind, Result};
use deploykit_github::GitVcs;

use crate::args::ChangelogArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::{Format, error_document, print_json_line, print_line, print_result};

/// The error kind of a range with no valid entry, as JSON. Not `invalid_input`, which exits 2
/// everywhere else: the README documents exit 1 when nothing is valid, and the kind agrees.
pub const NO_VALID_ENTRIES: &str = "no_valid_entries";

/// The JSON document of a range with no valid entry: an error document
/// ([`error_document`], kind [`NO_VALID_ENTRIES`], exit 1) with the titles of the commits
/// without an entry and of those whose entry was dropped.
fn nothing_valid(commits: &[Commit], error: &Error) -> serde_json::Value {
    let listed = sorted(commits);
    let mut doc = error_document(NO_VALID_ENTRIES, error, exit::FAILED);
    doc["error"]["invalid_titles"] = serde_json::json!(listed.invalid_titles);
    doc["error"]["dropped_titles"] = serde_json::json!(listed.dropped_titles);
    doc
}

/// The simulated world's repository of the app whose GitHub repository is `repo` (`--repo`;
/// the IdP's by default), for `--sandbox`.
fn sandbox_vcs(repo: &str) -> Result<std::sync::Arc<dyn Vcs>> {
    let app = [AppSettings::idp(), AppSettings::pki()]
        .into_iter()
        .find(|a| a.repository.eq_ignore_ascii_case(repo))
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "the sandbox has the repositories of idp and pki ({} and {}), not {repo}: \
                 pass --repo with one of them",
                AppSettings::idp().repository,
                AppSettings::pki().repository
            ))
        })?;
    World::login_gov().vcs(&app.name)
}

/// Prints the changelog; exit 1 when nothing is valid, with the explanation on stderr (as
/// JSON: the error document of [`nothing_valid`] on stdout).
pub async fn run(inv: &Invocation<'_>, args: &ChangelogArgs) -> Result<u8> {
    let commits = if inv.cli.sandbox {
        sandbox_vcs(&args.repo)?
            .commits_between(&args.base, &args.source)
            .await?
    } else {
        GitVcs::open(&args.dir)?
            .commits_between(&args.base, &args.source)
            .await?
    };
    match build_changelog(&commits, &args.repo) {
        Ok(changelog) => {
            match inv.format {
                Format::Json => print_result(inv.format, &changelog, String::new),
                Format::Human => {
                    // The text stays changelog_check.rb's; what it leaves out is said beside it.
                    if let Some(dropped) = changelog.dropped_warning() {
                        eprintln!("warning: {dropped}");
                    }
                    print_line(&changelog.text)
                }
            };
            Ok(exit::OK)
        }
        Err(e) if e.kind() == ErrorKind::InvalidInput => {
            match inv.format {
                Format::Json => {
                    print_json_line(&nothing_valid(&commits, &e));
                }
                Format::Human => eprintln!("{}", e.message()),
            }
            Ok(exit::FAILED)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use deploykit_core::Sha;

    use super::*;

    fn commit(title: &str, body: &str) -> Commit {
        Commit {
            sha: Sha::new("0123456789abcdef0123456789abcdef01234567").expect("sha"),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn nothing_valid_is_one_error_document_whose_kind_agrees_with_exit_1() {
        let commits = [
            commit("Tweak a thing (#12)", ""),
            commit("Odd trailer (#13)", "changelog: Zzzzzzzzzzzz, Login, x"),
        ];
        let error = build_changelog(&commits, "18F/identity-idp").expect_err("nothing valid");
        let doc = nothing_valid(&commits, &error);
        // One JSON value, the error: no changelog fields beside it.
        assert_eq!(
            doc.as_object()
                .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>()),
            Some(vec!["error"]),
            "{doc}"
        );
        let error_doc = &doc["error"];
        assert_eq!(
            error_doc["invalid_titles"],
            serde_json::json!(["Tweak a thing (#12)"])
        );
        assert_eq!(
            error_doc["dropped_titles"],
            serde_json::json!(["Odd trailer (#13)"])
        );
        // Exit 1, so not invalid_input (exit 2 everywhere else).
        assert_eq!(error_doc["kind"], NO_VALID_ENTRIES);
        assert_eq!(error_doc["exit_code"], exit::FAILED);
        assert!(
            error_doc["message"]
                .as_str()
                .is_some_and(|m| m.contains("changelog: Category, Subcategory, Change")),
            "{doc}"
        );
        assert_eq!(error_doc["context"]["commits"], "2", "{doc}");
    }
}
