//! Plaintext the engine decrypted but the application has not read yet
//! (`SSL_pending`): the rest of a record bigger than the caller's buffer,
//! or data that arrived while the engine was busy with something else.

#[derive(Debug, Default)]
pub(crate) struct Held {
    buf: Vec<u8>,
    /// How much of `buf` was read.
    pos: usize,
}

impl Held {
    /// Bytes waiting to be read.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends plaintext behind what is waiting.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.pending() == 0 {
            self.buf.clear();
            self.pos = 0;
        }
        crate::copy::extend(&mut self.buf, bytes);
    }

    /// Copies waiting plaintext into `out`; returns how much.
    pub(crate) fn take(&mut self, out: &mut [u8]) -> usize {
        let held = &self.buf[self.pos..];
        let n = held.len().min(out.len());
        crate::copy::copy(&mut out[..n], &held[..n]);
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        n
    }

    /// Copies waiting plaintext into `out` without taking it; returns how
    /// much.
    pub(crate) fn peek(&self, out: &mut [u8]) -> usize {
        let held = &self.buf[self.pos..];
        let n = held.len().min(out.len());
        crate::copy::copy(&mut out[..n], &held[..n]);
        n
    }

    /// Lends everything waiting to `f`, then drops it.
    pub(crate) fn lend<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> T {
        let value = f(&self.buf[self.pos..]);
        self.buf.clear();
        self.pos = 0;
        value
    }

    /// Drops everything waiting; returns how much that was.
    pub(crate) fn clear(&mut self) -> usize {
        let dropped = self.pending();
        self.buf.clear();
        self.pos = 0;
        dropped
    }

    /// Frees the buffer if nothing waits in it.
    pub(crate) fn release_memory(&mut self) {
        if self.pending() == 0 {
            *self = Self::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_in_pieces_and_in_order() {
        let mut held = Held::default();
        held.push(b"hello ");
        held.push(b"world");
        let mut out = [0u8; 4];
        assert_eq!(held.take(&mut out), 4);
        assert_eq!(&out, b"hell");
        held.push(b"!");
        let mut rest = [0u8; 16];
        let n = held.take(&mut rest);
        assert_eq!(&rest[..n], b"o world!");
        assert_eq!(held.pending(), 0);
        held.push(b"xyz");
        let mut two = [0u8; 2];
        assert_eq!(held.peek(&mut two), 2);
        assert_eq!(&two, b"xy");
        assert_eq!(held.pending(), 3, "peek takes nothing");
        assert_eq!(held.clear(), 3);
        assert_eq!(held.pending(), 0);
    }
}
