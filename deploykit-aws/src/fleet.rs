//! [`AwsFleet`]: the `Fleet` port on Auto Scaling, EC2 and the load balancer APIs.
//!
//! One poll of an environment ([`Fleet::groups`]) costs
//! `ceil(groups in the region / 100)` DescribeAutoScalingGroups pages
//! + `ceil(instances / 1000)` DescribeInstances
//! + `ceil(scheduled actions in the region / 100)` DescribeScheduledActions pages,
//!
//! never a call per group or per instance.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_autoscaling::types::AutoScalingGroup;
use chrono::{DateTime, Utc};
use deploykit_core::error::{Error, ErrorKind, Result};
use deploykit_core::model::fleet::{
    Capacity, CapacityChange, Group, GroupName, HealthStatus, Instance, InstanceId, LbState,
    Lifecycle, ScheduledAction, TargetHealth,
};
use deploykit_core::model::names::EnvName;
use deploykit_core::ports::fleet::Fleet;

use crate::clients::AwsClients;
use crate::errors::map_sdk_error;
use crate::time::{from_sdk, to_sdk};

/// Groups per DescribeAutoScalingGroups page (the API's maximum).
const GROUPS_PER_PAGE: i32 = 100;
/// Scheduled actions per DescribeScheduledActions page (the API's maximum).
const ACTIONS_PER_PAGE: i32 = 100;
/// Instance ids per DescribeInstances call.
const INSTANCES_PER_CALL: usize = 1000;
/// Instances per SetInstanceProtection call (the API's maximum).
const PROTECTION_BATCH: usize = 50;
/// How often DescribeInstances is retried without ids EC2 no longer knows.
const UNKNOWN_ID_RETRIES: usize = 3;

/// The fleet of an AWS account and region.
#[derive(Debug, Clone)]
pub struct AwsFleet {
    clients: AwsClients,
}

/// What EC2 says about one instance.
#[derive(Debug, Clone)]
struct Ec2Details {
    launch_time: DateTime<Utc>,
    tags: BTreeMap<String, String>,
    image_id: Option<String>,
    instance_type: Option<String>,
    availability_zone: Option<String>,
}

impl AwsFleet {
    /// A fleet on these clients.
    pub fn new(clients: AwsClients) -> Self {
        AwsFleet { clients }
    }

    /// DescribeAutoScalingGroups, every page; only `names` when given.
    async fn describe_groups(&self, names: Option<&[String]>) -> Result<Vec<AutoScalingGroup>> {
        let subject = match names {
            Some(n) => format!("groups {}", n.join(", ")),
            None => "all groups".to_string(),
        };
        let mut groups = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .clients
                .autoscaling
                .describe_auto_scaling_groups()
                .set_auto_scaling_group_names(names.map(<[String]>::to_vec))
                .max_records(GROUPS_PER_PAGE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| map_sdk_error("DescribeAutoScalingGroups", &subject, e))?;
            groups.extend(page.auto_scaling_groups().iter().cloned());
            match page.next_token() {
                Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                    token = Some(next.to_string());
                }
                _ => break,
            }
        }
        Ok(groups)
    }

    /// The one group named `name`, NotFound when there is none.
    async fn describe_group(&self, name: &GroupName) -> Result<AutoScalingGroup> {
        let names = [name.to_string()];
        self.describe_groups(Some(&names))
            .await?
            .into_iter()
            .find(|g| g.auto_scaling_group_name() == Some(names[0].as_str()))
            .ok_or_else(|| group_not_found(name, &self.searched()))
    }

    /// Where this fleet looks for groups, as a message names it: `region us-west-2`, plus
    /// `at http://127.0.0.1:5000` when an endpoint is configured (`AWS_ENDPOINT_URL`), its
    /// user, password and query left out.
    pub fn searched(&self) -> String {
        let region = self.clients.region().unwrap_or("(no region set)");
        match self.clients.endpoint_url() {
            Some(endpoint) => format!("region {region} at {}", endpoint_for_display(endpoint)),
            None => format!("region {region}"),
        }
    }

    /// DescribeScheduledActions, every page, of one group or of the whole region.
    async fn describe_actions(
        &self,
        group: Option<&str>,
        names: Option<Vec<String>>,
    ) -> Result<HashMap<String, Vec<ScheduledAction>>> {
        let subject = group.map_or_else(|| "all groups".to_string(), |g| format!("group {g}"));
        let mut actions: HashMap<String, Vec<ScheduledAction>> = HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .clients
                .autoscaling
                .describe_scheduled_actions()
                .set_auto_scaling_group_name(group.map(str::to_string))
                .set_scheduled_action_names(names.clone())
                .max_records(ACTIONS_PER_PAGE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| map_sdk_error("DescribeScheduledActions", &subject, e))?;
            for a in page.scheduled_update_group_actions() {
                let (Some(group), Some(name), Some(start)) = (
                    a.auto_scaling_group_name(),
                    a.scheduled_action_name(),
                    a.start_time().or(a.time()).and_then(from_sdk),
                ) else {
                    tracing::debug!(?a, "scheduled action without group, name or time skipped");
                    continue;
                };
                actions
                    .entry(group.to_string())
                    .or_default()
                    .push(ScheduledAction {
                        name: name.to_string(),
                        start_time: start,
                        change: CapacityChange {
                            min: a.min_size().and_then(to_u32),
                            desired: a.desired_capacity().and_then(to_u32),
                            max: a.max_size().and_then(to_u32),
                        },
                    });
            }
            match page.next_token() {
                Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                    token = Some(next.to_string());
                }
                _ => break,
            }
        }
        for list in actions.values_mut() {
            list.sort_by(|a, b| a.start_time.cmp(&b.start_time).then(a.name.cmp(&b.name)));
        }
        Ok(actions)
    }

    /// DescribeInstances for `ids`, one call per [`INSTANCES_PER_CALL`] ids. Ids EC2 no
    /// longer knows are left out.
    async fn describe_instances(&self, ids: &[String]) -> Result<HashMap<String, Ec2Details>> {
        let mut details = HashMap::new();
        for chunk in ids.chunks(INSTANCES_PER_CALL) {
            let mut wanted: Vec<String> = chunk.to_vec();
            let mut attempt = 0;
            loop {
                if wanted.is_empty() {
                    break;
                }
                let subject = format!("{} instances", wanted.len());
                let result = self
                    .clients
                    .ec2
                    .describe_instances()
                    .set_instance_ids(Some(wanted.clone()))
                    .send()
                    .await;
                match result {
                    Ok(out) => {
                        for r in out.reservations() {
                            for i in r.instances() {
                                if let (Some(id), Some(launch)) =
                                    (i.instance_id(), i.launch_time().and_then(from_sdk))
                                {
                                    details.insert(
                                        id.to_string(),
                                        Ec2Details {
                                            launch_time: launch,
                                            tags: i
                                                .tags()
                                                .iter()
                                                .filter_map(|t| {
                                                    Some((
                                                        t.key()?.to_string(),
                                                        t.value().unwrap_or("").to_string(),
                                                    ))
                                                })
                                                .collect(),
                                            image_id: i.image_id().map(str::to_string),
                                            instance_type: i
                                                .instance_type()
                                                .map(|t| t.as_str().to_string()),
                                            availability_zone: i
                                                .placement()
                                                .and_then(|p| p.availability_zone())
                                                .map(str::to_string),
                                        },
                                    );
                                }
                            }
                        }
                        break;
                    }
                    Err(e) => {
                        let err = map_sdk_error("DescribeInstances", &subject, e);
                        // EC2 refuses the whole call when one id is gone; drop those it names.
                        if err.kind() != ErrorKind::NotFound || attempt >= UNKNOWN_ID_RETRIES {
                            return Err(err);
                        }
                        let text = err.to_string();
                        let before = wanted.len();
                        wanted.retain(|id| !text.contains(id.as_str()));
                        if wanted.len() == before {
                            return Err(err);
                        }
                        attempt += 1;
                    }
                }
            }
        }
        Ok(details)
    }

    /// Builds deploykit groups from named raw groups, with one EC2 lookup for all their
    /// instances.
    async fn assemble(
        &self,
        raw: Vec<(GroupName, AutoScalingGroup)>,
        mut actions: HashMap<String, Vec<ScheduledAction>>,
    ) -> Result<Vec<Group>> {
        let ids: Vec<String> = raw
            .iter()
            .flat_map(|(_, g)| g.instances().iter().filter_map(|i| i.instance_id()))
            .map(str::to_string)
            .collect();
        let details = self.describe_instances(&ids).await?;
        let mut groups = Vec::with_capacity(raw.len());
        for (name, g) in raw {
            let raw_name = name.to_string();
            let capacity = Capacity {
                min: g.min_size().and_then(to_u32).unwrap_or(0),
                desired: g.desired_capacity().and_then(to_u32).unwrap_or(0),
                max: g.max_size().and_then(to_u32).unwrap_or(0),
            };
            let tags = g
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            let mut instances = Vec::new();
            for i in g.instances() {
                let Some(raw_id) = i.instance_id() else {
                    continue;
                };
                let Some(ec2) = details.get(raw_id) else {
                    tracing::debug!(instance = raw_id, "instance unknown to EC2 (gone) skipped");
                    continue;
                };
                let id = InstanceId::new(raw_id)?;
                instances.push(Instance {
                    id,
                    launch_time: ec2.launch_time,
                    lifecycle: lifecycle(i.lifecycle_state().map(|s| s.as_str())),
                    health: if i.health_status() == Some("Healthy") {
                        HealthStatus::Healthy
                    } else {
                        HealthStatus::Unhealthy
                    },
                    protected_from_scale_in: i.protected_from_scale_in().unwrap_or(false),
                    tags: ec2.tags.clone(),
                    image_id: ec2.image_id.clone(),
                    instance_type: ec2
                        .instance_type
                        .clone()
                        .or_else(|| i.instance_type().map(str::to_string)),
                    availability_zone: ec2
                        .availability_zone
                        .clone()
                        .or_else(|| i.availability_zone().map(str::to_string)),
                });
            }
            instances.sort_by(|a, b| a.launch_time.cmp(&b.launch_time).then(a.id.cmp(&b.id)));
            groups.push(Group {
                name,
                capacity,
                health_check_grace_secs: g
                    .health_check_grace_period()
                    .and_then(|s| u64::try_from(s).ok())
                    .unwrap_or(0),
                tags,
                instances,
                scheduled_actions: actions.remove(&raw_name).unwrap_or_default(),
            });
        }
        groups.sort_by_key(|g| g.name.to_string());
        Ok(groups)
    }
}

#[async_trait]
impl Fleet for AwsFleet {
    fn location(&self) -> Option<String> {
        Some(self.searched())
    }

    async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
        // Auto Scaling has no name filter: list the region's groups and keep the env's, those
        // named `<env>-<role>` with a role without '-' (so `dev` leaves out the sandbox
        // `dev-jdoe`'s `dev-jdoe-idp`, and other tools' groups such as
        // `staging-GitLab.Runner` are not deploykit's to list or to fail on).
        let raw: Vec<(GroupName, AutoScalingGroup)> = self
            .describe_groups(None)
            .await?
            .into_iter()
            .filter_map(|g| {
                let raw_name = g.auto_scaling_group_name()?;
                match GroupName::member_of(env, raw_name) {
                    Some(name) => Some((name, g)),
                    None => {
                        if raw_name.starts_with(&format!("{env}-")) {
                            tracing::debug!(
                                group = raw_name,
                                %env,
                                "group of another environment or tool skipped"
                            );
                        }
                        None
                    }
                }
            })
            .collect();
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        // One listing of the region's scheduled actions instead of one per group.
        let actions = self.describe_actions(None, None).await?;
        self.assemble(raw, actions).await
    }

    async fn group(&self, name: &GroupName) -> Result<Group> {
        let raw = self.describe_group(name).await?;
        let group_name = name.to_string();
        let actions = self.describe_actions(Some(&group_name), None).await?;
        self.assemble(vec![(name.clone(), raw)], actions)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| group_not_found(name, &self.searched()))
    }

    async fn set_capacity(&self, group: &GroupName, change: CapacityChange) -> Result<()> {
        let raw = self.describe_group(group).await?;
        let current = Capacity {
            min: raw.min_size().and_then(to_u32).unwrap_or(0),
            desired: raw.desired_capacity().and_then(to_u32).unwrap_or(0),
            max: raw.max_size().and_then(to_u32).unwrap_or(0),
        };
        let next = change.apply(current);
        next.validate()
            .map_err(|e| e.with("group", group).with("current", current))?;
        let name = group.to_string();
        self.clients
            .autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(&name)
            .set_min_size(change.min.map(to_i32))
            .set_desired_capacity(change.desired.map(to_i32))
            .set_max_size(change.max.map(to_i32))
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateAutoScalingGroup", &format!("group {name}"), e))?;
        Ok(())
    }

    async fn put_scheduled_action(
        &self,
        group: &GroupName,
        action: &ScheduledAction,
    ) -> Result<()> {
        let change = action.change;
        if change.min.is_none() && change.desired.is_none() && change.max.is_none() {
            return Err(Error::invalid_input(format!(
                "scheduled action {} on {group} changes nothing: give min, desired or max",
                action.name
            )));
        }
        // Auto Scaling emulators accept actions on missing groups; check first.
        self.describe_group(group).await?;
        let name = group.to_string();
        self.clients
            .autoscaling
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(&name)
            .scheduled_action_name(&action.name)
            .start_time(to_sdk(action.start_time))
            .set_min_size(change.min.map(to_i32))
            .set_desired_capacity(change.desired.map(to_i32))
            .set_max_size(change.max.map(to_i32))
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(
                    "PutScheduledUpdateGroupAction",
                    &format!("scheduled action {} of group {name}", action.name),
                    e,
                )
            })?;
        Ok(())
    }

    async fn delete_scheduled_action(&self, group: &GroupName, name: &str) -> Result<()> {
        let group_name = group.to_string();
        let existing = self
            .describe_actions(Some(&group_name), Some(vec![name.to_string()]))
            .await?;
        let found = existing
            .get(&group_name)
            .is_some_and(|list| list.iter().any(|a| a.name == name));
        if !found {
            return Err(Error::not_found(format!(
                "group {group_name} has no scheduled action {name}; nothing to delete \
                 (`deploykit asg size ENV ROLE` lists them)"
            ))
            .with("group", group)
            .with("action", name));
        }
        self.clients
            .autoscaling
            .delete_scheduled_action()
            .auto_scaling_group_name(&group_name)
            .scheduled_action_name(name)
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(
                    "DeleteScheduledAction",
                    &format!("scheduled action {name} of group {group_name}"),
                    e,
                )
            })?;
        Ok(())
    }

    async fn set_scale_in_protection(
        &self,
        group: &GroupName,
        instances: &[InstanceId],
        protected: bool,
    ) -> Result<()> {
        let name = group.to_string();
        for chunk in instances.chunks(PROTECTION_BATCH) {
            self.clients
                .autoscaling
                .set_instance_protection()
                .auto_scaling_group_name(&name)
                .set_instance_ids(Some(chunk.iter().map(|i| i.to_string()).collect()))
                .protected_from_scale_in(protected)
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error(
                        "SetInstanceProtection",
                        &format!("{} instances of group {name}", chunk.len()),
                        e,
                    )
                })?;
        }
        Ok(())
    }

    async fn load_balancer_health(&self, group: &GroupName) -> Result<Vec<TargetHealth>> {
        let raw = self.describe_group(group).await?;
        let members: Vec<&str> = raw
            .instances()
            .iter()
            .filter_map(|i| i.instance_id())
            .collect();
        let mut health = Vec::new();
        for arn in raw.target_group_arns() {
            let out = self
                .clients
                .elbv2
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error("DescribeTargetHealth", &format!("target group {arn}"), e)
                })?;
            for d in out.target_health_descriptions() {
                let Some(id) = d.target().and_then(|t| t.id()) else {
                    continue;
                };
                if !members.contains(&id) {
                    continue;
                }
                let th = d.target_health();
                health.push(TargetHealth {
                    instance_id: InstanceId::new(id)?,
                    state: lb_state_v2(th.and_then(|t| t.state()).map(|s| s.as_str())),
                    reason: th
                        .and_then(|t| t.description().or(t.reason().map(|r| r.as_str())))
                        .map(str::to_string),
                });
            }
        }
        for lb in raw.load_balancer_names() {
            let out = self
                .clients
                .elb
                .describe_instance_health()
                .load_balancer_name(lb)
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error("DescribeInstanceHealth", &format!("load balancer {lb}"), e)
                })?;
            for s in out.instance_states() {
                let Some(id) = s.instance_id() else {
                    continue;
                };
                if !members.contains(&id) {
                    continue;
                }
                health.push(TargetHealth {
                    instance_id: InstanceId::new(id)?,
                    state: lb_state_classic(s.state(), s.reason_code()),
                    reason: s
                        .description()
                        .filter(|d| !d.is_empty() && *d != "N/A")
                        .map(str::to_string),
                });
            }
        }
        Ok(health)
    }
}

/// NotFound for the group `name`, naming where it was looked for (`searched`, see
/// [`AwsFleet::searched`]) so that a wrong region or endpoint shows.
fn group_not_found(name: &GroupName, searched: &str) -> Error {
    Error::not_found(format!(
        "no Auto Scaling group named {name} in {searched}; check the environment and role \
         (`deploykit servers ls -e {}` lists the environment's servers and their roles), and \
         that AWS_REGION / AWS_ENDPOINT_URL point where it runs",
        name.env
    ))
    .with("group", name)
}

/// An endpoint URL without what could be a secret: the user and password before `@`, the
/// query and the fragment (`https://user:pw@host:1/p?x=y` shows as `https://host:1/p`).
fn endpoint_for_display(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

fn to_u32(v: i32) -> Option<u32> {
    u32::try_from(v).ok()
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Auto Scaling lifecycle state names to [`Lifecycle`].
fn lifecycle(state: Option<&str>) -> Lifecycle {
    match state.unwrap_or("") {
        s if s.starts_with("Pending") => Lifecycle::Pending,
        "InService" => Lifecycle::InService,
        "Standby" | "EnteringStandby" => Lifecycle::Standby,
        s if s.starts_with("Terminating") => Lifecycle::Terminating,
        "Terminated" => Lifecycle::Terminated,
        "Detaching" | "Detached" => Lifecycle::Detaching,
        _ => Lifecycle::Other,
    }
}

/// Target group health states (elbv2) to [`LbState`].
fn lb_state_v2(state: Option<&str>) -> LbState {
    match state.unwrap_or("") {
        "healthy" => LbState::Healthy,
        "initial" => LbState::Initial,
        "unhealthy" | "unhealthy.draining" => LbState::Unhealthy,
        "draining" => LbState::Draining,
        "unused" => LbState::Unused,
        _ => LbState::Unavailable,
    }
}

/// Classic load balancer instance states to [`LbState`].
fn lb_state_classic(state: Option<&str>, reason_code: Option<&str>) -> LbState {
    match (state.unwrap_or(""), reason_code.unwrap_or("")) {
        ("InService", _) => LbState::Healthy,
        ("OutOfService", "ELB") => LbState::Unhealthy,
        ("OutOfService", _) => LbState::Initial,
        _ => LbState::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_group_names_the_command_that_lists_the_servers() {
        let env = deploykit_core::EnvName::new("prod").expect("env");
        let role = deploykit_core::RoleName::new("nosuch").expect("role");
        let message = group_not_found(&GroupName::new(&env, &role), "region us-east-1").to_string();
        assert!(
            message.contains("no Auto Scaling group named prod-nosuch in region us-east-1")
                && message.contains("`deploykit servers ls -e prod`"),
            "{message}"
        );
        assert!(!message.contains("ls-servers"), "{message}");
    }

    #[test]
    fn endpoints_are_shown_without_credentials_or_query() {
        assert_eq!(
            endpoint_for_display("http://127.0.0.1:5000"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            endpoint_for_display(
                "https://user:s3cret@vpce.example.com:8443/base?X-Amz-Security-Token=tok#f"
            ),
            "https://vpce.example.com:8443/base"
        );
        assert_eq!(endpoint_for_display("jdoe:pw@localhost"), "localhost");
    }

    #[test]
    fn lifecycle_states_map() {
        assert_eq!(lifecycle(Some("Pending:Wait")), Lifecycle::Pending);
        assert_eq!(lifecycle(Some("InService")), Lifecycle::InService);
        assert_eq!(
            lifecycle(Some("Terminating:Proceed")),
            Lifecycle::Terminating
        );
        assert_eq!(lifecycle(Some("Warmed:Running")), Lifecycle::Other);
        assert_eq!(lifecycle(None), Lifecycle::Other);
    }

    #[test]
    fn load_balancer_states_map() {
        assert_eq!(lb_state_v2(Some("healthy")), LbState::Healthy);
        assert_eq!(lb_state_v2(Some("unhealthy.draining")), LbState::Unhealthy);
        assert_eq!(lb_state_v2(Some("weird")), LbState::Unavailable);
        assert_eq!(lb_state_classic(Some("InService"), None), LbState::Healthy);
        assert_eq!(
            lb_state_classic(Some("OutOfService"), Some("ELB")),
            LbState::Unhealthy
        );
        assert_eq!(
            lb_state_classic(Some("OutOfService"), Some("Instance")),
            LbState::Initial
        );
    }
}
