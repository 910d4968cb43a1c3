//! Cut a release candidate (create-deploy-pr): last RC -> next RC -> branch name -> changelog
//! -> push -> label -> promotion PR -> changelog file.
//!
//! A cut can be run again after it stopped part way (Ctrl-C, a code host error):
//! - when the promotion PR of the same RC is already open from an RC branch at the commit
//!   being released, the cut finishes that PR (label, changelog file) instead of pushing
//!   another branch and opening a second PR for the same RC;
//! - when one of the day's RC branches already points at that commit with no PR open from it
//!   (the cut stopped between the push and the PR), it is used instead of pushing `.2`;
//! - an open PR of the same RC at another commit is a conflict: nothing is written.

use std::path::PathBuf;

use chrono::{Duration, NaiveDate};

use crate::changelog::{Changelog, build_changelog};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{EnvName, RcBranch, ReleaseNumber, Sha};
use crate::ports::{NewPullRequest, PullRequest};
use crate::release::last_rc::{last_release_number, merged_unreleased};
use crate::release::repository::check_remote;
use crate::release::{ReleaseContext, Writes, open_prs};

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
    /// The promotion PR of this RC was open already, at the same commit (a cut run again after
    /// it stopped part way): it was finished (labelled, changelog written), not opened again.
    #[serde(default)]
    pub pr_already_open: bool,
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

/// Where a cut pushes: the first RC branch of `date` that does not exist on the remote yet, or
/// an earlier one that already points at `sha` with no open PR from it (pushed by a cut that
/// stopped before opening its PR), which is reused. The flag says whether it is pushed already.
async fn free_branch(
    ctx: &ReleaseContext<'_>,
    date: NaiveDate,
    sha: &Sha,
    open_prs: &[PullRequest],
) -> Result<(RcBranch, bool)> {
    let remote = &ctx.settings.remote;
    let mut branch = RcBranch::first(date);
    loop {
        let name = branch.to_string();
        if !ctx.vcs.remote_branch_exists(remote, &name).await? {
            return Ok((branch, false));
        }
        let tip = match ctx.vcs.resolve(&format!("{remote}/{name}")).await {
            Ok(tip) => Some(tip),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if tip.is_some_and(|t| t.matches(sha)) && open_prs.iter().all(|pr| pr.head != name) {
            ctx.warning(format!(
                "{remote}/{name} already points at {} and no PR is open from it (a cut that \
                 stopped before opening its PR?): using it instead of pushing another branch",
                sha.short()
            ));
            return Ok((branch, true));
        }
        if branch.ordinal >= MAX_SAME_DAY {
            return Err(Error::conflict(format!(
                "{MAX_SAME_DAY} RC branches already exist for {date}; delete unused ones"
            )));
        }
        branch = branch.next_same_day();
    }
}

/// The open PR into the production branch from an RC branch whose title names `rc`: what a cut
/// of the same RC that stopped part way left. It must be at `sha`, else it is a conflict (a PR
/// for this RC is open with other code).
fn open_pr_of(
    open_prs: &[PullRequest],
    rc: ReleaseNumber,
    sha: &Sha,
) -> Result<Option<(PullRequest, RcBranch)>> {
    let found = open_prs
        .iter()
        .filter(|pr| ReleaseNumber::from_pr_title(&pr.title).is_ok_and(|n| n == rc))
        .find_map(|pr| {
            pr.head
                .parse::<RcBranch>()
                .ok()
                .map(|branch| (pr.clone(), branch))
        });
    let Some((pr, branch)) = found else {
        return Ok(None);
    };
    match &pr.head_sha {
        Some(head) if head.matches(sha) => Ok(Some((pr, branch))),
        head => {
            let (at, finish_it) = match head {
                Some(h) => (
                    h.short().to_string(),
                    format!(" (or pass --source {h} to finish that one)"),
                ),
                None => (
                    "a commit the code host does not give".to_string(),
                    String::new(),
                ),
            };
            Err(Error::conflict(format!(
                "PR #{} ({:?}) is already open from {} at {at}, and this cut would release {} \
                 as RC {rc}; merge or close PR #{} first{finish_it}",
                pr.number,
                pr.title,
                pr.head,
                sha.short(),
                pr.number,
            ))
            .with("pr", pr.number))
        }
    }
}

/// Cuts a release candidate. A changelog that fails stops everything before any write, with
/// the changelog's explanation. The promotion PR of the same RC left open at the same commit
/// by a cut that stopped part way is finished, not opened twice.
pub async fn cut_rc(ctx: &ReleaseContext<'_>, request: &CutRcRequest) -> Result<CutRcOutcome> {
    let settings = ctx.settings;
    let url = ctx.vcs.remote_url(&settings.remote).await?;
    check_remote(settings, &url)?;
    ctx.vcs.fetch(&settings.remote).await?;

    let releases = ctx.code_host.releases().await?;
    let released = last_release_number(&releases);
    let last_rc = match merged_unreleased(ctx.code_host, settings, released).await? {
        Some((merged, pr)) => {
            ctx.warning(format!(
                "RC {merged}'s promotion PR #{pr} is merged but RC {merged} has no release yet \
                 (its deploy is still going on, or was rolled back): numbering after RC \
                 {merged}, not after the last release (RC {released}), so no two promotion \
                 PRs carry the same RC"
            ));
            merged
        }
        None => released,
    };
    let rc = if request.patch {
        last_rc.next_patch()
    } else {
        last_rc.next_full()
    };
    ctx.info(format!("last RC is {last_rc}; this is RC {rc}"));

    let sha = release_sha(ctx, request.source.as_deref()).await?;
    let open_prs = open_prs(ctx.code_host, settings).await?;
    let open = open_pr_of(&open_prs, rc, &sha)?;
    let (branch, pushed) = match &open {
        Some((pr, branch)) => {
            ctx.warning(format!(
                "PR #{} for RC {rc} is already open from {branch} at {}, the commit this cut \
                 releases (a cut that stopped part way?): finishing it instead of opening \
                 another",
                pr.number,
                sha.short()
            ));
            (*branch, true)
        }
        None => {
            let date = today(ctx, request.utc_offset_minutes);
            free_branch(ctx, date, &sha, &open_prs).await?
        }
    };

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
    if let Some(dropped) = changelog.dropped_warning() {
        ctx.warning(dropped);
    }

    let changelog_path = request.working_dir.join(&settings.changelog_file);
    let label = settings.promotion_label.clone();
    let branch_name = branch.to_string();
    let mut writes = Writes::new(ctx, request.dry_run);
    let mut pr_number = open.as_ref().map(|(pr, _)| pr.number);
    let mut pr_url = open.as_ref().map(|(pr, _)| pr.html_url.clone());
    let labelled = open
        .as_ref()
        .is_some_and(|(pr, _)| pr.labels.contains(&label));

    if !pushed && writes.record(format!("push {sha} to {}/{branch_name}", settings.remote)) {
        ctx.vcs
            .push(&settings.remote, &sha, &branch_name, false)
            .await?;
        writes.done();
    }
    if !labelled && writes.record(format!("make sure the label {label:?} exists")) {
        ctx.code_host.ensure_label(&label).await?;
        writes.done();
    }
    let title = settings.pr_title(rc);
    if open.is_none()
        && writes.record(format!(
            "open PR {title:?} from {branch_name} into {}",
            settings.production_branch
        ))
    {
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
        writes.done();
    }
    let on_pr = pr_number.map_or_else(|| "the PR".to_string(), |n| format!("PR #{n}"));
    if !labelled
        && writes.record(format!("add the label {label:?} to {on_pr}"))
        && let Some(number) = pr_number
    {
        ctx.code_host.add_labels(number, &[label]).await?;
        writes.done();
    }
    if writes.record(format!(
        "write the changelog to {}",
        changelog_path.display()
    )) {
        write_changelog(&changelog_path, &changelog.text)?;
        writes.done();
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
        pr_already_open: open.is_some(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::TRAILER_HELP;
    use crate::model::{AppSettings, DeployStatus};
    use crate::ports::{Commit, PrState, PullRequest, Release};
    use crate::release::test_support::{Ports, at, commit, pull_request, release, sha};

    const GOOD_BODY: &str = "changelog: Bug Fixes, Login, fix the button";

    /// Every read of a cut: remote, fetch, releases, staging status, resolve, open PRs (none),
    /// branches, commits. `staging` is what staging runs; `main` resolves too.
    fn reads(p: &mut Ports, releases: Vec<Release>, taken: &[&str], commits: Vec<Commit>) {
        reads_with_open(p, releases, taken, commits, Vec::new());
    }

    /// [`reads`] with these PRs open into the production branch.
    fn reads_with_open(
        p: &mut Ports,
        releases: Vec<Release>,
        taken: &[&str],
        commits: Vec<Commit>,
        open: Vec<PullRequest>,
    ) {
        p.host
            .expect_pull_requests()
            .withf(|q| q.base.as_deref() == Some("stages/prod") && q.state == Some(PrState::Open))
            .returning(move |_| Ok(open.clone()));
        p.host
            .expect_pull_requests()
            .withf(|q| q.base.as_deref() == Some("stages/prod") && q.state == Some(PrState::Merged))
            .returning(|_| Ok(Vec::new()));
        p.vcs
            .expect_remote_url()
            .returning(|_| Ok("git@github.com:18F/identity-idp.git".into()));
        p.vcs.expect_fetch().times(1).returning(|_| Ok(()));
        p.host
            .expect_releases()
            .times(1)
            .returning(move || Ok(releases.clone()));
        p.status.expect_deploy_status().returning(|app, env| {
            assert_eq!((app.as_str(), env.as_str()), ("idp", "staging"));
            DeployStatus::parse(&format!(r#"{{"git_sha":"{}"}}"#, sha('a')))
        });
        p.vcs.expect_resolve().returning(|rev| match rev {
            "main" => Ok(sha('b')),
            rev if rev == sha('a').as_str() => Ok(sha('a')),
            rev => Err(Error::not_found(format!("unknown revision {rev}"))),
        });
        let taken: Vec<String> = taken.iter().map(|s| s.to_string()).collect();
        p.vcs
            .expect_remote_branch_exists()
            .returning(move |remote, branch| {
                assert_eq!(remote, "origin");
                Ok(taken.iter().any(|t| t == branch))
            });
        p.vcs
            .expect_commits_between()
            .withf(|base, _| base == "origin/stages/prod")
            .returning(move |_, _| Ok(commits.clone()));
    }

    fn good_commits() -> Vec<Commit> {
        vec![
            commit("Fix login (#42)", GOOD_BODY),
            commit("Oops (#43)", "no trailer"),
        ]
    }

    /// PR #9700 gets the promotion label, once.
    fn labels_pr_9700_once(p: &mut Ports) {
        p.host
            .expect_add_labels()
            .withf(|n, labels| *n == 9700 && labels == ["status - promotion".to_string()])
            .times(1)
            .returning(|_, _| Ok(()));
    }

    fn for_real(working_dir: PathBuf) -> CutRcRequest {
        CutRcRequest {
            working_dir,
            ..CutRcRequest::default()
        }
    }

    fn dry(working_dir: PathBuf) -> CutRcRequest {
        CutRcRequest {
            dry_run: true,
            working_dir,
            ..CutRcRequest::default()
        }
    }

    #[tokio::test]
    async fn a_remote_naming_another_repository_is_refused_before_fetching() {
        let mut p = Ports::new(AppSettings::idp());
        p.vcs
            .expect_remote_url()
            .returning(|_| Ok("https://github.com/18F/identity-pki.git".into()));
        let err = cut_rc(&p.ctx(), &dry(PathBuf::new()))
            .await
            .expect_err("wrong remote");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("18F/identity-idp"), "{err}");
        assert!(err.to_string().contains("identity-pki"), "{err}");
    }

    #[tokio::test]
    async fn last_rc_comes_from_all_releases_ignoring_drafts_and_prereleases() {
        let mut releases = vec![
            release("RC 120", true, false),
            release("RC 119", false, true),
        ];
        for i in 0..35 {
            releases.push(release(&format!("Hotfix notes {i}"), false, false));
        }
        releases.push(release("RC 112.2", false, false));
        releases.push(release("RC 112.1", false, false));
        assert!(releases.len() > 30);
        assert_eq!(last_release_number(&releases), "112.2".parse().expect("rc"));
        assert_eq!(last_release_number(&[]), ReleaseNumber::ZERO);

        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, releases.clone(), &[], good_commits());
        let full = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(full.last_rc.to_string(), "112.2");
        assert_eq!(full.rc.to_string(), "113");

        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, releases, &[], good_commits());
        let patch = cut_rc(
            &p.ctx(),
            &CutRcRequest {
                patch: true,
                ..dry(PathBuf::new())
            },
        )
        .await
        .expect("cut");
        assert_eq!(patch.rc.to_string(), "112.3");
    }

    #[tokio::test]
    async fn first_rc_ever_is_1() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &[], good_commits());
        let outcome = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(outcome.rc.to_string(), "1");
    }

    #[tokio::test]
    async fn same_day_rcs_get_2_then_3() {
        let mut p = Ports::new(AppSettings::idp());
        reads(
            &mut p,
            vec![release("RC 112", false, false)],
            &["stages/rc-2024-01-09", "stages/rc-2024-01-09.2"],
            good_commits(),
        );
        let outcome = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09.3");

        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &["stages/rc-2024-01-09"], good_commits());
        let outcome = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09.2");
    }

    #[tokio::test]
    async fn the_branch_is_dated_in_the_requested_offset() {
        let mut p = Ports::new(AppSettings::idp());
        // 02:00 UTC on the 10th is still the 9th in US Eastern time (UTC-5).
        p.clock.0 = at(2024, 1, 10, 2, 0, 0);
        reads(&mut p, vec![], &[], good_commits());
        let eastern = CutRcRequest {
            utc_offset_minutes: -300,
            ..dry(PathBuf::new())
        };
        let outcome = cut_rc(&p.ctx(), &eastern).await.expect("cut");
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09");
        let mut p = Ports::new(AppSettings::idp());
        p.clock.0 = at(2024, 1, 10, 2, 0, 0);
        reads(&mut p, vec![], &[], good_commits());
        let utc = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(utc.branch.to_string(), "stages/rc-2024-01-10");
    }

    #[tokio::test]
    async fn an_unknown_source_is_an_invalid_source() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &[], good_commits());
        let request = CutRcRequest {
            source: Some("no-such-branch".into()),
            dry_run: false,
            ..CutRcRequest::default()
        };
        let err = cut_rc(&p.ctx(), &request).await.expect_err("bad source");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string()
                .starts_with("Invalid source: no-such-branch"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_source_override_replaces_what_staging_runs() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &[], good_commits());
        let request = CutRcRequest {
            source: Some("main".into()),
            ..dry(PathBuf::new())
        };
        let outcome = cut_rc(&p.ctx(), &request).await.expect("cut");
        assert_eq!(outcome.sha, sha('b'));
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &[], good_commits());
        let outcome = cut_rc(&p.ctx(), &dry(PathBuf::new())).await.expect("cut");
        assert_eq!(outcome.sha, sha('a'));
    }

    #[tokio::test]
    async fn a_failed_changelog_stops_before_any_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = Ports::new(AppSettings::idp());
        // No push, label, PR expectation: any write would panic the mock.
        reads(
            &mut p,
            vec![],
            &[],
            vec![commit("Oops (#43)", "no trailer")],
        );
        let request = for_real(dir.path().to_path_buf());
        let err = cut_rc(&p.ctx(), &request).await.expect_err("no changelog");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.message(), TRAILER_HELP);
        assert!(p.actions().is_empty());
        assert!(!dir.path().join("tmp/.rc-changelog.md").exists());
    }

    #[tokio::test]
    async fn a_dry_run_reads_everything_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = Ports::new(AppSettings::idp());
        reads(
            &mut p,
            vec![release("RC 112", false, false)],
            &[],
            good_commits(),
        );
        let outcome = cut_rc(&p.ctx(), &dry(dir.path().to_path_buf()))
            .await
            .expect("dry run");
        assert!(outcome.dry_run);
        assert_eq!(outcome.pr_url, None);
        assert_eq!(outcome.actions.len(), 5);
        assert!(
            outcome.actions[0]
                .starts_with(&format!("push {} to origin/stages/rc-2024-01-09", sha('a')))
        );
        assert!(outcome.actions[2].contains("Deploy RC 113 to Production"));
        let events = p.actions();
        assert_eq!(events.len(), 5);
        assert!(events.iter().all(|(_, dry_run)| *dry_run));
        assert!(!dir.path().join("tmp").exists());
        assert!(
            outcome
                .changelog
                .text
                .starts_with("## Bug Fixes\n- Login: Fix the button")
        );
    }

    #[tokio::test]
    async fn a_cut_pushes_labels_opens_the_pr_and_writes_the_changelog() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = Ports::new(AppSettings::idp());
        reads(
            &mut p,
            vec![release("RC 112", false, false)],
            &[],
            good_commits(),
        );
        p.vcs
            .expect_push()
            .withf(|remote, s, branch, force| {
                remote == "origin" && *s == sha('a') && branch == "stages/rc-2024-01-09" && !force
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        p.host
            .expect_ensure_label()
            .withf(|l| l == "status - promotion")
            .times(1)
            .returning(|_| Ok(()));
        p.host
            .expect_create_pull_request()
            .times(1)
            .returning(|new| {
                assert_eq!(new.title, "Deploy RC 113 to Production");
                assert_eq!(new.head, "stages/rc-2024-01-09");
                assert_eq!(new.base, "stages/prod");
                assert!(
                    new.body
                        .contains("([#42](https://github.com/18F/identity-idp/pull/42))")
                );
                assert!(
                    new.body
                        .ends_with("!!! Invalid Changelog Entries !!!\nOops (#43)")
                );
                let pr: PullRequest = pull_request(9700, &new.title, &new.head, PrState::Open);
                Ok(pr)
            });
        labels_pr_9700_once(&mut p);
        let request = for_real(dir.path().to_path_buf());
        let outcome = cut_rc(&p.ctx(), &request).await.expect("cut");
        assert_eq!(
            outcome.pr_url.as_deref(),
            Some("https://github.com/18F/identity-idp/pull/9700")
        );
        let written = std::fs::read_to_string(dir.path().join("tmp/.rc-changelog.md"))
            .expect("changelog file");
        assert_eq!(written, format!("{}\n", outcome.changelog.text));
        assert!(p.actions().iter().all(|(_, dry_run)| !dry_run));
        let json = serde_json::to_value(&outcome).expect("serialisable");
        assert_eq!(json["branch"], "stages/rc-2024-01-09");
        assert_eq!(json["rc"], "113");
    }

    /// The promotion PR of RC 113, open from today's RC branch at `head`, labelled or not.
    fn open_rc_113(head: Sha, labelled: bool) -> PullRequest {
        let mut pr = pull_request(
            9700,
            "Deploy RC 113 to Production",
            "stages/rc-2024-01-09",
            PrState::Open,
        );
        pr.head_sha = Some(head);
        if !labelled {
            pr.labels.clear();
        }
        pr
    }

    /// The reads of a cut after RC 112, with RC 113's PR open from today's branch at `head`.
    fn rc_113_open(head: Sha, labelled: bool) -> Ports {
        let mut p = Ports::new(AppSettings::idp());
        reads_with_open(
            &mut p,
            vec![release("RC 112", false, false)],
            &["stages/rc-2024-01-09"],
            good_commits(),
            vec![open_rc_113(head, labelled)],
        );
        p
    }

    #[tokio::test]
    async fn a_cut_run_again_finishes_the_open_pr_of_its_rc_instead_of_opening_another() {
        // The first cut pushed the branch and opened the PR, then stopped before the label.
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = rc_113_open(sha('a'), false);
        // No push and no create_pull_request expectation: either would panic the mock.
        p.host.expect_ensure_label().times(1).returning(|_| Ok(()));
        labels_pr_9700_once(&mut p);
        let request = for_real(dir.path().to_path_buf());
        let outcome = cut_rc(&p.ctx(), &request).await.expect("finished");
        assert!(outcome.pr_already_open);
        assert_eq!(outcome.pr_number, Some(9700));
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09");
        assert_eq!(outcome.rc.to_string(), "113");
        assert_eq!(outcome.actions.len(), 3, "{:?}", outcome.actions);
        assert!(
            outcome.actions[1].contains("PR #9700"),
            "{:?}",
            outcome.actions
        );
        let written = std::fs::read_to_string(dir.path().join("tmp/.rc-changelog.md"))
            .expect("changelog file");
        assert_eq!(written, format!("{}\n", outcome.changelog.text));

        // Run once more (it had finished): only the changelog file is written again.
        let p = rc_113_open(sha('a'), true);
        let outcome = cut_rc(&p.ctx(), &request).await.expect("nothing left");
        assert!(outcome.pr_already_open);
        assert_eq!(outcome.actions.len(), 1, "{:?}", outcome.actions);
        assert!(outcome.actions[0].starts_with("write the changelog"));
    }

    #[tokio::test]
    async fn an_open_pr_of_the_same_rc_at_another_commit_stops_the_cut_before_any_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = rc_113_open(sha('d'), true);
        let request = for_real(dir.path().to_path_buf());
        let err = cut_rc(&p.ctx(), &request).await.expect_err("conflict");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let text = err.to_string();
        assert!(text.contains("PR #9700"), "{text}");
        assert!(text.contains("merge or close PR #9700"), "{text}");
        assert!(text.contains(&format!("--source {}", sha('d'))), "{text}");
        assert!(p.actions().is_empty());
        assert!(!dir.path().join("tmp/.rc-changelog.md").exists());
    }

    #[tokio::test]
    async fn an_open_pr_of_another_rc_does_not_stop_a_cut() {
        // RC 113's PR waits for its deploy while a patch of RC 112 is cut: 112.1 gets its own
        // branch (today's is RC 113's) and its own PR.
        let p = rc_113_open(sha('d'), true);
        let outcome = cut_rc(
            &p.ctx(),
            &CutRcRequest {
                patch: true,
                ..dry(PathBuf::new())
            },
        )
        .await
        .expect("cut");
        assert_eq!(outcome.rc.to_string(), "112.1");
        assert!(!outcome.pr_already_open);
        assert_eq!(outcome.branch.to_string(), "stages/rc-2024-01-09.2");
        assert_eq!(outcome.actions.len(), 5);
    }

    #[tokio::test]
    async fn a_failed_push_opens_no_pr() {
        let mut p = Ports::new(AppSettings::idp());
        reads(&mut p, vec![], &[], good_commits());
        p.vcs
            .expect_push()
            .returning(|_, _, _, _| Err(Error::conflict("branch exists")));
        let err = cut_rc(&p.ctx(), &CutRcRequest::default())
            .await
            .expect_err("push fails");
        assert_eq!(err.kind(), ErrorKind::Conflict);
        // The push that failed is not said to have been done.
        assert!(
            !p.actions().iter().any(|(a, _)| a.starts_with("push ")),
            "{:?}",
            p.actions()
        );
    }
}
