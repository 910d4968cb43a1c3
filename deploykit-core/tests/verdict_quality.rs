//! The monitor gate's verdict quality (issue 8): populations of simulated deploys with
//! Login.gov traffic, watched window by window through the Monitor port and judged by the
//! gate's own rules with their defaults. Fixed seeds; the figures are printed
//! (`cargo test -p deploykit-core --test verdict_quality -- --nocapture`).

use deploykit_core::deploy::MonitorThresholds;
use deploykit_core::sim::population::{BadDeployMix, FlowDropSize, TrafficAssumptions};
use deploykit_core::sim::verdict_quality::{QualityReport, Watched, evaluate};

async fn run(mix: BadDeployMix, seed: u64, healthy: usize, bad: usize) -> QualityReport {
    run_watched(Watched::FullDeploys, mix, seed, healthy, bad).await
}

/// The population judged as `watched` says (full deploys or config recycles), printed.
async fn run_watched(
    watched: Watched,
    mix: BadDeployMix,
    seed: u64,
    healthy: usize,
    bad: usize,
) -> QualityReport {
    let report = evaluate(
        &MonitorThresholds::default(),
        &TrafficAssumptions::login_gov(),
        &mix,
        seed,
        healthy,
        bad,
        watched,
    )
    .await
    .expect("population");
    println!("{report}");
    report
}

/// The share of the bad deploys of kind `label` rolled back within two windows.
fn within_two_windows(r: &QualityReport, label: &str) -> f64 {
    let (_, t) = r
        .bad_by_kind
        .iter()
        .find(|(k, _)| k == label)
        .unwrap_or_else(|| panic!("no bad deploys of kind {label}:\n{r}"));
    t.rolled_back_within(2) as f64 / t.deploys as f64
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
        flow_drop: FlowDropSize::Points {
            min: 0.05,
            max: 0.10,
        },
        dropped_flows: vec![0],
        ..Default::default()
    };
    let r = run(sign_in, 9, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    assert_eq!(r.missed(), 0, "{r}");
    assert!(r.caught_within(2) >= 0.99, "{r}");
}

/// The issue's mixed population: half 5xx rises to about 1 %, half a critical flow failing two
/// to four times as often (sign-in 3 to 9 points down, identity verification 10 to 30). No
/// healthy deploy of this seed is rolled back (over 2,000 seeds, 3.8 in 100,000 are). "99 %
/// within two windows" does not hold: about 96.5 % are (2,000 seeds: 96.85 %), nearly every 5xx
/// rise and every flow failing three times as often or more;
/// the misses are flows failing about twice as often, where counting noise over ten minutes is
/// within a standard error or so of what the rules need (BENCHMARKS.md). These bounds sit a
/// little under today's figures so that a change of rules that loses detection fails here.
#[tokio::test]
async fn the_issue_population_has_no_false_rollback_and_catches_most_within_two_windows() {
    let r = run(BadDeployMix::default(), 1, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    // A person is asked about few healthy deploys (production with `--yes` rolls those back): a
    // passing 5xx burst followed by a good last window, all windows together good, goes (this
    // seed: 1 of 1,000 left inconclusive; 8 without that rule). Few bad deploys are given go.
    assert!(r.healthy.inconclusive <= 3, "{r}");
    assert!(r.missed() <= 10, "{r}");
    // The follow-up check an hour later (the new SHA alone against the old SHA's figures from
    // the gate) rolls back none of the healthy deploys the gate passed: it allows for the whole
    // role's wobble, which no old SHA beside the new one cancels any more (7 of this seed's
    // were rolled back without it).
    assert_eq!(r.healthy_follow_up.deploys, 1000, "{r}");
    assert_eq!(r.healthy_follow_up.rollback, 0, "{r}");
    assert!(r.caught_within(2) >= 0.95, "{r}");
    let within = |label: &str| within_two_windows(&r, label);
    assert!(within("5xx rise at once") >= 0.99, "{r}");
    assert!(within("5xx rise over 2 windows") >= 0.97, "{r}");
    assert!(within("Sign in: success failures x3-4") >= 0.98, "{r}");
    assert!(
        within("IdV: doc auth verified failures x3-4") >= 0.98,
        "{r}"
    );
    assert!(within("Sign in: success failures x2-2.5") >= 0.6, "{r}");
    assert!(
        within("IdV: doc auth verified failures x2-2.5") >= 0.6,
        "{r}"
    );
}

/// Flow drops of 3 to 10 points whatever the flow's failure rate: on identity verification
/// (about 450 attempts per SHA per window) most are too small to tell from noise in ten
/// minutes, so only floors under today's figures are asserted, with no false rollback.
#[tokio::test]
async fn small_flow_drops_have_no_false_rollback_and_known_limits() {
    let r = run(BadDeployMix::small_flow_drops(), 1, 1000, 1000).await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    assert_eq!(r.healthy_follow_up.rollback, 0, "{r}");
    assert!(r.caught_within(2) >= 0.72, "{r}");
    let within = |label: &str| within_two_windows(&r, label);
    assert!(within("5xx rise at once") >= 0.99, "{r}");
    assert!(within("Sign in: success drop 5-7 points") >= 0.95, "{r}");
    assert!(within("Sign in: success drop 7-10 points") >= 0.99, "{r}");
    assert!(within("Sign in: success drop 3-5 points") >= 0.6, "{r}");
    assert!(
        within("IdV: doc auth verified drop 7-10 points") >= 0.3,
        "{r}"
    );
}

/// The issue's population judged as config recycles by a monitor that tells instances apart:
/// the old instances beside the new ones in the same windows, as a full deploy's old SHA is
/// beside its new one. The gate is then as good as on full deploys (on this seed 0 false
/// rollbacks and 96.8 % caught within two windows, against 28.5 % with a baseline).
#[tokio::test]
async fn config_recycles_side_by_side_are_judged_as_well_as_full_deploys() {
    let r = run_watched(
        Watched::ConfigRecycles,
        BadDeployMix::default(),
        1,
        1000,
        1000,
    )
    .await;
    assert_eq!(r.false_rollbacks(), 0, "{r}");
    assert!(r.healthy.inconclusive <= 3, "{r}");
    assert!(within_two_windows(&r, "5xx rise at once") >= 0.99, "{r}");
    assert!(r.caught_within(2) >= 0.96, "{r}");
    // The follow-up check an hour on, against the old instances' figures from the gate, rolls
    // back none of the healthy config recycles the gate passed.
    assert_eq!(r.healthy_follow_up.deploys, 1000, "{r}");
    assert_eq!(r.healthy_follow_up.rollback, 0, "{r}");
}

/// The issue's population judged as config recycles whose monitor cannot tell instances apart:
/// one SHA on old and new instances, against its own figures from the window before the
/// recycle. Without the old instances side by side the gate is weaker (BENCHMARKS.md): it rolls
/// back about 1 healthy config recycle in 1,300 (this seed: none; 11 of 1,000 without the
/// whole role's wobble), and catches far fewer bad ones in two windows; the follow-up check an
/// hour on, with the new instances alone at full strength, catches most of the rest (this
/// seed: 491 of 623) for about 8 healthy deploys in 10,000. Floors under today's figures.
#[tokio::test]
async fn config_recycles_against_a_baseline_roll_back_few_healthy_deploys() {
    let r = run_watched(
        Watched::ConfigRecyclesAgainstBaseline,
        BadDeployMix::default(),
        1,
        1000,
        1000,
    )
    .await;
    assert!(r.false_rollbacks() <= 2, "{r}");
    assert!(within_two_windows(&r, "5xx rise at once") >= 0.45, "{r}");
    assert!(r.caught_within(2) >= 0.25, "{r}");
    assert!(r.healthy_follow_up.rollback <= 2, "{r}");
    assert!(
        r.bad_follow_up.rollback * 10 >= r.bad_follow_up.deploys * 7,
        "{r}"
    );
}
