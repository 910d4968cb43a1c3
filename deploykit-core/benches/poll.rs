//! One poll of a simulated environment of 10 Auto Scaling groups x 100 instances: what the
//! recycle, the pre-checks and `servers ls` do on every turn (`Fleet::groups`), counted in
//! port calls and timed.
//!
//! Run with `cargo bench -p deploykit-core --bench poll`; the figures go in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use deploykit_core::model::fleet::GroupName;
use deploykit_core::model::names::{EnvName, RoleName};
use deploykit_core::model::sha::Sha;
use deploykit_core::sim::world::login_gov_start;
use deploykit_core::sim::{GroupSpec, World};

const GROUPS: usize = 10;
const INSTANCES: u32 = 100;

fn environment() -> (World, EnvName) {
    let world = World::new(login_gov_start());
    let env = EnvName::new("prod").expect("valid env");
    let sha = Sha::new("0123456789abcdef0123456789abcdef01234567").expect("valid sha");
    for n in 0..GROUPS {
        let role = RoleName::new(format!("role{n}")).expect("valid role");
        let mut spec = GroupSpec::simple(GroupName::new(&env, &role), INSTANCES, sha.clone());
        spec.capacity.max = 2 * INSTANCES;
        world.sim_fleet().add_group(spec);
    }
    (world, env)
}

fn poll(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let (world, env) = environment();
    let fleet = world.fleet();

    world.faults().reset_counts();
    let groups = rt.block_on(fleet.groups(&env)).expect("poll");
    let instances: usize = groups.iter().map(|g| g.instances.len()).sum();
    assert_eq!(instances, GROUPS * INSTANCES as usize, "seeded fleet");
    let calls: u64 = world.faults().call_counts().iter().map(|(_, n)| n).sum();
    println!(
        "simulated poll: {} groups, {instances} instances, {calls} port call(s) per poll",
        groups.len()
    );

    c.bench_function("sim fleet poll (10 groups x 100 instances)", |b| {
        b.iter(|| black_box(rt.block_on(fleet.groups(&env)).expect("poll")))
    });
}

criterion_group!(benches, poll);
criterion_main!(benches);
