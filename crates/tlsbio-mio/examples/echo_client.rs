//! A TLS client with the mio driver: sends a message, prints the reply,
//! closes with close_notify.
//!
//! ```text
//! cargo run -p tlsbio-mio --example echo_client -- 127.0.0.1:8443 CA.pem [MESSAGE]
//! ```
//!
//! Against the echo_server example, or `openssl s_server -accept 8443
//! -cert cert.pem -key key.pem` (type a reply there).

use std::io;
use std::sync::Arc;

use mio::{Events, Poll, Token};
use tlsbio_mio::tlsbio::rustls::pki_types::pem::PemObject;
use tlsbio_mio::tlsbio::rustls::pki_types::CertificateDer;
use tlsbio_mio::tlsbio::rustls::{ClientConfig, RootCertStore};
use tlsbio_mio::tlsbio::ClientContext;
use tlsbio_mio::Connection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(ca)) = (args.next(), args.next()) else {
        return Err("usage: echo_client HOST:PORT CA.pem [MESSAGE]".into());
    };
    let message = args
        .next()
        .unwrap_or_else(|| "hello from tlsbio-mio".into())
        + "\n";
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&ca)? {
        roots.add(cert?)?;
    }
    #[cfg(not(feature = "rustls-0-24"))]
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // rustls 0.24 takes the crypto provider in the builder.
    #[cfg(feature = "rustls-0-24")]
    let config = ClientConfig::builder(tlsbio_mio::tlsbio::default_provider())
        .with_root_certificates(roots)
        .with_no_client_auth()?;

    let mut poll = Poll::new()?;
    let context = ClientContext::new(Arc::new(config))?;
    let mut conn = Connection::connect(&context, "localhost", addr.parse()?, Token(0))?;
    conn.register(poll.registry())?;
    let mut events = Events::with_capacity(16);
    let (mut sent, mut received, mut closing) = (0, 0, false);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            conn.ready(event);
        }
        while !conn.is_handshaking() && sent < message.len() {
            match conn.write(&message.as_bytes()[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        loop {
            match conn.read(&mut buf) {
                Ok(0) => {
                    eprintln!("server closed (close_notify)");
                    return Ok(());
                }
                Ok(n) => {
                    print!("{}", String::from_utf8_lossy(&buf[..n]));
                    received += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        if received >= message.len() && !closing {
            // Got the echo: close_notify, then wait for the server's.
            conn.shutdown()?;
            closing = true;
        }
        conn.reregister(poll.registry())?;
    }
}
