//! The configuration users write: `deploykit.toml` (found by [`find_config_file`]), then
//! environment variables, then CLI flags, each overriding the one before.
//!
//! - [`resolve`] / [`check`]: pure functions of the file text, an environment map and a
//!   flag-override map (testable without the process environment);
//! - [`load`]: the same with the process environment and file discovery (the CLI's entry);
//! - [`render_show`] / [`show_json`]: `deploykit config show` (as TOML / JSON); [`check`]:
//!   `deploykit config check`.
//!
//! Unknown keys are errors naming the key path and the closest valid key; secrets written
//! into the file are errors pointing to the environment variable or a `*_file` key. Every
//! duration and count has a range (`bounds.rs`). No problem message, warning or `config
//! show` prints a secret value deploykit was given, a URL's password or a secret-looking
//! query parameter (`mask.rs`). What is suspicious but not wrong (a secret file ignored
//! because its environment variable is set) is a warning: [`check_report`],
//! [`EffectiveConfig::warnings`]. With no
//! file the defaults reproduce the Login.gov setup of the guide. A file with its own `[apps]`
//! (or `[environments]`) lists every app (environment) there is; built-in names (`idp`,
//! `pki`; `prod`, `staging`, `int`) start from their built-in settings.
//!
//! ```toml
//! [apps.idp]
//! production_branch = "stages/prod"
//!
//! # Deploy status documents (`/api/deploy.json`) by environment, for `deploykit status` and
//! # the RC cut. Staging's of idp and pki are built in; `staging` here replaces it (and is
//! # the same setting as the older `staging_deploy_status_url`: give one, or both equal).
//! # These URLs are not secrets: `config show` and errors print them in full.
//! [apps.idp.deploy_status_urls]
//! prod = "https://secure.login.gov/api/deploy.json"
//!
//! [environments.prod]
//! production = true
//! follow_up_after_secs = 3600
//!
//! [notifier]
//! kind = "slack-webhook"
//! webhook_url_file = "/run/secrets/slack-appdev"
//! channels = { main = "#login-appdev", cross_post = "#login-delivery", devops = "#login-devops" }
//!
//! [monitor]
//! kind = "cloudwatch"
//! min_requests = 1000
//!
//! [cadence]
//! deploy_days = ["tue", "thu"]
//! freezes = [{ start = 2026-12-21, end = 2027-01-01, reason = "holidays" }]
//! ```

mod bounds;
mod cadence_policy;
mod discover;
mod effective;
mod env_settings;
mod keys;
mod layers;
mod mask;
mod problem;
mod schema;
mod secret;
mod sections;
mod show;
mod walk;

pub use discover::{FILE_NAME, candidates, find_config_file, load};
pub use effective::{
    CheckReport, EffectiveConfig, Secrets, check, check_report, resolve, resolve_file,
};
pub use keys::edit_distance;
pub use layers::{CONFIG_ENV, DEPLOYKIT_ENV, STANDARD_ENV};
#[cfg(feature = "http")]
pub(crate) use mask::Masker;
pub use problem::ConfigProblem;
pub use schema::{
    AwsConfig, CadenceConfig, ChannelsConfig, DateSpan, EnvironmentConfig, GithubConfig,
    MonitorConfig, MonitorKind, NewRelicConfig, NotifierConfig, NotifierKind, RedactionConfig,
};
pub use secret::{REDACTED, Secret, SecretSource, SourcedSecret};
pub use show::{render_show, show_json};

#[cfg(test)]
mod review_tests;
#[cfg(test)]
mod tests;
