//! The notifier used when none is configured.

use deploykit_core::Result;
use deploykit_core::ports::{Announcement, Notifier};

/// The notifier when none is configured: announcements are printed (standard error) for the
/// operator to post by hand.
#[derive(Debug, Clone, Copy)]
pub struct PrintedNotifier;

#[async_trait::async_trait]
impl Notifier for PrintedNotifier {
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        eprintln!("announce (no notifier configured, post it yourself): {announcement}");
        Ok(())
    }
}
