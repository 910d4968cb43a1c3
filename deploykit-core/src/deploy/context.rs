//! What a step works with: the ports, the settings, the journal (effects recorded before
//! they happen, replayed on resume) and the event sink.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::deploy::journal::{Journal, Record, RunId};
use crate::deploy::ports::DeployPorts;
use crate::deploy::settings::EnvSettings;
use crate::error::{Error, Result};
use crate::events::{Event, EventSink};
use crate::fleet_ops::FleetContext;

/// The context of one run.
#[derive(Debug)]
pub struct StepContext<'a> {
    /// The ports.
    pub ports: &'a DeployPorts,
    /// The environment's settings.
    pub settings: &'a EnvSettings,
    /// Where progress goes.
    pub events: &'a dyn EventSink,
    journal: &'a dyn Journal,
    run: RunId,
    records: Mutex<Vec<Record>>,
    journal_failed: AtomicBool,
}

fn encode<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::backend(format!("could not encode a journal value: {e}")))
}

impl<'a> StepContext<'a> {
    /// A context over `records` already in the journal (empty for a new run).
    pub fn new(
        ports: &'a DeployPorts,
        settings: &'a EnvSettings,
        events: &'a dyn EventSink,
        journal: &'a dyn Journal,
        run: RunId,
        records: Vec<Record>,
    ) -> Self {
        StepContext {
            ports,
            settings,
            events,
            journal,
            run,
            records: Mutex::new(records),
            journal_failed: AtomicBool::new(false),
        }
    }

    /// The run id.
    pub fn run_id(&self) -> &RunId {
        &self.run
    }

    /// Now, by the ports' clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Whether a journal append failed (the run must stop at once: it cannot record).
    pub fn journal_failed(&self) -> bool {
        self.journal_failed.load(Ordering::SeqCst)
    }

    /// Appends a record, durably, before anything else happens.
    pub fn record(&self, record: Record) -> Result<()> {
        if let Err(e) = self.journal.append(&self.run, &record) {
            self.journal_failed.store(true, Ordering::SeqCst);
            return Err(e);
        }
        if let Ok(mut r) = self.records.lock() {
            r.push(record);
        }
        Ok(())
    }

    /// Records a note (verdict, override, announcement, warning).
    pub fn note(&self, kind: &str, text: impl Into<String>) -> Result<()> {
        self.record(Record::Note {
            at: self.now(),
            kind: kind.into(),
            text: text.into(),
        })
    }

    /// The records so far.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn done_value(&self, key: &str) -> Option<serde_json::Value> {
        let records = self.records.lock().ok()?;
        records.iter().rev().find_map(|r| match r {
            Record::EffectDone { key: k, result, .. } if k == key => Some(result.clone()),
            _ => None,
        })
    }

    /// Whether the effect `key` was recorded as started.
    pub fn was_started(&self, key: &str) -> bool {
        self.records.lock().is_ok_and(|records| {
            records
                .iter()
                .any(|r| matches!(r, Record::EffectStarted { key: k, .. } if k == key))
        })
    }

    /// The recorded result of `key`, if that effect or observation is done.
    pub fn memo<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.done_value(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                Error::invalid_input(format!(
                    "the journal's record {key:?} cannot be read by this version ({e}); \
                     finish the run with the version that started it"
                ))
            }),
        }
    }

    /// Records the result of an observation that must not be repeated on resume.
    pub fn remember<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.record(Record::EffectDone {
            at: self.now(),
            key: key.into(),
            result: encode(value)?,
        })
    }

    /// A side effect, at most once per run as far as the world can tell:
    /// - done before (recorded): its recorded result;
    /// - started but not recorded done (killed in between): `reconcile` asks the world
    ///   whether it happened (Some: it did), and only if not is it performed;
    /// - otherwise recorded as started, then performed, then recorded as done.
    ///
    /// Temporary errors are retried with backoff on the clock, reconciling before each retry
    /// (a timed-out call may have succeeded).
    pub async fn effect<T, R, P>(
        &self,
        key: &str,
        description: &str,
        mut reconcile: R,
        mut perform: P,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        R: AsyncFnMut() -> Result<Option<T>>,
        P: AsyncFnMut() -> Result<T>,
    {
        if let Some(v) = self.memo::<T>(key)? {
            return Ok(v);
        }
        if self.was_started(key) {
            if let Some(v) = self.retry(description, async || reconcile().await).await? {
                self.info(format!(
                    "{description}: already done before the interruption; not repeated"
                ));
                self.remember(key, &v)?;
                return Ok(v);
            }
        } else {
            self.record(Record::EffectStarted {
                at: self.now(),
                key: key.into(),
                description: description.into(),
            })?;
        }
        let mut attempt = 0u32;
        let value = loop {
            attempt += 1;
            match perform().await {
                Ok(v) => break v,
                Err(e) if e.is_temporary() && attempt < self.settings.retry_attempts.max(1) => {
                    self.backoff(description, attempt, &e).await;
                    // The question "did it happen?" is itself a call that may be throttled:
                    // it is retried too, never answered by performing again.
                    if let Some(v) = self.retry(description, async || reconcile().await).await? {
                        break v;
                    }
                }
                Err(e) => return Err(e),
            }
        };
        // Said once done, never before: a failing effect is not claimed.
        self.did(description);
        self.remember(key, &value)?;
        Ok(value)
    }

    /// A world change that is observed again before it is repeated (the caller's loop reads
    /// the world first), recorded before and after for the journal's truth; never replayed.
    pub async fn act<T, F>(&self, key: &str, description: &str, f: F) -> Result<T>
    where
        T: Serialize,
        F: AsyncFnMut() -> Result<T>,
    {
        self.record(Record::EffectStarted {
            at: self.now(),
            key: key.into(),
            description: description.into(),
        })?;
        let value = self.retry(description, f).await?;
        self.did(description);
        self.record(Record::EffectDone {
            at: self.now(),
            key: key.into(),
            result: encode(&value)?,
        })?;
        Ok(value)
    }

    /// Says a change was made (an [`Event::Action`]); only after it succeeded.
    fn did(&self, description: &str) {
        self.events.emit(Event::Action {
            at: self.now(),
            description: description.into(),
            dry_run: false,
        });
    }

    /// When the effect `key` was first recorded as started, if it was.
    pub fn started_at(&self, key: &str) -> Option<DateTime<Utc>> {
        let records = self.records.lock().ok()?;
        records.iter().find_map(|r| match r {
            Record::EffectStarted { key: k, at, .. } if k == key => Some(*at),
            _ => None,
        })
    }

    async fn backoff(&self, what: &str, attempt: u32, e: &Error) {
        let secs = self
            .settings
            .retry_backoff_secs
            .max(1)
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(10));
        self.warn(format!(
            "{what}: {e}; retrying in {secs} s (attempt {} of {})",
            attempt + 1,
            self.settings.retry_attempts
        ));
        self.ports.clock.sleep(Duration::from_secs(secs)).await;
    }

    /// Calls `f`, retrying temporary errors with backoff a bounded number of times.
    pub async fn retry<T, F>(&self, what: &str, mut f: F) -> Result<T>
    where
        F: AsyncFnMut() -> Result<T>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_temporary() && attempt < self.settings.retry_attempts.max(1) => {
                    self.backoff(what, attempt, &e).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits `secs` on the clock.
    pub async fn sleep(&self, secs: u64) {
        self.ports.clock.sleep(Duration::from_secs(secs)).await;
    }

    /// The fleet operations' context.
    pub fn fleet_ctx(&self) -> FleetContext<'_> {
        FleetContext {
            fleet: self.ports.fleet.as_ref(),
            clock: self.ports.clock.as_ref(),
            events: self.events,
        }
    }

    /// Emits an info event.
    pub fn info(&self, message: impl Into<String>) {
        self.events.emit(Event::Info {
            at: self.now(),
            message: message.into(),
        });
    }

    /// Emits a warning event.
    pub fn warn(&self, message: impl Into<String>) {
        self.events.emit(Event::Warning {
            at: self.now(),
            message: message.into(),
        });
    }

    /// Emits a waiting event.
    pub fn waiting(&self, what: impl Into<String>, since: DateTime<Utc>, timeout_secs: u64) {
        let elapsed = (self.now() - since).num_seconds().max(0);
        self.events.emit(Event::Waiting {
            at: self.now(),
            what: what.into(),
            elapsed_secs: u64::try_from(elapsed).unwrap_or(0),
            timeout_secs,
        });
    }
}
