//! The simulated world: one clock, one set of faults, the fleet, logs, monitor, notifier,
//! deploy lock, deploy status documents, and a repository with its code host per app.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::model::deploy_status::DeployStatus;
use crate::model::fleet::{Capacity, GroupName};
use crate::model::names::{AppName, EnvName, RoleName};
use crate::model::sha::Sha;
use crate::ports::{
    Clock, CodeHost, DeployLock, DeployStatusSource, Fleet, LogSource, Monitor, NewPullRequest,
    Notifier, Vcs,
};
use crate::sim::{
    Faults, GroupSpec, MemoryLock, RecordingNotifier, ScriptedLogs, ScriptedMonitor, SimCodeHost,
    SimDeployStatus, SimFleet, SimFleetConfig, SimVcs, VirtualClock,
};

/// The start of [`World::login_gov`]: Tuesday 2026-11-24 15:00 UTC (10:00 in Washington).
pub fn login_gov_start() -> DateTime<Utc> {
    utc(2026, 11, 24, 15, 0, 0)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, s))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// The repository of one app and its code host.
#[derive(Debug, Clone)]
pub struct AppRepo {
    /// The app.
    pub app: AppName,
    /// GitHub `owner/name`.
    pub repository: String,
    /// The in-memory git repository.
    pub vcs: Arc<SimVcs>,
    /// Its code host.
    pub code_host: Arc<SimCodeHost>,
}

/// Everything simulated, wired together; cheap to clone (all shared).
#[derive(Debug, Clone)]
pub struct World {
    clock: Arc<VirtualClock>,
    faults: Arc<Faults>,
    fleet: Arc<SimFleet>,
    logs: Arc<ScriptedLogs>,
    monitor: Arc<ScriptedMonitor>,
    notifier: Arc<RecordingNotifier>,
    lock: Arc<MemoryLock>,
    deploy_status: Arc<SimDeployStatus>,
    repos: BTreeMap<AppName, AppRepo>,
}

fn no_repo(app: &AppName) -> Error {
    Error::not_found(format!(
        "the simulated world has no repository for app {app}; add it with World::add_repo"
    ))
    .with("app", app)
}

impl World {
    /// An empty world at `start`: no groups, no repositories, default fleet timings,
    /// monitor seed 1.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self::with_config(start, SimFleetConfig::default(), 1)
    }

    /// An empty world at `start` with fleet timings and a monitor seed.
    pub fn with_config(start: DateTime<Utc>, fleet_config: SimFleetConfig, seed: u64) -> Self {
        let clock = Arc::new(VirtualClock::new(start));
        let faults = Arc::new(Faults::new());
        let fleet = Arc::new(SimFleet::new(clock.clone(), faults.clone(), fleet_config));
        World {
            logs: Arc::new(ScriptedLogs::new(
                fleet.clone(),
                clock.clone(),
                faults.clone(),
            )),
            monitor: Arc::new(ScriptedMonitor::new(
                fleet.clone(),
                clock.clone(),
                faults.clone(),
                seed,
            )),
            notifier: Arc::new(RecordingNotifier::new(faults.clone())),
            lock: Arc::new(MemoryLock::new(clock.clone(), faults.clone())),
            deploy_status: Arc::new(SimDeployStatus::new(faults.clone())),
            repos: BTreeMap::new(),
            clock,
            faults,
            fleet,
        }
    }

    /// Adds (or replaces) an empty repository `repository` (`owner/name`) for `app`, with
    /// `origin` at `git@github.com:<repository>.git`.
    pub fn add_repo(&mut self, app: &AppName, repository: &str) -> AppRepo {
        let vcs = Arc::new(SimVcs::new(
            format!("git@github.com:{repository}.git"),
            self.faults.clone(),
        ));
        let code_host = Arc::new(SimCodeHost::new(
            repository,
            vcs.clone(),
            self.clock.clone(),
            self.faults.clone(),
        ));
        let repo = AppRepo {
            app: app.clone(),
            repository: repository.to_string(),
            vcs,
            code_host,
        };
        self.repos.insert(app.clone(), repo.clone());
        repo
    }

    /// The clock, as the port.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
    /// The virtual clock (advance it in tests).
    pub fn virtual_clock(&self) -> &Arc<VirtualClock> {
        &self.clock
    }
    /// Injected faults and call counts shared by every fake.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }
    /// The fleet, as the port.
    pub fn fleet(&self) -> Arc<dyn Fleet> {
        self.fleet.clone()
    }
    /// The simulated fleet (release SHAs, unhealthy SHA, history, capacity tracking).
    pub fn sim_fleet(&self) -> &Arc<SimFleet> {
        &self.fleet
    }
    /// The migration logs, as the port.
    pub fn logs(&self) -> Arc<dyn LogSource> {
        self.logs.clone()
    }
    /// The scripted logs (choose the migration script).
    pub fn scripted_logs(&self) -> &Arc<ScriptedLogs> {
        &self.logs
    }
    /// The monitor, as the port.
    pub fn monitor(&self) -> Arc<dyn Monitor> {
        self.monitor.clone()
    }
    /// The scripted monitor (set traffic profiles).
    pub fn scripted_monitor(&self) -> &Arc<ScriptedMonitor> {
        &self.monitor
    }
    /// The notifier, as the port.
    pub fn notifier(&self) -> Arc<dyn Notifier> {
        self.notifier.clone()
    }
    /// The recording notifier (read what was announced).
    pub fn recording_notifier(&self) -> &Arc<RecordingNotifier> {
        &self.notifier
    }
    /// The deploy lock, as the port.
    pub fn lock(&self) -> Arc<dyn DeployLock> {
        self.lock.clone()
    }
    /// The in-memory deploy lock.
    pub fn memory_lock(&self) -> &Arc<MemoryLock> {
        &self.lock
    }
    /// The deploy status documents, as the port.
    pub fn deploy_status(&self) -> Arc<dyn DeployStatusSource> {
        self.deploy_status.clone()
    }
    /// The simulated deploy status documents (set them).
    pub fn sim_deploy_status(&self) -> &Arc<SimDeployStatus> {
        &self.deploy_status
    }
    /// Every port of a guided deploy of `app` in this world, merging through `code_host`
    /// (usually a [`crate::sim::ReleasingCodeHost`], so that new instances boot the merged
    /// commit); no operator (gates that cannot decide pause or follow `--yes`).
    pub fn deploy_ports(
        &self,
        app: &AppName,
        code_host: Arc<dyn CodeHost>,
    ) -> Result<crate::deploy::DeployPorts> {
        Ok(crate::deploy::DeployPorts {
            vcs: self.vcs(app)?,
            code_host,
            fleet: self.fleet(),
            logs: self.logs(),
            monitor: self.monitor(),
            notifier: self.notifier(),
            lock: self.lock(),
            clock: self.clock(),
            deploy_status: self.deploy_status(),
            operator: None,
        })
    }
    /// The apps that have a repository, sorted.
    pub fn apps(&self) -> Vec<AppName> {
        self.repos.keys().cloned().collect()
    }
    /// The repository and code host of `app`.
    pub fn repo(&self, app: &AppName) -> Result<&AppRepo> {
        self.repos.get(app).ok_or_else(|| no_repo(app))
    }
    /// `app`'s repository, as the port.
    pub fn vcs(&self, app: &AppName) -> Result<Arc<dyn Vcs>> {
        Ok(self.repo(app)?.vcs.clone())
    }
    /// `app`'s in-memory repository.
    pub fn sim_vcs(&self, app: &AppName) -> Result<Arc<SimVcs>> {
        Ok(self.repo(app)?.vcs.clone())
    }
    /// `app`'s code host, as the port.
    pub fn code_host(&self, app: &AppName) -> Result<Arc<dyn CodeHost>> {
        Ok(self.repo(app)?.code_host.clone())
    }
    /// `app`'s simulated code host.
    pub fn sim_code_host(&self, app: &AppName) -> Result<Arc<SimCodeHost>> {
        Ok(self.repo(app)?.code_host.clone())
    }

    /// Login.gov on a Tuesday (2026-11-24 15:00 UTC), ready for a release:
    ///
    /// - `prod`: `prod-idp` (min 2 / desired 4 / max 16, grace 300 s), `prod-worker` (2, no
    ///   load balancer), `prod-migration` (0 / 0 / 1, tagged `utility`, no load balancer),
    ///   `prod-pivcac` (2); new instances protected from scale-in; all running the apps'
    ///   `stages/prod` tips;
    /// - `staging`: the same roles, smaller, unprotected, running `main`'s tips;
    /// - repositories `idp` (18F/identity-idp) and `pki` (18F/identity-pki): `main` with
    ///   changelog trailers (some commits touch `db/migrate`, `app/javascript`),
    ///   `stages/prod` a few commits behind, releases up to `RC 111` / `RC 40`;
    /// - deploy status: each environment reports the SHA it runs.
    pub fn login_gov() -> Self {
        let mut world = World::with_config(login_gov_start(), SimFleetConfig::default(), 20261124);
        let idp = AppName::from_static("idp");
        let pki = AppName::from_static("pki");
        let idp_repo = world.add_repo(&idp, "18F/identity-idp");
        let pki_repo = world.add_repo(&pki, "18F/identity-pki");
        let (idp_prod, idp_main) = seed_idp(&idp_repo);
        let (pki_prod, pki_main) = seed_pki(&pki_repo);

        let prod = EnvName::from_static("prod");
        let staging = EnvName::from_static("staging");
        for (env, scale, protect, idp_sha, pki_sha) in [
            (&prod, 2u32, true, &idp_prod, &pki_prod),
            (&staging, 1u32, false, &idp_main, &pki_main),
        ] {
            let group = |role: &'static str,
                         min: u32,
                         desired: u32,
                         max: u32,
                         lb: bool,
                         tag: &str,
                         sha: &Sha| {
                let mut tags = BTreeMap::new();
                tags.insert("environment".to_string(), env.to_string());
                if role == "migration" {
                    tags.insert("utility".to_string(), "true".to_string());
                }
                GroupSpec {
                    name: GroupName::new(env, &RoleName::from_static(role)),
                    capacity: Capacity { min, desired, max },
                    grace_secs: 300,
                    tags,
                    // The migration group scales back to 0 after each run, so its instance
                    // must not be protected from scale-in.
                    protect_new_instances: protect && role != "migration",
                    load_balanced: lb,
                    app_tag: tag.to_string(),
                    sha: sha.clone(),
                }
            };
            let fleet = &world.fleet;
            fleet.add_group(group(
                "idp",
                scale,
                2 * scale,
                8 * scale,
                true,
                "gitsha:idp",
                idp_sha,
            ));
            fleet.add_group(group(
                "worker",
                scale / 2,
                scale,
                4 * scale,
                false,
                "gitsha:idp",
                idp_sha,
            ));
            fleet.add_group(group("migration", 0, 0, 1, false, "gitsha:idp", idp_sha));
            fleet.add_group(group(
                "pivcac",
                scale / 2,
                scale,
                4 * scale,
                true,
                "gitsha:pivcac",
                pki_sha,
            ));

            for (app, sha, branch) in [
                (
                    &idp,
                    idp_sha,
                    if env.is_production() {
                        "stages/prod"
                    } else {
                        "main"
                    },
                ),
                (
                    &pki,
                    pki_sha,
                    if env.is_production() {
                        "stages/prod"
                    } else {
                        "main"
                    },
                ),
            ] {
                let status = DeployStatus {
                    env: Some(env.to_string()),
                    user: Some("root".into()),
                    ..SimDeployStatus::minimal(sha.clone(), branch)
                };
                world.deploy_status.set(app, env, status);
            }
        }
        world
    }
}

fn merged_pr(repo: &AppRepo, number: u64, title: &str, head: &str, body: &str, merge: &Sha) {
    let pr = NewPullRequest {
        title: title.to_string(),
        head: head.to_string(),
        base: "stages/prod".into(),
        body: body.to_string(),
    };
    repo.code_host.set_next_pr_number(number);
    repo.code_host.add_merged_pull_request(&pr, merge);
}

/// Builds identity-idp's history; returns (stages/prod tip, main tip).
fn seed_idp(repo: &AppRepo) -> (Sha, Sha) {
    let v = &repo.vcs;
    let host = &repo.code_host;
    let rc110 = v.commit(
        "main",
        "Production baseline",
        "[skip changelog]",
        &[
            (
                "Gemfile",
                "source 'https://rubygems.org'\ngem 'rails', '~> 7.2'\n",
            ),
            ("Gemfile.lock", "rack (3.1.8)\n"),
            ("db/schema.rb", "version: 2024_10_01_000000\n"),
            (
                "db/migrate/20241001000000_create_users.rb",
                "create_table :users\n",
            ),
            (
                "app/javascript/packs/application.ts",
                "import './sign-in';\n",
            ),
            (
                "app/controllers/users/sessions_controller.rb",
                "class SessionsController; end\n",
            ),
            ("config/locales/en.yml", "en:\n  sign_in: Sign in\n"),
        ],
    );
    v.branch("stages/prod", &rc110);
    v.commit(
        "main",
        "Improve the error page for locked accounts (#11470)",
        "changelog: User-Facing Improvements, Account lockout, Explain when a locked account can \
         sign in again",
        &[(
            "app/views/users/locked.html.erb",
            "<h1>Your account is locked</h1>\n",
        )],
    );
    v.commit(
        "main",
        "Retry failed address verification calls once (#11472)",
        "changelog: Bug Fixes, Identity verification, Retry a failed address check once",
        &[("app/services/proofing/address.rb", "retry_once\n")],
    );
    let rc111_tip = v.commit(
        "main",
        "Record the device used at sign-in (#11475)",
        "changelog: Internal, Analytics, Record the device used at sign-in",
        &[(
            "app/services/analytics_events.rb",
            "def sign_in_device; end\n",
        )],
    );
    let rc111_branch = "stages/rc-2026-11-17";
    v.branch(rc111_branch, &rc111_tip);
    let body111 = "## User-Facing Improvements\n- Account lockout: Explain when a locked account \
                   can sign in again ([#11470](https://github.com/18F/identity-idp/pull/11470))";
    let merge111 = v
        .merge_into(
            "stages/prod",
            &rc111_tip,
            "Merge pull request #11480 from 18F/stages/rc-2026-11-17",
            "Deploy RC 111 to Production",
        )
        .unwrap_or_else(|_| rc111_tip.clone());
    merged_pr(
        repo,
        11480,
        "Deploy RC 111 to Production",
        rc111_branch,
        body111,
        &merge111,
    );
    host.add_release("RC 109", "2026-11-03T180455", utc(2026, 11, 3, 18, 4, 55));
    host.add_release("RC 110", "2026-11-10T175812", utc(2026, 11, 10, 17, 58, 12));
    let _ = v.add_tag(
        "2026-11-17T180102",
        &merge111,
        "2026-11-17T180102 release",
        false,
        true,
    );
    host.add_release_with(
        "RC 111",
        "2026-11-17T180102",
        body111,
        utc(2026, 11, 17, 18, 1, 2),
    );

    v.commit(
        "main",
        "Add remember-device option to the sign-in page (#11490)",
        "changelog: User-Facing Improvements, Sign in, Add a remember-device option to the \
         sign-in page",
        &[
            (
                "app/javascript/packages/remember-device/index.tsx",
                "export function RememberDevice() {}\n",
            ),
            (
                "app/javascript/packs/application.ts",
                "import './sign-in';\nimport './remember-device';\n",
            ),
        ],
    );
    v.commit(
        "main",
        "Fix double submit on phone confirmation (#11491)",
        "* changelog: Bug Fixes, Phone, Prevent double submission of the confirmation code",
        &[(
            "app/controllers/idv/phone_controller.rb",
            "before_action :prevent_double_submit\n",
        )],
    );
    v.commit(
        "main",
        "Add deploy_kit column to users (#11493)",
        "changelog: Internal, Database, Add deploy_kit column to users",
        &[
            (
                "db/migrate/20241120150000_add_deploy_kit_column.rb",
                "add_column :users, :deploy_kit, :string\n",
            ),
            ("db/schema.rb", "version: 2024_11_20_150000\n"),
        ],
    );
    v.commit(
        "main",
        "Bump rack from 3.1.8 to 3.1.9 (#11494)",
        "Bumps rack from 3.1.8 to 3.1.9.\n\nSigned-off-by: dependabot[bot] <support@github.com>",
        &[("Gemfile.lock", "rack (3.1.9)\n")],
    );
    v.commit(
        "main",
        "Update copy on the document capture page (#11496)",
        "changelog: Upcoming Features, Document capture, Update the copy of the selfie step",
        &[
            (
                "config/locales/en.yml",
                "en:\n  sign_in: Sign in\n  selfie: Take a photo\n",
            ),
            (
                "app/javascript/packages/document-capture/selfie-step.tsx",
                "export const SelfieStep = 1;\n",
            ),
        ],
    );
    v.commit(
        "main",
        "Tidy the RuboCop configuration (#11497)",
        "[skip changelog]",
        &[(".rubocop.yml", "AllCops:\n  NewCops: enable\n")],
    );
    let main = v.commit(
        "main",
        "Log the time each identity verification step takes (#11499)",
        "changelog: Internal, Analytics, Log the duration of each identity verification step",
        &[(
            "app/services/analytics_events.rb",
            "def sign_in_device; end\ndef idv_step_time; end\n",
        )],
    );
    host.add_label("status - promotion");
    host.set_next_pr_number(11502);
    (merge111, main)
}

/// Builds identity-pki's history; returns (stages/prod tip, main tip).
fn seed_pki(repo: &AppRepo) -> (Sha, Sha) {
    let v = &repo.vcs;
    let host = &repo.code_host;
    let rc39 = v.commit(
        "main",
        "Production baseline",
        "[skip changelog]",
        &[
            (
                "Gemfile",
                "source 'https://rubygems.org'\ngem 'rails', '~> 7.2'\n",
            ),
            (
                "config/certs/ca_bundle.pem",
                "-----BEGIN CERTIFICATE-----\nv1\n",
            ),
            ("app/services/ocsp_service.rb", "TIMEOUT = 5\n"),
        ],
    );
    v.branch("stages/prod", &rc39);
    let rc40_tip = v.commit(
        "main",
        "Reject certificates with expired issuers (#901)",
        "changelog: Bug Fixes, Certificates, Reject certificates whose issuer expired",
        &[(
            "app/services/certificate_chain.rb",
            "reject_expired_issuers\n",
        )],
    );
    let rc40_branch = "stages/rc-2026-11-17";
    v.branch(rc40_branch, &rc40_tip);
    let merge40 = v
        .merge_into(
            "stages/prod",
            &rc40_tip,
            "Merge pull request #903 from 18F/stages/rc-2026-11-17",
            "Deploy RC 40 to Prod",
        )
        .unwrap_or_else(|_| rc40_tip.clone());
    let body40 = "## Bug Fixes\n- Certificates: Reject certificates whose issuer expired \
                  ([#901](https://github.com/18F/identity-pki/pull/901))";
    merged_pr(
        repo,
        903,
        "Deploy RC 40 to Prod",
        rc40_branch,
        body40,
        &merge40,
    );
    let _ = v.add_tag(
        "2026-11-17T190233",
        &merge40,
        "2026-11-17T190233 release",
        true,
        true,
    );
    host.add_release("RC 39", "2026-11-10T190011", utc(2026, 11, 10, 19, 0, 11));
    host.add_release_with(
        "RC 40",
        "2026-11-17T190233",
        body40,
        utc(2026, 11, 17, 19, 2, 33),
    );

    v.commit(
        "main",
        "Update the CA certificate bundle (#905)",
        "changelog: Internal, Certificates, Update the CA certificate bundle",
        &[(
            "config/certs/ca_bundle.pem",
            "-----BEGIN CERTIFICATE-----\nv2\n",
        )],
    );
    v.commit(
        "main",
        "Retry OCSP requests that time out (#907)",
        "changelog: Bug Fixes, OCSP, Retry OCSP requests that time out",
        &[("app/services/ocsp_service.rb", "TIMEOUT = 5\nRETRIES = 1\n")],
    );
    let main = v.commit(
        "main",
        "Add the issuer to PIV/CAC login logs (#908)",
        "changelog: Internal, Logging, Add the issuer to PIV/CAC login logs",
        &[("app/controllers/identify_controller.rb", "log_issuer\n")],
    );
    host.add_label("status - promotion");
    host.set_next_pr_number(910);
    (merge40, main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fleet::Lifecycle;

    #[tokio::test]
    async fn login_gov_starts_on_a_tuesday_with_prod_behind_main() {
        let w = World::login_gov();
        assert_eq!(
            w.clock().now().format("%A %H:%M").to_string(),
            "Tuesday 15:00"
        );
        let prod = EnvName::new("prod").expect("env");
        let groups = w.fleet().groups(&prod).await.expect("groups");
        let names: Vec<String> = groups.iter().map(|g| g.name.to_string()).collect();
        assert_eq!(
            names,
            ["prod-idp", "prod-migration", "prod-pivcac", "prod-worker"]
        );
        let idp = &groups[0];
        assert_eq!(
            (idp.capacity.min, idp.capacity.desired, idp.capacity.max),
            (2, 4, 16)
        );
        assert!(
            idp.instances
                .iter()
                .all(|i| i.lifecycle == Lifecycle::InService)
        );
        assert!(groups[1].skipped_by_all());

        let app = AppName::new("idp").expect("app");
        let vcs = w.vcs(&app).expect("vcs");
        let prod_sha = vcs.resolve("origin/stages/prod").await.expect("prod");
        assert_eq!(idp.instances[0].deployed_sha(), Some(prod_sha));
        let pending = vcs
            .commits_between("origin/stages/prod", "origin/main")
            .await
            .expect("log");
        assert_eq!(pending.len(), 7);
        assert!(pending.iter().any(|c| c.body.contains("changelog: ")));
        let files = vcs
            .files_changed("origin/stages/prod", "origin/main")
            .await
            .expect("diff");
        assert!(files.iter().any(|f| f.starts_with("db/migrate/")));
        assert!(files.iter().any(|f| f.starts_with("app/javascript/")));
        let staging = EnvName::new("staging").expect("env");
        let status = w
            .deploy_status()
            .deploy_status(&app, &staging)
            .await
            .expect("status");
        assert_eq!(status.git_sha, vcs.resolve("main").await.expect("main"));
        let releases = w
            .code_host(&app)
            .expect("host")
            .releases()
            .await
            .expect("releases");
        assert_eq!(releases[0].name, "RC 111");
        let pki = w
            .code_host(&AppName::new("pki").expect("app"))
            .expect("host");
        assert_eq!(pki.releases().await.expect("releases")[0].name, "RC 40");
    }
}
