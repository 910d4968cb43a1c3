//! Shared set-up of the deploy tests: Login.gov's simulated world with an approved promotion
//! PR for RC 112, the ports wired to it, and a journal that "kills" the run after N records.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use deploykit_core::deploy::state::StepRecord;
use deploykit_core::deploy::{
    DeployOutcome, DeployPorts, DeployRequest, EnvSettings, FinalStatus, Journal, MemoryJournal,
    Record, RollbackRequest, RunId, deploy, resume,
};
use deploykit_core::fleet_ops::{FleetContext, RecycleRequest, recycle};
use deploykit_core::model::fleet::GroupName;
use deploykit_core::ports::{CodeHost, LockHolder, MergeMethod, NewPullRequest};
use deploykit_core::sim::{FleetEventKind, OnMerge, ReleasingCodeHost, SimFleet, World};
use deploykit_core::{
    AppName, AppSettings, DeployKind, EnvName, Error, NullSink, Result, RoleName, Sha,
};

/// A journal that fails every append after the first `n` (the process "dies" there).
#[derive(Debug)]
pub struct KillAfter<J = MemoryJournal> {
    pub inner: Arc<J>,
    left: AtomicUsize,
}

impl<J> KillAfter<J> {
    pub fn new(inner: Arc<J>, n: usize) -> Self {
        KillAfter {
            inner,
            left: AtomicUsize::new(n),
        }
    }
}

impl<J: Journal> Journal for KillAfter<J> {
    fn append(&self, run: &RunId, record: &Record) -> Result<()> {
        let left = self.left.load(Ordering::SeqCst);
        if left == 0 {
            return Err(Error::interrupted("killed by the test before this record"));
        }
        self.left.store(left - 1, Ordering::SeqCst);
        self.inner.append(run, record)
    }
    fn load(&self, run: &RunId) -> Result<Vec<Record>> {
        self.inner.load(run)
    }
    fn runs(&self) -> Result<Vec<RunId>> {
        self.inner.runs()
    }
}

/// The rig: a world, its ports, prod settings and RC 112's approved promotion PR.
pub struct Rig {
    pub world: World,
    pub ports: DeployPorts,
    pub settings: EnvSettings,
    pub env: EnvName,
    pub app: AppSettings,
    pub pr: u64,
    pub linked: Arc<ReleasingCodeHost>,
}

/// The reason of a stop (panics on any other ending).
pub fn stopped_reason(status: &FinalStatus) -> String {
    match status {
        FinalStatus::Stopped { reason, .. } => reason.clone(),
        other => panic!("expected a stop, got {other:?}"),
    }
}

/// What kind of refusal stopped a run (what the CLI's exit code follows); panics on any other
/// ending.
pub fn refused_as(status: &FinalStatus) -> Option<deploykit_core::ErrorKind> {
    match status {
        FinalStatus::Stopped { refused_as, .. } => *refused_as,
        other => panic!("expected a stop, got {other:?}"),
    }
}

/// The reason of a rollback (panics on any other ending).
pub fn rolled_back_reason(status: &FinalStatus) -> String {
    match status {
        FinalStatus::RolledBack { reason } => reason.clone(),
        other => panic!("expected a rollback, got {other:?}"),
    }
}

/// The first (in these tests, the only) run of a journal.
/// The record of step `name` in `out`; panics when the run did not run it.
pub fn step<'o>(out: &'o DeployOutcome, name: &str) -> &'o StepRecord {
    out.steps
        .iter()
        .find(|s| s.step.as_str() == name)
        .unwrap_or_else(|| panic!("no {name} step in {:?}", out.steps))
}

pub fn first_run(journal: &dyn Journal) -> RunId {
    journal.runs().expect("runs").remove(0)
}

pub fn idp() -> AppName {
    AppName::new("idp").expect("app")
}

pub fn group(env: &EnvName, role: &str) -> GroupName {
    GroupName::new(env, &RoleName::new(role).expect("role"))
}

impl Rig {
    /// Login.gov on Tuesday 2026-11-24 15:00 UTC, with `Deploy RC 112 to Production` open
    /// from `main`'s tip and approved.
    pub async fn prod() -> Rig {
        Self::in_env("prod").await
    }

    pub async fn in_env(env: &str) -> Rig {
        let world = World::login_gov();
        let env = EnvName::new(env).expect("env");
        let app = AppSettings::idp();
        let vcs = world.sim_vcs(&idp()).expect("vcs");
        let main = vcs.rev("main").expect("main");
        vcs.branch("stages/rc-2026-11-24", &main);
        let host = world.sim_code_host(&idp()).expect("host");
        let pr = host
            .create_pull_request(&NewPullRequest {
                title: "Deploy RC 112 to Production".into(),
                head: "stages/rc-2026-11-24".into(),
                base: "stages/prod".into(),
                body: "## Bug Fixes\n- Identity verification: Retry a failed address check once"
                    .into(),
            })
            .await
            .expect("pr")
            .number;
        host.approve(pr, "reviewer").expect("approve");
        let linked = Arc::new(ReleasingCodeHost::new(
            world.code_host(&idp()).expect("host"),
            world.clone(),
            env.clone(),
            "gitsha:idp",
        ));
        let ports = world.deploy_ports(&idp(), linked.clone()).expect("ports");
        world.sim_fleet().mark_capacity_baseline();
        Rig {
            settings: EnvSettings::for_env(&env),
            world,
            ports,
            env,
            app,
            pr,
            linked,
        }
    }

    /// Runs `f` on the world when the promotion PR is merged (e.g. make the new SHA bad).
    pub fn on_merge(&self, f: OnMerge) {
        self.linked.on_merge(f);
    }

    pub fn request(&self, kind: DeployKind) -> DeployRequest {
        let mut r = DeployRequest::new(self.env.clone(), self.app.clone(), kind, "alice");
        if kind.ships_code() {
            r.pr_number = Some(self.pr);
        }
        if kind == DeployKind::OffCycle || kind == DeployKind::Patch {
            r.reason = Some("urgent fix for the address check".into());
        }
        r.yes = true;
        r
    }

    pub fn fleet(&self) -> &Arc<SimFleet> {
        self.world.sim_fleet()
    }

    pub fn group(&self, role: &str) -> GroupName {
        group(&self.env, role)
    }

    /// Running instances of a group and the SHAs they run.
    pub fn running(&self, role: &str) -> Vec<(String, Sha)> {
        let g = self
            .fleet()
            .group_snapshot(&self.group(role))
            .expect("group");
        g.running_instances()
            .map(|i| (i.id.to_string(), i.deployed_sha().expect("sha")))
            .collect()
    }

    /// How many instances were ever launched in a group (after the world was built).
    pub fn launched(&self, role: &str) -> usize {
        let g = self.group(role);
        self.fleet()
            .history()
            .iter()
            .filter(|e| e.group == g && matches!(e.kind, FleetEventKind::Launched { .. }))
            .count()
    }

    pub fn merges(&self) -> usize {
        self.world
            .sim_code_host(&idp())
            .expect("host")
            .merges()
            .len()
    }

    pub fn releases_created(&self) -> Vec<String> {
        self.world
            .sim_code_host(&idp())
            .expect("host")
            .created_releases()
            .iter()
            .map(|r| r.release.name.clone())
            .collect()
    }

    pub fn announcements(&self) -> Vec<&'static str> {
        self.world.recording_notifier().sent_kinds()
    }

    /// Deploys `req` with a journal of its own, events dropped; panics if the run halts.
    pub async fn deploy(&self, req: &DeployRequest) -> DeployOutcome {
        self.deploy_with(&MemoryJournal::new(), req)
            .await
            .expect("deploy")
    }

    /// Deploys `req` recording in `journal`, events dropped; Err when the run halts.
    pub async fn deploy_with(
        &self,
        journal: &dyn Journal,
        req: &DeployRequest,
    ) -> Result<DeployOutcome> {
        deploy(&self.ports, &self.settings, journal, &NullSink, req).await
    }

    /// Deploys a full release recording in `journal`; panics unless it ends deployed.
    pub async fn deployed_in(&self, journal: &dyn Journal) -> DeployOutcome {
        let out = self
            .deploy_with(journal, &self.request(DeployKind::Full))
            .await
            .expect("deploy");
        assert_eq!(out.status, FinalStatus::Deployed, "{out:#?}");
        out
    }

    /// Deploys a full release recording in `journal`, which must halt at `step` with the
    /// command that resumes it; the error.
    pub async fn halts_at(&self, journal: &dyn Journal, step: &str) -> Error {
        let err = self
            .deploy_with(journal, &self.request(DeployKind::Full))
            .await
            .expect_err("the run halts");
        assert_eq!(err.context_value("step"), Some(step), "{err}");
        assert!(err.to_string().contains("deploykit resume"), "{err}");
        err
    }

    /// Deploys a full release whose process is killed after `records` journal records; the
    /// journal it left.
    pub async fn killed_after(&self, records: usize) -> Arc<MemoryJournal> {
        let journal = Arc::new(MemoryJournal::new());
        self.deploy_with(
            &KillAfter::new(journal.clone(), records),
            &self.request(DeployKind::Full),
        )
        .await
        .expect_err("killed");
        journal
    }

    /// Resumes the first run recorded in `journal`, events dropped; Err when it halts again.
    pub async fn resume(&self, journal: &dyn Journal) -> Result<DeployOutcome> {
        resume(
            &self.ports,
            &self.settings,
            journal,
            &NullSink,
            &first_run(journal),
        )
        .await
    }

    /// Who holds the deploy lock of idp in this environment.
    pub async fn lock_holder(&self) -> Option<LockHolder> {
        self.ports
            .lock
            .holder(&self.env, &self.app.name)
            .await
            .expect("holder")
    }

    /// Whether nobody holds the deploy lock.
    pub async fn lock_free(&self) -> bool {
        self.lock_holder().await.is_none()
    }

    /// Someone merges the promotion PR and recycles idp by hand; ten minutes pass.
    pub async fn merge_and_recycle_by_hand(&self) {
        self.linked
            .merge_pull_request(self.pr, MergeMethod::Merge)
            .await
            .expect("merge");
        let ctx = FleetContext {
            fleet: self.ports.fleet.as_ref(),
            clock: self.ports.clock.as_ref(),
            events: &NullSink,
        };
        recycle(
            &ctx,
            &RecycleRequest::new(self.env.clone(), "idp".parse().expect("role")),
        )
        .await
        .expect("recycle");
        self.world
            .virtual_clock()
            .advance(Duration::from_secs(10 * 60));
    }

    /// `rollback prod idp` of the promotion PR by alice.
    pub fn rollback_request(&self, reason: &str) -> RollbackRequest {
        RollbackRequest {
            env: self.env.clone(),
            app: self.app.clone(),
            reason: reason.into(),
            pr_number: Some(self.pr),
            operator: "alice".into(),
        }
    }

    /// How many revert PRs were opened.
    pub async fn revert_prs(&self) -> usize {
        self.world
            .sim_code_host(&idp())
            .expect("host")
            .pull_requests(&Default::default())
            .await
            .expect("prs")
            .iter()
            .filter(|p| p.head.starts_with("revert-"))
            .count()
    }

    /// Healthy in-service capacity never went below `idp` and `worker` instances.
    pub fn assert_capacity_kept(&self, idp: u32, worker: u32) {
        for (role, floor) in [("idp", idp), ("worker", worker)] {
            let min = self.fleet().min_healthy_in_service(&self.group(role));
            assert!(
                min >= floor,
                "{role} healthy capacity dropped to {min} (below {floor})"
            );
        }
    }
}
