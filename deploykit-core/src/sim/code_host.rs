//! An in-memory code host over a [`SimVcs`]: releases, labels, pull requests, reviews and
//! merges that create real commits in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::sha::Sha;
use crate::ports::{
    Clock, CodeHost, MergeMethod, NewPullRequest, NewRelease, PrState, PullRequest,
    PullRequestQuery, Release, Review, ReviewState,
};
use crate::sim::{Faults, SimVcs, lock};

/// One merge made through [`CodeHost::merge_pull_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRecord {
    /// The PR number.
    pub number: u64,
    /// The method asked for.
    pub method: MergeMethod,
    /// The commit created on the base branch.
    pub sha: Sha,
}

/// One release created through [`CodeHost::create_release`], as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRelease {
    /// The request.
    pub request: NewRelease,
    /// The release created.
    pub release: Release,
}

#[derive(Debug)]
struct PrRecord {
    pr: PullRequest,
    reviews: Vec<Review>,
}

#[derive(Debug)]
struct State {
    releases: Vec<Release>,
    created: Vec<CreatedRelease>,
    labels: BTreeSet<String>,
    prs: BTreeMap<u64, PrRecord>,
    merges: Vec<MergeRecord>,
    next_release_id: u64,
    next_pr: u64,
    user: String,
}

/// The simulated code host of one repository; see the module documentation.
#[derive(Debug)]
pub struct SimCodeHost {
    repo: String,
    vcs: Arc<SimVcs>,
    clock: Arc<dyn Clock>,
    faults: Arc<Faults>,
    state: Mutex<State>,
}

fn pr_not_found(number: u64) -> Error {
    Error::not_found(format!(
        "there is no pull request #{number}; check the number"
    ))
    .with("pr", number)
}

impl SimCodeHost {
    /// The host of `repo` (`owner/name`, e.g. `18F/identity-idp`) over `vcs`; times from
    /// `clock`; fails as `faults` says (op `code_host.<method>`).
    pub fn new(
        repo: impl Into<String>,
        vcs: Arc<SimVcs>,
        clock: Arc<dyn Clock>,
        faults: Arc<Faults>,
    ) -> Self {
        SimCodeHost {
            repo: repo.into(),
            vcs,
            clock,
            faults,
            state: Mutex::new(State {
                releases: Vec::new(),
                created: Vec::new(),
                labels: BTreeSet::new(),
                prs: BTreeMap::new(),
                merges: Vec::new(),
                next_release_id: 1000,
                next_pr: 1,
                user: "deploykit".into(),
            }),
        }
    }

    /// The repository, `owner/name`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The repository's git side.
    pub fn vcs(&self) -> &Arc<SimVcs> {
        &self.vcs
    }

    /// The number the next pull request gets (to make numbers look like the real ones).
    pub fn set_next_pr_number(&self, number: u64) {
        lock(&self.state).next_pr = number;
    }

    /// The login that authors pull requests created through the port.
    pub fn set_user(&self, login: &str) {
        lock(&self.state).user = login.to_string();
    }

    /// Adds a published release (history); returns it.
    pub fn add_release(&self, name: &str, tag_name: &str, published_at: DateTime<Utc>) -> Release {
        self.add_release_with(name, tag_name, "", published_at)
    }

    /// Adds a published release with notes (history); returns it.
    pub fn add_release_with(
        &self,
        name: &str,
        tag_name: &str,
        body: &str,
        published_at: DateTime<Utc>,
    ) -> Release {
        let mut st = lock(&self.state);
        let release = self.new_release(&mut st, name, tag_name, body, published_at);
        st.releases.push(release.clone());
        release
    }

    /// Every release created through the port, with the request (make_latest, target).
    pub fn created_releases(&self) -> Vec<CreatedRelease> {
        lock(&self.state).created.clone()
    }

    /// Creates a label (history), without counting a call.
    pub fn add_label(&self, name: &str) {
        lock(&self.state).labels.insert(name.to_string());
    }

    /// Every label that exists.
    pub fn labels(&self) -> Vec<String> {
        lock(&self.state).labels.iter().cloned().collect()
    }

    /// Adds an approving review by `user`.
    pub fn approve(&self, number: u64, user: &str) -> Result<()> {
        self.add_review(number, user, ReviewState::Approved)
    }

    /// Adds a review by `user` with `state`.
    pub fn add_review(&self, number: u64, user: &str, state: ReviewState) -> Result<()> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        let rec = st
            .prs
            .get_mut(&number)
            .ok_or_else(|| pr_not_found(number))?;
        rec.reviews.push(Review {
            user: user.to_string(),
            state,
            submitted_at: Some(now),
        });
        Ok(())
    }

    /// Sets whether the host considers the PR cleanly mergeable (`None`: not computed yet).
    pub fn set_mergeable(&self, number: u64, mergeable: Option<bool>) -> Result<()> {
        let mut st = lock(&self.state);
        let rec = st
            .prs
            .get_mut(&number)
            .ok_or_else(|| pr_not_found(number))?;
        rec.pr.mergeable = mergeable;
        Ok(())
    }

    /// Closes a PR without merging.
    pub fn close(&self, number: u64) -> Result<()> {
        let mut st = lock(&self.state);
        let rec = st
            .prs
            .get_mut(&number)
            .ok_or_else(|| pr_not_found(number))?;
        rec.pr.state = PrState::Closed;
        Ok(())
    }

    /// Adds a pull request already merged in the past (history), pointing at an existing
    /// merge commit; returns its number.
    pub fn add_merged_pull_request(&self, pr: &NewPullRequest, merge_commit: &Sha) -> u64 {
        let mut st = lock(&self.state);
        let number = st.next_pr;
        st.next_pr += 1;
        let user = st.user.clone();
        let pr = PullRequest {
            number,
            title: pr.title.clone(),
            body: pr.body.clone(),
            head: pr.head.clone(),
            head_sha: None,
            base: pr.base.clone(),
            state: PrState::Merged,
            merge_commit_sha: Some(merge_commit.clone()),
            mergeable: None,
            labels: Vec::new(),
            html_url: self.pr_url(number),
            author: Some(user),
        };
        st.prs.insert(
            number,
            PrRecord {
                pr,
                reviews: Vec::new(),
            },
        );
        number
    }

    /// Every merge made through the port, oldest first.
    pub fn merges(&self) -> Vec<MergeRecord> {
        lock(&self.state).merges.clone()
    }

    fn pr_url(&self, number: u64) -> String {
        format!("https://github.com/{}/pull/{number}", self.repo)
    }

    fn new_release(
        &self,
        st: &mut State,
        name: &str,
        tag_name: &str,
        body: &str,
        published_at: DateTime<Utc>,
    ) -> Release {
        st.next_release_id += 1;
        Release {
            id: st.next_release_id,
            name: name.to_string(),
            tag_name: tag_name.to_string(),
            body: body.to_string(),
            draft: false,
            prerelease: false,
            published_at: Some(published_at),
            html_url: format!("https://github.com/{}/releases/tag/{tag_name}", self.repo),
        }
    }

    fn refresh(&self, pr: &mut PullRequest) {
        if pr.state == PrState::Open {
            pr.head_sha = self.vcs.branch_tip(&pr.head);
        }
    }
}

#[async_trait]
impl CodeHost for SimCodeHost {
    async fn releases(&self) -> Result<Vec<Release>> {
        self.faults.check("code_host.releases")?;
        let mut all = lock(&self.state).releases.clone();
        all.sort_by_key(|r| std::cmp::Reverse((r.published_at, r.id)));
        Ok(all)
    }

    async fn create_release(&self, release: &NewRelease) -> Result<Release> {
        self.faults.act("code_host.create_release", || {
            if release.name.trim().is_empty() || release.tag_name.trim().is_empty() {
                return Err(Error::invalid_input(
                    "a release needs a name (e.g. RC 112) and a tag name",
                ));
            }
            let now = self.clock.now();
            if let Some(r) = lock(&self.state)
                .releases
                .iter()
                .find(|r| r.tag_name == release.tag_name)
            {
                return Err(Error::conflict(format!(
                    "tag {} already has a release ({}); pick another tag",
                    release.tag_name, r.name
                ))
                .with("tag", &release.tag_name));
            }
            if self.vcs.tag(&release.tag_name).is_none() {
                // The host creates the tag on the target, as GitHub does.
                self.vcs.add_tag(
                    &release.tag_name,
                    &release.target,
                    &format!("{} release", release.tag_name),
                    false,
                    true,
                )?;
            }
            let mut st = lock(&self.state);
            let created = self.new_release(
                &mut st,
                &release.name,
                &release.tag_name,
                &release.body,
                now,
            );
            st.releases.push(created.clone());
            st.created.push(CreatedRelease {
                request: release.clone(),
                release: created.clone(),
            });
            Ok(created)
        })
    }

    async fn ensure_label(&self, name: &str) -> Result<()> {
        self.faults.act("code_host.ensure_label", || {
            lock(&self.state).labels.insert(name.to_string());
            Ok(())
        })
    }

    async fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        self.faults.act("code_host.add_labels", || {
            let mut st = lock(&self.state);
            let rec = st
                .prs
                .get_mut(&number)
                .ok_or_else(|| pr_not_found(number))?;
            for l in labels {
                if !rec.pr.labels.contains(l) {
                    rec.pr.labels.push(l.clone());
                }
            }
            st.labels.extend(labels.iter().cloned());
            Ok(())
        })
    }

    async fn create_pull_request(&self, pr: &NewPullRequest) -> Result<PullRequest> {
        self.faults.act("code_host.create_pull_request", || {
            let head_sha = self.vcs.branch_tip(&pr.head).ok_or_else(|| {
                Error::invalid_input(format!(
                    "head branch {} does not exist on {}; push it first",
                    pr.head, self.repo
                ))
                .with("head", &pr.head)
            })?;
            if self.vcs.branch_tip(&pr.base).is_none() {
                return Err(Error::invalid_input(format!(
                    "base branch {} does not exist on {}",
                    pr.base, self.repo
                ))
                .with("base", &pr.base));
            }
            let mut st = lock(&self.state);
            if let Some(open) = st.prs.values().find(|r| {
                r.pr.state == PrState::Open && r.pr.head == pr.head && r.pr.base == pr.base
            }) {
                return Err(Error::conflict(format!(
                    "a pull request from {} into {} is already open: #{} {}",
                    pr.head, pr.base, open.pr.number, open.pr.html_url
                ))
                .with("pr", open.pr.number));
            }
            let number = st.next_pr;
            st.next_pr += 1;
            let created = PullRequest {
                number,
                title: pr.title.clone(),
                body: pr.body.clone(),
                head: pr.head.clone(),
                head_sha: Some(head_sha),
                base: pr.base.clone(),
                state: PrState::Open,
                merge_commit_sha: None,
                mergeable: Some(true),
                labels: Vec::new(),
                html_url: self.pr_url(number),
                author: Some(st.user.clone()),
            };
            st.prs.insert(
                number,
                PrRecord {
                    pr: created.clone(),
                    reviews: Vec::new(),
                },
            );
            Ok(created)
        })
    }

    async fn pull_request(&self, number: u64) -> Result<PullRequest> {
        self.faults.check("code_host.pull_request")?;
        let mut pr = lock(&self.state)
            .prs
            .get(&number)
            .map(|r| r.pr.clone())
            .ok_or_else(|| pr_not_found(number))?;
        self.refresh(&mut pr);
        Ok(pr)
    }

    async fn pull_requests(&self, query: &PullRequestQuery) -> Result<Vec<PullRequest>> {
        self.faults.check("code_host.pull_requests")?;
        let mut out: Vec<PullRequest> = lock(&self.state)
            .prs
            .values()
            .rev()
            .map(|r| r.pr.clone())
            .filter(|p| query.base.as_ref().is_none_or(|b| &p.base == b))
            .filter(|p| query.head.as_ref().is_none_or(|h| &p.head == h))
            .filter(|p| query.state.is_none_or(|s| p.state == s))
            .collect();
        for p in &mut out {
            self.refresh(p);
        }
        Ok(out)
    }

    async fn reviews(&self, number: u64) -> Result<Vec<Review>> {
        self.faults.check("code_host.reviews")?;
        lock(&self.state)
            .prs
            .get(&number)
            .map(|r| r.reviews.clone())
            .ok_or_else(|| pr_not_found(number))
    }

    async fn merge_pull_request(&self, number: u64, method: MergeMethod) -> Result<Sha> {
        self.faults.act("code_host.merge_pull_request", || {
            let mut st = lock(&self.state);
            let rec = st
                .prs
                .get_mut(&number)
                .ok_or_else(|| pr_not_found(number))?;
            let pr = &mut rec.pr;
            if pr.state != PrState::Open {
                return Err(Error::conflict(format!(
                    "pull request #{number} is {} and cannot be merged",
                    match pr.state {
                        PrState::Merged => "already merged",
                        _ => "closed",
                    }
                ))
                .with("pr", number));
            }
            if pr.mergeable == Some(false) {
                return Err(Error::conflict(format!(
                    "pull request #{number} has conflicts with {}; resolve them first",
                    pr.base
                ))
                .with("pr", number));
            }
            let base_tip = self.vcs.rev(&pr.base)?;
            let head_tip = self.vcs.rev(&pr.head)?;
            let files = self.vcs.files_at(head_tip.as_str())?;
            let sha = match method {
                MergeMethod::Merge => self.vcs.create_commit(
                    &[base_tip, head_tip],
                    &format!("Merge pull request #{number} from {}", pr.head),
                    &pr.title,
                    files,
                )?,
                MergeMethod::Squash | MergeMethod::Rebase => self.vcs.create_commit(
                    &[base_tip],
                    &format!("{} (#{number})", pr.title),
                    &pr.body,
                    files,
                )?,
            };
            self.vcs.branch(&pr.base, &sha);
            pr.state = PrState::Merged;
            pr.merge_commit_sha = Some(sha.clone());
            st.merges.push(MergeRecord {
                number,
                method,
                sha: sha.clone(),
            });
            Ok(sha)
        })
    }
}
