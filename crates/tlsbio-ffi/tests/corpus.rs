//! The `ffi_server` fuzz target's corpus, replayed through the C ABI: its
//! own minimised campaign corpus (fuzz/corpus/ffi_server) and the client
//! flights it was seeded from (the server_flight seeds and corpus: same
//! layout).

use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn ffi_server_corpus_replays() {
    let inputs: Vec<PathBuf> = [
        "seeds/server_flight",
        "corpus/server_flight",
        "corpus/ffi_server",
    ]
    .iter()
    .flat_map(|d| files(d))
    .collect();
    assert!(inputs.len() > 8, "the corpus is missing");
    for input in &inputs {
        // A fuzzer running beside the tests replaces files as it shrinks
        // them: one that vanished was superseded.
        let Ok(bytes) = fs::read(input) else { continue };
        let outcome = std::panic::catch_unwind(|| tlsbio_ffi::fuzzing::server_flights(&bytes));
        assert!(outcome.is_ok(), "{} fails", input.display());
    }
    eprintln!("ffi_server: replayed {} inputs", inputs.len());
}

/// The seeds are real ClientHellos: the server answers each with its whole
/// flight, lent or copied, whatever the chunking.
#[test]
fn seeds_reach_the_servers_flight() {
    for seed in files("seeds/server_flight") {
        let mut bytes = fs::read(&seed).unwrap();
        for flags in 0..4 {
            bytes[0] = flags;
            let flights = tlsbio_ffi::fuzzing::server_flights(&bytes);
            assert!(
                flights.sent > 500,
                "{} (flags {flags}): the server sent only {} bytes",
                seed.display(),
                flights.sent
            );
        }
    }
}
