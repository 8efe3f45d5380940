//! A quiet connection gives all its buffer memory back, the read BIO's
//! included (its receive is cancelled and replaced by a readability poll
//! that holds no buffer), and still wakes when the peer speaks again.

mod support;

use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::*;
use tlsbio_uring::Limits;

#[test]
fn a_quiet_connection_holds_no_buffer_and_still_wakes() {
    if !uring_available() {
        return;
    }
    let limits = Limits::default().release_memory_after(Some(Duration::from_millis(100)));
    let mut server = bind_echo(limits);
    let addr = server.local_addr().unwrap();
    let (parked, wait) = mpsc::channel::<()>();
    let client = thread::spawn(move || {
        let mut tls = blocking_client(addr);
        let mut echo = [0u8; 5];
        tls.write_all(b"ping").unwrap();
        tls.read_exact(&mut echo[..4]).unwrap();
        assert_eq!(&echo[..4], b"ping");
        wait.recv().unwrap();
        tls.write_all(b"again").unwrap();
        tls.read_exact(&mut echo).unwrap();
        assert_eq!(&echo, b"again");
        tls.shutdown_and_wait().unwrap();
    });
    let mut seen = None;
    let rested = turn_until(&mut server, |s| {
        let conn = s.ids().next().and_then(|id| s.get(id));
        seen = conn.map(|c| (c.allocated(), c.is_parked(), c.stats()));
        conn.is_some_and(|c| c.stats().bytes_out > 0 && c.is_parked() && c.allocated() == 0)
    });
    assert!(
        rested,
        "the quiet connection kept memory (allocated, parked, stats): {seen:?}"
    );
    // The poll in flight names no memory.
    assert_eq!(server.stats().orphaned, 0);
    parked.send(()).unwrap();
    assert!(
        turn_until(&mut server, |s| client.is_finished() && s.is_empty()),
        "the parked connection never woke: {:?}",
        server.stats()
    );
    client.join().unwrap();
}
