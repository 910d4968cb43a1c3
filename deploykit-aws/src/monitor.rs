//! [`LogsInsightsMonitor`]: per-SHA request figures from CloudWatch Logs Insights over the
//! app's request log, and critical flow success rates over its events log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use chrono::{DateTime, NaiveDateTime, Utc};
use deploykit_core::error::{Error, ErrorKind, Result};
use deploykit_core::model::names::{EnvName, RoleName};
use deploykit_core::model::sha::Sha;
use deploykit_core::ports::clock::Clock;
use deploykit_core::ports::monitor::{FlowRate, MetricsWindow, Monitor, MonitorSample, ShaMetrics};

use crate::clients::AwsClients;
use crate::errors::map_sdk_error;

/// Per-SHA figures of the request log. Result fields: `git_sha`, `requests`, `errors_5xx`,
/// `instances`, `first_seen`.
pub const DEFAULT_REQUESTS_QUERY: &str = "fields @timestamp, @logStream, git_sha, status \
| filter ispresent(git_sha) \
| stats count(*) as requests, sum(status >= 500) as errors_5xx, \
count_distinct(@logStream) as instances, min(@timestamp) as first_seen by git_sha \
| sort first_seen asc";

/// Per-SHA, per-event attempts and successes of the events log. Result fields: `git_sha`,
/// `name`, `attempts`, `successes`. `{flows}` is replaced by the quoted flow names.
pub const DEFAULT_FLOWS_QUERY: &str = "fields name, properties.git_sha as git_sha, \
properties.event_properties.success as success \
| filter name in [{flows}] and ispresent(git_sha) \
| stats count(*) as attempts, sum(success) as successes by git_sha, name";

/// The critical identity-verification events watched by default.
pub const DEFAULT_FLOWS: [&str; 2] = [
    "IdV: doc auth verify proofing results",
    "IdV: phone confirmation vendor",
];

/// How often GetQueryResults is asked, and how many times at most.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLLS: u32 = 60;

/// The `Monitor` port on CloudWatch Logs Insights.
#[derive(Debug, Clone)]
pub struct LogsInsightsMonitor {
    clients: AwsClients,
    clock: Arc<dyn Clock>,
    requests_log_pattern: String,
    events_log_pattern: String,
    requests_query: String,
    flows_query: String,
    flows: Vec<String>,
}

impl LogsInsightsMonitor {
    /// Request log `<env>_/srv/<role>/shared/log/production.log`, events log
    /// `<env>_/srv/<role>/shared/log/events.log`, the default queries and flows; polls on
    /// `clock`.
    pub fn new(clients: AwsClients, clock: Arc<dyn Clock>) -> Self {
        LogsInsightsMonitor {
            clients,
            clock,
            requests_log_pattern: "{env}_/srv/{role}/shared/log/production.log".to_string(),
            events_log_pattern: "{env}_/srv/{role}/shared/log/events.log".to_string(),
            requests_query: DEFAULT_REQUESTS_QUERY.to_string(),
            flows_query: DEFAULT_FLOWS_QUERY.to_string(),
            flows: DEFAULT_FLOWS.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Log group patterns with `{env}` and `{role}` placeholders.
    pub fn with_log_groups(mut self, requests: &str, events: &str) -> Self {
        self.requests_log_pattern = requests.to_string();
        self.events_log_pattern = events.to_string();
        self
    }

    /// Other queries, returning the fields documented on [`DEFAULT_REQUESTS_QUERY`] and
    /// [`DEFAULT_FLOWS_QUERY`].
    pub fn with_queries(mut self, requests: &str, flows: &str) -> Self {
        self.requests_query = requests.to_string();
        self.flows_query = flows.to_string();
        self
    }

    /// Other critical flows (event names); none skips the events query.
    pub fn with_flows(mut self, flows: Vec<String>) -> Self {
        self.flows = flows;
        self
    }

    fn log_group(pattern: &str, env: &EnvName, role: &RoleName) -> String {
        pattern
            .replace("{env}", env.as_str())
            .replace("{role}", role.as_str())
    }

    /// Runs one Insights query over `log_group` in `window`; its rows.
    async fn query(
        &self,
        log_group: &str,
        query: &str,
        window: &MetricsWindow,
    ) -> Result<Vec<Vec<ResultField>>> {
        let subject = format!("log group {log_group}");
        let start = window.start.timestamp();
        // Insights' end is inclusive, in seconds; the window's end is exclusive.
        let end = (window.end.timestamp() - 1).max(start);
        let started = self
            .clients
            .logs
            .start_query()
            .log_group_names(log_group)
            .start_time(start)
            .end_time(end)
            .query_string(query)
            .send()
            .await
            .map_err(|e| map_sdk_error("StartQuery", &subject, e))?;
        let query_id = started
            .query_id()
            .ok_or_else(|| Error::backend(format!("StartQuery on {subject} returned no query id")))?
            .to_string();
        for _ in 0..MAX_POLLS {
            let out = self
                .clients
                .logs
                .get_query_results()
                .query_id(&query_id)
                .send()
                .await
                .map_err(|e| map_sdk_error("GetQueryResults", &subject, e))?;
            match out.status() {
                Some(QueryStatus::Complete) => return Ok(out.results().to_vec()),
                Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {
                    self.clock.sleep(POLL_INTERVAL).await;
                }
                Some(other) => {
                    return Err(Error::backend(format!(
                        "Logs Insights query on {subject} ended {}; check the query and try \
                         again",
                        other.as_str()
                    ))
                    .with("query_id", &query_id));
                }
            }
        }
        Err(Error::timeout(format!(
            "Logs Insights query {query_id} on {subject} did not complete after {MAX_POLLS} \
             polls; try a shorter window"
        )))
    }
}

fn field<'a>(row: &'a [ResultField], name: &str) -> Option<&'a str> {
    row.iter()
        .find(|f| f.field() == Some(name))
        .and_then(|f| f.value())
}

fn number(row: &[ResultField], name: &str) -> u64 {
    field(row, name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map_or(0, |v| v.round() as u64)
}

/// Insights timestamps: `2026-11-27 13:00:00.000` (UTC), or epoch milliseconds.
fn timestamp(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
        .or_else(|| {
            value
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_millis)
        })
}

/// Builds per-SHA figures from request rows and flow rows, in order of first sight. Rows
/// without a valid SHA are ignored; flows of a SHA without requests are dropped.
pub fn sample_from_rows(
    window: MetricsWindow,
    request_rows: &[Vec<ResultField>],
    flow_rows: &[Vec<ResultField>],
) -> MonitorSample {
    let mut per_sha: Vec<ShaMetrics> = request_rows
        .iter()
        .filter_map(|row| {
            let sha = Sha::new(field(row, "git_sha")?.trim()).ok()?;
            Some(ShaMetrics {
                sha,
                first_seen: field(row, "first_seen").and_then(timestamp),
                requests: number(row, "requests"),
                errors_5xx: number(row, "errors_5xx"),
                instances: u32::try_from(number(row, "instances")).unwrap_or(u32::MAX),
                flows: Vec::new(),
            })
        })
        .collect();
    per_sha.sort_by_key(|m| (m.first_seen.is_none(), m.first_seen));
    let index: HashMap<String, usize> = per_sha
        .iter()
        .enumerate()
        .map(|(i, m)| (m.sha.as_str().to_string(), i))
        .collect();
    for row in flow_rows {
        let (Some(sha), Some(name)) = (field(row, "git_sha"), field(row, "name")) else {
            continue;
        };
        let Some(&i) = index.get(sha.trim()) else {
            continue;
        };
        per_sha[i].flows.push(FlowRate {
            name: name.to_string(),
            attempts: number(row, "attempts"),
            successes: number(row, "successes"),
        });
    }
    for m in &mut per_sha {
        m.flows
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.attempts.cmp(&b.attempts)));
    }
    MonitorSample { window, per_sha }
}

#[async_trait]
impl Monitor for LogsInsightsMonitor {
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        if window.end <= window.start {
            return Err(Error::invalid_input(format!(
                "monitor window {} .. {} is empty: the end must be after the start",
                window.start, window.end
            )));
        }
        let requests_group = Self::log_group(&self.requests_log_pattern, env, role);
        let request_rows = self
            .query(&requests_group, &self.requests_query, window)
            .await?;
        if request_rows.is_empty() {
            return Ok(MonitorSample {
                window: *window,
                per_sha: Vec::new(),
            });
        }
        let flow_rows = if self.flows.is_empty() {
            Vec::new()
        } else {
            let names = self
                .flows
                .iter()
                .map(|f| format!("\"{}\"", f.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(", ");
            let query = self.flows_query.replace("{flows}", &names);
            let events_group = Self::log_group(&self.events_log_pattern, env, role);
            match self.query(&events_group, &query, window).await {
                Ok(rows) => rows,
                // No events log for this role: request figures only.
                Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        Ok(sample_from_rows(*window, &request_rows, &flow_rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Vec<ResultField> {
        pairs
            .iter()
            .map(|(k, v)| ResultField::builder().field(*k).value(*v).build())
            .collect()
    }

    #[test]
    fn rows_become_per_sha_figures_in_order_of_first_sight() {
        let old = "a".repeat(40);
        let new = "b".repeat(40);
        let window = MetricsWindow {
            start: DateTime::from_timestamp(1_790_000_000, 0).expect("t"),
            end: DateTime::from_timestamp(1_790_000_900, 0).expect("t"),
        };
        let requests = vec![
            row(&[
                ("git_sha", new.as_str()),
                ("requests", "1200"),
                ("errors_5xx", "3"),
                ("instances", "4"),
                ("first_seen", "2026-11-27 13:05:00.000"),
            ]),
            row(&[
                ("git_sha", old.as_str()),
                ("requests", "5000"),
                ("errors_5xx", "1.0"),
                ("instances", "4"),
                ("first_seen", "2026-11-20 09:00:00.000"),
            ]),
            row(&[("git_sha", "not-a-sha!"), ("requests", "7")]),
        ];
        let flows = vec![
            row(&[
                ("git_sha", new.as_str()),
                ("name", "IdV: x"),
                ("attempts", "10"),
                ("successes", "9"),
            ]),
            row(&[
                ("git_sha", "c".repeat(40).as_str()),
                ("name", "IdV: x"),
                ("attempts", "1"),
            ]),
        ];
        let s = sample_from_rows(window, &requests, &flows);
        assert_eq!(s.per_sha.len(), 2);
        assert_eq!(s.per_sha[0].sha.as_str(), old);
        assert_eq!(s.per_sha[1].sha.as_str(), new);
        assert_eq!(s.per_sha[1].requests, 1200);
        assert_eq!(s.per_sha[1].errors_5xx, 3);
        assert_eq!(s.per_sha[0].errors_5xx, 1);
        assert_eq!(s.per_sha[1].instances, 4);
        assert_eq!(
            s.per_sha[1].flows,
            vec![FlowRate {
                name: "IdV: x".to_string(),
                attempts: 10,
                successes: 9
            }]
        );
        assert!(s.per_sha[0].flows.is_empty());
        assert!(sample_from_rows(window, &[], &[]).per_sha.is_empty());
    }
}
