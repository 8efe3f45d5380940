//! `bench`: the in-memory comparisons of `tlsbio-bench`, interleaved, with
//! a progress bar and a table (or JSON).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tlsbio_bench::paired::median;
use tlsbio_bench::{implementations, Bench, Implementation, Scenario, SCENARIOS};

use crate::Result;

#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Fewer and shorter measurements, same scenarios: under a minute.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Measurements of each scenario and implementation (the median is
    /// reported).
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
}

/// How long each measurement runs, and how much a bulk run moves.
struct Plan {
    runs: usize,
    budget: Duration,
    bulk_bytes: usize,
}

/// One cell of the table.
struct Cell {
    scenario: Scenario,
    implementation: Implementation,
    per_second: Vec<f64>,
    copies_per_byte: f64,
    error: Option<String>,
}

pub(crate) fn run(args: &BenchArgs) -> Result<ExitCode> {
    let mut plan = if args.quick {
        Plan {
            runs: 3,
            budget: Duration::from_millis(150),
            bulk_bytes: 16 << 20,
        }
    } else {
        Plan {
            runs: 5,
            budget: Duration::from_millis(600),
            bulk_bytes: 64 << 20,
        }
    };
    if let Some(runs) = args.runs {
        plan.runs = runs.max(1);
    }
    if cfg!(debug_assertions) {
        eprintln!("tlsbio: warning: a debug build; use `cargo run --release` for numbers");
    }
    let bench = Bench::new(plan.bulk_bytes);
    let pairs: Vec<(Scenario, Implementation)> = SCENARIOS
        .iter()
        .flat_map(|s| implementations().into_iter().map(move |i| (*s, i)))
        .collect();
    let mut cells: Vec<Cell> = pairs
        .iter()
        .map(|&(scenario, implementation)| {
            // A first run warms up, and finds what this build cannot do.
            let first = bench.run(implementation, scenario);
            Cell {
                scenario,
                implementation,
                per_second: Vec::new(),
                copies_per_byte: first.as_ref().map_or(0.0, |w| w.copies_per_byte()),
                error: first.err().map(|e| e.to_string()),
            }
        })
        .collect();

    let progress = ProgressBar::new((plan.runs * cells.len()) as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
            .map_err(|e| e.to_string())?,
    );
    // Round by round, every pair in turn: noise hits them all alike.
    for _ in 0..plan.runs {
        for cell in &mut cells {
            progress.set_message(format!("{} {}", cell.scenario.name(), cell.implementation));
            if cell.error.is_none() {
                match measure(&bench, cell.implementation, cell.scenario, plan.budget) {
                    Ok(rate) => cell.per_second.push(rate),
                    Err(e) => cell.error = Some(e),
                }
            }
            progress.inc(1);
        }
    }
    progress.finish_and_clear();

    if args.json {
        println!("{}", json(&cells, &plan));
    } else {
        print!("{}", table(&cells, &plan, &bench));
    }
    Ok(ExitCode::SUCCESS)
}

/// Units per second over at least `budget` (and at least one run).
fn measure(
    bench: &Bench,
    implementation: Implementation,
    scenario: Scenario,
    budget: Duration,
) -> std::result::Result<f64, String> {
    let start = Instant::now();
    let mut units = 0.0;
    while units == 0.0 || start.elapsed() < budget {
        units += bench
            .run(implementation, scenario)
            .map_err(|e| e.to_string())?
            .units;
    }
    Ok(units / start.elapsed().as_secs_f64())
}

/// The median rate of `name`'s implementation in `scenario` (the first
/// BIO kind for tlsbio is not used: rustls and openssl have one row).
fn rate_of(cells: &[Cell], scenario: Scenario, name: &str) -> Option<f64> {
    cells
        .iter()
        .find(|c| c.scenario == scenario && c.implementation.name() == name)
        .and_then(|c| median(&c.per_second))
}

fn table(cells: &[Cell], plan: &Plan, bench: &Bench) -> String {
    let mut out = format!(
        "{}\nmedian of {} runs of at least {:?} each; bulk moves {} MiB each way per run\n\n",
        machine(),
        plan.runs,
        plan.budget,
        bench.bulk_bytes() >> 20
    );
    out += &format!(
        "{:<26} {:<18} {:>12} {:<13} {:>9} {:>10} {:>13}\n",
        "scenario", "impl", "per second", "unit", "x rustls", "x openssl", "copies/byte"
    );
    let ratio = |rate: f64, base: Option<f64>| {
        base.map_or_else(|| "-".to_string(), |b| format!("{:.2}", rate / b))
    };
    for cell in cells {
        let name = cell.implementation.to_string();
        let Some(rate) = median(&cell.per_second) else {
            let why = cell.error.as_deref().unwrap_or("no runs");
            out += &format!("{:<26} {:<18} {why}\n", cell.scenario.name(), name);
            continue;
        };
        // The better of rustls' two APIs, where the build has both.
        let rustls = match (
            rate_of(cells, cell.scenario, "rustls"),
            rate_of(cells, cell.scenario, "rustls-unbuffered"),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let openssl = rate_of(cells, cell.scenario, "openssl");
        out += &format!(
            "{:<26} {:<18} {:>12.1} {:<13} {:>9} {:>10} {:>13.2}\n",
            cell.scenario.name(),
            name,
            rate,
            cell.scenario.unit(),
            ratio(rate, rustls),
            ratio(rate, openssl),
            cell.copies_per_byte
        );
    }
    out +=
        "\nx rustls: against the faster of rustls' buffered and unbuffered APIs in each scenario\n";
    if !cfg!(feature = "openssl") {
        out += "\nOpenSSL is not in this build: cargo run --release -p tlsbio-cli \
                --features openssl -- bench (needs libssl-dev and pkg-config)\n";
    }
    out
}

fn json(cells: &[Cell], plan: &Plan) -> String {
    let results: Vec<serde_json::Value> = cells
        .iter()
        .filter_map(|cell| {
            let rate = median(&cell.per_second)?;
            let mut row = serde_json::json!({
                "scenario": cell.scenario.name(),
                "implementation": cell.implementation.name(),
                "per_second": rate,
                "unit": cell.scenario.unit(),
                "runs": cell.per_second.len(),
                "copies_per_byte": cell.copies_per_byte,
            });
            if let Some(bio) = cell.implementation.bio() {
                row["bio"] = bio.name().into();
            }
            Some(row)
        })
        .collect();
    let skipped: Vec<serde_json::Value> = cells
        .iter()
        .filter_map(|cell| {
            let error = cell.error.as_ref()?;
            Some(serde_json::json!({
                "scenario": cell.scenario.name(),
                "implementation": cell.implementation.name(),
                "reason": error,
            }))
        })
        .collect();
    serde_json::json!({
        "machine": machine(),
        "budget_ms": plan.budget.as_millis() as u64,
        "results": results,
        "skipped": skipped,
    })
    .to_string()
}

/// The CPU, the core count and the build, for the record.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!(
        "{cpu}, {cores} cores; {} build; {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        tlsbio_bench::library_versions()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlsbio_bench::BioKind;

    fn cell(scenario: Scenario, implementation: Implementation, rates: &[f64]) -> Cell {
        Cell {
            scenario,
            implementation,
            per_second: rates.to_vec(),
            copies_per_byte: 1.0,
            error: rates.is_empty().then(|| "not in this build".to_string()),
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let cells = [
            cell(
                Scenario::HandshakeTls13P256,
                Implementation::Tlsbio(BioKind::Ring),
                &[3.0, 1.0, 2.0],
            ),
            cell(Scenario::BulkTls13, Implementation::Rustls, &[100.0]),
            cell(Scenario::ResumedTls13, Implementation::OpenSsl, &[]),
        ];
        let plan = Plan {
            runs: 3,
            budget: Duration::from_millis(10),
            bulk_bytes: 1 << 20,
        };
        let value: serde_json::Value = serde_json::from_str(&json(&cells, &plan)).unwrap();
        assert!(value["machine"].is_string());
        let results = value["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "a skipped pair has no result");
        assert_eq!(results[0]["scenario"], "handshake-tls13-p256");
        assert_eq!(results[0]["implementation"], "tlsbio");
        assert_eq!(results[0]["bio"], "ring");
        assert_eq!(results[0]["per_second"], 2.0, "the median");
        assert_eq!(results[0]["unit"], "handshakes/s");
        assert_eq!(results[0]["runs"], 3);
        assert_eq!(results[1]["unit"], "MiB/s");
        assert!(results[1].get("bio").is_none(), "bio is for tlsbio only");
        assert_eq!(value["skipped"][0]["implementation"], "openssl");
        for r in results {
            let name = r["scenario"].as_str().unwrap();
            assert!(["handshake", "resumed", "bulk"]
                .iter()
                .any(|k| name.contains(k)));
        }
    }

    #[test]
    fn ratios_are_against_the_other_implementations_in_the_same_scenario() {
        let cells = [
            cell(
                Scenario::BulkTls13,
                Implementation::Tlsbio(BioKind::Vec),
                &[150.0],
            ),
            cell(Scenario::BulkTls13, Implementation::Rustls, &[100.0]),
            cell(Scenario::BulkTls13, Implementation::OpenSsl, &[300.0]),
        ];
        let plan = Plan {
            runs: 1,
            budget: Duration::from_millis(10),
            bulk_bytes: 1 << 20,
        };
        let bench = Bench::new(1 << 20);
        let text = table(&cells, &plan, &bench);
        let row = text.lines().find(|l| l.contains("tlsbio/vec")).unwrap();
        assert!(row.contains(" 1.50 ") && row.contains(" 0.50 "), "{row}");
    }
}
