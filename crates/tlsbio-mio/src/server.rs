//! A listener, its connection table with each connection's application
//! state, and the deadlines that end connections.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Interest, Registry, Token};
use tlsbio::bio::VecBio;
use tlsbio::{Engine, ServerContext};
use tlsbio_serve::{Deadlines, Expiry, Limits, Quiet, QuietCheck, Timer};

use crate::Connection;

/// How long accepting waits after the process ran out of file descriptors
/// (or memory) before it tries again. Short: other connections closing
/// free descriptors at any time.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// BIO buffers a server keeps from ended connections unless told
/// otherwise ([`Server::set_buffer_pool`]): two per connection, so the
/// last 16 connections' worth.
const DEFAULT_POOL: usize = 32;

/// A connection [`Server::expire`] ended, with its application state.
#[derive(Debug)]
#[non_exhaustive]
pub struct Expired<T> {
    /// The connection, deregistered; its socket closes when this is
    /// dropped. Call [`Connection::shutdown`] first to send close_notify.
    pub connection: Connection,
    /// Its application state.
    pub state: T,
    /// Why it ended.
    pub reason: Expiry,
}

#[derive(Debug)]
struct Entry<T> {
    conn: Connection,
    state: T,
    quiet: Quiet,
}

/// A TLS listener and the table of its connections, each with the
/// application's state `T`, for a mio event loop.
///
/// The loop owns the `Poll`; the server owns the sockets and the state.
/// On the listener's token (and whenever [`accept_due`](Self::accept_due)
/// says so) call [`accept`](Self::accept); on a connection's token call
/// [`Connection::ready`] through [`entry_mut`](Self::entry_mut), let the
/// application read and write, and call [`Connection::reregister`]; before
/// each poll, call [`expire`](Self::expire) with the time and poll with a
/// timeout up to [`next_deadline`](Self::next_deadline). The server never
/// reads a clock itself.
///
/// `examples/echo_server.rs` is a complete loop.
#[derive(Debug)]
pub struct Server<T = ()> {
    listener: TcpListener,
    token: Token,
    context: ServerContext,
    limits: Limits,
    connections: HashMap<Token, Entry<T>>,
    /// Deadlines, earliest first. Entries that no longer apply (the
    /// handshake finished, the connection left, the token was reused) are
    /// dropped when they surface.
    timers: Deadlines<Token>,
    next_token: usize,
    refused: u64,
    accept_errors: u64,
    /// Accepting stopped on a transient error; try again at this time.
    accept_retry: Option<Instant>,
    /// BIO memory of connections given back with [`Server::recycle`], for
    /// the next connections to start on.
    pool: Vec<Vec<u8>>,
    pool_max: usize,
    buffers_reused: u64,
}

impl<T> Server<T> {
    /// Binds a listener and registers it under `token`. Connections get the
    /// tokens after it.
    pub fn bind(
        addr: SocketAddr,
        context: ServerContext,
        limits: Limits,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        Self::from_std(listener, context, limits, registry, token)
    }

    /// Serves on a listener bound elsewhere (by a supervisor, or before
    /// the config could be made); it is made non-blocking here.
    pub fn from_std(
        listener: std::net::TcpListener,
        context: ServerContext,
        limits: Limits,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        registry.register(&mut listener, token, Interest::READABLE)?;
        Ok(Self {
            listener,
            token,
            context,
            limits,
            connections: HashMap::new(),
            timers: Deadlines::new(),
            next_token: token.0.wrapping_add(1),
            refused: 0,
            accept_errors: 0,
            accept_retry: None,
            pool: Vec::new(),
            pool_max: DEFAULT_POOL,
            buffers_reused: 0,
        })
    }

    /// The listener's address (the port, when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The listener's token.
    pub fn token(&self) -> Token {
        self.token
    }

    /// Accepts every pending connection (until `WouldBlock`: the listener
    /// is edge-triggered), gives each the state `make` returns, registers
    /// it with a handshake deadline of `now` plus the limit, and returns
    /// their tokens. Accepted sockets have `TCP_NODELAY` set.
    ///
    /// Running out of file descriptors or memory (`EMFILE`, `ENFILE`,
    /// `ENOBUFS`, `ENOMEM`) is not an error: accepting stops, the
    /// connections wait in the backlog, and [`accept_due`](Self::accept_due)
    /// turns true after a short back-off (part of
    /// [`next_deadline`](Self::next_deadline)); call `accept` again then,
    /// since no new readiness event may come for connections already
    /// queued. Other errors are returned.
    pub fn accept_with(
        &mut self,
        registry: &Registry,
        now: Instant,
        mut make: impl FnMut(&Connection) -> T,
    ) -> io::Result<Vec<Token>> {
        self.accept_retry = None;
        let mut accepted = Vec::new();
        loop {
            let (socket, _) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(accepted),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The client gave up before we got to it.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) if is_resource_exhaustion(&e) => {
                    self.accept_errors += 1;
                    self.accept_retry = Some(now + ACCEPT_BACKOFF);
                    return Ok(accepted);
                }
                Err(e) => return Err(e),
            };
            if self.connections.len() >= self.limits.max_connections {
                self.refused += 1;
                drop(socket);
                continue;
            }
            // TLS writes whole records and flights; Nagle's algorithm
            // would hold a flight's tail back until the peer's (delayed)
            // ACK, up to 40 ms per round trip on Linux.
            if let Err(e) = socket.set_nodelay(true) {
                if e.kind() != io::ErrorKind::InvalidInput {
                    continue; // the socket is already dead
                }
            }
            let token = self.free_token();
            let rbio = self.bio(self.limits.capacities.read);
            let wbio = self.bio(self.limits.capacities.write);
            let engine = Engine::server(&self.context, rbio, wbio);
            let mut conn = Connection::new(engine, socket, token);
            if self.limits.proxy_protocol {
                conn = conn.expect_proxy_header();
            }
            let deadline = now + self.limits.handshake_timeout;
            conn.set_handshake_deadline(Some(deadline));
            self.timers.push(deadline, token, Timer::Handshake);
            if let Some(every) = self.limits.quiet_interval() {
                self.timers.push(now + every, token, Timer::Quiet);
            }
            conn.register(registry)?;
            let state = make(&conn);
            self.connections.insert(
                token,
                Entry {
                    conn,
                    state,
                    quiet: Quiet::new(now),
                },
            );
            accepted.push(token);
        }
    }

    /// Whether accepting stopped on a transient error and its back-off has
    /// passed: call [`accept`](Self::accept) now.
    pub fn accept_due(&self, now: Instant) -> bool {
        self.accept_retry.is_some_and(|at| at <= now)
    }

    /// The connection with `token`.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        self.connections.get_mut(&token).map(|e| &mut e.conn)
    }

    /// The connection with `token` and its application state.
    pub fn entry_mut(&mut self, token: Token) -> Option<(&mut Connection, &mut T)> {
        self.connections
            .get_mut(&token)
            .map(|e| (&mut e.conn, &mut e.state))
    }

    /// Removes a connection (deregistered; the socket closes when the
    /// returned connection is dropped) with its state.
    pub fn remove(&mut self, registry: &Registry, token: Token) -> Option<(Connection, T)> {
        let mut entry = self.connections.remove(&token)?;
        // Deregistering a socket the peer already reset can fail; it is
        // being dropped either way.
        let _ = entry.conn.deregister(registry);
        Some((entry.conn, entry.state))
    }

    /// Takes back a connection that [`remove`](Self::remove) or
    /// [`expire`](Self::expire) handed out, once the application is done
    /// with it (call [`Connection::shutdown`] first to send close_notify):
    /// its socket closes, and its two BIO buffers go to the pool the next
    /// accepted connections start on, so that a server which recycles the
    /// connections it ends stops allocating BIO memory for new ones once
    /// the pool is warm. Dropping the connection instead is always fine;
    /// its memory then goes back to the allocator.
    ///
    /// The pool keeps at most [`set_buffer_pool`](Self::set_buffer_pool)
    /// buffers (32 unless set). It keeps no buffer the connection had
    /// already given back (a quiet connection's, see
    /// [`Limits::release_memory_after`]) and none larger than this
    /// server's [`Capacities`](crate::Capacities), so it holds at most that
    /// many buffers of at most that size; a new connection's BIO takes the
    /// largest pooled buffer within its own capacity, so no connection
    /// holds more than its capacities. Buffers hold ciphertext only, and a
    /// new connection never reads what an old one left in them.
    ///
    /// ```no_run
    /// # fn demo(server: &mut tlsbio_mio::Server, registry: &mio::Registry, token: mio::Token) {
    /// if let Some((mut conn, ())) = server.remove(registry, token) {
    ///     let _ = conn.shutdown(); // close_notify, as far as the socket takes it
    ///     server.recycle(conn);
    /// }
    /// # }
    /// ```
    pub fn recycle(&mut self, connection: Connection) {
        let (engine, socket) = connection.into_parts();
        drop(socket);
        let largest = self
            .limits
            .capacities
            .read
            .max(self.limits.capacities.write)
            .max(1);
        let (rbio, wbio) = engine.into_bios();
        for buf in [rbio.into_vec(), wbio.into_vec()] {
            let size = buf.capacity();
            if size > 0 && size <= largest && self.pool.len() < self.pool_max {
                self.pool.push(buf);
            }
        }
    }

    /// Sets how many BIO buffers [`recycle`](Self::recycle) keeps (two per
    /// connection); 0 turns the pool off and frees what it held.
    pub fn set_buffer_pool(&mut self, buffers: usize) {
        self.pool_max = buffers;
        self.pool.truncate(buffers);
        self.pool.shrink_to_fit();
    }

    /// BIO buffers in the pool now.
    pub fn pooled_buffers(&self) -> usize {
        self.pool.len()
    }

    /// BIO buffers taken from the pool by new connections so far.
    pub fn buffers_reused(&self) -> u64 {
        self.buffers_reused
    }

    /// A BIO for a new connection, on the largest pooled buffer no larger
    /// than `limit`, if there is one: a connection never holds more than
    /// its capacities, whichever side a buffer came from, and with unequal
    /// capacities each side gets the buffer that suits it.
    fn bio(&mut self, limit: usize) -> VecBio {
        let limit = limit.max(1);
        let fit = (self.pool.iter().enumerate())
            .filter(|(_, buf)| buf.capacity() <= limit)
            .max_by_key(|(_, buf)| buf.capacity())
            .map(|(i, _)| i);
        match fit {
            Some(i) => {
                self.buffers_reused += 1;
                VecBio::with_buffer(self.pool.swap_remove(i), limit)
            }
            None => VecBio::with_limit(limit),
        }
    }

    /// Ends every connection whose handshake deadline is at or before
    /// `now`, or that moved no bytes for the idle timeout, and returns
    /// them; gives back the buffers of connections quiet for
    /// [`Limits::release_memory_after`].
    pub fn expire(&mut self, registry: &Registry, now: Instant) -> Vec<Expired<T>> {
        let mut ended = Vec::new();
        while let Some((at, token, timer)) = self.timers.pop_due(now) {
            let reason = match timer {
                Timer::Handshake if self.handshake_pending(at, token) => Some(Expiry::Handshake),
                Timer::Handshake | Timer::Linger => None,
                Timer::Quiet => self.quiet_check(token, now),
            };
            if let Some(reason) = reason {
                if let Some((connection, state)) = self.remove(registry, token) {
                    ended.push(Expired {
                        connection,
                        state,
                        reason,
                    });
                }
            }
        }
        ended
    }

    /// Looks whether `token` moved bytes since the last look; releases its
    /// buffers or ends it if it has been quiet long enough; re-arms.
    fn quiet_check(&mut self, token: Token, now: Instant) -> Option<Expiry> {
        let every = self.limits.quiet_interval()?;
        let entry = self.connections.get_mut(&token)?;
        let stats = entry.conn.stats();
        match entry
            .quiet
            .check((stats.bytes_in, stats.bytes_out), now, &self.limits)
        {
            QuietCheck::Expired(reason) => return Some(reason),
            QuietCheck::Release => entry.conn.release_memory(),
            QuietCheck::Fine => {}
        }
        self.timers.push(now + every, token, Timer::Quiet);
        None
    }

    /// The earliest deadline still pending (a handshake deadline, a quiet
    /// check, an accept retry): poll with a timeout no later than this.
    /// (Takes `&mut self` to drop deadlines that no longer apply, so that
    /// they cause no early wake-ups.)
    pub fn next_deadline(&mut self) -> Option<Instant> {
        let connections = &self.connections;
        let next = self.timers.next(|at, token, timer| match timer {
            Timer::Handshake => {
                connections
                    .get(&token)
                    .and_then(|e| e.conn.handshake_deadline())
                    == Some(at)
            }
            Timer::Quiet => connections.contains_key(&token),
            Timer::Linger => false,
        });
        match (next, self.accept_retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `token`'s connection is still handshaking under `deadline`
    /// (not finished, not gone, not a later connection reusing the token).
    fn handshake_pending(&self, deadline: Instant, token: Token) -> bool {
        self.connections
            .get(&token)
            .and_then(|e| e.conn.handshake_deadline())
            == Some(deadline)
    }

    /// The connections' tokens.
    pub fn tokens(&self) -> impl Iterator<Item = Token> + '_ {
        self.connections.keys().copied()
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Connections closed at accept because the table was full.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Accepts that stopped because the process ran out of file
    /// descriptors or memory (each retried after a back-off).
    pub fn accept_errors(&self) -> u64 {
        self.accept_errors
    }

    fn free_token(&mut self) -> Token {
        loop {
            let token = Token(self.next_token);
            self.next_token = self.next_token.wrapping_add(1);
            if token != self.token && !self.connections.contains_key(&token) {
                return token;
            }
        }
    }
}

impl<T: Default> Server<T> {
    /// [`accept_with`](Self::accept_with), each connection's state
    /// `T::default()`.
    pub fn accept(&mut self, registry: &Registry, now: Instant) -> io::Result<Vec<Token>> {
        self.accept_with(registry, now, |_| T::default())
    }
}

/// The accept errors that mean "not now" rather than "never": the process
/// or system is out of file descriptors, or the kernel out of memory.
fn is_resource_exhaustion(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let Some(code) = e.raw_os_error() else {
        return false;
    };
    [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM]
        .iter()
        .any(|errno| errno.raw_os_error() == code)
}
