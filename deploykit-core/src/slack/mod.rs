//! The Slack notifier (feature `http`): every [`crate::ports::Announcement`] as a Block Kit
//! message with a plain-text fallback, through incoming webhooks (one per channel) or the
//! Web API `chat.postMessage` with a bot token.
//!
//! Routing: every announcement goes to the main channel (`#login-appdev`); pending release
//! PRs are cross-posted (`#login-delivery`); recycle announcements also go to the devops
//! channel (`#login-devops`). HTTP 429 is retried after `Retry-After` (on the [`Clock`],
//! at most [`DEFAULT_MAX_RETRIES`] times). Wrap the notifier in
//! [`crate::notify::BestEffortNotifier`] so failures never abort a deploy step.
//!
//! [`Clock`]: crate::ports::Clock

mod message;
mod notifier;
mod response;

pub use message::{escape, slack_message};
pub use notifier::{
    DEFAULT_MAX_RETRIES, MAX_RETRY_AFTER, SlackNotifier, SlackTransport, SlackWebhooks,
};

#[cfg(test)]
mod tests;
