//! A TLS echo server on io_uring, one thread.
//!
//! ```text
//! cargo run -p tlsbio-uring --example uring_echo_server [-- 127.0.0.1:8443]
//! openssl s_client -connect 127.0.0.1:8443 -CAfile <the printed path>
//! ```
//!
//! It generates a self-signed certificate for localhost and 127.0.0.1,
//! writes it where it says, and echoes every byte back. A client has 10
//! seconds to finish its handshake.

#[path = "common/echo.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use tlsbio_uring::tlsbio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio_uring::tlsbio::rustls::ServerConfig;
use tlsbio_uring::tlsbio::ServerContext;
use tlsbio_uring::{Limits, Server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".into())
        .parse()?;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let cert_path = std::env::temp_dir().join("tlsbio-uring-echo-server.pem");
    std::fs::write(&cert_path, cert.cert.pem())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let chain = vec![cert.cert.der().clone()];
    #[cfg(not(feature = "rustls-0-24"))]
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    #[cfg(feature = "rustls-0-24")]
    let config = ServerConfig::builder(tlsbio_uring::tlsbio::default_provider())
        .with_no_client_auth()
        .with_single_cert(
            Arc::new(tlsbio_uring::tlsbio::rustls::crypto::Identity::from_cert_chain(chain)?),
            key,
        )?;

    // Fails with a clear message where io_uring is unavailable.
    let mut server: common::EchoServer = Server::bind(
        addr,
        ServerContext::new(Arc::new(config))?,
        Limits::default(),
    )?;
    println!("listening on {}", server.local_addr()?);
    println!("certificate {}", cert_path.display());

    let mut ready = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        for ended in server.expire(now) {
            eprintln!(
                "{:?}: {:?} deadline passed, dropped",
                ended.id, ended.reason
            );
        }
        let timeout = server
            .next_deadline()
            .map(|d| d.saturating_duration_since(now));
        server.turn(now, timeout, &mut ready)?;
        let now = Instant::now();
        for &id in &ready {
            if let common::Outcome::Ended(how) = common::on_ready(&mut server, id, &mut buf, now) {
                eprintln!("{id:?}: closed ({how:?})");
            }
        }
    }
}
