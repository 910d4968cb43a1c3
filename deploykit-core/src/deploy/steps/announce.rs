//! The announcements: "Announce a recycle" (or the configuration change), the rollback and
//! the retrospective, and the deploy's end. A failed post is a warning, not a failed deploy:
//! the journal and the report say it was not sent.

use crate::deploy::context::StepContext;
use crate::deploy::state::{DeployState, Fact, Phase};
use crate::deploy::steps::StepBody;
use crate::error::{ErrorKind, Result};
use crate::model::deploy_kind::DeployKind;
use crate::notify::timed_out_post_warning;
use crate::ports::notifier::Announcement;

/// What a config recycle's announcement says when no diff was given: the guide asks for the
/// diff to be shared, so the thread is where it goes.
pub(crate) const NO_DIFF: &str =
    "(no diff was given to deploykit: the engineer making the change shares it in this thread)";

/// Posts one announcement at most once per run (an interruption between the post and its
/// record may repeat it: chat has no way to ask whether a message was posted).
///
/// A post refused for its rate is retried; a post that timed out is not, as it may have gone
/// through with only its reply lost: the warning says to check the channel.
pub(crate) async fn post(
    ctx: &StepContext<'_>,
    key: &str,
    announcement: Announcement,
) -> Result<Vec<Fact>> {
    let notifier = &ctx.ports.notifier;
    // One line: a config change's whole diff is posted and journalled, not repeated in
    // every progress and retry line.
    let description = format!("announce: {}", announcement.headline());
    let posted = ctx
        .effect(
            &format!("announce/{key}"),
            &description,
            async || Ok(None),
            async || {
                notifier.announce(&announcement).await.map_err(|e| {
                    let retry = e.is_temporary() && e.kind() != ErrorKind::Timeout;
                    e.temporary(retry)
                })
            },
        )
        .await;
    match posted {
        Ok(()) => {
            ctx.note("announcement", announcement.to_string())?;
            Ok(vec![Fact::Announced(announcement)])
        }
        Err(e) if e.kind() == ErrorKind::Timeout && !ctx.journal_failed() => {
            let msg = timed_out_post_warning(announcement.kind(), &e);
            ctx.warn(msg.clone());
            ctx.note("warning", msg.clone())?;
            Ok(vec![Fact::note(msg)])
        }
        Err(e) if !ctx.journal_failed() => {
            let msg = format!(
                "could not post the {} announcement ({e}); post it by hand",
                announcement.kind()
            );
            ctx.warn(msg.clone());
            ctx.note("warning", msg.clone())?;
            Ok(vec![Fact::note(msg)])
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn announce_recycle(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<StepBody> {
    let req = &state.request;
    let (key, announcement) = match req.kind {
        DeployKind::ConfigRecycle => (
            "config_change",
            Announcement::ConfigChange {
                app: req.app.name.clone(),
                env: req.env.clone(),
                diff: req.given_config_diff().unwrap_or(NO_DIFF).to_string(),
            },
        ),
        _ => (
            "recycle_start",
            Announcement::RecycleStart {
                app: req.app.name.clone(),
                env: req.env.clone(),
                rc: state.facts.rc(),
                reverted: state.facts.reverted(),
                reasons: not_routine(state),
            },
        ),
    };
    let facts = post(ctx, key, announcement).await?;
    // A post that failed or may not have gone through is a warning (in the facts), and the
    // step's line says so rather than "announced".
    let detail = if facts.iter().any(|f| matches!(f, Fact::Announced(_))) {
        "announced".to_string()
    } else {
        format!(
            "not confirmed as announced: check the channel, and post the {key} announcement \
             by hand if it is missing"
        )
    };
    Ok(StepBody::done(detail, facts))
}

pub(crate) async fn announce_rollback(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<StepBody> {
    let req = &state.request;
    let reason = match &state.phase {
        Phase::RollingBack { reason } => reason.clone(),
        _ => "rollback".to_string(),
    };
    let rc = state.facts.rc();
    // A standalone rollback rolls back the last recycle, whatever shipped it: its request's
    // kind says nothing about that.
    let deploy_kind = (!state.is_standalone_rollback()).then_some(req.kind);
    let mut facts = post(
        ctx,
        "rollback_started",
        Announcement::RollbackStarted {
            app: req.app.name.clone(),
            env: req.env.clone(),
            rc,
            deploy_kind,
            reason: reason.clone(),
            still_serving: state
                .facts
                .new_code_stays
                .iter()
                .map(ToString::to_string)
                .collect(),
            revert_pr_url: state.facts.revert_pr.as_ref().map(|(_, url)| url.clone()),
        },
    )
    .await?;
    facts.extend(
        post(
            ctx,
            "retrospective",
            Announcement::RetrospectiveToSchedule {
                app: req.app.name.clone(),
                env: req.env.clone(),
                rc,
                deploy_kind,
                reason,
            },
        )
        .await?,
    );
    Ok(StepBody::done(
        "rollback and retrospective announced",
        facts,
    ))
}

/// Why the deploy of `state` is not a routine one, as its recycle announcement says it: the
/// reason of a patch or off-cycle deploy, and each policy overridden with its reason.
fn not_routine(state: &DeployState) -> Vec<String> {
    let req = &state.request;
    let reason = req
        .given_reason()
        .filter(|_| req.kind.needs_reason())
        .map(|r| format!("{}: {}", req.kind.words(), r.trim()));
    let overrides = state.facts.overrides.iter().map(|o| match o.what.as_str() {
        "cadence" => format!(
            "outside the deploy calendar ({}), overridden: {}",
            o.refusal, o.reason
        ),
        "no_migration_risk" => format!(
            "no-migration recycle despite the risk ({}), overridden: {}",
            o.refusal, o.reason
        ),
        what => format!("{what} overridden: {}", o.reason),
    });
    reason.into_iter().chain(overrides).collect()
}
