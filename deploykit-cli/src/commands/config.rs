//! `deploykit config show|check` (as JSON with `--json`).

use std::collections::BTreeMap;

use deploykit_core::config::{self, render_show, show_json};
use deploykit_core::{Error, Result};

use crate::args::ConfigCommand;
use crate::commands::Invocation;
use crate::exit;
use crate::output::{Format, print_line, print_result};

/// Shows the effective configuration (secrets redacted) or checks it.
pub async fn run(inv: &Invocation<'_>, cmd: &ConfigCommand) -> Result<u8> {
    match cmd {
        ConfigCommand::Show => {
            let effective = inv.config()?;
            print_result(inv.format, &show_json(&effective), || {
                render_show(&effective)
            });
            Ok(exit::OK)
        }
        ConfigCommand::Check => {
            let env: BTreeMap<String, String> = std::env::vars().collect();
            let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
            let file = config::find_config_file(inv.cli.config.as_deref(), &env, &cwd);
            let text = match &file {
                Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                    Error::invalid_input(format!(
                        "cannot read the configuration file {}: {e}",
                        path.display()
                    ))
                })?),
                None => None,
            };
            let problems = config::check(text.as_deref(), &env, &inv.flag_overrides()?);
            let source = file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "no file: built-in defaults".into());
            if inv.format == Format::Json {
                let list: Vec<_> = problems
                    .iter()
                    .map(|p| serde_json::json!({ "key": p.key_path, "message": p.message }))
                    .collect();
                print_line(&serde_json::json!({ "file": source, "problems": list }).to_string());
            } else if problems.is_empty() {
                print_line(&format!("{source}: the configuration is valid"));
            } else {
                eprintln!("{source}: {} problem(s)", problems.len());
                for p in &problems {
                    eprintln!("  {}: {}", p.key_path, p.message);
                }
            }
            Ok(if problems.is_empty() {
                exit::OK
            } else {
                exit::USAGE
            })
        }
    }
}
