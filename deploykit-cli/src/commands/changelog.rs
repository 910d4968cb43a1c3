//! `deploykit changelog`: changelog_check.rb's output for a range of commits.

use deploykit_core::changelog::{build_changelog, sorted};
use deploykit_core::ports::{Commit, Vcs};
use deploykit_core::sim::World;
use deploykit_core::{AppSettings, Error, ErrorKind, Result};
use deploykit_github::GitVcs;

use crate::args::ChangelogArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::{Format, print_line, print_result};

/// The JSON document of a range with no valid entry: the success document's fields (no text,
/// no entries; the commits without an entry, and those whose entry was dropped) and the error
/// (`invalid_input`, with the trailer format explained).
fn nothing_valid(commits: &[Commit], error: &Error) -> serde_json::Value {
    let mut doc = serde_json::to_value(sorted(commits)).unwrap_or_default();
    doc["error"] = serde_json::json!({
        "kind": error.kind().as_str(),
        "message": error.message(),
        "temporary": error.is_temporary(),
    });
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
/// JSON: a document on stdout saying so).
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
                    print_result(inv.format, &nothing_valid(&commits, &e), String::new);
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
    fn nothing_valid_is_a_document_saying_so() {
        let commits = [
            commit("Tweak a thing (#12)", ""),
            commit("Odd trailer (#13)", "changelog: Zzzzzzzzzzzz, Login, x"),
        ];
        let error = build_changelog(&commits, "18F/identity-idp").expect_err("nothing valid");
        let doc = nothing_valid(&commits, &error);
        assert_eq!(doc["entries"], serde_json::json!([]));
        assert_eq!(doc["text"], "");
        assert_eq!(
            doc["invalid_titles"],
            serde_json::json!(["Tweak a thing (#12)"])
        );
        assert_eq!(
            doc["dropped_titles"],
            serde_json::json!(["Odd trailer (#13)"])
        );
        assert_eq!(doc["error"]["kind"], "invalid_input");
        assert!(
            doc["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("changelog: Category, Subcategory, Change")),
            "{doc}"
        );
        // The fields of a changelog, as the success document has them.
        let ok = serde_json::to_value(
            build_changelog(
                &[commit("Fix (#14)", "changelog: Bug Fixes, Login, Fix it")],
                "18F/identity-idp",
            )
            .expect("valid"),
        )
        .expect("json");
        for key in ok.as_object().expect("object").keys() {
            assert!(doc.get(key).is_some(), "{key} missing from {doc}");
        }
    }
}
