//! "Announce pending Login.gov release PR": post the open promotion PR.

use crate::error::Result;
use crate::model::ReleaseNumber;
use crate::ports::Announcement;
use crate::release::{ReleaseContext, Writes, open_promotion_pr, rc_of};

/// Which PR to announce.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnounceRequest {
    /// The promotion PR's number; default: the open promotion PR of the newest RC branch.
    pub pr: Option<u64>,
    /// Build the announcement without posting it.
    pub dry_run: bool,
}

/// What was announced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnounceOutcome {
    /// The RC.
    pub rc: ReleaseNumber,
    /// The PR announced.
    pub pr_number: u64,
    /// The announcement.
    pub announcement: Announcement,
    /// Its plain text.
    pub text: String,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The writes done (or that would be done).
    pub actions: Vec<String>,
}

/// Announces the pending release PR through the notifier.
pub async fn announce_pending(
    ctx: &ReleaseContext<'_>,
    request: &AnnounceRequest,
) -> Result<AnnounceOutcome> {
    let pr = match request.pr {
        Some(number) => ctx.code_host.pull_request(number).await?,
        None => open_promotion_pr(ctx.code_host, ctx.settings).await?.0,
    };
    let rc = rc_of(&pr)?;
    let announcement = Announcement::PendingReleasePr {
        app: ctx.settings.name.clone(),
        rc,
        pr_url: pr.html_url.clone(),
    };
    let text = announcement.to_string();
    let mut writes = Writes::new(ctx, request.dry_run);
    if writes.record(format!("announce: {text}")) {
        ctx.notifier.announce(&announcement).await?;
        writes.done();
    }
    Ok(AnnounceOutcome {
        rc,
        pr_number: pr.number,
        announcement,
        text,
        dry_run: request.dry_run,
        actions: writes.into_list(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSettings;
    use crate::ports::PrState;
    use crate::release::test_support::{Ports, pull_request};

    #[tokio::test]
    async fn the_open_promotion_pr_is_announced() {
        let mut p = Ports::new(AppSettings::idp());
        p.host.expect_pull_requests().returning(|_| {
            Ok(vec![pull_request(
                9700,
                "Deploy RC 113 to Production",
                "stages/rc-2024-01-09",
                PrState::Open,
            )])
        });
        p.notifier.expect_announce().times(1).returning(|a| {
            assert_eq!(a.kind(), "pending_release_pr");
            Ok(())
        });
        let outcome = announce_pending(&p.ctx(), &AnnounceRequest::default())
            .await
            .expect("announced");
        assert_eq!(
            outcome.text,
            "Pending idp release: RC 113 is ready for review: \
             https://github.com/18F/identity-idp/pull/9700"
        );
    }

    #[tokio::test]
    async fn a_dry_run_posts_nothing() {
        let mut p = Ports::new(AppSettings::idp());
        p.host.expect_pull_request().returning(|n| {
            Ok(pull_request(
                n,
                "Deploy RC 113 to Production",
                "stages/rc-2024-01-09",
                PrState::Open,
            ))
        });
        let outcome = announce_pending(
            &p.ctx(),
            &AnnounceRequest {
                pr: Some(9700),
                dry_run: true,
            },
        )
        .await
        .expect("dry run");
        assert_eq!(outcome.pr_number, 9700);
        assert_eq!(outcome.actions.len(), 1);
    }
}
