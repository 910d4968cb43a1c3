//! How well the monitor gate's rules decide: a [`population`] of simulated deploys, each
//! watched window by window through the [`Monitor`] port and judged by the gate's own
//! [`judge_window`] and [`verdict`], counted into false rollbacks, missed bad deploys,
//! inconclusive verdicts and the windows detection took; then, for every deploy the gate did
//! not roll back, the follow-up check an hour later as the deploy runs it (the new SHA alone
//! against the old SHA's figures from the gate, added up).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::deploy::monitor_verdict::{
    MonitorVerdict, ShaFigures, Verdict, WindowFigures, figures_of, judge_instances, judge_window,
    old_total, verdict,
};
use crate::deploy::settings::{EnvSettings, MonitorThresholds};
use crate::error::Result;
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::{InstanceSplitSample, Monitor};
use crate::sim::population::{
    BadDeployMix, DeployFault, FlowDropSize, PopulationMonitor, TrafficAssumptions, population,
    window_at,
};

/// Watches windows of `monitor` from `start` the way the monitor gate does (sample a window,
/// judge it, ask for a verdict) until the rules decide. `baseline` stands in for the old SHA's
/// figures when it no longer serves (the follow-up check: the gate's old figures added up),
/// or for a config recycle's old instances where the monitor cannot tell them apart. With
/// `by_instance` (a config recycle) each window is first asked of the monitor split by
/// instance, and judged old instances against new ones where it can be.
pub async fn watch_deploy(
    t: &MonitorThresholds,
    monitor: &dyn Monitor,
    (old_sha, new_sha): (&Sha, &Sha),
    start: DateTime<Utc>,
    baseline: Option<&ShaFigures>,
    by_instance: bool,
) -> Result<MonitorVerdict> {
    let env = EnvName::new("prod")?;
    let role = RoleName::new("idp")?;
    let mut windows: Vec<WindowFigures> = Vec::new();
    for i in 0..t.max_windows.max(1) {
        let window = window_at(start, t.window_secs, i);
        let split = if by_instance {
            monitor
                .sample_by_instance(&env, &role, &window, &[])
                .await?
                .and_then(InstanceSplitSample::with_old_side)
        } else {
            None
        };
        windows.push(match split {
            Some(split) => judge_instances(t, &split),
            None => {
                let sample = monitor.sample(&env, &role, &window).await?;
                judge_window(t, old_sha, new_sha, &sample, baseline)
            }
        });
        if let Some(v) = verdict(t, &windows) {
            return Ok(v);
        }
    }
    Ok(MonitorVerdict {
        verdict: Verdict::Inconclusive,
        explanation: "no window was watched".into(),
        windows,
    })
}

/// Verdicts of a group of deploys.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Tally {
    /// Deploys in the group.
    pub deploys: usize,
    /// Verdict Go.
    pub go: usize,
    /// Verdict Rollback.
    pub rollback: usize,
    /// Verdict Inconclusive.
    pub inconclusive: usize,
    /// Rollbacks by the number of windows watched when decided (index 0: after one window).
    pub rollback_after: Vec<usize>,
}

impl Tally {
    fn add(&mut self, v: &MonitorVerdict) {
        self.deploys += 1;
        match v.verdict {
            Verdict::Go => self.go += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
            Verdict::Rollback => {
                self.rollback += 1;
                let at = v.windows.len().max(1);
                if self.rollback_after.len() < at {
                    self.rollback_after.resize(at, 0);
                }
                self.rollback_after[at - 1] += 1;
            }
        }
    }

    /// Rollbacks decided after at most `windows` windows.
    pub fn rolled_back_within(&self, windows: usize) -> usize {
        self.rollback_after.iter().take(windows).sum()
    }

    /// Adds another tally's counts to this one (figures of several seeds together).
    pub fn absorb(&mut self, other: &Tally) {
        self.deploys += other.deploys;
        self.go += other.go;
        self.rollback += other.rollback;
        self.inconclusive += other.inconclusive;
        if self.rollback_after.len() < other.rollback_after.len() {
            self.rollback_after.resize(other.rollback_after.len(), 0);
        }
        for (mine, theirs) in self.rollback_after.iter_mut().zip(&other.rollback_after) {
            *mine += theirs;
        }
    }

    /// The table header [`Tally::table_row`] rows go under (Markdown).
    pub const TABLE_HEADER: &'static str = "| deploys | n | rollback | go | inconclusive | rollback \
                                            after (windows) |\n|---|---|---|---|---|---|";

    /// One Markdown table row: label, deploys, rollbacks, go, inconclusive, and rollbacks by
    /// the number of windows watched (`1w:536 2w:264`).
    pub fn table_row(&self, label: &str) -> String {
        let hist: Vec<String> = self
            .rollback_after
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{}w:{n}", i + 1))
            .collect();
        format!(
            "| {label} | {} | {} | {} | {} | {} |",
            self.deploys,
            self.rollback,
            self.go,
            self.inconclusive,
            if hist.is_empty() {
                "-".to_string()
            } else {
                hist.join(" ")
            }
        )
    }
}

/// The verdict quality of one population.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QualityReport {
    /// The population's seed.
    pub seed: u64,
    /// Healthy deploys.
    pub healthy: Tally,
    /// Bad deploys.
    pub bad: Tally,
    /// Bad deploys by kind of fault (5xx at once, 5xx ramping, each flow by drop size).
    pub bad_by_kind: Vec<(String, Tally)>,
    /// The explanations of the first few false rollbacks.
    pub false_rollback_examples: Vec<String>,
    /// The explanations of the first few missed bad deploys (Go or Inconclusive).
    pub missed_examples: Vec<String>,
    /// The explanations of the first few healthy deploys left inconclusive.
    pub healthy_inconclusive_examples: Vec<String>,
    /// The follow-up check of the healthy deploys the gate did not roll back: an hour after
    /// the gate, the new SHA alone against the old SHA's figures the gate saw, added up.
    pub healthy_follow_up: Tally,
    /// The follow-up check of the bad deploys the gate did not roll back.
    pub bad_follow_up: Tally,
    /// The explanations of the first few healthy deploys the follow-up check rolled back.
    pub follow_up_false_rollback_examples: Vec<String>,
}

impl QualityReport {
    /// Healthy deploys rolled back.
    pub fn false_rollbacks(&self) -> usize {
        self.healthy.rollback
    }

    /// Bad deploys given Go.
    pub fn missed(&self) -> usize {
        self.bad.go
    }

    /// Share of bad deploys rolled back within `windows` windows.
    pub fn caught_within(&self, windows: usize) -> f64 {
        if self.bad.deploys == 0 {
            return 1.0;
        }
        self.bad.rolled_back_within(windows) as f64 / self.bad.deploys as f64
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {}: {} false rollbacks of {} healthy, {} bad given go, {:.1}% of {} bad \
             rolled back within 2 windows",
            self.seed,
            self.false_rollbacks(),
            self.healthy.deploys,
            self.missed(),
            self.caught_within(2) * 100.0,
            self.bad.deploys
        )?;
        writeln!(f, "{}", Tally::TABLE_HEADER)?;
        writeln!(f, "{}", self.healthy.table_row("healthy"))?;
        writeln!(f, "{}", self.bad.table_row("bad"))?;
        for (label, t) in &self.bad_by_kind {
            writeln!(f, "{}", t.table_row(&format!("bad: {label}")))?;
        }
        for e in &self.false_rollback_examples {
            writeln!(f, "false rollback: {e}")?;
        }
        for e in &self.missed_examples {
            writeln!(f, "missed: {e}")?;
        }
        for e in &self.healthy_inconclusive_examples {
            writeln!(f, "healthy inconclusive: {e}")?;
        }
        writeln!(
            f,
            "follow-up check an hour later, of the deploys the gate did not roll back:"
        )?;
        writeln!(
            f,
            "{}",
            self.healthy_follow_up.table_row("healthy: follow-up")
        )?;
        writeln!(f, "{}", self.bad_follow_up.table_row("bad: follow-up"))?;
        for e in &self.follow_up_false_rollback_examples {
            writeln!(f, "follow-up false rollback: {e}")?;
        }
        Ok(())
    }
}

fn kind_label(fault: &DeployFault, traffic: &TrafficAssumptions, size: FlowDropSize) -> String {
    match fault {
        DeployFault::Healthy => "healthy".into(),
        DeployFault::ErrorRise {
            ramp_windows: 0, ..
        } => "5xx rise at once".into(),
        DeployFault::ErrorRise { ramp_windows, .. } => {
            format!("5xx rise over {ramp_windows} windows")
        }
        DeployFault::FlowDrop {
            flow,
            drop,
            failures_times,
        } => {
            let name = traffic.flows.get(*flow).map_or("flow", |f| f.name.as_str());
            match size {
                FlowDropSize::Points { .. } => {
                    let points = drop * 100.0;
                    let bucket = if points < 5.0 {
                        "3-5"
                    } else if points < 7.0 {
                        "5-7"
                    } else {
                        "7-10"
                    };
                    format!("{name} drop {bucket} points")
                }
                FlowDropSize::FailureFactor { .. } => {
                    let bucket = if *failures_times < 2.5 {
                        "2-2.5"
                    } else if *failures_times < 3.0 {
                        "2.5-3"
                    } else {
                        "3-4"
                    };
                    format!("{name} failures x{bucket}")
                }
            }
        }
    }
}

/// What the gate watches in a population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Watched {
    /// Full deploys: the old and the new SHA side by side, then the follow-up check.
    FullDeploys,
    /// Config recycles: one SHA on old and new instances (the new ones carry the fault, e.g. a
    /// bad setting), judged old instances against new ones in the same windows, as the gate
    /// does when the monitor tells instances apart; then the follow-up check (the new
    /// instances alone against the old instances' figures from the gate).
    ConfigRecycles,
    /// Config recycles where the monitor cannot tell instances apart: the SHA's figures,
    /// old and new instances together, compared with its own figures from the window before
    /// the recycle; then the follow-up check against that baseline.
    ConfigRecyclesAgainstBaseline,
}

/// Runs `healthy` healthy and `bad` bad deploys drawn from `seed` through the rules `t`,
/// watched as `watched` says (full deploys, or config recycles).
pub async fn evaluate(
    t: &MonitorThresholds,
    traffic: &TrafficAssumptions,
    mix: &BadDeployMix,
    seed: u64,
    healthy: usize,
    bad: usize,
    watched: Watched,
) -> Result<QualityReport> {
    let start: DateTime<Utc> = DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default();
    let mut report = QualityReport {
        seed,
        healthy: Tally::default(),
        bad: Tally::default(),
        bad_by_kind: Vec::new(),
        false_rollback_examples: Vec::new(),
        missed_examples: Vec::new(),
        healthy_inconclusive_examples: Vec::new(),
        healthy_follow_up: Tally::default(),
        bad_follow_up: Tally::default(),
        follow_up_false_rollback_examples: Vec::new(),
    };
    // The follow-up check's first window: the gate's last window ends, then the hour passes
    // (production's setting).
    let follow_up_after_secs = EnvSettings::for_env(&EnvName::new("prod")?).follow_up_after_secs;
    let follow_up_window = t.max_windows.max(1).saturating_add(
        u32::try_from(follow_up_after_secs / t.window_secs.max(1)).unwrap_or(u32::MAX),
    );
    let follow_up_start = window_at(start, t.window_secs, follow_up_window).start;
    for deploy in population(traffic, mix, seed, healthy, bad)? {
        let (old, new) = (deploy.old_sha.clone(), deploy.new_sha.clone());
        let fault = deploy.fault.clone();
        // What the gate watches: the old and new SHA side by side from the start; or, for a
        // config recycle, from the window after the one before the recycle, old instances
        // against new ones where the monitor tells them apart, else the SHA's own figures over
        // the window before the recycle as the baseline.
        let (monitor, shas, gate_start, baseline, by_instance) = match watched {
            Watched::FullDeploys => (
                PopulationMonitor::new(deploy, traffic.clone(), start),
                (&old, &new),
                start,
                None,
                false,
            ),
            Watched::ConfigRecycles | Watched::ConfigRecyclesAgainstBaseline => {
                let before = window_at(start, t.window_secs, 0);
                let baseline = figures_of(&deploy.sample_config_recycle(traffic, 0, before), &old);
                (
                    PopulationMonitor::new(deploy, traffic.clone(), start).config_recycle(),
                    (&old, &old),
                    window_at(start, t.window_secs, 1).start,
                    baseline,
                    watched == Watched::ConfigRecycles,
                )
            }
        };
        let v = watch_deploy(
            t,
            &monitor,
            shas,
            gate_start,
            baseline.as_ref(),
            by_instance,
        )
        .await?;
        // As the follow-up step does: the new code alone an hour on, against the old side of
        // the gate's windows added up (a baseline counted once), the old instances being gone.
        let follow_up = if v.verdict == Verdict::Rollback {
            None
        } else {
            let gate_old = old_total(&v.windows);
            Some(
                watch_deploy(
                    t,
                    &monitor.recycled(),
                    shas,
                    follow_up_start,
                    gate_old.as_ref(),
                    false,
                )
                .await?,
            )
        };
        if fault.is_bad() {
            report.bad.add(&v);
            let label = kind_label(&fault, traffic, mix.flow_drop);
            match report.bad_by_kind.iter_mut().find(|(l, _)| *l == label) {
                Some((_, tally)) => tally.add(&v),
                None => {
                    let mut tally = Tally::default();
                    tally.add(&v);
                    report.bad_by_kind.push((label, tally));
                }
            }
            if let Some(f) = &follow_up {
                report.bad_follow_up.add(f);
            }
            if v.verdict != Verdict::Rollback && report.missed_examples.len() < 5 {
                report.missed_examples.push(format!(
                    "{} ({:?}): {}",
                    v.verdict.as_str(),
                    fault,
                    v.explanation
                ));
            }
        } else {
            report.healthy.add(&v);
            if let Some(f) = &follow_up {
                report.healthy_follow_up.add(f);
                if f.verdict == Verdict::Rollback
                    && report.follow_up_false_rollback_examples.len() < 5
                {
                    report
                        .follow_up_false_rollback_examples
                        .push(f.explanation.clone());
                }
            }
            if v.verdict == Verdict::Rollback && report.false_rollback_examples.len() < 5 {
                report.false_rollback_examples.push(v.explanation.clone());
            }
            if v.verdict == Verdict::Inconclusive && report.healthy_inconclusive_examples.len() < 3
            {
                report
                    .healthy_inconclusive_examples
                    .push(v.explanation.clone());
            }
        }
    }
    report.bad_by_kind.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(report)
}
