//! Deferred peer verification (rustls 0.24's `VerifyPeerIdentity`,
//! OpenSSL's `SSL_ERROR_WANT_RETRY_VERIFY`): the handshake pauses with
//! `Want::Verify` once the peer's certificates are in, the application
//! looks at them on its own time, and its verdict continues the handshake
//! or fails it with the right alert. rustls 0.23 verifies inside its
//! handshake, so there the contexts refuse to defer.

mod support;

use support::*;
use tlsbio::{ClientContext, ServerContext};

#[cfg(not(feature = "rustls-0-24"))]
#[test]
fn rustls_0_23_contexts_refuse_to_defer_with_the_reason() {
    use tlsbio::ConfigError;
    let (client, server) = configs(TLS13);
    let err = ClientContext::new(client)
        .unwrap()
        .with_deferred_verification()
        .unwrap_err();
    assert_eq!(err, ConfigError::DeferredVerificationUnsupported);
    assert!(err.to_string().contains("rustls 0.24"), "{err}");
    assert_eq!(
        ServerContext::new(server)
            .unwrap()
            .with_deferred_verification()
            .unwrap_err(),
        ConfigError::DeferredVerificationUnsupported
    );
}

#[cfg(feature = "rustls-0-24")]
mod on_rustls_0_24 {
    use std::sync::Arc;

    use super::*;
    use tlsbio::bio::VecBio;
    use tlsbio::compat::{Ssl, SSL_ERROR_WANT_RETRY_VERIFY};
    use tlsbio::rustls::pki_types::CertificateDer;
    use tlsbio::{AlertSent, CertificateError, Engine, Error, Want};

    type Pair = (Engine<VecBio, VecBio>, Engine<VecBio, VecBio>);

    fn pair(client: ClientContext, server: ServerContext) -> Pair {
        (
            Engine::client(&client, name(), VecBio::new(), VecBio::new()).unwrap(),
            Engine::server(&server, VecBio::new(), VecBio::new()),
        )
    }

    /// Runs both sides until the client pauses for its verdict; returns
    /// the server's certificate chain as the server sent it.
    fn to_the_clients_pause(
        client: &mut Engine<VecBio, VecBio>,
        server: &mut Engine<VecBio, VecBio>,
    ) {
        for _ in 0..10 {
            match client.connect() {
                Err(Error::Want(Want::Verify)) => return,
                Ok(()) => panic!("no pause"),
                _ => {}
            }
            carry(client, server, 1 << 16, usize::MAX);
            let _ = server.accept();
            carry(server, client, 1 << 16, usize::MAX);
        }
        panic!("never paused: {client:?}");
    }

    fn finish(
        client: &mut Engine<VecBio, VecBio>,
        server: &mut Engine<VecBio, VecBio>,
    ) -> (Result<(), Error>, Result<(), Error>) {
        let (mut c, mut s) = (client.connect(), server.accept());
        for _ in 0..10 {
            carry(client, server, 1 << 16, usize::MAX);
            s = server.accept();
            carry(server, client, 1 << 16, usize::MAX);
            c = client.connect();
            if c.is_ok() && s.is_ok() {
                break;
            }
        }
        (c, s)
    }

    fn deferring_client(
        versions: &'static [&'static tlsbio::rustls::SupportedProtocolVersion],
    ) -> (ClientContext, ServerContext, Vec<CertificateDer<'static>>) {
        let pki = Pki::new();
        let leaf = pki.leaf(&["localhost"]);
        let chain = leaf.chain.clone();
        let server = server_config(versions, leaf.chain, leaf.key, None);
        let client = pki.client_config(versions);
        (
            ClientContext::new(Arc::new(client))
                .unwrap()
                .with_deferred_verification()
                .unwrap(),
            ServerContext::new(Arc::new(server)).unwrap(),
            chain,
        )
    }

    #[test]
    fn the_client_pauses_with_the_servers_certificates_and_goes_on_when_accepted() {
        for versions in [TLS13, TLS12] {
            let (client_context, server_context, chain) = deferring_client(versions);
            assert!(client_context.defers_verification());
            let (mut c, mut s) = pair(client_context, server_context);
            to_the_clients_pause(&mut c, &mut s);
            // Paused: the same want however often it is asked, and the
            // certificates to look at.
            assert_eq!(c.connect(), Err(Error::Want(Want::Verify)));
            let verification = c.verification().expect("paused");
            assert_eq!(verification.certificates(), &chain[..]);
            verification.accept();
            assert!(c.verification().is_none());
            let (cr, sr) = finish(&mut c, &mut s);
            assert!(cr.is_ok() && sr.is_ok(), "{cr:?} {sr:?}");
            assert_eq!(c.peer_certificates().unwrap(), &chain[..]);
        }
    }

    #[test]
    fn a_rejection_fails_the_handshake_with_its_alert_on_both_sides() {
        let (client_context, server_context, _) = deferring_client(TLS13);
        let (mut c, mut s) = pair(client_context, server_context);
        to_the_clients_pause(&mut c, &mut s);
        c.verification()
            .unwrap()
            .reject(CertificateError::ApplicationVerificationFailure);
        let err = c.connect().unwrap_err();
        let Error::Protocol(p) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(
            p.rustls_error(),
            &tlsbio::rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure
            )
        );
        assert_ne!(p.alert_sent(), AlertSent::None, "{err}");
        assert_eq!(c.connect().unwrap_err(), err, "sticky");
        carry(&mut c, &mut s, 1 << 16, usize::MAX);
        let server_err = s.accept().unwrap_err();
        assert!(
            matches!(&server_err, Error::Protocol(p) if p.alert_received().is_some()),
            "{server_err}"
        );
    }

    #[test]
    fn verify_with_config_runs_the_configs_verifier_at_the_verdict() {
        // A client that trusts another CA: the config's verifier refuses.
        let (_, server_context, _) = deferring_client(TLS13);
        let other = Pki::new();
        let client = ClientContext::new(Arc::new(other.client_config(TLS13)))
            .unwrap()
            .with_deferred_verification()
            .unwrap();
        let (mut c, mut s) = pair(client, server_context);
        to_the_clients_pause(&mut c, &mut s);
        c.verification().unwrap().verify_with_config();
        let err = c.connect().unwrap_err();
        // (Both test CAs have the same name, so webpki finds an anchor by
        // name and the signature does not verify.)
        assert!(
            matches!(&err, Error::Protocol(p) if matches!(p.rustls_error(), tlsbio::rustls::Error::InvalidCertificate(_))),
            "{err}"
        );
    }

    #[test]
    fn a_verdict_long_after_the_peers_records_arrived_loses_nothing() {
        // TLS 1.2: the server's ServerKeyExchange and ServerHelloDone come
        // in records after its Certificate, and sit in the read BIO while
        // the verdict waits; so do bytes delivered later one at a time.
        let (client_context, server_context, _) = deferring_client(TLS12);
        let (mut c, mut s) = pair(client_context, server_context);
        to_the_clients_pause(&mut c, &mut s);
        for _ in 0..50 {
            assert_eq!(c.connect(), Err(Error::Want(Want::Verify)));
        }
        c.verification().unwrap().accept();
        let (cr, sr) = finish(&mut c, &mut s);
        assert!(cr.is_ok() && sr.is_ok(), "{cr:?} {sr:?}");
        assert_eq!(c.write(b"after"), Ok(5));
        carry(&mut c, &mut s, 1 << 16, usize::MAX);
        let mut buf = [0u8; 8];
        assert_eq!(s.read(&mut buf), Ok(5));
    }

    #[test]
    fn a_server_defers_client_certificates_the_same_way() {
        let pki = Pki::new();
        let server_leaf = pki.leaf(&["localhost"]);
        let client_leaf = pki.leaf(&["client.test"]);
        let server = server_config(TLS13, server_leaf.chain, server_leaf.key, Some(pki.roots()));
        let client = client_config(
            TLS13,
            pki.roots(),
            Some((client_leaf.chain.clone(), client_leaf.key)),
        );
        let server_context = ServerContext::new(Arc::new(server))
            .unwrap()
            .with_deferred_verification()
            .unwrap();
        let (mut c, mut s) = pair(
            ClientContext::new(Arc::new(client)).unwrap(),
            server_context,
        );
        let mut paused = false;
        for _ in 0..10 {
            let _ = c.connect();
            carry(&mut c, &mut s, 1 << 16, usize::MAX);
            if let Err(Error::Want(Want::Verify)) = s.accept() {
                paused = true;
                break;
            }
            carry(&mut s, &mut c, 1 << 16, usize::MAX);
        }
        assert!(paused, "{s:?}");
        let verification = s.verification().unwrap();
        assert_eq!(verification.certificates(), &client_leaf.chain[..]);
        verification.verify_with_config();
        let (cr, sr) = finish(&mut c, &mut s);
        assert!(cr.is_ok() && sr.is_ok(), "{cr:?} {sr:?}");
        assert_eq!(s.peer_certificates().unwrap(), &client_leaf.chain[..]);
    }

    #[test]
    fn compat_says_want_retry_verify() {
        let (client_context, server_context, _) = deferring_client(TLS13);
        let (c, mut s) = pair(client_context, server_context);
        let mut ssl = Ssl::new(c);
        for _ in 0..10 {
            let ret = ssl.connect();
            if ssl.get_error(ret) == SSL_ERROR_WANT_RETRY_VERIFY {
                ssl.engine().verification().unwrap().accept();
                return;
            }
            carry(ssl.engine(), &mut s, 1 << 16, usize::MAX);
            let _ = s.accept();
            carry(&mut s, ssl.engine(), 1 << 16, usize::MAX);
        }
        panic!("no SSL_ERROR_WANT_RETRY_VERIFY");
    }
}
