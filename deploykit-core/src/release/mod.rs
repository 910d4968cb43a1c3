//! The pre-deploy half of the guide as workflows over the ports: cut a release candidate,
//! true it up with the production branch, announce its PR, create the release once the PR is
//! merged, and open the PR that rolls it back.
//!
//! Every workflow takes a [`ReleaseContext`] (the ports and the app's settings) and a request
//! struct, and returns a serde-serialisable outcome. In a dry run every read happens and no
//! write does; the outcome lists the writes that would have happened, and each one is also
//! emitted as an [`Event::Action`] with `dry_run: true`.

pub mod announce;
pub mod create_release;
pub mod cut_rc;
pub mod last_rc;
pub mod open_revert;
pub mod pr_reference;
pub mod repository;
pub mod true_up;

pub use announce::{AnnounceOutcome, AnnounceRequest, announce_pending};
pub use create_release::{CreateReleaseOutcome, CreateReleaseRequest, create_release, tag_name};
pub use cut_rc::{CutRcOutcome, CutRcRequest, cut_rc};
pub use last_rc::last_release_number;
pub use open_revert::{OpenRevertOutcome, OpenRevertRequest, open_revert};
pub use pr_reference::PrReference;
pub use repository::{check_remote, repository_from_url};
pub use true_up::{TrueUpOutcome, TrueUpRequest, true_up};

use crate::error::{Error, Result};
use crate::events::{Event, EventSink};
use crate::model::{AppSettings, RcBranch, ReleaseNumber};
use crate::ports::{
    Clock, CodeHost, DeployStatusSource, Notifier, PrState, PullRequest, PullRequestQuery, Vcs,
};

/// The ports a release workflow calls and the settings of the app it works on.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseContext<'a> {
    /// The app's repository.
    pub vcs: &'a dyn Vcs,
    /// Its releases and pull requests.
    pub code_host: &'a dyn CodeHost,
    /// What staging runs.
    pub deploy_status: &'a dyn DeployStatusSource,
    /// Where announcements go.
    pub notifier: &'a dyn Notifier,
    /// Now.
    pub clock: &'a dyn Clock,
    /// Progress.
    pub events: &'a dyn EventSink,
    /// The app.
    pub settings: &'a AppSettings,
}

impl ReleaseContext<'_> {
    /// `<remote>/<production branch>`, e.g. `origin/stages/prod`.
    pub fn production_ref(&self) -> String {
        format!(
            "{}/{}",
            self.settings.remote, self.settings.production_branch
        )
    }

    fn info(&self, message: impl Into<String>) {
        self.events.emit(Event::Info {
            at: self.clock.now(),
            message: message.into(),
        });
    }

    fn warning(&self, message: impl Into<String>) {
        self.events.emit(Event::Warning {
            at: self.clock.now(),
            message: message.into(),
        });
    }
}

/// The writes a workflow did (or, in a dry run, would do), in order. Each write is said
/// (an [`Event::Action`]) only once it is done: `record` says whether to carry it out, and
/// `done` after it succeeded says it, so a workflow stopped by a failing write never claims
/// it. In a dry run, `record` says it at once.
#[derive(Debug)]
struct Writes<'a> {
    ctx: &'a ReleaseContext<'a>,
    dry_run: bool,
    done: Vec<String>,
    pending: Option<String>,
}

impl<'a> Writes<'a> {
    fn new(ctx: &'a ReleaseContext<'a>, dry_run: bool) -> Self {
        Writes {
            ctx,
            dry_run,
            done: Vec::new(),
            pending: None,
        }
    }

    /// Records a write and says whether to carry it out (false in a dry run, where it is
    /// said now); a write carried out is said by [`Writes::done`].
    fn record(&mut self, description: impl Into<String>) -> bool {
        let description = description.into();
        if self.dry_run {
            self.say(description);
        } else {
            self.pending = Some(description);
        }
        !self.dry_run
    }

    /// The write last recorded succeeded: say it.
    fn done(&mut self) {
        if let Some(description) = self.pending.take() {
            self.say(description);
        }
    }

    fn say(&mut self, description: String) {
        self.ctx.events.emit(Event::Action {
            at: self.ctx.clock.now(),
            description: description.clone(),
            dry_run: self.dry_run,
        });
        self.done.push(description);
    }

    fn into_list(self) -> Vec<String> {
        self.done
    }
}

/// The PRs open into the app's production branch.
async fn open_prs(code_host: &dyn CodeHost, settings: &AppSettings) -> Result<Vec<PullRequest>> {
    let production = &settings.production_branch;
    let query = PullRequestQuery::into_base(production.clone(), PrState::Open);
    let prs = code_host.pull_requests(&query).await?;
    Ok(prs
        .into_iter()
        .filter(|pr| pr.state == PrState::Open && &pr.base == production)
        .collect())
}

/// The open promotion PR (base = production branch, labelled with the promotion label) whose
/// head is the newest RC branch; NotFound when there is none. Takes the code host and settings
/// rather than a [`ReleaseContext`], for the deploy's `--pr` default too.
pub async fn open_promotion_pr(
    code_host: &dyn CodeHost,
    settings: &AppSettings,
) -> Result<(PullRequest, RcBranch)> {
    newest_promotion_pr(code_host, settings)
        .await?
        .ok_or_else(|| no_promotion_pr(settings, "or name the promotion PR"))
}

/// The open revert PR (base = production branch, titled `Revert RC <N>`, as a rollback opens
/// it) a revert deploy ships when no PR is named; NotFound when there is none, InvalidInput
/// when several are open (the deploy must name one).
pub async fn open_revert_pr(
    code_host: &dyn CodeHost,
    settings: &AppSettings,
) -> Result<PullRequest> {
    let mut reverts: Vec<PullRequest> = open_prs(code_host, settings)
        .await?
        .into_iter()
        .filter(|pr| ReleaseNumber::from_revert_title(&pr.title).is_ok())
        .collect();
    match reverts.len() {
        0 => Err(Error::not_found(format!(
            "no open revert PR (`Revert RC <N>`) into {}: `deploykit rollback` opens one, or \
             name the PR to deploy",
            settings.production_branch
        ))),
        1 => Ok(reverts.remove(0)),
        _ => Err(Error::invalid_input(format!(
            "{} revert PRs are open into {} ({}): name the one to deploy",
            reverts.len(),
            settings.production_branch,
            reverts
                .iter()
                .map(|pr| format!("#{} {:?}", pr.number, pr.title))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The open promotion PR [`open_promotion_pr`] takes, if there is one.
async fn newest_promotion_pr(
    code_host: &dyn CodeHost,
    settings: &AppSettings,
) -> Result<Option<(PullRequest, RcBranch)>> {
    Ok(open_prs(code_host, settings)
        .await?
        .into_iter()
        .filter(|pr| pr.labels.contains(&settings.promotion_label))
        .filter_map(|pr| pr.head.parse::<RcBranch>().ok().map(|branch| (pr, branch)))
        .max_by_key(|(_, branch)| *branch))
}

/// NotFound: no open promotion PR; cut a release candidate first, `or_else` (what the caller
/// can name instead, e.g. `or name the promotion PR`).
fn no_promotion_pr(settings: &AppSettings, or_else: &str) -> Error {
    Error::not_found(format!(
        "no open promotion PR into {} labelled {:?} from a stages/rc-* branch; cut a release \
         candidate first (`deploykit rc create`), {or_else}",
        settings.production_branch, settings.promotion_label
    ))
}

/// The RC number of a promotion PR, from its title.
fn rc_of(pr: &PullRequest) -> Result<ReleaseNumber> {
    ReleaseNumber::from_pr_title(&pr.title).map_err(|e| e.with("pr", pr.number))
}

#[cfg(test)]
mod test_support;
