//! A listener, its connection table, the ring that does their I/O, and the
//! deadlines that end connections.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring};
use slab::Slab;
use tlsbio::ServerContext;
use tlsbio_serve::{Deadlines, Expiry, Limits, Quiet, QuietCheck, Timer};

use crate::bio::{BufferPool, Lease};
use crate::connection::Connection;

/// How long accepting waits after the process ran out of file descriptors
/// (or memory) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The user data of cancellations, whose completions mean nothing to us.
const CANCEL: u64 = u64::MAX;

/// Submission queue entries of each ring (the completion queue is twice
/// as large, and the kernel keeps completions beyond that).
const RING_ENTRIES: u32 = 1024;

/// How long a connection that [`Server::close`] closed may take to send
/// its close_notify before it is dropped anyway, unless
/// [`Server::set_linger`] says otherwise.
const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// How long [`Drop`] waits for in-flight operations to finish after
/// cancelling them; what is still in flight then is leaked, not freed.
const DROP_DRAIN: Duration = Duration::from_secs(2);

/// BIO buffers kept for new connections unless
/// [`Server::set_buffer_pool`] says otherwise: two per connection.
const DEFAULT_POOL: usize = 32;

/// A connection [`Server::expire`] ended, with its application state.
#[derive(Debug)]
#[non_exhaustive]
pub struct Expired<T> {
    /// Which connection it was.
    pub id: ConnId,
    /// Its application state.
    pub state: T,
    /// Why it ended.
    pub reason: Expiry,
}

/// A connection's name in a [`Server`]: its slot and a generation, so that
/// an id kept after its connection left never names a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    index: usize,
    generation: u32,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Connections accepted into the table.
    pub accepted: u64,
    /// Connections closed at accept because the table was full.
    pub refused: u64,
    /// Accepts that stopped because the process ran out of file
    /// descriptors or memory (each retried after a back-off).
    pub deferred_errors: u64,
    /// Operations cancelled because their connection left while they were
    /// in flight.
    pub cancelled: u64,
    /// Operations in the ring now.
    pub in_flight: usize,
    /// Of those, how many belong to a connection that has left: their
    /// buffers are kept alive by the operation until it completes.
    pub orphaned: usize,
    /// Completions handled.
    pub completions: u64,
    /// BIO buffers of retired connections that new connections started
    /// on ([`Server::set_buffer_pool`]).
    pub buffers_reused: u64,
    /// BIO buffers in the pool now, including ones still lent to a retired
    /// connection's operation in flight.
    pub pooled_buffers: usize,
}

#[derive(Debug)]
enum OpKind {
    Accept,
    Receive,
    Send,
    /// A quiet connection's wait for readability, with no buffer.
    Poll,
}

/// An operation in the ring. The lease is what keeps the memory the
/// kernel uses alive: it is dropped when the completion arrives.
#[derive(Debug)]
struct Op {
    kind: OpKind,
    /// Told apart from a later op in the same slot.
    seq: u32,
    /// `None` once the connection left.
    conn: Option<ConnId>,
    lease: Option<Lease>,
    /// The socket it names, kept open until the completion (held, never
    /// read).
    _socket: Option<Rc<TcpStream>>,
}

#[derive(Debug)]
struct Entry<T> {
    conn: Connection,
    generation: u32,
    /// `None` once [`Server::close`] took it: the connection is closing.
    state: Option<T>,
    /// The user data of its operations in flight.
    receive_op: Option<u64>,
    send_op: Option<u64>,
    /// Queued for [`Server::service`].
    dirty: bool,
    /// In the ready list of this turn.
    reported: bool,
    quiet: Quiet,
}

/// A TLS listener, its connections, each with the application's state `T`,
/// and the io_uring instance that moves their bytes.
///
/// Receives complete straight into each connection's read BIO and sends go
/// straight from its write BIO ([`LendBio`](crate::LendBio)): no copy
/// between the kernel and the BIOs. The loop is
///
/// ```no_run
/// # use std::time::{Duration, Instant};
/// # use tlsbio_uring::{Limits, Server};
/// # fn context() -> tlsbio_uring::tlsbio::ServerContext { unimplemented!() }
/// let mut server: Server = Server::bind("127.0.0.1:8443".parse().unwrap(), context(), Limits::default())?;
/// let (mut ready, mut buf) = (Vec::new(), vec![0u8; 16 * 1024]);
/// loop {
///     let now = Instant::now();
///     server.expire(now);
///     let timeout = server.next_deadline().map(|d| d.saturating_duration_since(now));
///     server.turn(now, timeout, &mut ready)?;
///     for &id in &ready {
///         let Some((conn, _state)) = server.entry_mut(id) else { continue };
///         match conn.read(&mut buf) {
///             Ok(0) => { server.close(id, now); }
///             Ok(n) => { let _ = conn.write(&buf[..n]); } // (see the echo example)
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
///             Err(_) => { server.close(id, now); }
///         }
///     }
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// The server never reads a clock: every call that needs the time takes it.
///
/// **Memory safety**: memory the kernel may still write is never freed or
/// moved. A connection that leaves (closed, expired, removed) with
/// operations in flight has them cancelled, and each operation keeps its
/// buffer alive until its completion arrives. Dropping the server cancels
/// everything and waits for the completions; whatever is still in flight
/// after that is leaked rather than freed. See `docs/uring.md`.
pub struct Server<T = ()> {
    ring: IoUring,
    listener: TcpListener,
    context: ServerContext,
    limits: Limits,
    make: Box<dyn FnMut(&Connection) -> T>,
    entries: Slab<Entry<T>>,
    next_generation: u32,
    ops: Slab<Op>,
    next_seq: u32,
    timers: Deadlines<ConnId>,
    linger: Duration,
    dirty: Vec<ConnId>,
    ready: Vec<ConnId>,
    /// The multishot accept's user data, while it is armed.
    accept_op: Option<u64>,
    accept_retry: Option<Instant>,
    /// An error met where it could not be returned (a failed submission,
    /// a failed accept): `turn` returns it.
    deferred_error: Option<io::Error>,
    /// `shut_down` stopped accepting: the multishot accept is being
    /// cancelled, and sockets it still delivers are closed at once.
    accept_stopped: bool,
    stats: ServerStats,
    /// Completions being handled (kept to reuse its allocation).
    completions: Vec<(u64, i32, u32)>,
    /// Retired connections' read BIO memory, for new read BIOs, and
    /// their write BIO memory for new write BIOs (kept apart: the two
    /// grow to different sizes).
    read_pool: BufferPool,
    write_pool: BufferPool,
}

impl<T> std::fmt::Debug for Server<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("limits", &self.limits)
            .field("connections", &self.entries.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Whether io_uring works here, with everything this crate needs: `Ok` or
/// the reason it does not (`ErrorKind::Unsupported`, with the kernel's
/// answer in the message). Tests use it to skip with a reason.
pub fn probe() -> io::Result<()> {
    new_ring(8).map(drop)
}

fn new_ring(entries: u32) -> io::Result<IoUring> {
    // Completions are run only when this thread asks for them (at the
    // wait in `turn`), not by interrupting it: one issuer, deferred task
    // work (kernel 6.1). Older kernels refuse the flags; plain then.
    let tuned = IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_defer_taskrun()
        .build(entries.max(8));
    let ring = tuned
        .or_else(|_| IoUring::new(entries.max(8)))
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "io_uring is not available: {e} (disabled by the kernel.io_uring_disabled \
                 sysctl, a seccomp filter, or a kernel older than 5.19?)"
                ),
            )
        })?;
    if !ring.params().is_feature_ext_arg() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "io_uring lacks IORING_FEAT_EXT_ARG (waits with a timeout): kernel 5.11 or later needed",
        ));
    }
    let mut probe = io_uring::Probe::new();
    ring.submitter().register_probe(&mut probe)?;
    let needed = [
        ("ACCEPT", opcode::AcceptMulti::CODE),
        ("RECV", opcode::Recv::CODE),
        ("SEND", opcode::Send::CODE),
        ("ASYNC_CANCEL", opcode::AsyncCancel::CODE),
        ("POLL_ADD", opcode::PollAdd::CODE),
    ];
    for (name, code) in needed {
        if !probe.is_supported(code) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("io_uring does not support IORING_OP_{name} here"),
            ));
        }
    }
    Ok(ring)
}

impl<T: Default + 'static> Server<T> {
    /// Binds a listener on `addr` and makes the ring; each connection's
    /// state starts as `T::default()`. Fails with `ErrorKind::Unsupported`
    /// where io_uring is unavailable ([`probe`]).
    pub fn bind(addr: SocketAddr, context: ServerContext, limits: Limits) -> io::Result<Self> {
        Self::from_std(TcpListener::bind(addr)?, context, limits, |_| T::default())
    }
}

impl<T> Server<T> {
    /// Serves on a listener bound elsewhere (with `SO_REUSEPORT`, by a
    /// supervisor); `make` gives each accepted connection its state.
    pub fn from_std(
        listener: TcpListener,
        context: ServerContext,
        limits: Limits,
        make: impl FnMut(&Connection) -> T + 'static,
    ) -> io::Result<Self> {
        if limits.proxy_protocol {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "tlsbio-uring does not read PROXY protocol headers yet (Limits::proxy_protocol)",
            ));
        }
        let ring = new_ring(RING_ENTRIES)?;
        Ok(Self {
            ring,
            listener,
            context,
            limits,
            make: Box::new(make),
            entries: Slab::new(),
            next_generation: 0,
            ops: Slab::new(),
            next_seq: 0,
            timers: Deadlines::new(),
            linger: DEFAULT_LINGER,
            dirty: Vec::new(),
            ready: Vec::new(),
            accept_op: None,
            accept_retry: None,
            deferred_error: None,
            accept_stopped: false,
            stats: ServerStats::default(),
            completions: Vec::new(),
            read_pool: BufferPool::new(DEFAULT_POOL - DEFAULT_POOL / 2),
            write_pool: BufferPool::new(DEFAULT_POOL / 2),
        })
    }

    /// How long a connection that [`close`](Self::close) closed may take to
    /// send its close_notify before it is dropped anyway (default 1 s).
    pub fn set_linger(&mut self, linger: Duration) {
        self.linger = linger;
    }

    /// Sets how many BIO buffers of retired connections the server keeps
    /// for new ones (default 32, two per connection); 0 turns the pool off
    /// and frees what it held.
    ///
    /// A connection's two BIOs allocate (zeroed) as they fill, doubling up
    /// to their capacities ([`Limits::capacities`](crate::Limits)). When
    /// the server retires a connection (closed, expired, aborted) it keeps
    /// that memory, read and write BIOs apart, and the connections it
    /// accepts next start on it, each BIO on the largest pooled buffer
    /// within its capacity: no allocation and no zeroing. A buffer still
    /// lent to an operation in flight (a cancelled receive) is handed out
    /// only after that operation's completion. Buffers already given back
    /// by a quiet connection ([`Limits::release_memory_after`](crate::Limits))
    /// are not kept. The pool holds at most this many buffers, none larger
    /// than a capacity.
    pub fn set_buffer_pool(&mut self, buffers: usize) {
        self.read_pool.set_max(buffers - buffers / 2);
        self.write_pool.set_max(buffers / 2);
    }

    /// The listener's address (the port, when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Submits what is due, waits up to `timeout` (`None`: until something
    /// completes) for completions, handles them, and puts into `ready` the
    /// connections that had any: new ones, ones with bytes in, with room
    /// freed for writing, or ended. `ready` is cleared first.
    ///
    /// For each ready connection, read until `WouldBlock` (and write what
    /// you have): a connection is reported once per completion, not while
    /// it has data.
    pub fn turn(
        &mut self,
        now: Instant,
        timeout: Option<Duration>,
        ready: &mut Vec<ConnId>,
    ) -> io::Result<()> {
        ready.clear();
        if let Some(e) = self.deferred_error.take() {
            return Err(e);
        }
        self.arm_accept(now);
        self.service();
        let wait = if self.ready.is_empty() && self.ring.completion().is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        self.submit_and_wait(wait)?;
        self.reap(now);
        self.service();
        // What the completions made due (a handshake flight, the next
        // receive) goes now, not after the application's turn.
        if !self.ring.submission().is_empty() {
            self.ring.submit()?;
        }
        for id in &self.ready {
            if let Some(entry) = self.entries.get_mut(id.index) {
                entry.reported = false;
            }
        }
        ready.append(&mut self.ready);
        Ok(())
    }

    /// The connection `id` and its state, unless it left or is closing.
    /// The server looks at it again on the next [`turn`](Self::turn)
    /// (to send what was written, to receive into room a read freed).
    pub fn entry_mut(&mut self, id: ConnId) -> Option<(&mut Connection, &mut T)> {
        let entry = self.entries.get_mut(id.index)?;
        if entry.generation != id.generation {
            return None;
        }
        let state = entry.state.as_mut()?;
        if !entry.dirty {
            entry.dirty = true;
            self.dirty.push(id);
        }
        Some((&mut entry.conn, state))
    }

    /// The connection `id`, for its queries.
    pub fn get(&self, id: ConnId) -> Option<&Connection> {
        self.entries
            .get(id.index)
            .filter(|e| e.generation == id.generation)
            .map(|e| &e.conn)
    }

    /// Closes `id` gracefully: queues close_notify, and retires the
    /// connection once it is sent (or after its linger). Returns its
    /// state; `None` if it already left or is closing. The linger is
    /// [`set_linger`](Self::set_linger)'s.
    pub fn close(&mut self, id: ConnId, now: Instant) -> Option<T> {
        let entry = self.entries.get_mut(id.index)?;
        if entry.generation != id.generation {
            return None;
        }
        let state = entry.state.take()?;
        // A failed or reset connection has nothing to say: it goes as soon
        // as what it has (an alert) is sent.
        let _ = entry.conn.shutdown();
        if !entry.dirty {
            entry.dirty = true;
            self.dirty.push(id);
        }
        self.timers.push(now + self.linger, id, Timer::Linger);
        Some(state)
    }

    /// Drops `id` at once, without close_notify (the peer sees the stream
    /// end, which it must treat as truncation). Returns its state.
    pub fn abort(&mut self, id: ConnId) -> Option<T> {
        let entry = self.entries.get(id.index)?;
        if entry.generation != id.generation {
            return None;
        }
        self.retire(id)
    }

    /// Closes every connection gracefully ([`close`](Self::close)) and
    /// stops accepting; keep calling [`turn`](Self::turn) until
    /// [`is_empty`](Self::is_empty) (at most the linger).
    pub fn shut_down(&mut self, now: Instant) -> Vec<T> {
        if !self.accept_stopped {
            self.accept_stopped = true;
            if let Some(op) = self.accept_op {
                // It stays armed until its last completion says so.
                self.cancel(op);
            }
        }
        let ids: Vec<ConnId> = self.ids().collect();
        ids.into_iter()
            .filter_map(|id| self.close(id, now))
            .collect()
    }

    /// Ends every connection whose handshake deadline is at or before
    /// `now`, or that moved no bytes for the idle timeout, and returns
    /// them; gives back the buffers of connections quiet for
    /// [`Limits::release_memory_after`]; drops closing connections whose
    /// linger is over.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired<T>> {
        let mut ended = Vec::new();
        while let Some((at, id, timer)) = self.timers.pop_due(now) {
            let Some(entry) = self.live(id) else { continue };
            let reason = match timer {
                Timer::Handshake if entry.conn.handshake_deadline() == Some(at) => {
                    Some(Expiry::Handshake)
                }
                Timer::Handshake => None,
                Timer::Quiet => self.quiet_check(id, now),
                Timer::Linger => {
                    if entry.state.is_none() {
                        self.retire(id);
                    }
                    None
                }
            };
            if let Some(reason) = reason {
                if let Some(state) = self.retire(id) {
                    ended.push(Expired { id, state, reason });
                }
            }
        }
        ended
    }

    /// The earliest deadline still pending: wait no later than this.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        let entries = &self.entries;
        let next = self.timers.next(|at, id, timer| {
            entries
                .get(id.index)
                .filter(|e| e.generation == id.generation)
                .is_some_and(|e| match timer {
                    Timer::Handshake => e.conn.handshake_deadline() == Some(at),
                    Timer::Quiet => true,
                    Timer::Linger => e.state.is_none(),
                })
        });
        let retry = self
            .accept_retry
            .filter(|_| self.accept_op.is_none() && !self.accept_stopped);
        match (next, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The open connections' ids (closing ones not included).
    pub fn ids(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.entries
            .iter()
            .filter(|(_, e)| e.state.is_some())
            .map(|(index, e)| ConnId {
                index,
                generation: e.generation,
            })
    }

    /// Connections in the table, closing ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            in_flight: self.ops.len(),
            buffers_reused: self.read_pool.reused() + self.write_pool.reused(),
            pooled_buffers: self.read_pool.len() + self.write_pool.len(),
            orphaned: self
                .ops
                .iter()
                .filter(|(_, op)| op.conn.is_none() && op.lease.is_some())
                .count(),
            ..self.stats
        }
    }

    // ---- internals ----

    fn live(&self, id: ConnId) -> Option<&Entry<T>> {
        self.entries
            .get(id.index)
            .filter(|e| e.generation == id.generation)
    }

    /// Pushes one submission; if the queue is full, submits first.
    ///
    /// # Safety
    ///
    /// Whatever memory `entry` names must stay valid until its completion:
    /// the caller keeps it in the op's lease (or it names none).
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: the caller's promise above, passed on.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                return Ok(());
            }
            self.ring.submit()?;
        }
    }

    fn new_op(
        &mut self,
        kind: OpKind,
        conn: Option<ConnId>,
        lease: Option<Lease>,
        socket: Option<Rc<TcpStream>>,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let key = self.ops.insert(Op {
            kind,
            seq,
            conn,
            lease,
            _socket: socket,
        });
        (u64::from(seq) << 32) | key as u64
    }

    /// The op `user_data` names, removed, if it is still the same op.
    fn take_op(&mut self, user_data: u64) -> Option<Op> {
        let key = (user_data & 0xffff_ffff) as usize;
        let seq = (user_data >> 32) as u32;
        if self.ops.get(key).is_some_and(|op| op.seq == seq) {
            Some(self.ops.remove(key))
        } else {
            None
        }
    }

    fn arm_accept(&mut self, now: Instant) {
        if self.accept_stopped
            || self.accept_op.is_some()
            || self.accept_retry.is_some_and(|at| at > now)
        {
            return;
        }
        self.accept_retry = None;
        let user_data = self.new_op(OpKind::Accept, None, None, None);
        let entry = opcode::AcceptMulti::new(types::Fd(self.listener.as_raw_fd()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data);
        // SAFETY: a multishot accept names no memory; the listener's
        // descriptor lives as long as the server, which cancels the accept
        // (and waits for it) before the listener closes.
        match unsafe { self.push(&entry) } {
            Ok(()) => self.accept_op = Some(user_data),
            Err(e) => {
                self.take_op(user_data);
                self.deferred_error = Some(e);
            }
        }
    }

    fn cancel(&mut self, user_data: u64) {
        let entry = opcode::AsyncCancel::new(user_data)
            .build()
            .user_data(CANCEL);
        // SAFETY: a cancellation names no memory, only another op's user
        // data (whose memory that op's lease keeps).
        if unsafe { self.push(&entry) }.is_ok() {
            self.stats.cancelled += 1;
        }
    }

    fn submit_and_wait(&mut self, wait: Option<Duration>) -> io::Result<()> {
        let result = match wait {
            Some(d) if d.is_zero() => self.ring.submit(),
            Some(d) => {
                let ts = types::Timespec::from(d);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
            None => self.ring.submit_and_wait(1),
        };
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn reap(&mut self, now: Instant) {
        let mut completions = std::mem::take(&mut self.completions);
        completions.extend(
            self.ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())),
        );
        for &(user_data, result, flags) in &completions {
            self.stats.completions += 1;
            if user_data == CANCEL {
                continue;
            }
            if self.accept_op == Some(user_data) {
                self.accepted(now, result, cqueue::more(flags));
                continue;
            }
            // The lease goes with the op, after the BIO took the bytes:
            // the kernel is done with the memory.
            let Some(op) = self.take_op(user_data) else {
                continue;
            };
            let Some(id) = op.conn else { continue };
            let Some(entry) = self.entries.get_mut(id.index) else {
                continue;
            };
            match op.kind {
                OpKind::Receive => {
                    entry.receive_op = None;
                    entry.conn.received(result);
                }
                OpKind::Send => {
                    entry.send_op = None;
                    entry.conn.sent(result);
                }
                OpKind::Poll => {
                    entry.receive_op = None;
                    entry.conn.polled();
                }
                OpKind::Accept => continue,
            }
            self.touch(id, true);
            drop(op.lease);
        }
        completions.clear();
        self.completions = completions;
    }

    fn accepted(&mut self, now: Instant, result: i32, more: bool) {
        if !more {
            // The multishot accept ended (an error, or cancelled): it is
            // armed again on the next turn.
            if let Some(op) = self.accept_op.take() {
                self.take_op(op);
            }
        }
        if result < 0 {
            let errno = -result;
            match errno {
                libc::ECANCELED | libc::EINTR | libc::ECONNABORTED | libc::EAGAIN => {}
                libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM => {
                    self.stats.deferred_errors += 1;
                    self.accept_retry = Some(now + ACCEPT_BACKOFF);
                }
                _ => self.deferred_error = Some(io::Error::from_raw_os_error(errno)),
            }
            return;
        }
        // SAFETY: a successful accept completion's result is a new
        // descriptor that nothing else owns; the stream takes it.
        let socket = unsafe { TcpStream::from_raw_fd(result) };
        if self.accept_stopped {
            return; // shutting down: closed at once
        }
        if self.entries.len() >= self.limits.max_connections {
            self.stats.refused += 1;
            return;
        }
        // Nagle would hold a flight's tail back until the peer's ACK.
        if socket.set_nodelay(true).is_err() {
            return; // already dead
        }
        let capacities = self.limits.capacities;
        let (rbio, wbio) = (
            self.read_pool.bio(capacities.read),
            self.write_pool.bio(capacities.write),
        );
        let conn = Connection::server(&self.context, socket, rbio, wbio);
        self.insert(conn, now);
    }

    fn insert(&mut self, mut conn: Connection, now: Instant) {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let deadline = now + self.limits.handshake_timeout;
        conn.set_handshake_deadline(deadline);
        let state = (self.make)(&conn);
        let index = self.entries.insert(Entry {
            conn,
            generation,
            state: Some(state),
            receive_op: None,
            send_op: None,
            dirty: false,
            reported: false,
            quiet: Quiet::new(now),
        });
        let id = ConnId { index, generation };
        self.timers.push(deadline, id, Timer::Handshake);
        if let Some(every) = self.limits.quiet_interval() {
            self.timers.push(now + every, id, Timer::Quiet);
        }
        self.stats.accepted += 1;
        self.touch(id, true);
    }

    /// Queues `id` for service, and for the application if `report`.
    fn touch(&mut self, id: ConnId, report: bool) {
        let Some(entry) = self.entries.get_mut(id.index) else {
            return;
        };
        if !entry.dirty {
            entry.dirty = true;
            self.dirty.push(id);
        }
        if report && entry.state.is_some() && !entry.reported {
            entry.reported = true;
            self.ready.push(id);
        }
    }

    /// Steps every queued connection and submits what it needs: a receive
    /// into its read BIO's free room, a send from its write BIO. Retires
    /// the ones that are done.
    fn service(&mut self) {
        let queued = std::mem::take(&mut self.dirty);
        for id in queued {
            let Some(entry) = self.entries.get_mut(id.index) else {
                continue;
            };
            if entry.generation != id.generation {
                continue;
            }
            entry.dirty = false;
            entry.conn.step();
            // A closing connection goes once it has nothing left to send;
            // a finished one the application still holds stays until it
            // closes it (it must see how it ended).
            let closing = entry.state.is_none();
            if closing && (entry.conn.is_finished() || entry.conn.is_flushed()) {
                self.retire(id);
                continue;
            }
            if let Err(e) = self.submit_io(id) {
                self.deferred_error.get_or_insert(e);
            }
        }
    }

    fn submit_io(&mut self, id: ConnId) -> io::Result<()> {
        let entry = &mut self.entries[id.index];
        let socket = entry.conn.socket_handle();
        let fd = types::Fd(socket.as_raw_fd());
        // A closing connection reads no more: the peer's close_notify (or
        // anything else) does not matter once ours is queued.
        let (receive, poll) = if entry.state.is_some() {
            (entry.conn.next_receive(), entry.conn.next_poll())
        } else {
            (None, false)
        };
        let send = entry.conn.next_send();
        if poll {
            let user_data = self.new_op(OpKind::Poll, Some(id), None, Some(socket.clone()));
            self.entries[id.index].receive_op = Some(user_data);
            let mask = u32::try_from(libc::POLLIN).unwrap_or(1);
            let sqe = opcode::PollAdd::new(fd, mask).build().user_data(user_data);
            // A poll names no memory, only the descriptor, which the op
            // keeps open (its `Rc`) until the completion.
            // SAFETY: the descriptor outlives the operation.
            unsafe { self.push(&sqe)? };
        }
        if let Some(lease) = receive {
            let len = u32::try_from(lease.len()).unwrap_or(u32::MAX);
            let ptr = lease.as_ptr();
            let user_data =
                self.new_op(OpKind::Receive, Some(id), Some(lease), Some(socket.clone()));
            self.entries[id.index].receive_op = Some(user_data);
            let sqe = opcode::Recv::new(fd, ptr, len).build().user_data(user_data);
            // `ptr..ptr + len` is the free-region lease now held by the op,
            // which keeps it allocated and unmoved, and the BIO keeps every
            // other writer out of it (`LendBio` rules 1, 2), until the
            // completion drops the op. The descriptor is the connection's
            // socket, which the op keeps open (its `Rc`) until then, so no
            // later accept can reuse its number.
            // SAFETY: the memory and the descriptor outlive the operation.
            unsafe { self.push(&sqe)? };
        }
        if let Some(lease) = send {
            let len = u32::try_from(lease.len()).unwrap_or(u32::MAX);
            let ptr = lease.as_ptr();
            let user_data = self.new_op(OpKind::Send, Some(id), Some(lease), Some(socket));
            self.entries[id.index].send_op = Some(user_data);
            let sqe = opcode::Send::new(fd, ptr, len)
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(user_data);
            // As for the receive: the pending-region lease held by the op
            // keeps the bytes allocated and unchanged (`LendBio` rules 1, 2).
            // SAFETY: the memory and the descriptor outlive the operation.
            unsafe { self.push(&sqe)? };
        }
        Ok(())
    }

    /// Takes `id` out of the table: its operations in flight are cancelled
    /// (the cancellations go out with the next submission); each keeps its
    /// memory (the lease) and the socket (its `Rc`) until it completes, and
    /// the socket closes after the last. Its BIOs' memory goes to the pool.
    fn retire(&mut self, id: ConnId) -> Option<T> {
        let entry = self.entries.get(id.index)?;
        if entry.generation != id.generation {
            return None;
        }
        let entry = self.entries.remove(id.index);
        for user_data in [entry.receive_op, entry.send_op].into_iter().flatten() {
            let key = (user_data & 0xffff_ffff) as usize;
            if let Some(op) = self.ops.get_mut(key) {
                op.conn = None;
            }
            self.cancel(user_data);
        }
        let (rbio, wbio) = entry.conn.into_bios();
        self.read_pool.put(rbio);
        self.write_pool.put(wbio);
        entry.state
    }

    fn quiet_check(&mut self, id: ConnId, now: Instant) -> Option<Expiry> {
        let every = self.limits.quiet_interval()?;
        let entry = self.entries.get_mut(id.index)?;
        let stats = entry.conn.stats();
        let moved = (stats.bytes_in, stats.bytes_out);
        match entry.quiet.check(moved, now, &self.limits) {
            // A closing connection is on its linger deadline instead.
            QuietCheck::Expired(reason) if entry.state.is_some() => return Some(reason),
            QuietCheck::Expired(_) | QuietCheck::Fine => {}
            QuietCheck::Release => {
                entry.conn.release_memory();
                // The receive in flight holds the read BIO's memory:
                // cancel it, and wait for readability with no buffer.
                if entry.conn.park() {
                    if let Some(op) = entry.receive_op {
                        self.cancel(op);
                    }
                }
            }
        }
        self.timers.push(now + every, id, Timer::Quiet);
        None
    }
}

impl<T> Drop for Server<T> {
    /// Cancels every operation and waits (up to a bound) for them to
    /// complete, so that their memory can be freed; an operation still in
    /// flight after that keeps its memory forever (leaked, never freed
    /// under the kernel).
    fn drop(&mut self) {
        let in_flight: Vec<u64> = self
            .ops
            .iter()
            .map(|(key, op)| (u64::from(op.seq) << 32) | key as u64)
            .collect();
        for user_data in in_flight {
            self.cancel(user_data);
        }
        let started = Instant::now();
        while !self.ops.is_empty() && started.elapsed() < DROP_DRAIN {
            if self
                .submit_and_wait(Some(Duration::from_millis(10)))
                .is_err()
            {
                break;
            }
            let completions: Vec<(u64, i32, u32)> = self
                .ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags()))
                .collect();
            for (user_data, result, flags) in completions {
                if self.accept_op == Some(user_data) {
                    if result >= 0 {
                        // SAFETY: a new descriptor nobody owns; closed here.
                        drop(unsafe { TcpStream::from_raw_fd(result) });
                    }
                    if cqueue::more(flags) {
                        continue;
                    }
                }
                // The op and its lease go: the kernel is done with them.
                self.take_op(user_data);
            }
        }
        for op in self.ops.drain() {
            // The kernel may still use this memory: never free it.
            std::mem::forget(op.lease);
        }
    }
}
