//! The NRQL queries behind [`super::NewRelicMonitor`] and the reading of their results.
//!
//! One query per sample gives the same per-SHA figures as
//! [`crate::ports::monitor::ShaMetrics`]:
//!
//! ```text
//! SELECT count(*) AS 'requests',
//!        filter(count(*), WHERE httpResponseCode LIKE '5%') AS 'errors_5xx',
//!        uniqueCount(host) AS 'instances',
//!        min(timestamp) AS 'first_seen'
//! FROM Transaction
//! WHERE appName = '<app>' AND transactionType = 'Web'
//! FACET `tags.gitSha`
//! SINCE <start, epoch ms> UNTIL <end, epoch ms> LIMIT MAX
//! ```
//!
//! - `requests`: web transactions served by that SHA (the request count of
//!   `monitor-deploy`); background jobs (`transactionType = 'Other'`) are not requests;
//! - `errors_5xx`: those answered with a 500-599 status;
//! - `instances`: distinct hosts that served them;
//! - `first_seen`: the earliest transaction of that SHA in the window (tells old from new);
//! - one result row per SHA (`FACET` on the SHA attribute, `LIMIT MAX` so no SHA is folded
//!   into "Other"). Rows whose facet is not a SHA (no tag) are left out. Flow success rates
//!   are not queried from New Relic: `flows` is empty.
//!
//! ## Old instances against new ones
//!
//! A config recycle launches instances that run the same SHA as the ones they replace, so
//! [`per_instance_query`] asks the same question one row per instance and SHA
//! (``FACET `host`, `tags.gitSha` ``, one query per sample; the instance attribute is
//! `monitor.newrelic.instance_attribute`, `host` by default; NerdGraph answers `facet` as
//! `[host, sha]`) and [`read_host_split`] adds the rows up on two sides:
//!
//! - a host is **old** when its name contains one of the old instance ids (case-insensitive;
//!   `idp-i-0123456789abcdef0.prod.login.gov` and `i-0123456789abcdef0` both name
//!   `i-0123456789abcdef0`);
//! - otherwise it is **new** when its name contains an EC2 instance id: `i-` and 8 or 17
//!   hexadecimal digits, not inside a longer word;
//! - a host that served requests but has no instance id in its name (such as the default
//!   `ip-10-0-1-23`) makes the split impossible: the monitor answers "cannot tell instances
//!   apart" and the gate falls back to its baseline comparison.
//!
//! This works only when the instance attribute carries the EC2 instance id: `host` does when
//! the instances' hostnames include it; with EC2's default `ip-…` names every sample is
//! "cannot tell", and `instance_attribute` can name another attribute that holds the id (a
//! custom attribute the app reports, for instance). Each side is its rows added up with [`ShaMetrics::added_up`]: `instances` counts
//! hosts (a host that served two SHAs in the window counts twice), `sha` is the SHA that
//! served most of the side's requests. Rows without a SHA are left out as above.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Sha;
use crate::model::fleet::InstanceId;
use crate::ports::{
    InstanceSplitSample, MetricsWindow, NameWithoutInstanceId, ShaMetrics, split_by_name,
};

/// Quotes a string for NRQL (single quotes, backslash escapes).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The NRQL query for `app_name` over `window`, faceted by `sha_attribute`.
pub fn per_sha_query(
    app_name: &str,
    sha_attribute: &str,
    window: &MetricsWindow,
) -> Result<String> {
    attribute_name("sha_attribute", sha_attribute, "tags.gitSha")?;
    faceted_query(app_name, window, &format!("`{sha_attribute}`"))
}

/// The NRQL query for `app_name` over `window`, faceted by `instance_attribute` (the instance
/// that served, `host` by default) and `sha_attribute`: one row per instance and SHA, for
/// [`read_host_split`].
pub fn per_instance_query(
    app_name: &str,
    sha_attribute: &str,
    instance_attribute: &str,
    window: &MetricsWindow,
) -> Result<String> {
    attribute_name("sha_attribute", sha_attribute, "tags.gitSha")?;
    attribute_name("instance_attribute", instance_attribute, "host")?;
    faceted_query(
        app_name,
        window,
        &format!("`{instance_attribute}`, `{sha_attribute}`"),
    )
}

/// Refuses a `monitor.newrelic.<key>` that is not an attribute name (it is put in the query
/// between backquotes).
fn attribute_name(key: &str, name: &str, example: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
    if ok {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "monitor.newrelic.{key} {name:?} is not an attribute name; expected letters, digits \
         and . _ - : (for example {example})"
    )))
}

/// The figures query with `facet` as its FACET clause, once the attributes in it are known to
/// be names.
fn faceted_query(app_name: &str, window: &MetricsWindow, facet: &str) -> Result<String> {
    if window.end <= window.start {
        return Err(Error::invalid_input(format!(
            "the metrics window ends ({}) before it starts ({})",
            window.end, window.start
        )));
    }
    Ok(format!(
        "SELECT count(*) AS 'requests', \
         filter(count(*), WHERE httpResponseCode LIKE '5%') AS 'errors_5xx', \
         uniqueCount(host) AS 'instances', min(timestamp) AS 'first_seen' \
         FROM Transaction WHERE appName = {} AND transactionType = 'Web' \
         FACET {facet} SINCE {} UNTIL {} LIMIT MAX",
        quote(app_name),
        window.start.timestamp_millis(),
        window.end.timestamp_millis()
    ))
}

fn count(row: &Value, key: &str) -> u64 {
    row.get(key)
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_f64().map(|f| f.max(0.0).round() as u64))
        })
        .unwrap_or(0)
}

fn facet(row: &Value) -> Option<&str> {
    match row.get("facet")? {
        Value::String(s) => Some(s),
        Value::Array(items) => items.first().and_then(Value::as_str),
        _ => None,
    }
}

/// The SHA of a row, `None` (logged) when its facet is not one.
fn row_sha(facet: Option<&str>) -> Option<Sha> {
    match facet.map(Sha::new) {
        Some(Ok(sha)) => Some(sha),
        other => {
            tracing::debug!(?other, "New Relic row without a SHA facet left out");
            None
        }
    }
}

/// The figures of one result row served by `sha`.
fn row_metrics(row: &Value, sha: Sha) -> ShaMetrics {
    let first_seen = row
        .get("first_seen")
        .and_then(Value::as_f64)
        .and_then(|ms| DateTime::<Utc>::from_timestamp_millis(ms as i64));
    ShaMetrics {
        sha,
        first_seen,
        requests: count(row, "requests"),
        errors_5xx: count(row, "errors_5xx"),
        instances: u32::try_from(count(row, "instances")).unwrap_or(u32::MAX),
        flows: Vec::new(),
    }
}

/// The per-SHA figures from NerdGraph's `results` rows, in the order SHAs were first seen.
pub fn read_results(rows: &[Value]) -> Vec<ShaMetrics> {
    let mut out: Vec<ShaMetrics> = rows
        .iter()
        .filter_map(|row| Some(row_metrics(row, row_sha(facet(row))?)))
        .collect();
    out.sort_by_key(|m| m.first_seen);
    out
}

/// The host and SHA facets of a [`per_instance_query`] row (`[host, sha]`).
fn host_and_sha(row: &Value) -> (Option<&str>, Option<&str>) {
    match row.get("facet") {
        Some(Value::Array(items)) => (
            items.first().and_then(Value::as_str),
            items.get(1).and_then(Value::as_str),
        ),
        _ => (None, None),
    }
}

/// The rows of [`per_instance_query`] over `window` split between the hosts of the instances in
/// `old` and every other instance, by [`split_by_name`]'s rule on the host names; the host
/// that made it impossible otherwise. Rows without a SHA are left out.
pub fn read_host_split(
    window: MetricsWindow,
    rows: &[Value],
    old: &[InstanceId],
) -> std::result::Result<InstanceSplitSample, NameWithoutInstanceId> {
    let named = rows.iter().filter_map(|row| {
        let (host, sha) = host_and_sha(row);
        Some((host, row_metrics(row, row_sha(sha)?)))
    });
    split_by_name(window, named, old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn window() -> MetricsWindow {
        MetricsWindow {
            start: DateTime::from_timestamp(1_700_000_000, 0).expect("t"),
            end: DateTime::from_timestamp(1_700_000_900, 0).expect("t"),
        }
    }

    #[test]
    fn query_is_faceted_by_sha_and_bounded_by_the_window() {
        let q = per_sha_query("prod.login.gov", "tags.gitSha", &window()).expect("query");
        assert!(q.contains("FACET `tags.gitSha`"));
        assert!(q.contains("SINCE 1700000000000 UNTIL 1700000900000"));
        assert!(q.contains("appName = 'prod.login.gov'"));
        assert!(q.contains("httpResponseCode LIKE '5%'"));
        let q = per_sha_query("it's", "tags.gitSha", &window()).expect("query");
        assert!(q.contains("appName = 'it\\'s'"));
        assert!(per_sha_query("a", "x` OR 1", &window()).is_err());
    }

    #[test]
    fn rows_become_per_sha_figures_in_first_seen_order() {
        let rows = vec![
            json!({"facet": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "tags.gitSha": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                   "requests": 1500, "errors_5xx": 3, "instances": 4, "first_seen": 1700000500000.0}),
            json!({"facet": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "requests": 9000, "errors_5xx": 0,
                   "instances": 6, "first_seen": 1699990000000.0}),
            json!({"facet": null, "requests": 12}),
        ];
        let m = read_results(&rows);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].sha.as_str(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
        assert_eq!(m[1].requests, 1500);
        assert_eq!(m[1].errors_5xx, 3);
        assert_eq!(m[1].instances, 4);
        assert_eq!(m[1].error_rate(), Some(0.002));
    }
}
