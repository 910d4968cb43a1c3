//! An in-memory deploy lock on the (virtual) clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::Result;
use crate::model::names::{AppName, EnvName};
use crate::ports::deploy_lock::renewed;
use crate::ports::{Clock, DeployLock, LockHolder};
use crate::sim::{Faults, lock};

/// One lock per (environment, app), kept in memory. An expired lock may be taken over by
/// anyone; the holder may take its own lock again (renewing it).
#[derive(Debug)]
pub struct MemoryLock {
    clock: Arc<dyn Clock>,
    faults: Arc<Faults>,
    held: Mutex<BTreeMap<(EnvName, AppName), LockHolder>>,
}

impl MemoryLock {
    /// No locks held; expiry judged by `clock`; fails as `faults` says (op `lock.<method>`).
    pub fn new(clock: Arc<dyn Clock>, faults: Arc<Faults>) -> Self {
        MemoryLock {
            clock,
            faults,
            held: Mutex::new(BTreeMap::new()),
        }
    }
}

#[async_trait]
impl DeployLock for MemoryLock {
    async fn acquire(&self, holder: &LockHolder) -> Result<()> {
        self.faults.act("lock.acquire", || {
            let now = self.clock.now();
            let mut held = lock(&self.held);
            let key = (holder.env.clone(), holder.app.clone());
            if let Some(current) = held.get(&key)
                && current.owner != holder.owner
                && !current.has_expired(now)
            {
                return Err(current.held_error());
            }
            held.insert(key, holder.clone());
            Ok(())
        })
    }

    async fn release(&self, env: &EnvName, app: &AppName, owner: &str) -> Result<()> {
        self.faults.act("lock.release", || {
            let mut held = lock(&self.held);
            let key = (env.clone(), app.clone());
            if held.get(&key).is_some_and(|h| h.owner == owner) {
                held.remove(&key);
            }
            Ok(())
        })
    }

    async fn holder(&self, env: &EnvName, app: &AppName) -> Result<Option<LockHolder>> {
        self.faults.check("lock.holder")?;
        Ok(lock(&self.held).get(&(env.clone(), app.clone())).cloned())
    }

    async fn renew(&self, holder: &LockHolder) -> Result<()> {
        self.faults.act("lock.renew", || {
            let mut held = lock(&self.held);
            let key = (holder.env.clone(), holder.app.clone());
            let next = renewed(held.get(&key), holder, self.clock.now())?;
            held.insert(key, next);
            Ok(())
        })
    }
}
