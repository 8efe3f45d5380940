//! Every target over proptest's inputs: random bytes, and seeds with
//! random bytes overwritten, so that a stable-Rust `cargo test` explores
//! a little beyond the checked-in corpus on every run.

use proptest::prelude::*;

fn seeds_of(target: &str) -> Vec<Vec<u8>> {
    tlsbio_fuzz::seeds::generate()
        .into_iter()
        .filter(|s| s.target == target)
        .map(|s| s.bytes)
        .collect()
}

/// Overwrites bytes of a seed: (position, value) pairs, positions wrapping.
fn mutated(seed: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    if !bytes.is_empty() {
        for (at, value) in edits {
            let len = bytes.len();
            bytes[at % len] = *value;
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_pass_every_target(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for (_, target) in tlsbio_fuzz::TARGETS {
            target(&data);
        }
    }

    #[test]
    fn edited_seeds_pass_every_target(
        pick in any::<usize>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        for (name, target) in tlsbio_fuzz::TARGETS {
            let seeds = seeds_of(name);
            target(&mutated(&seeds[pick % seeds.len()], &edits));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The BIO model is cheap: it gets more cases.
    #[test]
    fn bio_model_over_many_inputs(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        tlsbio_fuzz::bio_model(&data);
    }
}
