//! The AWS service clients deploykit uses, built once from one SDK configuration.

use std::ffi::OsString;
use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_autoscaling::config::retry::{RetryConfig, RetryMode};
use aws_sdk_autoscaling::config::timeout::TimeoutConfig;
use aws_sdk_autoscaling::config::{Credentials, SharedInterceptor};
use deploykit_core::error::{Error, Result};

/// Attempts per call (first try included) against real AWS: throttling is retried with
/// backoff, a few times only, so that a stuck call surfaces as an error.
pub const MAX_ATTEMPTS: u32 = 4;
/// Time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Time for a whole call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts per call (first try included) when set: an integer >= 1.
pub const MAX_ATTEMPTS_VAR: &str = "AWS_MAX_ATTEMPTS";
/// The retry mode when set: `standard` or `adaptive`.
pub const RETRY_MODE_VAR: &str = "AWS_RETRY_MODE";

/// Clients for Auto Scaling, EC2, SSM, CloudWatch Logs and both load balancer APIs.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// Auto Scaling.
    pub autoscaling: aws_sdk_autoscaling::Client,
    /// EC2 (instance details).
    pub ec2: aws_sdk_ec2::Client,
    /// Systems Manager (Run Command, Parameter Store).
    pub ssm: aws_sdk_ssm::Client,
    /// CloudWatch Logs and Logs Insights.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Application / Network load balancers (target groups).
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Classic load balancers.
    pub elb: aws_sdk_elasticloadbalancing::Client,
    /// The endpoint every client was configured with (`AWS_ENDPOINT_URL`), if any.
    endpoint_url: Option<String>,
}

impl AwsClients {
    /// Clients from the usual AWS environment: profiles and `AWS_PROFILE`, aws-vault's
    /// environment credentials, `AWS_REGION`, `AWS_ENDPOINT_URL`; standard retries
    /// ([`MAX_ATTEMPTS`], unless `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` say otherwise, see
    /// [`retry_config_from_env`]) and bounded timeouts.
    ///
    /// Errors: InvalidInput naming the variable, its value and what is accepted when
    /// `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` is invalid (the SDK would panic on it).
    pub async fn from_env() -> Result<Self> {
        Self::build(aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Clients as [`AwsClients::from_env`], with the region, profile and endpoint of the
    /// configuration's `[aws]` table (which already layers `AWS_REGION`, `AWS_PROFILE` and
    /// `AWS_ENDPOINT_URL` over the file). Credentials come from the usual chain. Errors as
    /// [`AwsClients::from_env`]'s.
    pub async fn from_settings(aws: &deploykit_core::config::AwsConfig) -> Result<Self> {
        Self::build(settings_loader(aws)).await
    }

    /// Loads `loader` with the environment's retries, always explicit, so that aws-config
    /// never parses the retry variables itself (it panics on a bad value).
    async fn build(loader: ConfigLoader) -> Result<Self> {
        let config = loader
            .timeout_config(default_timeouts())
            .retry_config(retry_config_from_env()?)
            .load()
            .await;
        Ok(Self::from_sdk_config(&config, &[]))
    }

    /// The region the clients call (`AWS_REGION`, the profile's or `[aws] region`), if any.
    pub fn region(&self) -> Option<&str> {
        self.autoscaling.config().region().map(AsRef::as_ref)
    }

    /// The endpoint the clients were configured with (`AWS_ENDPOINT_URL` or
    /// [`AwsClients::for_endpoint`]'s), if any. It may carry credentials in its user part:
    /// show it only without them.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// Clients for an explicit endpoint (a local emulator such as moto), region and static
    /// credentials, without retries (an emulator's 500 page is not worth retrying).
    pub async fn for_endpoint(
        endpoint_url: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        interceptors: &[SharedInterceptor],
    ) -> Self {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "deploykit-static",
        );
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials)
            .retry_config(RetryConfig::disabled())
            .timeout_config(default_timeouts())
            .load()
            .await;
        Self::from_sdk_config(&config, interceptors)
    }

    /// Clients from a loaded SDK configuration, each with `interceptors` added (e.g. a call
    /// counter in tests).
    pub fn from_sdk_config(config: &SdkConfig, interceptors: &[SharedInterceptor]) -> Self {
        macro_rules! client {
            ($krate:ident) => {{
                let mut builder = $krate::config::Builder::from(config);
                for interceptor in interceptors {
                    builder.push_interceptor(interceptor.clone());
                }
                $krate::Client::from_conf(builder.build())
            }};
        }
        AwsClients {
            autoscaling: client!(aws_sdk_autoscaling),
            ec2: client!(aws_sdk_ec2),
            ssm: client!(aws_sdk_ssm),
            logs: client!(aws_sdk_cloudwatchlogs),
            elbv2: client!(aws_sdk_elasticloadbalancingv2),
            elb: client!(aws_sdk_elasticloadbalancing),
            endpoint_url: config.endpoint_url().map(str::to_string),
        }
    }
}

/// An SDK loader with the region, profile and endpoint of the `[aws]` table.
fn settings_loader(aws: &deploykit_core::config::AwsConfig) -> ConfigLoader {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(aws.region.clone()));
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &aws.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader
}

/// deploykit's retries: standard, [`MAX_ATTEMPTS`] attempts.
fn default_retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

/// The retry configuration of this process's environment: `AWS_MAX_ATTEMPTS` attempts
/// (default [`MAX_ATTEMPTS`]) in `AWS_RETRY_MODE` (default `standard`).
///
/// The variables are checked here, before the SDK sees them (aws-config panics on a bad
/// value): InvalidInput naming the variable, its value and what is accepted when
/// `AWS_MAX_ATTEMPTS` is not an integer >= 1 or `AWS_RETRY_MODE` is neither `standard` nor
/// `adaptive`. The profile's `max_attempts` and `retry_mode` keys are not read.
pub fn retry_config_from_env() -> Result<RetryConfig> {
    retry_config_from(|name| std::env::var_os(name))
}

/// [`retry_config_from_env`] over any variable lookup.
fn retry_config_from(var: impl Fn(&str) -> Option<OsString>) -> Result<RetryConfig> {
    let text = |name: &str, accepted: &str| -> Result<Option<String>> {
        match var(name) {
            None => Ok(None),
            Some(value) => value.into_string().map(Some).map_err(|value| {
                refused(name, &value.to_string_lossy(), accepted, "not valid UTF-8")
            }),
        }
    };
    let mut retry = default_retry_config();
    const ATTEMPTS: &str = "an integer >= 1 (attempts per call, the first included)";
    if let Some(value) = text(MAX_ATTEMPTS_VAR, ATTEMPTS)? {
        let attempts = match value.parse::<u32>() {
            Ok(0) => Err("0 attempts would never call AWS"),
            Ok(n) => Ok(n),
            Err(_) if value.is_empty() => Err("it is empty"),
            Err(_) => Err("not a whole number from 1 to 4294967295"),
        }
        .map_err(|why| refused(MAX_ATTEMPTS_VAR, &value, ATTEMPTS, why))?;
        retry = retry.with_max_attempts(attempts);
    }
    const MODES: &str = "standard or adaptive";
    if let Some(value) = text(RETRY_MODE_VAR, MODES)? {
        let mode = value
            .parse::<RetryMode>()
            .map_err(|_| refused(RETRY_MODE_VAR, &value, MODES, "not a retry mode"))?;
        retry = retry.with_retry_mode(mode);
    }
    Ok(retry)
}

/// InvalidInput for the environment variable `name` set to `value`.
fn refused(name: &str, value: &str, accepted: &str, why: &str) -> Error {
    Error::invalid_input(format!(
        "{name} is set to {value:?} ({why}); it must be {accepted}: fix or unset it \
         (`unset {name}`)"
    ))
    .with("variable", name)
}

fn default_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploykit_core::error::ErrorKind;

    fn from(vars: &[(&str, &str)]) -> Result<RetryConfig> {
        retry_config_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn retry_settings_default_to_deploykits_and_follow_the_variables() {
        let default = from(&[]).expect("no variables");
        assert_eq!(
            (default.max_attempts(), default.mode()),
            (MAX_ATTEMPTS, RetryMode::Standard)
        );
        let set = from(&[("AWS_MAX_ATTEMPTS", "7"), ("AWS_RETRY_MODE", "Adaptive")])
            .expect("valid variables");
        assert_eq!((set.max_attempts(), set.mode()), (7, RetryMode::Adaptive));
    }

    #[test]
    fn bad_retry_settings_name_the_variable_its_value_and_what_is_accepted() {
        for (var, value, accepted) in [
            ("AWS_MAX_ATTEMPTS", "", "an integer >= 1"),
            ("AWS_MAX_ATTEMPTS", "abc", "an integer >= 1"),
            ("AWS_MAX_ATTEMPTS", "0", "an integer >= 1"),
            ("AWS_MAX_ATTEMPTS", "99999999999", "an integer >= 1"),
            ("AWS_RETRY_MODE", "bogus", "standard or adaptive"),
        ] {
            let err = from(&[(var, value)]).expect_err(value);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            let text = err.to_string();
            assert!(
                text.contains(&format!("{var} is set to {value:?}")) && text.contains(accepted),
                "{text}"
            );
        }
    }
}
