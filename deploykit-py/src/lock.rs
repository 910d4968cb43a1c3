//! `lock_status` and `release_lock`: who holds a deploy lock, and releasing one whose run will
//! not be resumed (as `deploykit lock show|release`), with what was released.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deploykit_core::deploy::held_lock::{self, LockStatus};
use deploykit_core::ports::{Clock, DeployLock, LockHolder};
use deploykit_core::{AppName, EnvName, Result};
use pyo3::prelude::*;

use crate::record::record_class;

record_class! {
    /// The deploy lock of an app in an environment: free, or who holds it since when, until
    /// when, and the run that took it.
    PyLockStatus(LockStatus) as "LockStatus",
    repr = |r| match &r.holder {
        Some(h) => format!(
            "LockStatus(env='{}', app='{}', owner={:?}, stale={})",
            r.env,
            r.app,
            h.owner,
            crate::convert::py_bool(r.stale)
        ),
        None => format!("LockStatus(env='{}', app='{}', free)", r.env, r.app),
    },
    {
        /// The environment.
        #[getter]
        fn env(&self) -> String {
            self.0.env.to_string()
        }
        /// The app.
        #[getter]
        fn app(&self) -> String {
            self.0.app.to_string()
        }
        /// Nobody holds it.
        #[getter]
        fn free(&self) -> bool {
            self.0.holder.is_none()
        }
        /// Who holds it (user@host and run), if anyone.
        #[getter]
        fn owner(&self) -> Option<String> {
            self.0.holder.as_ref().map(|h| h.owner.clone())
        }
        /// When it was taken.
        #[getter]
        fn acquired_at(&self) -> Option<DateTime<Utc>> {
            self.0.holder.as_ref().map(|h| h.acquired_at)
        }
        /// When it expires (then the next deploy takes it over).
        #[getter]
        fn expires_at(&self) -> Option<DateTime<Utc>> {
            self.0.holder.as_ref().map(|h| h.expires_at)
        }
        /// The deploykit run that took it (`resume` continues it), if a run did.
        #[getter]
        fn run(&self) -> Option<String> {
            self.0.run.clone()
        }
        /// Past its expiry.
        #[getter]
        fn stale(&self) -> bool {
            self.0.stale
        }
        /// The holder and the ways on, as `deploykit lock show` prints them.
        fn render(&self) -> String {
            self.0.render()
        }
    }
}

/// Who holds the deploy lock of `app` in `env`.
pub async fn lock_status(
    lock: Arc<dyn DeployLock>,
    clock: Arc<dyn Clock>,
    env: String,
    app: Result<AppName>,
) -> Result<PyLockStatus> {
    let (env, app) = (EnvName::new(env)?, app?);
    held_lock::lock_status(lock.as_ref(), &env, &app, clock.now())
        .await
        .map(PyLockStatus)
}

/// A deploy lock released: the holder it had (who, since when, its run) and the lock now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LockRelease {
    /// The holder released.
    pub released: LockHolder,
    /// The released holder's deploykit run, when a run took the lock.
    pub run: Option<String>,
    /// The released holder's lock was past its expiry.
    pub stale: bool,
    /// The lock after the release: free, unless someone has taken it since.
    pub now: LockStatus,
}

impl LockRelease {
    /// The release as `deploykit lock release` prints it, then the lock now if someone has
    /// taken it since.
    fn render(&self) -> String {
        let mut text = deploykit_core::deploy::held_lock::released_text(&self.released);
        if self.now.holder.is_some() {
            text.push_str(&format!("; since then {}", self.now.render()));
        }
        text
    }
}

record_class! {
    /// A deploy lock `release_lock` released: whose it was (`owner`, `run`, `acquired_at`,
    /// `expires_at`, `stale`) and the lock now (`status`, `free`).
    PyLockRelease(LockRelease) as "LockRelease",
    repr = |r| format!(
        "LockRelease(env='{}', app='{}', released={:?}, free={})",
        r.now.env,
        r.now.app,
        r.released.owner,
        crate::convert::py_bool(r.now.holder.is_none())
    ),
    {
        /// The environment.
        #[getter]
        fn env(&self) -> String {
            self.0.now.env.to_string()
        }
        /// The app.
        #[getter]
        fn app(&self) -> String {
            self.0.now.app.to_string()
        }
        /// Nobody holds the lock now (true right after the release, unless someone has taken
        /// it since).
        #[getter]
        fn free(&self) -> bool {
            self.0.now.holder.is_none()
        }
        /// The lock now, as `lock_status` reports it.
        #[getter]
        fn status(&self) -> PyLockStatus {
            PyLockStatus(self.0.now.clone())
        }
        /// Who held the lock released (user@host and run).
        #[getter]
        fn owner(&self) -> String {
            self.0.released.owner.clone()
        }
        /// When the released holder took it.
        #[getter]
        fn acquired_at(&self) -> DateTime<Utc> {
            self.0.released.acquired_at
        }
        /// When the released holder's lock would have expired.
        #[getter]
        fn expires_at(&self) -> DateTime<Utc> {
            self.0.released.expires_at
        }
        /// The deploykit run whose lock was released, if a run took it.
        #[getter]
        fn run(&self) -> Option<String> {
            self.0.run.clone()
        }
        /// The released holder's lock was past its expiry (the next deploy would have taken
        /// it over).
        #[getter]
        fn stale(&self) -> bool {
            self.0.stale
        }
        /// What was released, as `deploykit lock release` prints it.
        fn render(&self) -> String {
            self.0.render()
        }
    }
}

/// Releases the deploy lock of `app` in `env` if `holder` names its holder: the holder
/// released and the lock now.
pub async fn release_lock(
    lock: Arc<dyn DeployLock>,
    clock: Arc<dyn Clock>,
    env: String,
    app: Result<AppName>,
    holder: String,
) -> Result<PyLockRelease> {
    let (env, app) = (EnvName::new(env)?, app?);
    let released = held_lock::release_held_lock(lock.as_ref(), &env, &app, &holder).await?;
    let was = LockStatus::of(&env, &app, Some(released.clone()), clock.now());
    let now = held_lock::lock_status(lock.as_ref(), &env, &app, clock.now()).await?;
    Ok(PyLockRelease(LockRelease {
        released,
        run: was.run,
        stale: was.stale,
        now,
    }))
}

/// Registers `LockStatus` and `LockRelease`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLockStatus>()?;
    m.add_class::<PyLockRelease>()
}
