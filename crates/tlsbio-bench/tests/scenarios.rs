//! Every scenario runs on every implementation in this build, and the
//! copy counts are what the design says.

use tlsbio_bench::{implementations, Bench, BioKind, Implementation, Scenario, SCENARIOS};

#[test]
fn every_scenario_runs_on_every_implementation() {
    let bench = Bench::new(256 * 1024);
    for scenario in SCENARIOS {
        for implementation in implementations() {
            let result = bench.run(implementation, scenario);
            if implementation == Implementation::OpenSsl && scenario == Scenario::ResumedTls13 {
                assert!(
                    result.is_err(),
                    "OpenSSL resumption is reported as not measured"
                );
                continue;
            }
            let work = result.unwrap_or_else(|e| panic!("{implementation} {scenario:?}: {e}"));
            assert!(
                work.units > 0.0 && work.ciphertext > 0,
                "{implementation} {scenario:?}"
            );
        }
    }
}

#[test]
fn resumption_resumes_after_the_first_run() {
    for implementation in [Implementation::Tlsbio(BioKind::Vec), Implementation::Rustls] {
        // Its own client config: tickets are kept in it.
        let bench = Bench::new(1);
        let full = bench.run(implementation, Scenario::ResumedTls13).unwrap();
        let resumed = bench.run(implementation, Scenario::ResumedTls13).unwrap();
        assert!(!full.resumed && resumed.resumed, "{implementation}");
        // No certificate or CertificateVerify in a resumed handshake.
        assert!(resumed.ciphertext < full.ciphertext, "{implementation}");
    }
}

#[test]
fn bulk_ciphertext_copies_per_byte() {
    let bench = Bench::new(1 << 20);
    let copies = |i| bench.run(i, Scenario::BulkTls13).unwrap().copies_per_byte();
    // rustls 0.23: write_tls copies out of rustls, read_tls copies in.
    // rustls 0.24 appends to the caller's Vec, so only reading into its
    // VecInput copies.
    let raw = if cfg!(feature = "rustls-0-24") {
        1.0
    } else {
        2.0
    };
    let rustls = copies(Implementation::Rustls);
    assert!((rustls - raw).abs() < 0.01, "rustls {rustls}");
    // rustls 0.23's unbuffered encrypt copies each record into the write
    // BIO (inside rustls); 0.24 encrypts straight into a write BIO that
    // lends its memory (only the handshake goes through the backend's
    // scratch). The read BIO is decrypted in place; the harness copies
    // between VecBios...
    let own = if cfg!(feature = "rustls-0-24") {
        0.0
    } else {
        1.0
    };
    let vec = copies(Implementation::Tlsbio(BioKind::Vec));
    assert!((vec - (own + 1.0)).abs() < 0.01, "VecBio {vec}");
    // ...and hands BytesBio chunks over without one.
    let bytes = copies(Implementation::Tlsbio(BioKind::Bytes));
    assert!((bytes - own).abs() < 0.01, "BytesBio {bytes}");
}
