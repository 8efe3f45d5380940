//! Replays one side of a transcript against a freshly built engine and
//! reports the first place where the engine does something else.

use std::collections::HashMap;
use std::fmt;

use tlsbio::bio::Bio;
use tlsbio::{Error, HandshakeState};

use crate::bio::BioKind;
use crate::harness::Endpoint;
use crate::peer::{Peer, Turn};
use crate::records::locate;
use crate::schedule::{Dir, Side};
use crate::transcript::{Entry, Transcript};

/// What a successful replay covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replayed {
    /// The side replayed.
    pub side: Side,
    /// Turns taken and matched.
    pub turns: usize,
    /// Bytes fed to the engine.
    pub bytes_in: u64,
    /// Bytes the engine produced, all equal to the recording.
    pub bytes_out: u64,
}

/// Where a replay went its own way.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Divergence {
    /// Index of the transcript entry where it happened.
    pub entry: usize,
    /// What differed.
    pub mismatch: Mismatch,
}

/// What differed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Mismatch {
    /// The engine could not be built.
    Build(Error),
    /// A turn ended in another state or another way.
    Turn {
        /// The recorded state and ending.
        expected: (HandshakeState, Turn),
        /// The replayed state and ending.
        got: (HandshakeState, Turn),
        /// The replayed engine's error, if it failed.
        error: Option<Error>,
    },
    /// The engine wrote a different byte.
    Byte {
        /// Which way.
        dir: Dir,
        /// Offset in that direction's stream.
        offset: u64,
        /// The recorded byte.
        expected: u8,
        /// The replayed byte.
        got: u8,
        /// Which record and message the byte is in (in the recording).
        location: String,
    },
    /// The engine wrote fewer bytes than the recording has at this point.
    Missing {
        /// Which way.
        dir: Dir,
        /// Offset in that direction's stream where output ran out.
        offset: u64,
        /// Bytes still expected here.
        expected: usize,
        /// Which record and message was due (in the recording).
        location: String,
    },
    /// Recorded input did not fit in the read BIO.
    InputRejected {
        /// Which way.
        dir: Dir,
        /// Bytes to deliver.
        len: usize,
        /// Room there was.
        room: usize,
    },
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replay diverged at entry {}: ", self.entry)?;
        match &self.mismatch {
            Mismatch::Build(e) => write!(f, "the engine could not be built: {e}"),
            Mismatch::Turn {
                expected,
                got,
                error,
            } => {
                write!(
                    f,
                    "the turn ended in {} {}, the recording has {} {}",
                    got.0.short(),
                    got.1,
                    expected.0.short(),
                    expected.1
                )?;
                match error {
                    Some(e) => write!(f, " (error: {e})"),
                    None => Ok(()),
                }
            }
            Mismatch::Byte {
                dir,
                offset,
                expected,
                got,
                location,
            } => write!(
                f,
                "{dir} byte {offset} is {got:#04x}, the recording has {expected:#04x}: {location}"
            ),
            Mismatch::Missing {
                dir,
                offset,
                expected,
                location,
            } => write!(
                f,
                "{dir} output ends at byte {offset}, the recording has {expected} more: {location}"
            ),
            Mismatch::InputRejected { dir, len, room } => write!(
                f,
                "{dir} input of {len} bytes does not fit the read BIO ({room} bytes free)"
            ),
        }
    }
}

impl std::error::Error for Divergence {}

/// Replays `endpoint`'s side of `transcript`: feeds it every byte the
/// recording delivered to that side, gives it a turn wherever the
/// recording did, and checks that every turn ends the same way and every
/// byte it sends is the recorded one. The engine gets the transcript's BIO
/// capacities and script.
///
/// With the deterministic provider and the same seed, the replay of any
/// transcript matches. An engine built differently (another seed,
/// version, certificate or library version) gets a [`Divergence`] naming
/// the first differing entry, byte, record and handshake message.
pub fn replay(transcript: &Transcript, endpoint: &Endpoint) -> Result<Replayed, Box<Divergence>> {
    let side = endpoint.side();
    let (rx, tx) = transcript.capacities.of(side);
    let engine = endpoint
        .engine(BioKind::Ring, rx, tx, &crate::decrypt::Recorder::new())
        .map_err(|e| {
            Box::new(Divergence {
                entry: 0,
                mismatch: Mismatch::Build(e),
            })
        })?;
    let expect = transcript.script(side.peer()).send.len();
    let mut peer = Peer::new(side, engine, transcript.script(side).clone(), expect);

    // What `side` really sent, before corruption: the reference for
    // comparing and for naming records.
    let outgoing = side.sending();
    let corruption: HashMap<u64, u8> = transcript
        .entries
        .iter()
        .filter_map(|e| match *e {
            Entry::Corrupt { dir, offset, xor } if dir == outgoing => Some((offset, xor)),
            _ => None,
        })
        .collect();
    let mut sent_stream = Vec::new();
    for entry in &transcript.entries {
        if let Entry::Data { dir, offset, bytes } = entry {
            if *dir == outgoing {
                sent_stream.extend(uncorrupt(*offset, bytes, &corruption));
            }
        }
    }

    let mut done = Replayed {
        side,
        turns: 0,
        bytes_in: 0,
        bytes_out: 0,
    };
    for (index, entry) in transcript.entries.iter().enumerate() {
        let diverged = |mismatch| {
            Box::new(Divergence {
                entry: index,
                mismatch,
            })
        };
        match entry {
            Entry::Data { dir, bytes, .. } | Entry::Inject { dir, bytes }
                if dir.receiver() == side =>
            {
                let room = peer.engine.rbio().write_guarantee();
                if room < bytes.len() {
                    return Err(diverged(Mismatch::InputRejected {
                        dir: *dir,
                        len: bytes.len(),
                        room,
                    }));
                }
                peer.engine.rbio_mut().write(bytes);
                done.bytes_in += bytes.len() as u64;
            }
            Entry::Data { dir, offset, bytes } if dir.sender() == side => {
                let expected = uncorrupt(*offset, bytes, &corruption);
                let mut got = vec![0u8; expected.len()];
                let n = peer.take_output(&mut got);
                if let Some(i) = (0..n).find(|&i| got[i] != expected[i]) {
                    let at = offset + i as u64;
                    return Err(diverged(Mismatch::Byte {
                        dir: *dir,
                        offset: at,
                        expected: expected[i],
                        got: got[i],
                        location: locate(&sent_stream, at),
                    }));
                }
                if n < expected.len() {
                    let at = offset + n as u64;
                    return Err(diverged(Mismatch::Missing {
                        dir: *dir,
                        offset: at,
                        expected: expected.len() - n,
                        location: locate(&sent_stream, at),
                    }));
                }
                done.bytes_out += n as u64;
            }
            Entry::Lost { dir, len } if dir.sender() == side => {
                let mut sink = vec![0u8; *len];
                peer.take_output(&mut sink);
            }
            Entry::Eof { dir } if dir.receiver() == side => peer.engine.rbio_mut().shutdown_wr(),
            Entry::Run {
                side: s,
                state,
                turn,
                ..
            } if *s == side => {
                let got_turn = peer.turn();
                let got = (peer.engine.state(), got_turn);
                if got != (*state, turn.clone()) {
                    return Err(diverged(Mismatch::Turn {
                        expected: (*state, turn.clone()),
                        got,
                        error: peer.report().error,
                    }));
                }
                done.turns += 1;
            }
            _ => {}
        }
    }
    Ok(done)
}

fn uncorrupt(offset: u64, bytes: &[u8], corruption: &HashMap<u64, u8>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (i, b) in out.iter_mut().enumerate() {
        if let Some(xor) = corruption.get(&(offset + i as u64)) {
            *b ^= xor;
        }
    }
    out
}
