//! One TLS connection on a mio `TcpStream`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use tlsbio::bio::{Bio, VecBio};
use tlsbio::rustls::pki_types::ServerName;
use tlsbio::{proxy, ClientContext, ConfigError, Engine, Error, ServerContext, Shutdown, Want};
use tlsbio_serve::Capacities;

/// The most contiguous room a socket read asks the read BIO for: a whole
/// record and its header.
const READ_CHUNK: usize = 16 * 1024 + 2048 + 5;

/// Records up to this size do not make a connection read in
/// [`READ_CHUNK`]s.
const SMALL_RECORD: usize = 4096;

/// How a connection ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Closed {
    /// close_notify both ways.
    Graceful,
    /// The peer's stream ended (or was reset) without close_notify: the
    /// data may have been cut short.
    Abortive(AbortReason),
    /// TLS failed; any alert was sent.
    Failed(Error),
    /// A connection that had to start with a PROXY protocol header
    /// ([`Connection::expect_proxy_header`]) did not; TLS never started.
    Proxy(proxy::Error),
}

/// Why a connection ended abortively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// End of stream without close_notify.
    Truncated,
    /// The socket failed (reset by the peer, or another error).
    Socket(io::ErrorKind),
}

/// A TLS engine bound to a non-blocking `mio::net::TcpStream` and its
/// `Token`.
///
/// The event loop calls [`ready`](Self::ready) for every event with this
/// connection's token; the application calls [`read`](Self::read) and
/// [`write`](Self::write) for plaintext (`WouldBlock` means "after the next
/// event"), and then [`reregister`](Self::reregister) so that the
/// registered [`Interest`] follows what the connection waits for.
///
/// **Edge-triggered readiness, no lost wake-ups.** mio reports each change
/// of readiness once. The connection reads and writes until `WouldBlock`,
/// and when it stops early (its read BIO is full because the application
/// is not reading) it remembers that the socket may still have data: the
/// application's next `read` moves it, without waiting for an event that
/// will not come.
///
/// ```no_run
/// use mio::{Events, Interest, Poll, Token};
/// use tlsbio_mio::Connection;
/// # fn context() -> tlsbio_mio::tlsbio::ClientContext { unimplemented!() }
///
/// let mut poll = Poll::new()?;
/// let addr = "127.0.0.1:8443".parse().unwrap();
/// let mut conn = Connection::connect(&context(), "localhost", addr, Token(0))?;
/// conn.register(poll.registry())?;
/// let mut events = Events::with_capacity(16);
/// let (mut buf, mut greeted) = ([0u8; 4096], false);
/// loop {
///     poll.poll(&mut events, None)?;
///     for event in &events {
///         conn.ready(event);
///     }
///     if !greeted && !conn.is_handshaking() {
///         greeted = conn.write(b"hello")? == 5;
///     }
///     match conn.read(&mut buf) {
///         Ok(0) => break, // close_notify
///         Ok(n) => println!("{:?}", &buf[..n]),
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
///         Err(e) => return Err(e),
///     }
///     conn.reregister(poll.registry())?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Connection<R = VecBio, W = VecBio> {
    engine: Engine<R, W>,
    socket: TcpStream,
    token: Token,
    /// The socket may have bytes to read: set by readable events (and at
    /// the start), cleared when a read returns `WouldBlock`.
    may_read: bool,
    /// The socket may take bytes: likewise for writes.
    may_write: bool,
    /// What the poller has, once registered.
    registered: Option<Interest>,
    /// A socket error, or the engine's fatal error, once the connection
    /// ended badly; `Graceful` once close_notify went both ways.
    closed: Option<Closed>,
    /// When the handshake must be done by, on the caller's clock; it
    /// stops mattering once the handshake is done.
    deadline: Option<Instant>,
    proxy: ProxyState,
    stats: ConnectionStats,
    /// Reads ask for a whole record's room (set by the first large
    /// record, cleared when the buffers are given back).
    large_reads: bool,
}

/// Where a connection is with its PROXY protocol header.
#[derive(Debug)]
enum ProxyState {
    /// None expected: TLS from the first byte.
    Off,
    /// Expected, not yet whole: the engine is not called until it is.
    Awaiting,
    /// Received and stripped.
    Received(proxy::Header),
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Ciphertext bytes read from the socket.
    pub bytes_in: u64,
    /// Ciphertext bytes written to the socket.
    pub bytes_out: u64,
    /// Reads and writes that returned `WouldBlock`.
    pub would_block: u64,
    /// The most bytes the connection ever held (both BIOs and the engine).
    pub high_water: usize,
}

impl Connection {
    /// A server connection on an accepted socket.
    pub fn server(
        context: &ServerContext,
        socket: TcpStream,
        token: Token,
        capacities: Capacities,
    ) -> Self {
        let (rbio, wbio) = bios(capacities);
        Self::new(Engine::server(context, rbio, wbio), socket, token)
    }

    /// A client connection on a socket that is connecting (or connected).
    pub fn client(
        context: &ClientContext,
        server_name: ServerName<'static>,
        socket: TcpStream,
        token: Token,
        capacities: Capacities,
    ) -> Result<Self, ConfigError> {
        let (rbio, wbio) = bios(capacities);
        Ok(Self::new(
            Engine::client(context, server_name, rbio, wbio)?,
            socket,
            token,
        ))
    }

    /// Starts a non-blocking connect to `addr` (with `TCP_NODELAY`) and a
    /// client connection on it, with the default capacities. `server_name` is checked against
    /// the certificate and sent as SNI.
    pub fn connect(
        context: &ClientContext,
        server_name: &str,
        addr: SocketAddr,
        token: Token,
    ) -> io::Result<Self> {
        let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{server_name:?} is not a DNS name or IP address"),
            )
        })?;
        let socket = TcpStream::connect(addr)?;
        // See `Server::accept`: Nagle would delay each flight's tail.
        socket.set_nodelay(true)?;
        Self::client(context, name, socket, token, Capacities::default())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }
}

impl<R: Bio, W: Bio> Connection<R, W> {
    /// Binds an engine (with any configuration, options or BIOs) to a
    /// socket.
    pub fn new(engine: Engine<R, W>, socket: TcpStream, token: Token) -> Self {
        Self {
            engine,
            socket,
            token,
            may_read: true,
            may_write: true,
            registered: None,
            closed: None,
            deadline: None,
            proxy: ProxyState::Off,
            stats: ConnectionStats::default(),
            large_reads: false,
        }
    }

    /// Makes the connection read a PROXY protocol header (v1 or v2, as a
    /// load balancer sends it) before TLS: the engine sees only what
    /// follows it, and [`proxy_header`](Self::proxy_header) has the
    /// client's real address. A connection that does not start with a
    /// whole, valid header ends with [`Closed::Proxy`]; the handshake
    /// deadline covers the wait for it. Call it before the first event.
    pub fn expect_proxy_header(mut self) -> Self {
        self.proxy = ProxyState::Awaiting;
        self
    }

    /// The PROXY protocol header, once received.
    pub fn proxy_header(&self) -> Option<&proxy::Header> {
        match &self.proxy {
            ProxyState::Received(header) => Some(header),
            _ => None,
        }
    }

    /// Strips the PROXY header from the read BIO once it is whole; whether
    /// it is done with (received, or failed). Until then the engine must
    /// not see the bytes: it would call them not TLS.
    fn proxy_done(&mut self) -> bool {
        if !matches!(self.proxy, ProxyState::Awaiting) {
            return true;
        }
        match proxy::strip(self.engine.rbio_mut()) {
            Ok(Some(header)) => {
                self.proxy = ProxyState::Received(header);
                true
            }
            Ok(None) => false,
            Err(e) => {
                self.may_read = false;
                self.closed = Some(Closed::Proxy(e));
                false
            }
        }
    }

    /// While the PROXY header is awaited, or after it failed: the error an
    /// application call returns instead of reaching the engine.
    fn proxy_pending(&mut self) -> Option<io::Error> {
        if !matches!(self.proxy, ProxyState::Awaiting) {
            return None;
        }
        self.pump();
        match (&self.proxy, &self.closed) {
            (ProxyState::Awaiting, Some(Closed::Proxy(e))) => {
                Some(io::Error::new(io::ErrorKind::InvalidData, e.clone()))
            }
            (ProxyState::Awaiting, _) => Some(self.socket_error().unwrap_or_else(would_block)),
            _ => None,
        }
    }

    /// Registers the socket for both readiness kinds. Nothing moves here:
    /// a socket is writable as soon as it is connected, so the first
    /// event is guaranteed to come, and the handshake starts on it (in
    /// [`ready`](Self::ready)). Work done here instead, such as reading a
    /// ClientHello that already arrived, could end the connection with no
    /// event left to tell the loop.
    pub fn register(&mut self, registry: &Registry) -> io::Result<()> {
        let interest = Interest::READABLE | Interest::WRITABLE;
        registry.register(&mut self.socket, self.token, interest)?;
        self.registered = Some(interest);
        Ok(())
    }

    /// Re-registers if [`interest`](Self::interest) changed since the last
    /// (re)registration. Call it after handling an event and after the
    /// application's reads and writes.
    pub fn reregister(&mut self, registry: &Registry) -> io::Result<()> {
        let interest = self.interest();
        match self.registered {
            Some(current) if current == interest => Ok(()),
            Some(_) => {
                registry.reregister(&mut self.socket, self.token, interest)?;
                self.registered = Some(interest);
                Ok(())
            }
            None => self.register(registry),
        }
    }

    /// Removes the socket from the poller.
    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.registered = None;
        registry.deregister(&mut self.socket)
    }

    /// What to wait for: readable always (a reset or a close must be seen
    /// even while the application is not reading), writable while
    /// ciphertext waits for the socket.
    pub fn interest(&self) -> Interest {
        if self.has_output() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    /// Handles a readiness event for this connection's token: moves bytes
    /// between the socket and the BIOs until `WouldBlock` (or a full BIO),
    /// and drives the handshake. Errors are kept, not returned: see
    /// [`closed`](Self::closed), and the next `read` or `write` reports
    /// them.
    pub fn ready(&mut self, event: &Event) {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.may_read = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            self.may_write = true;
        }
        self.pump();
    }

    /// Reads plaintext. `Ok(0)` means the peer sent close_notify (or `buf`
    /// is empty); `WouldBlock` means nothing is ready yet. A truncated
    /// stream is an `UnexpectedEof` error, a TLS failure `InvalidData`,
    /// with the [`tlsbio::Error`] inside ([`Error::from_io`]).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.proxy_pending() {
            return Err(e);
        }
        loop {
            let result = self.engine.read(buf);
            // Reading may have freed room in the read BIO, or produced
            // output (a key update's answer, an alert).
            let moved = self.pump();
            match result {
                Ok(n) => return Ok(n),
                Err(Error::ZeroReturn) => return Ok(0),
                Err(Error::Want(Want::Read { .. })) if moved => continue,
                Err(Error::Want(Want::Read { .. })) => {
                    return Err(self.socket_error().unwrap_or_else(would_block))
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// On a server, reads 0-RTT early data ([`Engine::read_early_data`]):
    /// `Ok(n)` with `n > 0` early bytes, `Ok(0)` once there is no more (or
    /// `buf` is empty), `WouldBlock` while the handshake waits for the
    /// client. Early data is replayable: see the engine's docs.
    pub fn read_early_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.proxy_pending() {
            return Err(e);
        }
        loop {
            let result = self.engine.read_early_data(buf);
            let moved = self.pump();
            match result {
                Ok(n) => return Ok(n),
                Err(Error::Want(Want::Read { .. })) if moved => continue,
                Err(Error::Want(_)) => return Err(self.socket_error().unwrap_or_else(would_block)),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Writes plaintext. Partial writes happen; `WouldBlock` means the
    /// handshake is not done yet, or the write BIO is full until the socket
    /// takes more: try again after the next event.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.proxy_pending() {
            return Err(e);
        }
        loop {
            let result = self.engine.write(buf);
            let moved = self.pump();
            match result {
                Ok(n) => return Ok(n),
                Err(Error::Want(Want::Write)) if moved => continue,
                Err(Error::Want(_)) => return Err(self.socket_error().unwrap_or_else(would_block)),
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Sends close_notify (`SSL_shutdown`): `Sent` at first, `Complete`
    /// once the peer's close_notify has been read.
    pub fn shutdown(&mut self) -> io::Result<Shutdown> {
        if let Some(e) = self.proxy_pending() {
            return Err(e);
        }
        let result = self.engine.shutdown();
        self.pump();
        match result {
            Ok(Shutdown::Complete) => {
                self.closed.get_or_insert(Closed::Graceful);
                Ok(Shutdown::Complete)
            }
            Ok(state) => Ok(state),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// How the connection ended, once it has.
    pub fn closed(&self) -> Option<&Closed> {
        self.closed.as_ref()
    }

    /// Whether everything this connection wrote has reached the socket.
    pub fn is_flushed(&self) -> bool {
        !self.has_output()
    }

    /// Whether the handshake is still running.
    pub fn is_handshaking(&self) -> bool {
        self.engine.is_handshaking()
    }

    /// Sets when the handshake must be done by (the caller's clock: the
    /// connection never reads one). [`Server`](crate::Server) sets it on
    /// accept.
    pub fn set_handshake_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The handshake deadline, until the handshake completes.
    pub fn handshake_deadline(&self) -> Option<Instant> {
        self.deadline.filter(|_| self.engine.is_handshaking())
    }

    /// Gives back the buffers a quiet connection does not need
    /// ([`Engine::release_memory`]); nothing pending is touched. Worth
    /// calling on connections idle for a while when there are many.
    pub fn release_memory(&mut self) {
        self.engine.release_memory();
        self.large_reads = false;
    }

    /// Bytes this connection holds: both BIOs and the engine's own.
    pub fn buffered(&self) -> usize {
        self.engine.rbio().pending() + self.engine.pending_output() + self.engine.buffered()
    }

    /// Counters.
    pub fn stats(&self) -> ConnectionStats {
        self.stats
    }

    /// The token.
    pub fn token(&self) -> Token {
        self.token
    }

    /// The engine, for its queries (protocol version, ALPN, peer
    /// certificates, ...).
    pub fn engine(&self) -> &Engine<R, W> {
        &self.engine
    }

    /// The socket.
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }

    /// The engine and the socket, taken apart: for a server that reuses
    /// BIO memory across connections, the engine's BIOs
    /// ([`Engine::into_bios`], then `VecBio::into_vec`) go back to its pool
    /// and the next connection is made from them with [`Connection::new`].
    /// Deregister the socket first if it was registered.
    /// [`Server::recycle`](crate::Server::recycle) does this for a
    /// [`Server`](crate::Server)'s connections.
    ///
    /// ```no_run
    /// # use tlsbio_mio::{tlsbio::{bio::VecBio, Engine, ServerContext}, Connection};
    /// # fn next(pool: &mut Vec<Vec<u8>>, done: Connection, context: &ServerContext,
    /// #         socket: mio::net::TcpStream, token: mio::Token) -> Connection {
    /// let (engine, _socket) = done.into_parts();
    /// let (rbio, wbio) = engine.into_bios();
    /// pool.extend([rbio.into_vec(), wbio.into_vec()]);
    ///
    /// let mut bio = || VecBio::with_buffer(pool.pop().unwrap_or_default(), 64 * 1024);
    /// let (rbio, wbio) = (bio(), bio());
    /// Connection::new(Engine::server(context, rbio, wbio), socket, token)
    /// # }
    /// ```
    pub fn into_parts(self) -> (Engine<R, W>, TcpStream) {
        (self.engine, self.socket)
    }

    /// Moves bytes until nothing more moves: socket to read BIO while there
    /// is room, handshake steps, write BIO to socket. Returns whether
    /// anything moved.
    fn pump(&mut self) -> bool {
        let mut moved_any = false;
        loop {
            let mut moved = self.send();
            moved |= self.receive();
            let awaiting = matches!(self.proxy, ProxyState::Awaiting);
            if !self.proxy_done() {
                break;
            }
            moved |= awaiting;
            if self.engine.is_handshaking() && self.closed.is_none() {
                moved |= self.handshake_step();
            }
            if !moved {
                break;
            }
            moved_any = true;
        }
        let held = self.buffered();
        self.stats.high_water = self.stats.high_water.max(held);
        moved_any
    }

    /// One handshake call; whether it consumed input or produced output.
    fn handshake_step(&mut self) -> bool {
        let before = (self.engine.rbio().pending(), self.engine.pending_output());
        match self.engine.do_handshake() {
            Ok(()) => true,
            Err(Error::Want(_)) => {
                before != (self.engine.rbio().pending(), self.engine.pending_output())
            }
            Err(e) => {
                // The alert is queued; the next send delivers it.
                self.record_failure(e);
                true
            }
        }
    }

    /// Socket to read BIO, until `WouldBlock`, end of stream, or a full
    /// BIO. Whether any bytes (or the end) arrived.
    fn receive(&mut self) -> bool {
        let mut moved = false;
        while self.may_read && !self.engine.rbio().is_shutdown_wr() {
            let room = self.engine.rbio().write_guarantee();
            if room == 0 {
                // Stopped early: `may_read` stays set, so the next call
                // after the application reads continues here.
                break;
            }
            // A connection that has seen only small records (a handshake,
            // then quiet) reads what the record under way needs (the
            // engine knows its length), so its read BIO never grows to a
            // full record's size; once a large record comes, it reads a
            // whole record's room at a time, fewer and larger reads.
            // (Only until the switch is the engine asked: the bulk path
            // does not scan for the record.)
            let request = if self.large_reads {
                READ_CHUNK
            } else {
                self.engine.read_request()
            };
            self.large_reads |= request > SMALL_RECORD;
            let want = if self.large_reads {
                room.min(READ_CHUNK)
            } else {
                request.clamp(1, READ_CHUNK).min(room)
            };
            let socket = &mut self.socket;
            let read = self
                .engine
                .rbio_mut()
                .write_in_place(want, |region| match socket.read(region) {
                    Ok(n) => (n, Ok(n)),
                    Err(e) => (0, Err(e)),
                })
                .unwrap_or(Ok(0));
            match self.classify(read) {
                Io::Moved(0) => {
                    self.engine.rbio_mut().shutdown_wr();
                    moved = true;
                }
                Io::Moved(n) => {
                    self.stats.bytes_in += n as u64;
                    moved = true;
                }
                Io::Blocked => self.may_read = false,
                Io::Retry => {}
                Io::Failed => break,
            }
        }
        moved
    }

    /// The engine's output to the socket, until `WouldBlock` or empty.
    /// Whether any bytes left.
    fn send(&mut self) -> bool {
        let mut moved = false;
        while self.may_write && self.has_output() {
            let socket = &mut self.socket;
            let written = self.engine.send_output(|data| match socket.write(data) {
                Ok(n) => (n, Ok(n)),
                Err(e) => (0, Err(e)),
            });
            match self.classify(written) {
                Io::Moved(0) => {
                    self.socket_failed(io::ErrorKind::WriteZero);
                    break;
                }
                Io::Moved(n) => {
                    self.stats.bytes_out += n as u64;
                    moved = true;
                }
                Io::Blocked => self.may_write = false,
                Io::Retry => {}
                Io::Failed => break,
            }
        }
        moved
    }

    /// Sorts a socket call's result, counting `WouldBlock`s and recording
    /// a failure.
    fn classify(&mut self, result: io::Result<usize>) -> Io {
        match result {
            Ok(n) => Io::Moved(n),
            // A connect still in progress is not readable or writable yet;
            // its completion (or failure) is an event.
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::NotConnected =>
            {
                self.stats.would_block += 1;
                Io::Blocked
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Io::Retry,
            Err(e) => {
                self.socket_failed(e.kind());
                Io::Failed
            }
        }
    }

    fn has_output(&self) -> bool {
        self.closed_by_socket().is_none() && self.engine.pending_output() > 0
    }

    fn socket_failed(&mut self, kind: io::ErrorKind) {
        self.may_read = false;
        self.may_write = false;
        if !matches!(self.closed, Some(Closed::Failed(_))) {
            self.closed = Some(Closed::Abortive(AbortReason::Socket(kind)));
        }
    }

    fn closed_by_socket(&self) -> Option<io::ErrorKind> {
        match &self.closed {
            Some(Closed::Abortive(AbortReason::Socket(kind))) => Some(*kind),
            _ => None,
        }
    }

    fn socket_error(&self) -> Option<io::Error> {
        self.closed_by_socket().map(io::Error::from)
    }

    fn record_failure(&mut self, e: Error) {
        self.closed = Some(match e {
            Error::UnexpectedEof { .. } => Closed::Abortive(AbortReason::Truncated),
            e => Closed::Failed(e),
        });
    }

    /// A fatal engine error from an application call: recorded, and handed
    /// back as an `io::Error`.
    fn fail(&mut self, e: Error) -> io::Error {
        if e.is_fatal() && self.closed_by_socket().is_none() {
            self.record_failure(e.clone());
        }
        io::Error::from(e)
    }
}

/// What a socket read or write came to.
enum Io {
    Moved(usize),
    Blocked,
    Retry,
    Failed,
}

fn would_block() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

fn bios(capacities: Capacities) -> (VecBio, VecBio) {
    (
        VecBio::with_limit(capacities.read.max(1)),
        VecBio::with_limit(capacities.write.max(1)),
    )
}
