//! The AWS service clients deploykit uses, built once from one SDK configuration.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_autoscaling::config::retry::RetryConfig;
use aws_sdk_autoscaling::config::timeout::TimeoutConfig;
use aws_sdk_autoscaling::config::{Credentials, SharedInterceptor};

/// Attempts per call (first try included) against real AWS: throttling is retried with
/// backoff, a few times only, so that a stuck call surfaces as an error.
pub const MAX_ATTEMPTS: u32 = 4;
/// Time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Time for a whole call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

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
}

impl AwsClients {
    /// Clients from the usual AWS environment: profiles and `AWS_PROFILE`, aws-vault's
    /// environment credentials, `AWS_REGION`, `AWS_ENDPOINT_URL`; standard retries
    /// ([`MAX_ATTEMPTS`], unless `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` say otherwise) and
    /// bounded timeouts.
    pub async fn from_env() -> Self {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).timeout_config(default_timeouts());
        // AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, when set, win over deploykit's default.
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
            && std::env::var_os("AWS_RETRY_MODE").is_none()
        {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        }
        let config = loader.load().await;
        Self::from_sdk_config(&config, &[])
    }

    /// Clients as [`AwsClients::from_env`], with the region, profile and endpoint of the
    /// configuration's `[aws]` table (which already layers `AWS_REGION`, `AWS_PROFILE` and
    /// `AWS_ENDPOINT_URL` over the file). Credentials come from the usual chain.
    pub async fn from_settings(aws: &deploykit_core::config::AwsConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(default_timeouts())
            .region(Region::new(aws.region.clone()));
        if let Some(profile) = &aws.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &aws.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
            && std::env::var_os("AWS_RETRY_MODE").is_none()
        {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        }
        Self::from_sdk_config(&loader.load().await, &[])
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
        }
    }
}

fn default_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}
