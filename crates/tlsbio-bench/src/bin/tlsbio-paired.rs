//! Wall clock, paired: every implementation one unit at a time in
//! rotation, compared block by block (`tlsbio_bench::paired` says why).
//!
//! ```sh
//! cargo run --release -p tlsbio-bench --bin tlsbio-paired [-- --blocks N]
//! ```
//!
//! Prints, per scenario and implementation, the median time of one unit
//! and how much faster it ran than the better of rustls' APIs: the median
//! of the per-block ratios (above 1: faster than rustls), the middle half
//! of them, and a verdict ("level" when that middle half straddles 1).

use std::process::ExitCode;
use std::time::Instant;

use tlsbio_bench::paired::{block_ratio, median, Summary};
use tlsbio_bench::{implementations, Bench, Implementation, Scenario, SCENARIOS};

/// Blocks per scenario, unless `--blocks` says otherwise.
const BLOCKS: usize = 41;
/// Bytes each way per bulk unit.
const BULK_BYTES: usize = 4 << 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let blocks = match &args[1..] {
        [] => BLOCKS,
        [flag, n] if flag == "--blocks" => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return usage(),
        },
        _ => return usage(),
    };
    if cfg!(debug_assertions) {
        eprintln!("tlsbio-paired: a debug build; use --release for numbers");
    }
    let bench = Bench::new(BULK_BYTES);
    let all = implementations();
    println!("{}", tlsbio_bench::library_versions());
    println!(
        "\n{blocks} blocks per scenario; a block runs every implementation one unit at a \
         time in rotation ({HANDSHAKE_ROUNDS} rounds for handshakes, {BULK_ROUNDS} for bulk of \
         {} MiB each way)\n",
        BULK_BYTES >> 20
    );
    println!("| scenario | impl | median unit | x rustls (median of blocks) | middle half of blocks | verdict |");
    println!("|---|---|---:|---:|---:|---|");
    for scenario in SCENARIOS {
        match compare(&bench, scenario, &all, blocks) {
            Ok(rows) => {
                for row in rows {
                    println!("{row}");
                }
            }
            Err(e) => {
                eprintln!("tlsbio-paired: {}: {e}", scenario.name());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: tlsbio-paired [--blocks N]");
    ExitCode::FAILURE
}

/// Rotations per block.
const HANDSHAKE_ROUNDS: usize = 25;
const BULK_ROUNDS: usize = 2;

/// Table rows for one scenario.
fn compare(
    bench: &Bench,
    scenario: Scenario,
    all: &[Implementation],
    blocks: usize,
) -> Result<Vec<String>, String> {
    let rounds = match scenario {
        Scenario::BulkTls13 => BULK_ROUNDS,
        _ => HANDSHAKE_ROUNDS,
    };
    // Warm up, and leave out what this build cannot run (OpenSSL without
    // its feature).
    let impls: Vec<Implementation> = all
        .iter()
        .copied()
        .filter(|&i| bench.run(i, scenario).is_ok())
        .collect();
    let rustls: Vec<usize> = (0..impls.len())
        .filter(|&k| {
            matches!(
                impls[k],
                Implementation::Rustls | Implementation::RustlsUnbuffered
            )
        })
        .collect();
    if rustls.is_empty() {
        return Err("no rustls implementation ran".into());
    }
    // times[block][implementation]: seconds per unit, one per round.
    let mut times = vec![vec![Vec::with_capacity(rounds); impls.len()]; blocks];
    for block in times.iter_mut() {
        for round in 0..rounds {
            for k in 0..impls.len() {
                // Rotate the order, so no implementation always runs
                // right after the same one.
                let k = (k + round) % impls.len();
                let start = Instant::now();
                let work = bench.run(impls[k], scenario).map_err(|e| e.to_string())?;
                block[k].push(start.elapsed().as_secs_f64() / work.units);
            }
        }
    }
    let mut rows = Vec::new();
    for (k, &implementation) in impls.iter().enumerate() {
        let ratios: Vec<f64> = times
            .iter()
            .filter_map(|block| {
                // The better rustls API in this block: the faster median.
                let best = rustls
                    .iter()
                    .filter_map(|&r| median(&block[r]))
                    .min_by(f64::total_cmp)?;
                block_ratio(&block[k], &[best])
            })
            .collect();
        let all_units: Vec<f64> = times.iter().flat_map(|b| b[k].iter().copied()).collect();
        let (Some(summary), Some(unit)) = (Summary::of(&ratios), median(&all_units)) else {
            continue;
        };
        let unit = match scenario {
            Scenario::BulkTls13 => format!("{:.2} ms / MiB", unit * 1e3),
            _ => format!("{:.1} µs", unit * 1e6),
        };
        // rustls' own rows are measured against the better of the two,
        // themselves included: a reference, not a verdict.
        let verdict = match rustls.contains(&k) {
            true => "(reference)",
            false => summary.verdict(),
        };
        rows.push(format!(
            "| {} | {implementation} | {unit} | {:.3} | {:.3}-{:.3} | {verdict} |",
            scenario.name(),
            summary.median,
            summary.low,
            summary.high,
        ));
    }
    Ok(rows)
}
