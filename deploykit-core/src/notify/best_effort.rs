//! `BestEffortNotifier`: announcing never aborts a deploy step that already happened.
//!
//! A failed announcement becomes a `Warning` event and an [`AnnouncementRecord`] the engine
//! journals; the caller goes on.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{ErrorKind, Result};
use crate::events::{Event, EventSink};
use crate::notify::timed_out_post_warning;
use crate::ports::{Announcement, Clock, Notifier};

/// What happened to one announcement, for the deploy journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnouncementRecord {
    /// When it was attempted.
    pub at: DateTime<Utc>,
    /// The announcement type (`pending_release_pr`, ...).
    pub kind: String,
    /// Whether it was confirmed posted (one that timed out may have gone through all the
    /// same: chat cannot be asked).
    pub delivered: bool,
    /// Why not, if it was not (never contains a secret: notifier errors do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error kind, if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
}

/// Wraps a notifier so that failures are reported, not raised.
#[derive(Debug, Clone)]
pub struct BestEffortNotifier {
    inner: Arc<dyn Notifier>,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
}

impl BestEffortNotifier {
    /// Wraps `inner`; failures go to `events` as warnings.
    pub fn new(
        inner: Arc<dyn Notifier>,
        events: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        BestEffortNotifier {
            inner,
            events,
            clock,
        }
    }

    /// Posts `announcement`; on failure emits a `Warning` event. Never fails.
    pub async fn announce_recorded(&self, announcement: &Announcement) -> AnnouncementRecord {
        let result = self.inner.announce(announcement).await;
        let at = self.clock.now();
        match result {
            Ok(()) => AnnouncementRecord {
                at,
                kind: announcement.kind().to_string(),
                delivered: true,
                error: None,
                error_kind: None,
            },
            Err(e) => {
                let message = if e.kind() == ErrorKind::Timeout {
                    format!(
                        "{}:\n{announcement}",
                        timed_out_post_warning(announcement.kind(), &e)
                    )
                } else {
                    format!(
                        "could not post the {} announcement ({}): {e}; post it by hand:\n{}",
                        announcement.kind(),
                        e.kind(),
                        announcement
                    )
                };
                self.events.emit(Event::Warning { at, message });
                AnnouncementRecord {
                    at,
                    kind: announcement.kind().to_string(),
                    delivered: false,
                    error: Some(e.to_string()),
                    error_kind: Some(e.kind()),
                }
            }
        }
    }
}

#[async_trait]
impl Notifier for BestEffortNotifier {
    /// Always `Ok`: failures become warnings (see [`BestEffortNotifier::announce_recorded`]).
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        self.announce_recorded(announcement).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RecordingSink;
    use crate::model::{AppName, EnvName};
    use crate::ports::{MockNotifier, SystemClock};

    fn done() -> Announcement {
        Announcement::DeployDone {
            app: AppName::new("idp").expect("app"),
            env: EnvName::new("prod").expect("env"),
            rc: None,
            reverted: None,
            release_url: None,
        }
    }

    #[tokio::test]
    async fn failure_becomes_a_warning_and_a_record() {
        let mut inner = MockNotifier::new();
        inner
            .expect_announce()
            .returning(|_| Err(crate::Error::not_found("channel_not_found: #nowhere")));
        let sink = Arc::new(RecordingSink::default());
        let n = BestEffortNotifier::new(Arc::new(inner), sink.clone(), Arc::new(SystemClock));
        let record = n.announce_recorded(&done()).await;
        assert!(!record.delivered);
        assert_eq!(record.kind, "deploy_done");
        assert_eq!(record.error_kind, Some(ErrorKind::NotFound));
        assert!(n.announce(&done()).await.is_ok());
        let events = sink.events();
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[0], Event::Warning { message, .. }
            if message.contains("channel_not_found") && message.contains("post it by hand")));
    }

    #[tokio::test]
    async fn a_post_that_timed_out_is_not_called_lost_the_channel_is_to_be_checked() {
        let mut inner = MockNotifier::new();
        inner
            .expect_announce()
            .returning(|_| Err(crate::Error::timeout("Slack did not answer within 30 s")));
        let sink = Arc::new(RecordingSink::default());
        let n = BestEffortNotifier::new(Arc::new(inner), sink.clone(), Arc::new(SystemClock));
        let record = n.announce_recorded(&done()).await;
        assert!(!record.delivered);
        assert_eq!(record.error_kind, Some(ErrorKind::Timeout));
        let events = sink.events();
        assert!(matches!(&events[0], Event::Warning { message, .. }
            if message.contains("may have been posted all the same")
                && message.contains("check the channel")));
    }

    #[tokio::test]
    async fn success_is_recorded_without_events() {
        let mut inner = MockNotifier::new();
        inner.expect_announce().returning(|_| Ok(()));
        let sink = Arc::new(RecordingSink::default());
        let n = BestEffortNotifier::new(Arc::new(inner), sink.clone(), Arc::new(SystemClock));
        assert!(n.announce_recorded(&done()).await.delivered);
        assert!(sink.events().is_empty());
    }
}
