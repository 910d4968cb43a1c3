//! True up a release candidate: merge the production branch into the RC branch, keeping the
//! RC branch's tree (`git merge -s ours`), so the promotion PR merges cleanly.

use crate::error::{Error, ErrorKind, Result};
use crate::model::{RcBranch, Sha};
use crate::release::{ReleaseContext, Writes, open_promotion_pr};

/// Which RC branch to true up.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrueUpRequest {
    /// The RC branch; default: the newest `stages/rc-*` head of the open promotion PR.
    pub rc_branch: Option<String>,
    /// Allow a force push when the remote RC branch refuses a fast-forward (RC branches only).
    pub force: bool,
    /// Do every read, no write.
    pub dry_run: bool,
}

/// What the true-up did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrueUpOutcome {
    /// The RC branch.
    pub branch: RcBranch,
    /// Its commit before the true-up.
    pub previous_sha: Sha,
    /// The production branch's tip that was merged.
    pub production_sha: Sha,
    /// The merge commit now at the RC branch's tip (`None` in a dry run or when nothing
    /// needed merging).
    pub new_sha: Option<Sha>,
    /// False when the RC branch already contained the production branch.
    pub merged: bool,
    /// Whether the push was forced.
    pub forced: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done), in order.
    pub actions: Vec<String>,
}

/// Refuses to true up (and so to push to) anything but an RC branch, and above all the
/// production branch.
fn rc_branch(name: &str, production_branch: &str) -> Result<RcBranch> {
    if name == production_branch {
        return Err(Error::unsafe_op(format!(
            "refusing to true up {name}: it is the production branch, which deploykit never \
             pushes to; name the stages/rc-* branch instead"
        )));
    }
    name.parse::<RcBranch>().map_err(|e| {
        Error::unsafe_op(format!(
            "refusing to true up {name}: only release candidate branches \
             (stages/rc-YYYY-MM-DD[.N]) are trued up and pushed to"
        ))
        .with_source(e)
    })
}

/// Merges `<remote>/<production branch>` into the RC branch with the RC branch's tree and
/// pushes the merge to the RC branch.
pub async fn true_up(ctx: &ReleaseContext<'_>, request: &TrueUpRequest) -> Result<TrueUpOutcome> {
    let settings = ctx.settings;
    let branch = match &request.rc_branch {
        Some(name) => rc_branch(name, &settings.production_branch)?,
        None => open_promotion_pr(ctx).await?.1,
    };
    let branch_name = branch.to_string();
    // Checked again on the printed name: the push below must never reach production.
    rc_branch(&branch_name, &settings.production_branch)?;

    ctx.vcs.fetch(&settings.remote).await?;
    let previous_sha = ctx
        .vcs
        .resolve(&format!("{}/{branch_name}", settings.remote))
        .await?;
    let production_sha = ctx.vcs.resolve(&ctx.production_ref()).await?;
    let missing = ctx
        .vcs
        .commits_between(previous_sha.as_str(), production_sha.as_str())
        .await?;
    let mut writes = Writes::new(ctx, request.dry_run);
    if missing.is_empty() {
        ctx.info(format!(
            "{branch_name} already contains {}; nothing to true up",
            settings.production_branch
        ));
        return Ok(TrueUpOutcome {
            branch,
            previous_sha,
            production_sha,
            new_sha: None,
            merged: false,
            forced: false,
            dry_run: request.dry_run,
            actions: writes.into_list(),
        });
    }

    let message = format!(
        "Merge {} into {branch_name}\n\nTrue-up: keeps the release candidate's tree.",
        ctx.production_ref()
    );
    let mut new_sha = None;
    let mut forced = false;
    if writes.announce(format!(
        "merge {} ({}) into {branch_name} keeping the RC tree, and push it to {}/{branch_name}",
        ctx.production_ref(),
        production_sha.short(),
        settings.remote
    )) {
        let merge = ctx
            .vcs
            .merge_ours(&previous_sha, &production_sha, &message)
            .await?;
        match ctx
            .vcs
            .push(&settings.remote, &merge, &branch_name, false)
            .await
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Conflict && request.force => {
                ctx.warning(format!(
                    "{branch_name} moved on the remote; force-pushing the true-up as asked"
                ));
                writes.announce(format!(
                    "force-push {merge} to {}/{branch_name}",
                    settings.remote
                ));
                ctx.vcs
                    .push(&settings.remote, &merge, &branch_name, true)
                    .await?;
                forced = true;
            }
            Err(e) if e.kind() == ErrorKind::Conflict => {
                return Err(Error::conflict(format!(
                    "{branch_name} moved on the remote while truing up; run the true-up again, \
                     or pass --force to overwrite the RC branch"
                ))
                .with_source(e));
            }
            Err(e) => return Err(e),
        }
        new_sha = Some(merge);
    }
    Ok(TrueUpOutcome {
        branch,
        previous_sha,
        production_sha,
        new_sha,
        merged: true,
        forced,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}
