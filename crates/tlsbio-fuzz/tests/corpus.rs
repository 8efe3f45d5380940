//! Every checked-in corpus file, through its target; and the seed files
//! are what the generator makes.
//!
//! `TLSBIO_BLESS=1 cargo test -p tlsbio-fuzz --test corpus` rewrites
//! `fuzz/seeds/*/seed-*` from `tlsbio_fuzz::seeds::generate()`.

use std::fs;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted.
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(fuzz_dir().join(kind).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir
        .map(|e| e.expect("a readable corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn seed_files_are_what_the_generator_makes() {
    let bless = std::env::var_os("TLSBIO_BLESS").is_some();
    let seeds = tlsbio_fuzz::seeds::generate();
    for (target, _) in tlsbio_fuzz::TARGETS {
        let dir = fuzz_dir().join("seeds").join(target);
        let expected: Vec<_> = seeds.iter().filter(|s| s.target == target).collect();
        assert!(!expected.is_empty(), "{target} has no seeds");
        // The checked-in seeds are rustls 0.23's wire. On 0.24 the
        // generator makes other bytes from the same conversations (a
        // shorter ClientHello, another TLS 1.3 suite): the names must
        // match, and 0.24's own seeds must pass their target as well.
        if cfg!(feature = "rustls-0-24") {
            assert!(!bless, "bless the seeds on the default (rustls 0.23) build");
            let run = tlsbio_fuzz::target(target).expect("a known target");
            for seed in &expected {
                run(&seed.bytes);
            }
        }
        if bless {
            fs::create_dir_all(&dir).unwrap();
            for stale in files("seeds", target) {
                if stale
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("seed-")
                {
                    fs::remove_file(stale).unwrap();
                }
            }
            for seed in &expected {
                fs::write(dir.join(&seed.name), &seed.bytes).unwrap();
            }
        }
        let on_disk: Vec<String> = files("seeds", target)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("seed-"))
            .collect();
        let mut names: Vec<String> = expected.iter().map(|s| s.name.clone()).collect();
        names.sort();
        assert_eq!(
            on_disk, names,
            "{target}: run with TLSBIO_BLESS=1 to regenerate"
        );
        if cfg!(feature = "rustls-0-24") {
            continue;
        }
        for seed in expected {
            let bytes = fs::read(dir.join(&seed.name)).unwrap();
            assert!(
                bytes == seed.bytes,
                "{target}/{}: stale; run with TLSBIO_BLESS=1 to regenerate",
                seed.name
            );
        }
    }
}

/// Seeds, regressions (`crash-*`) and the minimised campaign corpus of
/// `target`, each through the target.
fn replay(target: &str) {
    let run = tlsbio_fuzz::target(target).expect("a known target");
    let inputs: Vec<PathBuf> = ["seeds", "corpus"]
        .iter()
        .flat_map(|kind| files(kind, target))
        .collect();
    assert!(!inputs.is_empty(), "{target}: no corpus");
    for input in &inputs {
        // A fuzzer running beside the tests replaces files as it shrinks
        // them: one that vanished was superseded.
        let Ok(bytes) = fs::read(input) else { continue };
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{target}: {} fails", input.display());
    }
    eprintln!("{target}: replayed {} corpus files", inputs.len());
}

// One test per target, so that they replay in parallel.
macro_rules! replay_tests {
    ($($target:ident),*) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*

        #[test]
        fn every_target_has_a_replay_test() {
            let covered = [$(stringify!($target)),*];
            for (name, _) in tlsbio_fuzz::TARGETS {
                assert!(covered.contains(&name), "{name} has no replay test");
            }
        }
    };
}

replay_tests!(
    server_flight,
    client_flight,
    mutated_transcript,
    schedule,
    bio_model,
    compat,
    differential
);
