//! [`AnyBio`]: one BIO type for the harness, whichever kind a run uses.

use bytes::Bytes;
use tlsbio::bio::{Bio, BioStats, BytesBio, RingBio, VecBio};

/// Which [`Bio`] implementation the harness gives its engines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BioKind {
    /// [`RingBio`]: a fixed ring (the default; what transcripts replay with).
    #[default]
    Ring,
    /// [`VecBio`]: a growable buffer with a limit.
    Vec,
    /// [`BytesBio`]: a chain of `Bytes` chunks.
    Bytes,
}

impl BioKind {
    /// Every kind, for test matrices.
    pub const ALL: [BioKind; 3] = [BioKind::Ring, BioKind::Vec, BioKind::Bytes];

    /// A BIO of this kind holding at most `capacity` bytes.
    pub fn make(self, capacity: usize) -> AnyBio {
        match self {
            Self::Ring => AnyBio::Ring(RingBio::with_capacity(capacity)),
            Self::Vec => AnyBio::Vec(VecBio::with_limit(capacity)),
            Self::Bytes => AnyBio::Bytes(BytesBio::with_limit(capacity)),
        }
    }
}

/// A [`RingBio`], [`VecBio`] or [`BytesBio`], chosen at run time, so one
/// harness type covers every kind.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum AnyBio {
    Ring(RingBio),
    Vec(VecBio),
    Bytes(BytesBio),
}

macro_rules! each {
    ($self:expr, $bio:ident => $e:expr) => {
        match $self {
            AnyBio::Ring($bio) => $e,
            AnyBio::Vec($bio) => $e,
            AnyBio::Bytes($bio) => $e,
        }
    };
}

impl Bio for AnyBio {
    fn pending(&self) -> usize {
        each!(self, b => b.pending())
    }
    fn write_guarantee(&self) -> usize {
        each!(self, b => b.write_guarantee())
    }
    fn read_in_place<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        each!(self, b => b.read_in_place(f))
    }
    fn write_in_place<T>(
        &mut self,
        min: usize,
        f: impl FnOnce(&mut [u8]) -> (usize, T),
    ) -> Option<T> {
        each!(self, b => b.write_in_place(min, f))
    }
    fn write_in_vec<T>(&mut self, min: usize, f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
        each!(self, b => b.write_in_vec(min, f))
    }
    fn shutdown_wr(&mut self) {
        each!(self, b => b.shutdown_wr())
    }
    fn is_shutdown_wr(&self) -> bool {
        each!(self, b => b.is_shutdown_wr())
    }
    fn read(&mut self, buf: &mut [u8]) -> usize {
        each!(self, b => b.read(buf))
    }
    fn write(&mut self, buf: &[u8]) -> usize {
        each!(self, b => b.write(buf))
    }
    fn push_bytes(&mut self, chunk: Bytes) -> Result<(), Bytes> {
        each!(self, b => b.push_bytes(chunk))
    }
    fn pop_bytes(&mut self) -> Option<Bytes> {
        each!(self, b => b.pop_bytes())
    }
    fn release_memory(&mut self) {
        each!(self, b => b.release_memory())
    }
    fn stats(&self) -> BioStats {
        each!(self, b => b.stats())
    }
}
