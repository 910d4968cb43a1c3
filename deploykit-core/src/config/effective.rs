//! `EffectiveConfig`: the configuration after file, environment and flags, with its secrets.
//!
//! Secrets come only from environment variables or files the configuration points to:
//!
//! | secret | environment variable (wins) | file key |
//! |---|---|---|
//! | GitHub token | `GITHUB_TOKEN`, then `GH_TOKEN` | `github.token_file` |
//! | Slack webhook (main channel) | `SLACK_WEBHOOK_URL` | `notifier.webhook_url_file` |
//! | Slack webhook (cross-post) | `SLACK_CROSS_POST_WEBHOOK_URL` | `notifier.cross_post_webhook_url_file` |
//! | Slack webhook (devops) | `SLACK_DEVOPS_WEBHOOK_URL` | `notifier.devops_webhook_url_file` |
//! | Slack bot token | `SLACK_BOT_TOKEN` | `notifier.bot_token_file` |
//! | New Relic API key | `NEW_RELIC_API_KEY` | `monitor.newrelic.api_key_file` |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Weekday;

use super::bounds::{MAX_TEAM_LEAVE_DAYS, check_ranges};
use super::layers::merge;
use super::mask::{Masker, looks_like_a_secret};
use super::problem::{ConfigProblem, problems_error};
use super::schema::{
    AwsConfig, CadenceConfig, EnvironmentConfig, GithubConfig, MonitorConfig, MonitorKind,
    NotifierConfig, NotifierKind, RedactionConfig,
};
use super::secret::{Secret, SecretSource, SourcedSecret};
use super::sections::read_sections;
use super::walk::Walk;
use crate::error::Result;
use crate::model::AppSettings;

/// The secrets deploykit found, each with its source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// The GitHub token.
    pub github_token: Option<SourcedSecret>,
    /// The main channel's Slack webhook URL.
    pub slack_webhook_url: Option<SourcedSecret>,
    /// The cross-post channel's Slack webhook URL.
    pub slack_cross_post_webhook_url: Option<SourcedSecret>,
    /// The devops channel's Slack webhook URL.
    pub slack_devops_webhook_url: Option<SourcedSecret>,
    /// The Slack bot token.
    pub slack_bot_token: Option<SourcedSecret>,
    /// The New Relic user API key.
    pub new_relic_api_key: Option<SourcedSecret>,
    /// Every secret value deploykit was given, used or not (`GH_TOKEN` beside
    /// `GITHUB_TOKEN`, a token pasted into a `*_file` key): hidden wherever the
    /// configuration prints a value.
    pub(crate) given: Vec<Secret>,
}

impl Secrets {
    /// Every secret by its name in `config show`, present or not.
    pub fn named(&self) -> [(&'static str, &Option<SourcedSecret>); 6] {
        [
            ("github_token", &self.github_token),
            ("slack_webhook_url", &self.slack_webhook_url),
            (
                "slack_cross_post_webhook_url",
                &self.slack_cross_post_webhook_url,
            ),
            ("slack_devops_webhook_url", &self.slack_devops_webhook_url),
            ("slack_bot_token", &self.slack_bot_token),
            ("new_relic_api_key", &self.new_relic_api_key),
        ]
    }
}

/// The configuration in force: defaults, then the file, then environment variables, then
/// flags. Its `Debug` shows no secret value.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveConfig {
    /// The file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Apps by name.
    pub apps: BTreeMap<String, AppSettings>,
    /// Environments by name.
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// The notifier.
    pub notifier: NotifierConfig,
    /// The monitor and the thresholds of the monitor gate.
    pub monitor: MonitorConfig,
    /// The deploy cadence.
    pub cadence: CadenceConfig,
    /// AWS.
    pub aws: AwsConfig,
    /// GitHub.
    pub github: GithubConfig,
    /// What config-change announcements hide.
    pub redaction: RedactionConfig,
    /// The secrets found.
    pub secrets: Secrets,
    /// What is suspicious but not wrong (a secret file ignored because its environment
    /// variable is set, an unknown `DEPLOYKIT_*` variable), each at its key path; a front
    /// end prints them before it goes on. Secret values are hidden in them.
    pub warnings: Vec<ConfigProblem>,
}

impl EffectiveConfig {
    /// The settings of the app named `name`; InvalidInput naming the apps the
    /// configuration knows, and how to add another.
    pub fn app(&self, name: &str) -> Result<crate::model::AppSettings> {
        self.apps.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.apps.keys().map(String::as_str).collect();
            crate::Error::invalid_input(format!(
                "unknown app {name:?}: the configuration knows {} (add an [apps.{name}] \
                 table to deploykit.toml for another)",
                known.join(", ")
            ))
        })
    }

    /// The redaction rules for config-change announcements: the configured SecureString
    /// parameters and patterns, and the value of every secret deploykit knows (a diff that
    /// carries a token or webhook URL under a harmless-looking key still hides it).
    pub fn redaction_rules(&self) -> Result<crate::notify::RedactionRules> {
        let rules = self.redaction.patterns.iter().try_fold(
            crate::notify::RedactionRules::new(self.redaction.secure_parameters.iter().cloned()),
            |rules, p| rules.with_pattern(p),
        )?;
        Ok(self
            .secrets
            .named()
            .into_iter()
            .filter_map(|(_, s)| s.as_ref())
            .fold(rules, |rules, s| rules.with_literal(s.secret.expose())))
    }
}

impl Default for EffectiveConfig {
    /// The Login.gov setup of the guide, with no secrets.
    fn default() -> Self {
        let empty = BTreeMap::new();
        let (config, _) = evaluate(None, None, &empty, &empty);
        config
    }
}

fn env_secret(env: &BTreeMap<String, String>, vars: &[&str]) -> Option<SourcedSecret> {
    vars.iter().find_map(|var| {
        env.get(*var)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(|v| SourcedSecret {
                secret: Secret::new(v),
                source: SecretSource::Env(var.to_string()),
            })
    })
}

fn file_secret(
    w: &mut Walk,
    key_path: &str,
    path: &Option<PathBuf>,
    base_dir: Option<&Path>,
) -> Option<SourcedSecret> {
    let path = match (path.as_ref()?, base_dir) {
        (p, Some(base)) if p.is_relative() => base.join(p),
        (p, _) => p.clone(),
    };
    let path = &path;
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Some(SourcedSecret {
            secret: Secret::new(text.trim()),
            source: SecretSource::File(path.clone()),
        }),
        Ok(_) => {
            w.problem(
                key_path,
                format!("the file {} is empty; put the secret in it", path.display()),
            );
            None
        }
        Err(e) => {
            w.problem(
                key_path,
                format!(
                    "cannot read the secret file {}: {e}; check the path and its permissions",
                    path.display()
                ),
            );
            None
        }
    }
}

/// Where a secret comes from: the first set variable of `vars`, else the file.
struct SecretSpec<'a> {
    vars: &'a [&'a str],
    key_path: &'a str,
    file: &'a Option<PathBuf>,
}

/// Every environment variable that carries a secret.
const SECRET_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "SLACK_WEBHOOK_URL",
    "SLACK_CROSS_POST_WEBHOOK_URL",
    "SLACK_DEVOPS_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "NEW_RELIC_API_KEY",
];

/// The secret of `spec`: its environment variable wins (a file set beside it is ignored,
/// which is a warning), else its file. A `*_file` value that looks like the secret itself
/// (a token pasted in place of the path) is a problem that never prints it; the value is
/// added to `given` so that no other message or `config show` prints it either.
fn secret(
    w: &mut Walk,
    env: &BTreeMap<String, String>,
    base_dir: Option<&Path>,
    spec: SecretSpec<'_>,
    given: &mut Vec<Secret>,
) -> Option<SourcedSecret> {
    let from_env = env_secret(env, spec.vars);
    let key = spec.key_path.rsplit('.').next().unwrap_or(spec.key_path);
    let var = spec.vars.first().copied().unwrap_or_default();
    if let Some(file) = spec.file {
        let text = file.to_string_lossy();
        let resolved = match base_dir {
            Some(base) if file.is_relative() => base.join(file),
            _ => file.clone(),
        };
        if looks_like_a_secret(&text) && !resolved.exists() {
            given.push(Secret::new(text.trim()));
            w.problem(
                spec.key_path,
                format!(
                    "this looks like the secret itself, not a path to a file holding it; \
                     secrets must not be written in the configuration file: put it in a file \
                     and set `{key}` to that file's path, or use the environment variable \
                     {var} (revoke the secret if this file was shared)"
                ),
            );
            return from_env;
        }
    }
    match from_env {
        Some(found) => {
            if spec.file.is_some()
                && let SecretSource::Env(name) = &found.source
            {
                w.warning(
                    spec.key_path,
                    format!(
                        "ignored: the environment variable {name} is set and wins over the \
                         file; unset {name} to use the file, or remove `{key}`"
                    ),
                );
            }
            Some(found)
        }
        None => file_secret(w, spec.key_path, spec.file, base_dir),
    }
}

/// Evaluates the layers; always returns a configuration (defaults where a value was bad)
/// and every problem found.
fn evaluate(
    file_text: Option<&str>,
    base_dir: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> (EffectiveConfig, Vec<ConfigProblem>) {
    let mut w = Walk::default();
    let root = merge(&mut w, file_text, env, flags);
    let s = read_sections(&mut w, &root);
    let n = &s.notifier;
    let mut given = Vec::new();
    let secrets = Secrets {
        github_token: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["GITHUB_TOKEN", "GH_TOKEN"],
                key_path: "github.token_file",
                file: &s.github.token_file,
            },
            &mut given,
        ),
        slack_webhook_url: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["SLACK_WEBHOOK_URL"],
                key_path: "notifier.webhook_url_file",
                file: &n.webhook_url_file,
            },
            &mut given,
        ),
        slack_cross_post_webhook_url: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["SLACK_CROSS_POST_WEBHOOK_URL"],
                key_path: "notifier.cross_post_webhook_url_file",
                file: &n.cross_post_webhook_url_file,
            },
            &mut given,
        ),
        slack_devops_webhook_url: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["SLACK_DEVOPS_WEBHOOK_URL"],
                key_path: "notifier.devops_webhook_url_file",
                file: &n.devops_webhook_url_file,
            },
            &mut given,
        ),
        slack_bot_token: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["SLACK_BOT_TOKEN"],
                key_path: "notifier.bot_token_file",
                file: &n.bot_token_file,
            },
            &mut given,
        ),
        new_relic_api_key: secret(
            &mut w,
            env,
            base_dir,
            SecretSpec {
                vars: &["NEW_RELIC_API_KEY"],
                key_path: "monitor.newrelic.api_key_file",
                file: &s.monitor.newrelic.api_key_file,
            },
            &mut given,
        ),
        given: Vec::new(),
    };
    given.extend(
        SECRET_VARS
            .iter()
            .filter_map(|var| env.get(*var))
            .map(|v| Secret::new(v.trim())),
    );
    given.extend(
        secrets
            .named()
            .into_iter()
            .filter_map(|(_, s)| s.as_ref().map(|s| s.secret.clone())),
    );
    let secrets = Secrets { given, ..secrets };
    let mut notifier = s.notifier;
    notifier.kind = s
        .notifier_kind
        .unwrap_or(if secrets.slack_bot_token.is_some() {
            NotifierKind::SlackApi
        } else if secrets.slack_webhook_url.is_some() {
            NotifierKind::SlackWebhook
        } else {
            NotifierKind::None
        });
    let config = EffectiveConfig {
        config_file: None,
        apps: s.apps,
        environments: s.environments,
        notifier,
        monitor: s.monitor,
        cadence: s.cadence,
        aws: s.aws,
        github: s.github,
        redaction: s.redaction,
        secrets,
        warnings: Vec::new(),
    };
    validate(&mut w, &config);
    // Every message may quote a value: none may print a secret deploykit was given.
    let masker = Masker::new(&config.secrets.given);
    let masked = |list: Vec<ConfigProblem>| -> Vec<ConfigProblem> {
        list.into_iter()
            .map(|p| ConfigProblem {
                key_path: masker.mask(&p.key_path),
                message: masker.mask(&p.message),
            })
            .collect()
    };
    let problems = masked(w.problems);
    let config = EffectiveConfig {
        warnings: masked(w.warnings),
        ..config
    };
    (config, problems)
}

/// Whether `s` reads as an AWS region name: `us-west-2`, `us-gov-west-1`, `ap-southeast-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let letters = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    match parts.as_slice() {
        [area, middle @ .., number] => {
            area.len() == 2
                && letters(area)
                && !middle.is_empty()
                && middle.iter().all(|p| letters(p))
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// The `{name}` placeholders of `template`, in order.
fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Whether `s` is an http(s) URL.
pub(crate) fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// Whether `url` is plain http to another machine (anything but this one, where tests run
/// their fakes): what is sent to it travels in clear text.
pub(crate) fn in_clear(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("http://") && !super::bounds::is_loopback(url)
}

/// Checks that hold across fields.
fn validate(w: &mut Walk, c: &EffectiveConfig) {
    if !is_region(&c.aws.region) {
        w.problem(
            "aws.region",
            format!(
                "{:?} is not an AWS region name: expected one like us-west-2 or us-gov-west-1",
                c.aws.region
            ),
        );
    }
    let template = &c.monitor.newrelic.app_name_template;
    let unknown: Vec<&str> = placeholders(template)
        .filter(|p| !matches!(*p, "env" | "role"))
        .collect();
    if !unknown.is_empty() {
        w.problem(
            "monitor.newrelic.app_name_template",
            format!(
                "{template:?} has {} that nothing replaces: only {{env}} and {{role}} are \
                 (it would ask New Relic for an app that does not exist)",
                unknown
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    } else if !placeholders(template).any(|p| p == "env") {
        w.warning(
            "monitor.newrelic.app_name_template",
            format!(
                "{template:?} has no {{env}}: every environment's figures would come from the \
                 same New Relic app"
            ),
        );
    }
    for (name, app) in &c.apps {
        let p = format!("apps.{name}");
        if !app.repository.is_empty() && app.repository.split('/').count() != 2 {
            w.problem(
                &format!("{p}.repository"),
                format!("expected `owner/name`, found {:?}", app.repository),
            );
        }
        if !app.staging_deploy_status_url.is_empty() && !is_url(&app.staging_deploy_status_url) {
            w.problem(
                &format!("{p}.staging_deploy_status_url"),
                format!(
                    "expected an http(s) URL, found {:?}",
                    app.staging_deploy_status_url
                ),
            );
        }
        for (key, branch) in [
            ("production_branch", &app.production_branch),
            ("main_branch", &app.main_branch),
        ] {
            if branch.trim().is_empty() {
                w.problem(
                    &format!("{p}.{key}"),
                    format!(
                        "expected a branch name like {:?}, found an empty string",
                        if key == "production_branch" {
                            "stages/prod"
                        } else {
                            "main"
                        }
                    ),
                );
            }
        }
        if !app.pr_title_template.contains("{rc}") {
            w.problem(
                &format!("{p}.pr_title_template"),
                format!(
                    "expected the placeholder {{rc}} (for the RC number), found {:?}",
                    app.pr_title_template
                ),
            );
        }
    }
    let m = &c.monitor;
    for (key, value) in [
        ("max_error_rate", m.max_error_rate),
        ("max_error_rate_increase", m.max_error_rate_increase),
        ("max_flow_success_drop", m.max_flow_success_drop),
    ] {
        if !(0.0..=1.0).contains(&value) {
            w.problem(
                &format!("monitor.{key}"),
                format!("expected a fraction between 0 and 1 (0.01 is 1%), found {value}"),
            );
        } else if key == "max_error_rate" && value == 0.0 {
            // A healthy deploy serves the odd 5xx too: 0 would roll back every deploy.
            w.problem(
                "monitor.max_error_rate",
                "expected a fraction above 0 and at most 1 (0.01 is 1%), found 0: with 0 a \
                 single 5xx would make a window bad and roll back a healthy deploy",
            );
        }
    }
    check_ranges(w, c);
    if let Some(window) = m.window_secs.filter(|w| *w > 0)
        && m.observe_secs / window < 2
        && !w
            .problems
            .iter()
            .any(|p| p.key_path == "monitor.window_secs")
    {
        w.problem(
            "monitor.window_secs",
            format!(
                "{window} s leaves fewer than 2 windows in observe_secs ({} s), and the monitor \
                 gate needs 2 good windows in a row to go: make it at most {} s",
                m.observe_secs,
                m.observe_secs / 2
            ),
        );
    }
    if m.min_requests == 0 {
        w.problem(
            "monitor.min_requests",
            "expected at least 1 (the requests the new SHA must serve before the monitor gate \
             judges it), found 0",
        );
    }
    if m.kind == MonitorKind::Newrelic {
        // A bad value was reported already, at the same key: "none is set" would contradict it.
        if m.newrelic.account_id.is_none()
            && !w
                .problems
                .iter()
                .any(|p| p.key_path == "monitor.newrelic.account_id")
        {
            w.problem(
                "monitor.newrelic.account_id",
                "monitor.kind is \"newrelic\" but no account id is set; set \
                 monitor.newrelic.account_id or NEW_RELIC_ACCOUNT_ID",
            );
        }
        if c.secrets.new_relic_api_key.is_none()
            && !w
                .problems
                .iter()
                .any(|p| p.key_path == "monitor.newrelic.api_key_file")
        {
            w.problem(
                "monitor.newrelic.api_key_file",
                "monitor.kind is \"newrelic\" but no API key was found; set NEW_RELIC_API_KEY \
                 or monitor.newrelic.api_key_file",
            );
        }
    }
    if !is_url(&m.newrelic.api_url) {
        w.problem(
            "monitor.newrelic.api_url",
            format!("expected an http(s) URL, found {:?}", m.newrelic.api_url),
        );
    }
    let n = &c.notifier;
    // A secret file that could not be read was reported already, at the same key.
    let reported = |w: &Walk, path: &str| w.problems.iter().any(|p| p.key_path == path);
    match n.kind {
        NotifierKind::SlackWebhook
            if c.secrets.slack_webhook_url.is_none()
                && !reported(w, "notifier.webhook_url_file") =>
        {
            w.problem(
                "notifier.webhook_url_file",
                "notifier.kind is \"slack-webhook\" but no webhook URL was found; set \
             SLACK_WEBHOOK_URL or notifier.webhook_url_file",
            )
        }
        NotifierKind::SlackApi
            if c.secrets.slack_bot_token.is_none() && !reported(w, "notifier.bot_token_file") =>
        {
            w.problem(
                "notifier.bot_token_file",
                "notifier.kind is \"slack-api\" but no bot token was found; set SLACK_BOT_TOKEN or \
             notifier.bot_token_file",
            )
        }
        _ => {}
    }
    // With webhooks, each channel has its own: one missing means the guide's cross-posts
    // silently do not happen.
    if n.kind == NotifierKind::SlackWebhook && c.secrets.slack_webhook_url.is_some() {
        for (missing, key, env, channel, what) in [
            (
                c.secrets.slack_cross_post_webhook_url.is_none(),
                "notifier.cross_post_webhook_url_file",
                "SLACK_CROSS_POST_WEBHOOK_URL",
                &n.channels.cross_post,
                "pending release PRs are not cross-posted",
            ),
            (
                c.secrets.slack_devops_webhook_url.is_none(),
                "notifier.devops_webhook_url_file",
                "SLACK_DEVOPS_WEBHOOK_URL",
                &n.channels.devops,
                "recycle announcements are not posted",
            ),
        ] {
            if missing {
                w.warning(
                    key,
                    format!(
                        "no webhook for {channel}, so {what} there (the guide posts them \
                         there too); set {env} or {key}"
                    ),
                );
            }
        }
    }
    for (key, channel) in [
        ("main", &n.channels.main),
        ("cross_post", &n.channels.cross_post),
        ("devops", &n.channels.devops),
    ] {
        if channel.trim().is_empty() {
            w.problem(
                &format!("notifier.channels.{key}"),
                "expected a channel name like \"#login-appdev\", found an empty string",
            );
        }
    }
    for url in [
        ("notifier.api_url", &n.api_url),
        ("github.api_url", &c.github.api_url),
    ] {
        if !is_url(url.1) {
            w.problem(url.0, format!("expected an http(s) URL, found {:?}", url.1));
        }
    }
    // A token goes with every call to these: never in clear text off this machine.
    for (key, url, what) in [
        ("notifier.api_url", &n.api_url, "the Slack bot token"),
        ("github.api_url", &c.github.api_url, "the GitHub token"),
        (
            "monitor.newrelic.api_url",
            &m.newrelic.api_url,
            "the New Relic API key",
        ),
    ] {
        if in_clear(url) {
            w.problem(
                key,
                format!(
                    "{url:?} is plain http: {what} would travel in clear text; use https:// \
                     (plain http is accepted only on this machine: localhost, 127.0.0.1)"
                ),
            );
        }
    }
    // A webhook URL is itself the secret: said without its value.
    for (secret, file_key) in [
        (&c.secrets.slack_webhook_url, "notifier.webhook_url_file"),
        (
            &c.secrets.slack_cross_post_webhook_url,
            "notifier.cross_post_webhook_url_file",
        ),
        (
            &c.secrets.slack_devops_webhook_url,
            "notifier.devops_webhook_url_file",
        ),
    ] {
        let Some(s) = secret else { continue };
        let value = s.secret.expose().trim();
        let problem = if !is_url(value) {
            "is not an http(s) URL: give the webhook URL Slack shows for the channel"
        } else if in_clear(value) {
            "is plain http: the webhook's token would travel in clear text; use the https:// \
             URL Slack gave (plain http is accepted only on this machine)"
        } else {
            continue;
        };
        let key = match &s.source {
            SecretSource::Env(name) => format!("env {name}"),
            SecretSource::File(_) => file_key.to_string(),
        };
        w.problem(
            &key,
            format!("the Slack webhook URL from {} {problem}", s.source),
        );
    }
    for (i, pattern) in c.redaction.patterns.iter().enumerate() {
        if let Err(e) = crate::notify::RedactionRules::default().with_pattern(pattern) {
            w.problem(&format!("redaction.patterns[{i}]"), e.message().to_string());
        }
    }
    for (i, day) in c.cadence.deploy_days.iter().enumerate() {
        if day.parse::<Weekday>().is_err() {
            w.problem(
                &format!("cadence.deploy_days[{i}]"),
                format!("expected a weekday like \"tue\", found {day:?}"),
            );
        }
    }
    for (key, spans) in [
        ("freezes", &c.cadence.freezes),
        ("team_leave", &c.cadence.team_leave),
    ] {
        for (i, span) in spans.iter().enumerate() {
            let days = (span.end - span.start).num_days() + 1;
            if span.end < span.start {
                w.problem(
                    &format!("cadence.{key}[{i}]"),
                    format!("ends ({}) before it starts ({})", span.end, span.start),
                );
            } else if key == "team_leave" && days > MAX_TEAM_LEAVE_DAYS {
                w.problem(
                    &format!("cadence.{key}[{i}]"),
                    format!(
                        "spans {days} days ({} to {}); team leave is counted day by day, so a \
                         span may be at most {MAX_TEAM_LEAVE_DAYS} days: split it, or use a \
                         freeze for a long stop",
                        span.start, span.end
                    ),
                );
            }
        }
    }
}

/// The effective configuration from the file's text (if any), an environment map and the
/// flag overrides (`key.path -> value`), each overriding the one before. Errors
/// ([`crate::ErrorKind::InvalidInput`]) list every problem with its key path.
///
/// ```
/// use std::collections::BTreeMap;
/// use deploykit_core::config::resolve;
///
/// let env = BTreeMap::from([("AWS_REGION".to_string(), "us-east-1".to_string())]);
/// let flags = BTreeMap::new();
/// let config = resolve(Some("[aws]\nregion = \"us-west-1\"\n"), &env, &flags)?;
/// assert_eq!(config.aws.region, "us-east-1");
/// # Ok::<(), deploykit_core::Error>(())
/// ```
pub fn resolve(
    file_text: Option<&str>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> Result<EffectiveConfig> {
    let (config, problems) = evaluate(file_text, None, env, flags);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems_error(&problems))
    }
}

/// Every problem of the configuration, each with its key path (what `deploykit config
/// check` prints); empty when the configuration is good.
pub fn check(
    file_text: Option<&str>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> Vec<ConfigProblem> {
    evaluate(file_text, None, env, flags).1
}

/// What `deploykit config check` reports: the problems (the configuration is refused while
/// there are any) and the warnings (suspicious, not wrong), each with its key path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// What must be fixed.
    pub problems: Vec<ConfigProblem>,
    /// What is suspicious but does not stop deploykit (a secret file ignored because its
    /// environment variable is set, an unknown `DEPLOYKIT_*` variable).
    pub warnings: Vec<ConfigProblem>,
}

/// [`check`] with the warnings too.
///
/// ```
/// use std::collections::BTreeMap;
/// use deploykit_core::config::check_report;
///
/// let env = BTreeMap::from([("GITHUB_TOKEN".to_string(), "ghp_x".to_string())]);
/// let report = check_report(Some("[github]\ntoken_file = \"/run/gh\"\n"), &env, &BTreeMap::new());
/// assert!(report.problems.is_empty());
/// assert_eq!(report.warnings[0].key_path, "github.token_file");
/// ```
pub fn check_report(
    file_text: Option<&str>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> CheckReport {
    let (config, problems) = evaluate(file_text, None, env, flags);
    CheckReport {
        problems,
        warnings: config.warnings,
    }
}

/// [`resolve`] for a file on disk, recording its path; relative `*_file` paths in it are
/// read relative to the file's folder.
pub fn resolve_file(
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> Result<EffectiveConfig> {
    resolve_file_saying(path, env, flags, "check the path")
}

/// [`resolve_file`], `what_to_do` completing "cannot read the configuration file X: ...;"
/// (the CLI's `--config FILE` is a way out only when the file was not given with it).
pub(crate) fn resolve_file_saying(
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
    what_to_do: &str,
) -> Result<EffectiveConfig> {
    let text = match path {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            crate::Error::invalid_input(format!(
                "cannot read the configuration file {}: {e}; {what_to_do}",
                p.display()
            ))
        })?),
        None => None,
    };
    let base_dir = path.and_then(Path::parent);
    let (mut config, problems) = evaluate(text.as_deref(), base_dir, env, flags);
    if !problems.is_empty() {
        return Err(problems_error(&problems));
    }
    config.config_file = path.map(Path::to_path_buf);
    Ok(config)
}
