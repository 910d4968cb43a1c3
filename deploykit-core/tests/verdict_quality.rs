//! The monitor gate's verdict quality (issue 8): populations of simulated deploys with
//! Login.gov traffic, watched window by window through the Monitor port and judged by the
//! gate's own rules with their defaults. Fixed seeds; the figures are printed
//! (`cargo test -p deploykit-core --test verdict_quality -- --nocapture`).

use deploykit_core::deploy::MonitorThresholds;
use deploykit_core::sim::population::{BadDeployMix, TrafficAssumptions};
use deploykit_core::sim::verdict_quality::{QualityReport, evaluate};

async fn run(mix: BadDeployMix, seed: u64, healthy: usize, bad: usize) -> QualityReport {
    let report = evaluate(
        &MonitorThresholds::default(),
        &TrafficAssumptions::login_gov(),
        &mix,
        seed,
        healthy,
        bad,
    )
    .await
    .expect("population");
    println!("{report}");
    report
}

#[tokio::test]
async fn no_healthy_deploy_is_rolled_back_and_5xx_rises_are_caught_within_two_windows() {
    let errors_only = BadDeployMix {
        error_rise_share: 1.0,
        ..Default::default()
    };
    let r = run(errors_only, 8, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    // Healthy deploys go on; a person is asked about very few.
    assert!(r.healthy.inconclusive <= 20, "{r}");
    assert_eq!(r.missed(), 0, "{r}");
    assert!(r.caught_within(2) >= 0.99, "{r}");
    // A rise at once is caught in the first window (5 minutes) nearly always.
    let at_once = r
        .bad_by_kind
        .iter()
        .find(|(k, _)| k == "5xx rise at once")
        .map(|(_, t)| t.clone())
        .expect("rises at once");
    assert!(
        at_once.rolled_back_within(1) * 100 >= at_once.deploys * 99,
        "{r}"
    );
}

#[tokio::test]
async fn sign_in_drops_of_five_points_or_more_are_caught_within_two_windows() {
    let sign_in = BadDeployMix {
        error_rise_share: 0.0,
        flow_drop_min: 0.05,
        flow_drop_max: 0.10,
        dropped_flows: vec![0],
        ..Default::default()
    };
    let r = run(sign_in, 9, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    assert_eq!(r.missed(), 0, "{r}");
    assert!(r.caught_within(2) >= 0.99, "{r}");
}

/// The issue's mixed population: half 5xx rises, half flow drops of 3 to 10 points on sign-in
/// or identity verification. The goal holds for 0 false rollbacks; it cannot hold for "99 %
/// within two windows" because identity verification sees about 450 attempts per SHA per
/// window, and a drop of a few points there is within counting noise for ten minutes (see the
/// report in BENCHMARKS.md). These bounds pin today's figures so a change of rules that loses
/// detection fails here; the goal itself is asserted per kind in the tests above.
#[tokio::test]
async fn the_issue_population_has_no_false_rollback_and_known_limits() {
    let r = run(BadDeployMix::default(), 1, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    assert!(r.caught_within(2) >= 0.7, "{r}");
    let within = |label: &str| {
        let (_, t) = r
            .bad_by_kind
            .iter()
            .find(|(k, _)| k == label)
            .expect("kind");
        t.rolled_back_within(2) as f64 / t.deploys as f64
    };
    assert!(within("5xx rise at once") >= 0.99, "{r}");
    // About 250 and 70 deploys of each kind here: bounds a little under the 50-seed figures.
    assert!(within("5xx rise over 2 windows") >= 0.97, "{r}");
    assert!(within("Sign in: success drop 5-7 points") >= 0.95, "{r}");
    assert!(within("Sign in: success drop 7-10 points") >= 0.99, "{r}");
    assert!(within("Sign in: success drop 3-5 points") >= 0.6, "{r}");
}
