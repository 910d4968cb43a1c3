//! The core contract suites (`deploykit_core::contract`) run against the AWS ports on moto.
//!
//! Capabilities moto lacks, so the suite skips those checks (it prints why):
//! - scheduled actions are stored but never fire (`fires_scheduled_actions: false`);
//! - time cannot be advanced, so instances launched "minutes apart" share a launch second
//!   and the oldest-first termination order cannot be observed (`terminates_oldest_first:
//!   false`);
//! - clearing scale-in protection does not make the group scale in by itself
//!   (`scales_in_when_protection_cleared: false`; a later capacity change does, see
//!   `moto_fleet.rs`).
//!
//! Target health is `healthy` at once on moto, so `load_balancer_health_listed` passes
//! without showing the `initial` phase.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
use chrono::{DateTime, Utc};
use deploykit_aws::moto::MotoServer;
use deploykit_aws::{AwsClients, AwsFleet, CloudWatchMigrationLogs, SsmDeployLock};
use deploykit_core::contract;
use deploykit_core::contract::fleet::{FleetCapabilities, FleetHarness};
use deploykit_core::contract::log_source::LogHarness;
use deploykit_core::model::fleet::{GroupName, InstanceId};
use deploykit_core::model::names::EnvName;
use deploykit_core::ports::clock::SystemClock;
use deploykit_core::ports::fleet::Fleet;
use deploykit_core::ports::log_source::LogSource;

struct MotoFleet {
    clients: AwsClients,
    fleet: AwsFleet,
    vpc: String,
    subnet: String,
}

#[async_trait]
impl FleetHarness for MotoFleet {
    fn fleet(&self) -> &dyn Fleet {
        &self.fleet
    }
    fn env(&self) -> EnvName {
        support::env("contract")
    }
    fn other_env(&self) -> EnvName {
        support::env("contractother")
    }
    async fn create_group(&self, name: &GroupName, desired: u32) -> Result<(), String> {
        let n = name.to_string();
        let _ = self
            .clients
            .autoscaling
            .delete_auto_scaling_group()
            .auto_scaling_group_name(&n)
            .force_delete(true)
            .send()
            .await;
        let tg_name: String = n
            .chars()
            .rev()
            .take(32)
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        let tg = self
            .clients
            .elbv2
            .create_target_group()
            .name(tg_name.trim_start_matches('-'))
            .protocol(ProtocolEnum::Http)
            .port(443)
            .vpc_id(&self.vpc)
            .target_type(TargetTypeEnum::Instance)
            .send()
            .await
            .map_err(|e| format!("create target group for {n}: {e:?}"))?;
        let arn = tg.target_groups()[0]
            .target_group_arn()
            .unwrap()
            .to_string();
        self.clients
            .autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(&n)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_name("deploykit-test")
                    .version("$Latest")
                    .build(),
            )
            .min_size(0)
            .max_size(10)
            .desired_capacity(desired as i32)
            .health_check_grace_period(300)
            .vpc_zone_identifier(&self.subnet)
            .target_group_arns(arn)
            .send()
            .await
            .map_err(|e| format!("create group {n}: {e:?}"))?;
        Ok(())
    }
    async fn advance(&self, _by: Duration) {}
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn capabilities(&self) -> FleetCapabilities {
        FleetCapabilities {
            fires_scheduled_actions: false,
            terminates_oldest_first: false,
            scales_in_when_protection_cleared: false,
            load_balancer: true,
        }
    }
}

#[tokio::test]
async fn aws_fleet_on_moto_meets_the_fleet_contract() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    let (vpc, subnet) = support::network(&clients).await;
    let h = MotoFleet {
        fleet: AwsFleet::new(clients.clone()),
        clients,
        vpc,
        subnet,
    };
    contract::fleet::all(&h).await.unwrap();
}

#[tokio::test]
async fn ssm_deploy_lock_on_moto_meets_the_lock_contract() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let lock = SsmDeployLock::new(moto.clients().await, Arc::new(SystemClock));
    contract::deploy_lock::all(&lock, Utc::now()).await.unwrap();
}

/// A log stream that grows by one line each time time "passes".
struct MotoLogs {
    clients: AwsClients,
    source: CloudWatchMigrationLogs,
    instance: InstanceId,
    written: AtomicUsize,
    ticks: AtomicUsize,
}

impl MotoLogs {
    async fn append(&self) {
        let n = self.written.fetch_add(1, Ordering::SeqCst);
        self.clients
            .logs
            .put_log_events()
            .log_group_name(self.source.log_group())
            .log_stream_name(self.source.stream_name(&self.instance))
            .log_events(
                InputLogEvent::builder()
                    .timestamp(Utc::now().timestamp_millis() + n as i64)
                    .message(format!("provision line {n}"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[async_trait]
impl LogHarness for MotoLogs {
    fn source(&self) -> &dyn LogSource {
        &self.source
    }
    async fn instance_with_log(&self) -> Result<InstanceId, String> {
        let group = self.source.log_group().to_string();
        let _ = self
            .clients
            .logs
            .create_log_group()
            .log_group_name(&group)
            .send()
            .await;
        self.clients
            .logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(self.source.stream_name(&self.instance))
            .send()
            .await
            .map_err(|e| format!("create stream: {e:?}"))?;
        self.append().await;
        Ok(self.instance.clone())
    }
    fn unknown_instance(&self) -> InstanceId {
        InstanceId::new("i-0fffffffffffffff0").unwrap()
    }
    async fn advance(&self, _by: Duration) {
        // Every other tick the agent ships a line (up to 8), so some reads find nothing new.
        let tick = self.ticks.fetch_add(1, Ordering::SeqCst);
        if tick % 2 == 1 && self.written.load(Ordering::SeqCst) < 8 {
            self.append().await;
        }
    }
}

#[tokio::test]
async fn cloudwatch_migration_logs_on_moto_meet_the_log_contract() {
    let Some(moto) = MotoServer::start_or_skip() else {
        return;
    };
    let clients = moto.clients().await;
    let h = MotoLogs {
        source: CloudWatchMigrationLogs::new(clients.clone(), &support::env("prod")),
        clients,
        instance: InstanceId::new("i-0abc123def4567890").unwrap(),
        written: AtomicUsize::new(0),
        ticks: AtomicUsize::new(0),
    };
    contract::log_source::all(&h).await.unwrap();
}
