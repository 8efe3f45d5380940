//! A listener and its connection table.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Interest, Registry, Token};
use tlsbio::ServerContext;

use crate::{Capacities, Connection};

/// A server's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Each connection's BIO capacities.
    pub capacities: Capacities,
    /// How long a client has from accept to a finished handshake;
    /// [`Server::expire`] drops it after that. A slow-loris client that
    /// trickles its ClientHello is dropped here.
    pub handshake_timeout: Duration,
    /// The most connections at once; more are accepted and closed at once
    /// (so they see a close, not a hang in the backlog).
    pub max_connections: usize,
}

impl Default for Limits {
    /// Default capacities, 10 s to handshake, 1024 connections.
    fn default() -> Self {
        Self {
            capacities: Capacities::default(),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// A TLS listener and the table of its connections, for a mio event loop.
///
/// The loop owns the `Poll`; the server owns the sockets. On the
/// listener's token call [`accept`](Self::accept); on a connection's token
/// call [`Connection::ready`] (through [`get_mut`](Self::get_mut)), let the
/// application read and write, and call [`Connection::reregister`]; before
/// each poll, call [`expire`](Self::expire) with the time and poll with a
/// timeout up to [`next_deadline`](Self::next_deadline). The server never
/// reads a clock itself.
///
/// `examples/echo_server.rs` is a complete loop.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    token: Token,
    context: ServerContext,
    limits: Limits,
    connections: HashMap<Token, Connection>,
    /// Handshake deadlines, earliest first. Entries for connections that
    /// finished their handshake or left are dropped when they surface.
    deadlines: BinaryHeap<Reverse<(Instant, Token)>>,
    next_token: usize,
    refused: u64,
}

impl Server {
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
            deadlines: BinaryHeap::new(),
            next_token: token.0.wrapping_add(1),
            refused: 0,
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
    /// is edge-triggered too), registers each with a handshake deadline of
    /// `now` plus the limit, and returns their tokens. Accepted sockets
    /// have `TCP_NODELAY` set.
    pub fn accept(&mut self, registry: &Registry, now: Instant) -> io::Result<Vec<Token>> {
        let mut accepted = Vec::new();
        loop {
            let (socket, _) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(accepted),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The client gave up before we got to it.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
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
            let mut conn = Connection::server(&self.context, socket, token, self.limits.capacities);
            let deadline = now + self.limits.handshake_timeout;
            conn.set_handshake_deadline(Some(deadline));
            self.deadlines.push(Reverse((deadline, token)));
            conn.register(registry)?;
            self.connections.insert(token, conn);
            accepted.push(token);
        }
    }

    /// The connection with `token`.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        self.connections.get_mut(&token)
    }

    /// Removes a connection (deregistered; the socket closes when the
    /// returned value is dropped).
    pub fn remove(&mut self, registry: &Registry, token: Token) -> Option<Connection> {
        let mut conn = self.connections.remove(&token)?;
        // Deregistering a socket the peer already reset can fail; it is
        // being dropped either way.
        let _ = conn.deregister(registry);
        Some(conn)
    }

    /// Removes and returns every connection whose handshake deadline is at
    /// or before `now`.
    pub fn expire(&mut self, registry: &Registry, now: Instant) -> Vec<Connection> {
        let mut late = Vec::new();
        while let Some(&Reverse((deadline, token))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if self.is_pending(deadline, token) {
                late.extend(self.remove(registry, token));
            }
        }
        late
    }

    /// The earliest handshake deadline still pending: poll with a timeout
    /// no later than this. (Takes `&mut self` to drop deadlines that no
    /// longer apply, so that they cause no early wake-ups.)
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, token))) = self.deadlines.peek() {
            if self.is_pending(deadline, token) {
                return Some(deadline);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Whether `token`'s connection is still handshaking under `deadline`
    /// (not finished, not gone, not a later connection reusing the token).
    fn is_pending(&self, deadline: Instant, token: Token) -> bool {
        self.connections
            .get(&token)
            .and_then(Connection::handshake_deadline)
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
