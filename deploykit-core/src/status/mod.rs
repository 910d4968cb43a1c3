//! `deploykit status`: for each environment and app, what is deployed (the deploy status
//! document and the instances' `gitsha:*` tags, with disagreement flagged), the last RC and
//! release, and what would ship from the main branch.
//!
//! - [`field`]: a value or why its source failed ([`Field`]);
//! - [`instances`]: SHAs per role, mixed-SHA detection;
//! - [`releases`]: last RC and last release;
//! - [`pending`](mod@pending): commits, changelog, migrations and assets pending on main;
//! - [`table`]: the human table.
//!
//! The workflow never fails as a whole: a source that fails makes its fields
//! [`Field::Unknown`] with the reason, and [`StatusReport::problems`] lists them all.

pub mod field;
pub mod instances;
pub mod pending;
pub mod releases;
pub mod table;

pub use field::Field;
pub use instances::{AppInstances, RoleInstances, ShaCount, app_instances, migration_instance_sha};
pub use pending::{MigrationSource, Pending, pending};
pub use releases::{LastRc, LastRelease, PrSummary, last_rc, last_release};
pub use table::render_status;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::fleet::Group;
use crate::model::{AppName, AppSettings, DeployStatus, EnvName, RoleName, Sha};
use crate::ports::{Clock, CodeHost, DeployStatusSource, Fleet, Vcs};

/// The environment-wide ports a status reads.
#[derive(Debug, Clone, Copy)]
pub struct StatusPorts<'a> {
    /// Auto Scaling groups and their instances.
    pub fleet: &'a dyn Fleet,
    /// The deploy status documents.
    pub deploy_status: &'a dyn DeployStatusSource,
    /// Now (stamps the report).
    pub clock: &'a dyn Clock,
}

/// One app: its settings, repository and code host.
#[derive(Debug, Clone, Copy)]
pub struct AppSource<'a> {
    /// The app's settings (roles, branches, remote, repository).
    pub settings: &'a AppSettings,
    /// Its git repository; or, when there is no local checkout of it, why not (e.g. "no
    /// remote origin in /src/idp"): its pending changes are then unknown, saying so.
    pub vcs: std::result::Result<&'a dyn Vcs, &'a str>,
    /// Its releases and pull requests.
    pub code_host: &'a dyn CodeHost,
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusRequest {
    /// The environments, in the order to show them.
    pub envs: Vec<EnvName>,
    /// Fetch each app's remote first (off: use what the local repository knows).
    pub fetch: bool,
}

/// Where a deploy time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The document's `chef_run_timestamp` (read as UTC).
    DeployStatus,
    /// The launch of the oldest running instance that runs the deployed SHA.
    InstanceLaunch,
}

/// What the deploy status document says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deployed {
    /// The deployed commit.
    pub sha: Sha,
    /// The deployed branch, when the document says.
    pub branch: Option<String>,
    /// Who deployed, when the document says.
    pub user: Option<String>,
    /// When it was deployed, when known.
    pub deployed_at: Option<DateTime<Utc>>,
    /// Where `deployed_at` comes from.
    pub deployed_at_from: Option<TimeSource>,
}

/// One app in one environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppStatus {
    /// The app.
    pub app: AppName,
    /// The deploy status document.
    pub deployed: Field<Deployed>,
    /// The instances' SHAs per role.
    pub instances: Field<AppInstances>,
    /// The newest RC cut.
    pub last_rc: Field<LastRc>,
    /// The newest published release (`None`: there is none).
    pub last_release: Field<Option<LastRelease>>,
    /// What would ship from main.
    pub pending: Field<Pending>,
    /// Things to look at: instances disagreeing with each other or with the document,
    /// recycles in progress, missing groups.
    pub notes: Vec<String>,
}

impl AppStatus {
    /// The SHA the app runs: the document's, else the one SHA every instance reports.
    pub fn deployed_sha(&self) -> Option<&Sha> {
        self.deployed
            .known()
            .map(|d| &d.sha)
            .or_else(|| self.instances.known().and_then(AppInstances::single_sha))
    }

    /// Every unknown field as `<field>: <reason>`.
    pub fn problems(&self) -> Vec<String> {
        [
            ("deployed", self.deployed.reason()),
            ("instances", self.instances.reason()),
            ("last RC", self.last_rc.reason()),
            ("last release", self.last_release.reason()),
            ("pending", self.pending.reason()),
        ]
        .into_iter()
        .filter_map(|(name, reason)| reason.map(|r| format!("{name} unknown ({r})")))
        .collect()
    }
}

/// Every app of one environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentStatus {
    /// The environment.
    pub env: EnvName,
    /// One entry per app, in the order asked.
    pub apps: Vec<AppStatus>,
}

/// The whole status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusReport {
    /// When it was read.
    pub generated_at: DateTime<Utc>,
    /// One entry per environment, in the order asked.
    pub environments: Vec<EnvironmentStatus>,
}

impl StatusReport {
    /// Every unknown field as `<env> <app>: <field> unknown (<reason>)`; empty when every
    /// source answered.
    pub fn problems(&self) -> Vec<String> {
        self.environments
            .iter()
            .flat_map(|e| {
                e.apps.iter().flat_map(move |a| {
                    a.problems()
                        .into_iter()
                        .map(move |p| format!("{} {}: {p}", e.env, a.app))
                })
            })
            .collect()
    }

    /// Whether every source answered.
    pub fn is_complete(&self) -> bool {
        self.problems().is_empty()
    }

    /// The status of `app` in `env`.
    pub fn app(&self, env: &str, app: &str) -> Option<&AppStatus> {
        self.environments
            .iter()
            .find(|e| e.env.as_str() == env)?
            .apps
            .iter()
            .find(|a| a.app.as_str() == app)
    }
}

/// What is read once per app whatever the environment.
struct AppShared<'a> {
    /// The repository, once fetched (or an error saying why there is none).
    vcs: Result<&'a dyn Vcs>,
    last_rc: Field<LastRc>,
    last_release: Field<Option<LastRelease>>,
}

async fn app_shared<'a>(source: &AppSource<'a>, fetch: bool) -> AppShared<'a> {
    let settings = source.settings;
    let vcs = match source.vcs {
        Err(why) => Err(Error::not_found(format!(
            "no local checkout of {} ({why}): run where it is checked out (or pass its \
             directory)",
            settings.repository
        ))),
        Ok(vcs) if fetch => vcs
            .fetch(&settings.remote)
            .await
            .map(|()| vcs)
            .map_err(|e| {
                Error::new(
                    e.kind(),
                    format!("fetching {} failed: {}", settings.remote, e.message()),
                )
            }),
        Ok(vcs) => Ok(vcs),
    };
    let (last_rc, last_release) = match source.code_host.releases().await {
        Ok(releases) => (
            Field::from_result(
                "pull requests",
                releases::last_rc(source.code_host, settings, &releases).await,
            ),
            Field::Known {
                value: last_release(&releases),
            },
        ),
        Err(e) => (
            Field::unknown("releases", &e),
            Field::unknown("releases", &e),
        ),
    };
    AppShared {
        vcs,
        last_rc,
        last_release,
    }
}

fn roles_of(settings: &AppSettings) -> Vec<RoleName> {
    settings.roles.iter().map(|r| r.role.clone()).collect()
}

fn deployed(doc: DeployStatus, groups: Option<&[Group]>, roles: &[RoleName]) -> Deployed {
    let from_doc = doc.chef_run_timestamp.map(|t| t.and_utc());
    let from_launch = || {
        groups?
            .iter()
            .filter(|g| roles.contains(&g.name.role))
            .flat_map(|g| g.running_instances())
            .filter(|i| i.deployed_sha().is_some_and(|s| s.matches(&doc.git_sha)))
            .map(|i| i.launch_time)
            .min()
    };
    let (deployed_at, deployed_at_from) = match from_doc {
        Some(t) => (Some(t), Some(TimeSource::DeployStatus)),
        None => match from_launch() {
            Some(t) => (Some(t), Some(TimeSource::InstanceLaunch)),
            None => (None, None),
        },
    };
    Deployed {
        sha: doc.git_sha,
        branch: doc.branch,
        user: doc.user,
        deployed_at,
        deployed_at_from,
    }
}

fn notes(deployed: &Field<Deployed>, instances: &Field<AppInstances>) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(inst) = instances.known() else {
        return notes;
    };
    if let Some(why) = &inst.mixed {
        notes.push(why.clone());
    }
    for r in &inst.roles {
        if let Some(at) = r.recycle_spindown_at {
            notes.push(format!(
                "{} is being recycled; it scales back down at {}",
                r.group,
                at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    for g in &inst.missing_groups {
        notes.push(format!("no Auto Scaling group {g}"));
    }
    if let (Some(doc), Some(single)) = (deployed.known(), inst.single_sha())
        && !doc.sha.matches(single)
    {
        notes.push(format!(
            "the deploy status document says {} but every instance runs {}",
            doc.sha.short(),
            single.short()
        ));
    }
    notes
}

async fn app_status(
    ports: &StatusPorts<'_>,
    source: &AppSource<'_>,
    shared: &AppShared<'_>,
    env: &EnvName,
    groups: &Result<Vec<Group>>,
) -> AppStatus {
    let settings = source.settings;
    let roles = roles_of(settings);
    let groups_ok = groups.as_ref().ok().map(Vec::as_slice);
    let instances = match groups {
        Ok(g) => Field::Known {
            value: app_instances(g, env, &roles),
        },
        Err(e) => Field::unknown("fleet", e),
    };
    let deployed = match ports.deploy_status.deploy_status(&settings.name, env).await {
        Ok(doc) => Field::Known {
            value: deployed(doc, groups_ok, &roles),
        },
        Err(e) => Field::unknown("deploy status document", &e),
    };
    let base = deployed
        .known()
        .map(|d| d.sha.clone())
        .or_else(|| instances.known().and_then(|i| i.single_sha().cloned()));
    let migrates = settings.roles.iter().any(|r| r.migrates);
    let migration_sha = groups_ok
        .filter(|_| migrates)
        .and_then(|g| migration_instance_sha(g, env));
    let pending = match (&shared.vcs, base) {
        (Err(e), _) => Field::unknown("git", e),
        (Ok(_), None) => Field::Unknown {
            reason: "no deployed SHA: neither the deploy status document nor the instances \
                     say what runs"
                .into(),
        },
        (Ok(vcs), Some(base)) => {
            let last_migration = match &migration_sha {
                Some(sha) => (sha, MigrationSource::MigrationInstance),
                None => (&base, MigrationSource::Deployed),
            };
            Field::from_result(
                "git",
                pending::pending(*vcs, settings, &base, last_migration).await,
            )
        }
    };
    AppStatus {
        app: settings.name.clone(),
        notes: notes(&deployed, &instances),
        deployed,
        instances,
        last_rc: shared.last_rc.clone(),
        last_release: shared.last_release.clone(),
        pending,
    }
}

/// Reads the status of every app in every environment of `request`. Never fails: each
/// source failure is reported in the fields it affects.
pub async fn status(
    ports: &StatusPorts<'_>,
    apps: &[AppSource<'_>],
    request: &StatusRequest,
) -> StatusReport {
    let mut shared = Vec::with_capacity(apps.len());
    for source in apps {
        shared.push(app_shared(source, request.fetch).await);
    }
    let mut environments = Vec::with_capacity(request.envs.len());
    for env in &request.envs {
        let groups = ports.fleet.groups(env).await;
        let mut statuses = Vec::with_capacity(apps.len());
        for (source, shared) in apps.iter().zip(&shared) {
            statuses.push(app_status(ports, source, shared, env, &groups).await);
        }
        environments.push(EnvironmentStatus {
            env: env.clone(),
            apps: statuses,
        });
    }
    StatusReport {
        generated_at: ports.clock.now(),
        environments,
    }
}
