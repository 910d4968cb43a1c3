//! `deploykit demo` (the healthy rehearsal: RC cut, PR, merge, recycle, three gates, spindown,
//! scale-in, follow-up, release; 1 h 30 min of virtual time), timed as a whole process.
//!
//! Run with `cargo bench -p deploykit-cli --bench demo` (or `--workspace`, which avoids a
//! rebuild of the AWS SDK); the figure goes in BENCHMARKS.md.

use std::process::{Command, Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

fn demo(c: &mut Criterion) {
    let state = tempfile::tempdir().expect("temporary state directory");
    let run = || {
        let status = Command::new(env!("CARGO_BIN_EXE_deploykit"))
            .arg("demo")
            .env("XDG_STATE_HOME", state.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run deploykit demo");
        assert!(status.success(), "deploykit demo failed: {status}");
    };
    let mut group = c.benchmark_group("deploykit demo");
    group.sample_size(20);
    group.bench_function("healthy scenario, whole process", |b| b.iter(run));
    group.finish();
}

criterion_group!(benches, demo);
criterion_main!(benches);
