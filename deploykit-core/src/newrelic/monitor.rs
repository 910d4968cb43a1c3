//! `NewRelicMonitor`: per-SHA and per-instance figures from NerdGraph NRQL queries.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::nrql::{per_instance_query, per_sha_query, read_host_split, read_results};
use crate::config::{EffectiveConfig, Masker, NewRelicConfig, Secret};
use crate::error::{Error, Result};
use crate::model::{EnvName, InstanceId, RoleName};
use crate::ports::NameWithoutInstanceId;
use crate::ports::{InstanceSplitSample, MetricsWindow, Monitor, MonitorSample};

/// The NerdGraph query; the NRQL goes in a variable, so it needs no GraphQL escaping.
const GRAPHQL: &str = "query($accountId: Int!, $nrql: Nrql!, $timeout: Seconds) { actor { \
                       account(id: $accountId) { nrql(query: $nrql, timeout: $timeout) { \
                       results } } } }";

/// Seconds NerdGraph may spend on the query before answering with a timeout error.
const QUERY_TIMEOUT_SECS: u64 = 30;

/// Reads per-SHA request figures from New Relic. Its `Debug` and errors never show the API
/// key.
#[derive(Debug, Clone)]
pub struct NewRelicMonitor {
    client: reqwest::Client,
    api_url: String,
    account_id: u64,
    api_key: Secret,
    app_name_template: String,
    sha_attribute: String,
    instance_attribute: String,
}

impl NewRelicMonitor {
    /// A monitor for `config` (the account id must be set) with `api_key`.
    pub fn new(config: &NewRelicConfig, api_key: Secret) -> Result<Self> {
        let account_id = config.account_id.ok_or_else(|| {
            Error::invalid_input(
                "no New Relic account id; set monitor.newrelic.account_id or \
                 NEW_RELIC_ACCOUNT_ID",
            )
        })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(QUERY_TIMEOUT_SECS + 15))
            .user_agent(concat!("deploykit/", env!("CARGO_PKG_VERSION")))
            // The API key travels in a header: a redirect is reported, never followed, so
            // the key is sent to the configured host only.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .map_err(|e| {
                Error::backend(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(NewRelicMonitor {
            client,
            api_url: config.api_url.clone(),
            account_id,
            api_key,
            app_name_template: config.app_name_template.clone(),
            sha_attribute: config.sha_attribute.clone(),
            instance_attribute: config.instance_attribute.clone(),
        })
    }

    /// The monitor the configuration describes (`[monitor.newrelic]` and
    /// `NEW_RELIC_API_KEY`).
    pub fn from_config(config: &EffectiveConfig) -> Result<Self> {
        let key = config.secrets.new_relic_api_key.as_ref().ok_or_else(|| {
            Error::unauthenticated(
                "no New Relic API key; set NEW_RELIC_API_KEY or monitor.newrelic.api_key_file",
            )
        })?;
        NewRelicMonitor::new(&config.monitor.newrelic, key.secret.clone())
    }

    /// The APM app name of `role` in `env`.
    pub fn app_name(&self, env: &EnvName, role: &RoleName) -> String {
        self.app_name_template
            .replace("{env}", env.as_str())
            .replace("{role}", role.as_str())
    }

    async fn query(&self, nrql: &str) -> Result<Vec<Value>> {
        let body = json!({
            "query": GRAPHQL,
            "variables": { "accountId": self.account_id, "nrql": nrql, "timeout": QUERY_TIMEOUT_SECS },
        });
        let response = self
            .client
            .post(&self.api_url)
            .header("API-Key", self.api_key.expose())
            .json(&body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let text = response.text().await.map_err(transport_error)?;
        match status.as_u16() {
            200..=299 => {}
            401 | 403 => {
                return Err(Error::unauthenticated(format!(
                    "New Relic refused the API key (HTTP {status}); check NEW_RELIC_API_KEY is \
                     a user key with access to account {}",
                    self.account_id
                )));
            }
            300..=399 => {
                return Err(Error::backend(format!(
                    "New Relic answered HTTP {status}, a redirect, which deploykit does not \
                     follow (the API key would go to another host); check \
                     monitor.newrelic.api_url (https://api.newrelic.com/graphql, or \
                     https://api.eu.newrelic.com/graphql for an EU account)"
                )));
            }
            429 => {
                return Err(Error::rate_limited(
                    "New Relic is rate limiting queries (HTTP 429); try again in a minute",
                ));
            }
            500..=599 => {
                return Err(Error::backend(format!(
                    "New Relic failed with HTTP {status}; try again later"
                ))
                .temporary(true));
            }
            _ => {
                return Err(Error::backend(format!(
                    "New Relic answered HTTP {status}; check monitor.newrelic.api_url"
                )));
            }
        }
        let doc: Value = serde_json::from_str(&text).map_err(|e| {
            Error::backend(format!(
                "New Relic answered something that is not JSON ({e}); check \
                 monitor.newrelic.api_url"
            ))
        })?;
        if let Some(errors) = doc.get("errors").and_then(Value::as_array)
            && let Some(first) = errors.first()
        {
            return Err(graphql_error(first, errors.len(), &self.api_key));
        }
        let nrql = &doc["data"]["actor"]["account"]["nrql"];
        match nrql.get("results") {
            Some(Value::Array(rows)) => Ok(rows.clone()),
            Some(Value::Null) | None if nrql.is_null() => Err(Error::backend(
                "New Relic answered with no data and no error; check the account id",
            )),
            _ => Err(Error::backend(
                "New Relic answered without a results list at data.actor.account.nrql.results",
            )),
        }
    }
}

/// Maps one GraphQL error to a kind, keeping NerdGraph's message (with the API key masked,
/// should the answer quote the request).
fn graphql_error(error: &Value, count: usize, api_key: &Secret) -> Error {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("an error with no message");
    let message = &Masker::new([api_key]).mask(message);
    let class = error["extensions"]
        .get("errorClass")
        .and_then(Value::as_str)
        .unwrap_or("");
    let lower = message.to_ascii_lowercase();
    let text = format!("New Relic: {message}");
    let e = if class == "TIMEOUT" || lower.contains("timed out") || lower.contains("timeout") {
        Error::timeout(format!(
            "{text}; the query took too long, it will be retried"
        ))
    } else if matches!(class, "UNAUTHORIZED" | "FORBIDDEN" | "UNAUTHENTICATED")
        || lower.contains("api key")
        || lower.contains("not authorized")
        || lower.contains("unauthorized")
    {
        Error::unauthenticated(format!(
            "{text}; check NEW_RELIC_API_KEY and its access to the account"
        ))
    } else if class == "INVALID_INPUT"
        || class == "BAD_USER_INPUT"
        || lower.contains("nrql syntax error")
        || lower.contains("validation error")
    {
        Error::invalid_input(format!(
            "{text}; check monitor.newrelic.sha_attribute and app_name_template"
        ))
    } else {
        Error::backend(text)
    };
    let e = if class.is_empty() {
        e
    } else {
        e.with("error_class", class)
    };
    if count > 1 {
        e.with("more_errors", count - 1)
    } else {
        e
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::timeout("New Relic did not answer in time; it will be retried");
    }
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    Error::backend(format!("could not reach New Relic: {detail}")).temporary(true)
}

#[async_trait]
impl Monitor for NewRelicMonitor {
    /// The per-SHA figures of `role` in `env`; an empty list when New Relic has no data.
    async fn sample(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
    ) -> Result<MonitorSample> {
        let nrql = per_sha_query(&self.app_name(env, role), &self.sha_attribute, window)?;
        let rows = self.query(&nrql).await?;
        Ok(MonitorSample {
            window: *window,
            per_sha: read_results(&rows),
        })
    }

    /// The figures of the hosts of `old` against every other host, from one query faceted by
    /// host; `None` (logged) when a host that served requests names no EC2 instance.
    async fn sample_by_instance(
        &self,
        env: &EnvName,
        role: &RoleName,
        window: &MetricsWindow,
        old: &[InstanceId],
    ) -> Result<Option<InstanceSplitSample>> {
        let nrql = per_instance_query(
            &self.app_name(env, role),
            &self.sha_attribute,
            &self.instance_attribute,
            window,
        )?;
        let rows = self.query(&nrql).await?;
        match read_host_split(*window, &rows, old) {
            Ok(split) => Ok(Some(split)),
            Err(NameWithoutInstanceId { name }) => {
                tracing::info!(
                    %env,
                    %role,
                    host = name.as_deref().unwrap_or("(none)"),
                    attribute = %self.instance_attribute,
                    "New Relic cannot split old instances from new: an instance that served \
                     requests has no EC2 instance id in its monitor.newrelic.instance_attribute; \
                     comparing with the baseline instead"
                );
                Ok(None)
            }
        }
    }
}
