//! Full duplex: an established connection's two directions, driven by two
//! threads at once ([`Engine::split`]; rustls 0.24 backend).
//!
//! rustls 0.24 splits an established connection into a sending half and a
//! receiving half that share only what must be shared (the receiving half
//! queues a KeyUpdate response or an alert for the sending half to write).
//! tlsbio's halves each own one BIO: [`ReadHalf`] the read BIO and the
//! plaintext not yet read, [`WriteHalf`] the write BIO. A thread that
//! reads never waits for one that writes, and the other way round.
//!
//! The one thing to arrange between the threads: when
//! [`WriteHalf::wants_flush`] is true (the peer asked for a KeyUpdate, or
//! the read side failed and has an alert to send), the writing thread
//! calls [`WriteHalf::flush`], or just writes: every write sends what is
//! queued first.
//!
//! ```
//! # fn demo(engine: tlsbio::Engine<tlsbio::bio::VecBio, tlsbio::bio::VecBio>) {
//! let (mut reader, mut writer) = engine.split().expect("established, both ways open");
//! let reading = std::thread::spawn(move || {
//!     let mut buf = [0u8; 4096];
//!     let _ = reader.read(&mut buf); // ... feed reader.rbio_mut() on Want::Read
//!     reader
//! });
//! let _ = writer.write(b"meanwhile"); // ... send writer's output
//! # let _ = reading.join();
//! # }
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::bio::{Bio, VecBio};
use crate::error::Usage;
use crate::{Engine, EngineStats, Error};

/// The receiving direction of a split connection: reads plaintext from
/// the read BIO, as [`Engine::read`] does.
pub struct ReadHalf<R> {
    engine: Engine<R, VecBio>,
}

impl<R: Bio> ReadHalf<R> {
    pub(crate) fn new(engine: Engine<R, VecBio>) -> Self {
        Self { engine }
    }

    /// As [`Engine::read`]: plaintext into `buf`, a want, the peer's
    /// close_notify ([`Error::ZeroReturn`]) or the sticky error.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.engine.read(buf)
    }

    /// As [`Engine::read_in_place`].
    pub fn read_in_place<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<T, Error> {
        self.engine.read_in_place(f)
    }

    /// The read BIO.
    pub fn rbio(&self) -> &R {
        self.engine.rbio()
    }

    /// The read BIO, to put ciphertext from the peer in.
    pub fn rbio_mut(&mut self) -> &mut R {
        self.engine.rbio_mut()
    }

    /// This half's counters.
    pub fn stats(&self) -> EngineStats {
        self.engine.stats()
    }
}

impl<R> fmt::Debug for ReadHalf<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf")
            .field("engine", &self.engine)
            .finish()
    }
}

/// The sending direction of a split connection: writes plaintext into the
/// write BIO, as [`Engine::write`] does, and hands out the output.
pub struct WriteHalf<W> {
    engine: Engine<VecBio, W>,
    flush_wanted: Arc<AtomicBool>,
}

impl<W: Bio> WriteHalf<W> {
    pub(crate) fn new(engine: Engine<VecBio, W>, flush_wanted: Arc<AtomicBool>) -> Self {
        Self {
            engine,
            flush_wanted,
        }
    }

    /// As [`Engine::write`]; what the read half queued goes first.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        self.flush_wanted.store(false, Ordering::Release);
        self.engine.write(buf)
    }

    /// As [`Engine::key_update`].
    pub fn key_update(&mut self) -> Result<(), Error> {
        self.engine.key_update()
    }

    /// Sends close_notify (the first step of [`Engine::shutdown`]); the
    /// read half still reads until the peer's close_notify.
    pub fn close(&mut self) -> Result<(), Error> {
        self.engine.shutdown().map(drop)
    }

    /// Whether the read half queued something for the peer (a KeyUpdate
    /// response, or the alert of its failure) that this half must write
    /// out: call [`flush`](Self::flush), or write.
    pub fn wants_flush(&self) -> bool {
        self.flush_wanted.load(Ordering::Acquire)
    }

    /// Writes out what the read half queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.flush_wanted.store(false, Ordering::Release);
        self.engine.flush_queued()
    }

    /// As [`Engine::pending_output`].
    pub fn pending_output(&self) -> usize {
        self.engine.pending_output()
    }

    /// As [`Engine::send_output`].
    pub fn send_output<T>(&mut self, f: impl FnOnce(&[u8]) -> (usize, T)) -> T {
        self.engine.send_output(f)
    }

    /// As [`Engine::pop_output`].
    pub fn pop_output(&mut self) -> Option<Bytes> {
        self.engine.pop_output()
    }

    /// As [`Engine::take_output`].
    pub fn take_output<T>(&mut self, f: impl FnOnce(&mut W) -> T) -> T {
        self.engine.take_output(f)
    }

    /// This half's counters.
    pub fn stats(&self) -> EngineStats {
        self.engine.stats()
    }
}

impl<W> fmt::Debug for WriteHalf<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("engine", &self.engine)
            .finish()
    }
}

/// [`Engine::split`] was not possible: the engine, unchanged, and why.
pub struct SplitError<R, W> {
    /// The engine, as it was.
    pub engine: Box<Engine<R, W>>,
    /// Why it could not be split.
    pub reason: Usage,
}

impl<R, W> SplitError<R, W> {
    pub(crate) fn new(engine: Engine<R, W>, reason: Usage) -> Self {
        Self {
            engine: Box::new(engine),
            reason,
        }
    }
}

impl<R, W> fmt::Debug for SplitError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<R, W> fmt::Display for SplitError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

impl<R, W> std::error::Error for SplitError<R, W> {}
