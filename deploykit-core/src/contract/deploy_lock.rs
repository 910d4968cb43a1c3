//! The `DeployLock` contract: one deploy at a time per environment and app.
//!
//! Each function uses its own app name (`ct-lock-...`) in environment `contract`, so they can
//! share one lock store. `now` is the lock store's current time.

use chrono::{DateTime, Duration, Utc};

use crate::contract::{Outcome, call, ensure, expect_error};
use crate::error::ErrorKind;
use crate::model::names::{AppName, EnvName};
use crate::ports::{DeployLock, LockHolder};

fn holder(
    app: &str,
    owner: &str,
    acquired_at: DateTime<Utc>,
    ttl: Duration,
) -> Result<LockHolder, String> {
    Ok(LockHolder {
        env: EnvName::new("contract").map_err(|e| e.to_string())?,
        app: AppName::new(app).map_err(|e| e.to_string())?,
        owner: owner.to_string(),
        acquired_at,
        expires_at: acquired_at + ttl,
    })
}

/// A held lock refuses another owner with Conflict naming the holder.
pub async fn lock_is_exclusive(lock: &dyn DeployLock, now: DateTime<Utc>) -> Outcome {
    let alice = holder("ct-lock-exclusive", "alice@laptop", now, Duration::hours(2))?;
    let bob = holder("ct-lock-exclusive", "bob@laptop", now, Duration::hours(2))?;
    call("acquire(alice)", lock.acquire(&alice).await)?;
    expect_error(
        "acquire(bob) while alice holds it",
        lock.acquire(&bob).await,
        ErrorKind::Conflict,
        "alice@laptop",
    )?;
    let current = call("holder", lock.holder(&alice.env, &alice.app).await)?;
    ensure!(
        current.as_ref().map(|h| h.owner.as_str()) == Some("alice@laptop"),
        "the holder should still be alice@laptop, got {current:?}"
    );
    Ok(())
}

/// Only the holder's release frees the lock; releasing a lock not held is not an error.
pub async fn release_frees_the_lock(lock: &dyn DeployLock, now: DateTime<Utc>) -> Outcome {
    let alice = holder("ct-lock-release", "alice@laptop", now, Duration::hours(2))?;
    let bob = holder("ct-lock-release", "bob@laptop", now, Duration::hours(2))?;
    call("acquire(alice)", lock.acquire(&alice).await)?;
    call(
        "release by a non-holder",
        lock.release(&alice.env, &alice.app, "bob@laptop").await,
    )?;
    let current = call("holder", lock.holder(&alice.env, &alice.app).await)?;
    ensure!(
        current.is_some_and(|h| h.owner == "alice@laptop"),
        "a release by someone else must not free alice's lock"
    );
    call(
        "release(alice)",
        lock.release(&alice.env, &alice.app, "alice@laptop").await,
    )?;
    let current = call("holder", lock.holder(&alice.env, &alice.app).await)?;
    ensure!(
        current.is_none(),
        "after release nobody should hold it, got {current:?}"
    );
    call("acquire(bob)", lock.acquire(&bob).await)?;
    call(
        "release(bob)",
        lock.release(&bob.env, &bob.app, "bob@laptop").await,
    )?;
    call(
        "release when not held",
        lock.release(&bob.env, &bob.app, "bob@laptop").await,
    )
}

/// An expired lock may be taken over by another owner.
pub async fn expired_lock_is_taken_over(lock: &dyn DeployLock, now: DateTime<Utc>) -> Outcome {
    let stale = holder(
        "ct-lock-expired",
        "alice@laptop",
        now - Duration::hours(3),
        Duration::hours(1),
    )?;
    call("acquire(stale)", lock.acquire(&stale).await)?;
    let bob = holder("ct-lock-expired", "bob@laptop", now, Duration::hours(2))?;
    call(
        "acquire(bob) over an expired lock",
        lock.acquire(&bob).await,
    )?;
    let current = call("holder", lock.holder(&bob.env, &bob.app).await)?;
    ensure!(
        current.as_ref().map(|h| h.owner.as_str()) == Some("bob@laptop"),
        "bob should hold the lock after taking over the expired one, got {current:?}"
    );
    Ok(())
}

/// The holder extends its own lock (keeping when it was taken); nobody else can, and an
/// expired or free lock is not extended.
pub async fn renew_extends_only_the_holder_s_lock(
    lock: &dyn DeployLock,
    now: DateTime<Utc>,
) -> Outcome {
    let alice = holder("ct-lock-renew", "alice@laptop", now, Duration::hours(2))?;
    call("acquire(alice)", lock.acquire(&alice).await)?;
    let later = holder("ct-lock-renew", "alice@laptop", now, Duration::hours(6))?;
    call("renew(alice)", lock.renew(&later).await)?;
    let current = call("holder", lock.holder(&alice.env, &alice.app).await)?;
    ensure!(
        current
            .as_ref()
            .map(|h| (h.owner.as_str(), h.expires_at, h.acquired_at))
            == Some(("alice@laptop", later.expires_at, alice.acquired_at)),
        "alice's lock should run until {} and still say when it was taken, got {current:?}",
        later.expires_at
    );
    let bob = holder("ct-lock-renew", "bob@laptop", now, Duration::hours(8))?;
    expect_error(
        "renew(bob) while alice holds it",
        lock.renew(&bob).await,
        ErrorKind::Conflict,
        "alice@laptop",
    )?;
    call(
        "release(alice)",
        lock.release(&alice.env, &alice.app, "alice@laptop").await,
    )?;
    expect_error(
        "renew(alice) of a free lock",
        lock.renew(&later).await,
        ErrorKind::NotFound,
        "nobody holds",
    )?;
    let stale = holder(
        "ct-lock-renew",
        "alice@laptop",
        now - Duration::hours(3),
        Duration::hours(1),
    )?;
    call("acquire(stale)", lock.acquire(&stale).await)?;
    expect_error(
        "renew(alice) of her expired lock",
        lock.renew(&later).await,
        ErrorKind::NotFound,
        "expired",
    )?;
    call(
        "release(alice)",
        lock.release(&alice.env, &alice.app, "alice@laptop").await,
    )
}

/// Runs every deploy lock contract function, stopping at the first failure.
pub async fn all(lock: &dyn DeployLock, now: DateTime<Utc>) -> Outcome {
    lock_is_exclusive(lock, now)
        .await
        .map_err(|e| format!("lock_is_exclusive: {e}"))?;
    release_frees_the_lock(lock, now)
        .await
        .map_err(|e| format!("release_frees_the_lock: {e}"))?;
    expired_lock_is_taken_over(lock, now)
        .await
        .map_err(|e| format!("expired_lock_is_taken_over: {e}"))?;
    renew_extends_only_the_holder_s_lock(lock, now)
        .await
        .map_err(|e| format!("renew_extends_only_the_holder_s_lock: {e}"))
}
