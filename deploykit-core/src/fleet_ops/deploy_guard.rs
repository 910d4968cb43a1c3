//! A change to the fleet by hand (recycle, scale-in, a resize) while a guided deploy holds
//! the deploy lock of an app whose groups it touches: the run's recycle, gates and scale-in
//! work on those groups, and a change under them (replacing the run's scheduled actions,
//! removing instances it watches) breaks it. [`refuse_while_deploying`] refuses it, naming
//! the run and the ways on.

use crate::asker::Asker;
use crate::deploy::held_lock::LockStatus;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventSink};
use crate::model::AppSettings;
use crate::model::names::{EnvName, RoleName, RoleSelector};
use crate::ports::Clock;
use crate::ports::deploy_lock::DeployLock;

/// Whether `roles` touches the groups of `app`: `ALL` touches every app; a role touches the
/// app that runs it, and the migration role the apps whose recycle runs migrations.
fn touches(app: &AppSettings, roles: &RoleSelector) -> bool {
    match roles {
        RoleSelector::All => true,
        RoleSelector::Role(role) if *role == RoleName::migration() => {
            app.roles.iter().any(|r| r.migrates)
        }
        RoleSelector::Role(role) => app.roles.iter().any(|r| &r.role == role),
    }
}

/// What is about to change the fleet by hand, and where.
#[derive(Debug, Clone, Copy)]
pub struct HandChange<'a> {
    /// What it is, in words (`recycle`, `scale-in`, `resize`).
    pub what: &'a str,
    /// The environment.
    pub env: &'a EnvName,
    /// The roles it touches.
    pub roles: &'a RoleSelector,
    /// Who asks, so the refusal names the way on in their terms.
    pub asker: Asker,
    /// Whether a deploy lock that cannot be read (no `ssm:GetParameter`, throttling, no
    /// network) refuses the change: in production, unless the person said to go on; a
    /// warning otherwise.
    pub refuse_if_unreadable: bool,
}

/// Refuses (unsafe) `change` while the deploy lock of an app its roles touch (among `apps`)
/// is held and not expired (by `clock`). A lock that cannot be read refuses it too (unsafe)
/// when [`HandChange::refuse_if_unreadable`]; otherwise a warning event says so and the
/// caller goes on.
pub async fn refuse_while_deploying(
    lock: &dyn DeployLock,
    clock: &dyn Clock,
    apps: &[AppSettings],
    change: HandChange<'_>,
    events: &dyn EventSink,
) -> Result<()> {
    let HandChange {
        what,
        env,
        roles,
        asker,
        refuse_if_unreadable,
    } = change;
    for app in apps.iter().filter(|a| touches(a, roles)) {
        let holder = match lock.holder(env, &app.name).await {
            Ok(holder) => holder,
            Err(e) if e.kind() == ErrorKind::Interrupted => return Err(e),
            Err(e) if refuse_if_unreadable => {
                return Err(Error::unsafe_op(format!(
                    "could not read the deploy lock of {} in {env} ({}), so a deploy of {} may \
                     be running: a {what} by hand now could change the groups it is working \
                     on. Check with {} (reading the lock needs ssm:GetParameter), then run \
                     this again{}",
                    app.name,
                    e.message(),
                    app.name,
                    asker.lock_show(env.as_str(), app.name.as_str()),
                    asker
                        .go_on_anyway()
                        .map(|how| format!(", or {how} to {what} anyway"))
                        .unwrap_or_default()
                ))
                .with_source(e));
            }
            Err(e) => {
                events.emit(Event::Warning {
                    at: clock.now(),
                    message: format!(
                        "could not read the deploy lock of {} in {env} ({}): make sure no \
                         deploy of {} is running before this {what}",
                        app.name,
                        e.message(),
                        app.name
                    ),
                });
                continue;
            }
        };
        let status = LockStatus::of(env, &app.name, holder, clock.now());
        let Some(holder) = status.holder.as_ref().filter(|_| !status.stale) else {
            continue;
        };
        let by = match &status.run {
            Some(run) => format!("the deploy run {run}"),
            None => holder.owner.clone(),
        };
        let release = |holder: &str| asker.release_lock(env.as_str(), app.name.as_str(), holder);
        let way_on = match status.run.as_deref() {
            Some(run) => format!(
                "Go on through that run: {} on the machine that started it ({} rolls a paused \
                 run back); or, if it will not go on, release its lock ({}) and run this again",
                asker.resume(run),
                asker.answer(run, "rollback"),
                release(run)
            ),
            None => format!(
                "Let that deploy finish; or, if it is over, release its lock ({}) and run this \
                 again",
                release(&holder.owner)
            ),
        };
        return Err(Error::unsafe_op(format!(
            "{by} holds the deploy lock of {} in {env} (until {}): a {what} by hand now would \
             change the groups that deploy is working on. {way_on}",
            app.name,
            holder.expires_at.format("%Y-%m-%d %H:%M UTC"),
        ))
        .with("owner", &holder.owner));
    }
    Ok(())
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::ErrorKind;
    use crate::events::RecordingSink;
    use crate::model::names::AppName;
    use crate::ports::deploy_lock::LockHolder;
    use crate::sim::{Faults, MemoryLock, VirtualClock};

    fn memory_lock() -> MemoryLock {
        MemoryLock::new(Arc::new(VirtualClock::new(now())), Arc::new(Faults::new()))
    }

    fn now() -> DateTime<Utc> {
        "2026-11-24T15:00:00Z".parse().expect("time")
    }

    async fn held_by(owner: &str) -> MemoryLock {
        let lock = memory_lock();
        lock.acquire(&LockHolder {
            env: EnvName::new("prod").expect("env"),
            app: AppName::new("idp").expect("app"),
            owner: owner.into(),
            acquired_at: now() - chrono::Duration::hours(1),
            expires_at: now() + chrono::Duration::hours(3),
        })
        .await
        .expect("acquire");
        lock
    }

    async fn check(lock: &MemoryLock, roles: &str) -> (Result<()>, Vec<Event>) {
        let events = RecordingSink::default();
        let roles = roles.parse().expect("roles");
        let change = HandChange {
            what: "recycle",
            env: &EnvName::new("prod").expect("env"),
            roles: &roles,
            asker: Asker::Cli,
            refuse_if_unreadable: true,
        };
        let result = refuse_while_deploying(
            lock,
            &VirtualClock::new(now()),
            &[AppSettings::idp(), AppSettings::pki()],
            change,
            &events,
        )
        .await;
        (result, events.events())
    }

    #[tokio::test]
    async fn a_change_to_the_groups_of_a_deploying_app_is_refused_naming_the_run() {
        let lock = held_by("alice@laptop (run 20261124T140000Z-idp-prod)").await;
        for roles in ["idp", "worker", "migration", "ALL"] {
            let (result, _) = check(&lock, roles).await;
            let err = result.expect_err(roles);
            assert_eq!(err.kind(), ErrorKind::Unsafe);
            let text = err.to_string();
            assert!(
                text.starts_with(
                    "the deploy run 20261124T140000Z-idp-prod holds the deploy lock of idp in prod"
                ),
                "{text}"
            );
            assert!(
                text.contains("deploykit resume 20261124T140000Z-idp-prod"),
                "{text}"
            );
            assert!(
                text.contains("deploykit lock release prod idp \"20261124T140000Z-idp-prod\""),
                "{text}"
            );
        }
        // pki's groups are not the idp deploy's.
        assert!(check(&lock, "pivcac").await.0.is_ok());
    }

    #[tokio::test]
    async fn a_free_or_expired_lock_is_no_obstacle() {
        let free = memory_lock();
        assert!(check(&free, "ALL").await.0.is_ok());
        let lock = memory_lock();
        lock.acquire(&LockHolder {
            env: EnvName::new("prod").expect("env"),
            app: AppName::new("idp").expect("app"),
            owner: "bob@laptop (run 20261123T140000Z-idp-prod)".into(),
            acquired_at: now() - chrono::Duration::hours(5),
            expires_at: now() - chrono::Duration::hours(1),
        })
        .await
        .expect("acquire");
        assert!(check(&lock, "idp").await.0.is_ok());
    }

    /// A lock that cannot be read (no ssm:GetParameter) refuses a change by hand in
    /// production, saying how to check and how to go on anyway; elsewhere it warns.
    #[tokio::test]
    async fn an_unreadable_lock_refuses_a_production_change_and_warns_elsewhere() {
        let faults = Arc::new(Faults::new());
        faults.inject("lock.holder", crate::sim::Fault::Permanent, 10);
        let lock = MemoryLock::new(Arc::new(VirtualClock::new(now())), faults);
        let (result, _) = check(&lock, "idp").await;
        let err = result.expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Unsafe);
        let text = err.to_string();
        assert!(
            text.starts_with("could not read the deploy lock of idp in prod")
                && text.contains("deploykit lock show prod idp")
                && text.contains("pass --yes to recycle anyway"),
            "{text}"
        );

        let events = RecordingSink::default();
        let roles = "idp".parse().expect("roles");
        let warned = refuse_while_deploying(
            &lock,
            &VirtualClock::new(now()),
            &[AppSettings::idp()],
            HandChange {
                what: "recycle",
                env: &EnvName::new("staging").expect("env"),
                roles: &roles,
                asker: Asker::Cli,
                refuse_if_unreadable: false,
            },
            &events,
        )
        .await;
        assert!(warned.is_ok());
        assert!(
            events.events().iter().any(|e| matches!(
                e,
                Event::Warning { message, .. } if message.starts_with("could not read the deploy lock")
            )),
            "{:?}",
            events.events()
        );
    }
}
