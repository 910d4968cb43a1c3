//! The release-side ports of one app: git, the code host, the deploy status, the notifier.

use std::path::Path;
use std::sync::Arc;

use deploykit_core::config::EffectiveConfig;
use deploykit_core::ports::{Clock, CodeHost, DeployStatusSource, Notifier, SystemClock, Vcs};
use deploykit_core::sim::World;
use deploykit_core::slack::SlackNotifier;
use deploykit_core::{AppName, AppSettings, Result};
use deploykit_github::{GitHubCodeHost, GitVcs, HttpDeployStatus, Token};

use crate::PrintedNotifier;

/// The release-side ports of one invocation, for one app.
#[derive(Debug, Clone)]
pub struct ReleaseBackends {
    /// The app's git repository.
    pub vcs: Arc<dyn Vcs>,
    /// Its releases and pull requests.
    pub code_host: Arc<dyn CodeHost>,
    /// What each environment runs (its `deploy.json`).
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

    /// git in `dir`, GitHub, the configured deploy status documents over HTTPS, and Slack when configured
    /// (else announcements are printed).
    pub fn real(config: &EffectiveConfig, settings: &AppSettings, dir: &Path) -> Result<Self> {
        let token = config
            .secrets
            .github_token
            .as_ref()
            .and_then(|s| Token::new(s.secret.expose()));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let vcs = GitVcs::discover(dir)?.with_token(token.clone());
        let code_host = GitHubCodeHost::new(&settings.repository, &config.github.api_url, token)?;
        let deploy_status = deploy_status_source(settings);
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

/// What `app` runs, read over HTTPS from its deploy status URLs: the built-in staging ones of
/// idp and pki, replaced and extended by the configured ones
/// ([`AppSettings::all_deploy_status_urls`]).
pub fn deploy_status_source(settings: &AppSettings) -> HttpDeployStatus {
    deploy_status_source_for(std::slice::from_ref(settings))
}

/// [`deploy_status_source`] for several apps at once (what `deploykit status` reads).
pub fn deploy_status_source_for(apps: &[AppSettings]) -> HttpDeployStatus {
    apps.iter().fold(HttpDeployStatus::new(), |source, app| {
        app.all_deploy_status_urls()
            .into_iter()
            .fold(source, |source, (env, url)| {
                source.with_url(app.name.as_str(), env, url)
            })
    })
}
