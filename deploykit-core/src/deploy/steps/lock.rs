//! The deploy lock: taken in preflight (Conflict names the holder), released at the end.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact};
use crate::deploy::steps::{StepBody, plus};
use crate::error::{ErrorKind, Result};
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

/// Takes the lock: Ok(owner), or Err(refusal naming the holder).
pub(crate) async fn acquire(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<std::result::Result<String, String>> {
    let req = &state.request;
    let me = owner(state);
    let now = ctx.now();
    let holder = LockHolder {
        env: req.env.clone(),
        app: req.app.name.clone(),
        owner: me.clone(),
        acquired_at: now,
        expires_at: plus(now, ctx.settings.lock_ttl_secs),
    };
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
