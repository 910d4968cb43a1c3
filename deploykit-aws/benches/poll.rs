//! One poll of an environment of 10 Auto Scaling groups x 100 instances through `AwsFleet` on a
//! local moto server: API calls per poll (counted by an SDK interceptor) and time per poll
//! (dominated by moto's own work and the loopback HTTP round trips, so an upper bound of
//! deploykit's share).
//!
//! Run with `cargo bench -p deploykit-aws --bench poll` (the moto server comes from `.venv`,
//! as for the tests; without it the bench says so and measures nothing).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use deploykit_aws::AwsFleet;
use deploykit_aws::moto::{CallCounter, MotoServer};
use deploykit_core::ports::Fleet;
use support::{IDP_SHA, env};

/// Instances per group: 100 when benchmarking (`cargo bench`), 10 for the smoke run that
/// `cargo test --all-targets` makes of every benchmark (the 1,000-instance poll's call count
/// is asserted by `tests/moto_fleet.rs` already; seeding it twice would only slow CI down).
fn instances_per_group() -> i32 {
    if std::env::args().any(|a| a == "--bench") {
        100
    } else {
        10
    }
}

fn poll(c: &mut Criterion) {
    let per_group = instances_per_group();
    let Some(moto) = MotoServer::start_or_skip() else {
        eprintln!("moto server not available: the AWS poll benchmark measured nothing");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let counter = CallCounter::new();
    let fleet = rt.block_on(async {
        let clients = moto.clients_with(&[counter.interceptor()]).await;
        let (_vpc, subnet) = support::network(&clients).await;
        for n in 0..10 {
            support::create_group(
                &clients,
                &subnet,
                &format!("prod-role{n}"),
                per_group,
                2 * per_group,
                &[("gitsha:idp", IDP_SHA)],
                None,
            )
            .await;
        }
        AwsFleet::new(clients)
    });
    let prod = env("prod");

    counter.clear();
    let groups = rt.block_on(fleet.groups(&prod)).expect("poll");
    let instances: usize = groups.iter().map(|g| g.instances.len()).sum();
    assert_eq!(instances as i64, 10 * i64::from(per_group), "seeded fleet");
    println!(
        "AWS poll on moto: {} groups, {instances} instances, {} API call(s) per poll: {}",
        groups.len(),
        counter.calls().len(),
        counter.calls().join(", ")
    );

    let mut group = c.benchmark_group("aws fleet poll");
    group.sample_size(10);
    group.bench_function(format!("10 groups x {per_group} instances on moto"), |b| {
        b.iter(|| black_box(rt.block_on(fleet.groups(&prod)).expect("poll")))
    });
    group.finish();
}

criterion_group!(benches, poll);
criterion_main!(benches);
