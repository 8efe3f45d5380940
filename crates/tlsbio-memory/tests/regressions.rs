//! Runs the fuzzers found broken, kept as named tests.

mod support;

use support::*;
use tlsbio_memory::{Capacities, Close, Schedule, Script, Side};

/// Found by the `schedule` fuzz target. The client's read BIO (172 bytes)
/// is smaller than a session-ticket record (184), so the engine stages
/// that record; the rest of it arrives together with the server's whole
/// close_notify record. The engine finished the staged record and then,
/// without offering the read BIO's 24 bytes to rustls, asked for more
/// input: with the stream ended it reported a truncation ("24 bytes of a
/// partial record left") instead of the clean close, and on a live link
/// it would have waited for bytes the peer was never going to send.
#[test]
fn a_record_behind_a_staged_one_is_processed_before_asking_for_more() {
    let capacities = Capacities {
        client_rx: 172,
        client_tx: 16281,
        server_rx: 65536,
        server_tx: 65536,
    };
    let mut pair = pair(
        1,
        TLS13,
        Schedule::seeded(17942340915436209445).with_capacities(capacities),
        224,
        0,
    )
    .client_script(Script::sending(Side::Client, 224).close(Close::HalfClose))
    .build()
    .unwrap();
    let report = pair.run();
    assert!(report.is_clean(), "{report}");
}
