//! Events every workflow emits while it works, so front ends can show progress
//! (the CLI as text or JSON lines, Python through a callback).

use std::fmt::Debug;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// One thing that happened, or is happening, in a workflow.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A step began.
    StepStarted {
        /// When.
        at: DateTime<Utc>,
        /// The step's name in the guide's words (e.g. `recycle`, `migration_gate`).
        step: String,
    },
    /// A step ended.
    StepFinished {
        /// When.
        at: DateTime<Utc>,
        /// The step's name.
        step: String,
        /// `ok`, `failed`, `skipped`, ...
        outcome: String,
        /// A one-line explanation.
        detail: String,
    },
    /// A wait is in progress (emitted on every poll).
    Waiting {
        /// When.
        at: DateTime<Utc>,
        /// What is awaited.
        what: String,
        /// Seconds waited so far.
        elapsed_secs: u64,
        /// Seconds until the wait gives up.
        timeout_secs: u64,
    },
    /// A side effect was carried out (or, in a dry run, would be).
    Action {
        /// When.
        at: DateTime<Utc>,
        /// What, e.g. `push 0123abc to stages/rc-2024-01-09`.
        description: String,
        /// True in a dry run: nothing was changed.
        dry_run: bool,
    },
    /// Something worth knowing.
    Info {
        /// When.
        at: DateTime<Utc>,
        /// The message.
        message: String,
    },
    /// Something that may need attention.
    Warning {
        /// When.
        at: DateTime<Utc>,
        /// The message.
        message: String,
    },
    /// A gate decided.
    GateVerdict {
        /// When.
        at: DateTime<Utc>,
        /// The gate (`migration`, `health`, `monitor`, `follow_up`).
        gate: String,
        /// `go`, `rollback`, `inconclusive`, `failed`.
        verdict: String,
        /// The numbers and the rule that decided.
        explanation: String,
    },
}

/// Receives events. Implementations must be cheap and must not fail the workflow.
pub trait EventSink: Send + Sync + Debug {
    /// Takes one event.
    fn emit(&self, event: Event);
}

/// Drops every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: Event) {}
}

/// Keeps every event, for tests and reports.
#[derive(Debug, Default)]
pub struct RecordingSink {
    events: Mutex<Vec<Event>>,
}

impl RecordingSink {
    /// A copy of the events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for RecordingSink {
    fn emit(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}
