//! [`Stream`]: an engine and a transport, and the loop between them.

use std::io::{self, Read, Write};

use tlsbio::bio::{Bio, VecBio};
use tlsbio::rustls::pki_types::ServerName;
use tlsbio::{ClientContext, ConfigError, Engine, Error, ServerContext, Shutdown, Want};

use crate::error::to_io;

/// How much the stream asks the transport for in one read: a whole
/// maximum-size record with its header, so one `read` system call usually
/// brings one record.
const READ_CHUNK: usize = 16_384 + 2_048 + 5;

/// The write BIO's capacity: a few maximum-size records. A `write` of more
/// returns a partial count, as a socket does.
const WRITE_LIMIT: usize = 64 * 1024;

/// A TLS connection over a `Read + Write` transport.
///
/// Build it with [`connect`](Self::connect) / [`accept`](Self::accept) to
/// complete the handshake at once on a blocking transport, or with
/// [`client`](Self::client) / [`server`](Self::server) /
/// [`new`](Self::new) to do no I/O yet (for a non-blocking transport: then
/// call [`handshake`](Self::handshake), or just `read` and `write`, which
/// drive the handshake themselves).
///
/// Every call follows the driver rule from the tlsbio docs: after each
/// engine call it hands all of the engine's output to the transport, and on
/// want-read it reads the transport into the read BIO.
///
/// The BIOs are [`VecBio`]s unless the engine given to [`new`](Self::new)
/// has others: any [`Bio`] pair works.
pub struct Stream<S, R = VecBio, W = VecBio> {
    engine: Engine<R, W>,
    io: S,
}

impl<S: Read + Write> Stream<S> {
    /// A client over `io` for `server_name`, with no I/O done yet.
    pub fn client(context: &ClientContext, server_name: &str, io: S) -> Result<Self, ConfigError> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| ConfigError::InvalidServerName(server_name.to_owned()))?;
        let engine = Engine::client(
            context,
            name,
            VecBio::new(),
            VecBio::with_limit(WRITE_LIMIT),
        )?;
        Ok(Self::new(engine, io))
    }

    /// A server over `io`, with no I/O done yet.
    pub fn server(context: &ServerContext, io: S) -> Self {
        let engine = Engine::server(context, VecBio::new(), VecBio::with_limit(WRITE_LIMIT));
        Self::new(engine, io)
    }

    /// A client that has completed its handshake over a blocking `io`.
    ///
    /// On a non-blocking transport use [`client`](Self::client) and
    /// [`handshake`](Self::handshake) instead: a `WouldBlock` here would
    /// drop the half-made connection.
    pub fn connect(context: &ClientContext, server_name: &str, io: S) -> io::Result<Self> {
        let mut stream = Self::client(context, server_name, io).map_err(|e| to_io(e.into()))?;
        stream.handshake()?;
        Ok(stream)
    }

    /// A server that has completed its handshake over a blocking `io`.
    pub fn accept(context: &ServerContext, io: S) -> io::Result<Self> {
        let mut stream = Self::server(context, io);
        stream.handshake()?;
        Ok(stream)
    }
}

impl<S: Read + Write, R: Bio, W: Bio> Stream<S, R, W> {
    /// Wraps an engine built any way the caller likes (options, a paused
    /// server, other BIOs or BIO limits).
    ///
    /// A server made with
    /// [`Engine::server_paused`](tlsbio::Engine::server_paused) makes calls
    /// fail with an error whose [`tls_error`](crate::tls_error) is
    /// `Error::Want(Want::ClientHello)`: choose with
    /// `engine_mut().accepted()` and
    /// [`Accepted::choose`](tlsbio::Accepted::choose), and call again.
    pub fn new(engine: Engine<R, W>, io: S) -> Self {
        Self { engine, io }
    }

    /// Drives the handshake to completion (`SSL_do_handshake`), including
    /// sending our last flight.
    pub fn handshake(&mut self) -> io::Result<()> {
        self.drive(Engine::do_handshake)?;
        self.send_all()
    }

    /// Sends close_notify (`SSL_shutdown`'s first step) and makes sure it
    /// reached the transport. Returns [`Shutdown::Complete`] if the peer had
    /// already closed, else [`Shutdown::Sent`]; calling again waits for the
    /// peer's close_notify, discarding application data that arrives
    /// first (read until `Ok(0)` instead to keep it).
    ///
    /// Our sending side is closed afterwards; reading still works
    /// (half-close). The transport itself stays open: close it, or call
    /// `TcpStream::shutdown`, through [`get_ref`](Self::get_ref).
    pub fn shutdown(&mut self) -> io::Result<Shutdown> {
        let state = self.drive(Engine::shutdown)?;
        self.send_all()?;
        Ok(state)
    }

    /// Sends close_notify and waits for the peer's: a complete, clean
    /// close (`SSL_shutdown` until it returns 1).
    pub fn shutdown_and_wait(&mut self) -> io::Result<()> {
        while self.shutdown()? != Shutdown::Complete {}
        Ok(())
    }

    /// The engine, for its queries: version, suite, ALPN, peer
    /// certificates, state, stats.
    pub fn engine(&self) -> &Engine<R, W> {
        &self.engine
    }

    /// The engine, for calls the stream does not wrap (`key_update`,
    /// `accepted`). Send their output with [`flush`](Write::flush).
    pub fn engine_mut(&mut self) -> &mut Engine<R, W> {
        &mut self.engine
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport. Reading or writing it directly corrupts the TLS
    /// stream; setting options (timeouts, non-blocking) is fine.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Takes the stream apart, returning the transport. Ciphertext not yet
    /// sent (see [`flush`](Write::flush)) and ciphertext received but not
    /// yet processed is dropped.
    pub fn into_inner(self) -> S {
        self.io
    }

    /// Runs `op` until it completes, doing the I/O each want asks for.
    fn drive<T>(
        &mut self,
        mut op: impl FnMut(&mut Engine<R, W>) -> Result<T, Error>,
    ) -> io::Result<T> {
        loop {
            match op(&mut self.engine) {
                Ok(value) => {
                    // Push what the call produced, but the call's result
                    // stands: a transport error here recurs on the next
                    // call, and output stays queued until then.
                    let _ = self.send_all();
                    return Ok(value);
                }
                Err(Error::Want(Want::Read { at_least })) => {
                    // Send first: the peer may be waiting for our flight
                    // before it sends what we want (the lost wake-up).
                    self.send_all()?;
                    self.receive(at_least)?;
                }
                Err(Error::Want(Want::Write)) => self.send_all()?,
                Err(error) => {
                    if error.is_fatal() {
                        // The alert is in the output: deliver it, but
                        // report the TLS error, not a transport one.
                        let _ = self.send_all();
                    }
                    return Err(to_io(error));
                }
            }
        }
    }

    /// Hands every byte of the engine's output to the transport.
    fn send_all(&mut self) -> io::Result<()> {
        let mut sent = false;
        while self.engine.pending_output() > 0 {
            let io = &mut self.io;
            let written = self.engine.send_output(|data| match io.write(data) {
                Ok(n) => (n, Ok(n)),
                Err(e) => (0, Err(e)),
            });
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => sent = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if sent {
            self.io.flush()?;
        }
        Ok(())
    }

    /// Reads the transport into the read BIO: at least one byte, up to a
    /// record's worth; EOF marks the BIO's end.
    fn receive(&mut self, at_least: usize) -> io::Result<()> {
        let rbio = self.engine.rbio_mut();
        if rbio.is_shutdown_wr() {
            // The engine answers EOF itself; wanting more after it would be
            // an engine bug, and must not become a busy loop.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let room = rbio.write_guarantee();
        if room == 0 {
            return Err(io::Error::other(
                "tlsbio read bio is full while the engine wants input",
            ));
        }
        let io = &mut self.io;
        loop {
            let read = rbio
                .write_in_place(at_least.max(READ_CHUNK).min(room), |region| {
                    match io.read(region) {
                        Ok(n) => (n, Ok(n)),
                        Err(e) => (0, Err(e)),
                    }
                })
                .unwrap_or(Ok(0));
            match read {
                Ok(0) => {
                    rbio.shutdown_wr();
                    return Ok(());
                }
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<S: Read + Write, R: Bio, W: Bio> Read for Stream<S, R, W> {
    /// Reads plaintext (`SSL_read`), driving the handshake first. `Ok(0)`
    /// once the peer's close_notify is reached (or for an empty `buf`);
    /// EOF without close_notify is an `UnexpectedEof` error.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.drive(|engine| match engine.read(buf) {
            Err(Error::ZeroReturn) => Ok(0),
            other => other,
        })
    }
}

impl<S: Read + Write, R: Bio, W: Bio> Write for Stream<S, R, W> {
    /// Encrypts plaintext (`SSL_write`), driving the handshake first.
    /// Returns how many bytes of `buf` were taken, as a socket does; the
    /// ciphertext may still be queued: call [`flush`](Write::flush) to be
    /// sure it left.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.drive(|engine| engine.write(buf))
    }

    /// Hands all queued ciphertext to the transport and flushes it.
    fn flush(&mut self) -> io::Result<()> {
        self.send_all()?;
        self.io.flush()
    }
}

impl<S, R: Bio, W: Bio> std::fmt::Debug for Stream<S, R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("state", &self.engine.state())
            .field("buffered", &self.engine.buffered())
            .field("queued_out", &self.engine.pending_output())
            .field("queued_in", &self.engine.rbio().pending())
            .finish_non_exhaustive()
    }
}
