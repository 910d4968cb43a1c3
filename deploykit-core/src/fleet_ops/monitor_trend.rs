//! The small live trend of the 5xx rate shown under the monitor table and in the monitor
//! gate's progress lines: one sparkline per SHA (old and new), oldest window first, on a
//! shared scale.

use crate::deploy::monitor_verdict::WindowFigures;
use crate::fleet_ops::monitor_table::{MonitorRow, MonitorTable, ShaLabel};
use crate::model::sha::Sha;
use crate::report::sparkline::sparklines;

/// How many refreshes [`MonitorTrend`] keeps.
pub const TREND_LENGTH: usize = 30;

/// ` · 5xx trend: old abc1234 ▁▁▂ new def5678 ▁▃█` for the monitor gate's windows so far
/// (empty before the first window); `baseline abc1234` when the old figures are a baseline from
/// another time (the follow-up check, a config recycle).
pub fn window_trend(windows: &[WindowFigures]) -> String {
    let olds: Vec<Option<f64>> = windows
        .iter()
        .map(|w| {
            w.old
                .as_ref()
                .filter(|o| o.requests > 0)
                .map(|o| o.error_rate)
        })
        .collect();
    let news: Vec<Option<f64>> = windows
        .iter()
        .map(|w| {
            w.new
                .as_ref()
                .filter(|n| n.requests > 0)
                .map(|n| n.error_rate)
        })
        .collect();
    let old_sha = windows
        .iter()
        .find_map(|w| w.old.as_ref().map(|o| o.sha.clone()));
    let new_sha = windows
        .iter()
        .find_map(|w| w.new.as_ref().map(|n| n.sha.clone()));
    let by_instance = windows.iter().any(|w| w.by_instance);
    let old_label = if windows.iter().any(|w| w.old_is_baseline) {
        "baseline"
    } else if by_instance {
        "old instances"
    } else {
        "old"
    };
    let new_label = if by_instance { "new instances" } else { "new" };
    trend_line(&[
        (old_sha.as_ref(), old_label, &olds),
        (new_sha.as_ref(), new_label, &news),
    ])
    .map(|t| format!(" · {t}"))
    .unwrap_or_default()
}

/// One series of a trend line: its SHA (if known), its label and its rates.
type Series<'a> = (Option<&'a Sha>, &'a str, &'a Vec<Option<f64>>);

/// `5xx trend: old abc1234 ▁▁▂ new def5678 ▁▃█`, leaving out series without any figure.
fn trend_line(series: &[Series<'_>]) -> Option<String> {
    let kept: Vec<_> = series
        .iter()
        .filter(|(_, _, v)| v.iter().any(Option::is_some))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let values: Vec<&[Option<f64>]> = kept.iter().map(|(_, _, v)| v.as_slice()).collect();
    let lines = sparklines(&values);
    let parts: Vec<String> = kept
        .iter()
        .zip(lines)
        .map(|((sha, label, _), line)| match sha {
            Some(sha) => format!("{label} {} {line}", sha.short()),
            None => format!("{label} {line}"),
        })
        .collect();
    Some(format!("5xx trend: {}", parts.join("  ")))
}

/// The 5xx rate of each SHA (or each side of a split by instance) over successive refreshes
/// of `deploykit monitor`.
#[derive(Debug, Clone, Default)]
pub struct MonitorTrend {
    refreshes: Vec<Vec<(ShaLabel, Sha, Option<f64>)>>,
}

/// Whether a row of one refresh continues the series of `row`: a side of a split by instance
/// is followed by its side (both sides may run one SHA), a SHA by its SHA (its label turns
/// from current to old when a new SHA appears).
fn same_series(label: ShaLabel, sha: &Sha, row: &MonitorRow) -> bool {
    if row.label.is_instance_side() {
        label == row.label
    } else {
        !label.is_instance_side() && sha.matches(&row.sha)
    }
}

impl MonitorTrend {
    /// An empty trend.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one refresh's table (keeping the last [`TREND_LENGTH`]).
    pub fn push(&mut self, table: &MonitorTable) {
        self.refreshes.push(
            table
                .rows
                .iter()
                .map(|r| (r.label, r.sha.clone(), r.error_pct.map(|p| p / 100.0)))
                .collect(),
        );
        if self.refreshes.len() > TREND_LENGTH {
            self.refreshes.remove(0);
        }
    }

    /// The trend line of the old and new SHA of `table` (or its only SHA, or its old and new
    /// instances), oldest refresh first, a gap where one had no requests; `None` when nothing
    /// has figures yet.
    pub fn render(&self, table: &MonitorTable) -> Option<String> {
        let series_of = |row: &MonitorRow| -> Vec<Option<f64>> {
            self.refreshes
                .iter()
                .map(|rows| {
                    rows.iter()
                        .find(|(label, sha, _)| same_series(*label, sha, row))
                        .and_then(|(_, _, rate)| *rate)
                })
                .collect()
        };
        let picked: Vec<&MonitorRow> = table
            .rows
            .iter()
            .filter(|r| r.label != ShaLabel::Other)
            .collect();
        let values: Vec<Vec<Option<f64>>> = picked.iter().map(|r| series_of(r)).collect();
        let series: Vec<Series<'_>> = picked
            .iter()
            .zip(&values)
            .map(|(r, v)| (Some(&r.sha), r.label.as_str(), v))
            .collect();
        trend_line(&series)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet_ops::monitor_table::monitor_table;
    use crate::fleet_ops::test_support::*;
    use crate::ports::{MetricsWindow, MonitorSample, ShaMetrics};

    fn m(c: char, first_seen: i64, requests: u64, errors: u64) -> ShaMetrics {
        ShaMetrics {
            sha: Sha::new(c.to_string().repeat(40)).expect("sha"),
            first_seen: Some(at(first_seen)),
            requests,
            errors_5xx: errors,
            instances: 2,
            flows: vec![],
        }
    }

    fn table(per_sha: Vec<ShaMetrics>) -> MonitorTable {
        monitor_table(&MonitorSample {
            window: MetricsWindow {
                start: at(0),
                end: at(15),
            },
            per_sha,
        })
    }

    #[test]
    fn the_trend_shows_the_new_sha_spiking_against_a_flat_old_one() {
        let mut trend = MonitorTrend::new();
        let mut last = table(vec![]);
        for errors in [1, 50, 100] {
            last = table(vec![m('a', -100, 10_000, 10), m('b', 60, 2_000, errors)]);
            trend.push(&last);
        }
        let line = trend.render(&last).expect("trend");
        assert_eq!(
            line, "5xx trend: old aaaaaaa ▂▂▂  new bbbbbbb ▂▅█",
            "{line}"
        );
    }

    #[test]
    fn figures_from_another_time_are_called_a_baseline() {
        let t = crate::deploy::MonitorThresholds::default();
        let (old, new) = (m('a', -100, 20_000, 20), m('b', -100, 10_000, 12));
        let baseline = crate::deploy::monitor_verdict::figures_of(
            &MonitorSample {
                window: MetricsWindow {
                    start: at(0),
                    end: at(15),
                },
                per_sha: vec![old.clone()],
            },
            &old.sha,
        );
        let sample = |per_sha| MonitorSample {
            window: MetricsWindow {
                start: at(60),
                end: at(75),
            },
            per_sha,
        };
        let judge = |per_sha, baseline| {
            crate::deploy::monitor_verdict::judge_window(
                &t,
                &old.sha,
                &new.sha,
                &sample(per_sha),
                baseline,
            )
        };
        let follow_up = judge(vec![new.clone()], baseline.as_ref());
        let line = window_trend(&[follow_up]);
        assert!(
            line.starts_with(" · 5xx trend: baseline aaaaaaa "),
            "{line}"
        );
        let side_by_side = judge(vec![old.clone(), new.clone()], None);
        let line = window_trend(&[side_by_side]);
        assert!(line.starts_with(" · 5xx trend: old aaaaaaa "), "{line}");
    }

    #[test]
    fn a_sha_new_to_the_window_has_gaps_before_it_served() {
        let mut trend = MonitorTrend::new();
        trend.push(&table(vec![m('a', -100, 10_000, 10)]));
        let both = table(vec![m('a', -100, 10_000, 10), m('b', 60, 2_000, 40)]);
        trend.push(&both);
        let line = trend.render(&both).expect("trend");
        assert!(line.ends_with("new bbbbbbb  █"), "{line}");
        assert!(MonitorTrend::new().render(&table(vec![])).is_none());
    }
}
