//! The int-returning API agrees with the enum API.

mod support;

use support::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::compat::*;
use tlsbio::Engine;

#[test]
fn compat_codes_follow_ssl_get_error() {
    let (cc, sc) = configs(TLS13);
    let mut client =
        Ssl::new(Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap());
    let mut server = Ssl::new(Engine::server(&sctx(sc), VecBio::new(), VecBio::new()));
    let shuttle = |c: &mut Ssl<VecBio, VecBio>, s: &mut Ssl<VecBio, VecBio>| {
        carry(c.engine(), s.engine(), usize::MAX, usize::MAX);
        carry(s.engine(), c.engine(), usize::MAX, usize::MAX);
    };
    let ret = server.accept();
    assert_eq!((ret, server.get_error(ret)), (-1, SSL_ERROR_WANT_READ));
    for _ in 0..10 {
        let (c, s) = (client.connect(), server.accept());
        shuttle(&mut client, &mut server);
        if c == 1 && s == 1 {
            break;
        }
    }
    assert_eq!(client.connect(), 1);
    assert_eq!(client.get_error(1), SSL_ERROR_NONE);
    assert_eq!(client.write(b"ping"), 4);
    shuttle(&mut client, &mut server);
    let mut buf = [0u8; 16];
    assert_eq!(server.read(&mut buf), 4);
    let ret = server.read(&mut buf);
    assert_eq!((ret, server.get_error(ret)), (-1, SSL_ERROR_WANT_READ));
    assert_eq!(client.shutdown(), 0);
    shuttle(&mut client, &mut server);
    let ret = server.read(&mut buf);
    assert_eq!((ret, server.get_error(ret)), (0, SSL_ERROR_ZERO_RETURN));
    assert_eq!(server.shutdown(), 1);
    shuttle(&mut client, &mut server);
    assert_eq!(client.shutdown(), 1);

    // Truncation is SYSCALL, corruption is SSL.
    let (cc, sc) = configs(TLS13);
    let mut c = Ssl::new(Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new()).unwrap());
    c.engine().rbio_mut().shutdown_wr();
    let ret = c.connect();
    assert_eq!((ret, c.get_error(ret)), (-1, SSL_ERROR_SYSCALL));
    let mut s = Ssl::new(Engine::server(&sctx(sc), VecBio::new(), VecBio::new()));
    // A ClientHello with an empty body: rustls rejects it with decode_error.
    s.engine().rbio_mut().write(&[22, 3, 1, 0, 4, 1, 0, 0, 0]);
    let ret = s.accept();
    assert_eq!((ret, s.get_error(ret)), (-1, SSL_ERROR_SSL));
    let Some(tlsbio::Error::Protocol(p)) = s.last_error() else {
        panic!()
    };
    assert_eq!(
        p.alert_sent(),
        tlsbio::AlertSent::Plaintext(tlsbio::AlertDescription::DecodeError)
    );
    assert_eq!(
        s.engine().wbio().pending(),
        7,
        "the alert is in the write BIO"
    );
}
