//! `tlsbio server` holds many connections at once: its default limit comes
//! from the file-descriptor limit, not a thread-per-connection habit (it
//! used to be 64, and a 100-client test got resets). On both drivers, and
//! on several event loops; Ctrl-C closes every loop's connections with
//! close_notify.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use support::{tlsbio_server, Pki};
use tlsbio::rustls::pki_types::pem::PemObject;
use tlsbio::rustls::pki_types::CertificateDer;
use tlsbio::rustls::{ClientConfig, RootCertStore};
use tlsbio::ClientContext;
use tlsbio_blocking::Stream;

fn client_context(pki: &Pki) -> ClientContext {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(pki.path("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[cfg(not(feature = "rustls-0-24"))]
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    #[cfg(feature = "rustls-0-24")]
    let config = ClientConfig::builder(tlsbio::default_provider())
        .with_root_certificates(roots)
        .with_no_client_auth()
        .unwrap();
    ClientContext::new(Arc::new(config)).unwrap()
}

/// Whether io_uring works here; `false` (saying why) skips, except under
/// `TLSBIO_REQUIRE_PEERS` (CI), where it fails.
fn uring_available() -> bool {
    match tlsbio_uring::probe() {
        Ok(()) => true,
        Err(e) if std::env::var_os("TLSBIO_REQUIRE_PEERS").is_some() => {
            panic!("io_uring is required (TLSBIO_REQUIRE_PEERS is set): {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

#[test]
fn a_hundred_and_fifty_clients_at_once_are_all_served() {
    hundred_and_fifty(&[]);
}

#[test]
fn on_two_mio_loops_too() {
    hundred_and_fifty(&["--threads", "2"]);
}

#[test]
fn and_on_two_io_uring_loops() {
    if uring_available() {
        hundred_and_fifty(&["--io", "uring", "--threads", "2"]);
    }
}

fn hundred_and_fifty(extra: &[&str]) {
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, extra);
    let context = client_context(&pki);
    // All open at the same time: the server holds every one.
    let mut clients: Vec<Stream<TcpStream>> = (0..150)
        .map(|_| {
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            Stream::connect(&context, "localhost", tcp).unwrap()
        })
        .collect();
    for (i, tls) in clients.iter_mut().enumerate() {
        let message = format!("client {i}\n");
        tls.write_all(message.as_bytes()).unwrap();
        let mut echo = vec![0u8; message.len()];
        tls.read_exact(&mut echo).unwrap();
        assert_eq!(echo, message.as_bytes());
    }
    for tls in &mut clients {
        tls.shutdown_and_wait().unwrap();
    }
    // The server logs each clean close; wait (bounded) for all of them.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.stderr().matches("closed cleanly").count() < 150
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.stderr();
    assert!(!log.contains("refused"), "{log}");
    assert_eq!(log.matches("closed cleanly").count(), 150, "{log}");
}

#[test]
fn ctrl_c_closes_every_loops_connections_with_close_notify() {
    let mut drivers = vec!["mio"];
    if uring_available() {
        drivers.push("uring");
    }
    for io in drivers {
        let pki = Pki::new();
        let (mut server, port) = tlsbio_server(&pki, &["--io", io, "--threads", "2"]);
        server.expect(&format!("io         {io} x 2 event loop(s)"));
        let context = client_context(&pki);
        // Enough connections that both loops (SO_REUSEPORT spreads them)
        // hold some.
        let mut clients: Vec<Stream<TcpStream>> = (0..16)
            .map(|_| {
                let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut tls = Stream::connect(&context, "localhost", tcp).unwrap();
                tls.write_all(b"hi").unwrap();
                let mut echo = [0u8; 2];
                tls.read_exact(&mut echo).unwrap();
                tls
            })
            .collect();
        server.interrupt();
        for tls in &mut clients {
            // close_notify: a clean end of stream, not an error.
            let mut rest = Vec::new();
            assert_eq!(
                tls.read_to_end(&mut rest).unwrap(),
                0,
                "{io}: {}",
                server.output()
            );
        }
        assert!(server.finish(), "{io}: {}", server.output());
        let log = server.stderr();
        assert_eq!(log.matches("sent close_notify").count(), 16, "{io}: {log}");
        assert!(log.contains("stopped"), "{io}: {log}");
    }
}
