//! One module per command; `run` dispatches.

use deploykit_core::{Error, Result};

use crate::args::{Cli, Command};
use crate::output::Format;

/// Runs the command and returns the exit code.
pub async fn run(cli: &Cli, format: Format) -> Result<u8> {
    let _ = format;
    match &cli.command {
        Command::Demo(_) => not_built("demo", 4),
        Command::Changelog(_) => not_built("changelog", 3),
        Command::Rc(_) => not_built("rc", 3),
        Command::Release(_) => not_built("release", 3),
        Command::Deploy(_) => not_built("deploy", 4),
        Command::Rollback(_) => not_built("rollback", 4),
        Command::Resume(_) => not_built("resume", 4),
        Command::Recycle(_) => not_built("recycle", 4),
        Command::ScaleIn(_) => not_built("scale-in", 4),
        Command::Servers(_) => not_built("servers", 4),
        Command::Asg(_) => not_built("asg", 4),
        Command::Migration(_) => not_built("migration", 4),
        Command::Monitor(_) => not_built("monitor", 4),
        Command::Cadence(_) => not_built("cadence", 4),
        Command::Status(_) => not_built("status", 9),
        Command::Report(_) => not_built("report", 9),
        Command::Config(_) => not_built("config", 6),
    }
}

fn not_built(command: &str, issue: u32) -> Result<u8> {
    Err(Error::unsupported(format!(
        "`deploykit {command}` is planned but not built yet (tracked in issue {issue})"
    )))
}
