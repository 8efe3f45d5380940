//! `Engine::split`: an established connection as two halves for two
//! threads (rustls 0.24's `SplitConnection`).

use crate::state::Events;

use super::Engine;
use crate::bio::{Bio, VecBio};
use crate::close::CloseState;
use crate::error::Usage;
use crate::held::Held;
use crate::input::Input;
use crate::output::Output;
use crate::session::Send;
use crate::split::{ReadHalf, SplitError, WriteHalf};
use crate::Error;

impl<R: Bio, W: Bio> Engine<R, W> {
    /// Splits an established connection into a [`ReadHalf`], which owns
    /// the read BIO, and a [`WriteHalf`], which owns the write BIO, so
    /// that one thread reads while another writes (rustls 0.24's
    /// `SplitConnection`; rustls 0.24 backend only).
    ///
    /// The connection must be established with both directions open,
    /// no fatal error, no output staged inside the engine (the write BIO
    /// may hold some: it goes with the write half) and no KeyUpdate half
    /// sent; and not a server that accepts 0-RTT (that one runs on rustls'
    /// `Connection` API, which does not split). Otherwise the engine comes
    /// back in the error, unchanged, with the reason.
    pub fn split(self) -> Result<(ReadHalf<R>, WriteHalf<W>), SplitError<R, W>> {
        let possible = self.fatal.is_none()
            && !self.session.is_handshaking()
            && self.close == CloseState::Open
            && !self.peer_closed
            && self.output.staged() == 0
            && !self.key_update_queued;
        if !possible {
            return Err(SplitError::new(self, Usage::SplitNotPossible));
        }
        let mut engine = self;
        let Some((reading, flush_wanted)) = engine.session.split() else {
            return Err(SplitError::new(engine, Usage::SplitNotPossible));
        };
        let Engine {
            session: writing,
            input,
            output,
            held,
            early_sent,
            started,
            state,
            events,
            options,
            stats,
            ..
        } = engine;
        let reader = Engine {
            session: reading,
            input,
            // Nothing goes out from the reading side: what receiving
            // queues for the peer is the writing side's to send.
            output: Output::new(VecBio::with_limit(0)),
            held,
            fatal: None,
            peer_closed: false,
            close: CloseState::Open,
            key_update_queued: false,
            early_sent,
            started,
            state,
            events: Events::default(),
            options,
            stats,
        };
        let writer = Engine {
            session: writing,
            input: Input::new(VecBio::with_limit(0)),
            output,
            held: Held::default(),
            fatal: None,
            peer_closed: false,
            close: CloseState::Open,
            key_update_queued: false,
            early_sent,
            started,
            state,
            events,
            options,
            stats: Default::default(),
        };
        Ok((ReadHalf::new(reader), WriteHalf::new(writer, flush_wanted)))
    }

    /// Writes out what the other half queued for the peer (a write half's
    /// flush).
    pub(crate) fn flush_queued(&mut self) -> Result<(), Error> {
        self.check()?;
        self.send(Send::Data(&[])).map(drop)
    }
}
