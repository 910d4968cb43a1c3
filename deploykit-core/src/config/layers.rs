//! Layering: the file, then environment variables, then CLI flags, each overriding the one
//! before, merged into one TOML table before it is read.
//!
//! Environment variables for plain settings (secrets are in `effective.rs`):
//!
//! | variable | key |
//! |---|---|
//! | `AWS_REGION`, then `DEPLOYKIT_AWS_REGION` | `aws.region` |
//! | `AWS_PROFILE`, then `DEPLOYKIT_AWS_PROFILE` | `aws.profile` |
//! | `AWS_ENDPOINT_URL`, then `DEPLOYKIT_AWS_ENDPOINT_URL` | `aws.endpoint_url` |
//! | `GITHUB_API_URL`, then `DEPLOYKIT_GITHUB_API_URL` | `github.api_url` |
//! | `NEW_RELIC_ACCOUNT_ID`, then `DEPLOYKIT_NEW_RELIC_ACCOUNT_ID` | `monitor.newrelic.account_id` |
//! | `DEPLOYKIT_NOTIFIER_KIND` | `notifier.kind` |
//! | `DEPLOYKIT_SLACK_CHANNEL` | `notifier.channels.main` |
//! | `DEPLOYKIT_SLACK_CROSS_POST_CHANNEL` | `notifier.channels.cross_post` |
//! | `DEPLOYKIT_SLACK_DEVOPS_CHANNEL` | `notifier.channels.devops` |
//! | `DEPLOYKIT_MONITOR_KIND` | `monitor.kind` |
//! | `DEPLOYKIT__A__B__C` (any key, `__` between parts) | `a.b.c` |
//!
//! `DEPLOYKIT_CONFIG` names the file (see `discover.rs`). A later line of the table wins over
//! an earlier one. Another `DEPLOYKIT_*` variable within a small edit distance of one of
//! these is reported as a likely typo; one naming a setting with single underscores
//! (`DEPLOYKIT_MONITOR_MIN_REQUESTS`) is a problem saying the form is
//! `DEPLOYKIT__SECTION__KEY`; the front ends' own ([`FRONT_END_ENV`]) are left to them; any
//! other is a warning.

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::keys::closest;
use super::walk::Walk;

/// Plain settings read from standard (non-deploykit) environment variables.
pub const STANDARD_ENV: &[(&str, &str)] = &[
    ("AWS_REGION", "aws.region"),
    ("AWS_PROFILE", "aws.profile"),
    ("AWS_ENDPOINT_URL", "aws.endpoint_url"),
    ("GITHUB_API_URL", "github.api_url"),
    ("NEW_RELIC_ACCOUNT_ID", "monitor.newrelic.account_id"),
];

/// Plain settings read from `DEPLOYKIT_*` environment variables.
pub const DEPLOYKIT_ENV: &[(&str, &str)] = &[
    ("DEPLOYKIT_AWS_REGION", "aws.region"),
    ("DEPLOYKIT_AWS_PROFILE", "aws.profile"),
    ("DEPLOYKIT_AWS_ENDPOINT_URL", "aws.endpoint_url"),
    ("DEPLOYKIT_GITHUB_API_URL", "github.api_url"),
    (
        "DEPLOYKIT_NEW_RELIC_ACCOUNT_ID",
        "monitor.newrelic.account_id",
    ),
    ("DEPLOYKIT_NOTIFIER_KIND", "notifier.kind"),
    ("DEPLOYKIT_SLACK_CHANNEL", "notifier.channels.main"),
    (
        "DEPLOYKIT_SLACK_CROSS_POST_CHANNEL",
        "notifier.channels.cross_post",
    ),
    ("DEPLOYKIT_SLACK_DEVOPS_CHANNEL", "notifier.channels.devops"),
    ("DEPLOYKIT_MONITOR_KIND", "monitor.kind"),
];

/// `DEPLOYKIT_*` variables the front ends read (not settings of the configuration).
pub const FRONT_END_ENV: &[&str] = &[
    "DEPLOYKIT_LOG",
    "DEPLOYKIT_SANDBOX",
    "DEPLOYKIT_GIT_NAME",
    "DEPLOYKIT_GIT_EMAIL",
    "DEPLOYKIT_MOTO_SERVER",
];

/// An unknown single-underscore `DEPLOYKIT_*` variable, which deploykit does not read. One
/// that names a setting (`DEPLOYKIT_MONITOR_MIN_REQUESTS`) is a problem: the value the user
/// meant would be silently ignored. Any other is a warning (a front end's own variable
/// this list does not know, or a typo).
fn unknown_variable(w: &mut Walk, var: &str) {
    let rest = var.trim_start_matches("DEPLOYKIT_").to_ascii_lowercase();
    let key_path = format!("env {var}");
    let form = "settings are read from DEPLOYKIT__SECTION__KEY, with two underscores between \
                the parts";
    let meant = super::sections::TOP_KEYS.iter().find_map(|section| {
        let key = rest.strip_prefix(section)?.strip_prefix('_')?;
        Some((*section, key))
    });
    match meant {
        Some((section, key)) => {
            let example = if super::sections::section_keys(section).contains(&key) {
                format!("DEPLOYKIT__{}__{}", section, key).to_ascii_uppercase()
            } else {
                format!("DEPLOYKIT__{}__KEY", section.to_ascii_uppercase())
            };
            w.problem(
                &key_path,
                format!(
                    "deploykit does not read this variable, so its value is ignored; {form}: \
                     use {example}"
                ),
            );
        }
        None => w.warning(
            &key_path,
            format!(
                "deploykit does not read this variable; {form} (like \
                 DEPLOYKIT__MONITOR__MIN_REQUESTS), and the other DEPLOYKIT_* variables are {}",
                DEPLOYKIT_ENV
                    .iter()
                    .map(|(v, _)| *v)
                    .chain([CONFIG_ENV])
                    .chain(FRONT_END_ENV.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

/// The variable naming the configuration file.
pub const CONFIG_ENV: &str = "DEPLOYKIT_CONFIG";

fn default_names(names: &[&str]) -> Value {
    Value::Table(
        names
            .iter()
            .map(|n| (n.to_string(), Value::Table(Table::new())))
            .collect(),
    )
}

fn set_path(w: &mut Walk, root: &mut Table, path: &str, value: &str, origin: String) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut table = root;
    for (i, part) in parents.iter().enumerate() {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(t) => table = t,
            _ => {
                w.problem(
                    &parts[..=i].join("."),
                    format!(
                        "{origin} sets `{path}`, but `{}` is not a table",
                        parts[..=i].join(".")
                    ),
                );
                return;
            }
        }
    }
    let (value, toml_error) = structured(value);
    table.insert(last.to_string(), value);
    match toml_error {
        Some(e) => w.toml_errors.insert(path.to_string(), e),
        None => w.toml_errors.remove(path),
    };
    w.origins.insert(path.to_string(), origin);
}

/// A flag's or variable's value: a TOML list or inline table when it is written as one
/// (`[{ start = 2026-12-21, end = 2027-01-01 }]`), so keys that hold lists of tables can be
/// set too; anything else stays a string (numbers and lists of plain values are read from
/// the string where the key expects them). A value that starts like a list or table but
/// does not parse stays a string too (a channel may be called `[ops]`), with the syntax
/// error, which is told if the key refuses the string.
fn structured(value: &str) -> (Value, Option<String>) {
    let trimmed = value.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        match super::walk::parse_toml_value(value) {
            Ok(parsed) => return (parsed, None),
            Err(e) => return (Value::String(value.to_string()), Some(e)),
        }
    }
    (Value::String(value.to_string()), None)
}

/// Merges the layers into one table. The built-in apps (idp, pki) and environments (prod,
/// staging, int) are present unless the file has its own `[apps]` / `[environments]`.
pub(crate) fn merge(
    w: &mut Walk,
    file_text: Option<&str>,
    env: &BTreeMap<String, String>,
    flags: &BTreeMap<String, String>,
) -> Table {
    let mut root = match file_text.map(|text| text.parse::<Table>()) {
        None => Table::new(),
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            w.problem("file", format!("not valid TOML: {}", e.to_string().trim()));
            Table::new()
        }
    };
    root.entry("apps".to_string())
        .or_insert_with(|| default_names(&["idp", "pki"]));
    root.entry("environments".to_string())
        .or_insert_with(|| default_names(&["prod", "staging", "int"]));

    for (var, path) in STANDARD_ENV.iter().chain(DEPLOYKIT_ENV) {
        if let Some(value) = env.get(*var).filter(|v| !v.is_empty()) {
            set_path(
                w,
                &mut root,
                path,
                value,
                format!("environment variable {var}"),
            );
        }
    }
    let known: Vec<&str> = DEPLOYKIT_ENV
        .iter()
        .map(|(v, _)| *v)
        .chain([CONFIG_ENV])
        .collect();
    for (var, value) in env {
        if let Some(rest) = var.strip_prefix("DEPLOYKIT__") {
            let path = rest.to_ascii_lowercase().replace("__", ".");
            set_path(
                w,
                &mut root,
                &path,
                value,
                format!("environment variable {var}"),
            );
        } else if var.starts_with("DEPLOYKIT_")
            && !known.contains(&var.as_str())
            && let Some(near) = closest(
                var.trim_start_matches("DEPLOYKIT_"),
                &known
                    .iter()
                    .map(|k| k.trim_start_matches("DEPLOYKIT_"))
                    .collect::<Vec<_>>(),
            )
        {
            w.problems.push(super::problem::ConfigProblem {
                key_path: format!("env {var}"),
                message: format!(
                    "unknown deploykit environment variable; did you mean DEPLOYKIT_{near}?"
                ),
            });
        } else if var.starts_with("DEPLOYKIT_")
            && !known.contains(&var.as_str())
            && !FRONT_END_ENV.contains(&var.as_str())
        {
            unknown_variable(w, var);
        }
    }
    for (path, value) in flags {
        set_path(w, &mut root, path, value, format!("flag {path}"));
    }
    root
}
