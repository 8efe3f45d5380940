//! The C tests (tests/c/*.c), compiled against the static library and run
//! three ways: plain, under AddressSanitizer + UndefinedBehaviorSanitizer,
//! and under valgrind memcheck (0 errors, 0 bytes definitely lost).

mod support;

use support::*;

fn run(name: &str, mode: Mode) {
    if !have("cc") || (mode == Mode::Valgrind && !have("valgrind")) {
        return;
    }
    let dir = scratch(&format!("{name}-{mode:?}"));
    write_pki(&dir);
    let exe = compile(name, &[&format!("tests/c/{name}.c")], &dir, mode);
    let output = command(&exe, mode)
        .arg(&dir)
        .output()
        .expect("run the C test");
    assert_success(&format!("{name} ({mode:?})"), &output);
}

#[test]
fn c_handshake() {
    run("handshake", Mode::Plain);
}

#[test]
fn c_handshake_sanitized() {
    run("handshake", Mode::Sanitized);
}

#[test]
fn c_handshake_valgrind() {
    run("handshake", Mode::Valgrind);
}

#[test]
fn c_misuse() {
    run("misuse", Mode::Plain);
}

#[test]
fn c_misuse_sanitized() {
    run("misuse", Mode::Sanitized);
}

#[test]
fn c_misuse_valgrind() {
    run("misuse", Mode::Valgrind);
}
