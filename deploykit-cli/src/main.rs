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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            match format {
                Format::Json => {
                    let doc = serde_json::json!({
                        "error": {
                            "kind": error.kind().as_str(),
                            "message": error.to_string(),
                            "temporary": error.is_temporary(),
                        }
                    });
                    output::print_line(&doc.to_string());
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
            ExitCode::from(signal.map_or_else(|| exit::code_for(&error), |s| s.exit_code()))
        }
    }
}
