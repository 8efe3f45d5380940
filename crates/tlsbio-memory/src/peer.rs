//! One endpoint: an engine, a script of what the application does, and a
//! record of how far it got.

use std::fmt;

use tlsbio::bio::Bio;
use tlsbio::{Engine, Error, HandshakeState, ServerContext, Shutdown, Want};

use crate::bio::AnyBio;
use crate::schedule::Side;

/// How a side closes its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// Send everything, read everything the peer sends, then exchange
    /// close_notify both ways (the default).
    Full,
    /// Send everything, send close_notify at once, and keep reading until
    /// the peer's close_notify (TLS half-close).
    HalfClose,
}

/// What one side's application does once the handshake is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Application data it sends.
    pub send: Vec<u8>,
    /// How it closes.
    pub close: Close,
    /// Whether it reads at all; a side that never reads leaves its peer
    /// with a full link and a want-write.
    pub reads: bool,
    /// Whether it sends a TLS 1.3 KeyUpdate once half of its data is out.
    pub key_update: bool,
    /// A client's 0-RTT early data, written before its handshake
    /// ([`Engine::write_early_data`](tlsbio::Engine::write_early_data));
    /// not sent again if the server refuses it ([`SideReport::early_data`]
    /// says). On a server, any non-empty value means: read the early data
    /// stream ([`SideReport::early_received`]).
    pub early: Vec<u8>,
}

impl Script {
    /// Sends `len` bytes of [`payload`], reads, closes fully.
    pub fn sending(side: Side, len: usize) -> Self {
        Self {
            send: payload(side, len),
            close: Close::Full,
            reads: true,
            key_update: false,
            early: Vec::new(),
        }
    }

    /// The same script, with `bytes` of 0-RTT early data (client), or
    /// reading the early data stream (server: any non-empty `bytes`).
    pub fn early_data(mut self, bytes: Vec<u8>) -> Self {
        self.early = bytes;
        self
    }

    /// The same script, sending a KeyUpdate halfway (TLS 1.3).
    pub fn key_update(mut self) -> Self {
        self.key_update = true;
        self
    }

    /// The same script, closing with `close`.
    pub fn close(mut self, close: Close) -> Self {
        self.close = close;
        self
    }

    /// The same script, never reading.
    pub fn never_reads(mut self) -> Self {
        self.reads = false;
        self
    }
}

/// Your protocol's code on one side of a harness run, in place of a
/// [`Script`]'s fixed bytes: it is told what the peer sent and says what
/// to send back, so request/response protocols can be tested as they run.
///
/// After the handshake, each turn first asks [`send`](App::send) for bytes
/// (write them as they come; any amount, any number of times), then reads
/// and hands what arrives to [`received`](App::received), in whatever
/// chunks the schedule makes. Once [`finished`](App::finished) is true and
/// everything it gave is sent, the side closes (close_notify both ways).
/// Keep what your test inspects afterwards behind an `Arc<Mutex<_>>`.
///
/// A run with an app records what it sent in the transcript's script, so
/// the ladder and the capture are complete; [`replay`](crate::replay)
/// re-runs scripts, not apps, so such a transcript replays only as far as
/// the app's timing matches a script's.
pub trait App: Send {
    /// Plaintext from the peer, as it arrives.
    fn received(&mut self, data: &[u8]);
    /// Bytes to send now (empty for none).
    fn send(&mut self) -> Vec<u8>;
    /// Whether this side is done: it closes once its bytes are out.
    fn finished(&self) -> bool;
}

/// `len` bytes that differ by side and position, so a swapped, lost or
/// reordered chunk never compares equal by accident.
pub fn payload(side: Side, len: usize) -> Vec<u8> {
    let salt: u32 = match side {
        Side::Client => 0x9e37_79b9,
        Side::Server => 0x85eb_ca6b,
    };
    (0..len as u32)
        .map(|i| (i.wrapping_mul(salt) >> 13) as u8 ^ (i >> 8) as u8)
        .collect()
}

/// How a side's turn ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Turn {
    /// The engine needs what the [`Want`] says.
    Want(Want),
    /// Nothing to do until the application acts (it never reads, say).
    Idle,
    /// The connection is closed both ways, cleanly.
    Closed,
    /// The connection failed; the error is in [`SideReport::error`].
    Failed,
}

impl fmt::Display for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Want(Want::Read { at_least }) => write!(f, "want-read:{at_least}"),
            Self::Want(Want::Write) => f.write_str("want-write"),
            Self::Want(Want::ClientHello) => f.write_str("want-client-hello"),
            Self::Want(other) => write!(f, "want:{other:?}"),
            Self::Idle => f.write_str("idle"),
            Self::Closed => f.write_str("closed"),
            Self::Failed => f.write_str("failed"),
        }
    }
}

/// How far one side got.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SideReport {
    /// Which side.
    pub side: Side,
    /// The engine's state at the end.
    pub state: HandshakeState,
    /// Whether the handshake completed.
    pub handshake_complete: bool,
    /// Application bytes the engine accepted from us.
    pub sent: usize,
    /// Application bytes we read.
    pub received: Vec<u8>,
    /// Whether we read the peer's close_notify.
    pub peer_closed: bool,
    /// Whether both close_notify alerts were exchanged.
    pub closed: bool,
    /// The fatal error, if the connection failed.
    pub error: Option<Error>,
    /// How the last turn ended.
    pub last_turn: Option<Turn>,
    /// Turns taken.
    pub turns: u64,
    /// The engine's counters.
    pub stats: tlsbio::EngineStats,
    /// Ciphertext bytes sitting in the read and write BIOs.
    pub bio_pending: (usize, usize),
    /// Bytes the engine held beyond its BIOs at the end.
    pub engine_buffered: usize,
    /// A client's: what became of its early data (`None` before the
    /// handshake is complete, or when the engine cannot tell).
    pub early_data: Option<tlsbio::EarlyDataStatus>,
    /// A server's: the 0-RTT early data it read.
    pub early_received: Vec<u8>,
}

impl SideReport {
    /// Whether this side ended, cleanly or not.
    pub fn is_done(&self) -> bool {
        self.closed || self.error.is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    Handshake,
    Exchange,
    Closing,
    Done,
}

/// A snapshot that changes whenever a turn achieved something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    phase: Phase,
    state: HandshakeState,
    sent: usize,
    received: usize,
    shutdown_sent: bool,
    peer_closed: bool,
    rx: usize,
    tx: usize,
    buffered: usize,
    /// What the side waits for: a turn that changes it (a want-read for
    /// the header becomes one for the body) is progress to a strict driver.
    wait: Option<Wait>,
}

/// Bytes read per call; small enough to exercise partial delivery.
const READ_CHUNK: usize = 4096;
/// Engine calls in one turn before it yields anyway (never reached by a
/// correct engine: each call either progresses or wants).
const MAX_CALLS_PER_TURN: usize = 4096;

pub(crate) type PairEngine = Engine<AnyBio, AnyBio>;

/// What a side's last turn ended waiting for, as a strict driver sees it:
/// the turn may be taken again once any of these is met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wait {
    /// A call wanted to read: met once the read BIO holds this many bytes
    /// (what it held plus `at_least`), or its end is marked.
    read_until: Option<usize>,
    /// A call wanted to write: met once less output than this is pending.
    write_below: Option<usize>,
}

pub(crate) struct Peer {
    pub(crate) side: Side,
    pub(crate) engine: PairEngine,
    /// What the last turn waits for; `None` before the first turn.
    wait: Option<Wait>,
    /// For a paused server: the context the application chooses.
    choice: Option<ServerContext>,
    key_updated: bool,
    /// The wants seen in the current pass of a turn.
    pass: Wait,
    pub(crate) script: Script,
    /// The application, when it is code rather than a script.
    app: Option<Box<dyn App>>,
    expect: usize,
    phase: Phase,
    sent: usize,
    received: Vec<u8>,
    shutdown_sent: bool,
    peer_closed: bool,
    handshake_done: bool,
    error: Option<Error>,
    last: Option<Turn>,
    turns: u64,
    /// A client's early data taken by the engine so far, and whether it is
    /// done trying (all taken, the limit reached, or no early data
    /// possible).
    early_written: usize,
    early_done: bool,
    /// A server's early data, as read.
    early_received: Vec<u8>,
}

impl Peer {
    /// `expect` is how many bytes the peer's script sends.
    pub(crate) fn new(side: Side, engine: PairEngine, script: Script, expect: usize) -> Self {
        Self {
            side,
            engine,
            wait: None,
            choice: None,
            key_updated: false,
            pass: Wait::default(),
            script,
            app: None,
            expect,
            phase: Phase::Handshake,
            sent: 0,
            received: Vec::new(),
            shutdown_sent: false,
            peer_closed: false,
            handshake_done: false,
            error: None,
            last: None,
            turns: 0,
            early_written: 0,
            early_done: false,
            early_received: Vec::new(),
        }
    }

    /// The application is `app`: the script's bytes are replaced by what
    /// it sends.
    pub(crate) fn with_app(mut self, app: Option<Box<dyn App>>) -> Self {
        if app.is_some() {
            self.script.send.clear();
            self.expect = usize::MAX;
        }
        self.app = app;
        self
    }

    /// A paused server's application chooses `context` at the ClientHello.
    pub(crate) fn choosing(mut self, context: Option<ServerContext>) -> Self {
        self.choice = context;
        self
    }

    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Ended, with every byte of output handed to the link: a driver would
    /// close the transport now.
    pub(crate) fn is_finished_sending(&self) -> bool {
        self.is_done() && self.engine.pending_output() == 0
    }

    /// Copies up to `buf.len()` bytes of the engine's output into `buf` and
    /// takes them (the driver's send). Returns how many.
    pub(crate) fn take_output(&mut self, buf: &mut [u8]) -> usize {
        let mut taken = 0;
        while taken < buf.len() {
            let rest = &mut buf[taken..];
            let n = self.engine.send_output(|bytes| {
                let n = bytes.len().min(rest.len());
                rest[..n].copy_from_slice(&bytes[..n]);
                (n, n)
            });
            if n == 0 {
                break;
            }
            taken += n;
        }
        taken
    }

    pub(crate) fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            phase: self.phase,
            state: self.engine.state(),
            sent: self.sent,
            received: self.received.len(),
            shutdown_sent: self.shutdown_sent,
            peer_closed: self.peer_closed,
            rx: self.engine.rbio().pending(),
            tx: self.engine.pending_output(),
            buffered: self.engine.buffered(),
            wait: self.wait,
        }
    }

    /// Calls into the engine until it has to wait, and says why it waits.
    pub(crate) fn turn(&mut self) -> Turn {
        self.turns += 1;
        let turn = self.run();
        self.wait = Some(self.pass);
        self.last = Some(turn.clone());
        turn
    }

    /// Whether a strict driver may give this side a turn: it never ran, or
    /// what its last turn waited for has happened. An ended side is never
    /// ready; one that is idle (it never reads and has sent everything)
    /// waits for nothing that can come.
    pub(crate) fn is_ready(&self) -> bool {
        if self.is_done() {
            return false;
        }
        let Some(wait) = self.wait else {
            return true;
        };
        let rbio = self.engine.rbio();
        let read_met = wait
            .read_until
            .is_some_and(|until| rbio.pending() >= until || rbio.is_shutdown_wr());
        let write_met = wait
            .write_below
            .is_some_and(|below| self.engine.pending_output() < below);
        read_met || write_met
    }

    /// Bytes the last turn's read want still asks for, if it wants to read.
    pub(crate) fn read_shortfall(&self) -> Option<usize> {
        let until = self.wait?.read_until?;
        Some(until.saturating_sub(self.engine.rbio().pending()))
    }

    /// Notes a want a call returned in this pass.
    fn note(&mut self, want: Want) {
        match want {
            Want::Read { at_least } => {
                let until = self.engine.rbio().pending() + at_least;
                self.pass.read_until = Some(self.pass.read_until.map_or(until, |u| u.min(until)));
            }
            Want::Write => self.pass.write_below = Some(self.engine.pending_output()),
            _ => {}
        }
    }

    fn run(&mut self) -> Turn {
        for _ in 0..MAX_CALLS_PER_TURN {
            self.pass = Wait::default();
            let step = match self.phase {
                // The alert, if any, is in the output; the link takes it
                // before the driver closes the transport.
                Phase::Done => return self.end(),
                Phase::Handshake => match self.early().and_then(|()| self.engine.do_handshake()) {
                    Ok(()) => {
                        self.phase = Phase::Exchange;
                        self.handshake_done = true;
                        Ok(Step::Progress)
                    }
                    // The application looks at the ClientHello and picks
                    // its context right away (a real one may take its time:
                    // nothing changes meanwhile).
                    Err(Error::Want(Want::ClientHello)) => {
                        match (self.engine.accepted(), &self.choice) {
                            (Some(accepted), Some(context)) => {
                                accepted.choose(context).map(|()| Step::Progress)
                            }
                            _ => Err(Error::Want(Want::ClientHello)),
                        }
                    }
                    Err(e) => Err(e),
                },
                Phase::Exchange => self.exchange(),
                Phase::Closing => self.closing(),
            };
            match step {
                Ok(Step::Progress) => {}
                Ok(Step::Idle) => return Turn::Idle,
                Err(Error::Want(want)) => {
                    self.note(want);
                    return Turn::Want(want);
                }
                Err(error) => {
                    self.error = Some(error);
                    self.phase = Phase::Done;
                }
            }
        }
        Turn::Idle
    }

    /// The script's 0-RTT part, before each handshake call: a client
    /// writes what is left of its early data (a full write BIO lets it try
    /// again on a later call; once the ticket's limit is reached, or early
    /// data is not possible, the rest is dropped: it is not the ordinary
    /// stream); a server reads the early stream so far. Wants and errors
    /// come back from the handshake call itself.
    fn early(&mut self) -> Result<(), Error> {
        if self.script.early.is_empty() {
            return Ok(());
        }
        match self.side {
            Side::Client if !self.early_done => {
                let rest = &self.script.early[self.early_written..];
                match self.engine.write_early_data(rest) {
                    Ok(0) | Err(Error::Usage(_)) => self.early_done = true,
                    Ok(n) => {
                        self.early_written += n;
                        self.early_done = self.early_written == self.script.early.len();
                    }
                    Err(Error::Want(_)) => {}
                    Err(e) => return Err(e),
                }
                Ok(())
            }
            Side::Client => Ok(()),
            Side::Server => {
                let mut buf = [0u8; 4096];
                loop {
                    match self.engine.read_early_data(&mut buf) {
                        Ok(0) | Err(Error::Want(_)) => return Ok(()),
                        Ok(n) => self.early_received.extend_from_slice(&buf[..n]),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    fn end(&self) -> Turn {
        if self.error.is_some() {
            Turn::Failed
        } else {
            Turn::Closed
        }
    }

    fn exchange(&mut self) -> Result<Step, Error> {
        let mut progressed = false;
        let mut want = None;
        if let Some(app) = &mut self.app {
            let more = app.send();
            progressed |= !more.is_empty();
            self.script.send.extend_from_slice(&more);
        }
        if self.script.key_update && !self.key_updated && self.sent >= self.script.send.len() / 2 {
            match self.engine.key_update() {
                Ok(()) => {
                    self.key_updated = true;
                    progressed = true;
                }
                Err(Error::Want(w)) => {
                    self.note(w);
                    want = Some(w);
                }
                Err(e) => return Err(e),
            }
        }
        if self.sent < self.script.send.len() {
            match self.engine.write(&self.script.send[self.sent..]) {
                Ok(n) => {
                    self.sent += n;
                    progressed |= n > 0;
                }
                Err(Error::Want(w)) => {
                    self.note(w);
                    want = Some(w);
                }
                Err(e) => return Err(e),
            }
        }
        let all_sent = self.sent == self.script.send.len();
        if all_sent && self.script.close == Close::HalfClose && !self.shutdown_sent {
            match self.engine.shutdown() {
                Ok(_) => {
                    self.shutdown_sent = true;
                    progressed = true;
                }
                Err(Error::Want(w)) => {
                    self.note(w);
                    want = want.or(Some(w));
                }
                Err(e) => return Err(e),
            }
        }
        // A half-closing side reads until the peer's close_notify; the
        // others stop at what the peer's script sends.
        let app_done = self.app.as_ref().is_none_or(|app| app.finished());
        let wants_more = match (&self.app, self.script.close) {
            (Some(_), _) => !self.peer_closed && !app_done,
            (None, Close::HalfClose) => !self.peer_closed,
            (None, Close::Full) => !self.peer_closed && self.received.len() < self.expect,
        };
        if self.script.reads && wants_more {
            let mut buf = [0u8; READ_CHUNK];
            match self.engine.read(&mut buf) {
                Ok(n) => {
                    self.received.extend_from_slice(&buf[..n]);
                    if let Some(app) = &mut self.app {
                        app.received(&buf[..n]);
                    }
                    progressed = true;
                }
                Err(Error::ZeroReturn) => {
                    self.peer_closed = true;
                    progressed = true;
                }
                Err(Error::Want(w)) => {
                    self.note(w);
                    want = want.or(Some(w));
                }
                Err(e) => return Err(e),
            }
        }
        // An app may have more to say after what it just received.
        let app_quiet = self.app.as_ref().is_none_or(|app| app.finished());
        let exchanged = all_sent
            && app_quiet
            && (self.script.close != Close::HalfClose || self.shutdown_sent)
            && (!self.script.reads || !wants_more);
        if exchanged && self.script.reads {
            self.phase = Phase::Closing;
            return Ok(Step::Progress);
        }
        match (progressed, want) {
            (true, _) => Ok(Step::Progress),
            (false, Some(w)) => Err(w.into()),
            (false, None) => Ok(Step::Idle),
        }
    }

    fn closing(&mut self) -> Result<Step, Error> {
        match self.engine.shutdown()? {
            Shutdown::Complete => self.phase = Phase::Done,
            Shutdown::Sent => self.shutdown_sent = true,
        }
        Ok(Step::Progress)
    }

    pub(crate) fn report(&self) -> SideReport {
        SideReport {
            side: self.side,
            state: self.engine.state(),
            handshake_complete: self.handshake_done,
            sent: self.sent,
            received: self.received.clone(),
            peer_closed: self.peer_closed,
            closed: self.phase == Phase::Done && self.error.is_none(),
            error: self.error.clone(),
            last_turn: self.last.clone(),
            turns: self.turns,
            stats: self.engine.stats(),
            bio_pending: (self.engine.rbio().pending(), self.engine.pending_output()),
            engine_buffered: self.engine.buffered(),
            early_data: self.engine.early_data_status(),
            early_received: self.early_received.clone(),
        }
    }
}

enum Step {
    Progress,
    Idle,
}
