//! Criterion: every scenario, every implementation in this build.
//!
//! ```text
//! cargo bench -p tlsbio-bench --bench compare
//! cargo bench -p tlsbio-bench --bench compare --features openssl   # with OpenSSL 3
//! ```

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tlsbio_bench::{implementations, Bench, Scenario, SCENARIOS};

fn compare(c: &mut Criterion) {
    let bench = Bench::new(64 << 20);
    for scenario in SCENARIOS {
        let mut group = c.benchmark_group(scenario.name());
        if scenario == Scenario::BulkTls13 {
            group.throughput(Throughput::Bytes(2 * bench.bulk_bytes() as u64));
            group.sample_size(10);
        }
        for implementation in implementations() {
            if bench.run(implementation, scenario).is_err() {
                continue; // not measurable in this build (said by `tlsbio bench`)
            }
            group.bench_function(implementation.to_string(), |b| {
                b.iter(|| bench.run(implementation, scenario).expect("it ran once"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, compare);
criterion_main!(benches);
