//! The monitor gate's verdict quality on simulated populations: 1,000 healthy and 1,000 bad
//! deploys per seed, judged by the default rules. Prints the figures BENCHMARKS.md quotes.
//!
//! `cargo run -p deploykit-core --example verdict_quality --release [-- SEED...]`
//!
//! `DEPLOYKIT_RULES` may hold monitor thresholds as TOML (e.g. `bad_z = 4.0`) to try other
//! rules on the same populations.

use deploykit_core::deploy::MonitorThresholds;
use deploykit_core::sim::population::{BadDeployMix, TrafficAssumptions};
use deploykit_core::sim::verdict_quality::evaluate;

#[tokio::main(flavor = "current_thread")]
async fn main() -> deploykit_core::Result<()> {
    let seeds: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seeds = if seeds.is_empty() {
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    } else {
        seeds
    };
    let t: MonitorThresholds = match std::env::var("DEPLOYKIT_RULES") {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            deploykit_core::Error::invalid_input(format!(
                "DEPLOYKIT_RULES: expected monitor thresholds as TOML (e.g. bad_z = 4.0): {e}"
            ))
        })?,
        Err(_) => MonitorThresholds::default(),
    };
    let traffic = TrafficAssumptions::login_gov();
    let mix = BadDeployMix::default();
    println!("rules: {t:?}\n");
    let (mut false_rollbacks, mut healthy, mut caught2, mut bad, mut go, mut inconclusive) =
        (0, 0, 0, 0, 0, 0);
    for seed in seeds {
        let r = evaluate(&t, &traffic, &mix, seed, 1000, 1000).await?;
        if std::env::var_os("DEPLOYKIT_QUIET").is_none() {
            println!("{r}");
        }
        false_rollbacks += r.false_rollbacks();
        healthy += r.healthy.deploys;
        caught2 += r.bad.rolled_back_within(2);
        bad += r.bad.deploys;
        go += r.missed();
        inconclusive += r.healthy.inconclusive + r.bad.inconclusive;
    }
    println!(
        "all seeds: {false_rollbacks} false rollbacks of {healthy} healthy; {caught2} of {bad} \
         bad rolled back within 2 windows ({:.2}%); {go} bad given go; {inconclusive} \
         inconclusive",
        caught2 as f64 * 100.0 / bad.max(1) as f64
    );
    Ok(())
}
