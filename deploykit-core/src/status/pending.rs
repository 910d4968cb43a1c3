//! What would ship: the commits on the main branch that an environment does not run, their
//! changelog (the generator `rc create` uses), and whether migrations or assets changed since
//! the last migration (the no-migration risk check's input).

use crate::changelog::build_changelog;
use crate::error::Result;
use crate::model::{AppSettings, Sha};
use crate::policy::{NoMigrationRisk, assess_no_migration_risk};
use crate::ports::Vcs;

/// Where the SHA the last migration ran at was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationSource {
    /// A running instance of `<env>-migration` reports it.
    MigrationInstance,
    /// No migration instance runs: the deployed SHA (a deploy with migrations ran them there).
    Deployed,
}

/// The pending changes of one app in one environment against the main branch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The deployed SHA the comparison starts from.
    pub base: Sha,
    /// The main branch as compared (`origin/main`).
    pub main_ref: String,
    /// Its tip.
    pub main: Sha,
    /// Commits on main that are not deployed.
    pub commits: usize,
    /// The changelog of those commits (empty when there are none or none has an entry).
    pub changelog: String,
    /// Why there is no changelog although commits are pending (the generator's explanation
    /// of the trailer format); `rc create` would refuse to cut this.
    pub changelog_problem: Option<String>,
    /// Titles of pending commits without a changelog entry.
    pub commits_without_entry: Vec<String>,
    /// Where the last migration's SHA was read.
    pub last_migration_from: MigrationSource,
    /// Migrations and assets changed between the last migration and main.
    pub risk: NoMigrationRisk,
}

impl Pending {
    /// `7 commits, migrations, assets` / `up to date`.
    pub fn summary(&self) -> String {
        if self.commits == 0 && !self.risk.is_risky() {
            return "up to date".into();
        }
        let mut parts = vec![format!(
            "{} commit{}",
            self.commits,
            if self.commits == 1 { "" } else { "s" }
        )];
        if !self.risk.migrations.is_empty() {
            parts.push("migrations".into());
        }
        if !self.risk.assets.is_empty() {
            parts.push("assets".into());
        }
        parts.join(", ")
    }
}

/// The pending changes from `base` to the main branch, with migrations and assets counted
/// from `last_migration`. The remote must have been fetched.
pub async fn pending(
    vcs: &dyn Vcs,
    settings: &AppSettings,
    base: &Sha,
    last_migration: (&Sha, MigrationSource),
) -> Result<Pending> {
    let main_ref = format!("{}/{}", settings.remote, settings.main_branch);
    let main = vcs.resolve(&main_ref).await?;
    let commits = vcs.commits_between(base.as_str(), main.as_str()).await?;
    let (changelog, changelog_problem, commits_without_entry) = if commits.is_empty() {
        (String::new(), None, Vec::new())
    } else {
        match build_changelog(&commits, &settings.repository) {
            Ok(c) => (c.text, None, c.invalid_titles),
            Err(e) => (String::new(), Some(e.to_string()), Vec::new()),
        }
    };
    let risk = assess_no_migration_risk(vcs, last_migration.0, &main).await?;
    Ok(Pending {
        base: base.clone(),
        main_ref,
        main,
        commits: commits.len(),
        changelog,
        changelog_problem,
        commits_without_entry,
        last_migration_from: last_migration.1,
        risk,
    })
}
