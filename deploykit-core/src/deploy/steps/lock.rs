//! The deploy lock: taken in preflight (Conflict names the holder), released at the end.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact};
use crate::deploy::steps::{StepBody, plus};
use crate::error::{Error, ErrorKind, Result};
use crate::ports::deploy_lock::LockHolder;

/// The lock owner string of a run.
pub(crate) fn owner(state: &DeployState) -> String {
    format!("{} (run {})", state.request.operator, state.run_id)
}

/// The run id in a lock owner string written by [`owner`], if it is one.
pub(crate) fn run_of(owner: &str) -> Option<&str> {
    let run = owner.strip_suffix(')')?.rsplit_once(" (run ")?.1;
    (!run.is_empty() && !run.contains(char::is_whitespace)).then_some(run)
}

/// The lock a run takes now: its owner string, for the configured time to live.
fn holder_of(ctx: &StepContext<'_>, state: &DeployState) -> LockHolder {
    let now = ctx.now();
    LockHolder {
        env: state.request.env.clone(),
        app: state.request.app.name.clone(),
        owner: owner(state),
        acquired_at: now,
        expires_at: plus(now, ctx.settings.lock_ttl_secs),
    }
}

/// Takes the lock: Ok(owner), or Err(refusal naming the holder).
pub(crate) async fn acquire(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<std::result::Result<String, String>> {
    let req = &state.request;
    let holder = holder_of(ctx, state);
    let me = holder.owner.clone();
    let lock = &ctx.ports.lock;
    let result = ctx
        .effect(
            "lock/acquire",
            &format!("take the deploy lock of {} in {}", req.app.name, req.env),
            async || {
                let h = lock.holder(&req.env, &req.app.name).await?;
                Ok(h.filter(|h| h.owner == me).map(|_| ()))
            },
            async || lock.acquire(&holder).await,
        )
        .await;
    match result {
        Ok(()) => Ok(Ok(me)),
        Err(e) if e.kind() == ErrorKind::Conflict => {
            let holder = lock.holder(&req.env, &req.app.name).await.ok().flatten();
            let who = holder
                .as_ref()
                .map(|h| {
                    format!(
                        "{} since {} (expires {})",
                        h.owner, h.acquired_at, h.expires_at
                    )
                })
                .unwrap_or_else(|| e.message().to_string());
            let (env, app) = (&req.env, &req.app.name);
            let way_out = match holder.as_ref().and_then(|h| run_of(&h.owner)) {
                Some(run) => format!(
                    "wait for it to finish, or, if that run was interrupted, continue it with \
                     `deploykit resume {run}`, or release the lock of a run that will not be \
                     resumed with `deploykit lock release {env} {app} {run}` (an expired lock \
                     is taken over)"
                ),
                None => format!(
                    "wait for it to finish (an expired lock is taken over); `deploykit lock \
                     show {env} {app}` says how to release it"
                ),
            };
            Ok(Err(format!(
                "another deploy of {} in {} holds the lock: {who}; {way_out}",
                req.app.name, req.env
            )))
        }
        Err(e) => Err(e),
    }
}

/// Before a resumed run goes on: if it took the deploy lock and has not released it, the lock
/// must still be its own. A lock released by hand (`deploykit lock release`) or expired is
/// taken back; one that another deploy took meanwhile refuses the resume (Conflict naming
/// the holder), so two deploys never go on at once.
pub(crate) async fn hold_again(ctx: &StepContext<'_>, state: &DeployState) -> Result<()> {
    let took = ctx.memo::<()>("lock/acquire")?.is_some();
    if state.next.is_none() || !took || ctx.was_started("lock/release") {
        return Ok(());
    }
    let req = &state.request;
    let me = owner(state);
    let now = ctx.now();
    let lock = &ctx.ports.lock;
    let holder = ctx
        .retry("read the deploy lock", async || {
            lock.holder(&req.env, &req.app.name).await
        })
        .await?;
    match holder {
        Some(h) if h.owner == me && !h.has_expired(now) => Ok(()),
        Some(h) if h.owner != me && !h.has_expired(now) => Err(Error::conflict(format!(
            "run {} cannot go on: its deploy lock of {} in {} was released, and {} has held it \
             since {}; wait for that deploy to finish, then resume again",
            ctx.run_id(),
            req.app.name,
            req.env,
            h.owner,
            h.acquired_at
        ))
        .with("owner", h.owner)),
        _ => {
            lock.acquire(&holder_of(ctx, state)).await?;
            let text = format!(
                "took the deploy lock of {} in {} back: it had been released or had expired \
                 while the run was stopped",
                req.app.name, req.env
            );
            ctx.warn(text.clone());
            ctx.note("warning", text)
        }
    }
}

/// A run that pauses for a person's decision keeps its deploy lock for another
/// `lock_ttl_secs` from now, so that an answer given within that time finds it still held (the
/// pause may come hours after the lock was taken: the smoke tests follow an hour's watch). A
/// failure to extend it is a warning: the lock then holds until it expires as it was.
pub(crate) async fn keep_while_paused(ctx: &StepContext<'_>, state: &DeployState) {
    if state.facts.lock_owner.is_none() {
        return;
    }
    let holder = holder_of(ctx, state);
    let lock = &ctx.ports.lock;
    let req = &state.request;
    match ctx
        .retry("extend the deploy lock", async || lock.renew(&holder).await)
        .await
    {
        Ok(()) => ctx.info(format!(
            "the run keeps the deploy lock of {} in {} until {} while it waits",
            req.app.name,
            req.env,
            holder.expires_at.format("%Y-%m-%d %H:%M UTC")
        )),
        Err(e) => ctx.warn(format!(
            "could not extend the deploy lock of {} in {} while the run waits ({e}); it holds \
             until it expires as it was",
            req.app.name, req.env
        )),
    }
}

pub(crate) async fn release_lock(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let Some(owner) = state.facts.lock_owner.clone() else {
        return Ok(StepBody::skipped("the lock was not taken"));
    };
    let req = &state.request;
    let lock = &ctx.ports.lock;
    ctx.act(
        "lock/release",
        &format!("release the deploy lock of {} in {}", req.app.name, req.env),
        async || lock.release(&req.env, &req.app.name, &owner).await,
    )
    .await?;
    Ok(StepBody::done("lock released", vec![Fact::LockReleased]))
}

#[cfg(test)]
mod tests {
    use super::run_of;

    #[test]
    fn the_run_id_is_read_back_from_a_lock_owner() {
        assert_eq!(
            run_of("bob (run 20261124T143000Z-idp-prod)"),
            Some("20261124T143000Z-idp-prod")
        );
        assert_eq!(run_of("someone by hand"), None);
        assert_eq!(run_of("bob (run )"), None);
    }
}
