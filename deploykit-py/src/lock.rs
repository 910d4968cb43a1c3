//! `lock_status` and `release_lock`: who holds a deploy lock, and releasing one whose run will
//! not be resumed (as `deploykit lock show|release`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use deploykit_core::deploy::held_lock::{self, LockStatus};
use deploykit_core::ports::{Clock, DeployLock};
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

/// Releases the deploy lock of `app` in `env` if `holder` names its holder; the lock as it was
/// before.
pub async fn release_lock(
    lock: Arc<dyn DeployLock>,
    clock: Arc<dyn Clock>,
    env: String,
    app: Result<AppName>,
    holder: String,
) -> Result<PyLockStatus> {
    let (env, app) = (EnvName::new(env)?, app?);
    let released = held_lock::release_held_lock(lock.as_ref(), &env, &app, &holder).await?;
    Ok(PyLockStatus(LockStatus::of(
        &env,
        &app,
        Some(released),
        clock.now(),
    )))
}

/// Registers `LockStatus`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLockStatus>()
}
