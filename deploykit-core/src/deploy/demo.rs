//! `deploykit demo`: a full rehearsal on the simulated Login.gov world — cut RC 112 from what
//! staging runs, approve its promotion PR, and run the guided production deploy, with one of
//! the guide's failure scenarios if asked. Takes milliseconds on the virtual clock.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::deploy::driver::deploy;
use crate::deploy::journal::{Journal, MemoryJournal};
use crate::deploy::outcome::DeployOutcome;
use crate::deploy::request::DeployRequest;
use crate::deploy::settings::EnvSettings;
use crate::error::{Error, Result};
use crate::events::{EventSink, NullSink};
use crate::model::app::AppSettings;
use crate::model::deploy_kind::DeployKind;
use crate::model::fleet::GroupName;
use crate::model::names::{AppName, EnvName, RoleName};
use crate::model::release_number::ReleaseNumber;
use crate::ports::{Clock, CodeHost, DeployStatusSource, MergeMethod, Notifier, Vcs};
use crate::release::{
    CutRcOutcome, CutRcRequest, OpenRevertRequest, ReleaseContext, cut_rc, open_revert,
};
use crate::sim::{MigrationScript, ReleasingCodeHost, TrafficProfile, World};

/// What goes wrong in the rehearsal, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DemoScenario {
    /// Everything works: deployed.
    Healthy,
    /// A migration fails (the provisioner still prints its final marker): rolled back.
    /// Named `migration-fails`, as `deploykit demo --scenario` and the README name it
    /// (`migration-error`, its former name, is still read).
    #[serde(rename = "migration-fails", alias = "migration-error")]
    MigrationError,
    /// Provisioning fails on the migration instance: rolled back.
    ProvisioningFailure,
    /// The migration log stops: timed out, rolled back.
    MigrationHang,
    /// The new SHA serves 5 % errors: the monitor gate rolls back.
    ErrorSpike,
    /// The new instances never pass load-balancer checks: the health gate rolls back.
    UnhealthyHosts,
}

impl DemoScenario {
    /// Every scenario.
    pub const ALL: [DemoScenario; 6] = [
        DemoScenario::Healthy,
        DemoScenario::MigrationError,
        DemoScenario::ProvisioningFailure,
        DemoScenario::MigrationHang,
        DemoScenario::ErrorSpike,
        DemoScenario::UnhealthyHosts,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DemoScenario::Healthy => "healthy",
            DemoScenario::MigrationError => "migration-fails",
            DemoScenario::ProvisioningFailure => "provisioning-failure",
            DemoScenario::MigrationHang => "migration-hang",
            DemoScenario::ErrorSpike => "error-spike",
            DemoScenario::UnhealthyHosts => "unhealthy-hosts",
        }
    }
}

impl fmt::Display for DemoScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DemoScenario {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = if s == "migration-error" {
            "migration-fails"
        } else {
            s
        };
        DemoScenario::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown demo scenario {s:?}: expected one of {}",
                    DemoScenario::ALL.map(|d| d.as_str()).join(", ")
                ))
            })
    }
}

/// What the rehearsal did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoOutcome {
    /// The scenario.
    pub scenario: DemoScenario,
    /// The RC cut.
    pub rc: ReleaseNumber,
    /// Its promotion PR.
    pub pr_number: u64,
    /// The deploy's outcome.
    pub deploy: DeployOutcome,
    /// The announcements posted, as text.
    pub announcements: Vec<String>,
    /// Healthy in-service idp instances before the deploy.
    pub idp_capacity_before: u32,
    /// The fewest healthy in-service idp instances at any moment of the deploy.
    pub idp_capacity_min: u32,
    /// How long the rehearsal took on the virtual clock, in seconds.
    pub virtual_secs: i64,
}

/// Runs the rehearsal with no progress output.
pub async fn run_demo(scenario: DemoScenario) -> Result<DemoOutcome> {
    run_demo_with(scenario, &NullSink).await
}

/// Cuts an RC of `app` in `world` from what staging runs (as `rc create` does) and approves
/// its promotion PR, so there is something to deploy; returns the cut and the PR number.
/// `code_host` is the world's code host (possibly wrapped); `label` names the scratch
/// directory the changelog file is written to (and removed from); `patch` cuts a patch RC
/// (`RC 111.1`), as a patch deploy ships.
pub async fn prepare_promotion_pr(
    world: &World,
    code_host: &dyn CodeHost,
    app: &AppSettings,
    label: &str,
    patch: bool,
    events: &dyn EventSink,
) -> Result<(CutRcOutcome, u64)> {
    let parts = WorldParts::of(world, app)?;
    let rctx = parts.release_context(code_host, events, app);
    let scratch =
        std::env::temp_dir().join(format!("deploykit-demo-{}-{label}", std::process::id()));
    let request = CutRcRequest {
        source: None,
        patch,
        dry_run: false,
        working_dir: scratch.clone(),
        utc_offset_minutes: -300,
    };
    let cut = cut_rc(&rctx, &request).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let cut = cut?;
    let pr_number = cut
        .pr_number
        .ok_or_else(|| Error::backend("cutting the RC opened no promotion PR"))?;
    world
        .sim_code_host(&app.name)?
        .approve(pr_number, "demo-reviewer")?;
    Ok((cut, pr_number))
}

/// What a revert deploy rehearsed in `world` ships: an RC cut with its promotion PR approved
/// and merged, then the `Revert RC <N>` PR a rollback opens, approved. Returns the RC, the
/// promotion PR's number and the revert PR's.
pub async fn prepare_revert_pr(
    world: &World,
    code_host: &dyn CodeHost,
    app: &AppSettings,
    label: &str,
    events: &dyn EventSink,
) -> Result<(ReleaseNumber, u64, u64)> {
    let (cut, promotion) =
        prepare_promotion_pr(world, code_host, app, label, false, events).await?;
    code_host
        .merge_pull_request(promotion, MergeMethod::Merge)
        .await?;
    let parts = WorldParts::of(world, app)?;
    let request = OpenRevertRequest {
        rc: Some(cut.rc),
        dry_run: false,
    };
    let revert = open_revert(&parts.release_context(code_host, events, app), &request).await?;
    let number = revert
        .pr_number
        .ok_or_else(|| Error::backend("reverting the RC opened no revert PR"))?;
    world
        .sim_code_host(&app.name)?
        .approve(number, "demo-reviewer")?;
    Ok((cut.rc, promotion, number))
}

/// The world's ports a release workflow needs besides the code host.
struct WorldParts {
    vcs: Arc<dyn Vcs>,
    notifier: Arc<dyn Notifier>,
    deploy_status: Arc<dyn DeployStatusSource>,
    clock: Arc<dyn Clock>,
}

impl WorldParts {
    fn of(world: &World, app: &AppSettings) -> Result<Self> {
        Ok(WorldParts {
            vcs: world.vcs(&app.name)?,
            notifier: world.notifier(),
            deploy_status: world.deploy_status(),
            clock: world.clock(),
        })
    }

    fn release_context<'a>(
        &'a self,
        code_host: &'a dyn CodeHost,
        events: &'a dyn EventSink,
        settings: &'a AppSettings,
    ) -> ReleaseContext<'a> {
        ReleaseContext {
            vcs: self.vcs.as_ref(),
            code_host,
            deploy_status: self.deploy_status.as_ref(),
            notifier: self.notifier.as_ref(),
            clock: self.clock.as_ref(),
            events,
            settings,
        }
    }
}

/// Runs the rehearsal, sending progress to `events` (the run's journal and report kept in
/// memory).
pub async fn run_demo_with(scenario: DemoScenario, events: &dyn EventSink) -> Result<DemoOutcome> {
    run_demo_in(scenario, events, &MemoryJournal::new()).await
}

/// Runs the rehearsal, journalling the deploy in `journal` (where its report is kept too:
/// `deploykit demo` uses the sandbox state directory).
pub async fn run_demo_in(
    scenario: DemoScenario,
    events: &dyn EventSink,
    journal: &dyn Journal,
) -> Result<DemoOutcome> {
    let world = World::login_gov();
    let idp = AppName::new("idp")?;
    let prod = EnvName::new("prod")?;
    let app = AppSettings::idp();
    let clock = world.clock();
    let started = clock.now();
    match scenario {
        DemoScenario::MigrationError => world
            .scripted_logs()
            .set_migration_script(MigrationScript::MigrationError),
        DemoScenario::ProvisioningFailure => world
            .scripted_logs()
            .set_migration_script(MigrationScript::ProvisioningFailure),
        DemoScenario::MigrationHang => world
            .scripted_logs()
            .set_migration_script(MigrationScript::Hang),
        _ => {}
    }
    let host = world.sim_code_host(&idp)?;
    let releasing = ReleasingCodeHost::new(host.clone(), world.clone(), prod.clone(), "gitsha:idp");
    releasing.on_merge(Box::new(move |world, sha| match scenario {
        DemoScenario::ErrorSpike => world
            .scripted_monitor()
            .set_profile(sha, TrafficProfile::with_error_rate(0.05)),
        DemoScenario::UnhealthyHosts => world.sim_fleet().set_unhealthy_sha(Some(sha.clone())),
        _ => {}
    }));
    let code_host: Arc<dyn CodeHost> = Arc::new(releasing);

    let (cut, pr_number) = prepare_promotion_pr(
        &world,
        code_host.as_ref(),
        &app,
        scenario.as_str(),
        false,
        events,
    )
    .await?;

    let fleet = world.sim_fleet();
    let idp_group = GroupName::new(&prod, &RoleName::new("idp")?);
    fleet.mark_capacity_baseline();
    let before = fleet.min_healthy_in_service(&idp_group);
    let ports = world.deploy_ports(&idp, code_host)?;
    let mut req = DeployRequest::new(prod.clone(), app, DeployKind::Full, "demo");
    req.pr_number = Some(pr_number);
    req.yes = true;
    let outcome = deploy(&ports, &EnvSettings::for_env(&prod), journal, events, &req).await?;
    Ok(DemoOutcome {
        scenario,
        rc: cut.rc,
        pr_number,
        deploy: outcome,
        announcements: world
            .recording_notifier()
            .sent()
            .iter()
            .map(|a| a.to_string())
            .collect(),
        idp_capacity_before: before,
        idp_capacity_min: fleet.min_healthy_in_service(&idp_group),
        virtual_secs: (clock.now() - started).num_seconds(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::monitor_verdict::WindowJudgement;
    use crate::deploy::state::FinalStatus;
    use crate::events::{Event, RecordingSink};

    #[tokio::test]
    async fn every_scenario_ends_as_the_guide_says() {
        for scenario in DemoScenario::ALL {
            let out = run_demo(scenario).await.expect("demo");
            assert_eq!(out.rc.to_string(), "112");
            let deployed = out.deploy.status == FinalStatus::Deployed;
            assert_eq!(
                deployed,
                scenario == DemoScenario::Healthy,
                "{scenario}: {out:#?}"
            );
            if !deployed {
                assert!(matches!(out.deploy.status, FinalStatus::RolledBack { .. }));
                assert!(
                    out.announcements
                        .iter()
                        .any(|a| a.contains("retrospective"))
                );
            }
            assert!(
                out.idp_capacity_min >= out.idp_capacity_before,
                "{scenario}"
            );
            assert_eq!(out.idp_capacity_before, 4);
        }
        assert_eq!(
            "error-spike".parse::<DemoScenario>().ok(),
            Some(DemoScenario::ErrorSpike)
        );
        assert!("nope".parse::<DemoScenario>().is_err());
    }

    #[test]
    fn scenarios_are_named_as_the_command_line_names_them() {
        let names: Vec<&str> = DemoScenario::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(
            names,
            [
                "healthy",
                "migration-fails",
                "provisioning-failure",
                "migration-hang",
                "error-spike",
                "unhealthy-hosts",
            ]
        );
        for d in DemoScenario::ALL {
            assert_eq!(d.to_string(), d.as_str());
            assert_eq!(d.as_str().parse::<DemoScenario>().ok(), Some(d));
            assert_eq!(
                serde_json::to_value(d).ok(),
                Some(serde_json::Value::from(d.as_str()))
            );
        }
        // The former name is still read.
        assert_eq!(
            "migration-error".parse::<DemoScenario>().ok(),
            Some(DemoScenario::MigrationError)
        );
        assert_eq!(
            serde_json::from_str::<DemoScenario>("\"migration-error\"").ok(),
            Some(DemoScenario::MigrationError)
        );
    }

    fn info_messages(events: &RecordingSink) -> Vec<String> {
        events
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Info { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn monitor_windows_are_judged_in_words() {
        let events = RecordingSink::default();
        run_demo_with(DemoScenario::ErrorSpike, &events)
            .await
            .expect("demo");
        let infos = info_messages(&events);
        let window = infos
            .iter()
            .find(|m| m.starts_with("monitor_gate window 1: "))
            .unwrap_or_else(|| panic!("no window line in {infos:#?}"));
        assert!(
            window.starts_with("monitor_gate window 1: bad: new SHA "),
            "{window}"
        );

        let events = RecordingSink::default();
        run_demo_with(DemoScenario::Healthy, &events)
            .await
            .expect("demo");
        let infos = info_messages(&events);
        let windows: Vec<&String> = infos
            .iter()
            .filter(|m| m.starts_with("monitor_gate window "))
            .collect();
        assert!(!windows.is_empty(), "{infos:#?}");
        for w in windows {
            assert!(w.contains(": good: "), "{w}");
        }
        for (judgement, word) in [
            (WindowJudgement::Good, "good"),
            (WindowJudgement::Bad, "bad"),
            (WindowJudgement::Unclear, "unclear"),
            (WindowJudgement::NotJudged, "not judged"),
        ] {
            assert_eq!(judgement.to_string(), word);
        }
    }
}
