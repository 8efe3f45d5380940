//! `tlsbio server` holds many connections at once: its default limit comes
//! from the file-descriptor limit, not a thread-per-connection habit (it
//! used to be 64, and a 100-client test got resets).

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

#[test]
fn a_hundred_and_fifty_clients_at_once_are_all_served() {
    let pki = Pki::new();
    let (server, port) = tlsbio_server(&pki, &[]);
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
    let context = ClientContext::new(Arc::new(config)).unwrap();
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
