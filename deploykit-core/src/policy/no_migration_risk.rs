//! The guide's "Risks with No-Migrations Recycle": migration instances run `db:migrate` and
//! compile assets. If migrations or assets changed since the last migration ran, new servers
//! recycled without one fail to start (non-prod) or look for fingerprinted asset files that do
//! not exist. This check lists those files and refuses without an explicit override.

use crate::error::{Error, Result};
use crate::model::sha::Sha;
use crate::ports::Vcs;

/// Path prefixes of database migrations and schema.
pub const MIGRATION_PATHS: [&str; 1] = ["db/"];
/// Path prefixes of assets the migration instance compiles.
pub const ASSET_PATHS: [&str; 2] = ["app/assets/stylesheets/", "app/javascript/"];

/// What changed since the last migration that a no-migration recycle would miss.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoMigrationRisk {
    /// The SHA the last migration ran at.
    pub last_migration: Sha,
    /// The SHA to be recycled onto.
    pub target: Sha,
    /// Changed files under `db/`.
    pub migrations: Vec<String>,
    /// Changed files under `app/assets/stylesheets` or `app/javascript`.
    pub assets: Vec<String>,
}

impl NoMigrationRisk {
    /// Sorts changed paths into migrations and assets (other paths are no risk here).
    pub fn classify(last_migration: Sha, target: Sha, paths: &[String]) -> Self {
        let under = |p: &str, prefixes: &[&str]| prefixes.iter().any(|x| p.starts_with(x));
        NoMigrationRisk {
            last_migration,
            target,
            migrations: paths
                .iter()
                .filter(|p| under(p, &MIGRATION_PATHS))
                .cloned()
                .collect(),
            assets: paths
                .iter()
                .filter(|p| under(p, &ASSET_PATHS))
                .cloned()
                .collect(),
        }
    }

    /// Whether a no-migration recycle is risky.
    pub fn is_risky(&self) -> bool {
        !self.migrations.is_empty() || !self.assets.is_empty()
    }

    /// The verdict: Ok when nothing relevant changed, or when `override_reason` is given
    /// (non-empty; the caller records it); otherwise PolicyRefused listing every path.
    pub fn verdict(&self, override_reason: Option<&str>) -> Result<()> {
        if !self.is_risky() || override_reason.is_some_and(|r| !r.trim().is_empty()) {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !self.migrations.is_empty() {
            parts.push(format!(
                "migrations changed ({}): new servers may fail to start until migrations run",
                self.migrations.join(", ")
            ));
        }
        if !self.assets.is_empty() {
            parts.push(format!(
                "assets changed ({}): new servers would look for compiled asset files that \
                 only a migration instance creates",
                self.assets.join(", ")
            ));
        }
        Err(Error::policy_refused(format!(
            "a no-migration recycle from {} to {} is risky: {}; recycle with migrations, or \
             override with a reason",
            self.last_migration.short(),
            self.target.short(),
            parts.join("; ")
        )))
    }
}

/// Lists what changed between the last migration's SHA and the target through `vcs`.
pub async fn assess_no_migration_risk(
    vcs: &dyn Vcs,
    last_migration: &Sha,
    target: &Sha,
) -> Result<NoMigrationRisk> {
    let paths = vcs
        .files_changed(last_migration.as_str(), target.as_str())
        .await?;
    Ok(NoMigrationRisk::classify(
        last_migration.clone(),
        target.clone(),
        &paths,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::ports::MockVcs;

    fn sha(c: char) -> Sha {
        Sha::new(c.to_string().repeat(40)).expect("sha")
    }

    #[tokio::test]
    async fn changed_migrations_and_assets_are_refused_with_their_paths() {
        let mut vcs = MockVcs::new();
        vcs.expect_files_changed()
            .withf(|base, source| base == "a".repeat(40) && source == "b".repeat(40))
            .returning(|_, _| {
                Ok(vec![
                    "app/controllers/x.rb".into(),
                    "app/javascript/packages/a.ts".into(),
                    "db/primary_migrate/20261124_add.rb".into(),
                    "dbx/not_a_migration.rb".into(),
                ])
            });
        let risk = assess_no_migration_risk(&vcs, &sha('a'), &sha('b'))
            .await
            .expect("risk");
        assert_eq!(risk.migrations, ["db/primary_migrate/20261124_add.rb"]);
        assert_eq!(risk.assets, ["app/javascript/packages/a.ts"]);
        let err = risk.verdict(None).expect_err("risky");
        assert_eq!(err.kind(), ErrorKind::PolicyRefused);
        let msg = err.to_string();
        assert!(msg.contains("db/primary_migrate/20261124_add.rb"), "{msg}");
        assert!(msg.contains("app/javascript/packages/a.ts"), "{msg}");
        assert!(risk.verdict(Some("incident 123, config only")).is_ok());
        assert!(risk.verdict(Some(" ")).is_err());
    }

    #[test]
    fn unrelated_changes_are_no_risk() {
        let risk = NoMigrationRisk::classify(
            sha('a'),
            sha('b'),
            &["app/assets/images/logo.svg".into(), "config/x.yml".into()],
        );
        assert!(!risk.is_risky());
        assert!(risk.verdict(None).is_ok());
        let css = NoMigrationRisk::classify(
            sha('a'),
            sha('b'),
            &["app/assets/stylesheets/a.scss".into()],
        );
        assert!(css.is_risky());
    }
}
