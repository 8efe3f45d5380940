//! `server_flight` and `client_flight`: a hostile peer's bytes into one
//! engine, and the contract checked after every call.

use tlsbio::bio::{Bio, RingBio, VecBio};
use tlsbio::{AlertSent, Error, ServerContext, Shutdown, Want};

use tlsbio_memory::deterministic::LeafKey;

use crate::fixture::{self, Identity, TestEngine, Version};

/// The most bytes the engine itself may hold (`Engine::buffered`): a
/// staged handshake message (rustls caps them at 64 KiB) in each direction,
/// plus a record of plaintext and a record of ciphertext. The engine
/// documents "one staged record or handshake message per direction and one
/// record of plaintext"; this is that, with room for record headers.
pub(crate) const ENGINE_BOUND: usize = 2 * (0xffff + 4 + 5) + 2 * (16 * 1024 + 2048 + 5);

/// The most rustls steps one call may take beyond one per input byte it
/// consumed: a step either consumes input or produces one of a handful of
/// output messages, so more than this is a spin.
const SPARE_STEPS: u64 = 64;

/// How the peer's bytes arrive: the first [`Arrival::LEN`] bytes of the
/// input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arrival {
    /// The engine's protocol version (byte 0, bit 0: TLS 1.2).
    pub(crate) version: Version,
    /// Whether the engine writes back what it reads (byte 0, bit 1).
    pub(crate) echo: bool,
    /// Whether a server starts paused at its ClientHello and its
    /// application then chooses the config (byte 0, bit 2).
    pub(crate) paused: bool,
    /// Whether the server takes only P-256, so that a client sending an
    /// X25519 share gets a HelloRetryRequest (byte 0, bit 3).
    pub(crate) retry: bool,
    /// The certificates (byte 0, bits 4-5: Ed25519, ECDSA P-256, RSA,
    /// Ed25519; bit 6: the server requires a client certificate and the
    /// client has one). Not with `retry`, which uses the plain identity;
    /// a `paused` server chooses this identity's config.
    pub(crate) identity: Identity,
    /// Whether the engine's config has been through a full handshake with
    /// this peer already, so the flight can resume it (byte 0, bit 7).
    pub(crate) resume: bool,
    /// Bytes offered per write to the read BIO (byte 1; 0 means as many
    /// as fit).
    pub(crate) chunk: usize,
    /// The read BIO's capacity (byte 2's low 7 bits, squared; 0 means 64
    /// KiB), so one byte reaches from a 1-byte BIO to a roomy one.
    pub(crate) rx_capacity: usize,
    /// Whether the driver gives memory back after every call
    /// (`release_memory`), as an idle-connection server would (byte 2,
    /// bit 7).
    pub(crate) release: bool,
}

impl Arrival {
    /// Header length.
    pub(crate) const LEN: usize = 3;

    /// Splits an input into its header and the peer's bytes. Short inputs
    /// read as zeros.
    pub(crate) fn parse(data: &[u8]) -> (Self, &[u8]) {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let arrival = Self {
            version: Version::from_bit(byte(0) & 1 != 0),
            echo: byte(0) & 2 != 0,
            paused: byte(0) & 4 != 0,
            retry: byte(0) & 8 != 0,
            identity: Identity {
                key: match (byte(0) >> 4) & 3 {
                    1 => LeafKey::EcdsaP256,
                    2 => LeafKey::Rsa2048,
                    _ => LeafKey::Ed25519,
                },
                client_auth: byte(0) & 0x40 != 0,
            },
            resume: byte(0) & 0x80 != 0,
            chunk: match byte(1) {
                0 => usize::MAX,
                n => usize::from(n),
            },
            rx_capacity: match byte(2) & 0x7f {
                0 => 64 * 1024,
                n => usize::from(n) * usize::from(n),
            },
            release: byte(2) & 0x80 != 0,
        };
        (arrival, data.get(Self::LEN..).unwrap_or_default())
    }

    /// The engine's read BIO.
    pub(crate) fn rbio(&self) -> RingBio {
        RingBio::with_capacity(self.rx_capacity)
    }

    /// The header bytes `parse` reads back as `(version, echo, chunk
    /// byte, capacity byte)`.
    pub(crate) fn header(version: Version, echo: bool, chunk: u8, capacity: u8) -> [u8; 3] {
        let flags = u8::from(version == Version::Tls12) | u8::from(echo) << 1;
        [flags, chunk, capacity]
    }

    /// Byte 0's bits for `identity` and `resume`, to or into a header.
    pub(crate) fn identity_bits(identity: Identity, resume: bool) -> u8 {
        let key = match identity.key {
            LeafKey::EcdsaP256 => 1,
            LeafKey::Rsa2048 => 2,
            _ => 0,
        };
        key << 4 | u8::from(identity.client_auth) << 6 | u8::from(resume) << 7
    }
}

/// Arbitrary bytes as a client's flight into a server engine, over
/// arbitrary fragmentation and read-BIO capacity.
///
/// The input is a 3-byte header, then the peer's bytes. Header byte 0:
/// bit 0 picks TLS 1.2 (else 1.3), bit 1 makes the application echo what
/// it reads; byte 1 is how many bytes are offered to the read BIO at a
/// time (0: as many as fit); byte 2 squared is the read BIO's capacity
/// (0: 64 KiB). After the peer's bytes comes end of stream.
///
/// Checks, after every call: the engine holds at most about 170 KiB
/// (a staged 64 KiB handshake message each way and a record of plaintext
/// and of ciphertext); no call spins (steps bounded by input consumed); a `Want::Read`
/// never comes with a full read BIO (a lost wake-up) nor after end of
/// stream (a hang); every failure is fatal, sticky, and its alert is
/// already in the write BIO; end of stream without close_notify is
/// `UnexpectedEof`, never a clean close.
pub fn server_flight(data: &[u8]) {
    server_ending(data);
}

/// [`server_flight`]'s dispatch on the header, and how the conversation
/// ended: whether the server resumed a session, and whether it paused.
fn server_ending(data: &[u8]) -> (Ending, bool, bool) {
    let (arrival, bytes) = Arrival::parse(data);
    if arrival.retry {
        // The retrying server is the plain fixture's: bits 4-7
        // (certificates, client auth, resumption) do not apply to it, nor
        // the pause, and the checks must not expect what was not
        // configured.
        let arrival = Arrival {
            identity: Identity::PLAIN,
            resume: false,
            paused: false,
            ..arrival
        };
        fixture::with(arrival.version, |f| {
            let mut engine = f.retry_server(arrival.rbio(), VecBio::new());
            let ending = absorb(&mut engine, bytes, arrival);
            (ending, engine.is_resumed(), false)
        })
    } else if arrival.identity == Identity::PLAIN && !arrival.resume {
        fixture::with(arrival.version, |f| {
            let (mut engine, choice) = if arrival.paused {
                let (engine, context) = f.paused_server(0, arrival.rbio(), VecBio::new());
                (engine, Some(context))
            } else {
                (f.server(0, arrival.rbio(), VecBio::new()), None)
            };
            let ending = absorb_choosing(&mut engine, bytes, arrival, choice);
            (ending, engine.is_resumed(), arrival.paused)
        })
    } else {
        // Any identity, resuming or not, paused or not: a paused server's
        // application chooses that identity's context at the ClientHello.
        fixture::variant(arrival.version, arrival.identity, |v| {
            let (mut engine, choice) = if arrival.paused {
                let (engine, context) =
                    v.paused_server(arrival.resume, arrival.rbio(), VecBio::new());
                (engine, Some(context))
            } else {
                let engine = v.engine(true, arrival.resume, arrival.rbio(), VecBio::new());
                (engine, None)
            };
            let ending = absorb_choosing(&mut engine, bytes, arrival, choice);
            (ending, engine.is_resumed(), arrival.paused)
        })
    }
}

/// [`server_flight`] against a client engine: the client sends its
/// ClientHello, then arbitrary bytes arrive as the server's flight.
pub fn client_flight(data: &[u8]) {
    let (arrival, bytes) = Arrival::parse(data);
    if arrival.identity == Identity::PLAIN && !arrival.resume {
        fixture::with(arrival.version, |f| {
            absorb(
                &mut f.client(0, arrival.rbio(), VecBio::new()),
                bytes,
                arrival,
            );
        });
    } else {
        fixture::variant(arrival.version, arrival.identity, |v| {
            let mut engine = v.engine(false, arrival.resume, arrival.rbio(), VecBio::new());
            absorb(&mut engine, bytes, arrival);
        });
    }
}

/// How an absorbed conversation ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Ending {
    /// The peer sent close_notify and we answered.
    Closed,
    /// A fatal error, already checked.
    Failed(Error),
}

/// Feeds `input` to `engine` `arrival.chunk` bytes at a time (then end of
/// stream), driving it as a correct driver would, and checks the contract
/// after every call. Panics on a broken property.
pub(crate) fn absorb(engine: &mut TestEngine, input: &[u8], arrival: Arrival) -> Ending {
    absorb_choosing(engine, input, arrival, None)
}

/// [`absorb`], for a server paused at its ClientHello whose application
/// chooses `choice` there.
pub(crate) fn absorb_choosing(
    engine: &mut TestEngine,
    input: &[u8],
    arrival: Arrival,
    choice: Option<ServerContext>,
) -> Ending {
    let mut driver = Driver {
        sent: Vec::new(),
        buf: vec![0; 16 * 1024],
        echo: arrival.echo,
        choice,
        arrival,
        established: false,
        key_updated: false,
    };
    let mut rest = input;
    // Strict: the engine is called again only once its want-read is met
    // (at least `at_least` more bytes, or end of stream), never for free:
    // an extra call would hide a lost wake-up.
    let mut owed = 0;
    loop {
        if owed == 0 {
            let delivered = &input[..input.len() - rest.len()];
            match driver.run(engine, delivered) {
                Ok(at_least) => owed = at_least,
                Err(ending) => return ending,
            }
        }
        // The engine wants input.
        assert!(
            !engine.rbio().is_shutdown_wr(),
            "the engine waits for input after end of stream (a hang), in state {:?}",
            engine.state()
        );
        if rest.is_empty() {
            engine.rbio_mut().shutdown_wr();
            owed = 0;
            continue;
        }
        let n = engine
            .rbio_mut()
            .write(&rest[..arrival.chunk.min(rest.len())]);
        assert!(
            n > 0,
            "the engine wants {owed} more bytes but left its read BIO full ({} bytes): a lost wake-up",
            engine.rbio().pending()
        );
        rest = &rest[n..];
        owed = owed.saturating_sub(n);
    }
}

/// How many more bytes finish the TLS record (or its 5-byte header) that
/// `stream` ends in: walks the stream's record headers, independently of
/// the engine.
pub(crate) fn rest_of_record(stream: &[u8]) -> usize {
    let mut at = 0;
    loop {
        let have = stream.len() - at;
        if have < 5 {
            return 5 - have;
        }
        let len = usize::from(u16::from_be_bytes([stream[at + 3], stream[at + 4]]));
        if have < 5 + len {
            return 5 + len - have;
        }
        at += 5 + len;
    }
}

/// A correct driver with an application that reads everything (and, with
/// `echo`, writes it back).
struct Driver {
    /// Everything the engine wrote.
    sent: Vec<u8>,
    buf: Vec<u8>,
    echo: bool,
    /// For a paused server: the context its application chooses at the
    /// ClientHello (taken when used: the pause comes once).
    choice: Option<ServerContext>,
    arrival: Arrival,
    /// The handshake has completed (and what it agreed was checked).
    established: bool,
    /// An echoing TLS 1.3 application has asked for a key update.
    key_updated: bool,
}

impl Driver {
    /// Calls the engine until it wants input (`Ok(at_least)`) or the
    /// connection ends (`Err`); `delivered` is every byte written into its
    /// read BIO so far.
    fn run(&mut self, engine: &mut TestEngine, delivered: &[u8]) -> Result<usize, Ending> {
        loop {
            let handshaking = engine.is_handshaking();
            let sent_before = self.sent.len();
            let result = self.call(engine, |engine, buf| {
                if handshaking {
                    engine.do_handshake().map(|()| 0)
                } else {
                    engine.read(buf)
                }
            });
            if !self.established && !engine.is_handshaking() && result.is_ok() {
                self.established = true;
                self.check_established(engine);
            }
            match result {
                Ok(0) if handshaking => {}
                Ok(0) => panic!("read returned Ok(0) into a non-empty buffer"),
                Ok(n) if self.echo => self.echo(engine, n),
                Ok(_) => {}
                Err(Error::Want(Want::Read { at_least })) => {
                    assert!(at_least > 0, "a want-read for zero bytes");
                    // Exact, as documented: the rest of the record (or of
                    // its header) the delivered bytes end in, capped at the
                    // read BIO's room.
                    // (Whole records may still be in the read BIO: the
                    // fragments of a handshake message that spans records
                    // stay there until the message is whole, since rustls
                    // joins them in place.)
                    let want = rest_of_record(delivered).min(engine.rbio().write_guarantee());
                    assert_eq!(
                        at_least,
                        want,
                        "want-read hint after {} bytes delivered, {} in the read BIO",
                        delivered.len(),
                        engine.rbio().pending()
                    );
                    return Ok(at_least);
                }
                Err(Error::Want(Want::ClientHello)) if self.choice.is_some() => {
                    // Paused: the hello is readable, and the handle that
                    // continues exists exactly now.
                    assert!(
                        engine.client_hello().is_some(),
                        "paused without a ClientHello"
                    );
                    let Some(context) = self.choice.take() else {
                        continue; // the guard saw it
                    };
                    let Some(accepted) = engine.accepted() else {
                        panic!("Want::ClientHello without the Accepted handle");
                    };
                    let chosen = accepted.choose(&context);
                    self.drain(engine);
                    assert!(engine.accepted().is_none(), "still paused after choose");
                    if let Err(e) = chosen {
                        self.check_failure(engine, &e, sent_before, true);
                        return Err(Ending::Failed(e));
                    }
                }
                Err(Error::Want(want)) => panic!(
                    "{want:?} from an engine with an unbounded write BIO and no \
                     ClientHello callback (or a second pause)"
                ),
                Err(Error::ZeroReturn) => {
                    // Both close_notifys are then done: ours is sent at once.
                    let answer = self.call(engine, |engine, _| {
                        engine
                            .shutdown()
                            .map(|s| usize::from(s == Shutdown::Complete))
                    });
                    assert_eq!(answer, Ok(1), "answering the peer's close_notify");
                    return Err(Ending::Closed);
                }
                Err(e) => {
                    self.check_failure(engine, &e, sent_before, handshaking);
                    return Err(Ending::Failed(e));
                }
            }
        }
    }

    /// One engine call, then the driver's duty (take all output) and the
    /// bounds.
    fn call(
        &mut self,
        engine: &mut TestEngine,
        f: impl FnOnce(&mut TestEngine, &mut [u8]) -> Result<usize, Error>,
    ) -> Result<usize, Error> {
        let (steps, input) = (engine.stats().steps, engine.rbio().pending());
        let result = f(engine, &mut self.buf);
        let consumed = input.saturating_sub(engine.rbio().pending()) as u64;
        let taken = engine.stats().steps - steps;
        assert!(
            taken <= consumed + SPARE_STEPS,
            "one call took {taken} steps for {consumed} input bytes: a spin"
        );
        self.drain(engine);
        if self.arrival.release {
            // Memory goes back only where it holds nothing: not a byte of
            // input, output or plaintext may go with it.
            let before = (
                engine.rbio().pending(),
                engine.pending_output(),
                engine.buffered(),
            );
            engine.release_memory();
            let after = (
                engine.rbio().pending(),
                engine.pending_output(),
                engine.buffered(),
            );
            assert_eq!(
                before, after,
                "release_memory dropped bytes (read BIO, output, engine)"
            );
        }
        let held = engine.stats().high_water;
        assert!(
            held <= ENGINE_BOUND,
            "the engine held {held} bytes (bound {ENGINE_BOUND})"
        );
        result
    }

    /// The one driver rule: take output until none is pending.
    fn drain(&mut self, engine: &mut TestEngine) {
        while engine.pending_output() > 0 {
            let n = engine.send_output(|out| {
                self.sent.extend_from_slice(out);
                (out.len(), out.len())
            });
            assert!(n > 0, "pending output that send_output does not show");
        }
    }

    /// What a completed handshake agreed must fit the configuration: the
    /// fixture's version, a suite and (for a full handshake) a group, the
    /// server's certificate on a client, and on a server that requires
    /// one, the client's; the handshake kind says whether it resumed.
    fn check_established(&self, engine: &TestEngine) {
        let version = match self.arrival.version {
            Version::Tls13 => tlsbio::ProtocolVersion::TLSv1_3,
            Version::Tls12 => tlsbio::ProtocolVersion::TLSv1_2,
        };
        assert_eq!(
            engine.protocol_version(),
            Some(version),
            "negotiated version"
        );
        assert!(
            engine.cipher_suite().is_some(),
            "no suite after the handshake"
        );
        let resumed = engine.is_resumed();
        assert!(
            engine.handshake_kind().is_some(),
            "no handshake kind after the handshake"
        );
        if !(resumed && self.arrival.version == Version::Tls12) {
            assert!(
                engine.key_exchange_group().is_some(),
                "no key exchange group"
            );
        }
        let peer = engine.peer_certificates().map_or(0, <[_]>::len);
        if !engine.is_server() && !resumed {
            assert!(
                peer > 0,
                "a client finished without the server's certificate"
            );
        }
        if engine.is_server() && self.arrival.identity.client_auth && !resumed {
            assert!(
                peer > 0,
                "a server that requires a client certificate finished without one"
            );
        }
        if engine.is_server() {
            // Paused or not, full or resumed: a server that finished its
            // handshake has read a ClientHello and can say what it was.
            let hello = engine
                .client_hello()
                .expect("a finished server without its ClientHello");
            assert!(
                hello.cipher_suites().len() > 0,
                "a ClientHello without suites"
            );
            assert_eq!(engine.server_name(), hello.server_name());
            // What was agreed was offered: the suite among the hello's
            // suites, the protocol among its ALPN list. (The hello is
            // tlsbio's own copy of it, so this checks the copy.)
            let suite = engine
                .cipher_suite()
                .expect("a finished server without a suite")
                .suite();
            assert!(
                hello.cipher_suites().any(|offered| offered == suite),
                "agreed {suite:?}, not in the ClientHello's {hello:?}"
            );
            if let Some(protocol) = engine.alpn_protocol() {
                assert!(
                    hello.alpn().any(|offered| offered == protocol),
                    "agreed ALPN {protocol:?}, not in the ClientHello's {hello:?}"
                );
            }
            // Every scheme reads back as a scheme (the copy's offsets hold).
            let schemes = hello.signature_schemes();
            assert_eq!(schemes.clone().count(), schemes.len());
        }
        let _ = engine.alpn_protocol();
    }

    fn echo(&mut self, engine: &mut TestEngine, n: usize) {
        // A TLS 1.3 application that echoes also rolls its keys once, at
        // the first data: the peer's next records must still decrypt.
        if !self.key_updated && self.arrival.version == Version::Tls13 {
            self.key_updated = true;
            match engine.key_update() {
                Ok(()) => self.drain(engine),
                Err(e) if e.is_fatal() => return,
                Err(e) => panic!("key_update after data was read: {e:?}"),
            }
        }
        let data = self.buf[..n].to_vec();
        // What the next read will return, seen first without taking it.
        let mut peeked = vec![0; 64];
        match engine.peek(&mut peeked) {
            Ok(k) => assert!(k > 0, "peek returned Ok(0)"),
            Err(Error::Want(_) | Error::ZeroReturn) => {}
            Err(e) if e.is_fatal() => return,
            Err(e) => panic!("peek: {e:?}"),
        }
        let mut at = 0;
        while at < data.len() {
            match engine.write(&data[at..]) {
                Ok(written) => at += written,
                // The peer's input already broke the connection: the next
                // read reports it.
                Err(e) if e.is_fatal() => return,
                Err(e) => panic!("echo: {e:?} with an unbounded write BIO"),
            }
            self.drain(engine);
        }
    }

    /// A failure must be fatal and sticky, and its alert must already be
    /// on the wire.
    fn check_failure(
        &mut self,
        engine: &mut TestEngine,
        e: &Error,
        sent_before: usize,
        handshaking: bool,
    ) {
        assert!(e.is_fatal(), "a non-fatal error ended the driver: {e:?}");
        match e {
            Error::UnexpectedEof { .. } => assert!(
                engine.rbio().is_shutdown_wr(),
                "UnexpectedEof before end of stream: {e:?}"
            ),
            Error::Protocol(p) => match p.alert_sent() {
                AlertSent::Plaintext(description) => {
                    let alert = self.sent.get(self.sent.len().saturating_sub(7)..);
                    assert!(
                        matches!(alert, Some([21, 3, _, 0, 2, 2, d]) if *d == u8::from(description)),
                        "{e:?}: the plaintext alert is not the last thing written \
                         (last bytes {alert:02x?})"
                    );
                }
                AlertSent::Encrypted => assert!(
                    self.sent.len() >= sent_before + 5 + 2,
                    "{e:?}: no encrypted alert was written"
                ),
                _ => {}
            },
            _ => {}
        }
        let again = self.call(engine, |engine, buf| {
            if handshaking {
                engine.do_handshake().map(|()| 0)
            } else {
                engine.read(buf)
            }
        });
        // Compared as text: rustls' `OtherError` (a boxed error) is never
        // equal to anything, not even itself.
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", Err::<usize, _>(e)),
            "a fatal error is sticky"
        );
        let written = self.sent.len();
        self.drain(engine);
        assert_eq!(
            self.sent.len(),
            written,
            "nothing is written after a failure"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = Arrival::header(Version::Tls12, true, 7, 3);
        let input = [h[0], h[1], h[2], 0xaa];
        let (a, rest) = Arrival::parse(&input);
        assert_eq!(
            a,
            Arrival {
                version: Version::Tls12,
                echo: true,
                paused: false,
                retry: false,
                identity: Identity::PLAIN,
                resume: false,
                chunk: 7,
                rx_capacity: 9,
                release: false,
            }
        );
        assert_eq!(rest, [0xaa]);
        assert_eq!(Arrival::parse(&[]).1, [0u8; 0]);
    }

    #[test]
    fn a_paused_server_chooses_its_config_and_completes() {
        for version in [Version::Tls13, Version::Tls12] {
            for (chunk, cap) in [(0, 0), (1, 1), (7, 5)] {
                let mut header = Arrival::header(version, false, chunk, cap);
                header[0] |= 4;
                let (arrival, _) = Arrival::parse(&header);
                assert!(arrival.paused);
                let [c2s, _] = fixture::with(version, |f| f.streams.clone());
                let ending = fixture::with(version, |f| {
                    let (mut engine, context) = f.paused_server(0, arrival.rbio(), VecBio::new());
                    absorb_choosing(&mut engine, &c2s, arrival, Some(context))
                });
                assert_eq!(ending, Ending::Closed, "{version:?} {arrival:?}");
            }
        }
    }

    #[test]
    fn a_paused_server_of_every_identity_completes_full_and_resumed() {
        for version in [Version::Tls13, Version::Tls12] {
            for identity in Identity::all() {
                for resume in [false, true] {
                    for (chunk, cap) in [(0, 0), (1, 1)] {
                        let mut header = Arrival::header(version, false, chunk, cap);
                        header[0] |= 4 | Arrival::identity_bits(identity, resume);
                        let c2s = fixture::variant(version, identity, |v| {
                            let streams = if resume { &v.resumed } else { &v.streams };
                            streams[0].clone()
                        });
                        let input = [&header[..], &c2s].concat();
                        assert_eq!(
                            server_ending(&input),
                            (Ending::Closed, resume, true),
                            "{version:?} {identity:?} resume={resume} chunk={chunk}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_retrying_server_ignores_the_other_bits() {
        for version in [Version::Tls13, Version::Tls12] {
            let stream = fixture::with(version, |f| f.retry_stream.clone());
            let mut header = Arrival::header(version, false, 0, 0);
            header[0] |= 8 | 4 | 0x40;
            let input = [&header[..], &stream].concat();
            assert_eq!(
                server_ending(&input),
                (Ending::Closed, false, false),
                "{version:?}"
            );
        }
    }

    #[test]
    fn a_hello_retry_conversation_completes() {
        for version in [Version::Tls13, Version::Tls12] {
            for (chunk, cap) in [(0, 0), (1, 1), (7, 5)] {
                let mut header = Arrival::header(version, false, chunk, cap);
                header[0] |= 8;
                let (arrival, _) = Arrival::parse(&header);
                let stream = fixture::with(version, |f| f.retry_stream.clone());
                let ending = fixture::with(version, |f| {
                    absorb(
                        &mut f.retry_server(arrival.rbio(), VecBio::new()),
                        &stream,
                        arrival,
                    )
                });
                assert_eq!(ending, Ending::Closed, "{version:?} {arrival:?}");
            }
        }
    }

    #[test]
    fn a_recorded_flight_completes_and_closes_cleanly() {
        for version in [Version::Tls13, Version::Tls12] {
            for (chunk, cap) in [(0, 0), (1, 1), (7, 5), (50, 20 | 0x80)] {
                let header = Arrival::header(version, chunk % 2 == 1, chunk, cap);
                let (arrival, _) = Arrival::parse(&header);
                let [c2s, s2c] = fixture::with(version, |f| f.streams.clone());
                let server = fixture::with(version, |f| {
                    absorb(
                        &mut f.server(0, arrival.rbio(), VecBio::new()),
                        &c2s,
                        arrival,
                    )
                });
                assert_eq!(server, Ending::Closed, "{version:?} server {arrival:?}");
                let client = fixture::with(version, |f| {
                    absorb(
                        &mut f.client(0, arrival.rbio(), VecBio::new()),
                        &s2c,
                        arrival,
                    )
                });
                assert_eq!(client, Ending::Closed, "{version:?} client {arrival:?}");
            }
        }
    }

    #[test]
    fn every_identity_completes_full_and_resumed_both_ways() {
        for version in [Version::Tls13, Version::Tls12] {
            for identity in Identity::all() {
                for resume in [false, true] {
                    for (chunk, cap) in [(0, 0), (7, 5)] {
                        let mut header = Arrival::header(version, false, chunk, cap);
                        header[0] |= Arrival::identity_bits(identity, resume);
                        let (arrival, _) = Arrival::parse(&header);
                        assert_eq!((arrival.identity, arrival.resume), (identity, resume));
                        let (c2s, s2c) = fixture::variant(version, identity, |v| {
                            let s = if resume { &v.resumed } else { &v.streams };
                            (s[0].clone(), s[1].clone())
                        });
                        let what = format!("{version:?} {identity:?} resume={resume}");
                        let mut input = header.to_vec();
                        input.extend_from_slice(&c2s);
                        let server = ending(true, &input);
                        assert_eq!(server, (Ending::Closed, resume), "server {what}");
                        let mut input = header.to_vec();
                        input.extend_from_slice(&s2c);
                        let client = ending(false, &input);
                        assert_eq!(client, (Ending::Closed, resume), "client {what}");
                    }
                }
            }
        }
    }

    /// What `server_flight` / `client_flight` end with for `input`, and
    /// whether the engine resumed a session.
    fn ending(server: bool, input: &[u8]) -> (Ending, bool) {
        let (arrival, bytes) = Arrival::parse(input);
        fixture::variant(arrival.version, arrival.identity, |v| {
            let mut engine = v.engine(server, arrival.resume, arrival.rbio(), VecBio::new());
            (absorb(&mut engine, bytes, arrival), engine.is_resumed())
        })
    }

    #[test]
    fn a_resumed_flight_needs_the_earlier_session() {
        // The resumed ClientHello against a server that never saw the
        // first conversation: a full handshake starts instead, and the
        // recorded rest of the resumed flight does not fit it.
        for version in [Version::Tls13, Version::Tls12] {
            let identity = Identity::PLAIN;
            let c2s = fixture::variant(version, identity, |v| v.resumed[0].clone());
            let header = Arrival::header(version, false, 0, 0);
            let (arrival, _) = Arrival::parse(&header);
            let ending = fixture::variant(version, identity, |v| {
                absorb(&mut v.server(arrival.rbio(), VecBio::new()), &c2s, arrival)
            });
            assert!(
                matches!(ending, Ending::Failed(_)),
                "{version:?}: {ending:?}"
            );
        }
    }

    #[test]
    fn a_cut_flight_is_unexpected_eof_and_a_flipped_byte_an_alert() {
        let [c2s, _] = fixture::with(Version::Tls13, |f| f.streams.clone());
        let (arrival, _) = Arrival::parse(&[0, 0, 0]);
        let cut = fixture::with(Version::Tls13, |f| {
            absorb(
                &mut f.server(0, arrival.rbio(), VecBio::new()),
                &c2s[..c2s.len() - 3],
                arrival,
            )
        });
        assert!(
            matches!(cut, Ending::Failed(Error::UnexpectedEof { .. })),
            "{cut:?}"
        );
        let mut flipped = c2s.clone();
        flipped[20] ^= 0x40;
        let bad = fixture::with(Version::Tls13, |f| {
            absorb(
                &mut f.server(0, arrival.rbio(), VecBio::new()),
                &flipped,
                arrival,
            )
        });
        assert!(matches!(bad, Ending::Failed(Error::Protocol(_))), "{bad:?}");
    }
}
