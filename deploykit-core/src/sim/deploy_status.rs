//! Deploy status documents set by tests and the world.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::deploy_status::DeployStatus;
use crate::model::names::{AppName, EnvName};
use crate::ports::DeployStatusSource;
use crate::sim::{Faults, lock};

/// What each environment's `deploy.json` says, as set by [`SimDeployStatus::set`].
#[derive(Debug, Default)]
pub struct SimDeployStatus {
    faults: Arc<Faults>,
    docs: Mutex<BTreeMap<(AppName, EnvName), DeployStatus>>,
}

impl SimDeployStatus {
    /// No documents; fails as `faults` says (op `deploy_status.deploy_status`).
    pub fn new(faults: Arc<Faults>) -> Self {
        SimDeployStatus {
            faults,
            docs: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets the document `app` serves in `env`.
    pub fn set(&self, app: &AppName, env: &EnvName, status: DeployStatus) {
        lock(&self.docs).insert((app.clone(), env.clone()), status);
    }

    /// A minimal document (`git_sha` and `branch` only, as container builds write).
    pub fn minimal(sha: crate::model::sha::Sha, branch: &str) -> DeployStatus {
        DeployStatus {
            git_sha: sha,
            env: None,
            branch: Some(branch.to_string()),
            user: None,
            git_date: None,
            chef_run_timestamp: None,
            instance_id: None,
            devops_git_sha: None,
            devops_git_date: None,
        }
    }
}

#[async_trait]
impl DeployStatusSource for SimDeployStatus {
    async fn deploy_status(&self, app: &AppName, env: &EnvName) -> Result<DeployStatus> {
        self.faults.check("deploy_status.deploy_status")?;
        lock(&self.docs)
            .get(&(app.clone(), env.clone()))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{env} serves no deploy status document for {app}; check the environment \
                     and app names"
                ))
                .with("app", app)
                .with("env", env)
            })
    }
}
