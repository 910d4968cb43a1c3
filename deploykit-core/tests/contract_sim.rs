//! Every contract suite run against the fakes of the simulated world, and proof that the
//! suites bite: deliberately broken fakes fail them.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deploykit_core::contract::{self, fleet::FleetCapabilities, fleet::FleetHarness};
use deploykit_core::ports::{Clock, Fleet};
use deploykit_core::sim::{Faults, GroupSpec, SimFleet, SimFleetConfig, VirtualClock};
use deploykit_core::{
    CapacityChange, EnvName, Group, GroupName, InstanceId, Result, ScheduledAction, Sha,
    TargetHealth,
};

fn start() -> DateTime<Utc> {
    "2026-11-24T15:00:00Z".parse().expect("time")
}

fn sha(s: &str) -> Sha {
    Sha::new(s).expect("sha")
}

struct SimHarness {
    clock: Arc<VirtualClock>,
    sim: Arc<SimFleet>,
    fleet: Arc<dyn Fleet>,
}

fn sim_parts() -> (Arc<VirtualClock>, Arc<SimFleet>) {
    let clock = Arc::new(VirtualClock::new(start()));
    let faults = Arc::new(Faults::new());
    let sim = Arc::new(SimFleet::new(
        clock.clone(),
        faults,
        SimFleetConfig::default(),
    ));
    (clock, sim)
}

fn harness() -> SimHarness {
    let (clock, sim) = sim_parts();
    SimHarness {
        clock,
        fleet: sim.clone(),
        sim,
    }
}

#[async_trait]
impl FleetHarness for SimHarness {
    fn fleet(&self) -> &dyn Fleet {
        &*self.fleet
    }
    fn env(&self) -> EnvName {
        EnvName::new("contract").expect("env")
    }
    fn other_env(&self) -> EnvName {
        EnvName::new("contract-other").expect("env")
    }
    async fn create_group(
        &self,
        name: &GroupName,
        desired: u32,
    ) -> std::result::Result<(), String> {
        self.sim.add_group(GroupSpec::simple(
            name.clone(),
            desired,
            sha("1234567890abcdef"),
        ));
        Ok(())
    }
    async fn advance(&self, by: Duration) {
        self.clock.sleep(by).await;
    }
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
    fn capabilities(&self) -> FleetCapabilities {
        FleetCapabilities::all()
    }
}

macro_rules! fleet_contract {
    ($($f:ident),* $(,)?) => {
        mod fleet_contract {
            use super::*;
            $(
                #[tokio::test]
                async fn $f() {
                    let h = harness();
                    assert_eq!(contract::fleet::$f(&h).await, Ok(()));
                }
            )*
        }
    };
}

fleet_contract!(
    groups_sorted_and_filtered_by_env,
    unknown_group_is_not_found,
    capacity_is_validated,
    raise_desired_launches,
    lower_desired_spares_protected,
    lower_desired_terminates_oldest_first,
    protection_set_and_cleared,
    clearing_protection_scales_in,
    scheduled_actions_put_replace_delete,
    scheduled_action_fires,
    load_balancer_health_listed,
    all,
);

/// A fleet with two classic bugs: it clears scale-in protection before lowering desired
/// (so protected instances die), and it stores scheduled actions but never fires them.
#[derive(Debug)]
struct BrokenFleet {
    inner: Arc<SimFleet>,
    actions: Mutex<BTreeMap<GroupName, Vec<ScheduledAction>>>,
}

#[async_trait]
impl Fleet for BrokenFleet {
    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
        let mut groups = self.inner.groups(env).await?;
        for g in &mut groups {
            g.scheduled_actions = self.stored(&g.name);
        }
        Ok(groups)
    }
    async fn group(&self, name: &GroupName) -> Result<Group> {
        let mut g = self.inner.group(name).await?;
        g.scheduled_actions = self.stored(name);
        Ok(g)
    }
    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()> {
        let g = self.inner.group(group).await?;
        let protected: Vec<InstanceId> = g
            .instances
            .iter()
            .filter(|i| i.protected_from_scale_in)
            .map(|i| i.id.clone())
            .collect();
        self.inner
            .set_scale_in_protection(group, &protected, false)
            .await?;
        self.inner.set_capacity(group, change).await?;
        let left: Vec<InstanceId> = self
            .inner
            .group(group)
            .await?
            .instances
            .iter()
            .filter(|i| protected.contains(&i.id))
            .map(|i| i.id.clone())
            .collect();
        self.inner.set_scale_in_protection(group, &left, true).await
    }
    async fn put_scheduled_action(
        &self,
        group: &GroupName,
        action: &ScheduledAction,
    ) -> Result<()> {
        self.inner.group(group).await?;
        let mut all = self.actions.lock().expect("lock");
        let list = all.entry(group.clone()).or_default();
        list.retain(|a| a.name != action.name);
        list.push(action.clone());
        Ok(())
    }
    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()> {
        let mut all = self.actions.lock().expect("lock");
        let list = all.entry(group.clone()).or_default();
        let before = list.len();
        list.retain(|a| a.name != name);
        if list.len() == before {
            return Err(deploykit_core::Error::not_found(format!(
                "no action {name}"
            )));
        }
        Ok(())
    }
    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()> {
        self.inner
            .set_scale_in_protection(group, instances, protected)
            .await
    }
    async fn load_balancer_health(&self, group: &GroupName) -> Result<Vec<TargetHealth>> {
        self.inner.load_balancer_health(group).await
    }
}

impl BrokenFleet {
    fn stored(&self, group: &GroupName) -> Vec<ScheduledAction> {
        self.actions
            .lock()
            .expect("lock")
            .get(group)
            .cloned()
            .unwrap_or_default()
    }
}

fn broken_harness() -> SimHarness {
    let (clock, sim) = sim_parts();
    SimHarness {
        clock,
        fleet: Arc::new(BrokenFleet {
            inner: sim.clone(),
            actions: Mutex::new(BTreeMap::new()),
        }),
        sim,
    }
}

#[tokio::test]
async fn the_fleet_contract_catches_a_fleet_that_ignores_protection() {
    let h = broken_harness();
    let err = contract::fleet::lower_desired_spares_protected(&h)
        .await
        .expect_err("a fleet that kills protected instances must fail");
    assert!(err.contains("protected"), "{err}");
    let err = contract::fleet::lower_desired_terminates_oldest_first(&h)
        .await
        .expect_err("ignoring protection also breaks oldest-first with a protected oldest");
    assert!(err.contains("oldest"), "{err}");
}

#[tokio::test]
async fn the_fleet_contract_catches_a_fleet_that_never_fires_actions() {
    let h = broken_harness();
    // Storing, replacing and deleting work, so that check passes ...
    assert_eq!(
        contract::fleet::scheduled_actions_put_replace_delete(&h).await,
        Ok(())
    );
    // ... but firing does not.
    let err = contract::fleet::scheduled_action_fires(&h)
        .await
        .expect_err("a fleet that never fires actions must fail");
    assert!(err.contains("desired 4"), "{err}");
    assert!(contract::fleet::all(&h).await.is_err());
}

// ---- LogSource -------------------------------------------------------------------------

mod log_contract {
    use super::*;
    use deploykit_core::RoleName;
    use deploykit_core::contract::log_source::LogHarness;
    use deploykit_core::ports::LogSource;
    use deploykit_core::sim::ScriptedLogs;

    struct LogsHarness {
        clock: Arc<VirtualClock>,
        sim: Arc<SimFleet>,
        logs: ScriptedLogs,
        group: GroupName,
    }

    fn logs_harness() -> LogsHarness {
        let (clock, sim) = sim_parts();
        let group = GroupName::new(&EnvName::new("prod").expect("env"), &RoleName::migration());
        let mut spec = GroupSpec::simple(group.clone(), 0, sha("abcdef12"));
        spec.load_balanced = false;
        sim.add_group(spec);
        let logs = ScriptedLogs::new(sim.clone(), clock.clone(), Arc::new(Faults::new()));
        LogsHarness {
            clock,
            sim,
            logs,
            group,
        }
    }

    #[async_trait]
    impl LogHarness for LogsHarness {
        fn source(&self) -> &dyn LogSource {
            &self.logs
        }
        async fn instance_with_log(&self) -> std::result::Result<InstanceId, String> {
            self.sim
                .set_capacity(&self.group, CapacityChange::desired(1))
                .await
                .map_err(|e| e.to_string())?;
            let g = self
                .sim
                .group_snapshot(&self.group)
                .map_err(|e| e.to_string())?;
            g.instances
                .first()
                .map(|i| i.id.clone())
                .ok_or_else(|| "no instance launched".to_string())
        }
        fn unknown_instance(&self) -> InstanceId {
            InstanceId::new("i-0fedcba9876543210").expect("id")
        }
        async fn advance(&self, by: Duration) {
            self.clock.sleep(by).await;
        }
    }

    #[tokio::test]
    async fn incremental_reads_lose_and_repeat_nothing() {
        let h = logs_harness();
        assert_eq!(
            contract::log_source::incremental_reads_lose_and_repeat_nothing(&h).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn unknown_instance_is_empty() {
        assert_eq!(
            contract::log_source::unknown_instance_is_empty(&logs_harness()).await,
            Ok(())
        );
    }

    /// A log source that re-reads from the start every time (ignores the cursor).
    #[derive(Debug)]
    struct RepeatingLogs(ScriptedLogs);

    #[async_trait]
    impl LogSource for RepeatingLogs {
        async fn read_log(
            &self,
            instance: &InstanceId,
            _cursor: Option<String>,
        ) -> Result<deploykit_core::ports::LogChunk> {
            self.0.read_log(instance, None).await
        }
    }

    struct RepeatingHarness(LogsHarness, RepeatingLogs);

    #[async_trait]
    impl LogHarness for RepeatingHarness {
        fn source(&self) -> &dyn LogSource {
            &self.1
        }
        async fn instance_with_log(&self) -> std::result::Result<InstanceId, String> {
            self.0.instance_with_log().await
        }
        fn unknown_instance(&self) -> InstanceId {
            self.0.unknown_instance()
        }
        async fn advance(&self, by: Duration) {
            self.0.advance(by).await
        }
    }

    #[tokio::test]
    async fn the_log_contract_catches_a_source_that_repeats_lines() {
        let inner = logs_harness();
        let logs = ScriptedLogs::new(
            inner.sim.clone(),
            inner.clock.clone(),
            Arc::new(Faults::new()),
        );
        let h = RepeatingHarness(inner, RepeatingLogs(logs));
        let err = contract::log_source::incremental_reads_lose_and_repeat_nothing(&h)
            .await
            .expect_err("repeating lines must fail");
        assert!(err.contains("no line lost or repeated"), "{err}");
    }
}

// ---- Vcs -------------------------------------------------------------------------------

mod vcs_contract {
    use super::*;
    use deploykit_core::contract::vcs::VcsHarness;
    use deploykit_core::ports::Vcs;
    use deploykit_core::sim::SimVcs;

    struct Repo(Arc<SimVcs>);

    fn repo() -> Repo {
        Repo(Arc::new(SimVcs::new(
            "git@github.com:18F/identity-idp.git",
            Arc::new(Faults::new()),
        )))
    }

    #[async_trait]
    impl VcsHarness for Repo {
        fn vcs(&self) -> &dyn Vcs {
            &*self.0
        }
        async fn commit(
            &self,
            branch: &str,
            title: &str,
            body: &str,
            files: &[(&str, &str)],
        ) -> std::result::Result<Sha, String> {
            Ok(self.0.commit(branch, title, body, files))
        }
        async fn branch(&self, branch: &str, sha: &Sha) -> std::result::Result<(), String> {
            self.0.branch(branch, sha);
            Ok(())
        }
        async fn merge(
            &self,
            branch: &str,
            theirs: &Sha,
            title: &str,
        ) -> std::result::Result<Sha, String> {
            self.0
                .merge_into(branch, theirs, title, "")
                .map_err(|e| e.to_string())
        }
    }

    macro_rules! vcs_contract {
        ($($f:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $f() {
                    assert_eq!(contract::vcs::$f(&repo()).await, Ok(()));
                }
            )*
        };
    }

    vcs_contract!(
        resolve_revisions,
        commits_between_newest_first,
        files_changed_sorted,
        push_fast_forward_and_force,
        merge_ours_keeps_our_tree,
        revert_merge_restores_first_parent,
        tags_created_and_pushed,
        all,
    );

    #[tokio::test]
    async fn signed_tags_and_pushes_are_recorded() {
        let r = repo();
        let a = r.0.commit("main", "A", "", &[("a", "1")]);
        r.0.create_tag("2026-11-24T150000", &a, "2026-11-24T150000 release", true)
            .await
            .expect("tag");
        r.0.push_tag("origin", "2026-11-24T150000")
            .await
            .expect("push");
        let tag = r.0.tag("2026-11-24T150000").expect("tag exists");
        assert!(tag.signed && tag.pushed);
        assert_eq!(tag.message, "2026-11-24T150000 release");
        r.0.push("origin", &a, "stages/prod", false)
            .await
            .expect("push");
        assert_eq!(r.0.pushes(), vec![("stages/prod".to_string(), a, false)]);
    }
}

// ---- CodeHost --------------------------------------------------------------------------

mod code_host_contract {
    use super::*;
    use deploykit_core::contract::code_host::CodeHostHarness;
    use deploykit_core::ports::{CodeHost, MergeMethod};
    use deploykit_core::sim::{SimCodeHost, SimVcs};

    struct Host(Arc<SimCodeHost>);

    fn host() -> Host {
        let faults = Arc::new(Faults::new());
        let vcs = Arc::new(SimVcs::new(
            "git@github.com:18F/identity-idp.git",
            faults.clone(),
        ));
        let clock = Arc::new(VirtualClock::new(start()));
        Host(Arc::new(SimCodeHost::new(
            "18F/identity-idp",
            vcs,
            clock,
            faults,
        )))
    }

    #[async_trait]
    impl CodeHostHarness for Host {
        fn host(&self) -> &dyn CodeHost {
            &*self.0
        }
        async fn branches(&self, base: &str, head: &str) -> std::result::Result<Sha, String> {
            let vcs = self.0.vcs();
            let base_tip = match vcs.branch_tip(base) {
                Some(t) => t,
                None => vcs.commit(base, "Base", "", &[("README.md", "base")]),
            };
            vcs.branch(head, &base_tip);
            Ok(vcs.commit(head, &format!("Work on {head}"), "", &[(head, "new")]))
        }
        async fn approve(&self, number: u64, user: &str) -> std::result::Result<(), String> {
            self.0.approve(number, user).map_err(|e| e.to_string())
        }
        async fn merge_method_used(&self, number: u64) -> Option<MergeMethod> {
            self.0
                .merges()
                .into_iter()
                .find(|m| m.number == number)
                .map(|m| m.method)
        }
    }

    macro_rules! code_host_contract {
        ($($f:ident),* $(,)?) => {
            $(
                #[tokio::test]
                async fn $f() {
                    assert_eq!(contract::code_host::$f(&host()).await, Ok(()));
                }
            )*
        };
    }

    code_host_contract!(
        releases_newest_first_across_pages,
        create_release_publishes,
        labels_are_idempotent,
        pull_requests_create_get_list,
        reviews_listed,
        merge_uses_the_method_once,
        all,
    );

    #[tokio::test]
    async fn a_merge_creates_the_merge_commit_on_the_base_branch() {
        let h = host();
        let head = h
            .branches("stages/prod", "stages/rc-2026-11-24")
            .await
            .expect("branches");
        let base_before = h.0.vcs().branch_tip("stages/prod").expect("base");
        let pr =
            h.0.create_pull_request(&deploykit_core::ports::NewPullRequest {
                title: "Deploy RC 112 to Production".into(),
                head: "stages/rc-2026-11-24".into(),
                base: "stages/prod".into(),
                body: "changelog".into(),
            })
            .await
            .expect("pr");
        let sha =
            h.0.merge_pull_request(pr.number, MergeMethod::Merge)
                .await
                .expect("merge");
        let commit = h.0.vcs().commit_info(sha.as_str()).expect("commit");
        assert_eq!(commit.parents, vec![base_before, head.clone()]);
        assert_eq!(
            commit.files,
            h.0.vcs().files_at(head.as_str()).expect("files")
        );
        assert_eq!(h.0.vcs().branch_tip("stages/prod"), Some(sha));
        let release =
            h.0.create_release(&deploykit_core::ports::NewRelease {
                name: "RC 112".into(),
                tag_name: "2026-11-24T180102".into(),
                target: head,
                body: "notes".into(),
                make_latest: true,
            })
            .await
            .expect("release");
        assert_eq!(
            release.html_url,
            "https://github.com/18F/identity-idp/releases/tag/2026-11-24T180102"
        );
        assert!(h.0.created_releases()[0].request.make_latest);
    }
}

// ---- DeployLock and Notifier ----------------------------------------------------------

mod lock_and_notifier_contract {
    use super::*;
    use deploykit_core::sim::{MemoryLock, RecordingNotifier};

    fn lock() -> (Arc<VirtualClock>, MemoryLock) {
        let clock = Arc::new(VirtualClock::new(start()));
        (
            clock.clone(),
            MemoryLock::new(clock, Arc::new(Faults::new())),
        )
    }

    #[tokio::test]
    async fn lock_is_exclusive() {
        let (clock, l) = lock();
        assert_eq!(
            contract::deploy_lock::lock_is_exclusive(&l, clock.now()).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn release_frees_the_lock() {
        let (clock, l) = lock();
        assert_eq!(
            contract::deploy_lock::release_frees_the_lock(&l, clock.now()).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn renew_extends_only_the_holder_s_lock() {
        let (clock, l) = lock();
        assert_eq!(
            contract::deploy_lock::renew_extends_only_the_holder_s_lock(&l, clock.now()).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn expired_lock_is_taken_over() {
        let (clock, l) = lock();
        assert_eq!(
            contract::deploy_lock::expired_lock_is_taken_over(&l, clock.now()).await,
            Ok(())
        );
        assert_eq!(
            contract::deploy_lock::all(&lock().1, clock.now()).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn the_lock_conflict_says_since_when() {
        use deploykit_core::ports::{DeployLock, LockHolder};
        let (clock, l) = lock();
        let h = |owner: &str| LockHolder {
            env: EnvName::new("prod").expect("env"),
            app: deploykit_core::AppName::new("idp").expect("app"),
            owner: owner.into(),
            acquired_at: clock.now(),
            expires_at: clock.now() + chrono::Duration::hours(2),
        };
        l.acquire(&h("alice@laptop")).await.expect("alice");
        let e = l.acquire(&h("bob@laptop")).await.expect_err("held");
        assert!(
            e.to_string().contains("since 2026-11-24 15:00:00 UTC"),
            "{e}"
        );
        clock.advance(Duration::from_secs(3 * 3600));
        l.acquire(&h("bob@laptop"))
            .await
            .expect("expired, taken over");
    }

    #[tokio::test]
    async fn the_recording_notifier_delivers_every_announcement_in_order() {
        let n = RecordingNotifier::new(Arc::new(Faults::new()));
        let delivered = || n.sent().iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            contract::notifier::delivers_every_announcement_in_order(&n, &delivered).await,
            Ok(())
        );
        assert_eq!(n.sent_kinds().len(), 8);
    }
}

mod monitor_contract {
    use std::time::Duration;

    use deploykit_core::contract::monitor;
    use deploykit_core::ports::MetricsWindow;
    use deploykit_core::sim::World;
    use deploykit_core::{EnvName, RoleName};

    #[tokio::test]
    async fn scripted_monitor_meets_the_monitor_contract() {
        let world = World::login_gov();
        let clock = world.clock();
        clock.sleep(Duration::from_secs(600)).await;
        let now = clock.now();
        let env = EnvName::new("prod").expect("env");
        let busy = MetricsWindow {
            start: now - chrono::Duration::minutes(5),
            end: now,
        };
        let m = world.monitor();
        monitor::figures_are_consistent(
            m.as_ref(),
            &env,
            &RoleName::new("idp").expect("role"),
            &busy,
        )
        .await
        .expect("busy window");
        // Split by instance: the group's instances as the old side, then half of them.
        let group = deploykit_core::model::fleet::GroupName::new(
            &env,
            &RoleName::new("idp").expect("role"),
        );
        let ids: Vec<_> = world
            .sim_fleet()
            .instance_records()
            .into_iter()
            .filter(|r| r.group == group && r.terminated_at.is_none())
            .map(|r| r.id)
            .collect();
        assert!(ids.len() >= 2, "{ids:?}");
        for old in [&ids[..], &ids[..ids.len() / 2]] {
            monitor::instance_split_is_consistent(
                m.as_ref(),
                &env,
                &RoleName::new("idp").expect("role"),
                &busy,
                old,
            )
            .await
            .expect("split window");
        }
        // The migration role serves no requests: its windows are "no data".
        monitor::quiet_window_is_no_data(
            m.as_ref(),
            &env,
            &RoleName::new("migration").expect("role"),
            &busy,
        )
        .await
        .expect("quiet window");
    }
}
