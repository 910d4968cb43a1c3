//! deploykit's ports on the real AWS SDKs: [`AwsFleet`] (Auto Scaling, EC2, load balancers),
//! [`CloudWatchMigrationLogs`] and [`SsmTailLogs`] (migration logs), [`LogsInsightsMonitor`]
//! (per-SHA request figures) and [`SsmDeployLock`] (deploy lock in Parameter Store).
//!
//! Build clients with [`AwsClients::from_env`] (profiles, aws-vault, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`) or [`AwsClients::for_endpoint`] (tests against moto). The IAM actions
//! deploykit needs are in `deploykit-aws/iam-policy.json`. With the `moto-harness` feature,
//! the `moto` module starts a moto server for tests.

pub mod clients;
pub mod deploy_lock;
mod errors;
pub mod fleet;
pub mod migration_logs;
pub mod monitor;
pub mod ssm_tail;
mod time;

#[cfg(feature = "moto-harness")]
pub mod moto;

pub use clients::AwsClients;
pub use deploy_lock::SsmDeployLock;
pub use fleet::AwsFleet;
pub use migration_logs::CloudWatchMigrationLogs;
pub use monitor::LogsInsightsMonitor;
pub use ssm_tail::SsmTailLogs;
