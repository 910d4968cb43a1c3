//! Virtual time: sleeping advances it at once, nothing ever waits for real.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ports::Clock;
use crate::sim::lock;

/// A clock whose time moves only when something sleeps or a test calls
/// [`VirtualClock::advance`]. A 15-minute spindown takes microseconds.
///
/// ```
/// use std::time::Duration;
/// use deploykit_core::ports::Clock;
/// use deploykit_core::sim::VirtualClock;
/// let start = "2026-11-24T15:00:00Z".parse().unwrap();
/// let clock = VirtualClock::new(start);
/// clock.advance(Duration::from_secs(90));
/// assert_eq!((clock.now() - start).num_seconds(), 90);
/// ```
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<DateTime<Utc>>,
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl VirtualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        VirtualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.now);
        *now = now.checked_add_signed(to_chrono(by)).unwrap_or(*now);
    }

    /// Moves time forward to `at` (no change when `at` is in the past).
    pub fn advance_to(&self, at: DateTime<Utc>) {
        let mut now = lock(&self.now);
        if at > *now {
            *now = at;
        }
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }

    async fn sleep(&self, duration: Duration) {
        self.advance(duration);
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleeping_moves_virtual_time_only() {
        let start: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().expect("time");
        let clock = VirtualClock::new(start);
        clock.sleep(Duration::from_secs(15 * 60)).await;
        assert_eq!(clock.now() - start, chrono::Duration::minutes(15));
        clock.advance_to(start);
        assert_eq!(clock.now() - start, chrono::Duration::minutes(15));
    }
}
