//! ls-servers: the instances of an environment, one row each, with load-balancer health
//! when a role is given (as cloudlib's `ls-servers -e <env> -r <role>`).

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::fleet_ops::{FleetContext, env_groups};
use crate::model::fleet::{Group, GroupName, HealthStatus, InstanceId, LbState, Lifecycle};
use crate::model::names::{EnvName, RoleName};
use crate::model::sha::Sha;

/// One instance as ls-servers shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerRow {
    /// The group it belongs to.
    pub group: GroupName,
    /// Instance id.
    pub instance_id: InstanceId,
    /// AMI id.
    pub image_id: Option<String>,
    /// `Name` tag (`asg-<env>-<role>` when untagged).
    pub name: String,
    /// Instance type.
    pub instance_type: Option<String>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Auto Scaling lifecycle state.
    pub lifecycle: Lifecycle,
    /// Auto Scaling health.
    pub health: HealthStatus,
    /// Whether it is protected from scale-in.
    pub protected_from_scale_in: bool,
    /// Load-balancer state (only read when a role is given).
    pub lb_state: Option<LbState>,
    /// When it was launched.
    pub launch_time: DateTime<Utc>,
    /// Seconds since launch.
    pub uptime_secs: u64,
    /// The deployed SHA (`gitsha:*` tag).
    pub deployed_sha: Option<Sha>,
}

/// Builds the rows of `groups` at `now` (pure; `lb` gives the load-balancer state of an
/// instance when known). Rows are sorted by group, then launch time.
pub fn server_rows(
    groups: &[Group],
    now: DateTime<Utc>,
    lb: &dyn Fn(&GroupName, &InstanceId) -> Option<LbState>,
) -> Vec<ServerRow> {
    let mut rows = Vec::new();
    for g in groups {
        let mut instances: Vec<_> = g.instances.iter().collect();
        instances.sort_by(|a, b| a.launch_time.cmp(&b.launch_time).then(a.id.cmp(&b.id)));
        for i in instances {
            let uptime = (now - i.launch_time).num_seconds().max(0);
            rows.push(ServerRow {
                group: g.name.clone(),
                instance_id: i.id.clone(),
                image_id: i.image_id.clone(),
                name: i
                    .tags
                    .get("Name")
                    .cloned()
                    .unwrap_or_else(|| g.name.instance_name()),
                instance_type: i.instance_type.clone(),
                availability_zone: i.availability_zone.clone(),
                lifecycle: i.lifecycle,
                health: i.health,
                protected_from_scale_in: i.protected_from_scale_in,
                lb_state: lb(&g.name, &i.id),
                launch_time: i.launch_time,
                uptime_secs: u64::try_from(uptime).unwrap_or(0),
                deployed_sha: i.deployed_sha(),
            });
        }
    }
    rows
}

/// Lists the servers of `env`, or of one role, with the load-balancer health of every
/// instance behind one (ls-servers showed it only for a role, and `-` read as "not
/// registered"). NotFound when the environment has no group ([`env_groups`]), or the role
/// none.
pub async fn list_servers(
    ctx: &FleetContext<'_>,
    env: &EnvName,
    role: Option<&RoleName>,
) -> Result<Vec<ServerRow>> {
    let all = env_groups(ctx.fleet, env).await?;
    let groups = match role {
        Some(r) => vec![ctx.fleet.group(&GroupName::new(env, r)).await?],
        None => all,
    };
    let mut health = Vec::new();
    for g in &groups {
        for t in ctx.fleet.load_balancer_health(&g.name).await? {
            health.push((g.name.clone(), t.instance_id, t.state));
        }
    }
    let lookup = |g: &GroupName, i: &InstanceId| {
        health
            .iter()
            .find(|(hg, hi, _)| hg == g && hi == i)
            .map(|(_, _, s)| *s)
    };
    Ok(server_rows(&groups, ctx.clock.now(), &lookup))
}

/// Uptime as `3d 04h12m`, `2h05m` or `7m`.
pub fn format_uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d}d {h:02}h{m:02}m")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else {
        format!("{m}m")
    }
}

fn lb_text(s: Option<LbState>) -> &'static str {
    match s {
        None => "-",
        Some(LbState::Healthy) => "healthy",
        Some(LbState::Initial) => "initial",
        Some(LbState::Unhealthy) => "unhealthy",
        Some(LbState::Draining) => "draining",
        Some(LbState::Unused) => "unused",
        Some(LbState::Unavailable) => "unavailable",
    }
}

/// Renders rows as a plain-text table with ls-servers' columns, and Auto Scaling's health
/// (HEALTH: an unhealthy instance is about to be replaced, whatever its load balancer says)
/// beside the load balancer's (LB).
pub fn render_servers(rows: &[ServerRow]) -> String {
    let header = [
        "INSTANCE", "IMAGE", "NAME", "TYPE", "AZ", "STATE", "HEALTH", "LB", "LAUNCHED", "UPTIME",
        "SHA",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.instance_id.to_string(),
                r.image_id.clone().unwrap_or_else(|| "-".into()),
                r.name.clone(),
                r.instance_type.clone().unwrap_or_else(|| "-".into()),
                r.availability_zone.clone().unwrap_or_else(|| "-".into()),
                r.lifecycle.to_string(),
                match r.health {
                    HealthStatus::Healthy => "healthy",
                    HealthStatus::Unhealthy => "unhealthy",
                }
                .to_string(),
                lb_text(r.lb_state).to_string(),
                r.launch_time.format("%Y-%m-%d %H:%M:%S").to_string(),
                format_uptime(r.uptime_secs),
                r.deployed_sha
                    .as_ref()
                    .map(|s| s.short().to_string())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    crate::fleet_ops::table::render(&header, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet_ops::test_support::*;
    use crate::model::fleet::TargetHealth;

    #[test]
    fn uptime_reads_like_a_person_would_write_it() {
        assert_eq!(format_uptime(59), "0m");
        assert_eq!(format_uptime(7 * 60), "7m");
        assert_eq!(format_uptime(2 * 3600 + 5 * 60), "2h05m");
        assert_eq!(format_uptime(3 * 86_400 + 4 * 3600 + 12 * 60), "3d 04h12m");
    }

    #[test]
    fn rows_carry_name_sha_uptime_and_lb_state() {
        let mut idp = group("idp", 1, 2, 4);
        let mut a = inst(2, -600);
        a.tags.insert("gitsha:idp".into(), "a".repeat(40));
        a.tags.insert("Name".into(), "asg-prod-idp".into());
        let mut old = inst(1, -7200);
        old.health = HealthStatus::Unhealthy;
        idp.instances = vec![a, old];
        let rows = server_rows(&[idp], t0(), &|_, i| {
            Some(if i == &iid(2) {
                LbState::Initial
            } else {
                LbState::Healthy
            })
        });
        assert_eq!(rows[0].instance_id, iid(1), "oldest first");
        assert_eq!(rows[0].uptime_secs, 7200);
        assert_eq!(rows[0].name, "asg-prod-idp");
        assert_eq!(rows[1].lb_state, Some(LbState::Initial));
        assert_eq!(
            rows[1].deployed_sha.as_ref().map(|s| s.to_string()),
            Some("a".repeat(40))
        );
        let text = render_servers(&rows);
        assert!(
            text.lines()
                .next()
                .is_some_and(|h| h.starts_with("INSTANCE"))
        );
        // Auto Scaling's health beside the load balancer's: healthy to the load balancer,
        // about to be replaced by Auto Scaling.
        let old_row = text
            .lines()
            .find(|l| l.starts_with(&iid(1).to_string()))
            .expect("the old instance's row");
        assert!(
            text.lines().next().is_some_and(|h| h.contains("HEALTH"))
                && old_row.contains(" unhealthy ")
                && old_row.contains(" healthy "),
            "{text}"
        );
        // The SHA as everywhere else: its first seven characters.
        assert!(
            text.contains("initial")
                && text.contains(" aaaaaaa\n")
                && !text.contains("aaaaaaaa")
                && text.contains("2h00m"),
            "{text}"
        );
    }

    #[derive(Debug)]
    struct LbFleet(RecordingFleet);
    #[async_trait::async_trait]
    impl crate::ports::Fleet for LbFleet {
        async fn groups(&self, env: &EnvName) -> Result<Vec<Group>> {
            self.0.groups(env).await
        }
        async fn group(&self, name: &GroupName) -> Result<Group> {
            self.0.group(name).await
        }
        async fn set_capacity(
            &self,
            g: &GroupName,
            c: crate::model::fleet::CapacityChange,
        ) -> Result<()> {
            self.0.set_capacity(g, c).await
        }
        async fn put_scheduled_action(
            &self,
            g: &GroupName,
            a: &crate::model::fleet::ScheduledAction,
        ) -> Result<()> {
            self.0.put_scheduled_action(g, a).await
        }
        async fn delete_scheduled_action(&self, g: &GroupName, n: &str) -> Result<()> {
            self.0.delete_scheduled_action(g, n).await
        }
        async fn set_scale_in_protection(
            &self,
            g: &GroupName,
            i: &[InstanceId],
            p: bool,
        ) -> Result<()> {
            self.0.set_scale_in_protection(g, i, p).await
        }
        async fn load_balancer_health(&self, _g: &GroupName) -> Result<Vec<TargetHealth>> {
            Ok(vec![TargetHealth {
                instance_id: iid(1),
                state: LbState::Healthy,
                reason: None,
            }])
        }
    }

    #[tokio::test]
    async fn load_balancer_health_shows_for_a_role_and_for_the_whole_environment() {
        let mut groups = prod_groups();
        groups[1].instances = vec![inst(1, -100)];
        groups[4].instances = vec![inst(5, -100)];
        let fleet = LbFleet(RecordingFleet::new(groups));
        let clock = FixedClock(t0());
        let ctx = FleetContext {
            fleet: &fleet,
            clock: &clock,
            events: &crate::NullSink,
        };
        let idp = RoleName::new("idp").expect("role");
        let rows = list_servers(&ctx, &prod(), Some(&idp)).await.expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].lb_state, Some(LbState::Healthy));
        // The whole environment shows it too, for the instances behind a load balancer.
        let all = list_servers(&ctx, &prod(), None).await.expect("rows");
        assert_eq!(all.len(), 2);
        let lb_of = |role: &str| {
            all.iter()
                .find(|r| r.group == GroupName::new(&prod(), &RoleName::new(role).expect("role")))
                .map(|r| r.lb_state)
        };
        assert_eq!(lb_of("idp"), Some(Some(LbState::Healthy)), "{all:?}");
        let prdo = EnvName::new("prdo").expect("env");
        for role in [None, Some(&idp)] {
            let err = list_servers(&ctx, &prdo, role)
                .await
                .expect_err("no groups");
            assert_eq!(err.kind(), crate::ErrorKind::NotFound);
            assert!(err.to_string().contains("environment prdo"), "{err}");
        }
    }
}
