//! The five kinds of deploy in the guide, and the deploy of a rollback's revert PR.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// What a deploy ships and how (the guide's "Types of Deploys").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployKind {
    /// The normal deploy of everything on `main`, twice a week.
    Full,
    /// Cherry-picked urgent fixes (`RC 112.1`).
    Patch,
    /// Everything on `main`, outside the usual days; needs a reason.
    OffCycle,
    /// Same code, new configuration: recycle the boxes.
    ConfigRecycle,
    /// Recycle without a migration instance.
    NoMigrationRecycle,
    /// The guide's "steps to roll back", after the revert PR: merge the `Revert RC <N>` PR
    /// into the production branch and recycle, any day (it restores the code last released).
    Revert,
}

impl DeployKind {
    /// Every kind, in the guide's order.
    pub const ALL: [DeployKind; 6] = [
        DeployKind::Full,
        DeployKind::Patch,
        DeployKind::OffCycle,
        DeployKind::ConfigRecycle,
        DeployKind::NoMigrationRecycle,
        DeployKind::Revert,
    ];

    /// The kebab-case name used on the command line and in journals.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployKind::Full => "full",
            DeployKind::Patch => "patch",
            DeployKind::OffCycle => "off-cycle",
            DeployKind::ConfigRecycle => "config-recycle",
            DeployKind::NoMigrationRecycle => "no-migration-recycle",
            DeployKind::Revert => "revert",
        }
    }

    /// The kind in the guide's words, for sentences: `full deploy`, `patch deploy`,
    /// `off-cycle deploy`, `config recycle`, `no-migration recycle`, `revert deploy`.
    pub fn words(self) -> &'static str {
        match self {
            DeployKind::Full => "full deploy",
            DeployKind::Patch => "patch deploy",
            DeployKind::OffCycle => "off-cycle deploy",
            DeployKind::ConfigRecycle => "config recycle",
            DeployKind::NoMigrationRecycle => "no-migration recycle",
            DeployKind::Revert => "revert deploy",
        }
    }

    /// The name with its article, for sentences: `a full`, `an off-cycle`.
    pub fn with_article(self) -> String {
        match self {
            DeployKind::OffCycle => format!("an {self}"),
            _ => format!("a {self}"),
        }
    }

    /// The PR a deploy of this kind merges into the production branch, in words: `revert PR`
    /// for a revert deploy (the `Revert RC <N>` PR a rollback opened), `promotion PR` for the
    /// other kinds (the kinds that ship no code merge none).
    pub fn merged_pr(self) -> &'static str {
        match self {
            DeployKind::Revert => "revert PR",
            _ => "promotion PR",
        }
    }

    /// Whether a deploy of this kind needs a reason, recorded and announced (patch,
    /// off-cycle).
    pub fn needs_reason(self) -> bool {
        matches!(self, DeployKind::Patch | DeployKind::OffCycle)
    }

    /// Whether code ships: a PR into the production branch is merged (a promotion PR, or a
    /// rollback's revert PR), and the smoke tests are asked for.
    pub fn ships_code(self) -> bool {
        matches!(
            self,
            DeployKind::Full | DeployKind::Patch | DeployKind::OffCycle | DeployKind::Revert
        )
    }

    /// Whether a new release is created once the deploy is done (a promotion PR's RC). A
    /// revert deploy creates none: the release before the reverted RC is the code it serves.
    pub fn creates_release(self) -> bool {
        self.ships_code() && self != DeployKind::Revert
    }

    /// Whether the recycle runs the migration instance first.
    pub fn runs_migrations(self) -> bool {
        !matches!(self, DeployKind::NoMigrationRecycle)
    }
}

impl FromStr for DeployKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DeployKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown deploy kind {s:?}: expected one of full, patch, off-cycle, \
                     config-recycle, no-migration-recycle, revert"
                ))
            })
    }
}

impl fmt::Display for DeployKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in DeployKind::ALL {
            assert_eq!(k.as_str().parse::<DeployKind>().ok(), Some(k));
            let json = serde_json::to_string(&k).expect("serialize");
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert!(DeployKind::Patch.ships_code());
        assert!(!DeployKind::ConfigRecycle.ships_code());
        assert!(!DeployKind::NoMigrationRecycle.runs_migrations());
        assert!(DeployKind::Revert.ships_code() && !DeployKind::Revert.creates_release());
        assert!(DeployKind::Full.creates_release());
        assert_eq!(DeployKind::Revert.merged_pr(), "revert PR");
        assert_eq!(DeployKind::Patch.merged_pr(), "promotion PR");
    }

    #[test]
    fn unknown_kind_lists_the_valid_ones() {
        let err = "hotfix".parse::<DeployKind>().expect_err("unknown");
        assert!(err.to_string().contains("off-cycle"), "{err}");
    }
}
