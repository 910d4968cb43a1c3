//! Behaviour of the configuration as a user sees it.

use std::collections::BTreeMap;

use super::*;
use crate::model::{AppSettings, ReleaseStyle};

pub(super) fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn paths(problems: &[ConfigProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.key_path.as_str()).collect()
}

#[test]
fn defaults_are_the_login_gov_setup() {
    let c = resolve(None, &none(), &none()).expect("defaults are valid");
    assert_eq!(c.apps.len(), 2);
    assert_eq!(c.apps["idp"], AppSettings::idp());
    assert_eq!(c.apps["pki"], AppSettings::pki());
    assert_eq!(
        c.environments.keys().collect::<Vec<_>>(),
        ["int", "prod", "staging"]
    );
    assert!(c.environments["prod"].production);
    assert!(!c.environments["staging"].production);
    assert!(!c.environments["int"].production);
    assert_eq!(c.environments["prod"].follow_up_after_secs, 3600);
    assert_eq!(c.notifier.channels.main, "#login-appdev");
    assert_eq!(c.notifier.channels.cross_post, "#login-delivery");
    assert_eq!(c.notifier.channels.devops, "#login-devops");
    assert_eq!(c.notifier.kind, NotifierKind::None);
    assert_eq!(c.monitor.kind, MonitorKind::Cloudwatch);
    assert_eq!(c.monitor.min_requests, 1000);
    assert_eq!(c.cadence.deploy_days, ["tue", "thu"]);
    assert_eq!(c.github.api_url, "https://api.github.com");
    assert_eq!(c, EffectiveConfig::default());
    assert!(check(None, &none(), &none()).is_empty());
}

#[test]
fn a_full_file_is_read() {
    let text = r##"
[apps.idp]
production_branch = "stages/production"
roles = [{ role = "idp", migrates = true }]

[apps.web]
repository = "example/web"
staging_deploy_status_url = "https://web.staging.example.gov/api/deploy.json"
release_style = "signed-tag"
roles = [{ role = "web" }]

[environments.prod]
production = true
spindown_secs = 600

[notifier]
kind = "none"
channels = { main = "#deploys" }

[monitor]
kind = "none"
max_error_rate = 0.02

[cadence]
deploy_days = ["mon", "wed"]
freezes = [{ start = 2026-12-21, end = 2027-01-01, reason = "holidays" }]
team_leave = [{ start = "2026-11-26", end = "2026-11-27" }]

[aws]
region = "us-east-1"
"##;
    let c = resolve(Some(text), &none(), &none()).expect("valid");
    assert_eq!(c.apps.keys().collect::<Vec<_>>(), ["idp", "web"]);
    assert_eq!(c.apps["idp"].production_branch, "stages/production");
    assert_eq!(c.apps["idp"].repository, "18F/identity-idp");
    assert_eq!(c.apps["idp"].roles.len(), 1);
    assert_eq!(c.apps["web"].release_style, ReleaseStyle::SignedTag);
    assert!(!c.apps["web"].roles[0].migrates);
    assert_eq!(c.environments.keys().collect::<Vec<_>>(), ["prod"]);
    assert_eq!(c.environments["prod"].spindown_secs, Some(600));
    assert_eq!(c.notifier.channels.main, "#deploys");
    assert_eq!(c.notifier.channels.cross_post, "#login-delivery");
    assert_eq!(c.monitor.max_error_rate, 0.02);
    assert_eq!(c.cadence.freezes[0].reason, "holidays");
    assert_eq!(c.cadence.freezes[0].end.to_string(), "2027-01-01");
    assert_eq!(c.cadence.team_leave.len(), 1);
    assert_eq!(c.aws.region, "us-east-1");
}

#[test]
fn precedence_is_file_then_env_then_flags() {
    let text = "[aws]\nregion = \"us-west-1\"\nprofile = \"file-profile\"\n\
                [environments.prod]\nproduction = true\nhealth_timeout_secs = 100\n";
    let c = resolve(Some(text), &none(), &none()).expect("valid");
    assert_eq!(c.aws.region, "us-west-1");

    let env = map(&[
        ("AWS_REGION", "us-east-1"),
        ("DEPLOYKIT__ENVIRONMENTS__PROD__HEALTH_TIMEOUT_SECS", "200"),
    ]);
    let c = resolve(Some(text), &env, &none()).expect("valid");
    assert_eq!(c.aws.region, "us-east-1", "env beats file");
    assert_eq!(c.aws.profile.as_deref(), Some("file-profile"));
    assert_eq!(c.environments["prod"].health_timeout_secs, 200);

    let env = map(&[
        ("AWS_REGION", "us-east-1"),
        ("DEPLOYKIT_AWS_REGION", "us-east-2"),
    ]);
    let c = resolve(Some(text), &env, &none()).expect("valid");
    assert_eq!(
        c.aws.region, "us-east-2",
        "DEPLOYKIT_ beats the standard variable"
    );

    let flags = map(&[
        ("aws.region", "eu-west-1"),
        ("environments.prod.health_timeout_secs", "300"),
    ]);
    let c = resolve(Some(text), &env, &flags).expect("valid");
    assert_eq!(c.aws.region, "eu-west-1", "flags beat env");
    assert_eq!(c.environments["prod"].health_timeout_secs, 300);
}

#[test]
fn unknown_key_names_the_path_and_the_closest_key() {
    let problems = check(
        Some("[apps.idp]\nrepositry = \"18F/identity-idp\"\n"),
        &none(),
        &none(),
    );
    assert_eq!(paths(&problems), ["apps.idp.repositry"]);
    assert!(
        problems[0].message.contains("did you mean `repository`?"),
        "{}",
        problems[0].message
    );
    let err = resolve(Some("[apps.idp]\nrepositry = \"x/y\"\n"), &none(), &none())
        .expect_err("unknown key");
    assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("apps.idp.repositry"));

    let problems = check(Some("[monitr]\nkind = \"none\"\n"), &none(), &none());
    assert_eq!(paths(&problems), ["monitr"]);
    assert!(problems[0].message.contains("`monitor`"));
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let text = r#"
[apps.idp]
repositry = "x"
release_style = "zip"
roles = [{ rol = "idp" }]

[apps.web]
promotion_label = "x"

[environments.prod]
migration_timeout_secs = "soon"
health_timeout_secs = 0

[monitor]
max_error_rate = 5.0
kind = "datadog"

[cadence]
deploy_days = ["tue", "someday"]
freezes = [{ start = 2027-01-02, end = 2027-01-01 }]

[github]
api_url = "ftp://x"
"#;
    let problems = check(Some(text), &none(), &none());
    let got = paths(&problems);
    for expected in [
        "apps.idp.repositry",
        "apps.idp.release_style",
        "apps.idp.roles[0].rol",
        "apps.idp.roles[0].role",
        "apps.web.repository",
        "apps.web.staging_deploy_status_url",
        "apps.web.roles",
        "environments.prod.migration_timeout_secs",
        "environments.prod.health_timeout_secs",
        "monitor.max_error_rate",
        "monitor.kind",
        "cadence.deploy_days[1]",
        "cadence.freezes[0]",
        "github.api_url",
    ] {
        assert!(got.contains(&expected), "missing {expected} in {got:?}");
    }
    assert_eq!(problems.len(), 14, "{problems:#?}");
}

#[test]
fn env_values_are_typed_and_bad_ones_name_their_variable() {
    let env = map(&[("DEPLOYKIT__MONITOR__MIN_REQUESTS", "many")]);
    let problems = check(None, &env, &none());
    assert_eq!(paths(&problems), ["monitor.min_requests"]);
    assert!(
        problems[0]
            .message
            .contains("environment variable DEPLOYKIT__MONITOR__MIN_REQUESTS")
    );

    let env = map(&[("DEPLOYKIT_AWS_REGON", "us-east-1")]);
    let problems = check(None, &env, &none());
    assert_eq!(paths(&problems), ["env DEPLOYKIT_AWS_REGON"]);
    assert!(problems[0].message.contains("DEPLOYKIT_AWS_REGION"));

    let env = map(&[("DEPLOYKIT__CADENCE__DEPLOY_DAYS", "[\"mon\", \"fri\"]")]);
    let c = resolve(None, &env, &none()).expect("valid");
    assert_eq!(c.cadence.deploy_days, ["mon", "fri"]);
}

#[test]
fn secrets_in_the_file_are_refused() {
    let text = "[notifier]\nwebhook_url = \"https://hooks.slack.com/services/T/B/x\"\n\
                [github]\ntoken = \"ghp_abc\"\n[monitor.newrelic]\napi_key = \"NRAK-1\"\n";
    let problems = check(Some(text), &none(), &none());
    assert_eq!(
        paths(&problems),
        [
            "notifier.webhook_url",
            "monitor.newrelic.api_key",
            "github.token"
        ]
    );
    assert!(problems[0].message.contains("SLACK_WEBHOOK_URL"));
    assert!(problems[0].message.contains("webhook_url_file"));
    assert!(problems[1].message.contains("NEW_RELIC_API_KEY"));
    assert!(problems[2].message.contains("GITHUB_TOKEN"));
    assert!(problems[2].message.contains("token_file"));
    for p in &problems {
        assert!(!p.message.contains("hooks.slack.com") && !p.message.contains("ghp_abc"));
    }
}

#[test]
fn secrets_come_from_env_or_files_and_show_redacts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("slack-token");
    std::fs::write(&token_file, "xoxb-file-token-123\n").expect("write");
    let text = format!(
        "[notifier]\nbot_token_file = {:?}\n",
        token_file.display().to_string()
    );
    let env = map(&[
        ("GH_TOKEN", "ghp_secret_value_42"),
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/zzz",
        ),
    ]);
    let c = resolve(Some(&text), &env, &none()).expect("valid");
    assert_eq!(
        c.notifier.kind,
        NotifierKind::SlackApi,
        "bot token chooses the Web API"
    );
    let token = c.secrets.slack_bot_token.as_ref().expect("token");
    assert_eq!(token.secret.expose(), "xoxb-file-token-123");
    assert_eq!(token.source, SecretSource::File(token_file.clone()));
    let gh = c.secrets.github_token.as_ref().expect("github token");
    assert_eq!(gh.source, SecretSource::Env("GH_TOKEN".into()));

    let shown = render_show(&c);
    for secret in [
        "xoxb-file-token-123",
        "ghp_secret_value_42",
        "hooks.slack.com",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        assert!(
            !format!("{c:?}").contains(secret),
            "{secret} leaked in Debug"
        );
    }
    assert!(shown.contains("[REDACTED]"));
    assert!(shown.contains("environment variable GH_TOKEN"));
    assert!(shown.contains(&token_file.display().to_string()));
    assert!(shown.contains("[apps.idp]"));
    assert!(shown.contains("repository = \"18F/identity-idp\""));

    let missing = "[notifier]\nbot_token_file = \"/nonexistent/deploykit-token\"\n";
    let problems = check(Some(missing), &none(), &none());
    assert!(
        paths(&problems).contains(&"notifier.bot_token_file"),
        "{problems:?}"
    );
}

#[test]
fn chosen_backends_need_their_secrets() {
    let text = "[notifier]\nkind = \"slack-webhook\"\n[monitor]\nkind = \"newrelic\"\n";
    let problems = check(Some(text), &none(), &none());
    assert_eq!(
        paths(&problems),
        [
            "monitor.newrelic.account_id",
            "monitor.newrelic.api_key_file",
            "notifier.webhook_url_file"
        ]
    );
    let env = map(&[
        ("NEW_RELIC_ACCOUNT_ID", "1376370"),
        ("NEW_RELIC_API_KEY", "NRAK-XYZ"),
        ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/a"),
    ]);
    let c = resolve(Some(text), &env, &none()).expect("valid");
    assert_eq!(c.monitor.newrelic.account_id, Some(1376370));
}

#[test]
fn the_new_relic_instance_attribute_is_read_and_defaults_to_host() {
    let c = resolve(None, &none(), &none()).expect("defaults");
    assert_eq!(c.monitor.newrelic.instance_attribute, "host");
    let text = "[monitor.newrelic]\ninstance_attribute = \"tags.instanceId\"\n";
    let c = resolve(Some(text), &none(), &none()).expect("valid");
    assert_eq!(c.monitor.newrelic.instance_attribute, "tags.instanceId");
    assert!(render_show(&c).contains("instance_attribute = \"tags.instanceId\""));
}

#[test]
fn show_output_is_toml_that_reads_back() {
    let c = EffectiveConfig::default();
    let shown = render_show(&c);
    let mut table: toml::Table = shown.parse().expect("show prints TOML");
    table.remove("secrets");
    let again = resolve(Some(&table.to_string()), &none(), &none()).expect("reads back");
    assert_eq!(again, c);
}

#[test]
fn invalid_toml_is_one_problem_at_file() {
    let problems = check(Some("[apps\n"), &none(), &none());
    assert_eq!(paths(&problems), ["file"]);
}

#[test]
fn relative_secret_files_are_read_next_to_the_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("nr-key"), "NRAK-from-file\n").expect("write");
    let file = dir.path().join("deploykit.toml");
    std::fs::write(
        &file,
        "[monitor]\nkind = \"newrelic\"\n[monitor.newrelic]\naccount_id = 42\napi_key_file = \"nr-key\"\n",
    )
    .expect("write");
    let c = resolve_file(Some(&file), &none(), &none()).expect("valid");
    assert_eq!(c.config_file.as_deref(), Some(file.as_path()));
    let key = c.secrets.new_relic_api_key.expect("key");
    assert_eq!(key.secret.expose(), "NRAK-from-file");
    assert_eq!(key.source, SecretSource::File(dir.path().join("nr-key")));
    let env = map(&[("NEW_RELIC_API_KEY", "NRAK-from-env")]);
    let c = resolve_file(Some(&file), &env, &none()).expect("valid");
    assert_eq!(
        c.secrets.new_relic_api_key.expect("key").secret.expose(),
        "NRAK-from-env",
        "the environment variable wins over the file"
    );
    let err = resolve_file(Some(&dir.path().join("absent.toml")), &none(), &none())
        .expect_err("missing file");
    assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
}

#[test]
#[ignore = "prints the default `config show` output for a person to read"]
fn print_show() {
    let env = map(&[("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/x")]);
    println!(
        "{}",
        render_show(&resolve(None, &env, &none()).expect("valid"))
    );
}

#[test]
fn front_end_variables_are_not_config_problems() {
    let env = map(&[("DEPLOYKIT_LOG", "debug"), ("DEPLOYKIT_SANDBOX", "1")]);
    assert!(check(None, &env, &none()).is_empty());
}

#[test]
fn redaction_rules_come_from_the_config() {
    let text = "[redaction]\nsecure_parameters = [\"/prod/idp/db_url\"]\npatterns = [\"AKIA[0-9A-Z]{16}\", \"(\"]\n";
    let problems = check(Some(text), &none(), &none());
    assert_eq!(paths(&problems), ["redaction.patterns[1]"]);
    let text = "[redaction]\nsecure_parameters = [\"/prod/idp/db_url\"]\npatterns = [\"AKIA[0-9A-Z]{16}\"]\n";
    let rules = resolve(Some(text), &none(), &none())
        .expect("valid")
        .redaction_rules()
        .expect("rules");
    assert_eq!(
        crate::notify::redact_config_diff("+ /prod/idp/db_url: x AKIAABCDEFGHIJKLMNOP", &rules),
        "+ /prod/idp/db_url: [REDACTED]"
    );
    assert_eq!(
        crate::notify::redact_config_diff("+ note: AKIAABCDEFGHIJKLMNOP", &rules),
        "+ note: [REDACTED]"
    );
}

#[test]
fn the_documented_example_is_valid_apart_from_its_secret_file() {
    let example = r##"
[apps.idp]
production_branch = "stages/prod"

[apps.idp.deploy_status_urls]
prod = "https://secure.login.gov/api/deploy.json"

[environments.prod]
production = true
follow_up_after_secs = 3600

[notifier]
kind = "slack-webhook"
webhook_url_file = "/run/secrets/slack-appdev"
channels = { main = "#login-appdev", cross_post = "#login-delivery", devops = "#login-devops" }

[monitor]
kind = "cloudwatch"
min_requests = 1000

[cadence]
deploy_days = ["tue", "thu"]
freezes = [{ start = 2026-12-21, end = 2027-01-01, reason = "holidays" }]
"##;
    let problems = check(Some(example), &none(), &none());
    assert_eq!(
        paths(&problems),
        ["notifier.webhook_url_file"],
        "{problems:?}"
    );
}

#[test]
fn redaction_rules_hide_every_known_secret_value() {
    let env = map(&[
        ("GITHUB_TOKEN", "ghp_audit0000000000000000000000000000"),
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B1/zz9",
        ),
    ]);
    let rules = resolve(None, &env, &none())
        .expect("valid")
        .redaction_rules()
        .expect("rules");
    assert_eq!(
        crate::notify::redact_config_diff(
            "+ ci_auth: ghp_audit0000000000000000000000000000\n- alerts: https://hooks.slack.com/services/T0/B1/zz9",
            &rules
        ),
        "+ ci_auth: [REDACTED]\n- alerts: [REDACTED]"
    );
}

#[test]
fn deploy_status_urls_are_read_per_environment_and_shown() {
    let text = r#"
[apps.idp.deploy_status_urls]
prod = "https://secure.login.gov/api/deploy.json"
int = "https://idp.int.identitysandbox.gov/api/deploy.json"
"#;
    let c = resolve(Some(text), &none(), &none()).expect("valid");
    let idp = &c.apps["idp"];
    assert_eq!(
        idp.deploy_status_url("prod"),
        Some("https://secure.login.gov/api/deploy.json")
    );
    assert_eq!(
        idp.deploy_status_url("int"),
        Some("https://idp.int.identitysandbox.gov/api/deploy.json")
    );
    // The built-in staging URL is kept.
    assert_eq!(
        idp.deploy_status_url("staging"),
        Some("https://idp.staging.login.gov/api/deploy.json")
    );
    let shown = render_show(&c);
    assert!(shown.contains("[apps.idp.deploy_status_urls]"), "{shown}");
    assert!(
        shown.contains("prod = \"https://secure.login.gov/api/deploy.json\""),
        "{shown}"
    );
    // What `config show` prints reads back as the same configuration.
    let mut table: toml::Table = shown.parse().expect("show prints TOML");
    table.remove("secrets");
    let again = resolve(Some(&table.to_string()), &none(), &none()).expect("reads back");
    assert_eq!(again, c);
}

#[test]
fn the_staging_entry_sets_the_staging_url() {
    let text = r#"
[apps.web]
repository = "example/web"
roles = [{ role = "web" }]
deploy_status_urls = { staging = "https://web.staging.example.gov/api/deploy.json", prod = "https://web.example.gov/api/deploy.json" }
"#;
    let c = resolve(Some(text), &none(), &none()).expect("valid: staging comes from the table");
    let web = &c.apps["web"];
    assert_eq!(
        web.staging_deploy_status_url,
        "https://web.staging.example.gov/api/deploy.json"
    );
    assert_eq!(
        web.all_deploy_status_urls(),
        vec![
            ("staging", "https://web.staging.example.gov/api/deploy.json"),
            ("prod", "https://web.example.gov/api/deploy.json"),
        ]
    );
    // Both forms with the same URL agree: no problem.
    let same = r#"
[apps.idp]
staging_deploy_status_url = "https://idp.staging.example.gov/api/deploy.json"
deploy_status_urls = { staging = "https://idp.staging.example.gov/api/deploy.json" }
"#;
    assert!(check(Some(same), &none(), &none()).is_empty());
}

#[test]
fn a_conflicting_staging_url_is_refused() {
    let text = r#"
[apps.idp]
staging_deploy_status_url = "https://old.staging.example.gov/api/deploy.json"

[apps.idp.deploy_status_urls]
staging = "https://new.staging.example.gov/api/deploy.json"
"#;
    let problems = check(Some(text), &none(), &none());
    assert_eq!(
        paths(&problems),
        ["apps.idp.deploy_status_urls.staging"],
        "{problems:?}"
    );
    let message = &problems[0].message;
    assert!(
        message.contains("apps.idp.staging_deploy_status_url"),
        "{message}"
    );
    assert!(message.contains("keep one"), "{message}");
    assert!(
        message.contains("https://old.staging.example.gov/api/deploy.json"),
        "{message}"
    );
    // The same conflict through a flag override names where the value came from.
    let flags = map(&[(
        "apps.idp.deploy_status_urls.staging",
        "https://flag.example.gov/api/deploy.json",
    )]);
    let problems = check(
        Some("[apps.idp]\nstaging_deploy_status_url = \"https://file.example.gov/d.json\"\n"),
        &none(),
        &flags,
    );
    assert_eq!(paths(&problems), ["apps.idp.deploy_status_urls.staging"]);
}

#[test]
fn a_flag_or_variable_sets_a_list_of_tables_written_as_toml() {
    let flags = map(&[(
        "cadence.freezes",
        r#"[{ start = 2026-12-21, end = 2027-01-01, reason = "holidays" }]"#,
    )]);
    let c = resolve(None, &none(), &flags).expect("valid");
    assert_eq!(c.cadence.freezes.len(), 1);
    assert_eq!(c.cadence.freezes[0].reason, "holidays");
    assert_eq!(c.cadence.freezes[0].start.to_string(), "2026-12-21");
    let env = map(&[(
        "DEPLOYKIT__CADENCE__TEAM_LEAVE",
        r#"[{ start = "2026-12-24", end = "2026-12-26" }]"#,
    )]);
    let c = resolve(None, &env, &none()).expect("valid");
    assert_eq!(c.cadence.team_leave[0].end.to_string(), "2026-12-26");
    // A span missing its end still names the key path and where it came from.
    let flags = map(&[("cadence.freezes", "[{ start = 2026-12-21 }]")]);
    let problems = check(None, &none(), &flags);
    assert_eq!(paths(&problems), ["cadence.freezes[0].end"]);
    // Not TOML: still a string, refused as before, naming the flag.
    let flags = map(&[("cadence.freezes", "[2026-12-21 to 2027-01-01]")]);
    let problems = check(None, &none(), &flags);
    let message = only_problem(&problems, "cadence.freezes");
    assert!(message.contains("expected a list"), "{message}");
    assert!(message.contains("set by flag cadence.freezes"), "{message}");
    // A value that only looks like TOML where a string is expected stays that string.
    let flags = map(&[("notifier.channels.main", "#login-appdev")]);
    let c = resolve(None, &none(), &flags).expect("valid");
    assert_eq!(c.notifier.channels.main, "#login-appdev");
}

#[test]
fn bad_deploy_status_urls_name_their_key_path() {
    let text = r#"
[apps.idp.deploy_status_urls]
prod = "secure.login.gov/api/deploy.json"
Prod = "https://secure.login.gov/api/deploy.json"
int = 3
dev = ""

[apps.pki]
deploy_status_urls = "https://pivcac.prod.login.gov/api/deploy.json"
"#;
    let problems = check(Some(text), &none(), &none());
    assert_eq!(
        paths(&problems),
        [
            "apps.idp.deploy_status_urls.Prod",
            "apps.idp.deploy_status_urls.dev",
            "apps.idp.deploy_status_urls.int",
            "apps.idp.deploy_status_urls.prod",
            "apps.pki.deploy_status_urls",
        ],
        "{problems:?}"
    );
    let at = |p: &str| {
        &problems
            .iter()
            .find(|x| x.key_path == p)
            .expect("problem")
            .message
    };
    let bad_url = at("apps.idp.deploy_status_urls.prod");
    assert!(bad_url.contains("expected an http(s) URL"), "{bad_url}");
    assert!(
        bad_url.contains("\"secure.login.gov/api/deploy.json\""),
        "{bad_url}"
    );
    let bad_env = at("apps.idp.deploy_status_urls.Prod");
    assert!(bad_env.contains("environment names"), "{bad_env}");
    assert!(bad_env.contains("lowercase"), "{bad_env}");
    assert_eq!(at("apps.idp.deploy_status_urls.int"), "3 is not a string");
    assert!(at("apps.pki.deploy_status_urls").contains("expected a table"));
    // Unknown keys near the new one are suggested.
    let problems = check(
        Some("[apps.idp]\ndeploy_status_url = \"https://x.example.gov/api/deploy.json\"\n"),
        &none(),
        &none(),
    );
    assert!(
        problems[0]
            .message
            .contains("did you mean `deploy_status_urls`?")
            || problems[0]
                .message
                .contains("did you mean `staging_deploy_status_url`?"),
        "{problems:?}"
    );
}

/// The one problem at `path`, or a panic listing them all.
fn only_problem(problems: &[ConfigProblem], path: &str) -> String {
    assert_eq!(paths(problems), [path], "{problems:#?}");
    problems[0].message.clone()
}

#[test]
fn a_bad_value_names_what_was_given_and_what_is_expected() {
    // From a flag: every value is a string.
    let problems = check(None, &none(), &map(&[("monitor.min_requests", "-3")]));
    assert_eq!(
        only_problem(&problems, "monitor.min_requests"),
        "\"-3\" is not a whole number of 0 or more (set by flag monitor.min_requests)"
    );
    assert_eq!(
        problems[0].to_string(),
        "monitor.min_requests: \"-3\" is not a whole number of 0 or more (set by flag \
         monitor.min_requests)"
    );
    // From the file, without a doubled "invalid value" prefix.
    let problems = check(Some("[monitor]\nmin_requests = -1\n"), &none(), &none());
    assert_eq!(
        only_problem(&problems, "monitor.min_requests"),
        "-1 is not a whole number of 0 or more"
    );
    let problems = check(
        Some("[cadence]\nfreezes = [{ start = \"2026-02-30\", end = 2026-03-01 }]\n"),
        &none(),
        &none(),
    );
    assert_eq!(
        only_problem(&problems, "cadence.freezes[0].start"),
        "\"2026-02-30\" is written YYYY-MM-DD but there is no such day in the calendar \
         (February 2026 has 28 days)"
    );
    let problems = check(
        None,
        &map(&[("DEPLOYKIT__MONITOR__MAX_ERROR_RATE", "lots")]),
        &none(),
    );
    assert_eq!(
        only_problem(&problems, "monitor.max_error_rate"),
        "\"lots\" is not a number (set by environment variable \
         DEPLOYKIT__MONITOR__MAX_ERROR_RATE)"
    );
    let problems = check(Some("[monitor]\nkind = \"datadog\"\n"), &none(), &none());
    assert_eq!(
        only_problem(&problems, "monitor.kind"),
        "\"datadog\" is not one of \"cloudwatch\", \"newrelic\", \"none\""
    );
    let problems = check(Some("[notifier]\nkind = 1\n"), &none(), &none());
    assert_eq!(
        only_problem(&problems, "notifier.kind"),
        "1 is not one of \"slack-webhook\", \"slack-api\", \"none\""
    );
    let problems = check(
        Some("[apps.idp]\nrelease_style = \"zip\"\n"),
        &none(),
        &none(),
    );
    assert_eq!(
        only_problem(&problems, "apps.idp.release_style"),
        "\"zip\" is not one of \"github-release\", \"signed-tag\""
    );
    let problems = check(
        Some("[environments.prod]\nproduction = \"yes\"\n"),
        &none(),
        &none(),
    );
    assert_eq!(
        only_problem(&problems, "environments.prod.production"),
        "\"yes\" is not true or false"
    );
    let problems = check(Some("[cadence]\ndeploy_days = \"tue\"\n"), &none(), &none());
    assert_eq!(
        only_problem(&problems, "cadence.deploy_days"),
        "\"tue\" is not a list of strings, like [\"tue\", \"thu\"]"
    );
    // A name's own check says what a name may hold.
    let problems = check(
        Some("[apps.idp]\nroles = [{ role = \"IDP\" }]\n"),
        &none(),
        &none(),
    );
    let message = only_problem(&problems, "apps.idp.roles[0].role");
    assert!(
        message.starts_with("invalid role name \"IDP\": expected 1 to 40 lowercase"),
        "{message}"
    );
    // No serde wording reaches the user.
    for text in [
        "[monitor]\nmin_requests = 1.5\nwindow_secs = \"soon\"\n",
        "[aws]\nregion = 3\n",
        "[github]\ntoken_file = [1]\n",
    ] {
        for p in check(Some(text), &none(), &none()) {
            for serde_words in [
                "invalid value",
                "invalid type",
                "expected u64",
                "expected f64",
            ] {
                assert!(!p.message.contains(serde_words), "{p}");
            }
            assert!(p.message.contains(" is not "), "{p}");
        }
    }
}

#[test]
fn values_that_make_no_sense_are_refused() {
    let text = "[apps.idp]\nproduction_branch = \"\"\n\n[monitor]\nobserve_secs = 0\n\
                min_requests = 0\n";
    let problems = check(Some(text), &none(), &none());
    assert_eq!(
        paths(&problems),
        [
            "apps.idp.production_branch",
            "monitor.observe_secs",
            "monitor.min_requests",
        ],
        "{problems:#?}"
    );
    assert_eq!(
        problems[0].message,
        "expected a branch name like \"stages/prod\", found an empty string"
    );
    assert_eq!(problems[1].message, "expected more than 0 seconds, found 0");
    assert!(
        problems[2].message.starts_with("expected at least 1 (")
            && problems[2].message.ends_with("found 0"),
        "{}",
        problems[2].message
    );
    let err = resolve(Some(text), &none(), &none()).expect_err("refused");
    assert!(err.to_string().contains("monitor.observe_secs"), "{err}");
    let flags = map(&[("apps.pki.main_branch", " ")]);
    let problems = check(None, &none(), &flags);
    assert_eq!(paths(&problems), ["apps.pki.main_branch"], "{problems:#?}");
}

#[test]
fn show_as_json_is_the_shown_configuration_with_secrets_redacted() {
    let env = map(&[("GITHUB_TOKEN", "ghp_secretvalue123")]);
    let c = resolve(None, &env, &none()).expect("valid");
    let doc = show_json(&c);
    assert_eq!(doc["config_file"], serde_json::Value::Null);
    assert_eq!(doc["monitor"]["min_requests"], 1000);
    assert_eq!(doc["apps"]["idp"]["production_branch"], "stages/prod");
    assert_eq!(
        doc["cadence"]["deploy_days"],
        serde_json::json!(["tue", "thu"])
    );
    assert_eq!(doc["secrets"]["github_token"]["value"], REDACTED);
    assert_eq!(
        doc["secrets"]["github_token"]["source"],
        "environment variable GITHUB_TOKEN"
    );
    assert_eq!(doc["secrets"]["slack_bot_token"]["source"], "not set");
    assert!(!doc.to_string().contains("ghp_secretvalue123"), "{doc}");
    // The same keys as the TOML form.
    let shown: toml::Table = render_show(&c).parse().expect("TOML");
    for key in shown.keys() {
        assert!(doc.get(key).is_some(), "{key} missing from {doc}");
    }
}

#[test]
fn each_app_has_its_own_smoke_tests_and_a_file_can_name_them() {
    let c = resolve(None, &none(), &none()).expect("defaults");
    let tests_of = |c: &EffectiveConfig, app: &str| c.apps[app].smoke_tests.join("; ");
    // The guide's checks for the IdP; signing in with a card for the PIV/CAC server.
    assert!(
        tests_of(&c, "idp").contains("Test proofing"),
        "{}",
        tests_of(&c, "idp")
    );
    assert!(
        tests_of(&c, "pki").contains("PIV/CAC card"),
        "{}",
        tests_of(&c, "pki")
    );
    let text = "[apps.pki]\nsmoke_tests = [\"Sign in with a CAC at the agency test site\"]\n";
    let c = resolve(Some(text), &none(), &none()).expect("valid");
    assert_eq!(
        tests_of(&c, "pki"),
        "Sign in with a CAC at the agency test site"
    );
    let err = resolve(
        Some("[apps.pki]\nsmoke_tests = \"one\"\n"),
        &none(),
        &none(),
    )
    .expect_err("not a list");
    assert!(err.to_string().contains("apps.pki.smoke_tests"), "{err}");
}
