//! 0-RTT on the client's side: `write_early_data` and
//! `early_data_status` (the server's `read_early_data` is with the other
//! reads, in `mod.rs`).

use super::Engine;
use crate::bio::Bio;
use crate::error::Usage;
use crate::session::Sent;
use crate::Error;

/// What became of a client's 0-RTT early data
/// ([`Engine::early_data_status`]): OpenSSL's `SSL_EARLY_DATA_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyDataStatus {
    /// The client wrote none.
    NotSent,
    /// The server refused it: the bytes were dropped; write them again.
    Rejected,
    /// The server took it.
    Accepted,
}

impl<R: Bio, W: Bio> Engine<R, W> {
    /// On a client, sends TLS 1.3 0-RTT early data (`SSL_write_early_data`):
    /// encrypts a prefix of `buf` into the output, to go with the
    /// ClientHello, before the server has answered. Call it after making
    /// the engine and before the handshake reads the server's first
    /// flight; then drive the handshake as usual.
    ///
    /// Returns `Ok(n)`: `n` bytes are on their way (`n` may be less than
    /// `buf.len()`, and 0 once the server's limit for early data is used
    /// up); [`Want::Write`](crate::Want::Write) when the output is full;
    /// [`Usage::EarlyDataUnavailable`](crate::Usage::EarlyDataUnavailable) when there is nothing to send it
    /// with (no ticket from this server that allows 0-RTT, or the
    /// handshake is past its first flight, or the rustls backend does not
    /// offer client 0-RTT, as rustls 0.23's does not), which leaves the
    /// connection as it was: send the data with [`write`](Self::write)
    /// after the handshake.
    ///
    /// **The server may refuse early data** and go on with the handshake:
    /// then the data is lost, not an error. Once the handshake is complete,
    /// [`early_data_status`](Self::early_data_status) says which; after
    /// [`EarlyDataStatus::Rejected`] write the same bytes again. And early
    /// data can be replayed by an attacker (see
    /// [`read_early_data`](Self::read_early_data)): send only requests that
    /// are safe to repeat.
    ///
    /// The client config enables it with `enable_early_data` (rustls 0.24
    /// backend).
    pub fn write_early_data(&mut self, buf: &[u8]) -> Result<usize, Error> {
        let result = self.write_early_inner(buf);
        self.update_state();
        result
    }

    fn write_early_inner(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if self.session.is_server() {
            return Err(Usage::EarlyDataOnServer.into());
        }
        self.check()?;
        if !self.output.flush() {
            return Err(self.output_stuck());
        }
        self.output.mark();
        match self.session.send_early(buf, &mut self.output) {
            Sent::Done(n) => {
                self.early_sent |= n > 0;
                Ok(n)
            }
            Sent::Full => Err(self.output_stuck()),
            Sent::Fatal(e) => Err(self.fail(e)),
            _ => Err(Usage::EarlyDataUnavailable.into()),
        }
    }

    /// On a client, what became of its early data
    /// (`SSL_get_early_data_status`), once the handshake is complete:
    /// `None` before that (and on servers).
    pub fn early_data_status(&self) -> Option<EarlyDataStatus> {
        let accepted = self.session.early_data_accepted()?;
        Some(match (self.early_sent, accepted) {
            (false, _) => EarlyDataStatus::NotSent,
            (true, true) => EarlyDataStatus::Accepted,
            (true, false) => EarlyDataStatus::Rejected,
        })
    }
}
