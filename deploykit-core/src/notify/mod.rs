//! Announcing safely: redaction of configuration diffs before they are announced, and a
//! notifier wrapper whose failures never abort a deploy step. The Slack notifier itself is
//! in `crate::slack` (feature `http`).

mod best_effort;
mod redact;

pub use best_effort::{AnnouncementRecord, BestEffortNotifier};
pub use redact::{REDACTED, RedactionRules, redact_config_diff};
