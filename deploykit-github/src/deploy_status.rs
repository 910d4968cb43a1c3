//! `HttpDeployStatus`: the [`DeployStatusSource`] port reading each environment's
//! `/api/deploy.json` over HTTPS.
//!
//! URLs are configured per (app, environment) (`[apps.NAME.deploy_status_urls]` in
//! `deploykit.toml`). Only the staging documents of Login.gov's two apps are built in:
//! hostnames differ between environments in ways a string substitution cannot guess, so any
//! other pair must be configured.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use deploykit_core::ports::DeployStatusSource;
use deploykit_core::{AppName, DeployStatus, EnvName, Error, Result};

/// The IdP's staging deploy status document.
pub const IDP_STAGING_URL: &str = "https://idp.staging.login.gov/api/deploy.json";
/// The PIV/CAC server's staging deploy status document.
pub const PKI_STAGING_URL: &str =
    "https://checking-deploy.pivcac.staging.login.gov/api/deploy.json";
/// How long one request may take unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `deploy.json` documents over HTTP(S).
///
/// ```
/// use deploykit_github::HttpDeployStatus;
/// let source = HttpDeployStatus::new()
///     .with_url("idp", "int", "https://idp.int.identitysandbox.gov/api/deploy.json");
/// assert!(source.url("idp", "staging").is_some());
/// assert!(source.url("idp", "prod").is_none());
/// ```
#[derive(Clone)]
pub struct HttpDeployStatus {
    urls: BTreeMap<(String, String), String>,
    timeout: Duration,
    client: Option<reqwest::Client>,
}

impl fmt::Debug for HttpDeployStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpDeployStatus")
            .field("urls", &self.urls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for HttpDeployStatus {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpDeployStatus {
    /// The built-in URLs (idp and pki staging) and a 10 s timeout.
    pub fn new() -> Self {
        Self::without_defaults()
            .with_url("idp", "staging", IDP_STAGING_URL)
            .with_url("pki", "staging", PKI_STAGING_URL)
    }

    /// No URL at all: every pair must be configured with [`HttpDeployStatus::with_url`].
    pub fn without_defaults() -> Self {
        HttpDeployStatus {
            urls: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
            client: None,
        }
    }

    /// Sets (or replaces) the document URL of `app` in `env`.
    pub fn with_url(mut self, app: &str, env: &str, url: impl Into<String>) -> Self {
        self.urls
            .insert((app.to_string(), env.to_string()), url.into());
        self
    }

    /// Sets how long one request may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.client = None;
        self
    }

    /// The configured URL of `app` in `env`.
    pub fn url(&self, app: &str, env: &str) -> Option<&str> {
        self.urls
            .get(&(app.to_string(), env.to_string()))
            .map(String::as_str)
    }

    fn client(&self) -> Result<reqwest::Client> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("deploykit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::backend(format!("could not set up the HTTP client: {e}")))
    }

    /// Fetches and parses the document at `url`.
    pub async fn fetch_url(&self, url: &str) -> Result<DeployStatus> {
        let response = self
            .client()?
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    Error::timeout(format!(
                        "{url} did not answer within {} s",
                        self.timeout.as_secs_f64()
                    ))
                } else {
                    Error::backend(format!("could not read {url}: {e}")).temporary(true)
                }
                .with("url", url)
            })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        let body = response.text().await.map_err(|e| {
            Error::backend(format!("could not read the answer of {url}: {e}")).temporary(true)
        })?;
        if !status.is_success() {
            let start: String = body.chars().take(80).collect();
            let error = match status.as_u16() {
                404 => Error::not_found(format!(
                    "{url} answered 404 Not Found; check the deploy status URL"
                )),
                401 | 403 => Error::unauthenticated(format!(
                    "{url} answered {status}; the document is not public there"
                )),
                500..=599 => Error::backend(format!(
                    "{url} answered {status} ({start:?}); the environment may be down, \
                     try again later"
                ))
                .temporary(true),
                _ => Error::backend(format!("{url} answered {status} ({start:?})")),
            };
            return Err(error.with("url", url).with("status", status.as_u16()));
        }
        let looks_like_json =
            body.trim_start().starts_with('{') || body.trim_start().starts_with('[');
        if !looks_like_json {
            let start: String = body.trim_start().chars().take(60).collect();
            return Err(Error::invalid_input(format!(
                "{url} did not answer with JSON (content type {content_type}); it starts with \
                 {start:?}: is this the deploy.json URL?"
            ))
            .with("url", url));
        }
        DeployStatus::parse(&body).map_err(|e| {
            Error::invalid_input(format!(
                "{url} (content type {content_type}): {}",
                e.message()
            ))
            .with("url", url)
        })
    }
}

#[async_trait]
impl DeployStatusSource for HttpDeployStatus {
    async fn deploy_status(&self, app: &AppName, env: &EnvName) -> Result<DeployStatus> {
        let Some(url) = self.url(app.as_str(), env.as_str()) else {
            let known: Vec<String> = self
                .urls
                .keys()
                .map(|(a, e)| format!("{a} in {e}"))
                .collect();
            return Err(Error::not_found(format!(
                "no deploy status URL is configured for {app} in {env} (known: {}); \
                 configure one (its /api/deploy.json) in deploykit.toml: \
                 [apps.{app}.deploy_status_urls] {env} = \"https://.../api/deploy.json\"",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
            .with("app", app.as_str())
            .with("env", env.as_str()));
        };
        self.fetch_url(url).await
    }
}
