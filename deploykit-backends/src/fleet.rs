//! The fleet-side ports: Auto Scaling groups, migration logs, the monitor, time.

use std::sync::Arc;

use deploykit_aws::{AwsClients, AwsFleet, CloudWatchMigrationLogs, LogsInsightsMonitor};
use deploykit_core::config::{EffectiveConfig, MonitorKind};
use deploykit_core::newrelic::NewRelicMonitor;
use deploykit_core::ports::{Clock, Fleet, LogSource, Monitor, SystemClock};
use deploykit_core::sim::World;
use deploykit_core::{EnvName, Result};

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

    /// The real AWS fleet of `env` (region, profile and endpoint from `[aws]`), with the
    /// monitor the configuration names.
    pub async fn aws(config: &EffectiveConfig, env: &EnvName) -> Result<Self> {
        let clients = AwsClients::from_settings(&config.aws).await?;
        Self::aws_with(config, env, clients)
    }

    /// [`FleetBackends::aws`] over clients already built.
    pub fn aws_with(config: &EffectiveConfig, env: &EnvName, clients: AwsClients) -> Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let monitor = monitor_for(config, &clients, clock.clone())?;
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

/// The monitor `[monitor] kind` names: New Relic, or CloudWatch Logs Insights over `clients`
/// (also for `none`: the gate is then left to the release manager, the figures still show).
pub fn monitor_for(
    config: &EffectiveConfig,
    clients: &AwsClients,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn Monitor>> {
    Ok(match config.monitor.kind {
        MonitorKind::Newrelic => Arc::new(NewRelicMonitor::from_config(config)?),
        MonitorKind::Cloudwatch | MonitorKind::None => {
            Arc::new(LogsInsightsMonitor::new(clients.clone(), clock))
        }
    })
}
