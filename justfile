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

# Exactly what CI runs.
ci:
    bash .ci/run

# Rewrite tlsbio-memory's ladder snapshots after an intended change.
bless:
    TLSBIO_BLESS=1 cargo test -p tlsbio-memory --test transcript
