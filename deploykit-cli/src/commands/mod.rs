//! One module per command; `run` dispatches.

mod cadence;
mod changelog;
mod config;
mod demo;
pub mod deploy;
mod fleet;
mod lock;
mod release;
mod report;
mod runs;
mod sandbox_pr;
mod status;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use deploykit_core::config::EffectiveConfig;
use deploykit_core::deploy::FileJournal;
use deploykit_core::{Error, Event, EventSink, Result};

use crate::args::{
    AsgCommand, CadenceCommand, Cli, Command, LockCommand, MigrationCommand, RcCommand,
    ReleaseCommand, ServersCommand,
};
use crate::interrupt::Stopping;
use crate::output::{Format, TerminalSink};
use crate::run_tracker::RunTracker;

/// What every command gets: the parsed command line, the output format and the event sink.
#[derive(Debug)]
pub struct Invocation<'a> {
    /// The command line.
    pub cli: &'a Cli,
    /// Human or JSON.
    pub format: Format,
    /// Where progress goes.
    pub sink: TerminalSink,
    /// Notes which run the command drives, for the message when a signal stops it.
    pub runs: RunTracker,
    /// Whether the configuration's warnings were said already (once per command).
    warned: AtomicBool,
}

impl Invocation<'_> {
    /// The effective configuration (file, then env, then `--set` flags). The first time, its
    /// warnings (a webhook missing for a cross-post, a secret file ignored, an unknown
    /// `DEPLOYKIT_*` variable) are said as warning events, except by `config`, which lists
    /// them itself, and in the sandbox, which uses none of it.
    pub fn config(&self) -> Result<EffectiveConfig> {
        let config =
            deploykit_core::config::load(self.cli.config.as_deref(), &self.flag_overrides()?)?;
        let quiet = self.cli.sandbox || matches!(self.cli.command, Command::Config(_));
        if !quiet && !self.warned.swap(true, Ordering::Relaxed) {
            for w in &config.warnings {
                self.sink.emit(Event::Warning {
                    at: chrono::Utc::now(),
                    message: format!("configuration: {w}"),
                });
            }
        }
        Ok(config)
    }

    /// The run journal: the state directory, or its `sandbox` folder for simulated runs (so
    /// rehearsals never mix with real deploys).
    pub fn journal(&self) -> Result<FileJournal> {
        let dir = FileJournal::default_dir()?;
        Ok(FileJournal::new(if self.cli.sandbox {
            dir.join("sandbox")
        } else {
            dir
        }))
    }

    /// The `--set KEY=VALUE` overrides as a map of key paths to values.
    pub fn flag_overrides(&self) -> Result<BTreeMap<String, String>> {
        self.cli
            .set
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
                _ => Err(Error::invalid_input(format!(
                    "--set {kv:?}: expected KEY=VALUE with a dotted key path, \
                     e.g. --set aws.region=us-east-1"
                ))),
            })
            .collect()
    }
}

/// What to say when a signal stops the command: whether it changes anything outside
/// deploykit (AWS, GitHub, Slack), which a stop part way may leave half made, and, where there
/// is a known way, how to finish it. Simulated (`--sandbox`) and dry runs, and commands that
/// only read, change nothing.
pub fn stopping(cli: &Cli) -> Stopping {
    const CHANGES: Stopping = Stopping::Changes { hint: None };
    if cli.sandbox {
        return Stopping::ReadOnly;
    }
    let changes_if = |changes: bool| if changes { CHANGES } else { Stopping::ReadOnly };
    match &cli.command {
        Command::Rc(RcCommand::Create(args)) if !args.dry_run => Stopping::Changes {
            hint: Some(
                "run the same `deploykit rc create` again to finish it: it takes up the branch \
                 it pushed and the PR it opened instead of making a second one",
            ),
        },
        Command::Rc(RcCommand::TrueUp(_)) => Stopping::Changes {
            hint: Some(
                "run `deploykit rc true-up` again: it merges what the RC branch still lacks \
                 of the production branch, and nothing once the branch has it all",
            ),
        },
        Command::Release(ReleaseCommand::Create(args)) if !args.dry_run => Stopping::Changes {
            hint: Some(
                "run the same `deploykit release create` again: it creates the release if it is \
                 missing (using the tag a stopped run left, for an app that signs its tags) \
                 and says so if it exists",
            ),
        },
        Command::Deploy(args) => changes_if(!args.dry_run),
        Command::Rollback(_) | Command::Resume(_) => CHANGES,
        Command::Recycle(args) if !args.dry_run => Stopping::Changes {
            hint: Some(
                "run the same recycle again with --force to finish it (it starts from the \
                 capacity the groups return to, not the doubled one), and check with \
                 `deploykit asg size`",
            ),
        },
        Command::ScaleIn(args) => changes_if(!args.dry_run),
        Command::Asg(AsgCommand::Size(args))
            if args.min.is_some() || args.desired.is_some() || args.max.is_some() =>
        {
            Stopping::Changes {
                hint: Some("check the group with `deploykit asg size ENV ROLE`"),
            }
        }
        Command::Lock(LockCommand::Release(_)) => CHANGES,
        Command::Recycle(_)
        | Command::Rc(RcCommand::Create(_))
        | Command::Release(ReleaseCommand::Create(_))
        | Command::Asg(_)
        | Command::Demo(_)
        | Command::Changelog(_)
        | Command::Servers(_)
        | Command::Migration(_)
        | Command::Monitor(_)
        | Command::Cadence(_)
        | Command::Runs(_)
        | Command::Lock(LockCommand::Show(_))
        | Command::Status(_)
        | Command::Report(_)
        | Command::Config(_) => Stopping::ReadOnly,
    }
}

/// Runs the command and returns the exit code; the runs it journals are noted in `runs`.
pub async fn run(cli: &Cli, format: Format, runs: RunTracker) -> Result<u8> {
    let inv = Invocation {
        cli,
        format,
        sink: TerminalSink::new(format),
        runs,
        warned: AtomicBool::new(false),
    };
    match &cli.command {
        Command::Demo(args) => demo::run(&inv, args).await,
        Command::Changelog(args) => changelog::run(&inv, args).await,
        Command::Rc(RcCommand::Create(args)) => release::rc_create(&inv, args).await,
        Command::Rc(RcCommand::TrueUp(args)) => release::rc_true_up(&inv, args).await,
        Command::Release(ReleaseCommand::Create(args)) => release::release_create(&inv, args).await,
        Command::Deploy(args) => deploy::deploy(&inv, args).await,
        Command::Rollback(args) => deploy::rollback(&inv, args).await,
        Command::Resume(args) => deploy::resume(&inv, args).await,
        Command::Runs(args) => runs::run(&inv, args).await,
        Command::Recycle(args) => {
            fleet::with_env_meant(&inv, &args.env, fleet::recycle(&inv, args).await)
        }
        Command::ScaleIn(args) => {
            fleet::with_env_meant(&inv, &args.env, fleet::scale_in(&inv, args).await)
        }
        Command::Servers(ServersCommand::Ls(args)) => {
            fleet::with_env_meant(&inv, &args.env, fleet::servers_ls(&inv, args).await)
        }
        Command::Asg(AsgCommand::Size(args)) => {
            fleet::with_env_meant(&inv, &args.env, fleet::asg_size(&inv, args).await)
        }
        Command::Migration(MigrationCommand::Logs(args)) => {
            fleet::with_env_meant(&inv, &args.env, fleet::migration_logs(&inv, args).await)
        }
        Command::Monitor(args) => {
            fleet::with_env_meant(&inv, &args.env, fleet::monitor(&inv, args).await)
        }
        Command::Cadence(CadenceCommand::Check(args)) => cadence::check(&inv, args).await,
        Command::Cadence(CadenceCommand::Show(args)) => cadence::show(&inv, args).await,
        Command::Lock(LockCommand::Show(args)) => lock::show(&inv, args).await,
        Command::Lock(LockCommand::Release(args)) => lock::release(&inv, args).await,
        Command::Status(args) => status::run(&inv, args).await,
        Command::Report(args) => report::run(&inv, args).await,
        Command::Config(cmd) => config::run(&inv, cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn changes(args: &[&str]) -> bool {
        let cli = Cli::try_parse_from([&["deploykit"], args].concat()).expect("arguments");
        matches!(stopping(&cli), Stopping::Changes { .. })
    }

    #[test]
    fn only_real_changes_count_as_changing_things() {
        assert!(changes(&["recycle", "prod", "idp"]));
        assert!(changes(&["asg", "size", "prod", "idp", "--desired", "4"]));
        assert!(changes(&["lock", "release", "prod", "idp", "run"]));
        assert!(!changes(&["recycle", "prod", "idp", "--dry-run"]));
        assert!(!changes(&["--sandbox", "recycle", "prod", "idp"]));
        assert!(!changes(&["asg", "size", "prod", "idp"]));
        assert!(!changes(&["monitor", "prod", "idp"]));
        assert!(!changes(&["runs"]));
    }

    #[test]
    fn a_stopped_recycle_says_how_to_finish_it() {
        let cli = Cli::try_parse_from(["deploykit", "recycle", "prod", "idp"]).expect("args");
        let Stopping::Changes { hint: Some(hint) } = stopping(&cli) else {
            panic!("a recycle changes things and has a hint");
        };
        assert!(hint.contains("--force"), "{hint}");
        let cli = Cli::try_parse_from(["deploykit", "lock", "release", "prod", "idp", "run"])
            .expect("args");
        assert_eq!(stopping(&cli), Stopping::Changes { hint: None });
    }

    #[test]
    fn a_stopped_cut_true_up_or_release_says_to_run_it_again() {
        for (args, command) in [
            (&["rc", "create", "--app", "idp"][..], "deploykit rc create"),
            (
                &["release", "create", "9700"][..],
                "deploykit release create",
            ),
        ] {
            let cli = Cli::try_parse_from([&["deploykit"], args].concat()).expect("args");
            let Stopping::Changes { hint: Some(hint) } = stopping(&cli) else {
                panic!("{args:?} changes things and has a hint");
            };
            assert!(hint.contains(command), "{hint}");
            assert!(!changes(&[args, &["--dry-run"]].concat()), "{args:?}");
        }
        let cli = Cli::try_parse_from(["deploykit", "rc", "true-up"]).expect("args");
        let Stopping::Changes { hint: Some(hint) } = stopping(&cli) else {
            panic!("a true-up changes things and has a hint");
        };
        assert!(hint.contains("deploykit rc true-up"), "{hint}");
    }
}
