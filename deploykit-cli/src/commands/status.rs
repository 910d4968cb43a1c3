//! `deploykit status [ENV] [--app APP]`: what is deployed where, and what is pending.
//!
//! Exit 0 when every source answered; exit 1 when some field is unknown because a source
//! failed (the table and JSON are still printed, with the reasons). Mixed SHAs are reported,
//! not an error.

use std::path::Path;
use std::sync::Arc;

use deploykit_core::config::EffectiveConfig;
use deploykit_core::ports::{Clock, CodeHost, DeployStatusSource, Fleet, SystemClock, Vcs};
use deploykit_core::release::check_remote;
use deploykit_core::sim::World;
use deploykit_core::status::{self, AppSource, StatusPorts, StatusRequest, render_status};
use deploykit_core::{AppSettings, EnvName, Error, Result};
use deploykit_github::{GitHubCodeHost, GitVcs, Token};

use crate::args::StatusArgs;
use crate::backends::FleetBackends;
use crate::commands::Invocation;
use crate::exit;
use crate::output::print_result;

/// The environments of the simulated world.
const SANDBOX_ENVS: [&str; 2] = ["prod", "staging"];

/// The ports of one app: its repository (when checked out here) and code host.
struct AppPorts {
    settings: AppSettings,
    vcs: Result<Arc<dyn Vcs>, String>,
    code_host: Arc<dyn CodeHost>,
}

/// The environment-wide ports.
struct EnvPorts {
    fleet: Arc<dyn Fleet>,
    deploy_status: Arc<dyn DeployStatusSource>,
    clock: Arc<dyn Clock>,
}

fn apps(config: &EffectiveConfig, only: Option<&str>) -> Result<Vec<AppSettings>> {
    match only {
        Some(name) => config.app(name).map(|a| vec![a]),
        None => Ok(config.apps.values().cloned().collect()),
    }
}

fn envs(config: &EffectiveConfig, only: Option<&str>, sandbox: bool) -> Result<Vec<EnvName>> {
    if let Some(env) = only {
        let env: EnvName = env.parse()?;
        // An environment outside the configuration is shown as far as it can be, unless its
        // name is a likely typo of a configured one (`prodd`): then it is refused, naming it.
        if config.env_meant(&env).is_some() {
            config.configured_env(&env)?;
        }
        return Ok(vec![env]);
    }
    let mut names: Vec<String> = if sandbox || config.environments.is_empty() {
        SANDBOX_ENVS.iter().map(|s| s.to_string()).collect()
    } else {
        config.environments.keys().cloned().collect()
    };
    // Production first, as release engineers read it.
    names.sort_by_key(|n| (n != "prod", n.clone()));
    names.iter().map(|n| n.parse()).collect()
}

/// The local checkout in `dir`, if its remote names the app's repository; else why not.
async fn local_vcs(
    dir: &Path,
    settings: &AppSettings,
    token: Option<Token>,
) -> Result<Arc<dyn Vcs>, String> {
    let vcs = GitVcs::discover(dir)
        .map_err(|_| format!("no git repository at {}", dir.display()))?
        .with_token(token);
    let url = vcs.remote_url(&settings.remote).await.map_err(|_| {
        format!(
            "the repository at {} has no remote {:?}",
            dir.display(),
            settings.remote
        )
    })?;
    check_remote(settings, &url).map_err(|_| {
        format!(
            "the remote {:?} of {} points at {url}",
            settings.remote,
            dir.display()
        )
    })?;
    Ok(Arc::new(vcs))
}

async fn real_ports(
    config: &EffectiveConfig,
    apps: &[AppSettings],
    envs: &[EnvName],
    dir: &Path,
) -> Result<(EnvPorts, Vec<AppPorts>)> {
    let first = envs
        .first()
        .ok_or_else(|| Error::invalid_input("no environment to report on"))?;
    let fleet = FleetBackends::aws(config, first).await?;
    let token = config
        .secrets
        .github_token
        .as_ref()
        .and_then(|s| Token::new(s.secret.expose()));
    let deploy_status = deploykit_backends::deploy_status_source_for(apps);
    let mut ports = Vec::new();
    for settings in apps {
        let code_host =
            GitHubCodeHost::new(&settings.repository, &config.github.api_url, token.clone())?;
        ports.push(AppPorts {
            vcs: local_vcs(dir, settings, token.clone()).await,
            code_host: Arc::new(code_host),
            settings: settings.clone(),
        });
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok((
        EnvPorts {
            fleet: fleet.fleet,
            deploy_status: Arc::new(deploy_status),
            clock,
        },
        ports,
    ))
}

fn sandbox_ports(world: &World, apps: &[AppSettings]) -> Result<(EnvPorts, Vec<AppPorts>)> {
    let mut ports = Vec::new();
    for settings in apps {
        ports.push(AppPorts {
            vcs: Ok(world.vcs(&settings.name)?),
            code_host: world.code_host(&settings.name)?,
            settings: settings.clone(),
        });
    }
    Ok((
        EnvPorts {
            fleet: world.fleet(),
            deploy_status: world.deploy_status(),
            clock: world.clock(),
        },
        ports,
    ))
}

/// `deploykit status [ENV] [--app APP] [--short]`.
pub async fn run(inv: &Invocation<'_>, args: &StatusArgs) -> Result<u8> {
    let config = inv.config()?;
    let sandbox = inv.cli.sandbox;
    let apps = apps(&config, args.app.as_deref())?;
    let envs = envs(&config, args.env.as_deref(), sandbox)?;
    let world = sandbox.then(World::login_gov);
    let (env_ports, app_ports) = match &world {
        Some(world) => sandbox_ports(world, &apps)?,
        None => real_ports(&config, &apps, &envs, &args.dir).await?,
    };
    let sources: Vec<AppSource<'_>> = app_ports
        .iter()
        .map(|p| AppSource {
            settings: &p.settings,
            vcs: p.vcs.as_deref().map_err(String::as_str),
            code_host: p.code_host.as_ref(),
        })
        .collect();
    let ports = StatusPorts {
        fleet: env_ports.fleet.as_ref(),
        deploy_status: env_ports.deploy_status.as_ref(),
        clock: env_ports.clock.as_ref(),
    };
    let request = StatusRequest {
        envs,
        fetch: !args.no_fetch,
    };
    let report = status::status(&ports, &sources, &request).await;
    print_result(inv.format, &report, || render_status(&report, !args.short));
    Ok(if report.is_complete() {
        exit::OK
    } else {
        exit::FAILED
    })
}
