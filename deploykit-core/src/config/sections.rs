//! Reads the merged TOML table into the configuration structs, starting from the defaults
//! and reporting every problem at its key path.

use std::collections::BTreeMap;

use toml::Table;

use super::effective::is_url;
use super::schema::{
    AwsConfig, CadenceConfig, DateSpan, EnvironmentConfig, GithubConfig, MonitorConfig,
    NotifierConfig, NotifierKind, RedactionConfig,
};
use super::walk::{Walk, join};
use crate::model::{AppName, AppSettings, EnvName, RoleName, RoleSettings};

/// The top-level sections.
pub(crate) const TOP_KEYS: &[&str] = &[
    "apps",
    "environments",
    "notifier",
    "monitor",
    "cadence",
    "aws",
    "github",
    "redaction",
];
const APP_KEYS: &[&str] = &[
    "repository",
    "remote",
    "production_branch",
    "main_branch",
    "staging_deploy_status_url",
    "deploy_status_urls",
    "pr_title_template",
    "promotion_label",
    "release_style",
    "roles",
    "changelog_file",
    "smoke_tests",
];
const ROLE_KEYS: &[&str] = &["role", "migrates"];
const ENV_KEYS: &[&str] = &[
    "production",
    "spindown_secs",
    "migration_timeout_secs",
    "health_timeout_secs",
    "follow_up_after_secs",
];
const NOTIFIER_KEYS: &[&str] = &[
    "kind",
    "channels",
    "webhook_url_file",
    "cross_post_webhook_url_file",
    "devops_webhook_url_file",
    "bot_token_file",
    "api_url",
];
const CHANNEL_KEYS: &[&str] = &["main", "cross_post", "devops"];
const MONITOR_KEYS: &[&str] = &[
    "kind",
    "min_requests",
    "max_error_rate",
    "max_error_rate_increase",
    "max_flow_success_drop",
    "poll_interval_secs",
    "window_secs",
    "observe_secs",
    "newrelic",
];
const NEWRELIC_KEYS: &[&str] = &[
    "account_id",
    "api_url",
    "app_name_template",
    "sha_attribute",
    "instance_attribute",
    "api_key_file",
];
const CADENCE_KEYS: &[&str] = &["deploy_days", "freezes", "team_leave"];
const SPAN_KEYS: &[&str] = &["start", "end", "reason"];
const AWS_KEYS: &[&str] = &["region", "profile", "endpoint_url"];
const GITHUB_KEYS: &[&str] = &["api_url", "token_file"];
const REDACTION_KEYS: &[&str] = &["secure_parameters", "patterns"];

/// The keys of the top-level section `section` (`monitor` -> `kind`, `min_requests`, ...).
pub(crate) fn section_keys(section: &str) -> &'static [&'static str] {
    match section {
        "notifier" => NOTIFIER_KEYS,
        "monitor" => MONITOR_KEYS,
        "cadence" => CADENCE_KEYS,
        "aws" => AWS_KEYS,
        "github" => GITHUB_KEYS,
        "redaction" => REDACTION_KEYS,
        _ => &[],
    }
}

/// The configuration sections read from the merged table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sections {
    pub apps: BTreeMap<String, AppSettings>,
    pub environments: BTreeMap<String, EnvironmentConfig>,
    pub notifier: NotifierConfig,
    /// `None` when not set: chosen later from which secrets exist.
    pub notifier_kind: Option<NotifierKind>,
    pub monitor: MonitorConfig,
    pub cadence: CadenceConfig,
    pub aws: AwsConfig,
    pub github: GithubConfig,
    pub redaction: RedactionConfig,
}

/// Reads every section of `root`.
pub(crate) fn read_sections(w: &mut Walk, root: &Table) -> Sections {
    w.keys(root, "", TOP_KEYS);
    let empty = Table::new();
    let t = w_table(w, root, "apps").unwrap_or(&empty);
    let apps = read_apps(w, t);
    let t = w_table(w, root, "environments").unwrap_or(&empty);
    let environments = read_environments(w, t);
    let t = w_table(w, root, "notifier").unwrap_or(&empty);
    let (notifier, notifier_kind) = read_notifier(w, t);
    let t = w_table(w, root, "monitor").unwrap_or(&empty);
    let monitor = read_monitor(w, t);
    let t = w_table(w, root, "cadence").unwrap_or(&empty);
    let cadence = read_cadence(w, t);
    let t = w_table(w, root, "aws").unwrap_or(&empty);
    let aws = read_aws(w, t);
    let t = w_table(w, root, "github").unwrap_or(&empty);
    let github = read_github(w, t);
    let t = w_table(w, root, "redaction").unwrap_or(&empty);
    let redaction = read_redaction(w, t);
    Sections {
        apps,
        environments,
        notifier,
        notifier_kind,
        monitor,
        cadence,
        aws,
        github,
        redaction,
    }
}

fn w_table<'v>(w: &mut Walk, t: &'v Table, key: &str) -> Option<&'v Table> {
    w.table(t, key, "")
}

fn read_apps(w: &mut Walk, apps: &Table) -> BTreeMap<String, AppSettings> {
    let mut out = BTreeMap::new();
    for key in apps.keys() {
        let path = join("apps", key);
        let Some(t) = w.table(apps, key, "apps") else {
            continue;
        };
        let name = match AppName::new(key) {
            Ok(n) => n,
            Err(e) => {
                w.problem(&path, e.message().to_string());
                continue;
            }
        };
        w.keys(t, &path, APP_KEYS);
        let builtin = AppSettings::builtin(&name);
        let mut app = builtin.clone().unwrap_or_else(|| AppSettings {
            name: name.clone(),
            repository: String::new(),
            staging_deploy_status_url: String::new(),
            roles: Vec::new(),
            ..AppSettings::idp()
        });
        w.set(t, "repository", &path, &mut app.repository);
        w.set(t, "remote", &path, &mut app.remote);
        w.set(t, "production_branch", &path, &mut app.production_branch);
        w.set(t, "main_branch", &path, &mut app.main_branch);
        w.set(
            t,
            "staging_deploy_status_url",
            &path,
            &mut app.staging_deploy_status_url,
        );
        read_deploy_status_urls(w, t, &path, &mut app);
        w.set(t, "pr_title_template", &path, &mut app.pr_title_template);
        w.set(t, "promotion_label", &path, &mut app.promotion_label);
        w.set(t, "release_style", &path, &mut app.release_style);
        w.set(t, "changelog_file", &path, &mut app.changelog_file);
        w.set(t, "smoke_tests", &path, &mut app.smoke_tests);
        if let Some(roles) = w.table_list(t, "roles", &path, ROLE_KEYS) {
            let listed_none = t
                .get("roles")
                .and_then(toml::Value::as_array)
                .is_some_and(Vec::is_empty);
            if listed_none {
                // A deploy recycles the app's roles: with none it would plan nothing and
                // fail only when run for real.
                w.problem(
                    &join(&path, "roles"),
                    format!(
                        "an app needs at least one role; list them, like \
                         `roles = [{{ role = \"{key}\", migrates = false }}]`"
                    ),
                );
            }
            let mut read: Vec<RoleSettings> = Vec::new();
            let mut first_at: BTreeMap<String, String> = BTreeMap::new();
            for (rp, rt) in roles {
                let role: Option<RoleName> = w.get(rt, "role", &rp);
                let migrates: bool = w.get(rt, "migrates", &rp).unwrap_or(false);
                if let Some(role) = &role
                    && let Some(first) = first_at.get(role.as_str())
                {
                    w.problem(
                        &join(&rp, "role"),
                        format!(
                            "role \"{role}\" is listed twice (also at {first}); list each \
                             role once"
                        ),
                    );
                    continue;
                }
                if let Some(role) = &role {
                    first_at.insert(role.as_str().to_string(), rp.clone());
                }
                match role {
                    Some(role) => read.push(RoleSettings { role, migrates }),
                    None if !rt.contains_key("role") => w.problem(
                        &join(&rp, "role"),
                        "missing: every role needs `role = \"name\"`",
                    ),
                    None => {}
                }
            }
            app.roles = read;
        }
        if builtin.is_none() {
            for (field, value) in [
                ("repository", app.repository.is_empty()),
                (
                    "staging_deploy_status_url",
                    app.staging_deploy_status_url.is_empty(),
                ),
            ] {
                if value && !t.contains_key(field) {
                    w.problem(
                        &join(&path, field),
                        format!(
                            "missing: `{key}` is not a built-in app (idp, pki), so it needs \
                             `{field}`{}",
                            if field == "staging_deploy_status_url" {
                                " (or `deploy_status_urls.staging`)"
                            } else {
                                ""
                            }
                        ),
                    );
                }
            }
            if app.roles.is_empty() && !t.contains_key("roles") {
                w.problem(
                    &join(&path, "roles"),
                    format!(
                        "missing: `{key}` is not a built-in app, so it needs \
                         `roles = [{{ role = \"{key}\", migrates = false }}]`"
                    ),
                );
            }
        }
        out.insert(key.clone(), app);
    }
    out
}

/// `[apps.NAME.deploy_status_urls]`: environment name -> deploy status URL. The `staging`
/// entry sets `staging_deploy_status_url` (the older key); giving both with different
/// values is a problem, since either could be the one meant.
fn read_deploy_status_urls(w: &mut Walk, t: &Table, path: &str, app: &mut AppSettings) {
    let Some(urls) = w.table(t, "deploy_status_urls", path) else {
        return;
    };
    let up = join(path, "deploy_status_urls");
    for env in urls.keys() {
        let kp = join(&up, env);
        if let Err(e) = EnvName::new(env) {
            w.problem(
                &kp,
                format!("keys of [{up}] are environment names; {}", e.message()),
            );
            continue;
        }
        let Some(url) = w.get::<String>(urls, env, &up) else {
            continue;
        };
        if !is_url(&url) {
            w.problem(
                &kp,
                format!(
                    "expected an http(s) URL of {env}'s deploy status document (its \
                     /api/deploy.json), found {url:?}"
                ),
            );
            continue;
        }
        if env == "staging" {
            if t.contains_key("staging_deploy_status_url") && app.staging_deploy_status_url != url {
                w.problem(
                    &kp,
                    format!(
                        "conflicts with {path}.staging_deploy_status_url = {:?}: both set \
                         staging's deploy status URL; keep one of them",
                        app.staging_deploy_status_url
                    ),
                );
                continue;
            }
            app.staging_deploy_status_url = url;
        } else {
            app.deploy_status_urls.insert(env.clone(), url);
        }
    }
}

fn read_environments(w: &mut Walk, envs: &Table) -> BTreeMap<String, EnvironmentConfig> {
    let mut out = BTreeMap::new();
    for key in envs.keys() {
        let path = join("environments", key);
        let Some(t) = w.table(envs, key, "environments") else {
            continue;
        };
        if let Err(e) = crate::model::EnvName::new(key) {
            w.problem(&path, e.message().to_string());
            continue;
        }
        w.keys(t, &path, ENV_KEYS);
        let mut env = EnvironmentConfig::defaults_for(key);
        w.set(t, "production", &path, &mut env.production);
        w.set_opt(t, "spindown_secs", &path, &mut env.spindown_secs);
        w.set(
            t,
            "migration_timeout_secs",
            &path,
            &mut env.migration_timeout_secs,
        );
        w.set(
            t,
            "health_timeout_secs",
            &path,
            &mut env.health_timeout_secs,
        );
        w.set(
            t,
            "follow_up_after_secs",
            &path,
            &mut env.follow_up_after_secs,
        );
        out.insert(key.clone(), env);
    }
    out
}

fn read_notifier(w: &mut Walk, t: &Table) -> (NotifierConfig, Option<NotifierKind>) {
    let path = "notifier";
    w.keys(t, path, NOTIFIER_KEYS);
    let mut n = NotifierConfig::default();
    let kind = w.get(t, "kind", path);
    if let Some(c) = w.table(t, "channels", path) {
        let cp = join(path, "channels");
        w.keys(c, &cp, CHANNEL_KEYS);
        w.set(c, "main", &cp, &mut n.channels.main);
        w.set(c, "cross_post", &cp, &mut n.channels.cross_post);
        w.set(c, "devops", &cp, &mut n.channels.devops);
    }
    w.set_opt(t, "webhook_url_file", path, &mut n.webhook_url_file);
    w.set_opt(
        t,
        "cross_post_webhook_url_file",
        path,
        &mut n.cross_post_webhook_url_file,
    );
    w.set_opt(
        t,
        "devops_webhook_url_file",
        path,
        &mut n.devops_webhook_url_file,
    );
    w.set_opt(t, "bot_token_file", path, &mut n.bot_token_file);
    w.set(t, "api_url", path, &mut n.api_url);
    (n, kind)
}

fn read_monitor(w: &mut Walk, t: &Table) -> MonitorConfig {
    let path = "monitor";
    w.keys(t, path, MONITOR_KEYS);
    let mut m = MonitorConfig::default();
    w.set(t, "kind", path, &mut m.kind);
    w.set(t, "min_requests", path, &mut m.min_requests);
    w.set(t, "max_error_rate", path, &mut m.max_error_rate);
    w.set(
        t,
        "max_error_rate_increase",
        path,
        &mut m.max_error_rate_increase,
    );
    w.set(
        t,
        "max_flow_success_drop",
        path,
        &mut m.max_flow_success_drop,
    );
    w.set(t, "poll_interval_secs", path, &mut m.poll_interval_secs);
    w.set_opt(t, "window_secs", path, &mut m.window_secs);
    w.set(t, "observe_secs", path, &mut m.observe_secs);
    if let Some(nr) = w.table(t, "newrelic", path) {
        let np = join(path, "newrelic");
        w.keys(nr, &np, NEWRELIC_KEYS);
        let n = &mut m.newrelic;
        w.set_opt(nr, "account_id", &np, &mut n.account_id);
        w.set(nr, "api_url", &np, &mut n.api_url);
        w.set(nr, "app_name_template", &np, &mut n.app_name_template);
        w.set(nr, "sha_attribute", &np, &mut n.sha_attribute);
        w.set(nr, "instance_attribute", &np, &mut n.instance_attribute);
        w.set_opt(nr, "api_key_file", &np, &mut n.api_key_file);
    }
    m
}

fn read_spans(w: &mut Walk, t: &Table, key: &str, path: &str) -> Option<Vec<DateSpan>> {
    let list = w.table_list(t, key, path, SPAN_KEYS)?;
    let mut out = Vec::new();
    for (sp, st) in list {
        let start = w.get(st, "start", &sp);
        let end = w.get(st, "end", &sp);
        let reason: String = w.get(st, "reason", &sp).unwrap_or_default();
        for (field, present) in [
            ("start", st.contains_key("start")),
            ("end", st.contains_key("end")),
        ] {
            if !present {
                w.problem(
                    &join(&sp, field),
                    "missing: a span needs `start` and `end` dates, like \
                     { start = 2026-12-21, end = 2027-01-01 }",
                );
            }
        }
        if let (Some(start), Some(end)) = (start, end) {
            out.push(DateSpan { start, end, reason });
        }
    }
    Some(out)
}

fn read_cadence(w: &mut Walk, t: &Table) -> CadenceConfig {
    let path = "cadence";
    w.keys(t, path, CADENCE_KEYS);
    let mut c = CadenceConfig::default();
    w.set(t, "deploy_days", path, &mut c.deploy_days);
    if let Some(f) = read_spans(w, t, "freezes", path) {
        c.freezes = f;
    }
    if let Some(l) = read_spans(w, t, "team_leave", path) {
        c.team_leave = l;
    }
    c
}

fn read_aws(w: &mut Walk, t: &Table) -> AwsConfig {
    let path = "aws";
    w.keys(t, path, AWS_KEYS);
    let mut a = AwsConfig::default();
    w.set(t, "region", path, &mut a.region);
    w.set_opt(t, "profile", path, &mut a.profile);
    w.set_opt(t, "endpoint_url", path, &mut a.endpoint_url);
    a
}

fn read_github(w: &mut Walk, t: &Table) -> GithubConfig {
    let path = "github";
    w.keys(t, path, GITHUB_KEYS);
    let mut g = GithubConfig::default();
    w.set(t, "api_url", path, &mut g.api_url);
    w.set_opt(t, "token_file", path, &mut g.token_file);
    g
}

fn read_redaction(w: &mut Walk, t: &Table) -> RedactionConfig {
    let path = "redaction";
    w.keys(t, path, REDACTION_KEYS);
    let mut r = RedactionConfig::default();
    w.set(t, "secure_parameters", path, &mut r.secure_parameters);
    w.set(t, "patterns", path, &mut r.patterns);
    r
}
