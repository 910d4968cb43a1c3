//! Command-line arguments: one clap struct per command, turned into a library request.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use deploykit_core::DeployKind;

/// deploykit: Login.gov's release process (release candidates, promotion PRs, recycles,
/// gates, scale-in, rollback, releases) as one tool.
#[derive(Debug, Parser)]
#[command(
    name = "deploykit",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 ok, 1 failed, 2 bad input, 3 refused by a policy, 4 refused as \
                  unsafe, 5 rolled back, 6 paused for a person's decision, 69 not supported \
                  here, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM."
)]
pub struct Cli {
    /// Configuration file (default: ./deploykit.toml, then ~/.config/deploykit/deploykit.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON (results, and events as JSON lines).
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer yes to every confirmation.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Run against the built-in simulated world instead of AWS and GitHub.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Override one configuration value, e.g. `--set aws.region=us-east-1` (repeatable;
    /// overrides the file and environment variables; secrets cannot be set this way). Lists
    /// and tables are written as TOML: `--set 'cadence.freezes=[{ start = 2026-12-21, end =
    /// 2027-01-01 }]'`.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rehearse a whole deploy (RC, PR, merge, recycle, gates, scale-in or rollback,
    /// release) in the simulated world, on virtual time.
    Demo(DemoArgs),
    /// Print the changelog of the commits between two revisions (changelog_check.rb).
    Changelog(ChangelogArgs),
    /// Release candidates: cut one and open its promotion PR, or true-up its branch.
    #[command(subcommand)]
    Rc(RcCommand),
    /// Releases: create the release of a merged promotion PR.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Run the guided production deploy of an app (resumable).
    Deploy(DeployArgs),
    /// Roll back a deploy: scale in new instances, open the revert PR, announce.
    Rollback(RollbackArgs),
    /// Continue an interrupted deploy from its journal.
    Resume(ResumeArgs),
    /// Recycle Auto Scaling groups (migration group first where needed).
    Recycle(RecycleArgs),
    /// Remove the old (or new) instances left after a recycle.
    ScaleIn(ScaleInArgs),
    /// Servers of an environment.
    #[command(subcommand)]
    Servers(ServersCommand),
    /// Auto Scaling group capacity.
    #[command(subcommand)]
    Asg(AsgCommand),
    /// Migration instance logs.
    #[command(subcommand)]
    Migration(MigrationCommand),
    /// Per-SHA request counts, 5xx rates and flow success rates, refreshed.
    Monitor(MonitorArgs),
    /// The deploy calendar.
    #[command(subcommand)]
    Cadence(CadenceCommand),
    /// The deploy runs of the journal, a line each: where each stands, and which can be
    /// resumed.
    Runs(RunsArgs),
    /// The deploy lock: who holds it, or release one whose run will not be resumed.
    #[command(subcommand)]
    Lock(LockCommand),
    /// What is deployed where, and what is pending.
    Status(StatusArgs),
    /// Print or open the report of a deploy run.
    Report(ReportArgs),
    /// Show or check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// The demo scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Everything goes well: deployed, old instances removed, release created.
    Healthy,
    /// A migration fails (the provisioner still prints its final marker): rolled back.
    #[value(alias = "migration-error")]
    MigrationFails,
    /// Provisioning of the migration instance fails: rolled back.
    ProvisioningFailure,
    /// The migration log stops before its final marker and the migration instance is removed
    /// at its spindown: the gate fails, rolled back.
    MigrationHang,
    /// The new SHA's 5xx rate spikes: rolled back.
    ErrorSpike,
    /// New hosts never become healthy in the load balancer: rolled back.
    UnhealthyHosts,
}

/// `deploykit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which rehearsal to run.
    #[arg(long, value_enum, default_value_t = Scenario::Healthy)]
    pub scenario: Scenario,
}

/// `deploykit changelog`.
#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// The base revision (the production branch).
    #[arg(long, short = 'b')]
    pub base: String,
    /// The source revision (the release candidate).
    #[arg(long, short = 's')]
    pub source: String,
    /// The GitHub repository PR links point to.
    #[arg(long, default_value = "18F/identity-idp")]
    pub repo: String,
    /// The git repository to read (default: the current directory).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `deploykit rc ...`.
#[derive(Debug, Subcommand)]
pub enum RcCommand {
    /// Cut a release candidate from staging's SHA and open its promotion PR.
    Create(RcCreateArgs),
    /// Merge the production branch into the RC branch keeping the RC's tree (`-s ours`).
    TrueUp(RcTrueUpArgs),
}

/// `deploykit rc create`.
#[derive(Debug, Args)]
pub struct RcCreateArgs {
    /// The app (idp or pki).
    #[arg(long, default_value = "idp")]
    pub app: String,
    /// A patch release (112 -> 112.1).
    #[arg(long)]
    pub patch: bool,
    /// Cut from this revision instead of staging's deployed SHA.
    #[arg(long)]
    pub source: Option<String>,
    /// Show what would be done without pushing or opening anything.
    #[arg(long)]
    pub dry_run: bool,
    /// The git repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `deploykit rc true-up`.
#[derive(Debug, Args)]
pub struct RcTrueUpArgs {
    /// The app (idp or pki).
    #[arg(long, default_value = "idp")]
    pub app: String,
    /// The RC branch (default: the open promotion PR's branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// The git repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `deploykit release ...`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Create the release (and, for pki, the signed tag) of a merged promotion PR.
    Create(ReleaseCreateArgs),
}

/// `deploykit release create`.
#[derive(Debug, Args)]
pub struct ReleaseCreateArgs {
    /// The merged PR: a number or its URL.
    pub pr: String,
    /// The app (idp or pki).
    #[arg(long, default_value = "idp")]
    pub app: String,
    /// Show what would be done without creating anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Release even though a deploy run of this PR in this machine's journal has not
    /// finished (paused at the smoke tests, stopped part way, or rolling back); the run keeps
    /// the release when it is resumed.
    #[arg(long)]
    pub force: bool,
    /// The git repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `deploykit deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The environment (e.g. prod).
    pub env: String,
    /// The app (idp or pki).
    pub app: String,
    /// The kind of deploy: full (the promotion PR, on a deploy day), patch or off-cycle (with
    /// --reason), config-recycle (new configuration, same code), no-migration-recycle, revert
    /// (a rollback's `Revert RC <N>` PR, any day, no release).
    #[arg(
        long,
        default_value = "full",
        value_parser = clap::builder::PossibleValuesParser::new(DeployKind::ALL.map(DeployKind::as_str))
    )]
    pub kind: String,
    /// The promotion PR (default: the open one; for --kind revert, the open revert PR).
    #[arg(long)]
    pub pr: Option<u64>,
    /// Why (required for off-cycle deploys and policy overrides; journalled).
    #[arg(long)]
    pub reason: Option<String>,
    /// Deploy even though the cadence calendar refuses, for this reason (journalled).
    #[arg(long, value_name = "REASON")]
    pub override_cadence: Option<String>,
    /// Run a no-migration recycle even though migrations or assets changed (journalled).
    #[arg(long, value_name = "REASON")]
    pub override_no_migration: Option<String>,
    /// Print the plan: every step and the operations it would call.
    #[arg(long)]
    pub dry_run: bool,
    /// The configuration diff a config recycle announces: a file, or `-` for standard input.
    /// Secret values are redacted before it is announced or journalled.
    #[arg(long, value_name = "FILE")]
    pub config_diff: Option<PathBuf>,
}

/// `deploykit rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment.
    pub env: String,
    /// The app.
    pub app: String,
    /// Why (journalled and announced).
    #[arg(long)]
    pub reason: String,
    /// The merged promotion PR to revert (default: none, only the fleet is rolled back).
    #[arg(long)]
    pub pr: Option<u64>,
}

/// `deploykit resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run id printed when the deploy started.
    pub run_id: String,
    /// The answer to the question a paused run waits on: go or rollback. For an inconclusive
    /// monitor gate, go on or roll back; for the smoke tests, go if they passed (the release
    /// is created), rollback if any failed. It answers only that question.
    #[arg(long, value_parser = ["go", "rollback"])]
    pub decision: Option<String>,
}

/// `deploykit recycle`.
#[derive(Debug, Args)]
pub struct RecycleArgs {
    /// The environment.
    pub env: String,
    /// A role, or ALL.
    pub role: String,
    /// Recycle without the migration instance.
    #[arg(long)]
    pub skip_migration: bool,
    /// Go on even if a recycle is already in progress.
    #[arg(long)]
    pub force: bool,
    /// Show the plan without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Which instances `scale-in` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleInWhich {
    /// The old instances (after a successful recycle).
    Old,
    /// The new instances (to roll back).
    New,
}

/// `deploykit scale-in`.
#[derive(Debug, Args)]
pub struct ScaleInArgs {
    /// old or new.
    #[arg(value_enum)]
    pub which: ScaleInWhich,
    /// The environment.
    pub env: String,
    /// A role, or ALL.
    pub role: String,
    /// Show what would be removed without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// `deploykit servers ...`.
#[derive(Debug, Subcommand)]
pub enum ServersCommand {
    /// List the servers of an environment.
    Ls(ServersLsArgs),
}

/// `deploykit servers ls`.
#[derive(Debug, Args)]
pub struct ServersLsArgs {
    /// The environment.
    #[arg(long, short = 'e')]
    pub env: String,
    /// Only this role.
    #[arg(long, short = 'r')]
    pub role: Option<String>,
}

/// `deploykit asg ...`.
#[derive(Debug, Subcommand)]
pub enum AsgCommand {
    /// Print (or set) a group's min / desired / max and its scheduled actions.
    Size(AsgSizeArgs),
}

/// `deploykit asg size`.
#[derive(Debug, Args)]
pub struct AsgSizeArgs {
    /// The environment.
    pub env: String,
    /// The role.
    pub role: String,
    /// New minimum.
    #[arg(long)]
    pub min: Option<u32>,
    /// New desired capacity.
    #[arg(long)]
    pub desired: Option<u32>,
    /// New maximum.
    #[arg(long)]
    pub max: Option<u32>,
}

/// `deploykit migration ...`.
#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// Follow the newest migration instance's log.
    Logs(MigrationLogsArgs),
}

/// `deploykit migration logs`.
#[derive(Debug, Args)]
pub struct MigrationLogsArgs {
    /// The environment.
    pub env: String,
    /// Give up when the log has not reached its final line this many seconds after reading
    /// began; waiting for a migration instance to appear gives up after the same time, or
    /// 600 s if that is shorter.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

/// `deploykit monitor`.
#[derive(Debug, Args)]
#[command(
    after_help = "With --json, each refresh prints its table as one compact JSON document on \
                  a line of its own (JSON lines): read the output line by line."
)]
pub struct MonitorArgs {
    /// The environment.
    pub env: String,
    /// The role.
    pub role: String,
    /// Refresh every this many seconds.
    #[arg(long, default_value_t = 15)]
    pub interval: u64,
    /// Stop after this many refreshes (default: until interrupted).
    #[arg(long)]
    pub count: Option<u32>,
    /// Split the figures by instance during a recycle: the instances it is replacing against
    /// the ones it launched (what the monitor gate compares in a config recycle, where both
    /// run one SHA).
    #[arg(long)]
    pub by_instance: bool,
}

/// `deploykit cadence ...`.
#[derive(Debug, Subcommand)]
pub enum CadenceCommand {
    /// Whether a full deploy is allowed on a day (exit 0) or refused (exit 3).
    Check(CadenceCheckArgs),
    /// The coming deploy days, each with whether a full deploy may go and why not.
    Show(CadenceShowArgs),
}

/// `deploykit cadence show`.
#[derive(Debug, Args)]
pub struct CadenceShowArgs {
    /// The first day shown (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// How many weeks to show (1 to 53).
    #[arg(
        long,
        default_value_t = 4,
        value_parser = clap::value_parser!(u32)
            .range(1..=i64::from(deploykit_core::policy::MAX_CALENDAR_WEEKS))
    )]
    pub weeks: u32,
}

/// `deploykit cadence check`.
#[derive(Debug, Args)]
pub struct CadenceCheckArgs {
    /// The day (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

/// `deploykit runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// How many of the newest runs to list (0: all).
    #[arg(long, default_value_t = 20)]
    pub last: usize,
}

/// `deploykit lock ...`.
#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Who holds the deploy lock of an app in an environment, and how to go on.
    Show(LockShowArgs),
    /// Release a deploy lock whose run will not be resumed (asks first, unless --yes).
    Release(LockReleaseArgs),
}

/// `deploykit lock show ENV APP`.
#[derive(Debug, Args)]
pub struct LockShowArgs {
    /// The environment.
    pub env: String,
    /// The app (idp, pki).
    pub app: String,
}

/// `deploykit lock release ENV APP HOLDER`.
#[derive(Debug, Args)]
pub struct LockReleaseArgs {
    /// The environment.
    pub env: String,
    /// The app (idp, pki).
    pub app: String,
    /// The holder, as `deploykit lock show` names it: its run id, or the owner text of a lock
    /// taken outside a run. A lock held by anyone else is left alone.
    pub holder: String,
}

/// `deploykit status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this environment.
    pub env: Option<String>,
    /// Only this app (`idp`, `pki`).
    #[arg(long)]
    pub app: Option<String>,
    /// The table and notes only, without the changelogs.
    #[arg(long)]
    pub short: bool,
    /// Do not fetch the remote first (use what the local repository knows).
    #[arg(long)]
    pub no_fetch: bool,
    /// The app's git checkout (its pending changes are read there).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `deploykit report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run id, or `latest` (with --sandbox: among sandboxed runs and demos).
    pub run_id: String,
    /// Open its chart ($BROWSER, else xdg-open) instead of printing; says where the files
    /// are if that fails.
    #[arg(long)]
    pub open: bool,
}

/// `deploykit config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets redacted.
    Show,
    /// Validate the configuration and report every problem.
    Check,
}
