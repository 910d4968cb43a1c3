//! A notifier that keeps what it is sent.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::Result;
use crate::ports::{Announcement, Notifier};
use crate::sim::{Faults, lock};

/// Keeps every announcement, in order, for tests and the demo to inspect.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    faults: Arc<Faults>,
    sent: Mutex<Vec<Announcement>>,
}

impl RecordingNotifier {
    /// A notifier failing as `faults` says (op `notifier.announce`).
    pub fn new(faults: Arc<Faults>) -> Self {
        RecordingNotifier {
            faults,
            sent: Mutex::new(Vec::new()),
        }
    }

    /// Every announcement accepted so far, oldest first.
    pub fn sent(&self) -> Vec<Announcement> {
        lock(&self.sent).clone()
    }

    /// The `kind()` of every announcement accepted so far, oldest first.
    pub fn sent_kinds(&self) -> Vec<&'static str> {
        lock(&self.sent).iter().map(Announcement::kind).collect()
    }

    /// Forgets what was sent.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        self.faults.act("notifier.announce", || {
            lock(&self.sent).push(announcement.clone());
            Ok(())
        })
    }
}
