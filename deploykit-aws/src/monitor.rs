//! [`LogsInsightsMonitor`]: per-SHA request figures from CloudWatch Logs Insights over the
//! app's request log, and critical flow success rates over its events log.
//!
//! A sample is two queries over one window: the requests query over the request log and,
//! when it found requests and flows are watched, the flows query over the events log (a
//! missing events log means no flow figures; a missing request log is a `NotFound` error
//! naming it). [`sample_from_rows`] turns their rows into per-SHA figures.
//!
//! ## Old instances against new ones
//!
//! A config recycle launches instances that run the same SHA as the ones they replace, so
//! [`Monitor::sample_by_instance`] asks the same two questions one row per log stream and
//! SHA ([`DEFAULT_SPLIT_REQUESTS_QUERY`], [`DEFAULT_SPLIT_FLOWS_QUERY`]) and
//! [`split_from_rows`] adds the rows up on two sides by [`split_by_name`]'s rule on the
//! stream names: a stream is old when its name contains one of the old instance ids, new
//! when it contains another EC2 instance id. The CloudWatch agent's usual stream name is the
//! instance id (`{instance_id}`; [`DEFAULT_REQUESTS_QUERY`] already counts streams as
//! instances), so this tells them apart. A stream that served requests
//! without an instance id in its name makes the split impossible: the monitor logs it and
//! answers "cannot tell instances apart" (`Ok(None)`), and the gate falls back to its
//! baseline comparison. Each side is its rows added up with
//! [`ShaMetrics::added_up`]: `instances` counts streams (a stream that served two SHAs in the
//! window counts twice), flows are matched to their stream and SHA. Rows without a SHA are
//! left out, as in a sample.
//!
//! Custom queries ([`LogsInsightsMonitor::with_queries`]) are not split unless split queries
//! are given too ([`LogsInsightsMonitor::with_split_queries`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use chrono::{DateTime, NaiveDateTime, Utc};
use deploykit_core::error::{Error, ErrorKind, Result};
use deploykit_core::model::fleet::InstanceId;
use deploykit_core::model::names::{EnvName, RoleName};
use deploykit_core::model::sha::Sha;
use deploykit_core::ports::clock::Clock;
use deploykit_core::ports::monitor::{FlowRate, MetricsWindow, Monitor, MonitorSample, ShaMetrics};
use deploykit_core::ports::{InstanceSplitSample, NameWithoutInstanceId, split_by_name};

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

/// Per-log-stream, per-SHA figures of the request log, for
/// [`Monitor::sample_by_instance`]. Result fields: `@logStream` (named after the instance
/// by the CloudWatch agent's usual `{instance_id}`) and those of [`DEFAULT_REQUESTS_QUERY`].
pub const DEFAULT_SPLIT_REQUESTS_QUERY: &str = "fields @timestamp, @logStream, git_sha, status \
| filter ispresent(git_sha) \
| stats count(*) as requests, sum(status >= 500) as errors_5xx, \
count_distinct(@logStream) as instances, min(@timestamp) as first_seen by @logStream, git_sha \
| sort first_seen asc";

/// Per-log-stream, per-SHA, per-event attempts and successes of the events log, for
/// [`Monitor::sample_by_instance`]. Result fields: `@logStream` and those of
/// [`DEFAULT_FLOWS_QUERY`]; `{flows}` is replaced by the quoted flow names.
pub const DEFAULT_SPLIT_FLOWS_QUERY: &str = "fields @logStream, name, \
properties.git_sha as git_sha, properties.event_properties.success as success \
| filter name in [{flows}] and ispresent(git_sha) \
| stats count(*) as attempts, sum(success) as successes by @logStream, git_sha, name";

/// The result field of the split queries naming a row's log stream.
const STREAM_FIELD: &str = "@logStream";

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
    /// Given by [`Self::with_split_queries`].
    split_queries: Option<(String, String)>,
    /// Whether [`Self::with_queries`] replaced the default queries.
    custom_queries: bool,
    flows: Vec<String>,
}

impl LogsInsightsMonitor {
    /// Request log `<env>_/srv/<role>/shared/log/production.log`, events log
    /// `<env>_/srv/<role>/shared/log/events.log`, the default queries (split queries
    /// included) and flows; polls on `clock`.
    pub fn new(clients: AwsClients, clock: Arc<dyn Clock>) -> Self {
        LogsInsightsMonitor {
            clients,
            clock,
            requests_log_pattern: "{env}_/srv/{role}/shared/log/production.log".to_string(),
            events_log_pattern: "{env}_/srv/{role}/shared/log/events.log".to_string(),
            requests_query: DEFAULT_REQUESTS_QUERY.to_string(),
            flows_query: DEFAULT_FLOWS_QUERY.to_string(),
            split_queries: None,
            custom_queries: false,
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
    ///
    /// The default split queries are written for the default log format, so once these are
    /// replaced [`Monitor::sample_by_instance`] answers "cannot tell instances apart"
    /// (`Ok(None)`, and the gate compares with its baseline) unless
    /// [`Self::with_split_queries`] gives split queries as well, in either order.
    pub fn with_queries(mut self, requests: &str, flows: &str) -> Self {
        self.requests_query = requests.to_string();
        self.flows_query = flows.to_string();
        self.custom_queries = true;
        self
    }

    /// Other queries for [`Monitor::sample_by_instance`], returning the fields documented on
    /// [`DEFAULT_SPLIT_REQUESTS_QUERY`] and [`DEFAULT_SPLIT_FLOWS_QUERY`] (one row per log
    /// stream and SHA, the stream in `@logStream`). They are used whether or not
    /// [`Self::with_queries`] is.
    ///
    /// ```
    /// # async fn example(clients: deploykit_aws::AwsClients) {
    /// use std::sync::Arc;
    /// use deploykit_aws::LogsInsightsMonitor;
    /// use deploykit_core::ports::clock::SystemClock;
    ///
    /// let monitor = LogsInsightsMonitor::new(clients, Arc::new(SystemClock))
    ///     .with_queries(
    ///         "fields version as git_sha | filter ispresent(git_sha) \
    ///          | stats count(*) as requests by git_sha",
    ///         "fields name, properties.version as git_sha | filter name in [{flows}] \
    ///          | stats count(*) as attempts by git_sha, name",
    ///     )
    ///     .with_split_queries(
    ///         "fields @logStream, version as git_sha | filter ispresent(git_sha) \
    ///          | stats count(*) as requests by @logStream, git_sha",
    ///         "fields @logStream, name, properties.version as git_sha \
    ///          | filter name in [{flows}] | stats count(*) as attempts by @logStream, git_sha, name",
    ///     );
    /// # }
    /// ```
    pub fn with_split_queries(mut self, requests: &str, flows: &str) -> Self {
        self.split_queries = Some((requests.to_string(), flows.to_string()));
        self
    }

    /// The requests and flows queries of [`Monitor::sample_by_instance`]; `None` when custom
    /// queries were given without split ones.
    fn split_queries(&self) -> Option<(&str, &str)> {
        match &self.split_queries {
            Some((requests, flows)) => Some((requests, flows)),
            None if self.custom_queries => None,
            None => Some((DEFAULT_SPLIT_REQUESTS_QUERY, DEFAULT_SPLIT_FLOWS_QUERY)),
        }
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

    /// The rows of `requests_query` over the request log of `role` in `env` and, when it found
    /// requests and flows are watched, of `flows_query` over its events log (none when the
    /// events log does not exist).
    async fn rows(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        requests_query: &str,
        flows_query: &str,
    ) -> Result<(Vec<Vec<ResultField>>, Vec<Vec<ResultField>>)> {
        let requests_group = Self::log_group(&self.requests_log_pattern, env, role);
        let request_rows = self.query(&requests_group, requests_query, window).await?;
        if request_rows.is_empty() || self.flows.is_empty() {
            return Ok((request_rows, Vec::new()));
        }
        let names = self
            .flows
            .iter()
            .map(|f| format!("\"{}\"", f.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(", ");
        let query = flows_query.replace("{flows}", &names);
        let events_group = Self::log_group(&self.events_log_pattern, env, role);
        match self.query(&events_group, &query, window).await {
            Ok(flow_rows) => Ok((request_rows, flow_rows)),
            // No events log for this role: request figures only.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok((request_rows, Vec::new())),
            Err(e) => Err(e),
        }
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

/// Refuses an empty window: Insights would answer it with no rows, read as "no data".
fn check_window(window: &MetricsWindow) -> Result<()> {
    if window.end <= window.start {
        return Err(Error::invalid_input(format!(
            "monitor window {} .. {} is empty: the end must be after the start",
            window.start, window.end
        )));
    }
    Ok(())
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

/// The value of `row`'s `group` field, trimmed (none without a group field).
fn group_field<'r>(row: &'r [ResultField], group: Option<&str>) -> Option<&'r str> {
    group.and_then(|g| field(row, g)).map(str::trim)
}

/// The figures of each request row whose SHA is valid, with the flow rows of the same SHA
/// (and the same `group` field, for rows grouped by one) attached, sorted by name; each with
/// its `group` field. Flows of a SHA (or group) without requests are dropped.
fn figures_of_rows<'a>(
    request_rows: &'a [Vec<ResultField>],
    flow_rows: &[Vec<ResultField>],
    group: Option<&str>,
) -> Vec<(Option<&'a str>, ShaMetrics)> {
    let mut figures: Vec<(Option<&'a str>, ShaMetrics)> = request_rows
        .iter()
        .filter_map(|row| {
            let sha = Sha::new(field(row, "git_sha")?).ok()?;
            let metrics = ShaMetrics {
                sha,
                first_seen: field(row, "first_seen").and_then(timestamp),
                requests: number(row, "requests"),
                errors_5xx: number(row, "errors_5xx"),
                instances: u32::try_from(number(row, "instances")).unwrap_or(u32::MAX),
                flows: Vec::new(),
            };
            Some((group_field(row, group), metrics))
        })
        .collect();
    let index: HashMap<(Option<String>, String), usize> = figures
        .iter()
        .enumerate()
        .map(|(i, (g, m))| ((g.map(str::to_string), m.sha.as_str().to_string()), i))
        .collect();
    for row in flow_rows {
        let (Some(sha), Some(name)) = (field(row, "git_sha"), field(row, "name")) else {
            continue;
        };
        let Ok(sha) = Sha::new(sha) else {
            continue;
        };
        let g = group_field(row, group).map(str::to_string);
        let Some(&i) = index.get(&(g, sha.as_str().to_string())) else {
            continue;
        };
        figures[i].1.flows.push(FlowRate {
            name: name.to_string(),
            attempts: number(row, "attempts"),
            successes: number(row, "successes"),
        });
    }
    for (_, m) in &mut figures {
        m.flows
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.attempts.cmp(&b.attempts)));
    }
    figures
}

/// Builds per-SHA figures from request rows and flow rows, in order of first sight. Rows
/// without a valid SHA are ignored; flows of a SHA without requests are dropped.
pub fn sample_from_rows(
    window: MetricsWindow,
    request_rows: &[Vec<ResultField>],
    flow_rows: &[Vec<ResultField>],
) -> MonitorSample {
    let mut per_sha: Vec<ShaMetrics> = figures_of_rows(request_rows, flow_rows, None)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    per_sha.sort_by_key(|m| (m.first_seen.is_none(), m.first_seen));
    MonitorSample { window, per_sha }
}

/// Splits the rows of the split queries ([`DEFAULT_SPLIT_REQUESTS_QUERY`],
/// [`DEFAULT_SPLIT_FLOWS_QUERY`]) between the log streams of the instances in `old` and every
/// other instance, by [`split_by_name`]'s rule on `@logStream`; flows go with their stream
/// and SHA. Rows without a valid SHA are left out. The error names the stream that served
/// requests without an instance id in its name.
pub fn split_from_rows(
    window: MetricsWindow,
    request_rows: &[Vec<ResultField>],
    flow_rows: &[Vec<ResultField>],
    old: &[InstanceId],
) -> std::result::Result<InstanceSplitSample, NameWithoutInstanceId> {
    split_by_name(
        window,
        figures_of_rows(request_rows, flow_rows, Some(STREAM_FIELD)),
        old,
    )
}

/// The split, or `None` (logged) when a stream made it impossible.
fn split_or_none(
    env: &EnvName,
    role: &RoleName,
    split: std::result::Result<InstanceSplitSample, NameWithoutInstanceId>,
) -> Option<InstanceSplitSample> {
    match split {
        Ok(split) => Some(split),
        Err(NameWithoutInstanceId { name }) => {
            tracing::info!(
                %env,
                %role,
                log_stream = name.as_deref().unwrap_or("(none)"),
                "Logs Insights cannot split old instances from new: a log stream that served \
                 requests has no EC2 instance id in its name; comparing with the baseline \
                 instead"
            );
            None
        }
    }
}

#[async_trait]
impl Monitor for LogsInsightsMonitor {
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        check_window(window)?;
        let (request_rows, flow_rows) = self
            .rows(env, role, window, &self.requests_query, &self.flows_query)
            .await?;
        Ok(sample_from_rows(*window, &request_rows, &flow_rows))
    }

    /// The figures of the log streams of `old` against every other stream, from the split
    /// queries; `None` (logged) when custom queries were given without split queries, or when
    /// a stream that served requests names no EC2 instance.
    async fn sample_by_instance(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        check_window(window)?;
        let Some((requests_query, flows_query)) = self.split_queries() else {
            tracing::info!(
                %env,
                %role,
                "custom Logs Insights queries without split queries (with_split_queries): \
                 cannot split old instances from new; comparing with the baseline instead"
            );
            return Ok(None);
        };
        let (request_rows, flow_rows) = self
            .rows(env, role, window, requests_query, flows_query)
            .await?;
        Ok(split_or_none(
            env,
            role,
            split_from_rows(*window, &request_rows, &flow_rows, old),
        ))
    }

    /// The request log group of `role` in `env` exists (one DescribeLogGroups call); the
    /// events log is optional (without it, no flow figures).
    async fn check_readable(&self, env: &EnvName, role: &RoleName) -> Result<()> {
        let group = Self::log_group(&self.requests_log_pattern, env, role);
        let subject = format!("log group {group}");
        let out = self
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .map_err(|e| map_sdk_error("DescribeLogGroups", &subject, e))?;
        if out
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(group.as_str()))
        {
            return Ok(());
        }
        Err(Error::not_found(format!(
            "the request log group {group} does not exist in this account and region, so the \
             monitor gate could not read any figures: check the environment and role names \
             and aws.region (the log group is named {})",
            self.requests_log_pattern
        ))
        .with("log_group", &group))
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

    const OLD_A: &str = "i-0123456789abcdef0";
    const OLD_B: &str = "i-0123456789abcdef1";
    const NEW_A: &str = "i-0fedcba9876543210";
    const NEW_B: &str = "i-0fedcba9876543211";

    fn window() -> MetricsWindow {
        MetricsWindow {
            start: DateTime::from_timestamp(1_790_000_000, 0).expect("t"),
            end: DateTime::from_timestamp(1_790_000_900, 0).expect("t"),
        }
    }

    fn old_ids() -> Vec<InstanceId> {
        [OLD_A, OLD_B]
            .iter()
            .map(|id| InstanceId::new(id).expect("id"))
            .collect()
    }

    fn stream_row(
        stream: &str,
        sha: &str,
        requests: &str,
        errors: &str,
        first: &str,
    ) -> Vec<ResultField> {
        row(&[
            ("@logStream", stream),
            ("git_sha", sha),
            ("requests", requests),
            ("errors_5xx", errors),
            ("instances", "1"),
            ("first_seen", first),
        ])
    }

    fn flow_row(
        stream: &str,
        sha: &str,
        name: &str,
        attempts: &str,
        successes: &str,
    ) -> Vec<ResultField> {
        row(&[
            ("@logStream", stream),
            ("git_sha", sha),
            ("name", name),
            ("attempts", attempts),
            ("successes", successes),
        ])
    }

    #[test]
    fn streams_of_old_and_new_instances_are_added_up_on_their_sides_with_their_flows() {
        let sha = "a".repeat(40);
        let other = "b".repeat(40);
        let requests = vec![
            stream_row(OLD_A, &sha, "1000", "2", "2026-11-20 09:00:00.000"),
            stream_row(OLD_B, &sha, "900", "1", "2026-11-20 10:00:00.000"),
            stream_row(NEW_A, &sha, "300", "9", "2026-11-27 13:05:00.000"),
            stream_row(NEW_B, &sha, "200", "1", "2026-11-27 13:06:00.000"),
        ];
        let flows = vec![
            flow_row(OLD_A, &sha, "IdV: x", "10", "9"),
            flow_row(OLD_B, &sha, "IdV: x", "5", "5"),
            flow_row(NEW_A, &sha, "IdV: x", "4", "1"),
            flow_row(NEW_B, &sha.to_uppercase(), "IdV: y", "2", "2"),
            // A stream without requests, and a SHA a stream served no request of: dropped.
            flow_row("i-0aaaaaaaaaaaaaaaa", &sha, "IdV: x", "100", "0"),
            flow_row(NEW_A, &other, "IdV: x", "100", "0"),
        ];
        let split = split_from_rows(window(), &requests, &flows, &old_ids()).expect("split");
        assert_eq!(split.window, window());
        let old = split.old_instances.expect("old instances served");
        let new = split.new_instances.expect("new instances served");
        assert_eq!(old.sha.as_str(), sha);
        assert_eq!((old.requests, old.errors_5xx, old.instances), (1900, 3, 2));
        assert_eq!(old.first_seen, timestamp("2026-11-20 09:00:00.000"));
        assert_eq!(
            old.flows,
            vec![FlowRate {
                name: "IdV: x".to_string(),
                attempts: 15,
                successes: 14
            }]
        );
        assert_eq!((new.requests, new.errors_5xx, new.instances), (500, 10, 2));
        assert_eq!(new.first_seen, timestamp("2026-11-27 13:05:00.000"));
        assert_eq!(
            new.flows,
            vec![
                FlowRate {
                    name: "IdV: x".to_string(),
                    attempts: 4,
                    successes: 1
                },
                FlowRate {
                    name: "IdV: y".to_string(),
                    attempts: 2,
                    successes: 2
                },
            ]
        );

        // Before any new instance served: only the old side.
        let split = split_from_rows(window(), &requests[..2], &[], &old_ids()).expect("split");
        assert_eq!(split.old_instances.map(|m| m.requests), Some(1900));
        assert_eq!(split.new_instances, None);
        // No rows: no data on either side, not an error.
        let split = split_from_rows(window(), &[], &[], &old_ids()).expect("split");
        assert_eq!((split.old_instances, split.new_instances), (None, None));
    }

    #[test]
    fn a_stream_without_an_instance_id_makes_the_split_impossible() {
        let sha = "a".repeat(40);
        let (prod, idp) = (
            EnvName::new("prod").expect("env"),
            RoleName::new("idp").expect("role"),
        );
        let requests = vec![
            stream_row(OLD_A, &sha, "1000", "2", "2026-11-20 09:00:00.000"),
            stream_row("ip-10-0-1-23", &sha, "5", "0", "2026-11-27 13:05:00.000"),
        ];
        let split = split_from_rows(window(), &requests, &[], &old_ids());
        assert_eq!(
            split,
            Err(NameWithoutInstanceId {
                name: Some("ip-10-0-1-23".to_string())
            })
        );
        assert_eq!(split_or_none(&prod, &idp, split), None);

        // A custom split query that forgot the stream field cannot be split either.
        let no_stream = vec![row(&[("git_sha", sha.as_str()), ("requests", "5")])];
        let split = split_from_rows(window(), &no_stream, &[], &old_ids());
        assert_eq!(split, Err(NameWithoutInstanceId { name: None }));
        assert_eq!(split_or_none(&prod, &idp, split), None);

        let fine = split_from_rows(window(), &requests[..1], &[], &old_ids());
        assert!(split_or_none(&prod, &idp, fine).is_some());
    }

    #[test]
    fn rows_without_a_sha_are_left_out_of_the_split() {
        let sha = "a".repeat(40);
        let requests = vec![
            // Would make the split impossible if it counted.
            row(&[("@logStream", "ip-10-0-1-23"), ("requests", "50")]),
            stream_row(
                "ip-10-0-1-24",
                "not-a-sha!",
                "50",
                "50",
                "2026-11-27 13:00:00.000",
            ),
            stream_row(OLD_A, "", "70", "70", "2026-11-20 09:00:00.000"),
            stream_row(NEW_A, &sha, "300", "9", "2026-11-27 13:05:00.000"),
        ];
        let split = split_from_rows(window(), &requests, &[], &old_ids()).expect("split");
        assert_eq!(split.old_instances, None);
        let new = split.new_instances.expect("new instances served");
        assert_eq!((new.requests, new.errors_5xx), (300, 9));
    }

    #[test]
    fn custom_queries_are_split_only_with_split_queries() {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let monitor = LogsInsightsMonitor::new(
            AwsClients::from_sdk_config(&config, &[]),
            Arc::new(deploykit_core::ports::clock::SystemClock),
        );
        assert_eq!(
            monitor.split_queries(),
            Some((DEFAULT_SPLIT_REQUESTS_QUERY, DEFAULT_SPLIT_FLOWS_QUERY))
        );
        let custom = monitor.clone().with_queries("requests", "flows");
        assert_eq!(custom.split_queries(), None);
        let split_then_custom = monitor
            .clone()
            .with_split_queries("split requests", "split flows")
            .with_queries("requests", "flows");
        assert_eq!(
            split_then_custom.split_queries(),
            Some(("split requests", "split flows"))
        );
        let custom_then_split = custom.with_split_queries("split requests", "split flows");
        assert_eq!(
            custom_then_split.split_queries(),
            Some(("split requests", "split flows"))
        );
        assert_eq!(
            monitor.with_split_queries("r", "f").split_queries(),
            Some(("r", "f"))
        );
    }
}
