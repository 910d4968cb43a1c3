//! The ports a command works with: the simulated world (`--sandbox`) or the real backends.

use std::path::Path;
use std::sync::Arc;

use deploykit_aws::{
    AwsClients, AwsFleet, CloudWatchMigrationLogs, LogsInsightsMonitor, SsmDeployLock,
};
use deploykit_core::config::EffectiveConfig;
use deploykit_core::config::MonitorKind;
use deploykit_core::deploy::DeployPorts;
use deploykit_core::newrelic::NewRelicMonitor;
use deploykit_core::ports::{
    Announcement, Clock, CodeHost, DeployStatusSource, Fleet, LogSource, Monitor, Notifier,
    SystemClock, Vcs,
};
use deploykit_core::sim::{ReleasingCodeHost, World};
use deploykit_core::slack::SlackNotifier;
use deploykit_core::{AppName, AppSettings, EnvName, Result};
use deploykit_github::{GitHubCodeHost, GitVcs, HttpDeployStatus, Token};

/// The fleet-side ports of one invocation.
#[derive(Debug, Clone)]
pub struct FleetBackends {
    /// Auto Scaling groups.
    pub fleet: Arc<dyn Fleet>,
    /// Migration logs.
    pub logs: Arc<dyn LogSource>,
    /// Per-SHA figures.
    pub monitor: Arc<dyn Monitor>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl FleetBackends {
    /// The simulated world's fleet (a fresh Login.gov world, on virtual time).
    pub fn sandbox(world: &World) -> Self {
        FleetBackends {
            fleet: world.fleet(),
            logs: world.logs(),
            monitor: world.monitor(),
            clock: world.clock(),
        }
    }

    /// The real AWS fleet of `env`, with the monitor the configuration names.
    pub async fn aws(config: &EffectiveConfig, env: &EnvName) -> Result<Self> {
        let clients = AwsClients::from_env().await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let monitor: Arc<dyn Monitor> = match config.monitor.kind {
            MonitorKind::Newrelic => Arc::new(NewRelicMonitor::from_config(config)?),
            MonitorKind::Cloudwatch | MonitorKind::None => {
                Arc::new(LogsInsightsMonitor::new(clients.clone(), clock.clone()))
            }
        };
        Ok(FleetBackends {
            fleet: Arc::new(AwsFleet::new(clients.clone())),
            logs: Arc::new(CloudWatchMigrationLogs::new(clients, env)),
            monitor,
            clock,
        })
    }

    /// The sandbox or AWS, as the command line says.
    pub async fn for_command(
        sandbox: bool,
        config: &EffectiveConfig,
        env: &EnvName,
    ) -> Result<(Self, Option<World>)> {
        if sandbox {
            let world = World::login_gov();
            Ok((Self::sandbox(&world), Some(world)))
        } else {
            Ok((Self::aws(config, env).await?, None))
        }
    }
}

/// The release-side ports of one invocation, for one app.
#[derive(Debug, Clone)]
pub struct ReleaseBackends {
    /// The app's git repository.
    pub vcs: Arc<dyn Vcs>,
    /// Its releases and pull requests.
    pub code_host: Arc<dyn CodeHost>,
    /// What staging runs.
    pub deploy_status: Arc<dyn DeployStatusSource>,
    /// Where announcements go.
    pub notifier: Arc<dyn Notifier>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl ReleaseBackends {
    /// The simulated world's repository and code host of `app`.
    pub fn sandbox(world: &World, app: &AppName) -> Result<Self> {
        Ok(ReleaseBackends {
            vcs: world.vcs(app)?,
            code_host: world.code_host(app)?,
            deploy_status: world.deploy_status(),
            notifier: world.notifier(),
            clock: world.clock(),
        })
    }

    /// git in `dir`, GitHub, the staging deploy status over HTTPS, and Slack when configured.
    pub fn real(config: &EffectiveConfig, settings: &AppSettings, dir: &Path) -> Result<Self> {
        let token = config
            .secrets
            .github_token
            .as_ref()
            .and_then(|s| Token::new(s.secret.expose()));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let vcs = GitVcs::discover(dir)?.with_token(token.clone());
        let code_host = GitHubCodeHost::new(&settings.repository, &config.github.api_url, token)?;
        let deploy_status = HttpDeployStatus::new().with_url(
            settings.name.as_str(),
            "staging",
            settings.staging_deploy_status_url.clone(),
        );
        let notifier: Arc<dyn Notifier> = match SlackNotifier::from_config(config, clock.clone())? {
            Some(slack) => Arc::new(slack),
            None => Arc::new(PrintedNotifier),
        };
        Ok(ReleaseBackends {
            vcs: Arc::new(vcs),
            code_host: Arc::new(code_host),
            deploy_status: Arc::new(deploy_status),
            notifier,
            clock,
        })
    }
}

/// The notifier when none is configured: announcements are printed for the operator to
/// post by hand.
#[derive(Debug, Clone, Copy)]
pub struct PrintedNotifier;

#[async_trait::async_trait]
impl Notifier for PrintedNotifier {
    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        eprintln!("announce (no notifier configured, post it yourself): {announcement}");
        Ok(())
    }
}

/// Every port of a guided deploy: the simulated world, or AWS + GitHub + git in the current
/// directory + Slack. The world (when sandboxed) is returned so it lives as long as the ports.
pub async fn deploy_ports(
    sandbox: bool,
    config: &EffectiveConfig,
    app: &AppSettings,
    env: &EnvName,
) -> Result<(DeployPorts, Option<World>)> {
    if sandbox {
        let world = World::login_gov();
        let tag = format!(
            "gitsha:{}",
            app.main_role().map(|r| r.as_str()).unwrap_or("idp")
        );
        let releasing = ReleasingCodeHost::new(
            world.code_host(&app.name)?,
            world.clone(),
            env.clone(),
            &tag,
        );
        let ports = DeployPorts {
            vcs: world.vcs(&app.name)?,
            code_host: Arc::new(releasing),
            fleet: world.fleet(),
            logs: world.logs(),
            monitor: world.monitor(),
            notifier: world.notifier(),
            lock: world.lock(),
            clock: world.clock(),
            deploy_status: world.deploy_status(),
            operator: None,
        };
        return Ok((ports, Some(world)));
    }
    let fleet = FleetBackends::aws(config, env).await?;
    let release = ReleaseBackends::real(config, app, Path::new("."))?;
    let lock = SsmDeployLock::new(AwsClients::from_env().await, fleet.clock.clone());
    let ports = DeployPorts {
        vcs: release.vcs,
        code_host: release.code_host,
        fleet: fleet.fleet,
        logs: fleet.logs,
        monitor: fleet.monitor,
        notifier: release.notifier,
        lock: Arc::new(lock),
        clock: fleet.clock,
        deploy_status: release.deploy_status,
        operator: None,
    };
    Ok((ports, None))
}
