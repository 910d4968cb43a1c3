//! The PR a deploy ships when none is named: the one choice every front end (the CLI's
//! `deploy` without `--pr`, Python's `deploy`/`plan_deploy` without `pr=`) makes the same way.

use crate::error::Result;
use crate::model::AppSettings;
use crate::model::deploy_kind::DeployKind;
use crate::ports::CodeHost;
use crate::release::{open_promotion_pr, open_revert_pr};

/// The number of the PR a deploy of `kind` of `app` ships when none is named.
///
/// - a revert deploy: the open `Revert RC <N>` PR into the production branch, as a rollback
///   opens it ([`open_revert_pr`]);
/// - a full, patch or off-cycle deploy: the open promotion PR of the newest RC branch
///   ([`open_promotion_pr`]);
/// - a config or no-migration recycle ships no code: `None`, and the code host is not asked.
///
/// NotFound when there is no such PR open (the message says how to open one, or to name the
/// PR); InvalidInput when several revert PRs are open (the deploy must name one). A front end
/// asks it only when the operator named no PR, after the request's inputs are checked
/// ([`check_inputs`](crate::deploy::check_inputs)), so bad input looks nothing up.
pub async fn default_pr(
    kind: DeployKind,
    code_host: &dyn CodeHost,
    app: &AppSettings,
) -> Result<Option<u64>> {
    if !kind.ships_code() {
        return Ok(None);
    }
    let number = if kind == DeployKind::Revert {
        open_revert_pr(code_host, app).await?.number
    } else {
        open_promotion_pr(code_host, app).await?.0.number
    };
    Ok(Some(number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::ports::{MockCodeHost, PrState, PullRequest};

    fn open_pr(number: u64, title: &str, head: &str, labels: &[&str]) -> PullRequest {
        PullRequest {
            number,
            title: title.into(),
            body: String::new(),
            head: head.into(),
            head_sha: None,
            base: "stages/prod".into(),
            state: PrState::Open,
            merge_commit_sha: None,
            mergeable: None,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            html_url: format!("https://github.com/18F/identity-idp/pull/{number}"),
            author: None,
        }
    }

    /// A code host with `prs` open into the production branch.
    fn host_with(prs: Vec<PullRequest>) -> MockCodeHost {
        let mut host = MockCodeHost::new();
        host.expect_pull_requests()
            .returning(move |_| Ok(prs.clone()));
        host
    }

    /// An older and a newer promotion PR, a rollback's revert PR and an unrelated PR.
    fn open_prs() -> Vec<PullRequest> {
        vec![
            open_pr(
                11480,
                "Deploy RC 111 to Production",
                "stages/rc-2026-11-10",
                &["status - promotion"],
            ),
            open_pr(
                11502,
                "Deploy RC 112 to Production",
                "stages/rc-2026-11-24",
                &["status - promotion"],
            ),
            open_pr(11503, "Revert RC 112", "revert-rc-112", &[]),
            open_pr(11504, "Tidy", "feature/x", &[]),
        ]
    }

    #[tokio::test]
    async fn each_kind_takes_its_own_open_pr() {
        let host = host_with(open_prs());
        let app = AppSettings::idp();
        for (kind, expected) in [
            (DeployKind::Full, Some(11502)),
            (DeployKind::Patch, Some(11502)),
            (DeployKind::OffCycle, Some(11502)),
            (DeployKind::Revert, Some(11503)),
        ] {
            let pr = default_pr(kind, &host, &app).await.expect("found");
            assert_eq!(pr, expected, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn a_recycle_ships_no_pr_and_asks_the_code_host_nothing() {
        // No expectation: a call to the code host would panic.
        let host = MockCodeHost::new();
        for kind in [DeployKind::ConfigRecycle, DeployKind::NoMigrationRecycle] {
            let pr = default_pr(kind, &host, &AppSettings::idp())
                .await
                .expect("none");
            assert_eq!(pr, None, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn without_an_open_pr_of_the_kind_it_is_not_found_with_the_way_on() {
        // A revert PR does not stand in for a promotion PR, nor the reverse.
        let reverts_only = host_with(vec![open_pr(11503, "Revert RC 112", "revert-rc-112", &[])]);
        let err = default_pr(DeployKind::Full, &reverts_only, &AppSettings::idp())
            .await
            .expect_err("no promotion PR");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("deploykit rc create"), "{err}");

        let promotions_only = host_with(open_prs()[..2].to_vec());
        let err = default_pr(DeployKind::Revert, &promotions_only, &AppSettings::idp())
            .await
            .expect_err("no revert PR");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("deploykit rollback"), "{err}");
    }

    #[tokio::test]
    async fn two_open_revert_prs_must_be_told_apart() {
        let host = host_with(vec![
            open_pr(11503, "Revert RC 112", "revert-rc-112", &[]),
            open_pr(11505, "Revert RC 113", "revert-rc-113", &[]),
        ]);
        let err = default_pr(DeployKind::Revert, &host, &AppSettings::idp())
            .await
            .expect_err("ambiguous");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("#11503") && err.to_string().contains("#11505"));
    }
}
