# Everyday recipes. `pip install rust-just` installs `just` in a second.
# Nothing here is needed for the README's two commands.

default: test

# The README's test command.
test:
    cargo test --workspace

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# API docs, failing on warnings.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# The main job (extra arguments go to `tlsbio simulate`).
simulate *ARGS:
    cargo run --release -p tlsbio-cli -- simulate {{ARGS}}

# A TLS server on 127.0.0.1:8443 (echo; `just serve --http` for curl).
serve *ARGS:
    cargo run --release -p tlsbio-cli -- server {{ARGS}}

# Only the interop tests (needs openssl, python3, curl, gnutls-bin).
interop:
    TLSBIO_REQUIRE_PEERS=1 cargo test -p tlsbio-cli --test interop

# The C API's tests: C programs plain, under ASan + UBSan and under
# valgrind; the C examples against openssl and Python; the header check.
c-test:
    TLSBIO_REQUIRE_PEERS=1 cargo test -p tlsbio-ffi

# tlsbio-uring's tests under AddressSanitizer (nightly flags, unlocked on
# stable by RUSTC_BOOTSTRAP; the C underneath instrumented through CFLAGS).
# Doc tests are left out: rustdoc does not get the sanitizer flags.
uring-asan:
    CARGO_TARGET_DIR=target/asan CFLAGS=-fsanitize=address CXXFLAGS=-fsanitize=address RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Zsanitizer=address LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp TLSBIO_REQUIRE_PEERS=1 cargo test -p tlsbio-uring --target x86_64-unknown-linux-gnu --lib --tests

# Rewrite crates/tlsbio-ffi/include/tlsbio.h after changing the C API.
c-header:
    TLSBIO_BLESS=1 cargo test -p tlsbio-ffi --test header

# Exactly what CI runs.
ci:
    bash .ci/run

# Rewrite tlsbio-memory's ladder snapshots after an intended change.
bless:
    TLSBIO_BLESS=1 cargo test -p tlsbio-memory --test transcript

# Fuzz one target with libFuzzer for SECONDS (needs `cargo install
# cargo-fuzz`; stable Rust is fine). New inputs land in fuzz/corpus/TARGET,
# crashes in fuzz/artifacts/TARGET. See docs/fuzzing.md.
fuzz TARGET SECONDS='600':
    mkdir -p fuzz/corpus/{{TARGET}}
    RUSTC_WRAPPER=$PWD/fuzz/rustc-wrapper cargo fuzz run -O --sanitizer none {{TARGET}} fuzz/corpus/{{TARGET}} fuzz/seeds/{{TARGET}} -- -max_total_time={{SECONDS}} -timeout=10 -print_final_stats=1

# Every target in turn, SECONDS each.
fuzz-all SECONDS='600':
    for t in server_flight client_flight mutated_transcript schedule bio_model compat ffi_server; do just fuzz $t {{SECONDS}} || exit 1; done

# The same under AddressSanitizer, for the C underneath (aws-lc, built
# instrumented through CFLAGS); ASan needs nightly flags, which
# RUSTC_BOOTSTRAP unlocks on stable. New inputs go to a scratch directory.
fuzz-asan TARGET SECONDS='600':
    mkdir -p fuzz/corpus-raw/{{TARGET}}
    CFLAGS=-fsanitize=address CXXFLAGS=-fsanitize=address RUSTC_BOOTSTRAP=1 LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp RUSTC_WRAPPER=$PWD/fuzz/rustc-wrapper cargo fuzz run -O --sanitizer address {{TARGET}} fuzz/corpus-raw/{{TARGET}} fuzz/corpus/{{TARGET}} fuzz/seeds/{{TARGET}} -- -max_total_time={{SECONDS}} -timeout=10 -print_final_stats=1

# Shrink a target's campaign corpus to the inputs that add coverage,
# before checking it in.
fuzz-cmin TARGET:
    RUSTC_WRAPPER=$PWD/fuzz/rustc-wrapper cargo fuzz cmin -O --sanitizer none {{TARGET}} fuzz/corpus/{{TARGET}}

# Rewrite fuzz/seeds/*/seed-* from the deterministic transcripts.
fuzz-seeds:
    TLSBIO_BLESS=1 cargo test -p tlsbio-fuzz --test corpus seed_files_are_what_the_generator_makes

# The benchmarks' system packages (OpenSSL headers for the comparison).
bench-deps:
    command -v pkg-config >/dev/null && dpkg -s libssl-dev >/dev/null 2>&1 || (apt-get update && apt-get install -y libssl-dev pkg-config)

# tlsbio against raw rustls and OpenSSL in memory (docs/benchmarks.md).
bench *ARGS: bench-deps
    cargo run --release -p tlsbio-cli --features openssl -- bench {{ARGS}}

# Allocations and heap per connection.
bench-counts: bench-deps
    cargo run --release -p tlsbio-bench --bin tlsbio-counts --features openssl

# The criterion version of `just bench`.
bench-criterion: bench-deps
    cargo bench -p tlsbio-bench --bench compare --features openssl

# Instructions per handshake and per MiB under valgrind, for every
# implementation (docs/benchmarks.md).
bench-instructions: bench-deps
    cargo run --release -p tlsbio-bench --bin tlsbio-instructions --features openssl

# Wall clock compared unit by unit in short blocks, robust to a machine
# whose speed drifts (docs/benchmarks.md, "wall clock measured in pairs").
bench-paired *ARGS:
    cargo run --release -p tlsbio-bench --bin tlsbio-paired -- {{ARGS}}

# tlsbio-uring and tlsbio-mio against tokio-rustls on loopback, 1 and N
# loops, with the server's CPU time.
bench-loopback *ARGS:
    cargo bench -p tlsbio-uring --bench loopback -- {{ARGS}}
