//! Counts, not times: allocations per handshake and per MiB, and the heap
//! an established idle connection holds, for tlsbio (each BIO kind), raw
//! rustls and OpenSSL.
//!
//! ```text
//! cargo run --release -p tlsbio-bench --bin tlsbio-counts [--features openssl]
//! ```
//!
//! Allocations are counted by a counting global allocator, which sees what
//! Rust allocates. OpenSSL allocates with C's malloc, so its rows count
//! only the Rust side (the openssl crate's wrappers and the in-memory
//! pipe); its heap per connection is measured the way that sees
//! everything, by resident memory, which is given for all three.

use std::alloc::System;
use std::any::Any;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tlsbio_bench::{implementations, Bench, Implementation, Scenario};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const HANDSHAKES: usize = 200;
const IDLE: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, name] = &args[..] {
        if flag == "--idle-rss" {
            return idle_rss_child(name);
        }
    }
    let small = Bench::new(8 << 20);
    let large = Bench::new(16 << 20);
    println!("{}", tlsbio_bench::library_versions());
    println!(
        "\n| implementation | allocations / handshake | KiB allocated / handshake | allocations / MiB | KiB allocated / MiB | heap per idle connection (allocator) | per idle connection (RSS) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for implementation in implementations() {
        let handshake = per_run(
            &small,
            implementation,
            Scenario::HandshakeTls13P256,
            HANDSHAKES,
        );
        // Bulk allocations per MiB: the difference between two sizes, so
        // that the handshake before the transfer cancels out.
        let bulk = match (
            per_run(&small, implementation, Scenario::BulkTls13, 2),
            per_run(&large, implementation, Scenario::BulkTls13, 2),
        ) {
            (Some((a, b)), Some((c, d))) => Some(((c - a) / 8.0, (d - b) / 8.0)),
            _ => None,
        };
        let (heap, rss) = idle(&small, implementation);
        let cell = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
        };
        println!(
            "| {implementation} | {} | {} | {} | {} | {} | {} |",
            cell(handshake.map(|h| h.0), 1),
            cell(handshake.map(|h| h.1 / 1024.0), 1),
            cell(bulk.map(|b| b.0), 2),
            cell(bulk.map(|b| b.1 / 1024.0), 2),
            cell(heap.map(|h| h / 1024.0), 1).to_string() + " KiB",
            cell(Some(rss / 1024.0), 1) + " KiB",
        );
    }
}

/// Allocations and bytes allocated per run of `scenario`.
fn per_run(
    bench: &Bench,
    implementation: Implementation,
    scenario: Scenario,
    runs: usize,
) -> Option<(f64, f64)> {
    bench.run(implementation, scenario).ok()?; // warm up
    let region = Region::new(GLOBAL);
    for _ in 0..runs {
        bench.run(implementation, scenario).ok()?;
    }
    let change = region.change();
    let n = runs as f64;
    Some((
        (change.allocations + change.reallocations) as f64 / n,
        (change.bytes_allocated + change.bytes_reallocated.max(0) as usize) as f64 / n,
    ))
}

/// Bytes held per established idle server connection: by the counting
/// allocator (heap still allocated), and by resident memory, measured in
/// a fresh child process so that memory freed by earlier runs cannot hide
/// the growth.
fn idle(bench: &Bench, implementation: Implementation) -> (Option<f64>, f64) {
    let rss = std::process::Command::new(std::env::current_exe().expect("our own path"))
        .args(["--idle-rss", &implementation.to_string()])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .unwrap_or(0.0);
    (held_heap(bench, implementation).map(|(heap, _)| heap), rss)
}

/// In the child: hold `IDLE` connections and print resident bytes each.
fn idle_rss_child(name: &str) {
    let bench = Bench::new(1 << 20);
    let implementation = implementations()
        .into_iter()
        .find(|i| i.to_string() == name)
        .expect("a known implementation");
    if let Some((_, rss)) = held_heap(&bench, implementation) {
        println!("{rss}");
    }
}

/// (heap, resident) bytes per connection for `IDLE` held connections.
fn held_heap(bench: &Bench, implementation: Implementation) -> Option<(f64, f64)> {
    let mut held: Vec<Box<dyn Any>> = Vec::with_capacity(IDLE);
    // One first, so that one-time set-up is not counted.
    let _first = bench.idle_connection(implementation).ok()?;
    let rss_before = resident();
    let region = Region::new(GLOBAL);
    for _ in 0..IDLE {
        held.push(bench.idle_connection(implementation).ok()?);
    }
    let change = region.change();
    let heap = change.bytes_allocated as f64 + change.bytes_reallocated as f64
        - change.bytes_deallocated as f64;
    let rss = resident().saturating_sub(rss_before) as f64;
    let per = |v: f64| v / IDLE as f64;
    Some((per(heap), per(rss)))
}

/// Resident bytes, from /proc/self/statm (Linux); 0 elsewhere.
fn resident() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
