//! A client and a server in memory: a TLS 1.3 handshake, an exchange, and a
//! clean shutdown, printing each flight as it crosses.
//!
//! Run with `cargo run --release -p tlsbio --example simulate`.

use std::sync::Arc;
use std::time::Instant;

use tlsbio::bio::{Bio, VecBio};
use tlsbio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tlsbio::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tlsbio::{ClientContext, Engine, Error, ServerContext};

type Side = Engine<VecBio, VecBio>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let chain = vec![cert.cert.der().clone()];

    // rustls 0.23 (tlsbio's default).
    #[cfg(not(feature = "rustls-0-24"))]
    let (client_config, server_config) = (
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)?,
    );
    // rustls 0.24 (the `rustls-0-24` feature) takes the crypto provider in
    // the builder and a certificate chain as an `Identity`.
    #[cfg(feature = "rustls-0-24")]
    let (client_config, server_config) = {
        let identity = Arc::new(tlsbio::rustls::crypto::Identity::from_cert_chain(chain)?);
        (
            ClientConfig::builder(tlsbio::default_provider())
                .with_root_certificates(roots)
                .with_no_client_auth()?,
            ServerConfig::builder(tlsbio::default_provider())
                .with_no_client_auth()
                .with_single_cert(identity, key)?,
        )
    };

    let start = Instant::now();
    let mut client = Engine::client(
        &ClientContext::new(Arc::new(client_config))?,
        "localhost".try_into()?,
        VecBio::new(),
        VecBio::new(),
    )?;
    let mut server = Engine::server(
        &ServerContext::new(Arc::new(server_config))?,
        VecBio::new(),
        VecBio::new(),
    );

    println!("client                                  server");
    for round in 1..=10 {
        let c = client.connect();
        move_flight("client", &mut client, "------------------->", &mut server);
        let s = server.accept();
        move_flight("server", &mut server, "<-------------------", &mut client);
        match (&c, &s) {
            (Ok(()), Ok(())) => break,
            (Ok(()) | Err(Error::Want(_)), Ok(()) | Err(Error::Want(_))) => {}
            _ => return Err(format!("handshake failed: {c:?} / {s:?}").into()),
        }
        if round == 10 {
            return Err("handshake did not finish in 10 rounds".into());
        }
    }
    let handshake = start.elapsed();

    client.write(b"hello from the client")?;
    move_flight("client", &mut client, "-- application data ->", &mut server);
    let mut buf = [0u8; 64];
    let n = server.read(&mut buf)?;
    println!("server read {:?}", String::from_utf8_lossy(&buf[..n]));

    client.shutdown()?;
    move_flight("client", &mut client, "-- close_notify ---->", &mut server);
    assert_eq!(server.read(&mut buf), Err(Error::ZeroReturn));
    server.shutdown()?;
    move_flight("server", &mut server, "<--- close_notify ---", &mut client);
    client.shutdown()?;

    println!();
    println!("version      {:?}", client.protocol_version().unwrap());
    println!("cipher suite {:?}", client.cipher_suite().unwrap().suite());
    println!("server name  {:?}", server.server_name().unwrap_or("-"));
    println!(
        "states       client: {}; server: {}",
        client.state(),
        server.state()
    );
    println!("handshake    {handshake:?} wall clock, both sides, certificate setup excluded");
    Ok(())
}

fn move_flight(from_name: &str, from: &mut Side, arrow: &str, to: &mut Side) {
    let mut total = 0;
    while let Some(bytes) = from.pop_output() {
        total += bytes.len();
        to.rbio_mut()
            .push_bytes(bytes)
            .expect("the read BIO has room");
    }
    if total > 0 {
        let pad = if from_name == "client" {
            ""
        } else {
            "        "
        };
        println!("{pad}{arrow} {total} bytes");
    }
}
