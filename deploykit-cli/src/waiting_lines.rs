//! Which waiting events a person reads. A wait emits an event on every poll (every 15 s of a
//! 15-minute monitor gate: 60 lines); printed as text, only the first line of each wait and
//! one a minute after it are kept, and any change in what is awaited (an instance becoming
//! healthy, the next monitor window) is printed at once. JSON output keeps every event.

use std::sync::Mutex;

/// Seconds between two lines of the same wait.
pub const HEARTBEAT_SECS: u64 = 60;

/// The last waiting line printed: what was awaited, and how long it had been waited for.
#[derive(Debug, Default)]
pub struct WaitingLines {
    last: Mutex<Option<(String, u64)>>,
}

impl WaitingLines {
    /// Whether the waiting event for `what` at `elapsed_secs` should be printed, remembering
    /// it when so: the first of a wait (or a changed `what`), then one per started minute.
    pub fn should_print(&self, what: &str, elapsed_secs: u64) -> bool {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let print = match last.as_ref() {
            Some((last_what, last_elapsed)) if last_what == what => {
                elapsed_secs / HEARTBEAT_SECS > last_elapsed / HEARTBEAT_SECS
                    || elapsed_secs < *last_elapsed
            }
            _ => true,
        };
        if print {
            *last = Some((what.to_string(), elapsed_secs));
        }
        print
    }

    /// Forgets the wait: the next waiting event is printed whatever it is (called when any
    /// other event is printed, so a wait that resumes after it is shown again).
    pub fn reset(&self) {
        *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(lines: &WaitingLines, polls: &[(&str, u64)]) -> Vec<u64> {
        polls
            .iter()
            .filter(|(what, elapsed)| lines.should_print(what, *elapsed))
            .map(|(_, elapsed)| *elapsed)
            .collect()
    }

    #[test]
    fn a_wait_polled_every_15_seconds_prints_its_first_line_and_one_a_minute() {
        let lines = WaitingLines::default();
        let polls: Vec<(&str, u64)> = (0..20).map(|i| ("window 1 of 3", i * 15)).collect();
        assert_eq!(printed(&lines, &polls), vec![0, 60, 120, 180, 240]);
    }

    #[test]
    fn a_change_in_what_is_awaited_is_printed_at_once() {
        let lines = WaitingLines::default();
        let polls = [
            ("0 of 4 healthy", 0),
            ("0 of 4 healthy", 15),
            ("1 of 4 healthy", 30),
            ("1 of 4 healthy", 45),
            ("1 of 4 healthy", 60),
            ("window 1 of 3", 0),
        ];
        assert_eq!(printed(&lines, &polls), vec![0, 30, 60, 0]);
    }

    #[test]
    fn after_another_event_the_same_wait_is_shown_again() {
        let lines = WaitingLines::default();
        assert!(lines.should_print("the migration log", 15));
        assert!(!lines.should_print("the migration log", 30));
        lines.reset();
        assert!(lines.should_print("the migration log", 45));
        // A new wait for the same thing starts again from zero.
        assert!(lines.should_print("the migration log", 0));
    }
}
