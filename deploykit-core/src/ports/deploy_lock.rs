//! `DeployLock`: one deploy at a time per environment and app, across machines.

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::names::{AppName, EnvName};

/// Who holds a deploy lock, since when and until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    /// The environment.
    pub env: EnvName,
    /// The app.
    pub app: AppName,
    /// Who took it (user@host, run id).
    pub owner: String,
    /// When it was taken.
    pub acquired_at: DateTime<Utc>,
    /// After this time the lock is stale and may be broken.
    pub expires_at: DateTime<Utc>,
}

impl LockHolder {
    /// Whether the lock is past its expiry at `now` (the next deploy may take it over).
    pub fn has_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// The Conflict a lock store gives another deploy while this holder holds the lock: who,
    /// since and until when, and how to go on.
    pub fn held_error(&self) -> Error {
        let time = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        Error::conflict(format!(
            "the deploy lock of {} in {} is held by {} since {} (until {}); wait for that \
             deploy to finish (a lock past its expiry is taken over by the next deploy; \
             `deploykit lock show` says how to go on)",
            self.app,
            self.env,
            self.owner,
            time(&self.acquired_at),
            time(&self.expires_at),
        ))
        .with("owner", &self.owner)
        .with("since", self.acquired_at.to_rfc3339())
    }
}

/// A lock store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeployLock: Send + Sync + Debug {
    /// Takes the lock for `owner`, only if nobody holds it (or the holder's lock expired).
    /// Conflict naming the holder otherwise.
    async fn acquire(&self, holder: &LockHolder) -> Result<()>;
    /// Releases the lock if `owner` holds it; releasing a lock not held is not an error.
    async fn release(&self, env: &EnvName, app: &AppName, owner: &str) -> Result<()>;
    /// The current holder, if any (stale locks included: check `expires_at`).
    async fn holder(&self, env: &EnvName, app: &AppName) -> Result<Option<LockHolder>>;
    /// Extends the lock `holder.owner` holds to `holder.expires_at` (a run that waits for a
    /// person keeps its lock): only while that owner holds it and it has not expired; the
    /// original `acquired_at` is kept. Conflict naming the holder when someone else holds
    /// it; NotFound when nobody does or it has expired (`acquire` then takes it, as anyone
    /// may).
    async fn renew(&self, holder: &LockHolder) -> Result<()>;
}

/// How long before its expiry a lock can still be renewed: a store that reads, checks and
/// writes (SSM) must not overwrite a lock that another deploy took over meanwhile.
pub const RENEW_MARGIN_SECS: i64 = 60;

/// What [`DeployLock::renew`] does with the lock found (`current`) at `now`: the holder to
/// write (the request with the original `acquired_at`), or the error. A lock within
/// [`RENEW_MARGIN_SECS`] of its expiry counts as expired.
pub fn renewed(
    current: Option<&LockHolder>,
    holder: &LockHolder,
    now: DateTime<Utc>,
) -> Result<LockHolder> {
    let margin = chrono::Duration::seconds(RENEW_MARGIN_SECS);
    match current {
        Some(c) if c.has_expired(now + margin) => Err(Error::not_found(format!(
            "the deploy lock of {} in {} expires at {}, too soon to extend safely: take it \
             again once it has expired",
            holder.app, holder.env, c.expires_at
        ))),
        Some(c) if c.owner != holder.owner => Err(c.held_error()),
        Some(c) => Ok(LockHolder {
            acquired_at: c.acquired_at,
            ..holder.clone()
        }),
        None => Err(Error::not_found(format!(
            "nobody holds the deploy lock of {} in {}: there is nothing to extend; take it",
            holder.app, holder.env
        ))),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::error::ErrorKind;

    fn alice(expires_in: Duration, now: DateTime<Utc>) -> LockHolder {
        LockHolder {
            env: EnvName::from_static("prod"),
            app: AppName::new("idp").expect("app"),
            owner: "alice (run r1)".into(),
            acquired_at: now - Duration::hours(2),
            expires_at: now + expires_in,
        }
    }

    #[test]
    fn a_lock_about_to_expire_is_not_renewed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).unwrap();
        let wanted = LockHolder {
            acquired_at: now,
            expires_at: now + Duration::hours(4),
            ..alice(Duration::zero(), now)
        };
        let soon = alice(Duration::seconds(30), now);
        let err = renewed(Some(&soon), &wanted, now).expect_err("too close to its expiry");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let later = alice(Duration::minutes(5), now);
        let next = renewed(Some(&later), &wanted, now).expect("renewed");
        assert_eq!(next.expires_at, wanted.expires_at);
        assert_eq!(
            next.acquired_at, later.acquired_at,
            "when it was taken is kept"
        );
    }
}
