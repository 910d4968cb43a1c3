//! Cut a release candidate (create-deploy-pr): last RC -> next RC -> branch name -> changelog
//! -> push -> label -> promotion PR -> changelog file.

use std::path::PathBuf;

use chrono::{Duration, NaiveDate};

use crate::changelog::{Changelog, build_changelog};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{EnvName, RcBranch, ReleaseNumber, Sha};
use crate::ports::NewPullRequest;
use crate::release::last_rc::last_release_number;
use crate::release::repository::check_remote;
use crate::release::{ReleaseContext, Writes};

/// How many same-day RC branches are tried before giving up.
const MAX_SAME_DAY: u32 = 99;

/// What to cut.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CutRcRequest {
    /// A revision (SHA, branch, tag) to release instead of what staging runs.
    pub source: Option<String>,
    /// A patch release (112 -> 112.1) instead of a full one (112 -> 113).
    pub patch: bool,
    /// Do every read, no write.
    pub dry_run: bool,
    /// Where the changelog file path (relative, from the settings) is rooted.
    pub working_dir: PathBuf,
    /// The offset from UTC, in minutes, of the calendar that dates the RC branch: the branch
    /// is named after the Clock's now shifted by this offset. Front ends pass the local offset
    /// (the scripts used the local date); 0 dates branches in UTC.
    pub utc_offset_minutes: i32,
}

/// What was cut (or, in a dry run, would be).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CutRcOutcome {
    /// The last published RC (0 when none).
    pub last_rc: ReleaseNumber,
    /// The new RC.
    pub rc: ReleaseNumber,
    /// The commit released.
    pub sha: Sha,
    /// The RC branch.
    pub branch: RcBranch,
    /// The changelog (also the PR body).
    pub changelog: Changelog,
    /// Where the changelog is (or would be) written.
    pub changelog_path: PathBuf,
    /// The promotion PR's number, once opened.
    pub pr_number: Option<u64>,
    /// The promotion PR's link, once opened.
    pub pr_url: Option<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done), in order.
    pub actions: Vec<String>,
}

/// The calendar date of `now` shifted by `offset_minutes`.
fn today(ctx: &ReleaseContext<'_>, offset_minutes: i32) -> NaiveDate {
    (ctx.clock.now() + Duration::minutes(i64::from(offset_minutes))).date_naive()
}

/// The SHA to release: the source override, or what staging runs; resolved locally.
async fn release_sha(ctx: &ReleaseContext<'_>, source: Option<&str>) -> Result<Sha> {
    match source {
        Some(rev) => ctx.vcs.resolve(rev).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::not_found(format!(
                    "Invalid source: {rev} does not resolve to a commit after fetching {}; \
                     give a SHA, branch or tag that exists",
                    ctx.settings.remote
                ))
                .with("source", rev)
                .with_source(e)
            } else {
                e
            }
        }),
        None => {
            let staging = EnvName::from_static("staging");
            let status = ctx
                .deploy_status
                .deploy_status(&ctx.settings.name, &staging)
                .await?;
            let sha = status.git_sha;
            ctx.info(format!("staging runs {sha}"));
            ctx.vcs.resolve(sha.as_str()).await.map_err(|e| {
                if e.kind() == ErrorKind::NotFound {
                    Error::not_found(format!(
                        "staging runs {sha}, which is not in {} after fetching {}; \
                         was it pushed? Pass --source to release another revision",
                        ctx.settings.repository, ctx.settings.remote
                    ))
                    .with_source(e)
                } else {
                    e
                }
            })
        }
    }
}

/// The first RC branch of `date` that does not exist on the remote yet.
async fn free_branch(ctx: &ReleaseContext<'_>, date: NaiveDate) -> Result<RcBranch> {
    let mut branch = RcBranch::first(date);
    while ctx
        .vcs
        .remote_branch_exists(&ctx.settings.remote, &branch.to_string())
        .await?
    {
        if branch.ordinal >= MAX_SAME_DAY {
            return Err(Error::conflict(format!(
                "{MAX_SAME_DAY} RC branches already exist for {date}; delete unused ones"
            )));
        }
        branch = branch.next_same_day();
    }
    Ok(branch)
}

/// Cuts a release candidate. A changelog that fails stops everything before any write, with
/// the changelog's explanation.
pub async fn cut_rc(ctx: &ReleaseContext<'_>, request: &CutRcRequest) -> Result<CutRcOutcome> {
    let settings = ctx.settings;
    let url = ctx.vcs.remote_url(&settings.remote).await?;
    check_remote(&settings.remote, &url, &settings.repository)?;
    ctx.vcs.fetch(&settings.remote).await?;

    let releases = ctx.code_host.releases().await?;
    let last_rc = last_release_number(&releases);
    let rc = if request.patch {
        last_rc.next_patch()
    } else {
        last_rc.next_full()
    };
    ctx.info(format!("last RC is {last_rc}; this is RC {rc}"));

    let sha = release_sha(ctx, request.source.as_deref()).await?;
    let branch = free_branch(ctx, today(ctx, request.utc_offset_minutes)).await?;

    let commits = ctx
        .vcs
        .commits_between(&ctx.production_ref(), sha.as_str())
        .await?;
    let changelog = build_changelog(&commits, &settings.repository)?;
    if !changelog.invalid_titles.is_empty() {
        ctx.warning(format!(
            "{} commit(s) have no changelog entry; they are listed in the PR body",
            changelog.invalid_titles.len()
        ));
    }

    let changelog_path = request.working_dir.join(&settings.changelog_file);
    let label = settings.promotion_label.clone();
    let branch_name = branch.to_string();
    let mut writes = Writes::new(ctx, request.dry_run);
    let mut pr_number = None;
    let mut pr_url = None;

    if writes.announce(format!("push {sha} to {}/{branch_name}", settings.remote)) {
        ctx.vcs
            .push(&settings.remote, &sha, &branch_name, false)
            .await?;
    }
    if writes.announce(format!("make sure the label {label:?} exists")) {
        ctx.code_host.ensure_label(&label).await?;
    }
    let title = settings.pr_title(rc);
    if writes.announce(format!(
        "open PR {title:?} from {branch_name} into {}",
        settings.production_branch
    )) {
        let pr = ctx
            .code_host
            .create_pull_request(&NewPullRequest {
                title,
                head: branch_name.clone(),
                base: settings.production_branch.clone(),
                body: changelog.text.clone(),
            })
            .await?;
        pr_number = Some(pr.number);
        pr_url = Some(pr.html_url);
    }
    let on_pr = pr_number.map_or_else(|| "the PR".to_string(), |n| format!("PR #{n}"));
    if writes.announce(format!("add the label {label:?} to {on_pr}"))
        && let Some(number) = pr_number
    {
        ctx.code_host.add_labels(number, &[label]).await?;
    }
    if writes.announce(format!(
        "write the changelog to {}",
        changelog_path.display()
    )) {
        write_changelog(&changelog_path, &changelog.text)?;
    }

    Ok(CutRcOutcome {
        last_rc,
        rc,
        sha,
        branch,
        changelog,
        changelog_path,
        pr_number,
        pr_url,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}

fn write_changelog(path: &std::path::Path, text: &str) -> Result<()> {
    let io = |e: std::io::Error| {
        Error::backend(format!(
            "could not write the changelog to {}: {e}; the PR is open, its body holds the \
             changelog",
            path.display()
        ))
        .with_source(e)
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, format!("{text}\n")).map_err(io)
}
