//! What a sandboxed command prepares first: a fresh simulated world has no promotion PR, so
//! `deploy`, `rc true-up` and `release create` cut one (and approve it, and for a release
//! merge it) before they run, and say so; a revert deploy also opens and approves the revert.

use deploykit_core::deploy::demo::{prepare_promotion_pr, prepare_revert_pr};
use deploykit_core::ports::{Clock, CodeHost, MergeMethod};
use deploykit_core::sim::World;
use deploykit_core::{AppSettings, Event, EventSink, Result};

/// How far to take the promotion PR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// Cut and approved (a deploy merges it itself).
    Approved,
    /// Cut, approved and merged (a release is made of a merged PR).
    Merged,
}

/// Cuts an RC of `app` in `world` (a patch RC when `patch`), approves its promotion PR and,
/// for [`Prepared::Merged`], merges it; tells `sink` what was done, followed by what
/// `then` says of the PR's number. Returns the number.
#[allow(clippy::too_many_arguments)]
pub async fn sandbox_promotion_pr(
    world: &World,
    code_host: &dyn CodeHost,
    clock: &dyn Clock,
    app: &AppSettings,
    patch: bool,
    prepared: Prepared,
    then: impl FnOnce(u64) -> String,
    sink: &dyn EventSink,
) -> Result<u64> {
    let (cut, number) = prepare_promotion_pr(world, code_host, app, "sandbox", patch, sink).await?;
    let done = match prepared {
        Prepared::Approved => "approved",
        Prepared::Merged => {
            code_host
                .merge_pull_request(number, MergeMethod::Merge)
                .await?;
            "approved and merged"
        }
    };
    sink.emit(Event::Info {
        at: clock.now(),
        message: format!(
            "sandbox: cut RC {}, {done} its promotion PR #{number}{}",
            cut.rc,
            then(number)
        ),
    });
    Ok(number)
}

/// Cuts an RC of `app` in `world`, approves and merges its promotion PR, then opens and
/// approves its `Revert RC <N>` PR, as a rollback would; tells `sink`. Returns the revert
/// PR's number, for a sandboxed revert deploy.
pub async fn sandbox_revert_pr(
    world: &World,
    code_host: &dyn CodeHost,
    clock: &dyn Clock,
    app: &AppSettings,
    sink: &dyn EventSink,
) -> Result<u64> {
    let (rc, promotion, revert) = prepare_revert_pr(world, code_host, app, "sandbox", sink).await?;
    sink.emit(Event::Info {
        at: clock.now(),
        message: format!(
            "sandbox: cut RC {rc}, approved and merged its promotion PR #{promotion}, opened \
             and approved its revert PR #{revert}"
        ),
    });
    Ok(revert)
}
