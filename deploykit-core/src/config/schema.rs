//! The configuration structs users write in `deploykit.toml`, with their documented
//! defaults (the Login.gov setup of the guide). Plain data: the engine maps them to its own
//! settings.

use std::path::PathBuf;

use chrono::NaiveDate;

/// `[environments.<name>]`: how deploys to one environment behave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentConfig {
    /// Whether this is production (old servers are scaled in by hand after the spindown,
    /// the follow-up check runs). Default: true for `prod`, false otherwise.
    pub production: bool,
    /// Overrides the spindown delay; default: none (the engine computes it from the group's
    /// grace period, as `asg-recycle` does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spindown_secs: Option<u64>,
    /// How long to wait for the migration log to finish. Default 1800 (30 minutes).
    pub migration_timeout_secs: u64,
    /// How long to wait for new servers to be healthy in the load balancer. Default 1200.
    pub health_timeout_secs: u64,
    /// When to check the monitor again after the deploy ("set a timer for one hour").
    /// Default 3600.
    pub follow_up_after_secs: u64,
}

impl EnvironmentConfig {
    /// The defaults of an environment named `name`.
    pub fn defaults_for(name: &str) -> Self {
        EnvironmentConfig {
            production: name == "prod",
            spindown_secs: None,
            migration_timeout_secs: 1800,
            health_timeout_secs: 1200,
            follow_up_after_secs: 3600,
        }
    }
}

/// `[notifier] kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifierKind {
    /// Slack incoming webhooks, one per channel.
    SlackWebhook,
    /// Slack Web API `chat.postMessage` with a bot token.
    SlackApi,
    /// No announcements are posted.
    None,
}

/// `[notifier.channels]`: where announcements go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelsConfig {
    /// Every announcement goes here. Default `#login-appdev`.
    pub main: String,
    /// Pending release PRs are cross-posted here. Default `#login-delivery`.
    pub cross_post: String,
    /// Recycle announcements also go here. Default `#login-devops`.
    pub devops: String,
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        ChannelsConfig {
            main: "#login-appdev".into(),
            cross_post: "#login-delivery".into(),
            devops: "#login-devops".into(),
        }
    }
}

/// `[notifier]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotifierConfig {
    /// Which notifier. Default: `slack-api` when `SLACK_BOT_TOKEN` is set, else
    /// `slack-webhook` when `SLACK_WEBHOOK_URL` is set, else `none`.
    pub kind: NotifierKind,
    /// The channels.
    pub channels: ChannelsConfig,
    /// A file holding the main channel's webhook URL (else `SLACK_WEBHOOK_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url_file: Option<PathBuf>,
    /// A file holding the cross-post channel's webhook URL (else
    /// `SLACK_CROSS_POST_WEBHOOK_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_post_webhook_url_file: Option<PathBuf>,
    /// A file holding the devops channel's webhook URL (else `SLACK_DEVOPS_WEBHOOK_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devops_webhook_url_file: Option<PathBuf>,
    /// A file holding the bot token (else `SLACK_BOT_TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_token_file: Option<PathBuf>,
    /// The Web API base URL. Default `https://slack.com/api`.
    pub api_url: String,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            kind: NotifierKind::None,
            channels: ChannelsConfig::default(),
            webhook_url_file: None,
            cross_post_webhook_url_file: None,
            devops_webhook_url_file: None,
            bot_token_file: None,
            api_url: "https://slack.com/api".into(),
        }
    }
}

/// `[monitor] kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitorKind {
    /// CloudWatch Logs Insights over the app's request logs (what `monitor-deploy` reads).
    Cloudwatch,
    /// New Relic NerdGraph NRQL queries.
    Newrelic,
    /// No monitor: the monitor gate is left to the release manager.
    None,
}

/// `[monitor.newrelic]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewRelicConfig {
    /// The account id (else `NEW_RELIC_ACCOUNT_ID`). Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<u64>,
    /// The NerdGraph endpoint. Default `https://api.newrelic.com/graphql`.
    pub api_url: String,
    /// The APM app name; `{env}` and `{role}` are replaced. Default `{env}.login.gov` (the guide links "NewRelic (prod.login.gov)").
    pub app_name_template: String,
    /// The Transaction attribute holding the deployed SHA. Default `tags.gitSha`.
    pub sha_attribute: String,
    /// The Transaction attribute naming the instance that served it, which must contain the
    /// EC2 instance id for a config recycle to be judged old instances against new ones
    /// (otherwise the gate compares with a baseline from before the recycle). Default `host`.
    pub instance_attribute: String,
    /// A file holding the user API key (else `NEW_RELIC_API_KEY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
}

impl Default for NewRelicConfig {
    fn default() -> Self {
        NewRelicConfig {
            account_id: None,
            api_url: "https://api.newrelic.com/graphql".into(),
            app_name_template: "{env}.login.gov".into(),
            sha_attribute: "tags.gitSha".into(),
            instance_attribute: "host".into(),
            api_key_file: None,
        }
    }
}

/// `[monitor]`: where figures come from and the thresholds of the monitor gate. Defaults
/// follow the canary rule of `monitor-deploy` (reference/existing-tooling.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonitorConfig {
    /// Which monitor. Default `cloudwatch`.
    pub kind: MonitorKind,
    /// Requests the new SHA must have served before a verdict. Default 1000.
    pub min_requests: u64,
    /// Highest acceptable 5xx rate of the new SHA (fraction). Default 0.01.
    pub max_error_rate: f64,
    /// Smallest rise of the 5xx rate over the old SHA that is bad when it is also significant
    /// (fraction; see `MonitorThresholds`). Default 0.002.
    pub max_error_rate_increase: f64,
    /// Smallest drop of a critical flow's success rate that is bad when it is also significant
    /// (fraction). Default 0.02.
    pub max_flow_success_drop: f64,
    /// Seconds between samples (`monitor-deploy` refreshes every 15 s). Default 15.
    pub poll_interval_secs: u64,
    /// Length of one monitor gate window: the gate watches `observe_secs` in windows of this
    /// length. Default: a third of `observe_secs` (300 s).
    pub window_secs: Option<u64>,
    /// How long the gate watches before it decides. Default 900.
    pub observe_secs: u64,
    /// New Relic settings (used when `kind = "newrelic"`).
    pub newrelic: NewRelicConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            kind: MonitorKind::Cloudwatch,
            min_requests: 1000,
            max_error_rate: 0.01,
            max_error_rate_increase: 0.002,
            max_flow_success_drop: 0.02,
            poll_interval_secs: 15,
            window_secs: None,
            observe_secs: 900,
            newrelic: NewRelicConfig::default(),
        }
    }
}

/// A span of days, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DateSpan {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Why (shown when the cadence refuses a deploy).
    #[serde(default)]
    pub reason: String,
}

/// `[cadence]`: when deploys are planned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CadenceConfig {
    /// Full deploy days (`mon` .. `sun`). Default `["tue", "thu"]`.
    pub deploy_days: Vec<String>,
    /// Spans with no deploys. Default: none.
    pub freezes: Vec<DateSpan>,
    /// Spans when a large part of the team is on leave. Default: none.
    pub team_leave: Vec<DateSpan>,
}

impl Default for CadenceConfig {
    fn default() -> Self {
        CadenceConfig {
            deploy_days: vec!["tue".into(), "thu".into()],
            freezes: Vec::new(),
            team_leave: Vec::new(),
        }
    }
}

/// `[aws]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AwsConfig {
    /// The region. Default `us-west-2` (else `AWS_REGION`).
    pub region: String,
    /// The profile (else `AWS_PROFILE`). Default: none (the SDK's default chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// An endpoint override, e.g. a moto server (else `AWS_ENDPOINT_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            region: "us-west-2".into(),
            profile: None,
            endpoint_url: None,
        }
    }
}

/// `[github]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GithubConfig {
    /// The API base URL (else `GITHUB_API_URL`). Default `https://api.github.com`.
    pub api_url: String,
    /// A file holding the token (else `GITHUB_TOKEN` or `GH_TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            api_url: "https://api.github.com".into(),
            token_file: None,
        }
    }
}

/// `[redaction]`: what config-change announcements hide besides secret-looking keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedactionConfig {
    /// SecureString parameter names whose values are always hidden. Default: none.
    pub secure_parameters: Vec<String>,
    /// Regular expressions whose matches are hidden anywhere. Default: none.
    pub patterns: Vec<String>,
}
