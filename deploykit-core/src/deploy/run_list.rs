//! The runs of a journal, a line each (`deploykit runs`): so that a person finds the run to
//! resume, or to report on, without knowing its id.

use chrono::{DateTime, Utc};

use crate::deploy::driver::replay;
use crate::deploy::journal::{Journal, RunId};
use crate::deploy::state::{DeployState, FinalStatus, StepName};
use crate::error::Result;
use crate::model::deploy_kind::DeployKind;
use crate::model::names::{AppName, EnvName};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStanding {
    /// The new code serves.
    Deployed,
    /// Rolled back.
    RolledBack,
    /// Ended without deploying (a refusal, a failed precheck).
    Stopped,
    /// Waiting at a gate for a person's decision.
    Paused,
    /// Stopped part way by a kill, a signal or an error: `resume` runs its next step.
    Unfinished,
}

impl RunStanding {
    /// `deployed`, `rolled back`, `stopped`, `paused`, `unfinished` (the JSON form is
    /// snake_case: `rolled_back`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStanding::Deployed => "deployed",
            RunStanding::RolledBack => "rolled back",
            RunStanding::Stopped => "stopped",
            RunStanding::Paused => "paused",
            RunStanding::Unfinished => "unfinished",
        }
    }

    /// Whether `deploykit resume` goes on with it.
    pub fn resumable(self) -> bool {
        matches!(self, RunStanding::Paused | RunStanding::Unfinished)
    }

    /// Whether a run that stands so has ended having changed what serves, or what the
    /// production branch holds: it deployed, or it rolled back (a deploy's failed gate, or a
    /// standalone rollback, which may have opened a revert PR). A run stopped before anything
    /// changed, or one still under way, has not.
    pub fn changed_what_serves(self) -> bool {
        matches!(self, RunStanding::Deployed | RunStanding::RolledBack)
    }
}

/// One run of the journal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// The app deployed.
    pub app: AppName,
    /// The environment.
    pub env: EnvName,
    /// What kind of deploy (a standalone rollback records the kind of what it rolls back:
    /// full when it reverts a PR, config recycle otherwise).
    pub kind: DeployKind,
    /// Whether the run is a standalone rollback (`deploykit rollback`), not a deploy.
    #[serde(default)]
    pub rollback: bool,
    /// Who ran it.
    pub operator: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Where it stands.
    pub standing: RunStanding,
    /// The step it runs next when resumed (paused and unfinished runs).
    pub next_step: Option<StepName>,
    /// Why it ended, stopped or paused, as the run said.
    pub reason: Option<String>,
    /// A paused or unfinished run that a later run of the same app and environment has
    /// overtaken (see [`superseding_run`]): that run's id. `resume` refuses it, so it has no
    /// next step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

impl RunSummary {
    /// The summary of a run's state, as replayed from its journal.
    pub fn of(state: &DeployState) -> Self {
        let (standing, reason) = match &state.status {
            Some(FinalStatus::Deployed) => (RunStanding::Deployed, None),
            Some(FinalStatus::RolledBack { reason }) => {
                (RunStanding::RolledBack, Some(reason.clone()))
            }
            Some(FinalStatus::Stopped { reason, .. }) => {
                (RunStanding::Stopped, Some(reason.clone()))
            }
            Some(FinalStatus::Paused { reason }) => (RunStanding::Paused, Some(reason.clone())),
            None if state.next.is_some() => (RunStanding::Unfinished, None),
            None => (
                RunStanding::Stopped,
                Some("the run has no step to run".into()),
            ),
        };
        RunSummary {
            run_id: state.run_id.clone(),
            app: state.request.app.name.clone(),
            env: state.request.env.clone(),
            kind: state.request.kind,
            rollback: state.is_standalone_rollback(),
            operator: state.request.operator.clone(),
            started_at: state.started_at,
            next_step: state.next.filter(|_| standing.resumable()),
            standing,
            reason,
            superseded_by: None,
        }
    }
}

/// A run whose journal could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnreadableRun {
    /// The run id.
    pub run_id: String,
    /// What is wrong with its journal.
    pub error: String,
}

/// The runs of a journal, oldest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunList {
    /// The runs read.
    pub runs: Vec<RunSummary>,
    /// The runs whose journal could not be read (listed, not fatal).
    pub unreadable: Vec<UnreadableRun>,
}

impl RunList {
    /// Text for people: a table, and the way on when a run can be resumed.
    pub fn render(&self) -> String {
        self.render_with(
            "no deploy runs in this journal (runs made with --sandbox, and `deploykit demo`'s, \
             are listed by `deploykit runs --sandbox`)",
            "continue an unfinished run with `deploykit resume RUN`; a paused one waits for \
             `--decision go|rollback` (or the answer at a terminal)",
        )
    }

    /// [`RunList::render`] of rehearsals (`--sandbox`): their simulated world is gone with
    /// the command that made them, so the way on is to run them again.
    pub fn render_sandboxed(&self) -> String {
        self.render_with(
            "no deploy runs in this journal",
            "sandboxed runs cannot be resumed (their simulated world is gone with the command \
             that made them): run the deploy again, with --yes or answering at the prompt",
        )
    }

    /// The table, or `empty` when there is no run; `way_on` when a run can be resumed.
    fn render_with(&self, empty: &str, way_on: &str) -> String {
        if self.runs.is_empty() && self.unreadable.is_empty() {
            return empty.into();
        }
        let rows: Vec<Vec<String>> = self
            .runs
            .iter()
            .map(|r| {
                vec![
                    r.run_id.clone(),
                    r.app.to_string(),
                    r.env.to_string(),
                    if r.rollback {
                        "rollback"
                    } else {
                        r.kind.as_str()
                    }
                    .to_string(),
                    r.started_at.format("%Y-%m-%d %H:%M").to_string(),
                    r.standing.as_str().to_string(),
                    match &r.superseded_by {
                        Some(by) => format!("none: superseded by {by}"),
                        None => r.next_step.map(|s| s.as_str()).unwrap_or("").to_string(),
                    },
                ]
            })
            .collect();
        let mut text = crate::fleet_ops::table::render(
            &[
                "RUN",
                "APP",
                "ENV",
                "KIND",
                "STARTED (UTC)",
                "STANDING",
                "NEXT",
            ],
            &rows,
        );
        let width = self
            .runs
            .iter()
            .map(|r| r.run_id.len())
            .chain(self.unreadable.iter().map(|r| r.run_id.len()))
            .max()
            .unwrap_or(0)
            .max(3);
        for u in &self.unreadable {
            text.push_str(&format!("{:<width$}  unreadable: {}\n", u.run_id, u.error));
        }
        if self.runs.iter().any(|r| r.next_step.is_some()) {
            text.push_str(way_on);
            text.push('\n');
        }
        text.trim_end().to_string()
    }
}

/// The runs `ids` of `journal` read back, in the order given: each id with the run's state as
/// its journal replays, or why that journal cannot be read.
pub(crate) fn run_states(
    journal: &dyn Journal,
    ids: impl IntoIterator<Item = RunId>,
) -> impl Iterator<Item = (RunId, Result<DeployState>)> {
    ids.into_iter().map(move |id| {
        let state = journal.load(&id).and_then(|records| replay(&records));
        (id, state)
    })
}

/// The last `last` runs of `journal` (all with `None`), oldest first; a run whose journal
/// cannot be read is listed as unreadable rather than failing the list.
pub fn list_runs(journal: &dyn Journal, last: Option<usize>) -> Result<RunList> {
    let ids: Vec<RunId> = journal.runs()?;
    let skip = last.map_or(0, |n| ids.len().saturating_sub(n));
    let mut list = RunList {
        runs: Vec::new(),
        unreadable: Vec::new(),
    };
    for (id, state) in run_states(journal, ids.into_iter().skip(skip)) {
        match state {
            Ok(state) => list.runs.push(RunSummary::of(&state)),
            Err(e) => list.unreadable.push(UnreadableRun {
                run_id: id.to_string(),
                error: e.to_string(),
            }),
        }
    }
    // A paused or unfinished run overtaken by a later one is not offered to `resume`, which
    // would refuse it. Later runs sort after it, so they are in the list too.
    for i in 0..list.runs.len() {
        if !list.runs[i].standing.resumable() {
            continue;
        }
        let by = list.runs[i + 1..]
            .iter()
            .rev()
            .find(|later| overtakes(later, &list.runs[i].app, &list.runs[i].env))
            .map(|later| later.run_id.clone());
        if by.is_some() {
            list.runs[i].next_step = None;
            list.runs[i].superseded_by = by;
        }
    }
    Ok(list)
}

/// The newest run of `journal` started after `state`'s run, of the same app in the same
/// environment, that has ended having changed what serves ([`RunStanding::changed_what_serves`]:
/// a standalone rollback, a deploy that deployed or rolled back). `state`'s run, resumed, would
/// go on from a fleet and a production branch that are no longer as it left them: it is
/// superseded by that run. Runs whose journal cannot be read are skipped (`deploykit runs`
/// lists them).
pub fn superseding_run(journal: &dyn Journal, state: &DeployState) -> Result<Option<RunSummary>> {
    let me = RunId::parse(&state.run_id)?;
    let (app, env) = (&state.request.app.name, &state.request.env);
    let later = journal.runs()?.into_iter().filter(|id| *id > me);
    Ok(run_states(journal, later)
        .filter_map(|(_, later)| later.ok())
        .map(|later| RunSummary::of(&later))
        .filter(|run| overtakes(run, app, env))
        .last())
}

/// Whether `later` (a run started after another of `app` in `env`) overtakes it: it is of the
/// same app and environment and ended having changed what serves.
fn overtakes(later: &RunSummary, app: &AppName, env: &EnvName) -> bool {
    &later.app == app && &later.env == env && later.standing.changed_what_serves()
}
