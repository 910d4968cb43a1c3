//! [`DeployReport::from_records`]: a run's report from its journal records alone.

use std::collections::BTreeMap;

use crate::deploy::journal::Record;
use crate::deploy::monitor_verdict::{ShaFigures, WindowFigures};
use crate::deploy::replay;
use crate::deploy::state::StepOutcome;
use crate::error::Result;
use crate::report::model::{DeployReport, GateMarker, ReportStep, ReportWindow, SeriesPoint};

/// The watches whose windows are charted, in the journal's key prefixes.
const WATCHES: [&str; 2] = ["monitor_gate", "follow_up"];

impl DeployReport {
    /// The report of the run `records` describe (every record of one run, in order, as
    /// [`crate::deploy::Journal::load`] returns them). Works for finished, paused, halted and
    /// killed runs alike; fails only when the records are not a deploy run's.
    pub fn from_records(records: &[Record]) -> Result<DeployReport> {
        let state = replay(records)?;
        let f = &state.facts;
        let req = &state.request;
        let ended_at = records
            .iter()
            .map(Record::at)
            .max()
            .unwrap_or(state.started_at);
        let steps: Vec<ReportStep> = state
            .steps
            .iter()
            .map(|s| ReportStep {
                step: s.step.to_string(),
                started_at: s.started_at,
                finished_at: s.finished_at,
                duration_secs: (s.finished_at - s.started_at).num_seconds().max(0),
                outcome: s.outcome.word().into(),
                detail: s.detail.clone(),
            })
            .collect();
        let unfinished = if state.status.is_some() {
            None
        } else {
            Some(unfinished_reason(records, &state.run_id))
        };
        let standalone_rollback = state.is_standalone_rollback();
        let mut approvals = Vec::new();
        let mut decisions = Vec::new();
        let mut warnings = Vec::new();
        for r in records {
            if let Record::Note { kind, text, .. } = r {
                let list = match kind.as_str() {
                    "approval" => &mut approvals,
                    "decision" => &mut decisions,
                    "warning" => &mut warnings,
                    _ => continue,
                };
                // A resumed step may record the same note again.
                if !list.contains(text) {
                    list.push(text.clone());
                }
            }
        }
        let markers = f
            .verdicts
            .iter()
            .map(|v| GateMarker {
                at: v.at,
                gate: v.gate.clone(),
                verdict: v.verdict.clone(),
            })
            .collect();
        Ok(DeployReport {
            run_id: state.run_id.clone(),
            app: req.app.name.clone(),
            env: req.env.clone(),
            kind: req.kind,
            standalone_rollback,
            operator: req.operator.clone(),
            reason: req.reason.clone(),
            started_at: state.started_at,
            ended_at,
            status: state.status.clone(),
            unfinished,
            rc: f.rc().map(|r| r.to_string()),
            pr: f
                .pr
                .as_ref()
                .map(|p| (p.number, p.title.clone(), p.url.clone())),
            old_sha: f.old_sha.clone(),
            new_sha: f.new_sha.clone().or_else(|| f.merge_sha.clone()),
            steps,
            verdicts: f.verdicts.clone(),
            announcements: f
                .announcements
                .iter()
                .map(|a| (a.kind().to_string(), a.to_string()))
                .collect(),
            approvals,
            decisions,
            overrides: f.overrides.clone(),
            warnings,
            notes: f.notes.clone(),
            release_url: f.release_url.clone(),
            revert_pr: f.revert_pr.clone(),
            windows: windows(records),
            markers,
        })
    }
}

/// The way on of an unfinished run that can be resumed.
fn resume_way(run_id: &str) -> String {
    format!("continue with `deploykit resume {run_id}`")
}

/// The way on of an unfinished sandboxed run, whose simulated world is gone.
const SANDBOXED_WAY: &str = "a sandboxed run cannot be resumed (its simulated world is gone with its command): run it \
     again";

impl DeployReport {
    /// The report of a sandboxed run (`--sandbox`, the demo): an unfinished one names running
    /// it again as the way on, not a `resume` that refuses it.
    pub fn sandboxed(mut self) -> Self {
        let resume = resume_way(&self.run_id);
        if let Some(why) = &mut self.unfinished {
            *why = why.replace(&resume, SANDBOXED_WAY);
        }
        self
    }
}

/// Why a run without a final status has not ended.
fn unfinished_reason(records: &[Record], run_id: &str) -> String {
    let resume = resume_way(run_id);
    let last_step = records.iter().rev().find_map(|r| match r {
        Record::StepFinished { report, .. } => Some(("finished", report.step, Some(report))),
        Record::StepStarted { step, .. } => Some(("started", *step, None)),
        _ => None,
    });
    match last_step {
        Some((_, step, Some(report))) => match &report.outcome {
            StepOutcome::Failed { message, .. } => {
                format!("halted in {step} on an error ({message}); {resume}")
            }
            _ => format!("stopped after {step}; {resume}"),
        },
        Some((_, step, None)) => format!("interrupted during {step}; {resume}"),
        None => format!("interrupted before its first step; {resume}"),
    }
}

fn point(f: &Option<ShaFigures>) -> Option<SeriesPoint> {
    f.as_ref().map(|f| SeriesPoint {
        sha: f.sha.clone(),
        requests: f.requests,
        errors_5xx: f.errors_5xx,
        error_rate: f.error_rate,
        flows: f.flows.clone(),
    })
}

/// The monitor windows recorded under `{watch}/window/{i}`, each once, in time order.
fn windows(records: &[Record]) -> Vec<ReportWindow> {
    let mut found: BTreeMap<(usize, u32), ReportWindow> = BTreeMap::new();
    for r in records {
        let Record::EffectDone { key, result, .. } = r else {
            continue;
        };
        let Some((w, i)) = WATCHES.iter().enumerate().find_map(|(w, watch)| {
            key.strip_prefix(watch)
                .and_then(|rest| rest.strip_prefix("/window/"))
                .and_then(|i| i.parse::<u32>().ok())
                .map(|i| (w, i))
        }) else {
            continue;
        };
        // A window this version cannot read is left out of the chart, not fatal: the report
        // of an old run is still worth having.
        let Ok(figures) = serde_json::from_value::<WindowFigures>(result.clone()) else {
            continue;
        };
        found.insert(
            (w, i),
            ReportWindow {
                watch: WATCHES[w].to_string(),
                number: i + 1,
                start: figures.window.start,
                end: figures.window.end,
                old: point(&figures.old),
                new: point(&figures.new),
                by_instance: figures.by_instance,
                old_is_baseline: figures.old_is_baseline,
                judgement: figures.judgement,
                explanation: figures.explanation,
            },
        );
    }
    let mut list: Vec<ReportWindow> = found.into_values().collect();
    list.sort_by_key(|w| w.start);
    list
}
