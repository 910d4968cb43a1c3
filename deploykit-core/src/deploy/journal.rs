//! The journal of a run: every transition appended before the next action, so a killed run
//! can be resumed without repeating what it already did.
//!
//! [`FileJournal`] keeps one directory per run, `<state dir>/runs/<run-id>/journal.jsonl`,
//! one JSON record per line, each append flushed to disk (fsync) before it returns.

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::deploy::state::{DeployState, StepName, StepReport};
use crate::error::{Error, Result};
use crate::model::names::{AppName, EnvName};

/// A run id: UTC start time, app and environment, so ids sort by time
/// (`20261124T150000Z-idp-prod`).
///
/// Ids order oldest first: the start time leads, and the `-N` suffix of a run started in the
/// same second counts as a number (`-9` before `-10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

/// `a` and `b` compared with their runs of digits as numbers (`x-9` before `x-10`); the
/// plain text decides what numbers alone do not (`x-09` and `x-9`).
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn pieces(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digits = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            let (piece, tail) = rest.split_at(end);
            rest = tail;
            Some((digits, piece))
        })
    }
    let mut left = pieces(a);
    let mut right = pieces(b);
    loop {
        let order = match (left.next(), right.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some((true, x)), Some((true, y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Some((_, x)), Some((_, y))) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
}

impl Ord for RunId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        natural_order(&self.0, &other.0)
    }
}

impl PartialOrd for RunId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl RunId {
    /// The id of a run of `app` in `env` started at `at`.
    pub fn new(at: DateTime<Utc>, app: &AppName, env: &EnvName) -> Self {
        RunId(format!("{}-{app}-{env}", at.format("%Y%m%dT%H%M%SZ")))
    }

    /// Parses an id (letters, digits, `-`, `_`; no path separators).
    pub fn parse(s: &str) -> Result<Self> {
        let ok = !s.is_empty()
            && s.len() <= 120
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(Error::invalid_input(format!(
                "invalid run id {s:?}: expected something like 20261124T150000Z-idp-prod \
                 (deploykit runs lists them)"
            )));
        }
        Ok(RunId(s.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `error` with what a person needs to go on with this run: the run, the step it stopped
    /// at (when one was under way) and the `deploykit resume` command.
    pub fn resumable(&self, error: Error, step: Option<StepName>) -> Error {
        let error = error.with("run", self);
        let error = match step {
            Some(step) => error.with("step", step),
            None => error,
        };
        error.with("resume", format!("deploykit resume {self}"))
    }
}

impl TryFrom<String> for RunId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        RunId::parse(&s)
    }
}

impl From<RunId> for String {
    fn from(r: RunId) -> String {
        r.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The run began in this state (request, settings, first step).
    RunStarted {
        /// When.
        at: DateTime<Utc>,
        /// The initial state.
        state: Box<DeployState>,
    },
    /// A step began.
    StepStarted {
        /// When.
        at: DateTime<Utc>,
        /// The step.
        step: StepName,
    },
    /// A side effect is about to happen.
    EffectStarted {
        /// When.
        at: DateTime<Utc>,
        /// Idempotency key, unique in the run (e.g. `merge_pr/#123`).
        key: String,
        /// What, for people.
        description: String,
    },
    /// A side effect happened (or an observation that must not be repeated was made).
    EffectDone {
        /// When.
        at: DateTime<Utc>,
        /// The key of the matching [`Record::EffectStarted`].
        key: String,
        /// Its result, replayed on resume.
        result: serde_json::Value,
    },
    /// Something to keep: a verdict, an override with its reason, an announcement, a warning.
    Note {
        /// When.
        at: DateTime<Utc>,
        /// `verdict`, `override`, `announcement`, `warning`, `decision`.
        kind: String,
        /// The text.
        text: String,
    },
    /// A step ended; folding these through `step` rebuilds the state.
    StepFinished {
        /// When.
        at: DateTime<Utc>,
        /// The report.
        report: Box<StepReport>,
    },
}

impl Record {
    /// When it was written.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Record::RunStarted { at, .. }
            | Record::StepStarted { at, .. }
            | Record::EffectStarted { at, .. }
            | Record::EffectDone { at, .. }
            | Record::Note { at, .. }
            | Record::StepFinished { at, .. } => *at,
        }
    }
}

/// Where runs are recorded.
pub trait Journal: Send + Sync + Debug {
    /// Appends one record to `run`; it is durable when this returns.
    fn append(&self, run: &RunId, record: &Record) -> Result<()>;
    /// Every record of `run`, in order; NotFound when there is no such run.
    fn load(&self, run: &RunId) -> Result<Vec<Record>>;
    /// Every run id, oldest first.
    fn runs(&self) -> Result<Vec<RunId>>;

    /// Keeps a file made from `run`'s records (its report) next to them, replacing any earlier
    /// one of that `name` (a plain file name such as `report.md`); returns where it is, for
    /// people. Journals that keep no files answer Unsupported.
    fn put_artifact(&self, run: &RunId, name: &str, contents: &[u8]) -> Result<String> {
        let _ = (contents, name);
        Err(Error::unsupported(format!(
            "this journal keeps no files next to run {run}"
        )))
    }

    /// A file kept with [`Journal::put_artifact`], if there is one.
    fn artifact(&self, run: &RunId, name: &str) -> Result<Option<Vec<u8>>> {
        let _ = (run, name);
        Ok(None)
    }
}

/// Refuses artifact names that are not plain file names (no directories, no `..`).
fn check_artifact_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid run file name {name:?}: expected a plain file name such as report.md"
        )))
    }
}

/// A journal in memory (tests, dry runs, embedding programs that keep their own records).
#[derive(Debug, Default)]
pub struct MemoryJournal {
    runs: Mutex<std::collections::BTreeMap<RunId, Vec<Record>>>,
    artifacts: Mutex<std::collections::BTreeMap<(RunId, String), Vec<u8>>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> Error {
    Error::backend("the in-memory journal's lock was poisoned by a panic; start a new journal")
}

impl Journal for MemoryJournal {
    fn append(&self, run: &RunId, record: &Record) -> Result<()> {
        let mut runs = self.runs.lock().map_err(|_| poisoned())?;
        runs.entry(run.clone()).or_default().push(record.clone());
        Ok(())
    }

    fn load(&self, run: &RunId) -> Result<Vec<Record>> {
        let runs = self.runs.lock().map_err(|_| poisoned())?;
        runs.get(run).cloned().ok_or_else(|| no_run(run))
    }

    fn runs(&self) -> Result<Vec<RunId>> {
        let runs = self.runs.lock().map_err(|_| poisoned())?;
        Ok(runs.keys().cloned().collect())
    }

    fn put_artifact(&self, run: &RunId, name: &str, contents: &[u8]) -> Result<String> {
        check_artifact_name(name)?;
        let mut artifacts = self.artifacts.lock().map_err(|_| poisoned())?;
        artifacts.insert((run.clone(), name.to_string()), contents.to_vec());
        Ok(format!("memory:{run}/{name}"))
    }

    fn artifact(&self, run: &RunId, name: &str) -> Result<Option<Vec<u8>>> {
        check_artifact_name(name)?;
        let artifacts = self.artifacts.lock().map_err(|_| poisoned())?;
        Ok(artifacts.get(&(run.clone(), name.to_string())).cloned())
    }
}

fn no_run(run: &RunId) -> Error {
    Error::not_found(format!(
        "no deploy run {run} in the journal: check the id (deploykit runs lists them) and the \
         state directory; runs made with --sandbox, and `deploykit demo`'s, are kept apart \
         (deploykit runs --sandbox lists them) and cannot be resumed"
    ))
    .with("run", run)
}

/// A journal on disk: `<dir>/runs/<run-id>/journal.jsonl`.
#[derive(Debug)]
pub struct FileJournal {
    dir: PathBuf,
    write: Mutex<()>,
}

impl FileJournal {
    /// A journal under `state_dir` (created when the first run is written).
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        FileJournal {
            dir: state_dir.into(),
            write: Mutex::new(()),
        }
    }

    /// The default state directory: `$XDG_STATE_HOME/deploykit`, else
    /// `~/.local/state/deploykit`.
    pub fn default_dir() -> Result<PathBuf> {
        if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(x).join("deploykit"));
        }
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(
                    "cannot find a state directory: neither XDG_STATE_HOME nor HOME is set; \
                 set one, or give a state directory explicitly",
                )
            })?;
        Ok(PathBuf::from(home).join(".local/state/deploykit"))
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of one run.
    pub fn run_file(&self, run: &RunId) -> PathBuf {
        self.dir
            .join("runs")
            .join(run.as_str())
            .join("journal.jsonl")
    }

    /// Where a file kept next to a run's journal (e.g. `report.svg`) is.
    pub fn artifact_file(&self, run: &RunId, name: &str) -> PathBuf {
        self.dir.join("runs").join(run.as_str()).join(name)
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::backend(format!(
        "could not {what} the journal {}: {e}; check the state directory's permissions and \
         free space",
        path.display()
    ))
    .with_source(e)
}

impl Journal for FileJournal {
    fn append(&self, run: &RunId, record: &Record) -> Result<()> {
        let _guard = self.write.lock().map_err(|_| poisoned())?;
        let path = self.run_file(run);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
        }
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::backend(format!("could not encode a journal record: {e}")))?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("open", &path, e))?;
        file.write_all(line.as_bytes())
            .map_err(|e| io_error("write", &path, e))?;
        file.sync_data().map_err(|e| io_error("sync", &path, e))?;
        Ok(())
    }

    fn load(&self, run: &RunId) -> Result<Vec<Record>> {
        let path = self.run_file(run);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_run(run)),
            Err(e) => return Err(io_error("read", &path, e)),
        };
        let mut records = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(r) => records.push(r),
                // A torn last line is what a kill during a write leaves: the record was not
                // durable, so it never happened as far as the run is concerned.
                Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
                Err(e) => {
                    return Err(Error::invalid_input(format!(
                        "journal {} line {} is not a valid record ({e}); the file was edited or \
                         damaged",
                        path.display(),
                        i + 1
                    )));
                }
            }
        }
        Ok(records)
    }

    fn runs(&self) -> Result<Vec<RunId>> {
        let dir = self.dir.join("runs");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list", &dir, e)),
        };
        let mut ids: Vec<RunId> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|n| RunId::parse(n).ok()))
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn put_artifact(&self, run: &RunId, name: &str, contents: &[u8]) -> Result<String> {
        check_artifact_name(name)?;
        let path = self.artifact_file(run, name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
        }
        // Written aside and renamed, so a reader never sees half a report.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, contents).map_err(|e| io_error("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error("write", &path, e))?;
        Ok(path.display().to_string())
    }

    fn artifact(&self, run: &RunId, name: &str) -> Result<Option<Vec<u8>>> {
        check_artifact_name(name)?;
        let path = self.artifact_file(run, name);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> Record {
        Record::Note {
            at: "2026-11-24T15:00:00Z".parse().expect("time"),
            kind: "warning".into(),
            text: text.into(),
        }
    }

    #[test]
    fn runs_list_oldest_first_with_same_second_suffixes_as_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = FileJournal::new(dir.path());
        let ids = [
            "20261124T150000Z-idp-prod-10",
            "20261124T150000Z-idp-prod",
            "20261124T160000Z-idp-prod",
            "20261124T150000Z-idp-prod-9",
            "20261124T150000Z-idp-prod-2",
        ];
        for id in ids {
            let run = RunId::parse(id).expect("id");
            journal.append(&run, &note(id)).expect("append");
        }
        let listed: Vec<String> = journal
            .runs()
            .expect("runs")
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            listed,
            [
                "20261124T150000Z-idp-prod",
                "20261124T150000Z-idp-prod-2",
                "20261124T150000Z-idp-prod-9",
                "20261124T150000Z-idp-prod-10",
                "20261124T160000Z-idp-prod",
            ]
        );
        // Leading zeros do not make two different ids equal.
        let (a, b) = (
            RunId::parse("x-09").expect("id"),
            RunId::parse("x-9").expect("id"),
        );
        assert_ne!(a.cmp(&b), std::cmp::Ordering::Equal);
    }

    #[test]
    fn every_fact_survives_a_round_trip_through_json() {
        use crate::deploy::state::{Fact, StepOutcome, StepReport};
        let at: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().expect("time");
        let sha = crate::Sha::new("abcdef1").expect("sha");
        let report = StepReport {
            step: StepName::Recycle,
            started_at: at,
            finished_at: at,
            outcome: StepOutcome::GateFailed { reason: "x".into() },
            detail: "d".into(),
            facts: vec![
                Fact::OldSha { sha: sha.clone() },
                Fact::Merged { sha: sha.clone() },
                Fact::NewSha { sha },
                Fact::MonitorEnded { at },
                Fact::note("n"),
                Fact::LockReleased,
                Fact::Announced(crate::ports::Announcement::ConfigChange {
                    app: AppName::new("idp").expect("app"),
                    env: EnvName::new("prod").expect("env"),
                    diff: "-a\n+b".into(),
                }),
            ],
        };
        let record = Record::StepFinished {
            at,
            report: Box::new(report),
        };
        let line = serde_json::to_string(&record).expect("encode");
        let back: Record = serde_json::from_str(&line).expect("decode");
        assert_eq!(back, record);
    }

    #[test]
    fn run_ids_sort_by_time_and_refuse_paths() {
        let env = EnvName::new("prod").expect("env");
        let app = AppName::new("idp").expect("app");
        let a = RunId::new("2026-11-24T15:00:00Z".parse().expect("t"), &app, &env);
        let b = RunId::new("2026-11-24T16:00:00Z".parse().expect("t"), &app, &env);
        assert_eq!(a.as_str(), "20261124T150000Z-idp-prod");
        assert!(a < b);
        assert!(RunId::parse("../etc").is_err());
    }

    #[test]
    fn file_journal_round_trips_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let j = FileJournal::new(dir.path());
        let run = RunId::parse("20261124T150000Z-idp-prod").expect("id");
        j.append(&run, &note("one")).expect("append");
        j.append(&run, &note("two")).expect("append");
        assert_eq!(j.load(&run).expect("load"), vec![note("one"), note("two")]);
        assert_eq!(j.runs().expect("runs"), vec![run.clone()]);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(j.run_file(&run))
            .expect("open");
        f.write_all(b"{\"record\":\"no").expect("write");
        assert_eq!(j.load(&run).expect("load").len(), 2);
        j.put_artifact(&run, "report.md", b"# report").expect("put");
        assert_eq!(
            j.artifact(&run, "report.md").expect("read"),
            Some(b"# report".to_vec())
        );
        assert!(j.artifact_file(&run, "report.md").exists());
        assert!(j.put_artifact(&run, "../x", b"no").is_err());
        let missing = RunId::parse("20261124T150000Z-pki-prod").expect("id");
        assert_eq!(
            j.load(&missing).expect_err("missing").kind(),
            crate::ErrorKind::NotFound
        );
    }
}
