//! `DeployStatusSource`: what an environment says it runs (its `deploy.json`).

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::deploy_status::DeployStatus;
use crate::model::names::{AppName, EnvName};

/// Reads the deploy status document of an app in an environment.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeployStatusSource: Send + Sync + Debug {
    /// The document `app` serves in `env`.
    async fn deploy_status(&self, app: &AppName, env: &EnvName) -> Result<DeployStatus>;
}
