//! The engine's queries, its output calls and its BIOs.

use crate::tls::pki_types::CertificateDer;
use crate::tls::{HandshakeKind, NamedGroup, ProtocolVersion, SupportedCipherSuite};
use bytes::Bytes;

use super::{Engine, EngineStats, Options};
use crate::accepted::Accepted;
use crate::bio::Bio;
use crate::hello::ClientHello;
use crate::state::{Event, HandshakeState};
use crate::verification::Verification;

impl<R: Bio, W: Bio> Engine<R, W> {
    // ---- output: the one place ciphertext leaves ----

    /// Ciphertext waiting to be sent: everything in the write BIO plus what
    /// the engine queued behind it because the write BIO was full. Zero
    /// means every byte the engine produced has been taken.
    ///
    /// The driver rule is one sentence: *after every call, take output
    /// until this is zero (or the transport is full)*. Take it with
    /// [`send_output`](Self::send_output), [`pop_output`](Self::pop_output)
    /// or [`take_output`](Self::take_output); they move queued output into
    /// the room they free, so nothing is left behind.
    #[must_use]
    pub fn pending_output(&self) -> usize {
        self.output.pending()
    }

    /// Shows the ciphertext at the front of the output and removes the
    /// first `n` bytes of it, where `(n, value)` is what `f` returns: look,
    /// then commit, so a short socket write loses nothing. Then moves
    /// output the engine queued into the room freed.
    ///
    /// `f` sees an empty slice when nothing is pending. A count larger than
    /// the slice is clamped.
    ///
    /// ```
    /// # use tlsbio::bio::VecBio;
    /// # fn drive(engine: &mut tlsbio::Engine<VecBio, VecBio>, socket: &mut Vec<u8>) {
    /// // After any call into the engine:
    /// while engine.pending_output() > 0 {
    ///     let sent = engine.send_output(|bytes| {
    ///         socket.extend_from_slice(bytes); // a socket write may be short
    ///         (bytes.len(), bytes.len())
    ///     });
    ///     if sent == 0 {
    ///         break; // the transport is full: wait until it is writable
    ///     }
    /// }
    /// # }
    /// ```
    pub fn send_output<T>(&mut self, f: impl FnOnce(&[u8]) -> (usize, T)) -> T {
        let value = self.output.send(f);
        self.output_taken();
        value
    }

    /// Removes the output in the write BIO as one [`Bytes`] chunk (without
    /// a copy for [`BytesBio`](crate::bio::BytesBio)), then moves queued
    /// output into the room freed. `None` when nothing is pending.
    ///
    /// `while let Some(chunk) = engine.pop_output() { send(chunk) }` takes
    /// everything.
    pub fn pop_output(&mut self) -> Option<Bytes> {
        let chunk = self.output.pop();
        self.output_taken();
        chunk
    }

    /// Lends the write BIO to `f`, for a driver that takes output in a way
    /// of its own (a BIO's zero-copy calls, a vectored write), then moves
    /// queued output into the room `f` freed. `f` should only take bytes
    /// out: what it writes into the write BIO is sent as if the engine had
    /// written it.
    pub fn take_output<T>(&mut self, f: impl FnOnce(&mut W) -> T) -> T {
        let value = self.output.take(f);
        self.output_taken();
        value
    }

    /// With [`Options::release_buffers`](crate::Options::release_buffers),
    /// an emptied output gives its buffers back.
    fn output_taken(&mut self) {
        if self.options.release_buffers {
            self.output.release_memory();
        }
    }

    // ---- queries ----

    /// Whether the handshake is still under way (`SSL_in_init`).
    pub fn is_handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// Whether this is the server side (`SSL_is_server`).
    pub fn is_server(&self) -> bool {
        self.session.is_server()
    }

    /// The negotiated protocol version, once known.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.session.protocol_version()
    }

    /// The negotiated cipher suite, once known.
    pub fn cipher_suite(&self) -> Option<SupportedCipherSuite> {
        self.session.cipher_suite()
    }

    /// The negotiated ALPN protocol, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.session.alpn_protocol()
    }

    /// The key exchange group negotiated (`SSL_get_negotiated_group`), e.g.
    /// `X25519` or `X25519MLKEM768`, once the peer's share is in; `None`
    /// for a TLS 1.2 resumption, which has no key exchange.
    pub fn key_exchange_group(&self) -> Option<NamedGroup> {
        self.session.key_exchange_group()
    }

    /// On a server, the SNI name the client sent.
    pub fn server_name(&self) -> Option<&str> {
        self.session.server_name()
    }

    /// The peer's certificate chain, leaf first, once received.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.session.peer_certificates()
    }

    /// Whether the handshake was full or resumed, once complete
    /// (`SSL_session_reused`).
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.session.handshake_kind()
    }

    /// Whether this session was resumed.
    pub fn is_resumed(&self) -> bool {
        self.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// On a server, the ClientHello it was started from, once read (also
    /// while paused; [`accepted`](Self::accepted) is the handle that
    /// continues a paused server).
    pub fn client_hello(&self) -> Option<&ClientHello> {
        self.session.client_hello()
    }

    /// The handle that continues a server paused at its ClientHello
    /// ([`server_paused`](Self::server_paused)): `Some` exactly while the
    /// engine waits for a config, after [`accept`](Self::accept) returned
    /// [`Want::ClientHello`](crate::Want::ClientHello).
    pub fn accepted(&mut self) -> Option<Accepted<'_, R, W>> {
        if self.is_paused() {
            Some(Accepted::new(self))
        } else {
            None
        }
    }

    /// The peer's certificates while a deferred verification waits for
    /// its verdict (leaf first); `None` otherwise. The same as
    /// [`Verification::certificates`], without taking the handle: for
    /// logging, or a C caller.
    pub fn certificates_to_verify(&self) -> Option<&[CertificateDer<'static>]> {
        self.verifying_certificates()
    }

    /// The handle that gives the verdict on the peer's certificates when
    /// the context defers it: `Some` exactly while the handshake waits for
    /// one, after a call returned [`Want::Verify`](crate::Want::Verify).
    pub fn verification(&mut self) -> Option<Verification<'_, R, W>> {
        if self.verifying_certificates().is_some() {
            Some(Verification::new(self))
        } else {
            None
        }
    }

    /// Where the connection is (`SSL_get_state`).
    pub fn state(&self) -> HandshakeState {
        self.state
    }

    /// The next queued event, if any. Events are queued as they happen and
    /// never delivered by callback.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// Plaintext bytes decrypted and waiting to be read (`SSL_pending`).
    pub fn pending(&self) -> usize {
        self.held.pending()
    }

    /// Whether a call could make progress without any more input from the
    /// transport: plaintext is waiting ([`pending`](Self::pending)), a
    /// complete record sits in the input that the engine has not looked at
    /// yet, the read BIO is full (the next call moves it into staging), or
    /// the read BIO was marked at end of stream and that has not been
    /// reported. A driver must not park waiting for readability while this
    /// is true (`SSL_has_pending`, made exact).
    ///
    /// Half a record is *not* unprocessed input: a driver that parks on it
    /// is woken by the rest of it, and one that calls the engine instead
    /// just gets the same want back.
    ///
    /// Takes `&mut self` because looking at a ring BIO's bytes may rotate
    /// them into one slice.
    pub fn has_unprocessed_input(&mut self) -> bool {
        if self.pending() > 0 {
            return true;
        }
        if self.fatal.is_some() || self.peer_closed {
            return false;
        }
        if self.input.rbio.is_shutdown_wr() {
            return true;
        }
        self.input.has_unseen_record()
    }

    /// The least number of bytes that can make progress on the read side
    /// (`BIO_ctrl_get_read_request`); the same number [`Want::Read`](crate::Want::Read)
    /// carries.
    ///
    /// It is the rest of the current record once its header has arrived,
    /// otherwise the rest of the header, but never more than the read BIO
    /// can take now ([`Bio::write_guarantee`]): a driver that delivers
    /// exactly this many bytes and calls again always makes progress, even
    /// through a read BIO smaller than a record (the engine then moves the
    /// bytes into its own bounded staging and asks for the rest).
    pub fn read_request(&mut self) -> usize {
        self.input.read_request()
    }

    /// Bytes held inside the engine: staged input and output, and
    /// undelivered plaintext. The BIOs' contents are not included.
    pub fn buffered(&self) -> usize {
        self.input.staged()
            + self.output.staged()
            + self.held.pending()
            + self.session.early_pending()
    }

    /// Frees the buffers an idle connection does not need: the engine's
    /// empty staging and plaintext buffers, and whatever the BIOs can give
    /// back ([`Bio::release_memory`]). Nothing pending is touched; the
    /// next record allocates again. Call it when a connection goes quiet
    /// (a driver that keeps thousands of mostly idle connections should).
    ///
    /// ```
    /// # use tlsbio::bio::VecBio;
    /// # fn idle(engine: &mut tlsbio::Engine<VecBio, VecBio>) {
    /// engine.release_memory();
    /// # }
    /// ```
    pub fn release_memory(&mut self) {
        self.input.release_memory();
        self.output.release_memory();
        self.held.release_memory();
        self.session.release_memory();
    }

    /// Counters for tests and benchmarks.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            input_staged: self.input.staged_total,
            output_staged: self.output.staged_total,
            output_copied: self.output.copied_total,
            ..self.stats
        }
    }

    /// The options in force.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The read BIO.
    pub fn rbio(&self) -> &R {
        &self.input.rbio
    }

    /// The read BIO, for the driver to write ciphertext into.
    pub fn rbio_mut(&mut self) -> &mut R {
        &mut self.input.rbio
    }

    /// The write BIO, for inspection. Take output with
    /// [`send_output`](Self::send_output) and its siblings, never from here:
    /// [`pending_output`](Self::pending_output) counts what the engine
    /// queued behind it too.
    pub fn wbio(&self) -> &W {
        &self.output.wbio
    }

    /// Takes the engine apart, returning its BIOs. Output the engine queued
    /// behind a full write BIO is lost: take it first.
    pub fn into_bios(self) -> (R, W) {
        (self.input.rbio, self.output.wbio)
    }
}
