//! The monitor gate's verdict quality on simulated populations: 1,000 healthy and 1,000 bad
//! deploys per seed, judged by the default rules. Prints the figures BENCHMARKS.md quotes.
//!
//! `cargo run -p deploykit-core --example verdict_quality --release [-- SEED...]`
//!
//! `DEPLOYKIT_RULES` may hold monitor thresholds as TOML (e.g. `bad_z = 4.0`) to try other
//! rules on the same populations. `DEPLOYKIT_POPULATION=small-flow-drops` judges
//! `BadDeployMix::small_flow_drops` instead of the population;
//! `DEPLOYKIT_WATCHED=config-recycles` judges the deploys as config recycles, old instances
//! against new ones; `config-recycles-against-baseline` as config recycles whose monitor cannot
//! tell instances apart.

use deploykit_core::deploy::MonitorThresholds;
use deploykit_core::sim::population::{BadDeployMix, TrafficAssumptions};
use deploykit_core::sim::verdict_quality::{Tally, Watched, evaluate};

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
    let mix = match std::env::var("DEPLOYKIT_POPULATION").as_deref() {
        Ok("small-flow-drops") => BadDeployMix::small_flow_drops(),
        Ok("issue") | Err(_) => BadDeployMix::default(),
        Ok(other) => {
            return Err(deploykit_core::Error::invalid_input(format!(
                "DEPLOYKIT_POPULATION: expected `issue` or `small-flow-drops`, found `{other}`"
            )));
        }
    };
    let watched = match std::env::var("DEPLOYKIT_WATCHED").as_deref() {
        Ok("config-recycles") => Watched::ConfigRecycles,
        Ok("config-recycles-against-baseline") => Watched::ConfigRecyclesAgainstBaseline,
        Ok("full-deploys") | Err(_) => Watched::FullDeploys,
        Ok(other) => {
            return Err(deploykit_core::Error::invalid_input(format!(
                "DEPLOYKIT_WATCHED: expected `full-deploys`, `config-recycles` or \
                 `config-recycles-against-baseline`, found `{other}`"
            )));
        }
    };
    println!("rules: {t:?}\n");
    let mut all: Vec<(String, Tally)> = Vec::new();
    let mut add = |label: String, tally: &Tally| match all.iter_mut().find(|(l, _)| *l == label) {
        Some((_, t)) => t.absorb(tally),
        None => all.push((label, tally.clone())),
    };
    let n = seeds.len();
    for seed in seeds {
        let r = evaluate(&t, &traffic, &mix, seed, 1000, 1000, watched).await?;
        if std::env::var_os("DEPLOYKIT_QUIET").is_none() {
            println!("{r}");
        }
        add("healthy".into(), &r.healthy);
        add("bad".into(), &r.bad);
        add("healthy: follow-up".into(), &r.healthy_follow_up);
        add("bad: follow-up".into(), &r.bad_follow_up);
        for (label, t) in &r.bad_by_kind {
            add(format!("bad: {label}"), t);
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    println!("all {n} seeds together:\n{}", Tally::TABLE_HEADER);
    for (label, t) in &all {
        println!("{}", t.table_row(label));
    }
    let tally = |label: &str| {
        all.iter()
            .find(|(l, _)| l == label)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let (healthy, bad) = (tally("healthy"), tally("bad"));
    let (healthy_follow_up, bad_follow_up) = (tally("healthy: follow-up"), tally("bad: follow-up"));
    println!(
        "all seeds: {} false rollbacks of {} healthy; {} of {} bad rolled back within 2 windows \
         ({:.2}%); {} bad given go; {} inconclusive",
        healthy.rollback,
        healthy.deploys,
        bad.rolled_back_within(2),
        bad.deploys,
        bad.rolled_back_within(2) as f64 * 100.0 / bad.deploys.max(1) as f64,
        bad.go,
        healthy.inconclusive + bad.inconclusive
    );
    println!(
        "follow-up check an hour later: {} of {} healthy deploys the gate passed rolled back; {} \
         of {} bad deploys the gate did not roll back rolled back",
        healthy_follow_up.rollback,
        healthy_follow_up.deploys,
        bad_follow_up.rollback,
        bad_follow_up.deploys
    );
    Ok(())
}
