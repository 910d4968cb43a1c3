//! The deploy report's data: everything the Markdown and the chart show, serialisable
//! (`deploykit report --json`).

use chrono::{DateTime, Utc};

use crate::deploy::monitor_verdict::{WindowJudgement, flow_rates_text, old_side_label};
use crate::deploy::state::{FinalStatus, GateVerdict, OverrideRecord};
use crate::model::deploy_kind::DeployKind;
use crate::model::names::{AppName, EnvName};
use crate::model::sha::Sha;

/// A whole run, as reported.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeployReport {
    /// The run id.
    pub run_id: String,
    /// The app.
    pub app: AppName,
    /// The environment.
    pub env: EnvName,
    /// Full, patch, off-cycle, config or no-migration recycle.
    pub kind: DeployKind,
    /// Whether the run was a standalone rollback (`deploykit rollback`).
    pub standalone_rollback: bool,
    /// Who ran it.
    pub operator: String,
    /// The reason given (off-cycle deploys, rollbacks).
    pub reason: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When its last record was written.
    pub ended_at: DateTime<Utc>,
    /// How it ended; `None` when it has not ended (halted on an error, or killed): resume it.
    pub status: Option<FinalStatus>,
    /// Why it has not ended, when it has not.
    pub unfinished: Option<String>,
    /// The RC shipped, if code shipped.
    pub rc: Option<String>,
    /// The promotion PR: number, title, web page.
    pub pr: Option<(u64, String, String)>,
    /// The SHA serving before.
    pub old_sha: Option<Sha>,
    /// The SHA deployed.
    pub new_sha: Option<Sha>,
    /// Every step with its times.
    pub steps: Vec<ReportStep>,
    /// Gate verdicts with their numbers and rules.
    pub verdicts: Vec<GateVerdict>,
    /// Announcements posted: kind and text.
    pub announcements: Vec<(String, String)>,
    /// Who approved the promotion PR (as preflight recorded it).
    pub approvals: Vec<String>,
    /// Decisions taken by people or by the `--yes` policy on an undecided gate.
    pub decisions: Vec<String>,
    /// Refusals overridden, with their reasons.
    pub overrides: Vec<OverrideRecord>,
    /// Warnings recorded during the run.
    pub warnings: Vec<String>,
    /// Things people should know.
    pub notes: Vec<String>,
    /// The release created.
    pub release_url: Option<String>,
    /// The revert PR opened: number, web page.
    pub revert_pr: Option<(u64, String)>,
    /// The monitor windows watched (the monitor gate's, then the follow-up's), in time order.
    pub windows: Vec<ReportWindow>,
    /// The gate decisions, for the chart.
    pub markers: Vec<GateMarker>,
}

/// One step as it ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportStep {
    /// The step's name (`monitor_gate`).
    pub step: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// How long it took, in seconds.
    pub duration_secs: i64,
    /// `ok`, `skipped`, `refused`, `failed`, `go`, `rollback`, `awaiting_decision`, `error`.
    pub outcome: String,
    /// One line for people.
    pub detail: String,
}

/// One SHA's figures in one window, as charted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeriesPoint {
    /// The SHA.
    pub sha: Sha,
    /// Requests in the window.
    pub requests: u64,
    /// 5xx responses in the window.
    pub errors_5xx: u64,
    /// 5xx responses as a fraction of requests.
    pub error_rate: f64,
    /// The critical flows: name, attempts, successes (none in reports of older versions).
    #[serde(default)]
    pub flows: Vec<(String, u64, u64)>,
}

/// One monitor window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportWindow {
    /// Which watch it belongs to: `monitor_gate` or `follow_up`.
    pub watch: String,
    /// Its number in that watch, from 1.
    pub number: u32,
    /// Start of the window.
    pub start: DateTime<Utc>,
    /// End of the window.
    pub end: DateTime<Utc>,
    /// The old SHA's figures (a config recycle's old instances, or the baseline it compares
    /// with).
    pub old: Option<SeriesPoint>,
    /// The new SHA's figures (a config recycle's new instances).
    pub new: Option<SeriesPoint>,
    /// Whether `old` and `new` are one SHA's old and new instances (a config recycle judged
    /// side by side).
    #[serde(default)]
    pub by_instance: bool,
    /// Whether `old` is a baseline from another time (the follow-up check's, the old code's
    /// figures the monitor gate added up; a config recycle's from before it), not figures of
    /// this window.
    #[serde(default)]
    pub old_is_baseline: bool,
    /// How the window was judged.
    pub judgement: WindowJudgement,
    /// The numbers and the rule that judged it.
    pub explanation: String,
}

impl ReportWindow {
    /// The old side's figures when they are of this window (not a baseline from another
    /// time, whose request rate and 5xx are not this window's): what the chart plots.
    pub fn old_in_window(&self) -> Option<&SeriesPoint> {
        self.old.as_ref().filter(|_| !self.old_is_baseline)
    }

    /// Each critical flow's success rate on the new side beside the old side's, at a glance
    /// (`Sign in: success 97.2% (old SHA 97.5%), ...`); `None` when the new side reported no
    /// flows.
    pub fn flow_rates(&self) -> Option<String> {
        let new = self.new.as_ref().filter(|n| !n.flows.is_empty())?;
        Some(flow_rates_text(
            &new.flows,
            self.old.as_ref().map(|o| o.flows.as_slice()),
            old_side_label(self.old_is_baseline, self.by_instance),
        ))
    }

    /// The middle of the window (where the chart puts its point).
    pub fn middle(&self) -> DateTime<Utc> {
        self.start + (self.end - self.start) / 2
    }

    /// Its length in minutes (at least a second's worth).
    pub fn minutes(&self) -> f64 {
        ((self.end - self.start).num_seconds().max(1)) as f64 / 60.0
    }
}

/// A gate decision drawn on the chart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GateMarker {
    /// When.
    pub at: DateTime<Utc>,
    /// `migration`, `health`, `monitor`, `follow_up`.
    pub gate: String,
    /// `go`, `rollback`, `inconclusive`, `failed`.
    pub verdict: String,
}

impl GateMarker {
    /// The label drawn on the chart: `monitor: rollback`.
    pub fn label(&self) -> String {
        format!("{}: {}", self.gate, self.verdict)
    }
}

impl DeployReport {
    /// One line for the outcome: `deployed`, `rolled back: ...`, `not finished: ...`.
    pub fn status_line(&self) -> String {
        match &self.status {
            Some(FinalStatus::Deployed) => "deployed".into(),
            Some(FinalStatus::RolledBack { reason }) => format!("rolled back: {reason}"),
            Some(FinalStatus::Stopped { reason, .. }) => format!("stopped: {reason}"),
            Some(FinalStatus::Paused { reason }) => format!("paused: {reason}"),
            None => format!(
                "not finished: {}",
                self.unfinished
                    .as_deref()
                    .unwrap_or("the run was interrupted")
            ),
        }
    }

    /// One word for the outcome (`deployed`, `rolled back`, `stopped`, `paused`,
    /// `not finished`).
    pub fn status_word(&self) -> &'static str {
        match &self.status {
            Some(FinalStatus::Deployed) => "deployed",
            Some(FinalStatus::RolledBack { .. }) => "rolled back",
            Some(FinalStatus::Stopped { .. }) => "stopped",
            Some(FinalStatus::Paused { .. }) => "paused",
            None => "not finished",
        }
    }

    /// How long the run took (or has taken so far), in seconds.
    pub fn duration_secs(&self) -> i64 {
        (self.ended_at - self.started_at).num_seconds().max(0)
    }
}

/// `1h02m`, `15m00s`, `42s`.
pub fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_of_an_older_report_without_flows_still_loads() {
        let p: SeriesPoint = serde_json::from_value(serde_json::json!({
            "sha": "a".repeat(40),
            "requests": 10_000,
            "errors_5xx": 10,
            "error_rate": 0.001,
        }))
        .expect("an older report's point");
        assert!(p.flows.is_empty());
    }
}
