//! monitor-deploy's table: per deployed SHA, 5XX %, 5XX count, requests, instances and the
//! success rates of critical flows, with the old and new SHA told apart by when each was
//! first seen. It informs a person; deciding is the monitor gate's job.

use crate::model::sha::Sha;
use crate::ports::{InstanceSplitSample, MetricsWindow, MonitorSample, ShaMetrics};

/// Which deploy a SHA belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShaLabel {
    /// The only SHA seen: nothing is being deployed (or the new one has no traffic yet).
    Current,
    /// The first seen of several: what was running before the deploy.
    Old,
    /// The last seen of several: what is being deployed.
    New,
    /// Neither first nor last (a third SHA in the window).
    Other,
    /// The instances a recycle is replacing, added up (`deploykit monitor --by-instance`).
    OldInstances,
    /// Every other instance of the role, added up: the ones the recycle launched.
    NewInstances,
}

impl ShaLabel {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ShaLabel::Current => "current",
            ShaLabel::Old => "old",
            ShaLabel::New => "new",
            ShaLabel::Other => "other",
            ShaLabel::OldInstances => "old instances",
            ShaLabel::NewInstances => "new instances",
        }
    }

    /// Whether the row adds up instances rather than a SHA's figures.
    pub fn is_instance_side(self) -> bool {
        matches!(self, ShaLabel::OldInstances | ShaLabel::NewInstances)
    }
}

/// One flow's success rate for one SHA.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowCell {
    /// Event name.
    pub name: String,
    /// Successes / attempts, `None` without attempts.
    pub success_rate: Option<f64>,
    /// Attempts.
    pub attempts: u64,
    /// Successes.
    pub successes: u64,
}

/// One SHA's row.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonitorRow {
    /// Old, new, ...
    pub label: ShaLabel,
    /// The SHA.
    pub sha: Sha,
    /// 5XX responses as a percentage of requests (`None` without requests).
    pub error_pct: Option<f64>,
    /// 5XX responses.
    pub errors_5xx: u64,
    /// Requests.
    pub requests: u64,
    /// Instances serving.
    pub instances: u32,
    /// Flow success rates, one per flow name seen in the sample (same order in every row).
    pub flows: Vec<FlowCell>,
}

/// The table of one sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonitorTable {
    /// The window the figures cover.
    pub window: MetricsWindow,
    /// Rows, old first, new last. Empty means no data, never "no errors".
    pub rows: Vec<MonitorRow>,
    /// What the rows are, when it needs saying (which instances are old, or why the figures
    /// are per SHA although instances were asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl MonitorTable {
    /// The row of the old SHA, if several were seen.
    pub fn old(&self) -> Option<&MonitorRow> {
        self.rows.iter().find(|r| r.label == ShaLabel::Old)
    }
    /// The row of the new SHA, if several were seen.
    pub fn new_sha(&self) -> Option<&MonitorRow> {
        self.rows.iter().find(|r| r.label == ShaLabel::New)
    }
}

/// Builds the table: SHAs ordered by first seen (unknown first-seen counts as oldest: it was
/// there before the window), the first labelled old and the last new.
pub fn monitor_table(sample: &MonitorSample) -> MonitorTable {
    let mut per_sha: Vec<_> = sample.per_sha.iter().collect();
    // Stable sort keeps the sample's order among equals; None sorts first.
    per_sha.sort_by_key(|m| m.first_seen);
    let n = per_sha.len();
    let labelled = per_sha.into_iter().enumerate().map(|(i, m)| {
        let label = match (n, i) {
            (1, _) => ShaLabel::Current,
            (_, 0) => ShaLabel::Old,
            (n, i) if i + 1 == n => ShaLabel::New,
            _ => ShaLabel::Other,
        };
        (label, m)
    });
    MonitorTable {
        window: sample.window,
        rows: rows_of(labelled.collect()),
        note: None,
    }
}

/// Builds the table of a window split by instance: the old instances' row, then the new
/// ones' (a side that served nothing has no row).
pub fn instance_table(split: &InstanceSplitSample) -> MonitorTable {
    let labelled = [
        (ShaLabel::OldInstances, split.old_instances.as_ref()),
        (ShaLabel::NewInstances, split.new_instances.as_ref()),
    ]
    .into_iter()
    .filter_map(|(label, m)| m.map(|m| (label, m)))
    .collect();
    MonitorTable {
        window: split.window,
        rows: rows_of(labelled),
        note: None,
    }
}

/// One row per labelled figures, each with a cell for every flow name seen in any of them.
fn rows_of(labelled: Vec<(ShaLabel, &ShaMetrics)>) -> Vec<MonitorRow> {
    let mut flow_names: Vec<String> = Vec::new();
    for (_, m) in &labelled {
        for f in &m.flows {
            if !flow_names.contains(&f.name) {
                flow_names.push(f.name.clone());
            }
        }
    }
    labelled
        .into_iter()
        .map(|(label, m)| MonitorRow {
            label,
            sha: m.sha.clone(),
            error_pct: m.error_rate().map(|r| r * 100.0),
            errors_5xx: m.errors_5xx,
            requests: m.requests,
            instances: m.instances,
            flows: flow_names
                .iter()
                .map(|name| {
                    let f = m.flows.iter().find(|f| &f.name == name);
                    let (attempts, successes) = f.map_or((0, 0), |f| (f.attempts, f.successes));
                    FlowCell {
                        name: name.clone(),
                        success_rate: (attempts > 0).then(|| successes as f64 / attempts as f64),
                        attempts,
                        successes,
                    }
                })
                .collect(),
        })
        .collect()
}

/// Renders the table as plain text, one line for the window, then a header and a row per SHA.
pub fn render_monitor_table(table: &MonitorTable) -> String {
    let mut out = format!(
        "{} .. {}\n",
        table.window.start.format("%Y-%m-%d %H:%M:%S"),
        table.window.end.format("%H:%M:%S UTC")
    );
    if let Some(note) = &table.note {
        out.push_str(note);
        out.push('\n');
    }
    if table.rows.is_empty() {
        out.push_str("no data in this window\n");
        return out;
    }
    let mut header: Vec<String> = ["", "SHA", "5XX %", "5XX", "REQUESTS", "INSTANCES"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(first) = table.rows.first() {
        header.extend(first.flows.iter().map(|f| f.name.clone()));
    }
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.label.as_str().to_string(),
                r.sha.short().to_string(),
                r.error_pct
                    .map_or_else(|| "-".to_string(), |p| format!("{p:.3}%")),
                r.errors_5xx.to_string(),
                r.requests.to_string(),
                r.instances.to_string(),
            ];
            cells.extend(r.flows.iter().map(|f| match f.success_rate {
                Some(rate) => format!("{:.1}% ({}/{})", rate * 100.0, f.successes, f.attempts),
                None => "-".to_string(),
            }));
            cells
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push_str(&crate::fleet_ops::table::render(&header_refs, &rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet_ops::test_support::*;
    use crate::ports::{FlowRate, ShaMetrics};

    fn metrics(c: char, first_seen: Option<i64>, requests: u64, errors: u64) -> ShaMetrics {
        ShaMetrics {
            sha: Sha::new(c.to_string().repeat(40)).expect("sha"),
            first_seen: first_seen.map(at),
            requests,
            errors_5xx: errors,
            instances: 4,
            flows: vec![FlowRate {
                name: "idv_success".into(),
                attempts: 40,
                successes: 39,
            }],
        }
    }

    fn sample(per_sha: Vec<ShaMetrics>) -> MonitorSample {
        MonitorSample {
            window: MetricsWindow {
                start: at(0),
                end: at(15),
            },
            per_sha,
        }
    }

    #[test]
    fn old_and_new_are_told_apart_by_first_seen_not_order() {
        let table = monitor_table(&sample(vec![
            metrics('b', Some(600), 2000, 1),
            metrics('a', Some(-86_400), 5000, 50),
        ]));
        assert_eq!(table.old().map(|r| r.sha.to_string()), Some("a".repeat(40)));
        let new = table.new_sha().expect("new row");
        assert_eq!(new.sha.to_string(), "b".repeat(40));
        assert_eq!(new.error_pct, Some(0.05));
        assert_eq!(table.old().and_then(|r| r.error_pct), Some(1.0));
    }

    #[test]
    fn one_sha_is_current_and_no_data_says_so() {
        let table = monitor_table(&sample(vec![metrics('a', None, 0, 0)]));
        assert_eq!(table.rows[0].label, ShaLabel::Current);
        assert_eq!(table.rows[0].error_pct, None);
        let empty = render_monitor_table(&monitor_table(&sample(vec![])));
        assert!(empty.contains("no data"), "{empty}");
    }

    #[test]
    fn the_table_shows_every_column() {
        let text = render_monitor_table(&monitor_table(&sample(vec![
            metrics('a', Some(-100), 5000, 50),
            metrics('b', Some(600), 2000, 1),
        ])));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[1].contains("5XX %") && lines[1].contains("idv_success"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("old") && lines[2].contains("1.000%"),
            "{text}"
        );
        assert!(
            lines[3].starts_with("new") && lines[3].contains("0.050%"),
            "{text}"
        );
        assert!(lines[3].contains("97.5% (39/40)"), "{text}");
    }
}
