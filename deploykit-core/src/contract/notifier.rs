//! The `Notifier` contract: every announcement is accepted and delivered, in order.

use crate::contract::{Outcome, call, ensure};
use crate::model::names::{AppName, EnvName};
use crate::model::release_number::ReleaseNumber;
use crate::ports::{Announcement, Notifier};

fn samples() -> Result<Vec<(Announcement, &'static str)>, String> {
    let app = AppName::new("idp").map_err(|e| e.to_string())?;
    let env = EnvName::new("prod").map_err(|e| e.to_string())?;
    let rc = Some(ReleaseNumber::full(112));
    Ok(vec![
        (
            Announcement::PendingReleasePr {
                app: app.clone(),
                rc: ReleaseNumber::full(112),
                pr_url: "https://github.com/18F/identity-idp/pull/11502".into(),
            },
            "pull/11502",
        ),
        (
            Announcement::RecycleStart {
                app: app.clone(),
                env: env.clone(),
                rc,
                reverted: None,
                reasons: Vec::new(),
            },
            "RC 112",
        ),
        (
            Announcement::RecycleStart {
                app: app.clone(),
                env: env.clone(),
                rc: None,
                reverted: rc,
                reasons: Vec::new(),
            },
            "revert of RC 112",
        ),
        (
            Announcement::RecycleStart {
                app: app.clone(),
                env: env.clone(),
                rc,
                reverted: None,
                reasons: vec!["patch deploy: the fix for CVE-2026-1234".into()],
            },
            "CVE-2026-1234",
        ),
        (
            Announcement::ConfigChange {
                app: app.clone(),
                env: env.clone(),
                diff: "+ feature_ct_contract_enabled: true".into(),
            },
            "feature_ct_contract_enabled",
        ),
        (
            Announcement::DeployDone {
                app: app.clone(),
                env: env.clone(),
                rc,
                reverted: None,
                release_url: Some("https://github.com/18F/identity-idp/releases/tag/ct".into()),
            },
            "releases/tag/ct",
        ),
        (
            Announcement::RollbackStarted {
                app: app.clone(),
                env: env.clone(),
                rc,
                deploy_kind: None,
                reason: "5xx rate 4.2% on the new SHA".into(),
                still_serving: Vec::new(),
                revert_pr_url: None,
            },
            "5xx rate 4.2%",
        ),
        (
            Announcement::RetrospectiveToSchedule {
                app,
                env,
                rc,
                deploy_kind: None,
                reason: "rollback of the contract release".into(),
            },
            "rollback of the contract release",
        ),
    ])
}

/// Every kind of announcement is accepted and delivered in order; `delivered` returns what
/// the destination received so far, one text (or payload) per announcement.
pub async fn delivers_every_announcement_in_order(
    n: &dyn Notifier,
    delivered: &(dyn Fn() -> Vec<String> + Send + Sync),
) -> Outcome {
    let before = delivered().len();
    let samples = samples()?;
    for (a, _) in &samples {
        call(&format!("announce({})", a.kind()), n.announce(a).await)?;
    }
    let got = delivered();
    ensure!(
        got.len() == before + samples.len(),
        "{} announcements should have been delivered, {} were",
        samples.len(),
        got.len().saturating_sub(before)
    );
    for ((a, token), text) in samples.iter().zip(&got[before..]) {
        ensure!(
            text.contains(token),
            "the delivered {} announcement should contain {token:?}, got {text:?}",
            a.kind()
        );
    }
    Ok(())
}
