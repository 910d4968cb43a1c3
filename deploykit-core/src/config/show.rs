//! `render_show`: the effective configuration as TOML (what `deploykit config show` prints),
//! secrets as `[REDACTED]` with where each came from; `show_json`: the same as JSON (`deploykit
//! --json config show`). Every secret value deploykit was given, URL passwords and
//! secret-looking query parameters are hidden wherever they appear.

use toml::{Table, Value};

use super::effective::EffectiveConfig;
use super::mask::Masker;
use super::secret::REDACTED;

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    Value::try_from(v).unwrap_or_else(|e| Value::String(format!("<cannot show: {e}>")))
}

/// The effective configuration as one table: the sections, then `secrets` (which secrets
/// were found and where, never their values).
fn shown_table(config: &EffectiveConfig) -> Table {
    let mut root = Table::new();
    let apps: Table = config
        .apps
        .iter()
        .map(|(name, app)| {
            let mut v = to_value(app);
            if let Value::Table(t) = &mut v {
                t.remove("name");
            }
            (name.clone(), v)
        })
        .collect();
    root.insert("apps".into(), Value::Table(apps));
    root.insert("environments".into(), to_value(&config.environments));
    root.insert("notifier".into(), to_value(&config.notifier));
    root.insert("monitor".into(), to_value(&config.monitor));
    root.insert("cadence".into(), to_value(&config.cadence));
    root.insert("aws".into(), to_value(&config.aws));
    root.insert("github".into(), to_value(&config.github));
    root.insert("redaction".into(), to_value(&config.redaction));
    // A value may hold a secret: a token pasted into a `*_file` key, a URL with a password.
    let masker = Masker::new(&config.secrets.given);
    for (key, value) in root.iter_mut() {
        masker.mask_value(key, value);
    }
    let mut secrets = Table::new();
    for (name, secret) in config.secrets.named() {
        let mut entry = Table::new();
        match secret {
            Some(s) => {
                entry.insert("value".into(), Value::String(REDACTED.into()));
                entry.insert("source".into(), Value::String(s.source.to_string()));
            }
            None => {
                entry.insert("source".into(), Value::String("not set".into()));
            }
        }
        secrets.insert(name.into(), Value::Table(entry));
    }
    root.insert("secrets".into(), Value::Table(secrets));
    root
}

/// The effective configuration as TOML. The `[secrets]` table is informational: it shows
/// which secrets were found and where, never their values.
pub fn render_show(config: &EffectiveConfig) -> String {
    let root = shown_table(config);
    let source = match &config.config_file {
        Some(p) => format!(
            "# deploykit configuration, from {} + environment + flags\n",
            p.display()
        ),
        None => "# deploykit configuration: built-in defaults + environment + flags\n".into(),
    };
    let body = toml::to_string_pretty(&root)
        .unwrap_or_else(|e| format!("# cannot render the configuration: {e}\n"));
    format!("{source}# [secrets] is for information only; secret values are never shown.\n\n{body}")
}

/// The effective configuration as JSON: what [`render_show`] prints, as one document, with
/// `config_file` (the file read, or null for the built-in defaults). Secrets are
/// `[REDACTED]` with where each came from, as in the TOML.
pub fn show_json(config: &EffectiveConfig) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "config_file".into(),
        config
            .config_file
            .as_ref()
            .map(|p| serde_json::Value::from(p.display().to_string()))
            .unwrap_or(serde_json::Value::Null),
    );
    for (key, value) in shown_table(config) {
        let value = serde_json::to_value(&value)
            .unwrap_or_else(|e| serde_json::Value::from(format!("<cannot show: {e}>")));
        doc.insert(key, value);
    }
    serde_json::Value::Object(doc)
}
