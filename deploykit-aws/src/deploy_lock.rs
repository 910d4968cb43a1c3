//! [`SsmDeployLock`]: the deploy lock as an SSM parameter `/deploykit/locks/<env>/<app>`.
//!
//! Taking a free lock is one PutParameter with `Overwrite=false`: SSM refuses it when the
//! parameter exists, so two machines can never both take it. A stale lock (past its
//! `expires_at`) is deleted and taken once more; a lock held by someone else is a Conflict
//! naming them.
//!
//! SSM has no compare-and-swap, so breaking a stale lock cannot be atomic: two deploys that
//! find the same stale lock at the same moment may each delete it and take it, the second
//! deleting the first's. After breaking one, the taker waits [`BREAK_SETTLE`] and reads the
//! lock back, and gives way (Conflict, naming the other) if it is no longer its own; only a
//! rival that takes longer than that wait between reading the stale lock and deleting it
//! goes unseen.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ssm::types::ParameterType;
use deploykit_core::error::{Error, ErrorKind, Result};
use deploykit_core::model::names::{AppName, EnvName};
use deploykit_core::ports::clock::Clock;
use deploykit_core::ports::deploy_lock::{DeployLock, LockHolder, renewed};

use crate::clients::AwsClients;
use crate::errors::map_sdk_error;

/// The parameter path prefix of every lock.
pub const LOCK_PREFIX: &str = "/deploykit/locks";

/// How long a deploy that broke a stale lock waits before reading it back to see that
/// nobody broke it again at the same moment.
pub const BREAK_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// The `DeployLock` port on SSM Parameter Store.
#[derive(Debug, Clone)]
pub struct SsmDeployLock {
    clients: AwsClients,
    clock: Arc<dyn Clock>,
}

impl SsmDeployLock {
    /// A lock store on these clients; `clock` tells when a lock is stale.
    pub fn new(clients: AwsClients, clock: Arc<dyn Clock>) -> Self {
        SsmDeployLock { clients, clock }
    }

    /// The parameter name of the lock of `app` in `env`.
    pub fn parameter_name(env: &EnvName, app: &AppName) -> String {
        format!("{LOCK_PREFIX}/{env}/{app}")
    }

    /// PutParameter without overwrite: `Ok(false)` when the parameter already exists.
    async fn put_new(&self, name: &str, holder: &LockHolder) -> Result<bool> {
        self.put(name, holder, false).await
    }

    /// PutParameter of `holder`, overwriting only if `overwrite`: `Ok(false)` when it may not
    /// and the parameter already exists.
    async fn put(&self, name: &str, holder: &LockHolder, overwrite: bool) -> Result<bool> {
        let value = serde_json::to_string(holder)
            .map_err(|e| Error::backend(format!("could not encode the lock holder: {e}")))?;
        match self
            .clients
            .ssm
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(overwrite)
            .description("deploykit deploy lock")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let already = e
                    .as_service_error()
                    .is_some_and(|s| s.is_parameter_already_exists());
                if already {
                    Ok(false)
                } else {
                    Err(map_sdk_error("PutParameter", &format!("lock {name}"), e))
                }
            }
        }
    }

    async fn read(&self, name: &str) -> Result<Option<LockHolder>> {
        let out = match self.clients.ssm.get_parameter().name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let err = map_sdk_error("GetParameter", &format!("lock {name}"), e);
                return if err.kind() == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let Some(value) = out.parameter().and_then(|p| p.value()) else {
            return Ok(None);
        };
        serde_json::from_str(value).map(Some).map_err(|e| {
            Error::backend(format!(
                "lock parameter {name} does not hold a deploykit lock ({e}); inspect it with \
                 `aws ssm get-parameter --name {name}` and delete it if it is stale"
            ))
            .with("parameter", name)
        })
    }

    async fn delete(&self, name: &str) -> Result<()> {
        match self.clients.ssm.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = map_sdk_error("DeleteParameter", &format!("lock {name}"), e);
                if err.kind() == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}

/// A temporary Conflict: the lock `name` vanished or moved while it was being taken.
fn changed_hands(name: &str) -> Error {
    Error::conflict(format!(
        "the deploy lock {name} changed hands while being taken; try again"
    ))
    .temporary(true)
}

fn held_by(name: &str, holder: &LockHolder) -> Error {
    holder.held_error().with("parameter", name)
}

#[async_trait]
impl DeployLock for SsmDeployLock {
    async fn acquire(&self, holder: &LockHolder) -> Result<()> {
        let name = Self::parameter_name(&holder.env, &holder.app);
        if self.put_new(&name, holder).await? {
            return Ok(());
        }
        let current = self.read(&name).await?;
        match current {
            Some(current) if !current.has_expired(self.clock.now()) => {
                Err(held_by(&name, &current))
            }
            _ => {
                // Stale (or vanished meanwhile): break it and try once more.
                self.delete(&name).await?;
                if self.put_new(&name, holder).await? {
                    // Another deploy that found the same stale lock may have deleted ours
                    // and taken it: read it back once that would have shown.
                    self.clock.sleep(BREAK_SETTLE).await;
                    return match self.read(&name).await? {
                        Some(now) if now.owner == holder.owner => Ok(()),
                        Some(winner) => Err(held_by(&name, &winner)),
                        None => Err(changed_hands(&name)),
                    };
                }
                match self.read(&name).await? {
                    Some(winner) => Err(held_by(&name, &winner)),
                    None => Err(changed_hands(&name)),
                }
            }
        }
    }

    async fn release(&self, env: &EnvName, app: &AppName, owner: &str) -> Result<()> {
        let name = Self::parameter_name(env, app);
        match self.read(&name).await? {
            Some(current) if current.owner == owner => self.delete(&name).await,
            _ => Ok(()),
        }
    }

    async fn holder(&self, env: &EnvName, app: &AppName) -> Result<Option<LockHolder>> {
        self.read(&Self::parameter_name(env, app)).await
    }

    /// Read, check, overwrite. Only a holder whose lock has not expired renews it, and
    /// nobody else may take a lock that has not expired, so no other deploy's lock is
    /// overwritten (a renewal racing the expiry itself is refused by the check).
    async fn renew(&self, holder: &LockHolder) -> Result<()> {
        let name = Self::parameter_name(&holder.env, &holder.app);
        let current = self.read(&name).await?;
        let next = renewed(current.as_ref(), holder, self.clock.now())?;
        self.put(&name, &next, true).await.map(|_| ())
    }
}
