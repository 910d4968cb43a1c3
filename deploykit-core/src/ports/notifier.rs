//! `Notifier`: the announcements the guide asks the release manager to post.

use std::fmt::{self, Debug};

use async_trait::async_trait;

use crate::error::Result;
use crate::model::deploy_kind::DeployKind;
use crate::model::names::{AppName, EnvName};
use crate::model::release_number::ReleaseNumber;

/// One announcement. Text fields are already safe to publish (config diffs are redacted
/// before an announcement is built).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Announcement {
    /// "Announce pending Login.gov release PR": posted to the main channel and cross-posted.
    PendingReleasePr {
        /// The app.
        app: AppName,
        /// The RC number.
        rc: ReleaseNumber,
        /// Link to the promotion PR.
        pr_url: String,
    },
    /// "Announce a recycle": a deploy's recycle is starting.
    RecycleStart {
        /// The app.
        app: AppName,
        /// The environment.
        env: EnvName,
        /// The RC being deployed, if code ships.
        rc: Option<ReleaseNumber>,
        /// The RC whose revert is being deployed (a revert deploy; `rc` is then `None`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reverted: Option<ReleaseNumber>,
        /// Why this deploy is not a routine one, a line each: a patch or off-cycle deploy's
        /// reason, and every policy overridden with the reason given (empty for a full
        /// deploy on a deploy day).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<String>,
    },
    /// A configuration change, with its redacted diff.
    ConfigChange {
        /// The app.
        app: AppName,
        /// The environment.
        env: EnvName,
        /// The redacted diff.
        diff: String,
    },
    /// The deploy is complete.
    DeployDone {
        /// The app.
        app: AppName,
        /// The environment.
        env: EnvName,
        /// The RC deployed, if code shipped.
        rc: Option<ReleaseNumber>,
        /// The RC whose revert was deployed (a revert deploy; `rc` is then `None`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reverted: Option<ReleaseNumber>,
        /// Link to the release, if one was created.
        release_url: Option<String>,
    },
    /// A rollback has started.
    RollbackStarted {
        /// The app.
        app: AppName,
        /// The environment.
        env: EnvName,
        /// The RC being rolled back.
        rc: Option<ReleaseNumber>,
        /// The kind of deploy being rolled back, when the run knows it (a standalone
        /// rollback does not): a recycle that shipped no code is named as such.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deploy_kind: Option<DeployKind>,
        /// Why.
        reason: String,
        /// The groups whose new code keeps serving until the revert is deployed (their old
        /// instances were gone: scaled in, or replaced by the spindown).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        still_serving: Vec<String>,
        /// The revert PR opened, if one was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revert_pr_url: Option<String>,
    },
    /// A blameless retrospective should be scheduled.
    RetrospectiveToSchedule {
        /// The app.
        app: AppName,
        /// The environment.
        env: EnvName,
        /// The RC that was rolled back.
        rc: Option<ReleaseNumber>,
        /// The kind of deploy that was rolled back, when the run knows it (see
        /// [`Announcement::RollbackStarted`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deploy_kind: Option<DeployKind>,
        /// Why the deploy was rolled back.
        reason: String,
    },
}

/// What is left after a rollback, in one sentence, when anything is: the new code that keeps
/// serving until the revert is deployed, and the revert PR.
pub fn rollback_follow_up(still_serving: &[String], revert_pr_url: Option<&str>) -> Option<String> {
    match (still_serving.is_empty(), revert_pr_url) {
        (true, None) => None,
        (true, Some(url)) => Some(format!("Revert PR: {url}")),
        (false, Some(url)) => Some(format!(
            "The new code keeps serving in {} until the revert is deployed: {url}",
            still_serving.join(", ")
        )),
        (false, None) => Some(format!(
            "The new code keeps serving in {} until the revert is deployed",
            still_serving.join(", ")
        )),
    }
}

/// What a deploy ships, in words: `RC 112`, `the revert of RC 112` (a revert deploy), or
/// `the current code` (a recycle).
pub fn shipped_words(rc: Option<ReleaseNumber>, reverted: Option<ReleaseNumber>) -> String {
    match (reverted, rc) {
        (Some(n), _) => format!("the revert of RC {n}"),
        (None, Some(n)) => format!("RC {n}"),
        (None, None) => "the current code".into(),
    }
}

/// What a rollback rolls back, in words: `RC 112`, `the config recycle` or `the
/// no-migration recycle` (a deploy of `deploy_kind` that shipped no code), or `the current
/// code` (neither known).
pub fn rolled_back_words(rc: Option<ReleaseNumber>, deploy_kind: Option<DeployKind>) -> String {
    match (rc, deploy_kind) {
        (None, Some(kind)) if !kind.ships_code() => format!("the {}", kind.words()),
        (rc, _) => shipped_words(rc, None),
    }
}

impl Announcement {
    /// The announcement on one line, for progress and retry messages: its first line, with
    /// how many more follow (a config change's diff), cut at 160 characters. The whole text
    /// is what is posted and journalled.
    pub fn headline(&self) -> String {
        const MAX: usize = 160;
        let text = self.to_string();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let more = lines.count();
        let mut line: String = first.chars().take(MAX).collect();
        if first.chars().count() > MAX {
            line.push('…');
        }
        if more > 0 {
            line.push_str(&format!(
                " ({more} more line{})",
                if more == 1 { "" } else { "s" }
            ));
        }
        line
    }

    /// A short name of the announcement type (`pending_release_pr`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Announcement::PendingReleasePr { .. } => "pending_release_pr",
            Announcement::RecycleStart { .. } => "recycle_start",
            Announcement::ConfigChange { .. } => "config_change",
            Announcement::DeployDone { .. } => "deploy_done",
            Announcement::RollbackStarted { .. } => "rollback_started",
            Announcement::RetrospectiveToSchedule { .. } => "retrospective_to_schedule",
        }
    }
}

impl fmt::Display for Announcement {
    /// The plain-text form (also the fallback text of rich messages).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Announcement::PendingReleasePr { app, rc, pr_url } => {
                write!(
                    f,
                    "Pending {app} release: RC {rc} is ready for review: {pr_url}"
                )
            }
            Announcement::RecycleStart {
                app,
                env,
                rc,
                reverted,
                reasons,
            } => {
                write!(
                    f,
                    "Starting a recycle of {app} in {env} to deploy {}",
                    shipped_words(*rc, *reverted)
                )?;
                if !reasons.is_empty() {
                    write!(f, " ({})", reasons.join("; "))?;
                }
                Ok(())
            }
            Announcement::ConfigChange { app, env, diff } => {
                write!(f, "Configuration change for {app} in {env}:\n{diff}")
            }
            Announcement::DeployDone {
                app,
                env,
                rc,
                reverted,
                release_url,
            } => {
                write!(
                    f,
                    "Deploy of {} to {app} in {env} is complete",
                    shipped_words(*rc, *reverted)
                )?;
                if let Some(url) = release_url {
                    write!(f, ": {url}")?;
                }
                Ok(())
            }
            Announcement::RollbackStarted {
                app,
                env,
                rc,
                deploy_kind,
                reason,
                still_serving,
                revert_pr_url,
            } => {
                write!(
                    f,
                    "Rolling back {} of {app} in {env}: {reason}",
                    rolled_back_words(*rc, *deploy_kind)
                )?;
                if let Some(line) = rollback_follow_up(still_serving, revert_pr_url.as_deref()) {
                    write!(f, ". {line}")?;
                }
                Ok(())
            }
            Announcement::RetrospectiveToSchedule {
                app,
                env,
                rc,
                deploy_kind,
                reason,
            } => write!(
                f,
                "Schedule a blameless retrospective for the rollback of {} of {app} in {env} \
                 ({reason})",
                rolled_back_words(*rc, *deploy_kind)
            ),
        }
    }
}

/// Where announcements go (Slack, or a recording fake).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + Debug {
    /// Posts one announcement.
    async fn announce(&self, announcement: &Announcement) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_headline_is_one_line_saying_how_many_more_follow() {
        let app = AppName::new("idp").expect("app");
        let env = EnvName::new("prod").expect("env");
        let diff = (0..40)
            .map(|i| format!("+ setting_{i}: true"))
            .collect::<Vec<_>>()
            .join("\n");
        let change = Announcement::ConfigChange {
            app: app.clone(),
            env: env.clone(),
            diff,
        };
        assert_eq!(
            change.headline(),
            "Configuration change for idp in prod: (40 more lines)"
        );
        let start = Announcement::RecycleStart {
            app,
            env,
            rc: Some(ReleaseNumber::full(112)),
            reverted: None,
            reasons: vec!["x".repeat(300)],
        };
        let line = start.headline();
        assert!(!line.contains('\n') && line.chars().count() == 161 && line.ends_with('…'));
    }
}
