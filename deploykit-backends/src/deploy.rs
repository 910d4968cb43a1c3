//! Every port of a guided deploy, simulated or real.

use std::path::Path;
use std::sync::Arc;

use deploykit_aws::{AwsClients, SsmDeployLock};
use deploykit_core::config::EffectiveConfig;
use deploykit_core::deploy::DeployPorts;
use deploykit_core::ports::{Clock, CodeHost, DeployLock, SystemClock};
use deploykit_core::sim::{ReleasingCodeHost, World};
use deploykit_core::{AppSettings, EnvName, Result};

use crate::{FleetBackends, ReleaseBackends};

/// The simulated code host of `app` wrapped so that merges to the production branch become
/// what new `env` instances of the app's main role boot: the monitor gate then compares
/// different old and new SHAs, as in a real deploy.
pub fn sandbox_code_host(
    world: &World,
    app: &AppSettings,
    env: &EnvName,
) -> Result<Arc<dyn CodeHost>> {
    let tag = format!(
        "gitsha:{}",
        app.main_role().map(|r| r.as_str()).unwrap_or("idp")
    );
    Ok(Arc::new(ReleasingCodeHost::new(
        world.code_host(&app.name)?,
        world.clone(),
        env.clone(),
        &tag,
    )))
}

/// Every port of a guided deploy of `app` to `env` in the simulated `world`.
pub fn sandbox_deploy_ports(
    world: &World,
    app: &AppSettings,
    env: &EnvName,
) -> Result<DeployPorts> {
    world.deploy_ports(&app.name, sandbox_code_host(world, app, env)?)
}

/// Every real port of a guided deploy: `fleet` (AWS, built by the caller), git in `dir`,
/// GitHub, Slack, and the SSM deploy lock over `clients`.
pub fn real_deploy_ports(
    config: &EffectiveConfig,
    app: &AppSettings,
    fleet: FleetBackends,
    clients: AwsClients,
    dir: &Path,
) -> Result<DeployPorts> {
    let release = ReleaseBackends::real(config, app, dir)?;
    let lock = SsmDeployLock::new(clients, fleet.clock.clone());
    Ok(DeployPorts {
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
    })
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
        let ports = sandbox_deploy_ports(&world, app, env)?;
        return Ok((ports, Some(world)));
    }
    let clients = AwsClients::from_settings(&config.aws).await?;
    let fleet = FleetBackends::aws_with(config, env, clients.clone())?;
    let ports = real_deploy_ports(config, app, fleet, clients, Path::new("."))?;
    Ok((ports, None))
}

/// The deploy lock alone, with the clock that tells a stale lock: the simulated world's (a
/// fresh world holds no lock), or the SSM lock on the configured AWS account. The world (when
/// sandboxed) is returned so it lives as long as the lock.
pub async fn deploy_lock(
    sandbox: bool,
    config: &EffectiveConfig,
) -> Result<(Arc<dyn DeployLock>, Arc<dyn Clock>, Option<World>)> {
    if sandbox {
        let world = World::login_gov();
        return Ok((world.lock(), world.clock(), Some(world)));
    }
    let clients = AwsClients::from_settings(&config.aws).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let lock = SsmDeployLock::new(clients, clock.clone());
    Ok((Arc::new(lock), clock, None))
}
