//! Support for the C tests: a PKI on disk, the static library, and C
//! programs compiled against it, plain, under sanitizers, or under
//! valgrind.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// Whether `program` is on PATH; when not, the test says why it skips,
/// unless `TLSBIO_REQUIRE_PEERS` is set (CI), where that is a failure.
pub fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            std::env::var_os("TLSBIO_REQUIRE_PEERS").is_none(),
            "{program} is not installed but TLSBIO_REQUIRE_PEERS is set"
        );
        eprintln!("skipping: {program} is not installed (.ci/run installs it)");
    }
    found
}

/// A scratch directory under the target directory, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("tlsbio-ffi-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `target/<profile>`: where cargo put this test binary's library.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// Writes a CA (`ca.pem`), a server chain for localhost and 127.0.0.1
/// (`server.pem`, `server.key`) and a client certificate (`client.pem`,
/// `client.key`) into `dir`; ECDSA P-256, which every peer reads.
pub fn write_pki(dir: &Path) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "tlsbio-ffi test ca");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    let leaves: [(&str, &[&str]); 2] = [
        ("server", &["localhost", "127.0.0.1"]),
        ("client", &["client.tlsbio.test"]),
    ];
    for (name, sans) in leaves {
        let params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

/// How a C program is built and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    /// AddressSanitizer + UndefinedBehaviorSanitizer on the C side, every
    /// report fatal.
    Sanitized,
    /// Run under valgrind memcheck: no errors, no definitely lost bytes.
    Valgrind,
}

/// Compiles `sources` (relative to the crate) into `out/name` against
/// the static library.
pub fn compile(name: &str, sources: &[&str], out: &Path, mode: Mode) -> PathBuf {
    let krate = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The copy cargo built for this test run sits beside the test binary;
    // `target/<profile>/libtlsbio_ffi.a` is only refreshed by `cargo build`.
    let exe_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let lib = exe_dir.join("libtlsbio_ffi.a");
    assert!(lib.is_file(), "{} was not built", lib.display());
    let exe = out.join(name);
    let mut cc = Command::new("cc");
    cc.args([
        "-std=c11",
        "-D_GNU_SOURCE",
        "-g",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
    ])
    .arg("-I")
    .arg(krate.join("include"))
    .arg("-I")
    .arg(krate.join("tests/c"));
    if mode == Mode::Sanitized {
        cc.args([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
    }
    cc.args(sources.iter().map(|s| krate.join(s)))
        .arg(&lib)
        // What `--print native-static-libs` lists for this library.
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .arg("-o")
        .arg(&exe);
    let output = cc.output().expect("run cc");
    assert!(
        output.status.success(),
        "cc failed for {name}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// The command that runs `exe` in `mode`.
pub fn command(exe: &Path, mode: Mode) -> Command {
    match mode {
        Mode::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args([
                "--quiet",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
            ])
            .arg(exe);
            c
        }
        Mode::Sanitized => {
            let mut c = Command::new(exe);
            c.env(
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:halt_on_error=1",
            )
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            c
        }
        Mode::Plain => Command::new(exe),
    }
}

/// Asserts that a finished C program succeeded, showing what it printed.
pub fn assert_success(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
