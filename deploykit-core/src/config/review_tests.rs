//! Bounds, secrets kept out of messages, and the clearer messages a user review asked for.

use super::tests::{map, none};
use super::*;

/// The one problem at `path`, or a panic listing them all.
fn only_problem(problems: &[ConfigProblem], path: &str) -> String {
    let paths: Vec<&str> = problems.iter().map(|p| p.key_path.as_str()).collect();
    assert_eq!(paths, [path], "{problems:#?}");
    problems[0].message.clone()
}

fn flag(key: &str, value: &str) -> Vec<ConfigProblem> {
    check(None, &none(), &map(&[(key, value)]))
}

#[test]
fn durations_and_counts_have_an_upper_bound_naming_the_range() {
    let message = only_problem(
        &flag("monitor.poll_interval_secs", "9223372036854775807"),
        "monitor.poll_interval_secs",
    );
    assert!(
        message.starts_with("9223372036854775807 is too large (at most 300): "),
        "{message}"
    );
    assert!(
        message.contains("1 to 300 seconds (5 minutes)"),
        "{message}"
    );
    let message = only_problem(
        &flag("monitor.poll_interval_secs", "100000"),
        "monitor.poll_interval_secs",
    );
    assert!(
        message.starts_with("100000 is too large (at most 300)"),
        "{message}"
    );
    for (key, max) in [
        ("environments.prod.migration_timeout_secs", "86400"),
        ("environments.prod.health_timeout_secs", "86400"),
        ("environments.prod.follow_up_after_secs", "604800"),
        ("environments.prod.spindown_secs", "86400"),
        ("monitor.observe_secs", "86400"),
        ("monitor.window_secs", "43200"),
        ("monitor.min_requests", "10000000"),
    ] {
        let message = only_problem(&flag(key, "99999999999"), key);
        assert!(
            message.starts_with(&format!("99999999999 is too large (at most {max})")),
            "{key}: {message}"
        );
    }
    let message = only_problem(
        &check(
            Some("[monitor.newrelic]\naccount_id = 0\n"),
            &none(),
            &none(),
        ),
        "monitor.newrelic.account_id",
    );
    assert!(
        message.starts_with("0 is too small (at least 1)"),
        "{message}"
    );
    // The defaults and the guide's values are well inside.
    assert!(check(None, &none(), &none()).is_empty());
}

#[test]
fn the_poll_interval_stays_well_below_the_timeouts_and_the_window() {
    let text = "[environments.prod]\nproduction = true\nhealth_timeout_secs = 120\n";
    let problems = check(
        Some(text),
        &none(),
        &map(&[("monitor.poll_interval_secs", "31")]),
    );
    let message = only_problem(&problems, "monitor.poll_interval_secs");
    assert!(
        message.starts_with("31 is too large (at most 30)")
            && message.contains("environments.prod.health_timeout_secs (120 s)"),
        "{message}"
    );
    assert!(
        check(
            Some(text),
            &none(),
            &map(&[("monitor.poll_interval_secs", "30")])
        )
        .is_empty()
    );
    // A window of 100 s (300 s watched in 3 windows) is waited out in polls of at most 100 s.
    let problems = check(
        Some("[monitor]\nobserve_secs = 300\npoll_interval_secs = 120\n"),
        &none(),
        &none(),
    );
    let message = only_problem(&problems, "monitor.poll_interval_secs");
    assert!(
        message.starts_with("120 is too large (at most 100)")
            && message.contains("one monitor window"),
        "{message}"
    );
}

#[test]
fn a_watch_too_short_to_judge_a_window_is_refused_saying_why() {
    let message = only_problem(&flag("monitor.observe_secs", "10"), "monitor.observe_secs");
    assert!(
        message.starts_with("10 is too small (at least 60)"),
        "{message}"
    );
    assert!(
        message.contains("min_requests") && message.contains("inconclusive"),
        "{message}"
    );
    let message = only_problem(&flag("monitor.window_secs", "5"), "monitor.window_secs");
    assert!(
        message.starts_with("5 is too small (at least 20)"),
        "{message}"
    );
    assert!(check(None, &none(), &map(&[("monitor.observe_secs", "60")])).is_empty());
    // With no monitor, or a local fake one (a test rig), the watch may be short.
    assert!(
        check(
            Some("[monitor]\nkind = \"none\"\nobserve_secs = 3\npoll_interval_secs = 1\n"),
            &none(),
            &none()
        )
        .is_empty()
    );
    let local = "[monitor]\nkind = \"newrelic\"\nobserve_secs = 3\npoll_interval_secs = 1\n\
                 [monitor.newrelic]\napi_url = \"http://127.0.0.1:9/graphql\"\naccount_id = 1\n";
    let env = map(&[("NEW_RELIC_API_KEY", "NRAK-LOCAL")]);
    assert!(check(Some(local), &env, &none()).is_empty());
    let real = local.replace(
        "http://127.0.0.1:9/graphql",
        "https://api.newrelic.com/graphql",
    );
    let problems = check(Some(&real), &env, &none());
    assert_eq!(
        problems[0].key_path, "monitor.observe_secs",
        "{problems:#?}"
    );
}

#[test]
fn a_team_leave_span_is_at_most_a_year() {
    let flags = map(&[(
        "cadence.team_leave",
        "[{ start = 0001-01-01, end = 9999-12-31 }]",
    )]);
    let message = only_problem(&check(None, &none(), &flags), "cadence.team_leave[0]");
    assert!(message.contains("at most 366 days"), "{message}");
}

#[test]
fn a_zero_error_rate_ceiling_is_refused() {
    let message = only_problem(
        &flag("monitor.max_error_rate", "0"),
        "monitor.max_error_rate",
    );
    assert!(message.contains("above 0 and at most 1"), "{message}");
    assert!(flag("monitor.max_error_rate_increase", "0").is_empty());
}

/// Every problem, its key path and message, as one text to search.
fn all_text(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn problems_never_print_a_secret_deploykit_was_given() {
    let env = map(&[
        ("NEW_RELIC_API_KEY", "NRAK-SECRETNR"),
        ("GITHUB_TOKEN", "ghp_FAKE"),
        ("SLACK_BOT_TOKEN", "xoxb-SECRETBOT"),
        ("DEPLOYKIT__NOTIFIER__KIND", "xoxb-SECRETBOT"),
    ]);
    let text = "[monitor.newrelic]\naccount_id = \"NRAK-SECRETNR\"\n";
    let flags = map(&[
        ("github.api_url", "ghp_FAKE"),
        ("apps.idp.remote", "x"),
        ("ghp_FAKE", "1"),
    ]);
    let problems = check(Some(text), &env, &flags);
    let shown = all_text(&problems);
    for secret in ["NRAK-SECRETNR", "ghp_FAKE", "xoxb-SECRETBOT"] {
        assert!(!shown.contains(secret), "{secret} printed:\n{shown}");
    }
    for path in [
        "monitor.newrelic.account_id",
        "github.api_url",
        "notifier.kind",
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.key_path == path && p.message.contains("[REDACTED]")),
            "{path}:\n{shown}"
        );
    }
    // A secret read from a file is hidden the same way, also inside a longer value.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bot");
    std::fs::write(&file, "xoxb-FROMFILE\n").expect("write");
    let text = format!(
        "[notifier]\nbot_token_file = {:?}\napi_url = \"see-xoxb-FROMFILE\"\n",
        file.display().to_string()
    );
    let problems = check(Some(&text), &none(), &none());
    let message = only_problem(&problems, "notifier.api_url");
    assert_eq!(message, "expected an http(s) URL, found \"see-[REDACTED]\"");
    // URL passwords and secret query parameters, secret or not to deploykit.
    let flags = map(&[(
        "monitor.newrelic.api_url",
        "ftp://x-access-token:ghp_OTHER@example.gov/graphql?api_key=k123",
    )]);
    let message = only_problem(&check(None, &none(), &flags), "monitor.newrelic.api_url");
    assert!(
        !message.contains("ghp_OTHER") && !message.contains("k123"),
        "{message}"
    );
    assert!(
        message.contains("x-access-token:[REDACTED]@example.gov"),
        "{message}"
    );
}

#[test]
fn a_token_in_a_file_key_is_called_the_secret_itself_without_printing_it() {
    for (key, value) in [
        ("github.token_file", "ghp_FAKE123"),
        ("notifier.bot_token_file", "xoxb-1-2-3"),
        ("monitor.newrelic.api_key_file", "NRAK-ABC"),
        (
            "notifier.webhook_url_file",
            "https://hooks.slack.com/services/T0/B0/abc",
        ),
    ] {
        let problems = check(None, &none(), &map(&[(key, value)]));
        let message = only_problem(&problems, key);
        assert!(
            message
                .starts_with("this looks like the secret itself, not a path to a file holding it"),
            "{message}"
        );
        assert!(!message.contains(value), "{message}");
        assert!(!message.contains("cannot read"), "{message}");
    }
    // Even when the environment variable wins and the file is not read.
    let env = map(&[("GITHUB_TOKEN", "ghp_ENV")]);
    let problems = check(Some("[github]\ntoken_file = \"ghp_FAKE\"\n"), &env, &none());
    assert!(!all_text(&problems).contains("ghp_FAKE"));
    assert_eq!(problems[0].key_path, "github.token_file");
}

#[test]
fn config_show_hides_secrets_and_url_credentials() {
    let env = map(&[("GH_TOKEN", "ghp_UNUSED"), ("GITHUB_TOKEN", "ghp_USED")]);
    let text = "[github]\napi_url = \"https://x-access-token:ghp_PASS@github.example/api\"\n\
                [monitor.newrelic]\napi_url = \"https://nr.example/graphql?api_key=k123\"\n\
                [aws]\nprofile = \"ghp_UNUSED\"\n";
    let c = resolve(Some(text), &env, &none()).expect("valid");
    let toml_text = render_show(&c);
    let json_text = show_json(&c).to_string();
    for shown in [&toml_text, &json_text] {
        for secret in ["ghp_PASS", "k123", "ghp_UNUSED", "ghp_USED"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
        assert!(
            shown.contains("x-access-token:[REDACTED]@github.example"),
            "{shown}"
        );
        assert!(shown.contains("api_key=[REDACTED]"), "{shown}");
    }
    // A token in a `*_file` key is hidden whole.
    let mut c = EffectiveConfig::default();
    c.github.token_file = Some("ghp_FAKE_PASTED".into());
    for shown in [render_show(&c), show_json(&c).to_string()] {
        assert!(!shown.contains("ghp_FAKE_PASTED"), "{shown}");
    }
}

#[test]
fn a_secret_file_beside_its_winning_environment_variable_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("gh");
    std::fs::write(&file, "ghp_FILE\n").expect("write");
    let text = format!("[github]\ntoken_file = {:?}\n", file.display().to_string());
    let env = map(&[("GITHUB_TOKEN", "ghp_ENV_VALUE")]);
    let report = check_report(Some(&text), &env, &none());
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    let w = &report.warnings[0];
    assert_eq!(w.key_path, "github.token_file");
    assert!(
        w.message.contains("ignored") && w.message.contains("GITHUB_TOKEN is set"),
        "{w}"
    );
    assert!(!w.message.contains("ghp_ENV_VALUE"), "{w}");
    let c = resolve(Some(&text), &env, &none()).expect("valid");
    assert_eq!(c.warnings, report.warnings);
    // Without the variable the file is used and nothing is said.
    assert!(
        check_report(Some(&text), &none(), &none())
            .warnings
            .is_empty()
    );
}

#[test]
fn numbers_out_of_range_say_too_large_or_not_whole() {
    let message = only_problem(
        &flag("monitor.min_requests", "18446744073709551615"),
        "monitor.min_requests",
    );
    assert!(
        message.starts_with("\"18446744073709551615\" is too large (at most 10000000)"),
        "{message}"
    );
    let message = only_problem(&flag("monitor.min_requests", "1e9"), "monitor.min_requests");
    assert!(
        message.starts_with("\"1e9\" is not a whole number (write 1000000000"),
        "{message}"
    );
    let message = only_problem(
        &check(Some("[monitor]\nmin_requests = 1.5\n"), &none(), &none()),
        "monitor.min_requests",
    );
    assert!(
        message.starts_with("1.5 is not a whole number"),
        "{message}"
    );
    assert!(!message.contains("0 or more"), "{message}");
    // A key with no range of its own names the largest number there is.
    let message = only_problem(
        &flag("monitor.newrelic.account_id", "99999999999999999999"),
        "monitor.newrelic.account_id",
    );
    assert!(
        message.contains("is too large (at most 9223372036854775807)"),
        "{message}"
    );
}

#[test]
fn an_impossible_date_is_no_such_day() {
    let flags = map(&[(
        "cadence.team_leave",
        r#"[{ start = "2026-02-30", end = "2026-13-01" }]"#,
    )]);
    let problems = check(None, &none(), &flags);
    let at = |p: &str| {
        problems
            .iter()
            .find(|x| x.key_path == p)
            .map(|x| x.message.clone())
            .unwrap_or_else(|| panic!("no problem at {p}: {problems:#?}"))
    };
    let start = at("cadence.team_leave[0].start");
    assert!(
        start.starts_with("\"2026-02-30\" is written YYYY-MM-DD but there is no such day")
            && start.contains("February 2026 has 28 days"),
        "{start}"
    );
    let end = at("cadence.team_leave[0].end");
    assert!(
        end.contains("no such day") && end.contains("no month 13"),
        "{end}"
    );
    // Not written YYYY-MM-DD at all: the format is what to fix.
    let flags = map(&[(
        "cadence.freezes",
        r#"[{ start = "21/12/2026", end = "2027-01-01" }]"#,
    )]);
    let message = only_problem(&check(None, &none(), &flags), "cadence.freezes[0].start");
    assert!(
        message.contains("is not a date written YYYY-MM-DD"),
        "{message}"
    );
}

#[test]
fn an_app_with_no_role_or_a_role_twice_is_refused() {
    let message = only_problem(
        &check(Some("[apps.idp]\nroles = []\n"), &none(), &none()),
        "apps.idp.roles",
    );
    assert!(
        message.starts_with("an app needs at least one role") && message.contains("role = \"idp\""),
        "{message}"
    );
    let message = only_problem(&flag("apps.pki.roles", "[]"), "apps.pki.roles");
    assert!(message.contains("set by flag apps.pki.roles"), "{message}");
    let text = "[apps.idp]\nroles = [{ role = \"idp\", migrates = true }, { role = \"worker\" }, \
                { role = \"idp\" }]\n";
    let message = only_problem(
        &check(Some(text), &none(), &none()),
        "apps.idp.roles[2].role",
    );
    assert_eq!(
        message,
        "role \"idp\" is listed twice (also at apps.idp.roles[0]); list each role once"
    );
}

#[test]
fn a_bad_account_id_is_not_also_called_missing() {
    let env = map(&[
        ("NEW_RELIC_ACCOUNT_ID", "abc"),
        ("NEW_RELIC_API_KEY", "NRAK-X1"),
        ("DEPLOYKIT_MONITOR_KIND", "newrelic"),
    ]);
    let message = only_problem(&check(None, &env, &none()), "monitor.newrelic.account_id");
    assert!(
        message.starts_with("\"abc\" is not a whole number"),
        "{message}"
    );
    assert!(!message.contains("no account id"), "{message}");
}

#[test]
fn a_flag_written_as_broken_toml_reports_the_syntax_error() {
    let flags = map(&[(
        "cadence.freezes",
        "[{ start = 2026-12-21, end = 2027-01-01 }",
    )]);
    let message = only_problem(&check(None, &none(), &flags), "cadence.freezes");
    assert!(message.contains("is not valid TOML"), "{message}");
    assert!(message.contains("(at character"), "{message}");
    assert!(message.contains("set by flag cadence.freezes"), "{message}");
    let env = map(&[("DEPLOYKIT__CADENCE__DEPLOY_DAYS", "[\"mon\", \"fri\"")]);
    let message = only_problem(&check(None, &env, &none()), "cadence.deploy_days");
    assert!(message.contains("is not valid TOML"), "{message}");
    // A string key takes such a value as it is.
    let c = resolve(None, &none(), &map(&[("notifier.channels.main", "[ops")])).expect("valid");
    assert_eq!(c.notifier.channels.main, "[ops");
}

#[test]
fn an_unknown_single_underscore_variable_is_not_silently_ignored() {
    let env = map(&[("DEPLOYKIT_MONITOR_MIN_REQUESTS", "abc")]);
    let message = only_problem(
        &check(None, &env, &none()),
        "env DEPLOYKIT_MONITOR_MIN_REQUESTS",
    );
    assert!(
        message.contains("DEPLOYKIT__SECTION__KEY")
            && message.contains("use DEPLOYKIT__MONITOR__MIN_REQUESTS"),
        "{message}"
    );
    assert!(!message.contains("abc"), "{message}");
    // Not a setting: a warning, not a problem.
    let env = map(&[("DEPLOYKIT_FROBNICATE", "1")]);
    let report = check_report(None, &env, &none());
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(report.warnings[0].key_path, "env DEPLOYKIT_FROBNICATE");
    assert!(
        report.warnings[0]
            .message
            .contains("DEPLOYKIT__SECTION__KEY")
    );
    // The supported single-underscore variables and the front ends' own say nothing.
    let env = map(&[
        ("DEPLOYKIT_MONITOR_KIND", "none"),
        ("DEPLOYKIT_NOTIFIER_KIND", "none"),
        ("DEPLOYKIT_AWS_REGION", "us-east-1"),
        ("DEPLOYKIT_GIT_NAME", "Deploy Bot"),
        ("DEPLOYKIT_LOG", "debug"),
        ("DEPLOYKIT_CONFIG", "/nonexistent"),
    ]);
    let report = check_report(None, &env, &none());
    assert_eq!(report, CheckReport::default());
}

#[test]
fn each_list_key_has_its_own_example() {
    for (key, example) in [
        (
            "apps.idp.smoke_tests",
            r#"like ["Sign in to an account", "Sign up for an account"]"#,
        ),
        (
            "redaction.secure_parameters",
            r#"like ["/prod/idp/database_url"]"#,
        ),
        ("redaction.patterns", r#"like ["AKIA[0-9A-Z]{16}"]"#),
        ("cadence.deploy_days", r#"like ["tue", "thu"]"#),
    ] {
        let message = only_problem(&flag(key, "3"), key);
        assert!(
            message.starts_with(&format!("\"3\" is not a list of strings, {example}")),
            "{key}: {message}"
        );
    }
}

#[test]
fn a_missing_config_file_given_with_the_flag_says_only_to_check_the_path() {
    let missing = std::path::Path::new("/nonexistent/deploykit-review/dk.toml");
    let err = load(Some(missing), &none()).expect_err("missing file");
    let text = err.to_string();
    assert!(
        text.contains("cannot read the configuration file /nonexistent/deploykit-review/dk.toml")
            && text.ends_with("check the path"),
        "{text}"
    );
    assert!(!text.contains("--config"), "{text}");
    let err = resolve_file(Some(missing), &none(), &none()).expect_err("missing file");
    assert!(!err.to_string().contains("--config"), "{err}");
}

/// With Slack webhooks, each channel has its own: with only the main one, the guide's
/// cross-posts (pending release PRs to the cross-post channel, recycles to the devops one)
/// would silently not happen, so `config check` warns, naming each channel and how to set it.
#[test]
fn webhooks_missing_for_the_cross_posts_are_warned_about() {
    let hook = "https://hooks.slack.com/services/T0/B0/main";
    let report = check_report(None, &map(&[("SLACK_WEBHOOK_URL", hook)]), &none());
    assert!(report.problems.is_empty(), "{report:?}");
    let paths: Vec<&str> = report
        .warnings
        .iter()
        .map(|w| w.key_path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "notifier.cross_post_webhook_url_file",
            "notifier.devops_webhook_url_file"
        ],
        "{report:?}"
    );
    assert!(
        report.warnings[0].message.contains("#login-delivery")
            && report.warnings[0]
                .message
                .contains("set SLACK_CROSS_POST_WEBHOOK_URL"),
        "{}",
        report.warnings[0]
    );
    assert!(
        report.warnings[1].message.contains("recycle announcements"),
        "{}",
        report.warnings[1]
    );
    let all = map(&[
        ("SLACK_WEBHOOK_URL", hook),
        (
            "SLACK_CROSS_POST_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B1/x",
        ),
        (
            "SLACK_DEVOPS_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B2/y",
        ),
    ]);
    assert!(check_report(None, &all, &none()).warnings.is_empty());
}

/// A token or webhook URL is never sent in clear text to another machine: plain-http API
/// URLs and webhook URLs are problems (the webhook's value never printed); plain http to this
/// machine (the tests' fakes) is fine.
#[test]
fn plain_http_to_another_machine_is_refused_for_everything_a_secret_goes_to() {
    let report = check_report(
        Some(
            "[github]\napi_url = \"http://github.example.gov/api\"\n\
             [monitor.newrelic]\napi_url = \"http://api.newrelic.com/graphql\"\n",
        ),
        &map(&[(
            "SLACK_WEBHOOK_URL",
            "http://hooks.slack.com/services/T0/B0/cleartextsecret",
        )]),
        &none(),
    );
    let paths: Vec<&str> = report
        .problems
        .iter()
        .map(|p| p.key_path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "github.api_url",
            "monitor.newrelic.api_url",
            "env SLACK_WEBHOOK_URL"
        ],
        "{report:?}"
    );
    assert!(
        report.problems[0]
            .message
            .contains("the GitHub token would travel in clear text"),
        "{}",
        report.problems[0]
    );
    let webhook = report.problems[2].to_string();
    assert!(webhook.contains("plain http"), "{webhook}");
    assert!(!webhook.contains("cleartextsecret"), "{webhook}");
    // Not a URL at all: said, without the value.
    let report = check_report(
        None,
        &map(&[("SLACK_WEBHOOK_URL", "xoxb-notaurl")]),
        &none(),
    );
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(!report.problems[0].to_string().contains("notaurl"));
    // This machine's fakes are fine.
    let local = check_report(
        Some("[github]\napi_url = \"http://127.0.0.1:8080/api\"\n"),
        &map(&[("SLACK_WEBHOOK_URL", "http://localhost:9000/hook")]),
        &none(),
    );
    assert!(local.problems.is_empty(), "{local:?}");
}

/// A region name that AWS would refuse at the first call, and a New Relic app name template
/// with a placeholder nothing replaces, are problems `config check` names; a template without
/// `{env}` is a warning (every environment would read one app).
#[test]
fn the_region_and_the_new_relic_app_template_are_checked() {
    for region in [
        "us-west-2",
        "us-gov-west-1",
        "ap-southeast-1",
        "eu-central-2",
    ] {
        let report = check_report(None, &none(), &map(&[("aws.region", region)]));
        assert!(report.problems.is_empty(), "{region}: {report:?}");
    }
    for region in ["mars-1", "us-west", "US-WEST-2", "uswest2", ""] {
        let report = check_report(None, &none(), &map(&[("aws.region", region)]));
        assert_eq!(
            report.problems.first().map(|p| p.key_path.as_str()),
            Some("aws.region"),
            "{region}: {report:?}"
        );
    }
    let template = |t: &str| {
        check_report(
            None,
            &none(),
            &map(&[("monitor.newrelic.app_name_template", t)]),
        )
    };
    let typo = template("{envv}.login.gov");
    assert_eq!(typo.problems.len(), 1, "{typo:?}");
    assert!(typo.problems[0].message.contains("{envv}"), "{typo:?}");
    assert!(template("{env}-{role}.login.gov").problems.is_empty());
    let shared = template("login.gov");
    assert!(shared.problems.is_empty(), "{shared:?}");
    assert!(
        shared.warnings[0].message.contains("has no {env}"),
        "{shared:?}"
    );
}
