//! OpenSSL 3 through the `openssl` crate, over in-memory streams (the
//! crate's way of giving OpenSSL a memory BIO: a BIO method that calls
//! `Read` / `Write` on a Rust value).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use openssl::pkey::PKey;
use openssl::ssl::{
    HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslMethod, SslStream, SslVerifyMode,
    SslVersion,
};
use openssl::x509::X509;

use crate::fixture::{Bench, Identity, NAME};
use crate::{bulk_chunk, fail, BenchError, Scenario, Work, WRITE_SIZE};

/// Client and server contexts for each scenario.
pub(crate) struct Contexts {
    tls13_p256: (SslContext, SslContext),
    tls13_ed25519: (SslContext, SslContext),
    tls12_p256: (SslContext, SslContext),
    /// TLS 1.3 P-256 with `SSL_MODE_RELEASE_BUFFERS`, which an OpenSSL
    /// server of many idle connections sets: for the idle measurement.
    idle: (SslContext, SslContext),
}

impl Contexts {
    pub(crate) fn new(p256: &Identity, ed25519: &Identity) -> Self {
        Self {
            tls13_p256: contexts(p256, SslVersion::TLS1_3, false),
            tls13_ed25519: contexts(ed25519, SslVersion::TLS1_3, false),
            tls12_p256: contexts(p256, SslVersion::TLS1_2, false),
            idle: contexts(p256, SslVersion::TLS1_3, true),
        }
    }
}

/// Pinned like the rustls configs: one version, X25519, AES-128-GCM, no
/// tickets (resumption is not measured for OpenSSL: see `run`); with
/// `release`, `SSL_MODE_RELEASE_BUFFERS` (buffers freed whenever empty).
fn contexts(identity: &Identity, version: SslVersion, release: bool) -> (SslContext, SslContext) {
    let cert = X509::from_pem(identity.cert_pem.as_bytes()).expect("our certificate");
    let key = PKey::private_key_from_pem(identity.key_pem.as_bytes()).expect("our key");
    let pin = |b: &mut openssl::ssl::SslContextBuilder| {
        b.set_min_proto_version(Some(version)).expect("version");
        b.set_max_proto_version(Some(version)).expect("version");
        // X25519 for the key exchange; P-256 listed too because TLS 1.2
        // uses supported_groups for the ECDSA certificate's curve as well.
        b.set_groups_list("X25519:P-256").expect("groups");
        b.set_ciphersuites("TLS_AES_128_GCM_SHA256").expect("suite");
        b.set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
            .expect("suite");
        if release {
            b.set_mode(openssl::ssl::SslMode::RELEASE_BUFFERS);
        }
    };
    let mut server = SslContext::builder(SslMethod::tls_server()).expect("context");
    pin(&mut server);
    server.set_certificate(&cert).expect("certificate");
    server.set_private_key(&key).expect("key");
    // No tickets: TLS 1.3's through the ticket count, TLS 1.2's through
    // SSL_OP_NO_TICKET (the count does not apply to 1.2).
    server.set_num_tickets(0).expect("no tickets");
    server.set_options(openssl::ssl::SslOptions::NO_TICKET);
    let mut client = SslContext::builder(SslMethod::tls_client()).expect("context");
    pin(&mut client);
    client.cert_store_mut().add_cert(cert).expect("trust");
    client.set_verify(SslVerifyMode::PEER);
    (client.build(), server.build())
}

pub(crate) fn run(bench: &Bench, scenario: Scenario) -> Result<Work, BenchError> {
    let contexts = match scenario {
        Scenario::HandshakeTls13P256 | Scenario::BulkTls13 => &bench.openssl.tls13_p256,
        Scenario::HandshakeTls13Ed25519 => &bench.openssl.tls13_ed25519,
        Scenario::HandshakeTls12P256 => &bench.openssl.tls12_p256,
        // The openssl crate resumes only through `Ssl::set_session`, an
        // `unsafe fn`; our crates forbid unsafe code.
        Scenario::ResumedTls13 => {
            return Err(fail(
                "not measured: resuming needs the openssl crate's unsafe Ssl::set_session",
            ))
        }
    };
    let counters = Rc::new(Counters::default());
    let (mut client, mut server) = handshake(contexts, &counters)?;
    let mut work = Work {
        units: 1.0,
        ..Work::default()
    };
    if scenario == Scenario::BulkTls13 {
        let chunk = bulk_chunk();
        let mut buf = vec![0u8; WRITE_SIZE];
        for _ in 0..bench.bulk_bytes / WRITE_SIZE {
            send(&mut client, &mut server, &chunk, &mut buf)?;
            send(&mut server, &mut client, &chunk, &mut buf)?;
        }
        work.units = bench.bulk_bytes as f64 / f64::from(1 << 20);
    }
    work.ciphertext = counters.crossed.get();
    work.copied = counters.copied.get();
    Ok(work)
}

pub(crate) fn idle(bench: &Bench) -> Result<Box<dyn Any>, BenchError> {
    let counters = Rc::new(Counters::default());
    let (_, server) = handshake(&bench.openssl.idle, &counters)?;
    Ok(Box::new(server))
}

fn send(
    from: &mut SslStream<Pipe>,
    to: &mut SslStream<Pipe>,
    data: &[u8],
    buf: &mut [u8],
) -> Result<(), BenchError> {
    from.write_all(data).map_err(fail)?;
    let mut received = 0;
    while received < data.len() {
        received += to.read(buf).map_err(fail)?;
    }
    Ok(())
}

enum Side {
    Mid(MidHandshakeSslStream<Pipe>),
    Done(SslStream<Pipe>),
}

impl Side {
    fn step(self) -> Result<Self, BenchError> {
        match self {
            Self::Mid(mid) => settle(mid.handshake()),
            done => Ok(done),
        }
    }
}

fn settle(r: Result<SslStream<Pipe>, HandshakeError<Pipe>>) -> Result<Side, BenchError> {
    match r {
        Ok(stream) => Ok(Side::Done(stream)),
        Err(HandshakeError::WouldBlock(mid)) => Ok(Side::Mid(mid)),
        Err(HandshakeError::Failure(mid)) => Err(fail(mid.error())),
        Err(HandshakeError::SetupFailure(e)) => Err(fail(e)),
    }
}

fn handshake(
    (client_ctx, server_ctx): &(SslContext, SslContext),
    counters: &Rc<Counters>,
) -> Result<(SslStream<Pipe>, SslStream<Pipe>), BenchError> {
    let (a, b) = Pipe::pair(counters);
    let mut client_ssl = Ssl::new(client_ctx).map_err(fail)?;
    client_ssl.set_hostname(NAME).map_err(fail)?;
    client_ssl.param_mut().set_host(NAME).map_err(fail)?;
    let server_ssl = Ssl::new(server_ctx).map_err(fail)?;
    let mut client = settle(client_ssl.connect(a))?;
    let mut server = settle(server_ssl.accept(b))?;
    for _ in 0..16 {
        if let (Side::Done(_), Side::Done(_)) = (&client, &server) {
            break;
        }
        client = client.step()?;
        server = server.step()?;
    }
    match (client, server) {
        (Side::Done(c), Side::Done(s)) => Ok((c, s)),
        _ => Err(fail("the handshake did not finish in 16 rounds")),
    }
}

#[derive(Default)]
struct Counters {
    crossed: Cell<u64>,
    copied: Cell<u64>,
}

/// One end of an in-memory duplex: writes append to the peer's inbox (a
/// copy), reads take from ours (a copy); an empty inbox is `WouldBlock`.
struct Pipe {
    inbox: Rc<RefCell<VecDeque<u8>>>,
    outbox: Rc<RefCell<VecDeque<u8>>>,
    counters: Rc<Counters>,
}

impl Pipe {
    fn pair(counters: &Rc<Counters>) -> (Self, Self) {
        let (x, y) = (Rc::default(), Rc::default());
        (
            Self {
                inbox: Rc::clone(&x),
                outbox: Rc::clone(&y),
                counters: Rc::clone(counters),
            },
            Self {
                inbox: y,
                outbox: x,
                counters: Rc::clone(counters),
            },
        )
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = inbox.read(buf)?;
        self.counters
            .copied
            .set(self.counters.copied.get() + n as u64);
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.borrow_mut().extend(buf);
        let n = buf.len() as u64;
        self.counters.crossed.set(self.counters.crossed.get() + n);
        self.counters.copied.set(self.counters.copied.get() + n);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
