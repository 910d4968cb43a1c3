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

fn poll(c: &mut Criterion) {
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
                100,
                200,
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
    assert_eq!(instances, 1000, "seeded fleet");
    println!(
        "AWS poll on moto: {} groups, {instances} instances, {} API call(s) per poll: {}",
        groups.len(),
        counter.calls().len(),
        counter.calls().join(", ")
    );

    let mut group = c.benchmark_group("aws fleet poll");
    group.sample_size(10);
    group.bench_function("10 groups x 100 instances on moto", |b| {
        b.iter(|| black_box(rt.block_on(fleet.groups(&prod)).expect("poll")))
    });
    group.finish();
}

criterion_group!(benches, poll);
criterion_main!(benches);
