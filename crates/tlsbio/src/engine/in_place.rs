//! Reading plaintext where it was decrypted.

use super::{Engine, MAX_STEPS};
use crate::bio::Bio;
use crate::session::{Data, Event as Step};
use crate::{Error, Want};

impl<R: Bio, W: Bio> Engine<R, W> {
    /// Reads the next record of plaintext without copying it: `f` is
    /// called once with the decrypted bytes and its result is returned.
    /// Where [`read`](Self::read) copies into a buffer of the caller's,
    /// this lends the record itself, at most one (up to 16 KiB) per call.
    ///
    /// On rustls 0.24 the bytes are where rustls decrypted them: in the
    /// read BIO (or the engine's staging, for a record the read BIO was too
    /// small to hold), so no byte of plaintext is copied at all. rustls
    /// 0.23's unbuffered API copies each record into a buffer of its own
    /// before handing it out, and that buffer is lent: one copy, rustls',
    /// where `read` makes two.
    ///
    /// Otherwise as `read`: it drives the handshake first if needed,
    /// returns [`Error::ZeroReturn`] at the peer's close_notify, a want, or
    /// the sticky error; plaintext held from an earlier short `read` or a
    /// [`peek`](Self::peek) is lent first (from the hold buffer). Empty
    /// records are skipped.
    ///
    /// ```
    /// # fn demo(engine: &mut tlsbio::Engine<tlsbio::bio::VecBio, tlsbio::bio::VecBio>) -> Result<(), tlsbio::Error> {
    /// let mut lines = 0;
    /// let n = engine.read_in_place(|plaintext| {
    ///     lines += plaintext.iter().filter(|&&b| b == b'\n').count();
    ///     plaintext.len()
    /// })?;
    /// # let _ = n; Ok(()) }
    /// ```
    pub fn read_in_place<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<T, Error> {
        let result = self.read_in_place_inner(f);
        self.update_state();
        result
    }

    fn read_in_place_inner<T>(&mut self, f: impl FnOnce(&[u8]) -> T) -> Result<T, Error> {
        if self.held.pending() > 0 {
            return Ok(self.held.lend(f));
        }
        self.check()?;
        if self.peer_closed {
            return Err(Error::ZeroReturn);
        }
        let mut f = Some(f);
        let mut out = None;
        for _ in 0..MAX_STEPS {
            let step = {
                let mut deliver = |payload: &[u8]| {
                    // Empty records are not the end of the stream.
                    if !payload.is_empty() {
                        if let Some(f) = f.take() {
                            out = Some(f(payload));
                        }
                    }
                };
                self.step(Data::Take(&mut deliver))
            };
            self.note_held();
            if let Some(value) = out.take() {
                return Ok(value);
            }
            match step? {
                Step::Data | Step::Progress | Step::DataReady => {}
                Step::NeedInput => self.need_input()?,
                Step::PeerClosed => return Err(Error::ZeroReturn),
                Step::ClientHello => return Err(Want::ClientHello.into()),
                Step::Verify => return Err(Want::Verify.into()),
                Step::Fatal(_) | Step::Overflow => {}
            }
        }
        Err(self.stuck())
    }
}
