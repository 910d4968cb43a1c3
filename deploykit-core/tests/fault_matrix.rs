//! The fault matrix of issue 8: every step of the guided deploy and of the rollback, against
//! each fault (a permanent error, throttling, a timeout, a lost reply, the process killed then
//! `resume`d).
//!
//! A fault is injected on one call of one port operation the step calls (every call the step
//! makes in a clean run, one run per call, so a run is also stopped between two calls of one
//! operation, e.g. between two groups' recycles), only while that step runs; a kill stops the
//! driver at each journal record the step writes, one run per record, and a fresh driver
//! resumes from the journal. A run that halts on an error is resumed after the fault is gone (the operator
//! fixed the backend). After every run:
//! - the run ended as this file says a release engineer wants (see [`expected`]);
//! - healthy in-service capacity of the app's groups never went below the pre-deploy count;
//! - no scheduled action is left on the app's groups (but the migration instance's own
//!   spindown, still pending when a rollback ends early, which scales the migration group
//!   back to its size); two hours later nothing is pending and the serving instances have
//!   not changed;
//! - the journal tells the truth: it replays to the outcome, and its facts agree with the
//!   world (merged iff merged, released iff a release exists, rolled back iff the new
//!   instances are gone, revert PR iff one is open, announcements as posted);
//! - the deploy lock is free (and was held while the run was halted).
//!
//! Rows come from the real step lists ([`rollout_steps`], [`rollback_steps`] and the
//! standalone rollback's `rollback_prepare`), over six runs: a deploy that succeeds, a
//! no-migration recycle that succeeds (its groups scale out at once, not after the migration
//! head start), a config recycle that succeeds (no merge, the migration first, the diff
//! announced), a deploy whose migration fails (rollback before the new instances start), one
//! whose new code fails the monitor gate (rollback with new instances serving), and `rollback`
//! after a merge and a recycle made by hand. The test fails if any step is no row.
//!
//! `cargo test -p deploykit-core --test fault_matrix -- --nocapture` prints the matrix.

mod deploy_support;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deploy_support::{KillAfter, Rig, first_run};
use deploykit_core::deploy::step::{rollback_steps, rollout_steps};
use deploykit_core::deploy::{
    DeployOutcome, FinalStatus, Journal, MemoryJournal, Record, StepName, deploy, replay, rollback,
};
use deploykit_core::model::fleet::RECYCLE_ACTION;
use deploykit_core::sim::{Fault, Faults, MigrationScript, TrafficProfile};
use deploykit_core::{DeployKind, ErrorKind, Event, EventSink, Result, Sha};

/// Every step there is, in declaration order (serde identifies unit variants by index too).
fn all_steps() -> Vec<StepName> {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    (0u32..)
        .map_while(|i| {
            StepName::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(i))
                .ok()
        })
        .collect()
}

/// The run that reaches each step, by an exhaustive match: a new step does not compile until
/// the matrix knows which run reaches it (and the test fails until it is a row).
fn scenario_reaching(step: StepName) -> Scenario {
    match step {
        StepName::Preflight
        | StepName::MergePr
        | StepName::AnnounceRecycle
        | StepName::Recycle
        | StepName::MigrationGate
        | StepName::HealthGate
        | StepName::MonitorGate
        | StepName::SpindownWait
        | StepName::ScaleInOld
        | StepName::FollowUp
        | StepName::SmokeTests
        | StepName::CreateRelease
        | StepName::ReleaseLock
        | StepName::Report => Scenario::Deploy,
        StepName::RollbackScaleInNew | StepName::OpenRevert | StepName::AnnounceRollback => {
            Scenario::GateRollback
        }
        StepName::RollbackPrepare => Scenario::Standalone,
    }
}

/// The runs whose steps make the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    /// A full production deploy of RC 112 that succeeds.
    Deploy,
    /// A no-migration recycle that succeeds: no merge, no migration gate, and the groups scale
    /// out at once (no migration head start), so the recycle's calls come in another order.
    NoMigration,
    /// A config recycle that succeeds: no merge, but the migration instance runs first, and
    /// the announcement carries the (redacted) configuration diff.
    ConfigRecycle,
    /// The same deploy whose migration fails: the rollback path before the new instances
    /// start (the delayed scale-out is deleted).
    GateRollback,
    /// The same deploy whose new code fails the monitor gate: the rollback path with new
    /// instances serving (old ones protected, new ones scaled in).
    MonitorRollback,
    /// `rollback prod idp` after a merge and a recycle made by hand.
    Standalone,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::Deploy => "deploy",
            Scenario::NoMigration => "no-migration recycle",
            Scenario::ConfigRecycle => "config recycle",
            Scenario::GateRollback => "rollback (migration)",
            Scenario::MonitorRollback => "rollback (monitor)",
            Scenario::Standalone => "rollback (standalone)",
        }
    }

    /// The steps this scenario contributes as rows (the ones before them are rows of an
    /// earlier scenario).
    fn rows(self) -> Vec<StepName> {
        match self {
            Scenario::Deploy => rollout_steps(DeployKind::Full, true),
            Scenario::NoMigration => rollout_steps(DeployKind::NoMigrationRecycle, true),
            Scenario::ConfigRecycle => rollout_steps(DeployKind::ConfigRecycle, true),
            Scenario::GateRollback | Scenario::MonitorRollback => rollback_steps(),
            Scenario::Standalone => {
                let mut s = vec![StepName::RollbackPrepare];
                s.extend(rollback_steps());
                s
            }
        }
    }

    /// How a clean run ends.
    fn clean_ending(self) -> Ending {
        match self {
            Scenario::Deploy | Scenario::NoMigration | Scenario::ConfigRecycle => Ending::Deployed,
            Scenario::GateRollback | Scenario::MonitorRollback | Scenario::Standalone => {
                Ending::RolledBack
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Permanent,
    Throttle,
    Timeout,
    LostReply,
    Killed,
}

const COLUMNS: [Column; 5] = [
    Column::Permanent,
    Column::Throttle,
    Column::Timeout,
    Column::LostReply,
    Column::Killed,
];

impl Column {
    fn label(self) -> &'static str {
        match self {
            Column::Permanent => "permanent error",
            Column::Throttle => "throttling",
            Column::Timeout => "timeout",
            Column::LostReply => "reply lost",
            Column::Killed => "killed + resume",
        }
    }

    fn fault(self) -> Option<Fault> {
        match self {
            Column::Permanent => Some(Fault::Permanent),
            Column::Throttle => Some(Fault::Throttle),
            Column::Timeout => Some(Fault::Timeout),
            Column::LostReply => Some(Fault::LostReply),
            Column::Killed => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ending {
    Deployed,
    RolledBack,
    Stopped,
}

impl Ending {
    fn of(status: &FinalStatus) -> Option<Ending> {
        match status {
            FinalStatus::Deployed => Some(Ending::Deployed),
            FinalStatus::RolledBack { .. } => Some(Ending::RolledBack),
            FinalStatus::Stopped { .. } => Some(Ending::Stopped),
            FinalStatus::Paused { .. } => None,
        }
    }
}

/// How a run got to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    /// In one go (retries included).
    Straight,
    /// It halted on the error, holding the lock; `resume` (once the backend works) finished it.
    Halted,
    /// The process died; a new driver resumed it from the journal.
    Killed,
}

/// How a run went, and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Observed {
    path: Path,
    ending: Ending,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = match self.ending {
            Ending::Deployed => "deployed",
            Ending::RolledBack => "rolled back",
            Ending::Stopped => "stopped",
        };
        match self.path {
            Path::Straight => f.write_str(end),
            Path::Halted => write!(f, "halt, resume: {end}"),
            Path::Killed => write!(f, "resume: {end}"),
        }
    }
}

const fn straight(ending: Ending) -> Observed {
    Observed {
        path: Path::Straight,
        ending,
    }
}

const fn halt_then(ending: Ending) -> Observed {
    Observed {
        path: Path::Halted,
        ending,
    }
}

/// What a release engineer wants from each cell.
fn expected(scenario: Scenario, step: StepName, column: Column, op: &str) -> Observed {
    let clean = scenario.clean_ending();
    match column {
        // The process died: resume finishes the run as if nothing happened.
        Column::Killed => Observed {
            path: Path::Killed,
            ending: clean,
        },
        // Throttling and timeouts are temporary: the context retries them within its budget,
        // so the run ends as a clean run would, without halting.
        // A lost reply (the call acted, its answer never came) is a timeout too: the retry
        // first asks the world whether the change happened, so nothing is done twice.
        Column::Throttle | Column::Timeout | Column::LostReply => straight(clean),
        Column::Permanent => permanent(scenario, step, op),
    }
}

/// A permanent error in `op` during `step`.
fn permanent(scenario: Scenario, step: StepName, op: &str) -> Observed {
    use Ending::*;
    // A chat post that fails is a warning, never a failed deploy or rollback: the journal
    // and the report say to post it by hand.
    if op == "notifier.announce" {
        return straight(scenario.clean_ending());
    }
    // The runs that deploy, as opposed to the rollbacks.
    let rollout = scenario.clean_ending() == Deployed;
    match step {
        // The pending-changes summary (commits, migration and asset files) is information
        // for the operator: without it the deploy goes on, with a warning. A no-migration
        // recycle reads the same history for its risk check (migrations or assets changed
        // since the last migration): unread, the recycle is not known to be safe, so it stops.
        StepName::Preflight if scenario != Scenario::NoMigration && op.starts_with("vcs.") => {
            straight(Deployed)
        }
        // Nothing changed in the fleet yet: stop, releasing the lock if it was taken.
        StepName::Preflight | StepName::MergePr if rollout => straight(Stopped),
        // The recycle may be half done: the fleet changed and the new code has not been
        // judged. Halting keeps the lock; resume finishes the recycle over itself (nothing
        // is doubled twice) and the gates judge the code as usual.
        StepName::Recycle if rollout => halt_then(Deployed),
        // A gate that cannot observe cannot vouch for the new code: roll back.
        StepName::MigrationGate | StepName::HealthGate | StepName::MonitorGate if rollout => {
            straight(RolledBack)
        }
        // After the gates passed, the new code serves and was judged good: a backend error
        // must not roll the fleet back. The run halts holding the lock (so nobody else
        // deploys over a half-finished one) and resume finishes it: the spindown wait, the
        // scale-in, the follow-up check, the release, the lock.
        StepName::SpindownWait
        | StepName::ScaleInOld
        | StepName::FollowUp
        | StepName::SmokeTests
        | StepName::CreateRelease
        | StepName::ReleaseLock
            if rollout =>
        {
            halt_then(Deployed)
        }
        // A rollback that fails halfway halts (rolling back a rollback makes no sense); resume
        // finishes it.
        _ => halt_then(scenario.clean_ending()),
    }
}

/// Port operations and how many times each was called.
type OpCalls = Vec<(String, u64)>;

/// Injects one fault while one step runs, clears what is left when any step finishes, and
/// records which port operations each step called.
#[derive(Debug)]
struct StepProbe {
    faults: Arc<Faults>,
    inject: Option<(StepName, String, u32, Fault, u32)>,
    injected: AtomicBool,
    before: Mutex<BTreeMap<String, u64>>,
    calls: Mutex<Vec<(String, OpCalls)>>,
}

impl StepProbe {
    fn new(faults: Arc<Faults>, inject: Option<(StepName, String, u32, Fault, u32)>) -> Self {
        StepProbe {
            faults,
            inject,
            injected: AtomicBool::new(false),
            before: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The operations each step called and how many times, in the order the steps ran.
    fn calls(&self) -> Vec<(String, OpCalls)> {
        self.calls.lock().expect("calls").clone()
    }
}

impl EventSink for StepProbe {
    fn emit(&self, event: Event) {
        match event {
            Event::StepStarted { step, .. } => {
                *self.before.lock().expect("before") =
                    self.faults.call_counts().into_iter().collect();
                if let Some((target, op, passes, fault, times)) = &self.inject
                    && target.as_str() == step
                    && !self.injected.swap(true, Ordering::SeqCst)
                {
                    self.faults.inject_after(op, *passes, *fault, *times);
                }
            }
            Event::StepFinished { step, .. } => {
                self.faults.clear();
                let before = self.before.lock().expect("before").clone();
                let ops = self
                    .faults
                    .call_counts()
                    .into_iter()
                    .map(|(op, n)| {
                        let earlier = before.get(&op).copied().unwrap_or(0);
                        (op, n - earlier)
                    })
                    .filter(|(_, n)| *n > 0)
                    .collect();
                self.calls.lock().expect("calls").push((step, ops));
            }
            _ => {}
        }
    }
}

/// The world before the run, to compare with after.
struct Before {
    idp: Vec<String>,
    worker: Vec<String>,
    /// What the old idp instances run (and new ones boot, when nothing is merged).
    sha: Sha,
    migration_desired: u32,
}

/// The rig of a scenario, and the app's instances before anything the scenario changes.
async fn rig_for(scenario: Scenario) -> (Rig, Before) {
    let rig = Rig::prod().await;
    let before = Before {
        idp: ids(&rig, "idp"),
        worker: ids(&rig, "worker"),
        sha: rig.running("idp")[0].1.clone(),
        migration_desired: rig
            .fleet()
            .group_snapshot(&rig.group("migration"))
            .expect("migration group")
            .capacity
            .desired,
    };
    match scenario {
        Scenario::Deploy | Scenario::NoMigration | Scenario::ConfigRecycle => {}
        Scenario::GateRollback => rig
            .world
            .scripted_logs()
            .set_migration_script(MigrationScript::MigrationError),
        Scenario::MonitorRollback => rig.on_merge(Box::new(|world, sha| {
            world
                .scripted_monitor()
                .set_profile(sha, TrafficProfile::with_error_rate(0.05));
        })),
        Scenario::Standalone => rig.merge_and_recycle_by_hand().await,
    }
    (rig, before)
}

async fn start(
    rig: &Rig,
    scenario: Scenario,
    journal: &dyn Journal,
    events: &dyn EventSink,
) -> Result<DeployOutcome> {
    match scenario {
        Scenario::Deploy | Scenario::GateRollback | Scenario::MonitorRollback => {
            deploy(
                &rig.ports,
                &rig.settings,
                journal,
                events,
                &rig.request(DeployKind::Full),
            )
            .await
        }
        Scenario::NoMigration => {
            deploy(
                &rig.ports,
                &rig.settings,
                journal,
                events,
                &rig.request(DeployKind::NoMigrationRecycle),
            )
            .await
        }
        Scenario::ConfigRecycle => {
            let mut req = rig.request(DeployKind::ConfigRecycle);
            req.config_diff = Some("- idv_max_attempts: 5\n+ idv_max_attempts: 6".into());
            deploy(&rig.ports, &rig.settings, journal, events, &req).await
        }
        Scenario::Standalone => {
            rollback(
                &rig.ports,
                &rig.settings,
                journal,
                events,
                &rig.rollback_request("sign-in errors on the new code"),
            )
            .await
        }
    }
}

/// What one clean run of a scenario did: the operations of each step (with how many times it
/// called each) and the journal records each step wrote (first and last index).
struct Reference {
    ops: Vec<(StepName, OpCalls)>,
    records: Vec<(StepName, usize, usize)>,
}

async fn reference(scenario: Scenario) -> Reference {
    let (rig, _) = rig_for(scenario).await;
    let probe = StepProbe::new(rig.world.faults().clone(), None);
    let journal = MemoryJournal::new();
    let out = start(&rig, scenario, &journal, &probe)
        .await
        .expect("clean run");
    assert_eq!(
        Ending::of(&out.status),
        Some(scenario.clean_ending()),
        "{out:#?}"
    );
    let by_name = |name: &str| {
        scenario
            .rows()
            .into_iter()
            .chain(rollout_steps(DeployKind::Full, true))
            .find(|s| s.as_str() == name)
            .unwrap_or_else(|| panic!("unknown step {name}"))
    };
    let ops = probe
        .calls()
        .into_iter()
        .map(|(name, ops)| (by_name(&name), ops))
        .collect();
    let run = first_run(&journal);
    let all = journal.load(&run).expect("records");
    let mut records = Vec::new();
    let mut open: Option<(StepName, usize)> = None;
    for (i, r) in all.iter().enumerate() {
        match r {
            Record::StepStarted { step, .. } => open = Some((*step, i)),
            Record::StepFinished { report, .. } => {
                let (step, first) = open.take().expect("a started step");
                assert_eq!(step, report.step);
                records.push((step, first, i));
            }
            _ => {}
        }
    }
    Reference { ops, records }
}

/// One run of one cell: a fault on call `passes + 1` of `op` during `step`, or a kill before
/// record `kill_at`.
#[derive(Debug, Clone)]
enum Trial {
    Fault {
        step: StepName,
        op: String,
        passes: u32,
        fault: Fault,
        times: u32,
    },
    Kill {
        at: usize,
    },
}

async fn run_trial(scenario: Scenario, trial: &Trial) -> std::result::Result<Observed, String> {
    let (rig, before) = rig_for(scenario).await;
    let inject = match trial {
        Trial::Fault {
            step,
            op,
            passes,
            fault,
            times,
        } => Some((*step, op.clone(), *passes, *fault, *times)),
        Trial::Kill { .. } => None,
    };
    let probe = StepProbe::new(rig.world.faults().clone(), inject);
    let memory = Arc::new(MemoryJournal::new());
    let kill_at = match trial {
        Trial::Kill { at } => *at,
        Trial::Fault { .. } => usize::MAX,
    };
    let journal = KillAfter::new(memory.clone(), kill_at);
    let first = start(&rig, scenario, &journal, &probe).await;
    if let Trial::Fault {
        step, op, passes, ..
    } = trial
    {
        // The fault was met: the step called the operation that often while it ran.
        let met = probe
            .calls()
            .iter()
            .find(|(s, _)| s == step.as_str())
            .is_some_and(|(_, ops)| ops.iter().any(|(o, n)| o == op && *n > u64::from(*passes)));
        if !met {
            return Err(format!(
                "{step} never made call {} of {op}: the fault was not met",
                passes + 1
            ));
        }
    }
    let (path, out) = match first {
        Ok(out) => (Path::Straight, out),
        Err(e) => {
            let run = first_run(memory.as_ref());
            let records = memory.load(&run).expect("records");
            let state = replay(&records).map_err(|e| format!("replay: {e}"))?;
            match trial {
                Trial::Kill { .. } => {
                    if e.kind() != ErrorKind::Interrupted {
                        return Err(format!("the killed run ended with {e}"));
                    }
                }
                Trial::Fault { step, .. } => {
                    // A halt: the journal points resume at the failed step; the lock is kept.
                    if e.context_value("step") != Some(step.as_str()) {
                        return Err(format!("halted elsewhere: {e}"));
                    }
                    if state.next != Some(*step) || state.status.is_some() {
                        return Err(format!(
                            "the halted journal says next {:?}, status {:?}",
                            state.next, state.status
                        ));
                    }
                    if state.facts.lock_owner.is_some() && rig.lock_free().await {
                        return Err("halted without the lock it claims to hold".into());
                    }
                }
            }
            let out = rig
                .resume(memory.as_ref())
                .await
                .map_err(|e| format!("resume: {e}"))?;
            let path = match trial {
                Trial::Kill { .. } => Path::Killed,
                Trial::Fault { .. } => Path::Halted,
            };
            (path, out)
        }
    };
    let ending = Ending::of(&out.status).ok_or_else(|| format!("paused: {:?}", out.status))?;
    let killed = matches!(trial, Trial::Kill { .. });
    check_world(&rig, scenario, &before, memory.as_ref(), &out, killed).await?;
    Ok(Observed { path, ending })
}

fn ids(rig: &Rig, role: &str) -> Vec<String> {
    let mut v: Vec<String> = rig.running(role).into_iter().map(|(id, _)| id).collect();
    v.sort();
    v
}

/// The invariants every cell keeps.
async fn check_world(
    rig: &Rig,
    scenario: Scenario,
    before: &Before,
    journal: &dyn Journal,
    out: &DeployOutcome,
    killed: bool,
) -> std::result::Result<(), String> {
    let mut problems = Vec::new();
    // Capacity.
    for (role, old) in [("idp", &before.idp), ("worker", &before.worker)] {
        let min = rig.fleet().min_healthy_in_service(&rig.group(role));
        if (min as usize) < old.len() {
            problems.push(format!(
                "{role}: healthy in-service capacity fell to {min} (had {})",
                old.len()
            ));
        }
    }
    // Scheduled actions: none on the serving groups. The migration instance's own spindown
    // may still be pending after a rollback (the run ends before it fires); it is expected
    // (it scales the migration group back to what it was) as long as it does exactly that.
    for role in ["idp", "worker", "migration"] {
        let g = rig.fleet().group_snapshot(&rig.group(role)).expect("group");
        let unexpected: Vec<_> = g
            .scheduled_actions
            .iter()
            .filter(|a| {
                !(role == "migration"
                    && a.name == RECYCLE_ACTION
                    && a.change.desired == Some(before.migration_desired))
            })
            .map(|a| format!("{} {:?}", a.name, a.change))
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!("{role}: scheduled actions left: {unexpected:?}"));
        }
    }
    // The lock.
    if !rig.lock_free().await {
        problems.push("the deploy lock is still held".into());
    }
    // The journal.
    let run = first_run(journal);
    let records = journal.load(&run).expect("records");
    let state = replay(&records).map_err(|e| format!("replay: {e}"))?;
    if state.status.as_ref() != Some(&out.status) {
        problems.push(format!(
            "the journal replays to {:?}, the run said {:?}",
            state.status, out.status
        ));
    }
    match records.last() {
        Some(Record::StepFinished { report, .. }) if report.step == StepName::Report => {}
        other => problems.push(format!("the journal ends with {other:?}")),
    }
    let f = &state.facts;
    if f.lock_owner.is_some() {
        problems.push("the journal says the lock is still held".into());
    }
    let releases = rig.releases_created();
    if releases.len() != usize::from(f.release_url.is_some()) {
        problems.push(format!(
            "releases {releases:?}, the journal's release {:?}",
            f.release_url
        ));
    }
    let merges = rig.merges();
    let merged_by_run = if scenario == Scenario::Standalone {
        1
    } else {
        usize::from(f.merge_sha.is_some())
    };
    if merges != merged_by_run {
        problems.push(format!(
            "{merges} merges, the journal's merge {:?}",
            f.merge_sha
        ));
    }
    let reverts = rig.revert_prs().await;
    if reverts != usize::from(f.revert_pr.is_some()) {
        problems.push(format!(
            "{reverts} revert PRs, the journal's {:?}",
            f.revert_pr
        ));
    }
    // Each announcement posted once, as recorded. Two exceptions, both in the journal's own
    // words: a process killed between a post and its record posts it again on resume (chat
    // cannot be asked what was posted), and a post that timed out is not retried, as it may
    // have gone through; the run's warning says so, and either way is the truth.
    let uncertain: Vec<String> = f
        .notes
        .iter()
        .filter(|n| n.contains("may have been posted"))
        .filter_map(|n| {
            let kind = n.strip_prefix("the ")?.split(' ').next()?;
            Some(kind.to_string())
        })
        .collect();
    let mut sent: Vec<&str> = rig
        .announcements()
        .into_iter()
        .filter(|k| !uncertain.iter().any(|u| u == k))
        .collect();
    if killed {
        sent.dedup();
    }
    let recorded: Vec<&str> = f.announcements.iter().map(|a| a.kind()).collect();
    if sent != recorded {
        problems.push(format!(
            "announcements sent {sent:?}, recorded {recorded:?}"
        ));
    }
    // The fleet agrees with the ending.
    let ending = Ending::of(&out.status);
    for (role, old) in [("idp", &before.idp), ("worker", &before.worker)] {
        let now = ids(rig, role);
        match ending {
            Some(Ending::RolledBack | Ending::Stopped) => {
                if &now != old {
                    problems.push(format!(
                        "{role}: ended {:?} but runs {now:?}, not the old {old:?}",
                        out.status
                    ));
                }
            }
            Some(Ending::Deployed) => {
                let merge = f.merge_sha.clone().unwrap_or_else(|| before.sha.clone());
                let shas: Vec<_> = rig.running(role).into_iter().map(|(_, s)| s).collect();
                if now.iter().any(|i| old.contains(i))
                    || shas.iter().any(|s| *s != merge)
                    || now.len() != old.len()
                {
                    problems.push(format!(
                        "{role}: deployed but runs {now:?} on {shas:?} (old {old:?})"
                    ));
                }
            }
            None => problems.push(format!("paused: {:?}", out.status)),
        }
    }
    if ending == Some(Ending::Stopped) && rig.launched("idp") != 0 {
        problems.push("stopped but idp instances were launched".into());
    }
    // Two hours later whatever was left has fired: nothing pending, the migration group is
    // back to its size, the serving groups unchanged and never below their old capacity.
    let serving = (ids(rig, "idp"), ids(rig, "worker"));
    rig.world
        .virtual_clock()
        .advance(Duration::from_secs(2 * 3600));
    for role in ["idp", "worker", "migration"] {
        let g = rig.fleet().group_snapshot(&rig.group(role)).expect("group");
        if !g.scheduled_actions.is_empty() {
            problems.push(format!(
                "{role}: scheduled actions still pending two hours later"
            ));
        }
    }
    let migration = rig
        .fleet()
        .group_snapshot(&rig.group("migration"))
        .expect("group");
    if migration.capacity.desired != before.migration_desired {
        problems.push(format!(
            "the migration group stays at desired {}",
            migration.capacity.desired
        ));
    }
    if (ids(rig, "idp"), ids(rig, "worker")) != serving {
        problems.push("the serving instances changed after the run ended".into());
    }
    for (role, old) in [("idp", &before.idp), ("worker", &before.worker)] {
        let min = rig.fleet().min_healthy_in_service(&rig.group(role));
        if (min as usize) < old.len() {
            problems.push(format!(
                "{role}: healthy in-service capacity fell to {min} after the run (had {})",
                old.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// One cell: the runs made and what each gave.
#[derive(Default)]
struct Cell {
    seen: BTreeMap<Observed, usize>,
    failures: Vec<String>,
    note: Option<&'static str>,
}

impl Cell {
    fn text(&self) -> String {
        if let Some(n) = self.note {
            return n.to_string();
        }
        let mut parts: Vec<String> = self
            .seen
            .iter()
            .map(|(o, n)| format!("{o} ({n})"))
            .collect();
        if !self.failures.is_empty() {
            parts.push(format!("FAILED ({})", self.failures.len()));
        }
        parts.join(", ")
    }
}

fn render(rows: &[(String, Vec<Cell>)]) -> String {
    let mut header = vec!["step".to_string()];
    header.extend(COLUMNS.iter().map(|c| c.label().to_string()));
    let mut lines = vec![header];
    for (name, cells) in rows {
        let mut line = vec![name.clone()];
        line.extend(cells.iter().map(Cell::text));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|i| lines.iter().map(|l| l[i].len()).max().unwrap_or(0))
        .collect();
    let fmt_line = |l: &Vec<String>| {
        let cells: Vec<String> = l
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut out = vec![fmt_line(&lines[0])];
    out.push(format!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    out.extend(lines[1..].iter().map(fmt_line));
    out.join("\n")
}

#[tokio::test]
async fn every_step_against_every_fault_deploys_or_rolls_back_cleanly() {
    let scenarios = [
        Scenario::Deploy,
        Scenario::NoMigration,
        Scenario::ConfigRecycle,
        Scenario::GateRollback,
        Scenario::MonitorRollback,
        Scenario::Standalone,
    ];
    let retry_attempts = Rig::prod().await.settings.retry_attempts;
    let mut rows = Vec::new();
    let mut ops_of_rows = Vec::new();
    let mut failures = Vec::new();
    let mut covered = Vec::new();
    for scenario in scenarios {
        let reference = reference(scenario).await;
        for step in scenario.rows() {
            covered.push(step);
            let ops: Vec<(String, u64)> = reference
                .ops
                .iter()
                .filter(|(s, _)| *s == step)
                .flat_map(|(_, ops)| ops.clone())
                .collect();
            let &(_, first, last) = reference
                .records
                .iter()
                .find(|(s, _, _)| *s == step)
                .unwrap_or_else(|| panic!("{step} did not run in the {scenario:?} run"));
            let mut cells = Vec::new();
            for column in COLUMNS {
                let mut cell = Cell::default();
                // (the trial, what it stops, the operation it faults)
                let trials: Vec<(Trial, String, String)> = match column.fault() {
                    Some(fault) => {
                        // Temporary faults: as many in a row as the retry budget absorbs.
                        let times = if fault == Fault::Permanent {
                            1
                        } else {
                            retry_attempts.saturating_sub(1).max(1)
                        };
                        // Every call the step made of each operation, so that the run is
                        // also stopped between two calls of one operation (e.g. between one
                        // group's recycle and the next).
                        ops.iter()
                            .flat_map(|(op, calls)| {
                                (0..u32::try_from(*calls).unwrap_or(u32::MAX)).map(move |passes| {
                                    (
                                        Trial::Fault {
                                            step,
                                            op: op.clone(),
                                            passes,
                                            fault,
                                            times,
                                        },
                                        format!("{op} call {}", passes + 1),
                                        op.clone(),
                                    )
                                })
                            })
                            .collect()
                    }
                    None => (first..=last)
                        .map(|at| (Trial::Kill { at }, format!("record {at}"), String::new()))
                        .collect(),
                };
                if trials.is_empty() {
                    cell.note = Some("no port call");
                }
                for (trial, what, op) in trials {
                    let want = expected(scenario, step, column, &op);
                    match run_trial(scenario, &trial).await {
                        Ok(got) if got == want => *cell.seen.entry(got).or_default() += 1,
                        Ok(got) => {
                            *cell.seen.entry(got).or_default() += 1;
                            cell.failures.push(format!(
                                "{} / {step} / {} / {what}: expected {want}, got {got}",
                                scenario.label(),
                                column.label()
                            ));
                        }
                        Err(problem) => cell.failures.push(format!(
                            "{} / {step} / {} / {what}: {problem}",
                            scenario.label(),
                            column.label()
                        )),
                    }
                }
                failures.extend(cell.failures.iter().cloned());
                cells.push(cell);
            }
            rows.push((format!("{} / {step}", scenario.label()), cells));
            ops_of_rows.push(format!(
                "- {} / {step}: {}",
                scenario.label(),
                if ops.is_empty() {
                    "none".to_string()
                } else {
                    ops.iter()
                        .map(|(op, n)| format!("{op} x{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        }
    }
    println!("{}", render(&rows));
    println!("\nPort operations faulted, per step (one run per call):");
    println!("{}", ops_of_rows.join("\n"));
    let all = all_steps();
    assert!(all.len() >= 17, "{all:?}");
    for step in all {
        assert!(
            covered.contains(&step),
            "{step} is no row of the matrix: the {:?} run reaches it; add it to that run's rows",
            scenario_reaching(step)
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
