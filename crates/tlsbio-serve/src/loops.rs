//! One event loop per core: [`Loops::spawn`] binds `N` listeners on the
//! same address with `SO_REUSEPORT` (the kernel spreads incoming
//! connections across them) and runs the caller's loop on each, on its
//! own thread; [`Loops::stop`] asks every loop to end, and
//! [`Loops::join`] waits for them.
//!
//! Each loop builds its own `Server` (and, for io_uring, its own ring)
//! from the listener it is given: nothing is shared between loops.
//!
//! ```
//! use std::sync::atomic::Ordering;
//! use tlsbio_serve::Loops;
//!
//! let loops = Loops::spawn("127.0.0.1:0".parse().unwrap(), 2, |ctx| {
//!     // A real loop makes a server from `ctx.listener` and serves until
//!     // `ctx.stop` is set.
//!     while !ctx.stop.load(Ordering::SeqCst) {
//!         std::thread::sleep(std::time::Duration::from_millis(1));
//!     }
//!     Ok(())
//! })?;
//! assert_eq!(loops.len(), 2);
//! loops.stop();
//! loops.join()?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// The listen backlog of each listener: enough for a burst of clients
/// while a loop is busy.
const BACKLOG: i32 = 1024;

/// A listener on `addr` with `SO_REUSEPORT` (and `SO_REUSEADDR`), so that
/// several can share the port; blocking, as std's are.
pub fn reuse_port_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// What each loop is given.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoopContext {
    /// Which loop this is, from 0.
    pub index: usize,
    /// Its own listener on the shared address.
    pub listener: TcpListener,
    /// Set when the loops should end: look at it at least every few
    /// hundred milliseconds, and close connections cleanly on the way out.
    pub stop: Arc<AtomicBool>,
}

/// Running event loops, one per thread.
#[derive(Debug)]
pub struct Loops {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<io::Result<()>>>,
}

impl Loops {
    /// Binds `threads` listeners on `addr` (at least one; port 0 picks a
    /// port for the first and the others share it) and runs `run` on each,
    /// on a thread of its own named `tlsbio-loop-N`.
    pub fn spawn<F>(addr: SocketAddr, threads: usize, run: F) -> io::Result<Self>
    where
        F: Fn(LoopContext) -> io::Result<()> + Send + Sync + 'static,
    {
        Self::run(Self::bind_all(addr, threads)?, run)
    }

    /// The listeners [`spawn`](Self::spawn) binds, for a caller that needs
    /// the port before it can make its loops (a certificate named after
    /// it): `threads` of them (at least one) sharing `addr`'s port.
    pub fn bind_all(addr: SocketAddr, threads: usize) -> io::Result<Vec<TcpListener>> {
        let first = reuse_port_listener(addr)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..threads.max(1) {
            listeners.push(reuse_port_listener(addr)?);
        }
        Ok(listeners)
    }

    /// Runs `run` on each listener, on a thread of its own.
    pub fn run<F>(listeners: Vec<TcpListener>, run: F) -> io::Result<Self>
    where
        F: Fn(LoopContext) -> io::Result<()> + Send + Sync + 'static,
    {
        let addr = match listeners.first() {
            Some(first) => first.local_addr()?,
            None => return Err(io::Error::new(io::ErrorKind::InvalidInput, "no listeners")),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let run = Arc::new(run);
        let mut spawned = Vec::with_capacity(listeners.len());
        for (index, listener) in listeners.into_iter().enumerate() {
            let context = LoopContext {
                index,
                listener,
                stop: stop.clone(),
            };
            let run = run.clone();
            let thread = thread::Builder::new()
                .name(format!("tlsbio-loop-{index}"))
                .spawn(move || run(context));
            match thread {
                Ok(thread) => spawned.push(thread),
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    for thread in spawned {
                        let _ = thread.join();
                    }
                    return Err(e);
                }
            }
        }
        Ok(Self {
            addr,
            stop,
            threads: spawned,
        })
    }

    /// The shared address (the port, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many loops run.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Whether there are none (never, once spawned).
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// The flag [`stop`](Self::stop) sets, for a signal handler.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Asks every loop to end.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits for every loop; the first error (or panic, as an error) is
    /// returned, after all have ended.
    pub fn join(self) -> io::Result<()> {
        let mut first = Ok(());
        for (index, thread) in self.threads.into_iter().enumerate() {
            let result = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other(format!("event loop {index} panicked"))));
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    #[test]
    fn every_loop_listens_on_the_one_port_and_connections_spread() {
        let served = Arc::new(Mutex::new(vec![0usize; 2]));
        let loops = {
            let served = served.clone();
            Loops::spawn("127.0.0.1:0".parse().unwrap(), 2, move |ctx| {
                ctx.listener.set_nonblocking(true)?;
                while !ctx.stop.load(Ordering::SeqCst) {
                    match ctx.listener.accept() {
                        Ok(_) => served.lock().unwrap()[ctx.index] += 1,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(1))
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            })
            .unwrap()
        };
        let addr = loops.local_addr();
        assert_ne!(addr.port(), 0);
        let start = Instant::now();
        // SO_REUSEPORT hashes each connection's addresses: with enough
        // connections both listeners get some.
        let mut kept = Vec::new();
        while served.lock().unwrap().contains(&0) {
            assert!(start.elapsed() < Duration::from_secs(10), "{served:?}");
            kept.push(TcpStream::connect(addr).unwrap());
            thread::sleep(Duration::from_millis(1));
        }
        loops.stop();
        loops.join().unwrap();
    }

    #[test]
    fn an_error_in_a_loop_comes_back_from_join() {
        let loops = Loops::spawn("127.0.0.1:0".parse().unwrap(), 3, |ctx| {
            if ctx.index == 1 {
                return Err(io::Error::other("loop 1 gave up"));
            }
            while !ctx.stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        })
        .unwrap();
        loops.stop();
        let e = loops.join().unwrap_err();
        assert_eq!(e.to_string(), "loop 1 gave up");
    }
}
