//! `SlackNotifier`: posts announcements through incoming webhooks or the Web API.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::Value;

use super::message::slack_message;
use super::response::{redirect_error, slack_error, webhook_error};
use crate::config::{ChannelsConfig, EffectiveConfig, NotifierKind, Secret};
use crate::error::{Error, Result};
use crate::ports::{Announcement, Clock, Notifier};

/// Default number of retries after HTTP 429.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Longest wait deploykit accepts from a `Retry-After` header.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The incoming webhooks, one per channel (a webhook posts to the one channel it was made
/// for). A channel without a webhook is skipped.
#[derive(Debug, Clone)]
pub struct SlackWebhooks {
    /// The main channel's webhook (required).
    pub main: Secret,
    /// The cross-post channel's webhook.
    pub cross_post: Option<Secret>,
    /// The devops channel's webhook.
    pub devops: Option<Secret>,
}

/// How messages reach Slack.
#[derive(Debug, Clone)]
pub enum SlackTransport {
    /// Incoming webhooks.
    Webhooks(SlackWebhooks),
    /// `chat.postMessage` with a bot token.
    WebApi {
        /// The Web API base URL (`https://slack.com/api`).
        base_url: String,
        /// The bot token (`xoxb-...`).
        token: Secret,
    },
}

/// Which configured channel a post goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    Main,
    CrossPost,
    Devops,
}

/// The channels each announcement goes to: pending release PRs are cross-posted, recycle
/// announcements also go to the devops channel, everything goes to the main channel.
fn destinations(a: &Announcement) -> &'static [Destination] {
    match a {
        Announcement::PendingReleasePr { .. } => &[Destination::Main, Destination::CrossPost],
        Announcement::RecycleStart { .. } => &[Destination::Main, Destination::Devops],
        _ => &[Destination::Main],
    }
}

/// Posts announcements to Slack. Its `Debug` and its errors never show the webhook URLs or
/// the token.
#[derive(Debug, Clone)]
pub struct SlackNotifier {
    client: reqwest::Client,
    transport: SlackTransport,
    channels: ChannelsConfig,
    clock: Arc<dyn Clock>,
    max_retries: u32,
}

impl SlackNotifier {
    /// A notifier over `transport` posting to `channels`, sleeping on `clock` when Slack
    /// asks to slow down.
    pub fn new(
        transport: SlackTransport,
        channels: ChannelsConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("deploykit/", env!("CARGO_PKG_VERSION")))
            // A webhook URL is itself the secret, and a redirect would carry it (in the
            // Referer) or the bot token to another host, and turn the post into a GET that
            // "succeeds" there: a redirect is an answer, reported as a failure.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .map_err(|e| {
                Error::backend(format!("cannot build the HTTP client: {}", e.without_url()))
            })?;
        Ok(SlackNotifier {
            client,
            transport,
            channels,
            clock,
            max_retries: DEFAULT_MAX_RETRIES,
        })
    }

    /// Sets how many times a post is retried after HTTP 429.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The notifier the configuration asks for, or `None` for `kind = "none"`.
    pub fn from_config(config: &EffectiveConfig, clock: Arc<dyn Clock>) -> Result<Option<Self>> {
        let s = &config.secrets;
        let missing = |what: &str| {
            Error::invalid_input(format!(
                "notifier.kind is {:?} but {what} was not found; set it or choose kind = \"none\"",
                config.notifier.kind
            ))
        };
        let transport = match config.notifier.kind {
            NotifierKind::None => return Ok(None),
            NotifierKind::SlackWebhook => SlackTransport::Webhooks(SlackWebhooks {
                main: s
                    .slack_webhook_url
                    .as_ref()
                    .ok_or_else(|| missing("SLACK_WEBHOOK_URL (or notifier.webhook_url_file)"))?
                    .secret
                    .clone(),
                cross_post: s
                    .slack_cross_post_webhook_url
                    .as_ref()
                    .map(|x| x.secret.clone()),
                devops: s
                    .slack_devops_webhook_url
                    .as_ref()
                    .map(|x| x.secret.clone()),
            }),
            NotifierKind::SlackApi => SlackTransport::WebApi {
                base_url: config.notifier.api_url.clone(),
                token: s
                    .slack_bot_token
                    .as_ref()
                    .ok_or_else(|| missing("SLACK_BOT_TOKEN (or notifier.bot_token_file)"))?
                    .secret
                    .clone(),
            },
        };
        SlackNotifier::new(transport, config.notifier.channels.clone(), clock).map(Some)
    }

    fn channel_name(&self, d: Destination) -> &str {
        match d {
            Destination::Main => &self.channels.main,
            Destination::CrossPost => &self.channels.cross_post,
            Destination::Devops => &self.channels.devops,
        }
    }

    /// Sends one request, retrying after HTTP 429 as `Retry-After` says.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        channel: &str,
    ) -> Result<(StatusCode, String)> {
        let mut attempt = 0;
        loop {
            let response = build()
                .send()
                .await
                .map_err(|e| transport_error(e, channel))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_secs(1));
                if attempt >= self.max_retries || wait > MAX_RETRY_AFTER {
                    return Err(Error::rate_limited(format!(
                        "Slack is rate limiting posts to {channel} and asked to wait {}s after \
                         {} retries; try again later",
                        wait.as_secs(),
                        attempt
                    ))
                    .with("channel", channel)
                    .with("retry_after_secs", wait.as_secs()));
                }
                attempt += 1;
                tracing::debug!(
                    channel,
                    wait_secs = wait.as_secs(),
                    attempt,
                    "Slack asked to slow down"
                );
                self.clock.sleep(wait).await;
                continue;
            }
            let body = response
                .text()
                .await
                .map_err(|e| transport_error(e, channel))?;
            return Ok((status, body));
        }
    }

    async fn post(&self, message: &Value, d: Destination) -> Result<()> {
        let channel = self.channel_name(d).to_string();
        match &self.transport {
            SlackTransport::Webhooks(hooks) => {
                let hook = match d {
                    Destination::Main => Some(&hooks.main),
                    Destination::CrossPost => hooks.cross_post.as_ref(),
                    Destination::Devops => hooks.devops.as_ref(),
                };
                let Some(hook) = hook else {
                    tracing::debug!(channel, "no webhook for this channel; skipped");
                    return Ok(());
                };
                let (status, body) = self
                    .send(|| self.client.post(hook.expose()).json(message), &channel)
                    .await?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(webhook_error(status.as_u16(), &body, &channel))
                }
            }
            SlackTransport::WebApi { base_url, token } => {
                let url = format!("{}/chat.postMessage", base_url.trim_end_matches('/'));
                let mut payload = message.clone();
                payload["channel"] = Value::String(channel.clone());
                payload["unfurl_links"] = Value::Bool(false);
                let (status, body) = self
                    .send(
                        || {
                            self.client
                                .post(&url)
                                .bearer_auth(token.expose())
                                .json(&payload)
                        },
                        &channel,
                    )
                    .await?;
                api_result(status, &body, &channel)
            }
        }
    }
}

/// Reads a Web API answer: `{"ok": true}` or `{"ok": false, "error": "..."}`.
fn api_result(status: StatusCode, body: &str, channel: &str) -> Result<()> {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    match parsed
        .as_ref()
        .and_then(|v| v.get("ok"))
        .and_then(Value::as_bool)
    {
        Some(true) => Ok(()),
        None if status.is_redirection() => Err(redirect_error(status.as_u16(), channel)),
        Some(false) => {
            let code = parsed
                .as_ref()
                .and_then(|v| v.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("");
            Err(slack_error(code, channel))
        }
        None if status.is_server_error() => Err(Error::backend(format!(
            "Slack failed with HTTP {status} when posting to {channel}; try again later"
        ))
        .temporary(true)
        .with("channel", channel)),
        None => Err(Error::backend(format!(
            "Slack answered HTTP {status} without a JSON `ok` field when posting to {channel}; \
             check notifier.api_url"
        ))
        .with("channel", channel)),
    }
}

/// A transport failure, described without the URL (a webhook URL is a secret).
fn transport_error(e: reqwest::Error, channel: &str) -> Error {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    let message = format!("could not reach Slack to post to {channel}: {detail}");
    let err = if timeout {
        Error::timeout(message)
    } else {
        Error::backend(message).temporary(true)
    };
    err.with("channel", channel)
}

#[async_trait]
impl Notifier for SlackNotifier {
    /// Posts to every channel the announcement goes to; tries them all, then reports the
    /// first failure.
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        let message = slack_message(announcement);
        let mut first_error = None;
        let mut seen: Vec<&str> = Vec::new();
        for d in destinations(announcement) {
            let name = self.channel_name(*d);
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            if let Err(e) = self.post(&message, *d).await
                && first_error.is_none()
            {
                first_error = Some(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
