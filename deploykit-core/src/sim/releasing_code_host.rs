//! A code host whose merges into the production branch become what new instances run, as
//! in Login.gov, where instances boot the tip of `stages/prod`.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::Result;
use crate::model::names::EnvName;
use crate::model::sha::Sha;
use crate::ports::code_host::PrState;
use crate::ports::{
    CodeHost, MergeMethod, NewPullRequest, NewRelease, PullRequest, PullRequestQuery, Release,
    Review,
};
use crate::sim::World;

/// What else happens in the world when a PR is merged (e.g. the new SHA misbehaves).
pub type OnMerge = Box<dyn Fn(&World, &Sha) + Send + Sync>;

/// Wraps a world's code host: after a merge, instances of `app_tag` (e.g. `gitsha:idp`) that
/// launch in `env` carry the merge commit, and the `on_merge` hook runs.
pub struct ReleasingCodeHost {
    inner: Arc<dyn CodeHost>,
    world: World,
    env: EnvName,
    app_tag: String,
    on_merge: Mutex<Option<OnMerge>>,
    released: Mutex<Option<Sha>>,
}

impl fmt::Debug for ReleasingCodeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleasingCodeHost")
            .field("env", &self.env)
            .field("app_tag", &self.app_tag)
            .finish_non_exhaustive()
    }
}

impl ReleasingCodeHost {
    /// Wraps `inner` (a code host of `world`) for deploys of `app_tag` instances to `env`.
    pub fn new(inner: Arc<dyn CodeHost>, world: World, env: EnvName, app_tag: &str) -> Self {
        ReleasingCodeHost {
            inner,
            world,
            env,
            app_tag: app_tag.to_string(),
            on_merge: Mutex::new(None),
            released: Mutex::new(None),
        }
    }

    /// New instances now boot `sha`, and the `on_merge` hook runs, once per merge commit.
    fn released(&self, sha: &Sha) {
        if let Ok(mut last) = self.released.lock() {
            if last.as_ref() == Some(sha) {
                return;
            }
            *last = Some(sha.clone());
        }
        self.world
            .sim_fleet()
            .set_app_release_sha(&self.env, &self.app_tag, sha);
        if let Ok(hook) = self.on_merge.lock()
            && let Some(f) = hook.as_ref()
        {
            f(&self.world, sha);
        }
    }

    /// Runs `hook` on the world after every merge (replacing an earlier hook).
    pub fn on_merge(&self, hook: OnMerge) {
        if let Ok(mut slot) = self.on_merge.lock() {
            *slot = Some(hook);
        }
    }
}

#[async_trait]
impl CodeHost for ReleasingCodeHost {
    async fn releases(&self) -> Result<Vec<Release>> {
        self.inner.releases().await
    }
    async fn create_release(&self, release: &NewRelease) -> Result<Release> {
        self.inner.create_release(release).await
    }
    async fn ensure_label(&self, name: &str) -> Result<()> {
        self.inner.ensure_label(name).await
    }
    async fn add_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        self.inner.add_labels(number, labels).await
    }
    async fn create_pull_request(&self, pr: &NewPullRequest) -> Result<PullRequest> {
        self.inner.create_pull_request(pr).await
    }
    async fn pull_request(&self, number: u64) -> Result<PullRequest> {
        self.inner.pull_request(number).await
    }
    async fn pull_requests(&self, query: &PullRequestQuery) -> Result<Vec<PullRequest>> {
        self.inner.pull_requests(query).await
    }
    async fn reviews(&self, number: u64) -> Result<Vec<Review>> {
        self.inner.reviews(number).await
    }
    async fn merge_pull_request(&self, number: u64, method: MergeMethod) -> Result<Sha> {
        match self.inner.merge_pull_request(number, method).await {
            Ok(sha) => {
                self.released(&sha);
                Ok(sha)
            }
            Err(e) => {
                // The merge may have happened with only its reply lost: the world follows the
                // PR, not the reply.
                if let Ok(pr) = self.inner.pull_request(number).await
                    && pr.state == PrState::Merged
                    && let Some(sha) = pr.merge_commit_sha
                {
                    self.released(&sha);
                }
                Err(e)
            }
        }
    }
}
