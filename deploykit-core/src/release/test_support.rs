//! Mocks and builders shared by the release workflow tests. A mock without an expectation
//! for a write panics when the write is called, which is how "no write" is asserted.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::events::{Event, RecordingSink};
use crate::model::{AppSettings, Sha};
use crate::ports::{
    Clock, Commit, MockCodeHost, MockDeployStatusSource, MockNotifier, MockVcs, PrState,
    PullRequest, Release,
};
use crate::release::ReleaseContext;

/// A clock stopped at one instant.
#[derive(Debug)]
pub struct FixedClock(pub DateTime<Utc>);

#[async_trait]
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
    async fn sleep(&self, _duration: Duration) {}
}

/// Every port as a mock, plus settings and a recording sink.
#[derive(Debug)]
pub struct Ports {
    pub vcs: MockVcs,
    pub host: MockCodeHost,
    pub status: MockDeployStatusSource,
    pub notifier: MockNotifier,
    pub clock: FixedClock,
    pub events: RecordingSink,
    pub settings: AppSettings,
}

impl Ports {
    pub fn new(settings: AppSettings) -> Self {
        Ports {
            vcs: MockVcs::new(),
            host: MockCodeHost::new(),
            status: MockDeployStatusSource::new(),
            notifier: MockNotifier::new(),
            clock: FixedClock(at(2024, 1, 9, 18, 1, 2)),
            events: RecordingSink::default(),
            settings,
        }
    }

    pub fn ctx(&self) -> ReleaseContext<'_> {
        ReleaseContext {
            vcs: &self.vcs,
            code_host: &self.host,
            deploy_status: &self.status,
            notifier: &self.notifier,
            clock: &self.clock,
            events: &self.events,
            settings: &self.settings,
        }
    }

    /// The `Action` events: (description, dry_run).
    pub fn actions(&self) -> Vec<(String, bool)> {
        self.events
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Action {
                    description,
                    dry_run,
                    ..
                } => Some((description, dry_run)),
                _ => None,
            })
            .collect()
    }
}

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid time")
}

/// A full SHA made of one repeated hex digit.
pub fn sha(digit: char) -> Sha {
    Sha::new(digit.to_string().repeat(40)).expect("sha")
}

pub fn release(name: &str, draft: bool, prerelease: bool) -> Release {
    Release {
        id: 1,
        name: name.into(),
        tag_name: "2024-01-01T000000".into(),
        body: String::new(),
        draft,
        prerelease,
        published_at: None,
        html_url: format!("https://github.com/18F/identity-idp/releases/{name}"),
    }
}

pub fn pull_request(number: u64, title: &str, head: &str, state: PrState) -> PullRequest {
    PullRequest {
        number,
        title: title.into(),
        body: "## Internal\n- Code: Change".into(),
        head: head.into(),
        head_sha: None,
        base: "stages/prod".into(),
        state,
        merge_commit_sha: (state == PrState::Merged).then(|| sha('e')),
        mergeable: None,
        labels: vec!["status - promotion".into()],
        html_url: format!("https://github.com/18F/identity-idp/pull/{number}"),
        author: None,
    }
}

pub fn commit(title: &str, body: &str) -> Commit {
    Commit {
        sha: sha('c'),
        title: title.into(),
        body: body.into(),
    }
}
