//! The pure transition function: `step(state, report) -> (state, actions)`. No I/O: the driver
//! runs the actions and feeds back what happened, and a journal of reports replays exactly.

use crate::deploy::monitor_verdict::Verdict;
use crate::deploy::state::{
    DeployState, FinalStatus, Phase, StepName, StepOutcome, StepRecord, StepReport,
};
use crate::error::ErrorKind;
use crate::model::deploy_kind::DeployKind;

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Run this step.
    Run {
        /// The step.
        step: StepName,
    },
    /// The run ended (or paused) with this status.
    Finish {
        /// The status.
        status: FinalStatus,
    },
    /// Stop here and report the error; the journal points `resume` at the same step.
    Halt {
        /// The step that failed (run again by `resume`).
        step: StepName,
        /// Why.
        reason: String,
    },
}

/// The rollout steps of a kind of deploy, in order.
pub fn rollout_steps(kind: DeployKind, production: bool) -> Vec<StepName> {
    use StepName::*;
    let mut steps = vec![Preflight];
    if kind.ships_code() {
        steps.push(MergePr);
    }
    steps.extend([AnnounceRecycle, Recycle]);
    if kind.runs_migrations() {
        steps.push(MigrationGate);
    }
    steps.extend([HealthGate, MonitorGate, SpindownWait]);
    if production {
        steps.push(ScaleInOld);
    }
    steps.push(FollowUp);
    if kind.ships_code() {
        steps.push(SmokeTests);
    }
    if kind.creates_release() {
        steps.push(CreateRelease);
    }
    steps.extend([ReleaseLock, Report]);
    steps
}

/// The rollback steps, in order (after the optional `rollback_prepare`).
pub fn rollback_steps() -> Vec<StepName> {
    use StepName::*;
    vec![
        RollbackScaleInNew,
        OpenRevert,
        AnnounceRollback,
        ReleaseLock,
        Report,
    ]
}

fn after(list: &[StepName], step: StepName) -> Option<StepName> {
    let i = list.iter().position(|s| *s == step)?;
    list.get(i + 1).copied()
}

/// Whether the fleet may have changed by the time `step` ran (so a failure must roll back).
fn fleet_touched(state: &DeployState, step: StepName) -> bool {
    state.facts.recycled_at.is_some()
        || matches!(
            step,
            StepName::MigrationGate | StepName::HealthGate | StepName::MonitorGate
        )
}

/// The initial action of a fresh state.
pub fn start(state: &DeployState) -> Vec<Action> {
    match (&state.next, &state.status) {
        (Some(step), _) => vec![Action::Run { step: *step }],
        (None, Some(status)) => vec![Action::Finish {
            status: status.clone(),
        }],
        (None, None) => vec![Action::Finish {
            status: FinalStatus::Stopped {
                reason: "the run has no step to run".into(),
                refused_as: None,
            },
        }],
    }
}

/// Folds one step report into the state and says what to do next.
pub fn step(state: &DeployState, report: &StepReport) -> (DeployState, Vec<Action>) {
    let mut s = state.clone();
    for fact in &report.facts {
        s.facts.apply(fact.clone());
    }
    s.steps.push(StepRecord {
        step: report.step,
        started_at: report.started_at,
        finished_at: report.finished_at,
        outcome: report.outcome.clone(),
        detail: report.detail.clone(),
    });
    s.status = None;
    let rollback_to = |s: &mut DeployState, reason: String| {
        s.phase = Phase::RollingBack { reason };
        s.next = Some(StepName::RollbackScaleInNew);
    };
    let stop_with = |s: &mut DeployState, reason: String, refused_as: Option<ErrorKind>| {
        s.phase = Phase::Stopping { reason, refused_as };
        s.next = Some(if s.facts.lock_owner.is_some() {
            StepName::ReleaseLock
        } else {
            StepName::Report
        });
    };
    let in_rollout = s.phase == Phase::Rollout;
    match &report.outcome {
        StepOutcome::Done | StepOutcome::Skipped => {
            s.next = next_in_phase(&s, report.step);
        }
        StepOutcome::Verdict {
            verdict: Verdict::Go | Verdict::Inconclusive,
            ..
        } => s.next = next_in_phase(&s, report.step),
        StepOutcome::Verdict {
            verdict: Verdict::Rollback,
            explanation,
        } if in_rollout => rollback_to(&mut s, format!("{}: {explanation}", report.step)),
        StepOutcome::GateFailed { reason } if in_rollout => {
            rollback_to(&mut s, format!("{}: {reason}", report.step))
        }
        StepOutcome::Refused { reason, kind }
            if in_rollout || report.step == StepName::RollbackPrepare =>
        {
            stop_with(&mut s, reason.clone(), *kind)
        }
        StepOutcome::AwaitDecision { question } => {
            s.next = Some(report.step);
            s.status = Some(FinalStatus::Paused {
                reason: question.clone(),
            });
            return (
                s.clone(),
                vec![Action::Finish {
                    status: FinalStatus::Paused {
                        reason: question.clone(),
                    },
                }],
            );
        }
        StepOutcome::Failed { kind, message } => {
            let reason = format!("{} failed ({kind}): {message}", report.step);
            let before_fleet = in_rollout
                && matches!(
                    report.step,
                    StepName::Preflight | StepName::MergePr | StepName::AnnounceRecycle
                );
            let gate = in_rollout
                && matches!(
                    report.step,
                    StepName::MigrationGate | StepName::HealthGate | StepName::MonitorGate
                )
                && fleet_touched(&s, report.step);
            if before_fleet {
                stop_with(&mut s, reason, None);
            } else if gate {
                // A gate that cannot observe cannot vouch for the new code: rolling back is the
                // safe outcome ("It's safer to roll back ... than leave it up in a possibly bad
                // one").
                rollback_to(&mut s, reason);
            } else {
                s.next = Some(report.step);
                return (
                    s,
                    vec![Action::Halt {
                        step: report.step,
                        reason,
                    }],
                );
            }
        }
        // Refusals, gate failures and rollback verdicts outside the rollout (e.g. during a
        // rollback) do not start another rollback: carry on with the current phase.
        StepOutcome::Verdict { .. }
        | StepOutcome::GateFailed { .. }
        | StepOutcome::Refused { .. } => {
            s.next = next_in_phase(&s, report.step);
        }
    }
    match s.next {
        Some(step) => (s, vec![Action::Run { step }]),
        None => {
            let status = match &s.phase {
                Phase::Rollout => FinalStatus::Deployed,
                Phase::RollingBack { reason } => FinalStatus::RolledBack {
                    reason: reason.clone(),
                },
                Phase::Stopping { reason, refused_as } => FinalStatus::Stopped {
                    reason: reason.clone(),
                    refused_as: *refused_as,
                },
            };
            s.status = Some(status.clone());
            (s, vec![Action::Finish { status }])
        }
    }
}

fn next_in_phase(s: &DeployState, step: StepName) -> Option<StepName> {
    match &s.phase {
        Phase::Rollout => after(&rollout_steps(s.request.kind, s.production), step),
        Phase::RollingBack { .. } => {
            if step == StepName::RollbackPrepare {
                return Some(StepName::RollbackScaleInNew);
            }
            after(&rollback_steps(), step)
        }
        Phase::Stopping { .. } => match step {
            StepName::ReleaseLock => Some(StepName::Report),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::request::DeployRequest;
    use crate::deploy::state::{Fact, Facts};
    use crate::model::app::AppSettings;
    use crate::model::names::EnvName;
    use chrono::{DateTime, Utc};

    fn at() -> DateTime<Utc> {
        "2026-11-24T15:00:00Z".parse().expect("time")
    }

    fn state(kind: DeployKind, production: bool) -> DeployState {
        DeployState {
            run_id: "r".into(),
            request: DeployRequest::new(
                EnvName::new("prod").expect("env"),
                AppSettings::idp(),
                kind,
                "me",
            ),
            production,
            started_at: at(),
            next: Some(StepName::Preflight),
            phase: Phase::Rollout,
            status: None,
            steps: vec![],
            facts: Facts::default(),
        }
    }

    fn report(step: StepName, outcome: StepOutcome, facts: Vec<Fact>) -> StepReport {
        StepReport {
            step,
            started_at: at(),
            finished_at: at(),
            outcome,
            detail: String::new(),
            facts,
        }
    }

    fn run_all_done(mut s: DeployState) -> (DeployState, Vec<StepName>) {
        let mut ran = vec![];
        while let Some(next) = s.next {
            ran.push(next);
            let (n, _) = step(&s, &report(next, StepOutcome::Done, vec![]));
            s = n;
        }
        (s, ran)
    }

    #[test]
    fn a_full_production_deploy_runs_every_step_in_the_guides_order() {
        let (s, ran) = run_all_done(state(DeployKind::Full, true));
        let names: Vec<&str> = ran.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "preflight",
                "merge_pr",
                "announce_recycle",
                "recycle",
                "migration_gate",
                "health_gate",
                "monitor_gate",
                "spindown_wait",
                "scale_in_old",
                "follow_up",
                "smoke_tests",
                "create_release",
                "release_lock",
                "report"
            ]
        );
        assert_eq!(s.status, Some(FinalStatus::Deployed));
    }

    #[test]
    fn recycles_skip_the_pr_and_release_and_non_prod_skips_scale_in() {
        let (_, ran) = run_all_done(state(DeployKind::NoMigrationRecycle, false));
        for absent in [
            StepName::MergePr,
            StepName::CreateRelease,
            StepName::MigrationGate,
            StepName::ScaleInOld,
        ] {
            assert!(!ran.contains(&absent), "{absent} ran");
        }
        let (_, ran) = run_all_done(state(DeployKind::ConfigRecycle, true));
        assert!(ran.contains(&StepName::MigrationGate) && ran.contains(&StepName::ScaleInOld));
        assert!(!ran.contains(&StepName::MergePr));
    }

    #[test]
    fn a_failed_gate_rolls_back_and_ends_rolled_back() {
        let s = state(DeployKind::Full, true);
        let (s, _) = step(
            &s,
            &report(
                StepName::Preflight,
                StepOutcome::Done,
                vec![Fact::LockTaken { owner: "me".into() }],
            ),
        );
        let (s, actions) = step(
            &s,
            &report(
                StepName::MigrationGate,
                StepOutcome::GateFailed {
                    reason: "rake aborted!".into(),
                },
                vec![],
            ),
        );
        assert_eq!(
            actions,
            vec![Action::Run {
                step: StepName::RollbackScaleInNew
            }]
        );
        let (s, ran) = run_all_done(s);
        assert_eq!(
            ran,
            vec![
                StepName::RollbackScaleInNew,
                StepName::OpenRevert,
                StepName::AnnounceRollback,
                StepName::ReleaseLock,
                StepName::Report
            ]
        );
        match s.status {
            Some(FinalStatus::RolledBack { reason }) => {
                assert!(reason.contains("migration_gate: rake aborted!"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refusal_before_the_lock_stops_without_releasing_it() {
        let s = state(DeployKind::Full, true);
        let (s, actions) = step(
            &s,
            &report(
                StepName::Preflight,
                StepOutcome::Refused {
                    reason: "Friday".into(),
                    kind: Some(ErrorKind::PolicyRefused),
                },
                vec![],
            ),
        );
        assert_eq!(
            actions,
            vec![Action::Run {
                step: StepName::Report
            }]
        );
        let (s, _) = run_all_done(s);
        assert_eq!(
            s.status,
            Some(FinalStatus::Stopped {
                reason: "Friday".into(),
                refused_as: Some(ErrorKind::PolicyRefused),
            })
        );
    }

    #[test]
    fn errors_after_go_halt_on_the_same_step_and_errors_in_gates_roll_back() {
        let mut s = state(DeployKind::Full, true);
        s.facts.recycled_at = Some(at());
        let (n, actions) = step(
            &s,
            &report(
                StepName::ScaleInOld,
                StepOutcome::Failed {
                    kind: "unsafe".into(),
                    message: "kept instance unhealthy".into(),
                },
                vec![],
            ),
        );
        assert!(matches!(
            actions[0],
            Action::Halt {
                step: StepName::ScaleInOld,
                ..
            }
        ));
        assert_eq!(n.next, Some(StepName::ScaleInOld));
        let (n, _) = step(
            &s,
            &report(
                StepName::MonitorGate,
                StepOutcome::Failed {
                    kind: "backend".into(),
                    message: "logs insights down".into(),
                },
                vec![],
            ),
        );
        assert_eq!(n.next, Some(StepName::RollbackScaleInNew));
    }

    #[test]
    fn awaiting_a_decision_pauses_on_the_same_step() {
        let s = state(DeployKind::Full, true);
        let (n, actions) = step(
            &s,
            &report(
                StepName::MonitorGate,
                StepOutcome::AwaitDecision {
                    question: "go or roll back?".into(),
                },
                vec![],
            ),
        );
        assert_eq!(n.next, Some(StepName::MonitorGate));
        assert!(matches!(
            &actions[0],
            Action::Finish {
                status: FinalStatus::Paused { .. }
            }
        ));
    }
}
