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

# The main job.
simulate:
    cargo run --release -p tlsbio --example simulate

# Exactly what CI runs.
ci:
    bash .ci/run

# Rewrite tlsbio-memory's ladder snapshots after an intended change.
bless:
    TLSBIO_BLESS=1 cargo test -p tlsbio-memory --test transcript
