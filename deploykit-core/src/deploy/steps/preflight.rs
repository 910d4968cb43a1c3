//! `preflight`: everything checked before anything changes — cadence, the promotion PR
//! (open, approved, mergeable), no extra servers, no recycle in progress, no-migration risk —
//! then the deploy lock, the pending-changes summary and the pre-deploy snapshot.

use std::collections::BTreeMap;

use crate::deploy::context::StepContext;
use crate::deploy::state::{
    DeployState, Fact, GroupSnapshot, OverrideRecord, PendingChanges, PrFacts,
};
use crate::deploy::steps::policy_hooks::serving_sha;
use crate::deploy::steps::{StepBody, app_groups, lock};
use crate::error::{Error, ErrorKind, Result};
use crate::model::DeployKind;
use crate::model::fleet::{Group, HealthStatus, Lifecycle};
use crate::model::names::{EnvName, RoleName};
use crate::model::release_number::ReleaseNumber;
use crate::model::sha::Sha;
use crate::ports::code_host::{PrState, ReviewState};

use crate::policy::no_migration_risk::{ASSET_PATHS, MIGRATION_PATHS};

pub(crate) async fn preflight(ctx: &StepContext<'_>, state: &DeployState) -> Result<StepBody> {
    let req = &state.request;
    let mut facts = Vec::new();

    // The guide shares a config recycle's diff in its announcement's thread.
    if req.kind == DeployKind::ConfigRecycle && req.given_config_diff().is_none() {
        let given = if req.config_diff.is_some() {
            "the configuration diff given is empty (was the file or stdin the right one?)"
        } else {
            "config recycle without a configuration diff"
        };
        ctx.warn(format!(
            "{given}: the guide shares the diff with the announcement (--config-diff FILE, or - \
             for stdin; Python: config_diff=); the announcement asks for it in its thread"
        ));
    }

    // Cadence.
    match super::policy_hooks::cadence(ctx, state) {
        Ok(concerns) => {
            for c in &concerns {
                ctx.warn(format!("cadence: {c}"));
            }
            if let Some(reason) = req.given_reason() {
                ctx.note("reason", format!("{} deploy: {reason}", req.kind))?;
                facts.push(Fact::note(format!(
                    "reason for this {} deploy: {reason}",
                    req.kind
                )));
                // An off-cycle or patch deploy goes on a no-deploy day, a holiday or through a
                // freeze on its reason: the report's decisions name what the calendar said.
                if !concerns.is_empty() {
                    facts.push(Fact::Override(OverrideRecord {
                        at: ctx.now(),
                        what: "cadence".into(),
                        refusal: concerns.join("; "),
                        reason: format!("{} deploy: {reason}", req.kind),
                    }));
                }
            }
        }
        Err(refusal) => match &req.cadence_override {
            Some(reason) if !reason.trim().is_empty() => {
                ctx.note(
                    "override",
                    format!("cadence refusal overridden: {refusal}; reason: {reason}"),
                )?;
                ctx.warn(format!("cadence: {refusal}; overridden: {reason}"));
                facts.push(Fact::Override(OverrideRecord {
                    at: ctx.now(),
                    what: "cadence".into(),
                    refusal,
                    reason: reason.clone(),
                }));
            }
            _ => {
                return Ok(StepBody::refused_as(
                    ErrorKind::PolicyRefused,
                    super::policy_hooks::cadence_refusal(&refusal),
                    facts,
                ));
            }
        },
    }

    // The promotion PR.
    let mut head_sha = None;
    if req.kind.ships_code() {
        let number = req.pr_number.ok_or_else(|| {
            Error::invalid_input(format!(
                "{} deploy merges a {}, but none was given: pass its number",
                req.kind.with_article(),
                req.kind.merged_pr()
            ))
        })?;
        match check_pr(ctx, state, number).await? {
            Ok(pr) => {
                head_sha = pr.head_sha.clone();
                let which = if pr.reverts.is_some() {
                    "revert"
                } else {
                    "promotion"
                };
                ctx.info(format!(
                    "{which} PR #{number} ({}) is approved and mergeable",
                    pr.title
                ));
                facts.push(Fact::Pr(pr));
            }
            Err((kind, refusal)) => return Ok(StepBody::refused_as(kind, refusal, facts)),
        }
    }

    // The fleet: no extra servers, no recycle in progress.
    let env = &req.env;
    let groups = ctx
        .retry("read the fleet", async || ctx.ports.fleet.groups(env).await)
        .await?;
    let wanted = app_groups(state);
    let mine: Vec<&Group> = groups.iter().filter(|g| wanted.contains(&g.name)).collect();
    if mine.is_empty() {
        return Err(Error::not_found(format!(
            "{env} has none of {}'s groups ({}): check the environment and app",
            req.app.name,
            wanted
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let problems = super::policy_hooks::fleet_problems(&groups, state)?;
    if !problems.is_empty() {
        return Ok(StepBody::refused_as(
            ErrorKind::Unsafe,
            format!("the fleet is not ready: {}", problems.join("; ")),
            facts,
        ));
    }

    // A recycle that ships no code must not ship any: in production its new instances boot
    // the production branch's tip, which must be what serves. For a config recycle this is
    // best effort (it needs nothing else from GitHub, and must not wait on it in an
    // incident): a check that cannot be made is a warning.
    if !req.kind.ships_code() && ctx.settings.production {
        let serving = serving_sha(&mine);
        let checked = ctx
            .retry(
                "compare the production branch with what serves",
                async || {
                    super::policy_hooks::unshipped_code(
                        ctx.ports.vcs.as_ref(),
                        ctx.ports.code_host.as_ref(),
                        &req.app,
                        &req.env,
                        serving.as_ref(),
                    )
                    .await
                },
            )
            .await;
        let unshipped = match checked {
            Ok(found) => found,
            // A no-migration recycle reads the branch for its risk check anyway: unread, it
            // is not known to be safe and stops.
            Err(e) if e.kind() == ErrorKind::Interrupted || !req.kind.runs_migrations() => {
                return Err(e);
            }
            Err(e) => {
                let msg = format!(
                    "could not compare {} with the code serving ({e}): make sure no rollback's \
                     revert is waiting to be deployed, or this {} puts the rolled-back code \
                     back",
                    req.app.production_branch,
                    req.kind.words()
                );
                ctx.warn(msg.clone());
                ctx.note("warning", msg)?;
                None
            }
        };
        if let Some(unshipped) = unshipped {
            if let Some(revert) = &unshipped.revert {
                return Ok(StepBody::refused_as(
                    ErrorKind::Unsafe,
                    super::policy_hooks::rolled_back_code_refusal(req, &unshipped.why, revert),
                    facts,
                ));
            }
            let msg = format!("this {} ships code: {}", req.kind.words(), unshipped.why);
            ctx.warn(msg.clone());
            ctx.note("warning", msg)?;
        }
    }

    // No-migration risk.
    if !req.kind.runs_migrations() {
        let serving = serving_sha(&mine);
        let branch = super::policy_hooks::deployed_branch(&req.app, ctx.settings);
        let risk = ctx
            .retry("check what changed since the last migration", async || {
                super::policy_hooks::no_migration_risk(
                    ctx.ports.vcs.as_ref(),
                    &req.app,
                    branch,
                    serving.as_ref(),
                )
                .await
            })
            .await?;
        match (risk, &req.no_migration_override) {
            (None, None) => {}
            (None, Some(reason)) => ctx.note(
                "override",
                format!(
                    "no-migration override not needed: no migrations or assets changed since \
                     the last migration; reason given: {reason}"
                ),
            )?,
            (Some(risk), Some(reason)) => {
                ctx.note(
                    "override",
                    format!("no-migration risk overridden: {risk}; reason: {reason}"),
                )?;
                facts.push(Fact::Override(OverrideRecord {
                    at: ctx.now(),
                    what: "no_migration_risk".into(),
                    refusal: risk,
                    reason: reason.clone(),
                }));
            }
            (Some(risk), None) => {
                return Ok(StepBody::refused_as(
                    ErrorKind::PolicyRefused,
                    super::policy_hooks::no_migration_refusal(&risk),
                    facts,
                ));
            }
        }
    }

    // The monitor: a gate that cannot read it rolls the deploy back after the recycle.
    if let Some(refusal) = monitor_unreadable(ctx, state).await? {
        return Ok(StepBody::refused_as(ErrorKind::Unsafe, refusal, facts));
    }

    // The lock.
    match lock::acquire(ctx, state).await? {
        Ok(owner) => facts.push(Fact::LockTaken { owner }),
        Err(refusal) => return Ok(StepBody::refused_as(ErrorKind::Unsafe, refusal, facts)),
    }

    // What ships.
    if let Some(head) = &head_sha {
        match pending_changes(ctx, state, head).await {
            Ok(p) => {
                ctx.info(format!(
                    "pending changes: {} commits, {} migration files, {} asset files",
                    p.commits,
                    p.migrations.len(),
                    p.assets.len()
                ));
                facts.push(Fact::Pending(p));
            }
            Err(e) => ctx.warn(format!("could not summarise the pending changes: {e}")),
        }
    }

    // The pre-deploy snapshot.
    let snapshots: Vec<GroupSnapshot> = mine.iter().map(|g| snapshot(g)).collect();
    if let Some(sha) = serving_sha(&mine) {
        facts.push(Fact::OldSha { sha });
    }
    let detail = snapshots
        .iter()
        .map(|s| {
            format!(
                "{} desired {} ({} healthy)",
                s.group, s.desired, s.healthy_in_service
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    facts.push(Fact::PreDeploy { groups: snapshots });
    Ok(StepBody::done(format!("ready: {detail}"), facts))
}

fn snapshot(g: &Group) -> GroupSnapshot {
    let running: Vec<_> = g.running_instances().collect();
    GroupSnapshot {
        group: g.name.clone(),
        desired: g.capacity.desired,
        instances: running.iter().map(|i| i.id.clone()).collect(),
        healthy_in_service: u32::try_from(
            running
                .iter()
                .filter(|i| {
                    i.lifecycle == Lifecycle::InService && i.health == HealthStatus::Healthy
                })
                .count(),
        )
        .unwrap_or(u32::MAX),
    }
}

/// The PR as facts, or the refusal in words with its kind: a PR that is not open, approved,
/// aimed at the production branch and mergeable is a policy's refusal; one of the wrong kind
/// for the deploy (a revert PR for a full deploy, or the reverse) is bad input.
async fn check_pr(
    ctx: &StepContext<'_>,
    state: &DeployState,
    number: u64,
) -> Result<std::result::Result<PrFacts, (ErrorKind, String)>> {
    let policy = |refusal: String| Ok(Err((ErrorKind::PolicyRefused, refusal)));
    let app = &state.request.app;
    let host = &ctx.ports.code_host;
    let which = state.request.kind.merged_pr();
    let way_on = format!("--pr (Python: pr=) names the {which} to deploy: give its number");
    let mut pr =
        match super::release::read_named_pr(ctx, number, &format!("read the {which}"), &way_on)
            .await?
        {
            Ok(pr) => pr,
            // A number that names no PR is bad input.
            Err(refusal) => return Ok(Err((ErrorKind::InvalidInput, refusal))),
        };
    // The wrong kind of PR first: a merged promotion PR given to a revert deploy is not a
    // revert PR, whatever its state.
    let reverts = ReleaseNumber::from_revert_title(&pr.title).ok();
    if let Some(mismatch) = pr_kind_mismatch(state.request.kind, number, &pr.title) {
        return Ok(Err((ErrorKind::InvalidInput, mismatch)));
    }
    if pr.state != PrState::Open {
        let state_text = match pr.state {
            PrState::Merged => "already merged",
            PrState::Closed => "closed",
            PrState::Open => "open",
        };
        let which = if reverts.is_some() {
            "revert"
        } else {
            "promotion"
        };
        return policy(format!(
            "{which} PR #{number} is {state_text}: deploy an open, approved {which} PR"
        ));
    }
    if pr.base != app.production_branch {
        return policy(format!(
            "PR #{number} targets {}, not the production branch {}: open the promotion PR \
             against {}",
            pr.base, app.production_branch, app.production_branch
        ));
    }
    let reviews = ctx
        .retry("read the PR's reviews", async || host.reviews(number).await)
        .await?;
    // Each reviewer's latest approval, change request or dismissal counts; comments do not.
    let mut latest: BTreeMap<String, ReviewState> = BTreeMap::new();
    for r in &reviews {
        if matches!(
            r.state,
            ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed
        ) {
            latest.insert(r.user.clone(), r.state);
        }
    }
    let blocking: Vec<&str> = latest
        .iter()
        .filter(|(_, s)| **s == ReviewState::ChangesRequested)
        .map(|(u, _)| u.as_str())
        .collect();
    if !blocking.is_empty() {
        return policy(format!(
            "PR #{number} has changes requested by {}: resolve them and get a new approval",
            blocking.join(", ")
        ));
    }
    if !latest.values().any(|s| *s == ReviewState::Approved) {
        return policy(format!(
            "PR #{number} has no approving review: every production deploy needs a code \
             reviewer's approval of the changes to {}",
            app.production_branch
        ));
    }
    // Who approved goes in the journal for the deploy report.
    let approvers: Vec<&str> = latest
        .iter()
        .filter(|(_, s)| **s == ReviewState::Approved)
        .map(|(u, _)| u.as_str())
        .collect();
    ctx.note(
        "approval",
        format!(
            "promotion PR #{number} approved by {}",
            approvers.join(", ")
        ),
    )?;
    // GitHub computes mergeability lazily: ask a few times before giving up.
    let mut tries = 0;
    while pr.mergeable.is_none() && tries < 3 {
        tries += 1;
        ctx.sleep(ctx.settings.poll_secs.max(1)).await;
        pr = ctx
            .retry(&format!("read the {which}"), async || {
                host.pull_request(number).await
            })
            .await?;
    }
    match pr.mergeable {
        Some(true) => {}
        Some(false) => {
            return policy(format!(
                "PR #{number} cannot be merged cleanly: resolve the conflicts (a true-up merge \
                 with the production branch) and try again"
            ));
        }
        None => {
            return Ok(Err((
                ErrorKind::Backend,
                format!(
                    "GitHub has not said whether PR #{number} can be merged; try again in a \
                     minute"
                ),
            )));
        }
    }
    let rc = ReleaseNumber::from_pr_title(&pr.title).ok();
    if rc.is_none() && reverts.is_none() {
        ctx.warn(format!(
            "PR #{number}'s title {:?} has no RC number; no release will be created",
            pr.title
        ));
    }
    Ok(Ok(PrFacts {
        number,
        title: pr.title,
        url: pr.html_url,
        head_sha: pr.head_sha,
        rc,
        reverts,
        body: pr.body,
    }))
}

/// Why the monitor gate could not read the figures of the app's main role, if it could not:
/// the monitor's own words (e.g. a missing log group), after retries.
pub(crate) async fn monitor_unreadable(
    ctx: &StepContext<'_>,
    state: &DeployState,
) -> Result<Option<String>> {
    let env = &state.request.env;
    let role = super::main_role(state)?;
    let monitor = &ctx.ports.monitor;
    match ctx
        .retry("check the monitor can be read", async || {
            monitor.check_readable(env, &role).await
        })
        .await
    {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == ErrorKind::Interrupted => Err(e),
        Err(e) => Ok(Some(monitor_refusal(env, &role, &e))),
    }
}

/// The refusal of a deploy whose monitor cannot read `role`'s figures in `env` (`e`).
pub(crate) fn monitor_refusal(env: &EnvName, role: &RoleName, e: &Error) -> String {
    format!(
        "the monitor cannot read {role}'s figures in {env}: {e}; the monitor gate would roll \
         the deploy back after the recycle, so nothing was changed"
    )
}

/// Why PR `number`, titled `title`, is the wrong kind of PR for a deploy of `kind`: a revert
/// deploy ships a `Revert RC <N>` PR, every other kind that ships code a promotion PR.
pub(crate) fn pr_kind_mismatch(kind: DeployKind, number: u64, title: &str) -> Option<String> {
    match (
        kind == DeployKind::Revert,
        ReleaseNumber::from_revert_title(title).ok(),
    ) {
        (true, None) => Some(format!(
            "PR #{number} ({title:?}) is not a revert PR: a revert deploy ships the `Revert RC \
             <N>` PR a rollback opened; deploy a promotion PR with --kind full (Python: \
             kind=\"full\")"
        )),
        (false, Some(reverted)) => Some(format!(
            "PR #{number} ({title:?}) reverts RC {reverted}: deploy it with --kind revert \
             (Python: kind=\"revert\"), which restores the code released before it on any \
             day and creates no release"
        )),
        _ => None,
    }
}

async fn pending_changes(
    ctx: &StepContext<'_>,
    state: &DeployState,
    head: &Sha,
) -> Result<PendingChanges> {
    let app = &state.request.app;
    let vcs = &ctx.ports.vcs;
    ctx.retry("fetch", async || vcs.fetch(&app.remote).await)
        .await?;
    let base = format!("{}/{}", app.remote, app.production_branch);
    let commits = ctx
        .retry("list commits", async || {
            vcs.commits_between(&base, head.as_str()).await
        })
        .await?;
    let files = ctx
        .retry("list changed files", async || {
            vcs.files_changed(&base, head.as_str()).await
        })
        .await?;
    Ok(PendingChanges {
        commits: commits.len(),
        migrations: files
            .iter()
            .filter(|f| MIGRATION_PATHS.iter().any(|p| f.starts_with(p)))
            .cloned()
            .collect(),
        assets: files
            .iter()
            .filter(|f| ASSET_PATHS.iter().any(|p| f.starts_with(p)))
            .cloned()
            .collect(),
    })
}
