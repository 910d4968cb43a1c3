//! Fixtures seeded through the SDK into a moto server, shared by the moto test files.
#![allow(dead_code, clippy::unwrap_used)]

use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag};
use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
use deploykit_aws::AwsClients;
use deploykit_core::model::fleet::GroupName;
use deploykit_core::model::names::{EnvName, RoleName};

/// The SHA the seeded idp instances carry in their `gitsha:idp` tag.
pub const IDP_SHA: &str = "0123456789abcdef0123456789abcdef01234567";
/// The AMI moto knows.
pub const AMI: &str = "ami-12c6146b";

/// What the seed created.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub subnet: String,
    pub vpc: String,
    pub target_group_arn: String,
}

pub fn env(name: &str) -> EnvName {
    EnvName::new(name).unwrap()
}

pub fn group(env_name: &str, role: &str) -> GroupName {
    GroupName::new(&env(env_name), &RoleName::new(role).unwrap())
}

/// VPC, subnet and a launch template `deploykit-test`.
pub async fn network(c: &AwsClients) -> (String, String) {
    let vpc = c
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let subnet = c
        .ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.0.0/18")
        .availability_zone("us-west-2a")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    c.ec2
        .create_launch_template()
        .launch_template_name("deploykit-test")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Small)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (vpc, subnet)
}

/// An Auto Scaling group named `name` with protected instances and extra tags (propagated).
pub async fn create_group(
    c: &AwsClients,
    subnet: &str,
    name: &str,
    desired: i32,
    max: i32,
    tags: &[(&str, &str)],
    target_group_arn: Option<&str>,
) {
    let mut req = c
        .autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_name("deploykit-test")
                .version("$Latest")
                .build(),
        )
        .min_size(0)
        .max_size(max)
        .desired_capacity(desired)
        .vpc_zone_identifier(subnet)
        .health_check_grace_period(300)
        .new_instances_protected_from_scale_in(true)
        .set_target_group_arns(target_group_arn.map(|a| vec![a.to_string()]));
    for (k, v) in tags {
        req = req.tags(
            Tag::builder()
                .key(*k)
                .value(*v)
                .propagate_at_launch(true)
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .build(),
        );
    }
    req.send().await.unwrap();
}

/// The standard fixture: `prod-idp` (desired 2, max 8, protected, gitsha:idp, a target
/// group), `prod-migration` (utility, desired 0) and `staging-idp` (another environment).
pub async fn seed(c: &AwsClients) -> Seeded {
    let (vpc, subnet) = network(c).await;
    let tg = c
        .elbv2
        .create_target_group()
        .name("prod-idp")
        .protocol(ProtocolEnum::Http)
        .port(443)
        .vpc_id(&vpc)
        .target_type(TargetTypeEnum::Instance)
        .send()
        .await
        .unwrap();
    let target_group_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    create_group(
        c,
        &subnet,
        "prod-idp",
        2,
        8,
        &[("gitsha:idp", IDP_SHA), ("Name", "asg-prod-idp")],
        Some(&target_group_arn),
    )
    .await;
    create_group(
        c,
        &subnet,
        "prod-migration",
        0,
        1,
        &[("utility", "true"), ("Name", "asg-prod-migration")],
        None,
    )
    .await;
    create_group(c, &subnet, "staging-idp", 1, 2, &[], None).await;
    Seeded {
        subnet,
        vpc,
        target_group_arn,
    }
}

/// Puts `group`'s instances past their health check grace period at once (time the tests
/// cannot wait for): the grace period becomes 0.
pub async fn end_grace_period(c: &AwsClients, group: &str) {
    c.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(group)
        .health_check_grace_period(0)
        .send()
        .await
        .unwrap();
}
