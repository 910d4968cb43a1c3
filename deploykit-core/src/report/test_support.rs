//! A journal of a rolled-back run, written by hand, for the report's unit tests.

use chrono::{DateTime, Duration, Utc};

use crate::deploy::journal::Record;
use crate::deploy::monitor_verdict::{ShaFigures, Verdict, WindowFigures, WindowJudgement};
use crate::deploy::request::DeployRequest;
use crate::deploy::state::{
    DeployState, Fact, Facts, GateVerdict, OverrideRecord, Phase, PrFacts, StepName, StepOutcome,
    StepReport,
};
use crate::model::app::AppSettings;
use crate::model::deploy_kind::DeployKind;
use crate::model::names::EnvName;
use crate::model::sha::Sha;
use crate::ports::monitor::MetricsWindow;
use crate::ports::notifier::Announcement;

pub(crate) fn t(min: i64) -> DateTime<Utc> {
    let start: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().expect("time");
    start + Duration::minutes(min)
}

pub(crate) fn sha(c: char) -> Sha {
    Sha::new(c.to_string().repeat(40)).expect("sha")
}

/// `c`'s figures, with one critical flow attempted by a tenth of the requests, failing as
/// often as the requests do.
fn figures(c: char, requests: u64, errors: u64) -> ShaFigures {
    ShaFigures {
        sha: sha(c),
        requests,
        errors_5xx: errors,
        error_rate: errors as f64 / requests as f64,
        instances: 2,
        flows: vec![(
            "Sign in: success".into(),
            requests / 10,
            (requests - errors) / 10,
        )],
    }
}

fn finished(step: StepName, from: i64, to: i64, outcome: StepOutcome, facts: Vec<Fact>) -> Record {
    Record::StepFinished {
        at: t(to),
        report: Box::new(StepReport {
            step,
            started_at: t(from),
            finished_at: t(to),
            outcome,
            detail: format!("{step} detail | with a pipe"),
            facts,
        }),
    }
}

fn verdict(at: i64, gate: &str, verdict: &str, explanation: &str) -> Fact {
    Fact::Verdict(GateVerdict {
        at: t(at),
        gate: gate.into(),
        verdict: verdict.into(),
        explanation: explanation.into(),
    })
}

/// A full deploy of idp to prod by alice, cadence overridden, rolled back by the monitor gate
/// in its second window (new SHA bbbbbbb at 5 % 5xx against aaaaaaa's 0.1 %).
pub(crate) fn rolled_back_run() -> Vec<Record> {
    let env = EnvName::new("prod").expect("env");
    let mut req = DeployRequest::new(env.clone(), AppSettings::idp(), DeployKind::Full, "alice");
    req.pr_number = Some(11502);
    let state = DeployState {
        run_id: "20261124T150000Z-idp-prod".into(),
        request: req,
        production: true,
        started_at: t(0),
        next: Some(StepName::Preflight),
        phase: Phase::Rollout,
        status: None,
        steps: vec![],
        facts: Facts::default(),
    };
    let app = AppSettings::idp().name;
    let rc = "112".parse().ok();
    let window = |i: i64, new_errors: u64, judgement| Record::EffectDone {
        at: t(30 + 5 * (i + 1)),
        key: format!("monitor_gate/window/{i}"),
        result: serde_json::to_value(WindowFigures {
            window: MetricsWindow {
                start: t(30 + 5 * i),
                end: t(30 + 5 * (i + 1)),
            },
            old: Some(figures('a', 10_000, 10)),
            new: Some(figures('b', 2_000, new_errors)),
            old_is_baseline: false,
            by_instance: false,
            judgement,
            explanation: format!("window {i} explanation"),
        })
        .expect("json"),
    };
    vec![
        Record::RunStarted {
            at: t(0),
            state: Box::new(state),
        },
        Record::StepStarted {
            at: t(0),
            step: StepName::Preflight,
        },
        Record::Note {
            at: t(0),
            kind: "approval".into(),
            text: "promotion PR #11502 approved by carol".into(),
        },
        finished(
            StepName::Preflight,
            0,
            1,
            StepOutcome::Done,
            vec![
                Fact::Override(OverrideRecord {
                    at: t(0),
                    what: "cadence".into(),
                    refusal: "Friday: no full deploys".into(),
                    reason: "security fix for the login page".into(),
                }),
                Fact::Pr(PrFacts {
                    number: 11502,
                    title: "Deploy RC 112 to Production".into(),
                    url: "https://github.com/18F/identity-idp/pull/11502".into(),
                    head_sha: None,
                    rc,
                    reverts: None,
                    body: String::new(),
                }),
                Fact::OldSha { sha: sha('a') },
            ],
        ),
        finished(
            StepName::AnnounceRecycle,
            1,
            2,
            StepOutcome::Done,
            vec![Fact::Announced(Announcement::RecycleStart {
                app: app.clone(),
                env: env.clone(),
                rc,
                reverted: None,
                reasons: Vec::new(),
            })],
        ),
        finished(
            StepName::MigrationGate,
            2,
            20,
            StepOutcome::Done,
            vec![
                Fact::NewSha { sha: sha('b') },
                verdict(
                    20,
                    "migration",
                    "go",
                    "final marker seen, no migration error",
                ),
            ],
        ),
        finished(
            StepName::HealthGate,
            20,
            30,
            StepOutcome::Done,
            vec![verdict(30, "health", "go", "4 of 4 new instances healthy")],
        ),
        window(0, 2, WindowJudgement::Good),
        window(1, 100, WindowJudgement::Bad),
        finished(
            StepName::MonitorGate,
            30,
            40,
            StepOutcome::Verdict {
                verdict: Verdict::Rollback,
                explanation: "window 2: 100 5xx of 2000 requests (5.000%)".into(),
            },
            vec![verdict(
                40,
                "monitor",
                "rollback",
                "window 2: new SHA bbbbbbb: 100 5xx of 2000 requests (5.000%) is above the 1.000% ceiling",
            )],
        ),
        Record::Note {
            at: t(41),
            kind: "decision".into(),
            text: "operator decided Rollback".into(),
        },
        finished(
            StepName::RollbackScaleInNew,
            40,
            45,
            StepOutcome::Done,
            vec![Fact::Announced(Announcement::RollbackStarted {
                app,
                env,
                rc,
                deploy_kind: None,
                reason: "the monitor gate".into(),
                still_serving: Vec::new(),
                revert_pr_url: None,
            })],
        ),
        finished(
            StepName::Report,
            45,
            46,
            StepOutcome::Done,
            vec![Fact::RevertPr {
                number: 11503,
                url: "https://github.com/18F/identity-idp/pull/11503".into(),
            }],
        ),
    ]
}
