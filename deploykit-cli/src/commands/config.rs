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
            let report = config::check_report(text.as_deref(), &env, &inv.flag_overrides()?);
            let (problems, warnings) = (report.problems, report.warnings);
            let source = file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "no file: built-in defaults".into());
            let listed = |list: &[config::ConfigProblem]| -> Vec<serde_json::Value> {
                list.iter()
                    .map(|p| serde_json::json!({ "key": p.key_path, "message": p.message }))
                    .collect()
            };
            if inv.format == Format::Json {
                print_line(
                    &serde_json::json!({
                        "file": source,
                        "problems": listed(&problems),
                        "warnings": listed(&warnings),
                    })
                    .to_string(),
                );
                return Ok(if problems.is_empty() {
                    exit::OK
                } else {
                    exit::USAGE
                });
            }
            for w in &warnings {
                eprintln!("{source}: warning: {}: {}", w.key_path, w.message);
            }
            if problems.is_empty() {
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
