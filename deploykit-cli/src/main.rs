//! The `deploykit` binary: arguments -> request -> one library call -> output.

mod args;
mod backends;
mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::output::Format;

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
    match runtime.block_on(commands::run(&cli, format)) {
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
                    println!("{doc}");
                }
                Format::Human => eprintln!("deploykit: {error}"),
            }
            ExitCode::from(exit::code_for(&error))
        }
    }
}
