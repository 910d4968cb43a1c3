//! Reading the migration instance's provisioning log: what counts as success and failure.
//!
//! The provisioner ignores migration errors by default, so its final marker alone does not
//! prove the migrations ran: success needs the final marker *and* no migration error line.

/// The line provision.sh prints last when it finished, and the one it prints when it stops
/// on a failure.
pub use crate::fleet_ops::migration_logs::{
    PROVISION_DONE_MARKER as FINAL_MARKER, PROVISION_FAILED_MARKER as FAILURE_MARKER,
};
/// Fragments that mark a failed migration (rake, Rails, PostgreSQL errors).
pub const MIGRATION_ERROR_PATTERNS: [&str; 5] = [
    "rake aborted!",
    "An error has occurred, all later migrations canceled",
    "PG::",
    "ActiveRecord::",
    "StandardError: An error has occurred",
];

/// What the log says so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MigrationLogStatus {
    /// Still running (no final or failure marker yet).
    Running,
    /// The final marker was printed and no migration error was seen.
    Succeeded,
    /// A migration error was seen (and the provisioner carried on or stopped).
    MigrationError {
        /// The first error line.
        line: String,
    },
    /// The provisioner stopped on a failure.
    ProvisioningFailed {
        /// The failure line, or the first error line before it.
        line: String,
    },
}

/// Follows a log chunk by chunk and keeps what matters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MigrationLogReader {
    /// Lines read so far.
    pub lines_read: u64,
    /// The first migration error line seen.
    pub first_error: Option<String>,
    /// Whether the final marker was seen.
    pub finished: bool,
    /// The failure marker line, if seen.
    pub failure: Option<String>,
}

impl MigrationLogReader {
    /// Reads more lines.
    pub fn feed<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        for line in lines {
            self.lines_read += 1;
            if self.first_error.is_none()
                && MIGRATION_ERROR_PATTERNS.iter().any(|p| line.contains(p))
            {
                self.first_error = Some(line.trim().to_string());
            }
            if line.contains(FAILURE_MARKER) {
                self.failure = Some(line.trim().to_string());
            }
            if line.contains(FINAL_MARKER) {
                self.finished = true;
            }
        }
    }

    /// Whether the provisioner has printed its last line (the final marker, or the failure
    /// marker): no later line can change the status, so a reader may stop following.
    pub fn ended(&self) -> bool {
        self.finished || self.failure.is_some()
    }

    /// The status so far. A migration error is reported as soon as it is seen: it cannot be
    /// undone by later lines.
    pub fn status(&self) -> MigrationLogStatus {
        if let Some(line) = &self.failure {
            return MigrationLogStatus::ProvisioningFailed {
                line: self.first_error.clone().unwrap_or_else(|| line.clone()),
            };
        }
        if let Some(line) = &self.first_error {
            return MigrationLogStatus::MigrationError { line: line.clone() };
        }
        if self.finished {
            MigrationLogStatus::Succeeded
        } else {
            MigrationLogStatus::Running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> MigrationLogStatus {
        let mut r = MigrationLogReader::default();
        r.feed(lines.iter().copied());
        r.status()
    }

    #[test]
    fn success_needs_the_final_marker() {
        assert_eq!(
            read(&["== 2024 AddColumn: migrating", "== migrated"]),
            MigrationLogStatus::Running
        );
        assert_eq!(
            read(&["== migrated", FINAL_MARKER]),
            MigrationLogStatus::Succeeded
        );
    }

    #[test]
    fn the_final_marker_does_not_hide_a_migration_error() {
        let s = read(&[
            "rake aborted!",
            "StandardError: An error has occurred, all later migrations canceled:",
            "PG::UndefinedColumn: ERROR:  column \"x\" does not exist",
            FINAL_MARKER,
        ]);
        assert_eq!(
            s,
            MigrationLogStatus::MigrationError {
                line: "rake aborted!".into()
            }
        );
    }

    #[test]
    fn the_failure_marker_fails() {
        let s = read(&["chef run failed", FAILURE_MARKER]);
        assert_eq!(
            s,
            MigrationLogStatus::ProvisioningFailed {
                line: FAILURE_MARKER.into()
            }
        );
    }
}
