//! `deploykit changelog`: changelog_check.rb's output for a range of commits.

use deploykit_core::changelog::build_changelog;
use deploykit_core::ports::Vcs;
use deploykit_core::{ErrorKind, Result};
use deploykit_github::GitVcs;

use crate::args::ChangelogArgs;
use crate::commands::Invocation;
use crate::exit;
use crate::output::{Format, print_result};

/// Prints the changelog; exit 1 with the explanation on stderr when nothing is valid.
pub async fn run(inv: &Invocation<'_>, args: &ChangelogArgs) -> Result<u8> {
    let vcs = GitVcs::open(&args.dir)?;
    let commits = vcs.commits_between(&args.base, &args.source).await?;
    match build_changelog(&commits, &args.repo) {
        Ok(changelog) => {
            match inv.format {
                Format::Json => print_result(inv.format, &changelog, String::new),
                Format::Human => println!("{}", changelog.text),
            }
            Ok(exit::OK)
        }
        Err(e) if e.kind() == ErrorKind::InvalidInput => {
            eprintln!("{}", e.message());
            Ok(exit::FAILED)
        }
        Err(e) => Err(e),
    }
}
