//! The ports a command works with: the simulated world (`--sandbox`) or the real backends.

use std::path::Path;
use std::sync::Arc;

use deploykit_core::config::EffectiveConfig;
use deploykit_core::ports::{
    Announcement, Clock, CodeHost, DeployStatusSource, Fleet, LogSource, Monitor, Notifier,
    SystemClock, Vcs,
};
use deploykit_core::sim::World;
use deploykit_core::slack::SlackNotifier;
use deploykit_core::{AppName, AppSettings, EnvName, Error, Result};
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

    /// The real AWS fleet of `env`.
    pub async fn aws(config: &EffectiveConfig, env: &EnvName) -> Result<Self> {
        let _ = (config, env, SystemClock);
        Err(Error::unsupported(
            "the AWS backend is not wired into the CLI yet; run with --sandbox to use the \
             simulated world",
        ))
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
