//! Announcing safely: redaction of configuration diffs before they are announced, a
//! notifier wrapper whose failures never abort a deploy step, and what to say of a post that
//! timed out. The Slack notifier itself is in `crate::slack` (feature `http`).

mod best_effort;
mod redact;
mod redact_credentials;
mod timed_out;

pub use best_effort::{AnnouncementRecord, BestEffortNotifier};
pub use redact::{REDACTED, RedactionRules, redact_config_diff};
pub use timed_out::timed_out_post_warning;
