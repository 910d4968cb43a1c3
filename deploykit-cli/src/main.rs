//! The `deploykit` binary: arguments -> request -> one library call -> output.

mod args;
mod backends;
mod commands;
mod exit;
mod interrupt;
mod output;
mod prompt;
mod run_tracker;
mod waiting_lines;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::output::Format;
use crate::run_tracker::RunTracker;

/// Whether `--json` is among the arguments (before a `--`, after which everything is a value).
fn json_asked(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// A command line clap refused, said as one line: clap's error, its tip, and its possible
/// values, without the "error: " before it; the usage line apart (`None` when clap has none).
fn clap_error_text(e: &clap::Error) -> (String, Option<String>) {
    let rendered = e.render().to_string();
    let mut message = Vec::new();
    let mut usage = None;
    for paragraph in rendered.split("\n\n") {
        let one_line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(u) = one_line.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if !one_line.starts_with("For more information") && !one_line.is_empty() {
            message.push(one_line);
        }
    }
    let message = if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Clap rendered the help: say what is missing instead.
        let command = usage
            .as_deref()
            .and_then(|u| u.split(" [").next())
            .and_then(|u| u.split(" <").next())
            .unwrap_or("deploykit");
        format!("`{command}` needs a command: `{command} --help` lists them")
    } else {
        message.join("; ")
    };
    let message = message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_string();
    (message, usage)
}

/// The end of a command line clap refused. With `--json` among the arguments, the
/// `invalid_input` error document on stdout (as every other bad input), exit 2; otherwise, and
/// for `--help` and `--version` (which are not errors), what clap prints.
fn refused_arguments(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as Clap;
    if matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion)
        || !json_asked(std::env::args_os())
    {
        e.exit()
    }
    let (message, usage) = clap_error_text(&e);
    let mut error = deploykit_core::Error::invalid_input(message);
    if let Some(usage) = usage {
        error = error.with("usage", usage);
    }
    let code = exit::code_for(&error);
    output::print_json_line(&output::error_document(error.kind().as_str(), &error, code));
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return refused_arguments(e),
    };
    let format = if cli.json {
        Format::Json
    } else {
        Format::Human
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deploykit: could not start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let tracker = RunTracker::default();
    let stopping = commands::stopping(&cli);
    let command = commands::run(&cli, format, tracker.clone());
    let (result, signal) =
        runtime.block_on(interrupt::run_until_signalled(command, stopping, &tracker));
    // Work the stopped command left on other threads (a read of the terminal) is not waited
    // for.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let code = signal.map_or_else(|| exit::code_for(&error), |s| s.exit_code());
            match format {
                Format::Json => {
                    output::print_json_line(&output::error_document(
                        error.kind().as_str(),
                        &error,
                        code,
                    ));
                }
                Format::Human => {
                    // Stopped at a question (Ctrl-C at the prompt): the message starts on a
                    // line of its own, not after the question.
                    if prompt::question_left_open() {
                        eprintln!();
                    }
                    eprintln!("deploykit: {error}")
                }
            }
            ExitCode::from(code)
        }
    }
}
