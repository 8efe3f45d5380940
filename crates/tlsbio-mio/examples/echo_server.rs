//! A TLS echo server on one thread with the mio driver.
//!
//! ```text
//! cargo run -p tlsbio-mio --example echo_server [-- 127.0.0.1:8443]
//! openssl s_client -connect 127.0.0.1:8443 -CAfile <the printed path>
//! ```
//!
//! It generates a self-signed certificate for localhost and 127.0.0.1,
//! writes it where it says, and echoes every line back. A client has 10
//! seconds to finish its handshake.

#[path = "common/echo.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use mio::{Events, Poll, Token};
use tlsbio_mio::tlsbio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio_mio::tlsbio::rustls::ServerConfig;
use tlsbio_mio::tlsbio::ServerContext;
use tlsbio_mio::{Limits, Server};

const LISTENER: Token = Token(0);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".into())
        .parse()?;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let cert_path = std::env::temp_dir().join("tlsbio-echo-server.pem");
    std::fs::write(&cert_path, cert.cert.pem())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let chain = vec![cert.cert.der().clone()];
    #[cfg(not(feature = "rustls-0-24"))]
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // rustls 0.24 takes the crypto provider in the builder and the chain
    // as an `Identity`.
    #[cfg(feature = "rustls-0-24")]
    let config = ServerConfig::builder(tlsbio_mio::tlsbio::default_provider())
        .with_no_client_auth()
        .with_single_cert(
            Arc::new(tlsbio_mio::tlsbio::rustls::crypto::Identity::from_cert_chain(chain)?),
            key,
        )?;

    let mut poll = Poll::new()?;
    let mut server: common::EchoServer = Server::bind(
        addr,
        ServerContext::new(Arc::new(config))?,
        Limits::default(),
        poll.registry(),
        LISTENER,
    )?;
    println!("listening on {}", server.local_addr()?);
    println!("certificate {}", cert_path.display());

    let mut events = Events::with_capacity(256);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let timeout = server
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        poll.poll(&mut events, timeout)?;
        for event in &events {
            match common::on_event(&mut server, poll.registry(), event, &mut buf)? {
                common::Outcome::Ended(conn, how) => {
                    eprintln!("{:?}: closed ({:?}, {how:?})", conn.token(), conn.closed());
                    // Its BIO memory starts the next connection.
                    server.recycle(*conn);
                }
                common::Outcome::Accepted | common::Outcome::Open(_) | common::Outcome::Stale => {}
            }
        }
        let now = Instant::now();
        common::retry_accept(&mut server, poll.registry(), now)?;
        for ended in server.expire(poll.registry(), now) {
            eprintln!(
                "{:?}: {:?} deadline passed, dropped",
                ended.connection.token(),
                ended.reason
            );
            server.recycle(ended.connection);
        }
    }
}
