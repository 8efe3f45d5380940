//! `Options::release_buffers` (`SSL_MODE_RELEASE_BUFFERS`): buffers go
//! back as soon as they are empty, without the driver calling
//! `release_memory`, and nothing is lost on the way.

mod support;

use support::*;
use tlsbio::bio::VecBio;
use tlsbio::{Engine, Options};

type Pair = (Engine<VecBio, VecBio>, Engine<VecBio, VecBio>);

fn established(release: bool) -> Pair {
    let (cc, sc) = configs(TLS13);
    let options = Options::default().release_buffers(release);
    let mut client = Engine::client(&cctx(cc), name(), VecBio::new(), VecBio::new())
        .unwrap()
        .with_options(options);
    let mut server = Engine::server(&sctx(sc), VecBio::new(), VecBio::new()).with_options(options);
    let out = handshake(&mut client, &mut server, usize::MAX);
    assert!(out.client.is_ok() && out.server.is_ok(), "{out:?}");
    carry(&mut server, &mut client, usize::MAX, usize::MAX);
    (client, server)
}

fn held(engine: &Engine<VecBio, VecBio>) -> usize {
    engine.rbio().allocated() + engine.wbio().allocated()
}

#[test]
fn an_idle_connection_holds_no_buffer_without_release_memory() {
    for release in [false, true] {
        let (mut client, mut server) = established(release);
        // Traffic both ways, in pieces that leave partial records in the
        // read BIOs between calls.
        let data = payload(200_000, 7);
        assert_eq!(send(&mut client, &mut server, &data, 5000), data);
        assert_eq!(
            send(&mut server, &mut client, &data[..50_000], 4096),
            &data[..50_000]
        );
        // One more call each, with nothing to do: the last chance to let go.
        assert!(server.read(&mut [0u8; 16]).is_err());
        assert!(client.read(&mut [0u8; 16]).is_err());
        let (c, s) = (held(&client), held(&server));
        if release {
            assert_eq!((c, s), (0, 0), "released when empty");
        } else {
            assert!(c > 0 && s > 0, "kept until release_memory: {c} {s}");
        }
        // And the connection still works afterwards.
        assert_eq!(send(&mut client, &mut server, b"after", 1), b"after");
    }
}
