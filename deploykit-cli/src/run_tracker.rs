//! Which run a command is driving and how far it got: a journal that notes what is written
//! to it, so that a command stopped by a signal can name the run and the step to resume.

use std::sync::{Arc, Mutex, MutexGuard};

use deploykit_core::Result;
use deploykit_core::deploy::state::StepName;
use deploykit_core::deploy::{Journal, Record, RunId};

/// How far a journaled run had got, as far as its journal says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    /// The run.
    pub run: RunId,
    /// The step under way: started and not yet finished (none between steps).
    pub step: Option<StepName>,
    /// Whether a rollback step has started in this command: the run is rolling back.
    pub rolling_back: bool,
    /// The environment and app whose deploy lock the run takes (from its first record), when
    /// known.
    pub lock: Option<(String, String)>,
}

/// Shared between the command (through [`RunTracker::journal`]) and whoever stops it.
#[derive(Debug, Clone, Default)]
pub struct RunTracker(Arc<Mutex<Option<RunProgress>>>);

impl RunTracker {
    /// The run last written to, if any, and its step under way.
    pub fn progress(&self) -> Option<RunProgress> {
        self.slot().clone()
    }

    /// `journal`, with every record it keeps noted here.
    pub fn journal<J: Journal>(&self, journal: J) -> TrackedJournal<J> {
        TrackedJournal {
            inner: journal,
            tracker: self.clone(),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<RunProgress>> {
        // A panic elsewhere cannot leave the progress half-written: it is replaced whole.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes the environment and app of `run` from its first record, read back on resume.
    fn noted_loaded(&self, run: &RunId, records: &[Record]) {
        if let Some(lock) = records.first().and_then(lock_of) {
            let mut slot = self.slot();
            if slot.as_ref().is_none_or(|p| p.run != *run) {
                *slot = Some(RunProgress {
                    run: run.clone(),
                    step: None,
                    rolling_back: false,
                    lock: Some(lock),
                });
            }
        }
    }

    fn noted(&self, run: &RunId, record: &Record) {
        let mut slot = self.slot();
        let same_run = slot.as_ref().filter(|p| p.run == *run);
        let step = match (record, same_run) {
            (Record::StepStarted { step, .. }, _) => Some(*step),
            (Record::StepFinished { .. } | Record::RunStarted { .. }, _) => None,
            (_, Some(progress)) => progress.step,
            _ => None,
        };
        let rolling_back =
            same_run.is_some_and(|p| p.rolling_back) || step.is_some_and(StepName::is_rollback);
        let lock = lock_of(record).or_else(|| same_run.and_then(|p| p.lock.clone()));
        *slot = Some(RunProgress {
            run: run.clone(),
            step,
            rolling_back,
            lock,
        });
    }
}

/// The environment and app of a run's first record.
fn lock_of(record: &Record) -> Option<(String, String)> {
    match record {
        Record::RunStarted { state, .. } => Some((
            state.request.env.to_string(),
            state.request.app.name.to_string(),
        )),
        _ => None,
    }
}

/// A journal whose appends are noted by a [`RunTracker`] once they are durable.
#[derive(Debug)]
pub struct TrackedJournal<J> {
    inner: J,
    tracker: RunTracker,
}

impl<J: Journal> Journal for TrackedJournal<J> {
    fn append(&self, run: &RunId, record: &Record) -> Result<()> {
        self.inner.append(run, record)?;
        self.tracker.noted(run, record);
        Ok(())
    }

    fn load(&self, run: &RunId) -> Result<Vec<Record>> {
        let records = self.inner.load(run)?;
        self.tracker.noted_loaded(run, &records);
        Ok(records)
    }

    fn runs(&self) -> Result<Vec<RunId>> {
        self.inner.runs()
    }

    fn put_artifact(&self, run: &RunId, name: &str, contents: &[u8]) -> Result<String> {
        self.inner.put_artifact(run, name, contents)
    }

    fn artifact(&self, run: &RunId, name: &str) -> Result<Option<Vec<u8>>> {
        self.inner.artifact(run, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploykit_core::deploy::MemoryJournal;

    fn at() -> chrono::DateTime<chrono::Utc> {
        "2026-11-24T15:00:00Z".parse().expect("time")
    }

    #[test]
    fn the_step_under_way_is_the_one_started_and_not_finished() {
        let tracker = RunTracker::default();
        let journal = tracker.journal(MemoryJournal::default());
        let run = RunId::parse("20261124T150000Z-idp-prod").expect("run id");
        assert_eq!(tracker.progress(), None);

        let started = Record::StepStarted {
            at: at(),
            step: StepName::MonitorGate,
        };
        journal.append(&run, &started).expect("append");
        let note = Record::Note {
            at: at(),
            kind: "verdict".into(),
            text: "unclear".into(),
        };
        journal.append(&run, &note).expect("append");
        assert_eq!(
            tracker.progress(),
            Some(RunProgress {
                run: run.clone(),
                step: Some(StepName::MonitorGate),
                rolling_back: false,
                lock: None,
            })
        );
        // What the tracker saw is what the journal kept.
        assert_eq!(journal.load(&run).expect("load"), vec![started, note]);
    }

    #[test]
    fn once_a_rollback_step_starts_the_run_is_rolling_back_even_between_steps() {
        let tracker = RunTracker::default();
        let journal = tracker.journal(MemoryJournal::default());
        let run = RunId::parse("20261124T150000Z-idp-prod").expect("run id");
        let started = |step| Record::StepStarted { at: at(), step };
        journal
            .append(&run, &started(StepName::MonitorGate))
            .expect("append");
        assert!(!tracker.progress().expect("progress").rolling_back);
        journal
            .append(&run, &started(StepName::RollbackScaleInNew))
            .expect("append");
        journal
            .append(&run, &started(StepName::ReleaseLock))
            .expect("append");
        let progress = tracker.progress().expect("progress");
        assert!(progress.rolling_back, "{progress:?}");
        // Another run starts afresh.
        let other = RunId::parse("20261124T160000Z-idp-prod").expect("run id");
        journal
            .append(&other, &started(StepName::Preflight))
            .expect("append");
        assert!(!tracker.progress().expect("progress").rolling_back);
    }
}
