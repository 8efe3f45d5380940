//! Instructions, not times: each scenario of each implementation under
//! valgrind, as rustls' own CI counts them. Instruction counts do not
//! drift with the machine's load the way wall-clock time does, so small
//! differences show.
//!
//! ```text
//! cargo run --release -p tlsbio-bench --bin tlsbio-instructions [--features openssl] [-- --json]
//! ```
//!
//! Each (scenario, implementation) pair runs in two fresh processes under
//! valgrind, side by side: one that does a warm-up unit and then `N`
//! measured units, one that does only the warm-up. The difference over `N` is the count
//! per handshake or per MiB, with first-use costs cancelled out. Only
//! instructions inside `Bench::run` are counted (callgrind's
//! `--toggle-collect`): the fixture's set-up, key generation with
//! aws-lc's jitter entropy, varies by about 1.5 M instructions from
//! process to process, which a whole-process count would add as noise
//! (about 15 k per handshake at `N` = 100). What is left varies by about
//! 1 k per handshake (ECDSA's random nonces). 100 handshakes, 16 MiB.
//! Needs `valgrind` on the PATH.
//!
//! The children run with glibc's `rep movsb` and `rep stosb` turned off
//! ([`STRING_TUNABLES`]): callgrind counts every iteration of a `rep`
//! instruction, so a 16 KiB `memcpy` that glibc hands to `rep movsb`
//! counted as 16 384 instructions and the same copy in vector loops as
//! about 500. Until 2026-12-07 that made copies a third of every bulk
//! count, and an implementation's count depended on whether its copies
//! were above glibc's threshold. With both off, every implementation's
//! copies are counted the same way, as the loops they are on a CPU
//! without fast string moves.

use std::process::{Command, ExitCode};

use tlsbio_bench::{implementations, Bench, Implementation, Scenario, SCENARIOS};

/// glibc tunables for the measured children: no `rep movsb` / `rep stosb`
/// below 1 GiB, so that callgrind counts copies and fills as loops.
const STRING_TUNABLES: &str =
    "glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824";

/// Measured handshakes per process (enough that ECDSA's varying nonces
/// average out to well under 0.1%).
const HANDSHAKES: usize = 100;
/// Measured bulk units (MiB each way) per process.
const BULK_MIB: usize = 16;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, scenario, implementation, units] = &args[..] {
        if flag == "--one" {
            return one(scenario, implementation, units);
        }
    }
    let json = args.iter().any(|a| a == "--json");
    match drive(json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tlsbio-instructions: {e}");
            ExitCode::FAILURE
        }
    }
}

fn find(scenario: &str, implementation: &str) -> Option<(Scenario, Implementation)> {
    let s = SCENARIOS.into_iter().find(|s| s.name() == scenario)?;
    let i = implementations()
        .into_iter()
        .find(|i| i.to_string() == implementation)?;
    Some((s, i))
}

/// The child: a warm-up unit, then `units` measured ones.
fn one(scenario: &str, implementation: &str, units: &str) -> ExitCode {
    let (Some((scenario, implementation)), Ok(units)) =
        (find(scenario, implementation), units.parse::<usize>())
    else {
        eprintln!("unknown scenario, implementation or count");
        return ExitCode::FAILURE;
    };
    let bench = Bench::new(1 << 20);
    for _ in 0..=units {
        if let Err(e) = bench.run(implementation, scenario) {
            eprintln!("{implementation} {}: {e}", scenario.name());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Instructions a child process executed inside `Bench::run`, from
/// callgrind's summary.
fn instructions(
    scenario: Scenario,
    implementation: Implementation,
    units: usize,
) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(set) if !set.is_empty() => format!("{set}:{STRING_TUNABLES}"),
        _ => STRING_TUNABLES.to_string(),
    };
    let output = Command::new("valgrind")
        .env("GLIBC_TUNABLES", tunables)
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=tlsbio_bench::fixture::Bench::run",
        ])
        .arg(exe)
        .args([
            "--one",
            scenario.name(),
            &implementation.to_string(),
            &units.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run valgrind (is it installed?): {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{implementation} {}: {stderr}", scenario.name()));
    }
    // "==123== I refs:        1,234,567" (older valgrind) or "I   refs:".
    stderr
        .lines()
        .filter_map(|l| l.split_once("refs:"))
        .find(|(head, _)| head.trim_end().ends_with('I'))
        .and_then(|(_, n)| n.trim().replace(',', "").parse().ok())
        .ok_or_else(|| format!("no instruction count in valgrind's output:\n{stderr}"))
}

fn drive(json: bool) -> Result<(), String> {
    // Which pairs this build can run at all (OpenSSL has no resumption
    // here): tried once natively.
    let bench = Bench::new(1 << 20);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for scenario in SCENARIOS {
        let units = if scenario == Scenario::BulkTls13 {
            BULK_MIB
        } else {
            HANDSHAKES
        };
        for implementation in implementations() {
            if let Err(e) = bench.run(implementation, scenario) {
                skipped.push(format!("{implementation} {}: {e}", scenario.name()));
                continue;
            }
            // The two children at once, one per core: each is counted on
            // its own, so running them side by side changes no count, and
            // the whole run (and CI's step) takes about half the time.
            let (measured, baseline) = std::thread::scope(|s| {
                let measured = s.spawn(|| instructions(scenario, implementation, units));
                let baseline = instructions(scenario, implementation, 0);
                let measured = measured
                    .join()
                    .unwrap_or_else(|_| Err("the measuring thread panicked".into()));
                (measured, baseline)
            });
            let (measured, baseline) = (measured?, baseline?);
            let per_unit = measured.saturating_sub(baseline) as f64 / units as f64;
            eprintln!(
                "{:<28} {:<14} {per_unit:>14.0}",
                scenario.name(),
                implementation.to_string()
            );
            rows.push((scenario, implementation, per_unit));
        }
    }
    // The better (fewer instructions) of rustls' two APIs, where the
    // build has both.
    let rustls = |scenario: Scenario| {
        rows.iter()
            .filter(|(s, i, _)| {
                *s == scenario
                    && matches!(i, Implementation::Rustls | Implementation::RustlsUnbuffered)
            })
            .map(|r| r.2)
            .reduce(f64::min)
    };
    if json {
        let results: Vec<String> = rows
            .iter()
            .map(|(s, i, n)| {
                format!(
                    "{{\"scenario\":\"{}\",\"implementation\":\"{i}\",\"instructions_per_unit\":{n:.0},\"unit\":\"{}\"}}",
                    s.name(),
                    if *s == Scenario::BulkTls13 { "MiB" } else { "handshake" }
                )
            })
            .collect();
        println!(
            "{{\"libraries\":\"{}\",\"results\":[{}]}}",
            tlsbio_bench::library_versions(),
            results.join(",")
        );
        return Ok(());
    }
    println!("{}", tlsbio_bench::library_versions());
    for why in &skipped {
        println!("not measured: {why}");
    }
    println!("\n| scenario | impl | instructions per unit | x rustls (the better API) |");
    println!("|---|---|---:|---:|");
    for (scenario, implementation, n) in &rows {
        let ratio = rustls(*scenario).map_or(String::from("-"), |r| format!("{:.3}", n / r));
        let unit = if *scenario == Scenario::BulkTls13 {
            "MiB"
        } else {
            "handshake"
        };
        println!(
            "| {} | {implementation} | {:.2} M / {unit} | {ratio} |",
            scenario.name(),
            n / 1e6
        );
    }
    Ok(())
}
