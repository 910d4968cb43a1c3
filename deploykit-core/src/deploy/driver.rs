//! The driver: runs the actions [`step`] asks for through the
//! ports, appending every transition to the journal before the next action, and resumes a
//! run from its journal.

use chrono::{DateTime, Utc};

use crate::deploy::context::StepContext;
use crate::deploy::journal::{Journal, Record, RunId};
use crate::deploy::outcome::DeployOutcome;
use crate::deploy::ports::DeployPorts;
use crate::deploy::request::{DeployRequest, RollbackRequest};
use crate::deploy::run_list::{RunSummary, superseding_run};
use crate::deploy::settings::EnvSettings;
use crate::deploy::state::{
    DeployState, Facts, FinalStatus, Phase, StepName, StepOutcome, StepReport,
};
use crate::deploy::step::{Action, start, step};
use crate::deploy::steps::lock::{self, hold_again};
use crate::deploy::steps::{StepBody, run_step};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventSink};
use crate::model::deploy_kind::DeployKind;

/// Runs a guided deploy from the start. See the module documentation of
/// [`crate::deploy`] for the steps; the result says whether it deployed, rolled back,
/// stopped or paused. An `Err` means the run halted on an error: the journal says where, and
/// [`resume`] continues from there.
pub async fn deploy(
    ports: &DeployPorts,
    settings: &EnvSettings,
    journal: &dyn Journal,
    events: &dyn EventSink,
    req: &DeployRequest,
) -> Result<DeployOutcome> {
    check_request(req, settings)?;
    let now = ports.clock.now();
    let run = new_run_id(journal, now, req)?;
    let state = DeployState {
        run_id: run.to_string(),
        request: req.clone(),
        production: settings.production,
        started_at: now,
        next: Some(StepName::Preflight),
        phase: Phase::Rollout,
        status: None,
        steps: Vec::new(),
        facts: Facts::default(),
    };
    begin(ports, settings, journal, events, run, state).await
}

/// Rolls back the app's last recycle on its own (`rollback ENV APP`): remove the new
/// instances keeping the old ones, open the revert PR (when `pr_number` names the merged
/// promotion PR), announce the rollback and the retrospective.
pub async fn rollback(
    ports: &DeployPorts,
    settings: &EnvSettings,
    journal: &dyn Journal,
    events: &dyn EventSink,
    req: &RollbackRequest,
) -> Result<DeployOutcome> {
    if req.reason.trim().is_empty() {
        return Err(Error::invalid_input(
            "a rollback needs a reason: say what went wrong (it is announced and journalled)",
        ));
    }
    let now = ports.clock.now();
    let kind = if req.pr_number.is_some() {
        DeployKind::Full
    } else {
        DeployKind::ConfigRecycle
    };
    let mut request = DeployRequest::new(req.env.clone(), req.app.clone(), kind, &req.operator);
    request.pr_number = req.pr_number;
    request.reason = Some(req.reason.clone());
    let run = new_run_id(journal, now, &request)?;
    let state = DeployState {
        run_id: run.to_string(),
        request,
        production: settings.production,
        started_at: now,
        next: Some(StepName::RollbackPrepare),
        phase: Phase::RollingBack {
            reason: req.reason.clone(),
        },
        status: None,
        steps: Vec::new(),
        facts: Facts::default(),
    };
    begin(ports, settings, journal, events, run, state).await
}

/// Continues a run from its journal: completed steps are not run again; the step that was
/// running starts again, and each of its side effects is replayed from the journal when it
/// was recorded as done, or checked against the world when it was recorded as started.
pub async fn resume(
    ports: &DeployPorts,
    settings: &EnvSettings,
    journal: &dyn Journal,
    events: &dyn EventSink,
    run_id: &RunId,
) -> Result<DeployOutcome> {
    let records = journal.load(run_id)?;
    let state = replay(&records)?;
    let ctx = StepContext::new(ports, settings, events, journal, run_id.clone(), records);
    if state.next.is_some()
        && let Some(later) = superseding_run(journal, &state)?
    {
        return Err(superseded(&ctx, &state, &later).await);
    }
    // Resuming is idempotent: a run that ended is reported again, and nothing runs.
    match (state.next, &state.status) {
        (None, Some(status)) => ctx.info(format!(
            "run {run_id} has already ended ({}): nothing to resume; its outcome follows",
            status.summary()
        )),
        (next, _) => ctx.info(format!(
            "resuming run {run_id} at {}",
            next.map(|s| s.as_str()).unwrap_or("its end")
        )),
    }
    hold_again(&ctx, &state).await?;
    let result = drive(&ctx, state).await;
    keep_report(journal, events, run_id, ports.clock.now());
    result
}

/// The refusal of a resume of `state`'s run, which `later` (a run of the same app and
/// environment that ended after it, having changed what serves) superseded: nothing is done,
/// and the way on is to leave the run, releasing its deploy lock if it still holds it.
async fn superseded(ctx: &StepContext<'_>, state: &DeployState, later: &RunSummary) -> Error {
    let run = ctx.run_id();
    let (env, app) = (&state.request.env, &state.request.app.name);
    let what = if later.rollback {
        "standalone rollback"
    } else {
        later.kind.words()
    };
    let ended = match &later.reason {
        Some(reason) => format!("{}: {reason}", later.standing.as_str()),
        None => later.standing.as_str().to_string(),
    };
    // The lock is asked about only to say whether it needs releasing: a failed read says so.
    let holder = ctx.ports.lock.holder(env, app).await;
    let lock = match holder {
        Ok(Some(h)) if h.owner == lock::owner(state) => format!(
            "it still holds the deploy lock of {app} in {env}: release it with `deploykit lock \
             release {env} {app} {run}`"
        ),
        Ok(_) => "it holds no deploy lock".to_string(),
        Err(e) => format!(
            "if it still holds the deploy lock of {app} in {env} (it could not be read: {e}), \
             release it with `deploykit lock release {env} {app} {run}`"
        ),
    };
    Error::conflict(format!(
        "run {run} cannot go on: run {later_run} ({what} of {app} in {env}) started after it \
         and has ended ({ended}), so what serves, or what {branch} holds, changed after {run} \
         stopped; going on from there would act on what it last saw (release or revert code \
         that {later_run} has since changed). Nothing was done. {run} is superseded: leave it \
         ({lock}), and start a new run if more is needed (`deploykit runs` lists both)",
        later_run = later.run_id,
        branch = state.request.app.production_branch
    ))
    .with("run", run)
    .with("superseded_by", &later.run_id)
}

/// The state a journal describes: the initial state with every finished step folded in.
pub fn replay(records: &[Record]) -> Result<DeployState> {
    let mut state = records
        .iter()
        .find_map(|r| match r {
            Record::RunStarted { state, .. } => Some((**state).clone()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::invalid_input(
                "the journal has no run_started record: it is not a deploy run's journal",
            )
        })?;
    for r in records {
        if let Record::StepFinished { report, .. } = r {
            state = step(&state, report).0;
        }
    }
    Ok(state)
}

/// Refuses a request the settings cannot take, before anything is journalled: everything
/// [`check_inputs`] refuses, and a code deploy without its PR.
pub(crate) fn check_request(req: &DeployRequest, settings: &EnvSettings) -> Result<()> {
    check_inputs(req, settings)?;
    if req.kind.ships_code() && req.pr_number.is_none() {
        return Err(Error::invalid_input(format!(
            "{} deploy merges a {}: give its number",
            req.kind.with_article(),
            req.kind.merged_pr()
        )));
    }
    Ok(())
}

/// Refuses what is wrong with a request whatever its PR: the wrong environment's settings,
/// code shipped outside production, an override without a reason, an off-cycle or patch
/// deploy without a reason. A front end asks it before it prepares anything (finds or cuts
/// the promotion PR), so bad input changes nothing.
pub fn check_inputs(req: &DeployRequest, settings: &EnvSettings) -> Result<()> {
    if settings.name != req.env {
        return Err(Error::invalid_input(format!(
            "the settings are for {} but the deploy is to {}: pass the settings of {}",
            settings.name, req.env, req.env
        )));
    }
    if req.kind.ships_code() && !settings.production {
        let role = req
            .app
            .main_role()
            .map_or_else(|| "ALL".to_string(), |r| r.to_string());
        return Err(Error::invalid_input(format!(
            "{} deploy merges the {} into {} and ships it to production, but {} is not a \
             production environment (only production is deployed by PR; staging deploys main \
             on its daily schedule): to pick up new code there, recycle it (`deploykit deploy \
             {} {} --kind config-recycle`, or `deploykit recycle {} {role}`)",
            req.kind.with_article(),
            req.kind.merged_pr(),
            req.app.production_branch,
            req.env,
            req.env,
            req.app.name,
            req.env
        )));
    }
    for (given, flag, python) in [
        (
            &req.cadence_override,
            "--override-cadence",
            "cadence_override=",
        ),
        (
            &req.no_migration_override,
            "--override-no-migration",
            "no_migration_override=",
        ),
    ] {
        if given.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Error::invalid_input(format!(
                "an override needs a reason, and {flag} (Python: {python}) was given none: say \
                 why the refusal does not apply (it is recorded and announced), or leave the \
                 override out"
            )));
        }
    }
    if req.lacks_reason() {
        return Err(Error::invalid_input(format!(
            "{} deploy needs a reason: give it with --reason (Python: reason=); it is \
             recorded and should be shared with on-callers",
            req.kind.with_article()
        )));
    }
    Ok(())
}

fn new_run_id(journal: &dyn Journal, now: DateTime<Utc>, req: &DeployRequest) -> Result<RunId> {
    let base = RunId::new(now, &req.app.name, &req.env);
    let existing = journal.runs()?;
    if !existing.contains(&base) {
        return Ok(base);
    }
    for n in 2..1000 {
        let id = RunId::parse(&format!("{base}-{n}"))?;
        if !existing.contains(&id) {
            return Ok(id);
        }
    }
    Err(Error::conflict(format!(
        "too many runs named {base} in the journal"
    )))
}

async fn begin(
    ports: &DeployPorts,
    settings: &EnvSettings,
    journal: &dyn Journal,
    events: &dyn EventSink,
    run: RunId,
    state: DeployState,
) -> Result<DeployOutcome> {
    let ctx = StepContext::new(ports, settings, events, journal, run.clone(), Vec::new());
    ctx.record(Record::RunStarted {
        at: state.started_at,
        state: Box::new(state.clone()),
    })?;
    ctx.info(format!("run {run} started (journal records every step)"));
    let result = drive(&ctx, state).await;
    keep_report(journal, events, &run, ports.clock.now());
    result
}

/// Writes the run's report next to its journal, however the run ended (finished, paused or
/// halted); a report that cannot be written is a warning, never a failed deploy.
fn keep_report(journal: &dyn Journal, events: &dyn EventSink, run: &RunId, now: DateTime<Utc>) {
    let event = match crate::report::write_report(journal, run) {
        Ok((_, path)) => Event::Info {
            at: now,
            message: format!("report: {path}"),
        },
        Err(e) if e.kind() == crate::ErrorKind::Unsupported => return,
        Err(e) => Event::Warning {
            at: now,
            message: format!(
                "the run's report could not be written ({e}); `deploykit report {run}` \
                 rebuilds it from the journal"
            ),
        },
    };
    events.emit(event);
}

/// When the step about to run first started, if this is a resumed attempt of it (its
/// deadlines keep counting from then).
fn resumed_start(ctx: &StepContext<'_>, step: StepName) -> Option<DateTime<Utc>> {
    let records = ctx.records();
    let last_finished = records
        .iter()
        .rposition(|r| matches!(r, Record::StepFinished { .. }));
    let from = last_finished.map(|i| i + 1).unwrap_or(0);
    records[from..].iter().find_map(|r| match r {
        Record::StepStarted { at, step: s } if *s == step => Some(*at),
        _ => None,
    })
}

/// `error`, which stopped the run at `step`, with the run, the step and how to resume.
fn resumable(ctx: &StepContext<'_>, step: StepName, error: Error) -> Error {
    ctx.run_id().resumable(error, Some(step))
}

async fn drive(ctx: &StepContext<'_>, mut state: DeployState) -> Result<DeployOutcome> {
    let mut actions = start(&state);
    let mut last_error: Option<Error> = None;
    loop {
        let Some(action) = actions.first().cloned() else {
            return Ok(DeployOutcome::from_state(&state));
        };
        match action {
            Action::Finish { status } => {
                if matches!(status, FinalStatus::Paused { .. }) {
                    crate::deploy::steps::lock::keep_while_paused(ctx, &state).await;
                }
                return Ok(DeployOutcome::from_state(&state));
            }
            Action::Halt { step, reason } => {
                let error = last_error.unwrap_or_else(|| Error::backend(reason.clone()));
                return Err(resumable(ctx, step, error));
            }
            Action::Run { step: name } => {
                let started_at = match resumed_start(ctx, name) {
                    Some(at) => at,
                    None => {
                        let at = ctx.now();
                        ctx.record(Record::StepStarted { at, step: name })?;
                        at
                    }
                };
                ctx.events.emit(Event::StepStarted {
                    at: ctx.now(),
                    step: name.to_string(),
                });
                let body = match run_step(ctx, &state, name, started_at).await {
                    Ok(b) => b,
                    Err(e) if ctx.journal_failed() => return Err(e),
                    // Stopped by the operator (Ctrl-C reaching a port): the step did not
                    // fail, it did not finish. Its start stays journaled without an end, as
                    // when the process is killed, so `resume` runs it again.
                    Err(e) if e.kind() == ErrorKind::Interrupted => {
                        return Err(resumable(ctx, name, e));
                    }
                    Err(e) => {
                        let body = StepBody {
                            outcome: StepOutcome::Failed {
                                kind: e.kind().to_string(),
                                message: e.to_string(),
                            },
                            detail: e.to_string(),
                            facts: Vec::new(),
                        };
                        last_error = Some(e);
                        body
                    }
                };
                let report = StepReport {
                    step: name,
                    started_at,
                    finished_at: ctx.now(),
                    outcome: body.outcome,
                    detail: body.detail,
                    facts: body.facts,
                };
                ctx.record(Record::StepFinished {
                    at: report.finished_at,
                    report: Box::new(report.clone()),
                })?;
                ctx.events.emit(Event::StepFinished {
                    at: report.finished_at,
                    step: name.to_string(),
                    outcome: report.outcome.word().into(),
                    detail: report.detail.clone(),
                });
                let (next, acts) = step(&state, &report);
                state = next;
                actions = acts;
            }
        }
    }
}
