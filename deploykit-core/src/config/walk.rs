//! Walks a TOML table against the schema: every unknown key, secret written into the file
//! and badly typed value becomes a [`ConfigProblem`] at its key path, and walking goes on so
//! that every problem is reported, not just the first.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::bounds::range_of;
use super::keys::{closest, secret_key_hint};
use super::problem::ConfigProblem;

/// Collects problems while reading values out of tables.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// The problems so far.
    pub problems: Vec<ConfigProblem>,
    /// What is suspicious but not wrong, so far.
    pub warnings: Vec<ConfigProblem>,
    /// Where values set outside the file came from (key path -> `environment variable X`).
    pub origins: BTreeMap<String, String>,
    /// Values set outside the file that look like TOML (`[...`, `{...`) but do not parse,
    /// by key path: the syntax error, told with any problem at that key.
    pub toml_errors: BTreeMap<String, String>,
}

/// `parent.key`, or `key` at the top.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// TOML dates become strings so that chrono's serde support reads them.
fn dates_as_strings(v: &Value) -> Value {
    match v {
        Value::Datetime(d) => Value::String(d.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(dates_as_strings).collect()),
        Value::Table(t) => Value::Table(
            t.iter()
                .map(|(k, v)| (k.clone(), dates_as_strings(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A type a configuration value is read as, and what a value of it must be, in words.
pub(crate) trait ConfigValue: DeserializeOwned {
    /// What a value must be (`a whole number of 0 or more`), completing "`-3` is not ...".
    fn expected() -> String;

    /// Whether a failure to read a value as this type explains itself better than
    /// [`ConfigValue::expected`] does (a name's own check says what a name may hold).
    fn own_message(_error: &str) -> bool {
        false
    }

    /// What is wrong with `v` when "is not [`ConfigValue::expected`]" would mislead: a
    /// whole number too large for any setting, a number with a fraction or exponent.
    fn misfit(_v: &Value) -> Option<Misfit> {
        None
    }
}

/// Why a value that looks like a number is not a whole number of 0 or more.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Misfit {
    /// Digits only, but more than the largest number TOML holds.
    TooLarge,
    /// A fraction or an exponent (`1.5`, `1e9`), with the whole number it equals if any.
    NotWhole(Option<u64>),
    /// Written YYYY-MM-DD but no day of the calendar (`2026-02-30`): why, in words.
    NoSuchDay(String),
}

impl ConfigValue for chrono::NaiveDate {
    fn expected() -> String {
        "a date written YYYY-MM-DD, like 2026-12-21".into()
    }

    fn misfit(v: &Value) -> Option<Misfit> {
        let text = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Datetime(d) => d.to_string(),
            _ => return None,
        };
        let parts: Vec<&str> = text.split('-').collect();
        let [year, month, day] = parts.as_slice() else {
            return None;
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
            return None;
        }
        let (y, m) = (year.parse::<i32>().ok()?, month.parse::<u32>().ok()?);
        let why = if !(1..=12).contains(&m) {
            format!("there is no month {m}")
        } else {
            let first = chrono::NaiveDate::from_ymd_opt(y, m, 1)?;
            let next = if m == 12 {
                chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)?
            } else {
                chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)?
            };
            format!(
                "{} has {} days",
                first.format("%B %Y"),
                (next - first).num_days()
            )
        };
        Some(Misfit::NoSuchDay(why))
    }
}

/// `f` as a whole number of 0 or more, if it is one.
fn whole(f: f64) -> Option<u64> {
    let max = i64::MAX as f64;
    (f.is_finite() && f.fract() == 0.0 && (0.0..max).contains(&f)).then_some(f as u64)
}

impl ConfigValue for u64 {
    fn expected() -> String {
        "a whole number of 0 or more".into()
    }

    fn misfit(v: &Value) -> Option<Misfit> {
        match v {
            Value::Float(f) => Some(Misfit::NotWhole(whole(*f))),
            Value::String(s) => match toml_value(s) {
                Some(Value::Float(f)) => Some(Misfit::NotWhole(whole(f))),
                Some(_) => None,
                None => {
                    let digits = s.trim().trim_start_matches('+').replace('_', "");
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then_some(Misfit::TooLarge)
                }
            },
            _ => None,
        }
    }
}

macro_rules! config_value {
    ($($ty:ty => $expected:expr),* $(,)?) => {
        $(impl ConfigValue for $ty {
            fn expected() -> String {
                $expected.to_string()
            }
        })*
    };
}

config_value! {
    f64 => "a number",
    bool => "true or false",
    String => "a string",
    std::path::PathBuf => "a file path (a string)",
    Vec<String> => "a list of strings",
}

/// An example of the list the key at `path` holds, completing "is not a list of strings".
fn list_example(path: &str) -> Option<&'static str> {
    let key = path.rsplit('.').next()?;
    Some(match key {
        "deploy_days" => r#"["tue", "thu"]"#,
        "smoke_tests" => r#"["Sign in to an account", "Sign up for an account"]"#,
        "secure_parameters" => r#"["/prod/idp/database_url"]"#,
        "patterns" => r#"["AKIA[0-9A-Z]{16}"]"#,
        _ => return None,
    })
}

/// `one of "a", "b", "c"`, the variants as serde writes them.
fn one_of<T: serde::Serialize>(variants: &[T]) -> String {
    let names: Vec<String> = variants
        .iter()
        .filter_map(|v| match Value::try_from(v) {
            Ok(Value::String(s)) => Some(format!("{s:?}")),
            _ => None,
        })
        .collect();
    format!("one of {}", names.join(", "))
}

impl ConfigValue for super::schema::MonitorKind {
    fn expected() -> String {
        use super::schema::MonitorKind as K;
        one_of(&[K::Cloudwatch, K::Newrelic, K::None])
    }
}

impl ConfigValue for super::schema::NotifierKind {
    fn expected() -> String {
        use super::schema::NotifierKind as K;
        one_of(&[K::SlackWebhook, K::SlackApi, K::None])
    }
}

impl ConfigValue for crate::model::ReleaseStyle {
    fn expected() -> String {
        use crate::model::ReleaseStyle as K;
        one_of(&[K::GithubRelease, K::SignedTag])
    }
}

impl ConfigValue for crate::model::RoleName {
    fn expected() -> String {
        "a role name (a string), like \"idp\"".into()
    }

    fn own_message(error: &str) -> bool {
        error.starts_with("invalid role name")
    }
}

/// A value as the user wrote it (a string in quotes), cut short when long.
fn shown(v: &Value) -> String {
    const MAX: usize = 60;
    let text = v.to_string();
    if text.chars().count() <= MAX {
        text
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// `text` read as a TOML value (`300`, `["tue"]`, `[{ start = 2026-12-21 }]`), if it is one.
pub(crate) fn toml_value(text: &str) -> Option<Value> {
    parse_toml_value(text).ok()
}

/// `text` read as a TOML value, or why it is not one (the error's own words and where in
/// `text` it is).
pub(crate) fn parse_toml_value(text: &str) -> Result<Value, String> {
    const PREFIX: &str = "v = ";
    match format!("{PREFIX}{text}").parse::<Table>() {
        Ok(mut t) => t.remove("v").ok_or_else(|| "no value".to_string()),
        Err(e) => {
            let what = e.message().trim().trim_end_matches('.').to_string();
            Err(match e.span() {
                Some(span) => {
                    let at = span.start.saturating_sub(PREFIX.len()) + 1;
                    let at = at.min(text.chars().count().max(1));
                    format!("{what} (at character {at})")
                }
                None => what,
            })
        }
    }
}

/// Reads `v` as a `T`. A string from an environment variable or a flag is also tried as a
/// TOML value, so `DEPLOYKIT_X=300` reads as a number and `["tue"]` as a list. The error
/// says what was given and what is expected: `"-3" is not a whole number of 0 or more`.
fn coerce<T: ConfigValue>(v: &Value, path: &str) -> Result<T, String> {
    let first = match dates_as_strings(v).try_into::<T>() {
        Ok(t) => return Ok(t),
        Err(e) => e.to_string(),
    };
    if let Value::String(s) = v
        && let Some(parsed) = toml_value(s)
        && let Ok(t) = dates_as_strings(&parsed).try_into::<T>()
    {
        return Ok(t);
    }
    let first = first.trim();
    if T::own_message(first) {
        return Err(first.to_string());
    }
    match T::misfit(v) {
        Some(Misfit::TooLarge) => Err(match range_of(path) {
            Some(range) => range.too_large(&shown(v)),
            None => format!("{} is too large (at most {})", shown(v), i64::MAX),
        }),
        Some(Misfit::NotWhole(Some(n))) => Err(format!(
            "{} is not a whole number (write {n} in digits)",
            shown(v)
        )),
        Some(Misfit::NotWhole(None)) => Err(format!("{} is not a whole number", shown(v))),
        Some(Misfit::NoSuchDay(why)) => Err(format!(
            "{} is written YYYY-MM-DD but there is no such day in the calendar ({why})",
            shown(v)
        )),
        None => Err(format!(
            "{} is not {}{}",
            shown(v),
            T::expected(),
            list_example(path)
                .map(|e| format!(", like {e}"))
                .unwrap_or_default()
        )),
    }
}

impl Walk {
    /// Records a problem at `path`, naming where the value came from if not the file.
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        let mut message = message.into();
        if let Some(error) = self.toml_errors.get(path) {
            message.push_str(&format!(
                "; the value looks like TOML (a list or table) but is not valid TOML: {error}"
            ));
        }
        if let Some(origin) = self.origins.get(path) {
            message.push_str(&format!(" (set by {origin})"));
        }
        self.problems.push(ConfigProblem {
            key_path: path.to_string(),
            message,
        });
    }

    /// Records a warning at `path`: something suspicious that does not stop deploykit.
    pub fn warning(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(ConfigProblem {
            key_path: path.to_string(),
            message: message.into(),
        });
    }

    /// Reports keys of `table` that are not in `valid`, and secrets written into the file.
    pub fn keys(&mut self, table: &Table, path: &str, valid: &[&str]) {
        for key in table.keys() {
            if valid.contains(&key.as_str()) {
                continue;
            }
            let key_path = join(path, key);
            if let Some(env) = secret_key_hint(key) {
                let how = if env.is_empty() {
                    "an environment variable or a file".to_string()
                } else {
                    format!("the environment variable {env}")
                };
                let file_key = valid
                    .iter()
                    .find(|v| v.ends_with("_file") && v.starts_with(key.as_str()))
                    .map(|v| format!(" or `{v}` pointing to a file that holds it"))
                    .unwrap_or_default();
                self.problem(
                    &key_path,
                    format!(
                        "secrets must not be written in the configuration file; remove \
                         `{key}` and use {how}{file_key}"
                    ),
                );
                continue;
            }
            let hint = match closest(key, valid) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("valid keys here: {}", valid.join(", ")),
            };
            let place = if path.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{path}]")
            };
            self.problem(&key_path, format!("unknown key `{key}` {place}; {hint}"));
        }
    }

    /// The sub-table `key` of `table`, if present; a problem if it is not a table.
    pub fn table<'v>(&mut self, table: &'v Table, key: &str, path: &str) -> Option<&'v Table> {
        match table.get(key) {
            None => None,
            Some(Value::Table(t)) => Some(t),
            Some(other) => {
                let p = join(path, key);
                self.problem(
                    &p,
                    format!("expected a table [{p}], found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// The value of `key` read as a `T`, if present and valid; a problem if invalid, saying
    /// what was given and what is expected.
    pub fn get<T: ConfigValue>(&mut self, table: &Table, key: &str, path: &str) -> Option<T> {
        let v = table.get(key)?;
        let p = join(path, key);
        match coerce::<T>(v, &p) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(&p, e);
                None
            }
        }
    }

    /// Sets `slot` from `key` if present and valid.
    pub fn set<T: ConfigValue>(&mut self, table: &Table, key: &str, path: &str, slot: &mut T) {
        if let Some(v) = self.get(table, key, path) {
            *slot = v;
        }
    }

    /// Sets an optional `slot` from `key` if present and valid.
    pub fn set_opt<T: ConfigValue>(
        &mut self,
        table: &Table,
        key: &str,
        path: &str,
        slot: &mut Option<T>,
    ) {
        if let Some(v) = self.get(table, key, path) {
            *slot = Some(v);
        }
    }

    /// The list of tables under `key`, each with its path (`key[0]`), checked for unknown
    /// keys against `valid`.
    pub fn table_list<'v>(
        &mut self,
        table: &'v Table,
        key: &str,
        path: &str,
        valid: &[&str],
    ) -> Option<Vec<(String, &'v Table)>> {
        let p = join(path, key);
        match table.get(key)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{p}[{i}]");
                    match item {
                        Value::Table(t) => {
                            self.keys(t, &ip, valid);
                            out.push((ip, t));
                        }
                        other => self.problem(
                            &ip,
                            format!(
                                "expected a table like {{ {} = ... }}, found {}",
                                valid.first().copied().unwrap_or("key"),
                                type_name(other)
                            ),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.problem(&p, format!("expected a list, found {}", type_name(other)));
                None
            }
        }
    }
}
