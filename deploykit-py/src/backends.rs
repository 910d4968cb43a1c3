//! `Backends`: the real ports (AWS, GitHub, git, Slack, New Relic) built from a
//! `deploykit.toml` or from keyword arguments, with every operation of `Operations`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use deploykit_aws::{AwsClients, AwsFleet, CloudWatchMigrationLogs, SsmDeployLock};
use deploykit_backends::{
    FleetBackends, ReleaseBackends, deploy_status_source, monitor_for, real_deploy_ports,
};
use deploykit_core::config::{EffectiveConfig, find_config_file, resolve_file};
use deploykit_core::deploy::{DeployPorts, EnvSettings, FileJournal, Journal};
use deploykit_core::notify::RedactionRules;
use deploykit_core::policy::cadence::CadencePolicy;
use deploykit_core::ports::{
    Clock, DeployLock, DeployStatusSource, Fleet, LogSource, Monitor, SystemClock,
};
use deploykit_core::slack::SlackNotifier;
use deploykit_core::{AppSettings, EnvName, Error, Result};
use pyo3::prelude::*;

use crate::args::{Arg, DeployStatusUrls, Environ, NewRelicAccountId, Overrides};
use crate::errors::to_py_err;
use crate::fleet::FleetBackend;
use crate::fleet::enum_name;
use crate::operations::{PortSet, PyOperations};
use crate::runtime::block_on;

/// The real backends as a set of ports. `Debug` shows no secret (the configuration's
/// `Debug` redacts them).
#[derive(Debug)]
struct RealPorts {
    config: EffectiveConfig,
    clients: AwsClients,
    fleet: Arc<dyn Fleet>,
    monitor: Arc<dyn Monitor>,
    clock: Arc<dyn Clock>,
    repo_dir: PathBuf,
    journal: Arc<FileJournal>,
}

impl PortSet for RealPorts {
    fn settings(&self, app: &str) -> Result<AppSettings> {
        self.config.apps.get(app).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.config.apps.keys().map(String::as_str).collect();
            Error::not_found(format!(
                "no app {app:?} in the configuration: expected one of {known:?}; add an \
                 [apps.{app}] table to deploykit.toml"
            ))
            .with("app", app)
        })
    }

    fn fleet(&self) -> FleetBackend {
        FleetBackend {
            fleet: self.fleet.clone(),
            clock: self.clock.clone(),
            lock: self.lock(),
            apps: self.config.apps.values().cloned().collect(),
            production: self
                .config
                .environments
                .iter()
                .filter(|(_, e)| e.production)
                .filter_map(|(name, _)| EnvName::new(name).ok())
                .collect(),
        }
    }

    fn logs(&self, env: &EnvName) -> Arc<dyn LogSource> {
        Arc::new(CloudWatchMigrationLogs::new(self.clients.clone(), env))
    }

    fn monitor(&self) -> Arc<dyn Monitor> {
        self.monitor.clone()
    }

    fn deploy_status(&self, app: &AppSettings) -> Arc<dyn DeployStatusSource> {
        Arc::new(deploy_status_source(app))
    }

    fn release(&self, app: &AppSettings) -> Result<ReleaseBackends> {
        ReleaseBackends::real(&self.config, app, &self.repo_dir)
    }

    fn deploy(&self, app: &AppSettings, env: &EnvName) -> Result<DeployPorts> {
        self.config.configured_env(env)?;
        let fleet = FleetBackends {
            fleet: self.fleet.clone(),
            logs: self.logs(env),
            monitor: self.monitor.clone(),
            clock: self.clock.clone(),
        };
        real_deploy_ports(
            &self.config,
            app,
            fleet,
            self.clients.clone(),
            &self.repo_dir,
        )
    }

    fn env_settings(&self, env: &EnvName) -> EnvSettings {
        self.config.env_settings(env)
    }

    fn known_env(&self, env: &str) -> Result<()> {
        self.config.configured_env(&EnvName::new(env)?)
    }

    fn journal(&self) -> Arc<dyn Journal> {
        self.journal.clone()
    }

    fn lock(&self) -> Arc<dyn DeployLock> {
        Arc::new(SsmDeployLock::new(self.clients.clone(), self.clock.clone()))
    }

    fn cadence(&self) -> CadencePolicy {
        self.config.cadence.policy()
    }

    fn redaction_rules(&self) -> Result<RedactionRules> {
        self.config.redaction_rules()
    }

    fn working_dir(&self) -> PathBuf {
        self.repo_dir.clone()
    }
}

/// The real backends: AWS (Auto Scaling, EC2, SSM, CloudWatch Logs and Logs Insights, load
/// balancers), GitHub, git in `repo_dir`, the staging deploy status over HTTPS, Slack and New
/// Relic when configured. Build one with `Backends.from_config(...)` (a `deploykit.toml`, the
/// environment, overrides: what the CLI reads) or `Backends(...)` (keyword arguments over the
/// environment). Secrets given as arguments never appear in `repr`, errors or logs.
#[pyclass(module = "deploykit", name = "Backends", extends = PyOperations, frozen)]
#[derive(Debug)]
pub struct PyBackends {
    summary: String,
}

/// The environment variables to read: `environ` when given, else the process's.
fn environ_or_process(environ: Option<BTreeMap<String, String>>) -> BTreeMap<String, String> {
    environ.unwrap_or_else(|| std::env::vars().collect())
}

/// A short description without secrets: where the configuration came from, AWS, the
/// notifier and the monitor, and the names of the secrets found.
fn summary(config: &EffectiveConfig) -> String {
    let secrets: Vec<&str> = config
        .secrets
        .named()
        .iter()
        .filter(|(_, s)| s.is_some())
        .map(|(name, _)| *name)
        .collect();
    format!(
        "Backends(config_file={}, aws_region='{}', aws_endpoint_url={}, notifier='{}', \
         monitor='{}', apps={:?}, secrets={:?})",
        config
            .config_file
            .as_ref()
            .map(|p| format!("'{}'", p.display()))
            .unwrap_or_else(|| "None".into()),
        config.aws.region,
        config
            .aws
            .endpoint_url
            .as_ref()
            .map(|u| format!("'{u}'"))
            .unwrap_or_else(|| "None".into()),
        enum_name(&config.notifier.kind),
        enum_name(&config.monitor.kind),
        config.apps.keys().collect::<Vec<_>>(),
        secrets,
    )
}

/// Builds the ports of `config` (AWS clients, the monitor; checks the notifier) and the
/// Python object over them.
fn build(
    py: Python<'_>,
    config: EffectiveConfig,
    repo_dir: Option<PathBuf>,
    journal_dir: Option<PathBuf>,
) -> PyResult<Py<PyBackends>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Fail now, not at the first announcement, when the notifier is misconfigured.
    SlackNotifier::from_config(&config, clock.clone()).map_err(to_py_err)?;
    let journal_dir = match journal_dir {
        Some(dir) => dir,
        None => FileJournal::default_dir().map_err(to_py_err)?,
    };
    let repo_dir = match repo_dir {
        Some(dir) => dir,
        None => std::env::current_dir().map_err(|e| {
            to_py_err(Error::invalid_input(format!(
                "cannot read the current directory ({e}); pass repo_dir"
            )))
        })?,
    };
    let aws = config.aws.clone();
    let clients = block_on(py, async move { AwsClients::from_settings(&aws).await })?;
    let monitor = monitor_for(&config, &clients, clock.clone()).map_err(to_py_err)?;
    let summary = summary(&config);
    let ports = RealPorts {
        fleet: Arc::new(AwsFleet::new(clients.clone())),
        config,
        clients,
        monitor,
        clock,
        repo_dir,
        journal: Arc::new(FileJournal::new(journal_dir)),
    };
    let init = PyClassInitializer::from(PyOperations::new(Arc::new(ports)))
        .add_subclass(PyBackends { summary });
    Py::new(py, init)
}

/// Puts `value` at `key` when given.
fn put(map: &mut BTreeMap<String, String>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

#[pymethods]
impl PyBackends {
    /// The backends from keyword arguments, over the process environment (`AWS_REGION`,
    /// `GITHUB_TOKEN`, ...; arguments win). `github_repo`, `staging_deploy_status_url` and
    /// `deploy_status_urls` (environment name -> its `/api/deploy.json` URL, e.g.
    /// `{"prod": "https://secure.login.gov/api/deploy.json"}`, for `deploy_status` and the
    /// RC cut in every environment) describe `app`. `monitor` is `"cloudwatch"`, `"newrelic"` or `"none"`. `overrides`
    /// sets any configuration key (`{"monitor.min_requests": "500"}`), as `--set` does.
    /// `repo_dir` is the app's git checkout (default: the current directory); deploy runs
    /// are journaled under `journal_dir` (default: deploykit's state directory).
    #[new]
    #[pyo3(signature = (*, aws_region = None, aws_endpoint_url = None, aws_profile = None, github_api_url = None, github_repo = None, github_token = None, slack_webhook_url = None, newrelic_api_key = None, newrelic_account_id = None, monitor = None, app = "idp", staging_deploy_status_url = None, deploy_status_urls = None, overrides = None, repo_dir = None, journal_dir = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        aws_region: Option<String>,
        aws_endpoint_url: Option<String>,
        aws_profile: Option<String>,
        github_api_url: Option<String>,
        github_repo: Option<String>,
        github_token: Option<String>,
        slack_webhook_url: Option<String>,
        newrelic_api_key: Option<String>,
        newrelic_account_id: Option<Arg<u64, NewRelicAccountId>>,
        monitor: Option<String>,
        app: &str,
        staging_deploy_status_url: Option<String>,
        deploy_status_urls: Option<Arg<BTreeMap<String, String>, DeployStatusUrls>>,
        overrides: Option<Arg<BTreeMap<String, String>, Overrides>>,
        repo_dir: Option<PathBuf>,
        journal_dir: Option<PathBuf>,
    ) -> PyResult<Py<PyBackends>> {
        // Secrets go in as the environment variables they would come from, so they take the
        // same (redacted) path as the CLI's.
        let mut environ = environ_or_process(None);
        put(&mut environ, "GITHUB_TOKEN", github_token);
        put(&mut environ, "SLACK_WEBHOOK_URL", slack_webhook_url);
        put(&mut environ, "NEW_RELIC_API_KEY", newrelic_api_key);
        let mut flags = BTreeMap::new();
        put(&mut flags, "aws.region", aws_region);
        put(&mut flags, "aws.endpoint_url", aws_endpoint_url);
        put(&mut flags, "aws.profile", aws_profile);
        put(&mut flags, "github.api_url", github_api_url);
        put(&mut flags, &format!("apps.{app}.repository"), github_repo);
        put(
            &mut flags,
            &format!("apps.{app}.staging_deploy_status_url"),
            staging_deploy_status_url,
        );
        for (env, url) in deploy_status_urls.map(Arg::into_inner).unwrap_or_default() {
            flags.insert(format!("apps.{app}.deploy_status_urls.{env}"), url);
        }
        put(&mut flags, "monitor.kind", monitor);
        put(
            &mut flags,
            "monitor.newrelic.account_id",
            newrelic_account_id.map(|n| n.0.to_string()),
        );
        flags.extend(overrides.map(Arg::into_inner).unwrap_or_default());
        let config = resolve_file(None, &environ, &flags).map_err(to_py_err)?;
        build(py, config, repo_dir, journal_dir)
    }

    /// The backends the CLI would use: the configuration file `path` (else `DEPLOYKIT_CONFIG`,
    /// `./deploykit.toml`, `$XDG_CONFIG_HOME/deploykit/deploykit.toml`,
    /// `~/.config/deploykit/deploykit.toml`, else the built-in defaults), the environment
    /// variables `environ` (default: the process's), then `overrides` (`--set KEY=VALUE`).
    /// A bad configuration raises `InvalidInputError` naming every bad key.
    #[staticmethod]
    #[pyo3(signature = (path = None, *, environ = None, overrides = None, repo_dir = None, journal_dir = None))]
    fn from_config(
        py: Python<'_>,
        path: Option<PathBuf>,
        environ: Option<Arg<BTreeMap<String, String>, Environ>>,
        overrides: Option<Arg<BTreeMap<String, String>, Overrides>>,
        repo_dir: Option<PathBuf>,
        journal_dir: Option<PathBuf>,
    ) -> PyResult<Py<PyBackends>> {
        let environ = environ_or_process(environ.map(Arg::into_inner));
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let file = find_config_file(path.as_deref(), &environ, &cwd);
        let flags = overrides.map(Arg::into_inner).unwrap_or_default();
        let config = resolve_file(file.as_deref(), &environ, &flags).map_err(to_py_err)?;
        build(py, config, repo_dir, journal_dir)
    }

    fn __repr__(&self) -> String {
        self.summary.clone()
    }
}

/// Registers `Backends`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBackends>()?;
    Ok(())
}
