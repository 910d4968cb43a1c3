//! Reading the migration instance's provisioning log: what counts as success and failure.
//!
//! The provisioner ignores migration errors by default, so its final marker alone does not
//! prove the migrations ran: success needs the final marker *and* no migration error line.

/// The line provision.sh prints last when it finished, and the one it prints when it stops
/// on a failure.
pub use crate::fleet_ops::migration_logs::{
    PROVISION_DONE_MARKER as FINAL_MARKER, PROVISION_FAILED_MARKER as FAILURE_MARKER,
};
/// Fragments that mark a failed migration (rake's and Rails' own words).
pub const MIGRATION_ERROR_PATTERNS: [&str; 3] = [
    "rake aborted!",
    "An error has occurred, all later migrations canceled",
    "StandardError: An error has occurred",
];

/// The namespaces of the exceptions a failed migration raises (`PG::UndefinedColumn: ERROR:
/// ...`, `ActiveRecord::StatementInvalid: ...`), matched only as an exception is printed:
/// `<Namespace>::<Class>: <message>`. The same names appear in lines that are not errors
/// (`ActiveRecord::SchemaMigration Load (0.4ms) SELECT ...` in a debug log, `DEPRECATION
/// WARNING: ActiveRecord::Base.foo is deprecated`), and those must not fail the gate.
pub const EXCEPTION_NAMESPACES: [&str; 2] = ["PG::", "ActiveRecord::"];

/// Whether `line` says a migration failed: one of [`MIGRATION_ERROR_PATTERNS`], or a
/// `PG::`/`ActiveRecord::` exception as Ruby prints it (class name, then a colon), outside a
/// deprecation warning.
pub fn is_migration_error(line: &str) -> bool {
    if MIGRATION_ERROR_PATTERNS.iter().any(|p| line.contains(p)) {
        return true;
    }
    if line.trim_start().starts_with("DEPRECATION WARNING") {
        return false;
    }
    exception_at(line).is_some()
}

/// Where the first `PG::`/`ActiveRecord::` exception (`Namespace::Class:`) starts in `line`.
fn exception_at(line: &str) -> Option<usize> {
    EXCEPTION_NAMESPACES
        .iter()
        .filter_map(|ns| {
            line.match_indices(ns).find_map(|(i, _)| {
                let rest = &line[i + ns.len()..];
                let class_len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let class = &rest[..class_len];
                (class.starts_with(|c: char| c.is_ascii_uppercase())
                    && rest[class_len..].starts_with(':')
                    && !rest[class_len..].starts_with("::"))
                .then_some(i)
            })
        })
        .min()
}

/// The migration a `== <version> <Name>: migrating` line starts, as `<version> <Name>`.
fn migration_started(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("== ")?
        .split_once(": migrating")
        .map(|(name, _)| name.trim())
}

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
    /// The migration running when the error was seen (`20261120 AddFooToUsers`), if the log
    /// said which.
    #[serde(default)]
    pub failed_migration: Option<String>,
    /// The exception that says why (`PG::UndefinedColumn: ERROR: ...`), when the first error
    /// line does not (rake's `rake aborted!`).
    #[serde(default)]
    pub cause: Option<String>,
    /// The migration started last.
    #[serde(default)]
    running: Option<String>,
}

impl MigrationLogReader {
    /// Reads more lines.
    pub fn feed<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        for line in lines {
            self.lines_read += 1;
            if let Some(name) = migration_started(line) {
                self.running = Some(name.to_string());
            }
            if self.first_error.is_none() && is_migration_error(line) {
                self.first_error = Some(line.trim().to_string());
                self.failed_migration = self.running.clone();
            }
            if self.first_error.is_some()
                && self.cause.is_none()
                && let Some(at) = exception_at(line)
            {
                self.cause = Some(line[at..].trim().to_string());
            }
            if line.contains(FAILURE_MARKER) {
                self.failure = Some(line.trim().to_string());
            }
            if line.contains(FINAL_MARKER) {
                self.finished = true;
            }
        }
    }

    /// The first error line, with the exception that says why when it is another line, and
    /// the migration that was running: `rake aborted! (PG::UndefinedColumn: ERROR: ...; in
    /// 20261120 AddFooToUsers)`.
    fn error_text(&self) -> Option<String> {
        let first = self.first_error.as_ref()?;
        let mut more = Vec::new();
        if let Some(cause) = self.cause.as_ref().filter(|c| !first.contains(c.as_str())) {
            more.push(cause.clone());
        }
        if let Some(migration) = &self.failed_migration {
            more.push(format!("in {migration}"));
        }
        Some(if more.is_empty() {
            first.clone()
        } else {
            format!("{first} ({})", more.join("; "))
        })
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
                line: self.error_text().unwrap_or_else(|| line.clone()),
            };
        }
        if let Some(line) = self.error_text() {
            return MigrationLogStatus::MigrationError { line };
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
        // The first error line, with the exception that says why.
        assert_eq!(
            s,
            MigrationLogStatus::MigrationError {
                line: "rake aborted! (PG::UndefinedColumn: ERROR:  column \"x\" does not exist)"
                    .into()
            }
        );
    }

    #[test]
    fn the_error_names_the_migration_that_failed_and_why() {
        let s = read(&[
            "== 20261120093000 AddFooToUsers: migrating ===============",
            "-- add_column(:users, :foo, :string)",
            "rake aborted!",
            "ActiveRecord::StatementInvalid: PG::DuplicateColumn: ERROR:  column \"foo\" of \
             relation \"users\" already exists",
        ]);
        assert_eq!(
            s,
            MigrationLogStatus::MigrationError {
                line: "rake aborted! (ActiveRecord::StatementInvalid: PG::DuplicateColumn: \
                       ERROR:  column \"foo\" of relation \"users\" already exists; in \
                       20261120093000 AddFooToUsers)"
                    .into()
            }
        );
    }

    /// Rails prints the same class names in lines that are not errors: a debug log's SQL
    /// lines and deprecation warnings must not fail the gate (and roll a deploy back).
    #[test]
    fn rails_lines_that_only_name_activerecord_or_pg_are_not_errors() {
        let s = read(&[
            "== 20261120093000 AddFooToUsers: migrating ===============",
            "  ActiveRecord::SchemaMigration Load (0.4ms)  SELECT \"schema_migrations\".\"version\"",
            "  ActiveRecord::InternalMetadata Load (0.3ms)  SELECT * FROM ar_internal_metadata",
            "DEPRECATION WARNING: ActiveRecord::Base.allow_unsafe_raw_sql is deprecated: \
             PG::Connection will do",
            "warning: PG::Coder is deprecated",
            "-- add_column(:users, :foo, :string)",
            "== 20261120093000 AddFooToUsers: migrated (0.0021s) ======",
            FINAL_MARKER,
        ]);
        assert_eq!(s, MigrationLogStatus::Succeeded);
        for error in [
            "PG::ConnectionBad: could not connect to server: Connection refused",
            "ActiveRecord::NoDatabaseError: FATAL:  database \"idp\" does not exist",
            "/srv/idp/releases/x/vendor/bundle: ActiveRecord::PendingMigrationError: Migrations \
             are pending",
        ] {
            assert!(is_migration_error(error), "{error}");
        }
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
