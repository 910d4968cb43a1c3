//! The ports a command works with: the simulated world (`--sandbox`) or the real backends.

use std::sync::Arc;

use deploykit_core::config::EffectiveConfig;
use deploykit_core::ports::{Clock, Fleet, LogSource, Monitor, SystemClock};
use deploykit_core::sim::World;
use deploykit_core::{EnvName, Error, Result};

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
