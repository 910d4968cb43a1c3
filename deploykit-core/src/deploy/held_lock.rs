//! A deploy lock someone holds: who holds it and how to go on ([`lock_status`]), and
//! releasing it by hand when the run holding it will not be resumed ([`release_held_lock`]),
//! e.g. a laptop that died mid-deploy with the run's journal on it.
//!
//! Releasing is guarded: the person names the holder they mean (its run id, or the owner
//! text for a lock taken outside a run), and a lock held by anyone else is left alone, so a
//! deploy that took the lock meanwhile is never robbed of it.

use chrono::{DateTime, Utc};

use crate::deploy::steps::lock::run_of;
use crate::error::{Error, Result};
use crate::model::names::{AppName, EnvName};
use crate::ports::deploy_lock::{DeployLock, LockHolder};

/// The deploy lock of an app in an environment, as `deploykit lock show` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockStatus {
    /// The environment.
    pub env: EnvName,
    /// The app.
    pub app: AppName,
    /// Who holds it; none when it is free.
    pub holder: Option<LockHolder>,
    /// The holder's deploykit run, when a run took it.
    pub run: Option<String>,
    /// Past its expiry: the next deploy takes it over.
    pub stale: bool,
}

/// Whether `expected` names `holder`: its run id, or its whole owner text.
fn names(holder: &LockHolder, expected: &str) -> bool {
    let expected = expected.trim();
    holder.owner == expected || run_of(&holder.owner) == Some(expected)
}

impl LockStatus {
    /// The lock of `app` in `env` held by `holder` (none: free), judged stale or not at `now`.
    pub fn of(
        env: &EnvName,
        app: &AppName,
        holder: Option<LockHolder>,
        now: DateTime<Utc>,
    ) -> Self {
        LockStatus {
            env: env.clone(),
            app: app.clone(),
            run: holder
                .as_ref()
                .and_then(|h| run_of(&h.owner))
                .map(String::from),
            stale: holder.as_ref().is_some_and(|h| h.has_expired(now)),
            holder,
        }
    }

    /// Whether `expected` names the holder (its run id, or its whole owner text).
    pub fn is_held_by(&self, expected: &str) -> bool {
        self.holder.as_ref().is_some_and(|h| names(h, expected))
    }

    /// Text for people: the holder and the ways on.
    pub fn render(&self) -> String {
        let Some(holder) = &self.holder else {
            return format!("the deploy lock of {} in {} is free", self.app, self.env);
        };
        let mut text = format!(
            "the deploy lock of {} in {} is held by {}\n  since   {}\n  expires {}{}\n",
            self.app,
            self.env,
            holder.owner,
            holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
            holder.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
            if self.stale {
                " (expired: the next deploy takes it over)"
            } else {
                ""
            }
        );
        let named = self.run.as_deref().unwrap_or(&holder.owner);
        if let Some(run) = &self.run {
            text.push_str(&format!(
                "continue that run with `deploykit resume {run}` on the machine that started it"
            ));
            text.push_str(", or, if it will not be resumed, ");
        } else {
            text.push_str("if that deploy is over, ");
        }
        text.push_str(&format!(
            "release the lock with `deploykit lock release {} {} {named:?}`",
            self.env, self.app
        ));
        text
    }
}

/// Who holds the deploy lock of `app` in `env`, judged stale or not at `now`.
pub async fn lock_status(
    lock: &dyn DeployLock,
    env: &EnvName,
    app: &AppName,
    now: DateTime<Utc>,
) -> Result<LockStatus> {
    Ok(LockStatus::of(env, app, lock.holder(env, app).await?, now))
}

/// Releases the deploy lock of `app` in `env` if `expected` names its holder (the holder's
/// run id, or its whole owner text); returns the holder it released. NotFound when the lock
/// is free; Conflict naming the real holder when `expected` names someone else.
pub async fn release_held_lock(
    lock: &dyn DeployLock,
    env: &EnvName,
    app: &AppName,
    expected: &str,
) -> Result<LockHolder> {
    let Some(holder) = lock.holder(env, app).await? else {
        return Err(Error::not_found(format!(
            "nobody holds the deploy lock of {app} in {env}: there is nothing to release"
        )));
    };
    if !names(&holder, expected) {
        return Err(Error::conflict(format!(
            "the deploy lock of {app} in {env} is held by {}, not {expected:?}; it was left \
             alone. Check with `deploykit lock show {env} {app}` and name the holder shown there",
            holder.owner
        ))
        .with("owner", &holder.owner));
    }
    lock.release(env, app, &holder.owner).await?;
    if let Some(still) = lock.holder(env, app).await?
        && still.owner == holder.owner
    {
        return Err(Error::backend(format!(
            "the deploy lock of {app} in {env} is still held by {} after releasing it; try \
             again",
            still.owner
        ))
        .temporary(true));
    }
    Ok(holder)
}

/// What releasing `released`'s lock did, in words: `released the deploy lock of idp in prod,
/// held by alice since 2026-11-24 15:00:00 UTC`.
pub fn released_text(released: &LockHolder) -> String {
    format!(
        "released the deploy lock of {} in {}, held by {} since {}",
        released.app,
        released.env,
        released.owner,
        released.acquired_at.format("%Y-%m-%d %H:%M:%S UTC")
    )
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::error::ErrorKind;
    use crate::ports::Clock;
    use crate::sim::{Faults, MemoryLock, VirtualClock};

    fn start() -> DateTime<Utc> {
        "2026-11-24T15:00:00Z".parse().expect("time")
    }

    fn names() -> (EnvName, AppName) {
        (
            "prod".parse().expect("env"),
            AppName::new("idp").expect("app"),
        )
    }

    async fn held_by(owner: &str) -> (MemoryLock, Arc<VirtualClock>) {
        let clock = Arc::new(VirtualClock::new(start()));
        let lock = MemoryLock::new(clock.clone(), Arc::new(Faults::default()));
        let (env, app) = names();
        lock.acquire(&LockHolder {
            env,
            app,
            owner: owner.into(),
            acquired_at: start(),
            expires_at: start() + chrono::Duration::hours(4),
        })
        .await
        .expect("acquire");
        (lock, clock)
    }

    const RUN_OWNER: &str = "bob@laptop (run 20261124T150000Z-idp-prod)";

    #[tokio::test]
    async fn a_held_lock_shows_its_run_and_the_ways_on() {
        let (lock, clock) = held_by(RUN_OWNER).await;
        let (env, app) = names();
        let status = lock_status(&lock, &env, &app, clock.now())
            .await
            .expect("status");
        assert_eq!(status.run.as_deref(), Some("20261124T150000Z-idp-prod"));
        assert!(!status.stale);
        let text = status.render();
        assert!(text.contains("held by bob@laptop"), "{text}");
        assert!(
            text.contains("deploykit resume 20261124T150000Z-idp-prod"),
            "{text}"
        );
        assert!(
            text.contains("deploykit lock release prod idp \"20261124T150000Z-idp-prod\""),
            "{text}"
        );

        clock.sleep(std::time::Duration::from_secs(4 * 3600)).await;
        let stale = lock_status(&lock, &env, &app, clock.now())
            .await
            .expect("status");
        assert!(stale.stale);
        assert!(stale.render().contains("expired"), "{}", stale.render());
    }

    #[tokio::test]
    async fn releasing_needs_the_holder_named_and_leaves_anyone_else_alone() {
        let (lock, _clock) = held_by(RUN_OWNER).await;
        let (env, app) = names();

        let wrong = release_held_lock(&lock, &env, &app, "20261124T090000Z-idp-prod")
            .await
            .expect_err("another run is named");
        assert_eq!(wrong.kind(), ErrorKind::Conflict);
        assert!(wrong.to_string().contains(RUN_OWNER), "{wrong}");
        assert!(lock.holder(&env, &app).await.expect("holder").is_some());

        let released = release_held_lock(&lock, &env, &app, "20261124T150000Z-idp-prod")
            .await
            .expect("release by run id");
        assert_eq!(released.owner, RUN_OWNER);
        assert_eq!(lock.holder(&env, &app).await.expect("holder"), None);

        let again = release_held_lock(&lock, &env, &app, "20261124T150000Z-idp-prod")
            .await
            .expect_err("nothing to release");
        assert_eq!(again.kind(), ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_lock_taken_outside_a_run_is_released_by_its_owner_text() {
        let (lock, clock) = held_by("alice by hand").await;
        let (env, app) = names();
        let status = lock_status(&lock, &env, &app, clock.now())
            .await
            .expect("status");
        assert_eq!(status.run, None);
        assert!(
            status
                .render()
                .contains("deploykit lock release prod idp \"alice by hand\""),
            "{}",
            status.render()
        );
        release_held_lock(&lock, &env, &app, "alice by hand")
            .await
            .expect("release by owner");
        assert_eq!(lock.holder(&env, &app).await.expect("holder"), None);
    }
}
