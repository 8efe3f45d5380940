//! The pair harness: two engines, a link between them, a schedule, faults,
//! and a transcript of everything that crossed.

use std::fmt;
use std::sync::Arc;

use tlsbio::bio::Bio;
use tlsbio::rustls::pki_types::ServerName;
use tlsbio::rustls::{ClientConfig, ServerConfig};
use tlsbio::{ClientContext, ConfigError, Engine, Error, ServerContext};

use crate::bio::{AnyBio, BioKind};
use crate::decrypt::Recorder;
use crate::peer::{App, Peer, Script, SideReport, Turn};
use crate::schedule::{Action, Dir, Schedule, Side};
use crate::transcript::{Entry, Transcript};

/// How one side's engine is built.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A client connecting to `server_name`.
    Client {
        /// The client's config.
        config: Arc<ClientConfig>,
        /// The name it checks the certificate against (and sends as SNI).
        server_name: ServerName<'static>,
    },
    /// A server with a fixed config.
    Server(Arc<ServerConfig>),
    /// A server that pauses at the ClientHello; its application then
    /// chooses this config (`Engine::server_paused`, `Accepted::choose`).
    PausedServer(Arc<ServerConfig>),
}

impl Endpoint {
    /// A client endpoint; `server_name` must be a DNS name or IP address.
    pub fn client(config: Arc<ClientConfig>, server_name: &str) -> Result<Self, Error> {
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|_| ConfigError::InvalidServerName(server_name.to_string()))?;
        Ok(Self::Client {
            config,
            server_name,
        })
    }

    /// Which side this endpoint plays.
    pub fn side(&self) -> Side {
        match self {
            Self::Client { .. } => Side::Client,
            Self::Server(_) | Self::PausedServer(_) => Side::Server,
        }
    }

    pub(crate) fn engine(
        &self,
        kind: BioKind,
        rx: usize,
        tx: usize,
        keys: &Arc<Recorder>,
    ) -> Result<Engine<AnyBio, AnyBio>, Error> {
        // A harness makes one connection per side, so validating the
        // config here is validating it once.
        let (rbio, wbio) = (kind.make(rx), kind.make(tx));
        Ok(match self {
            Self::Client {
                config,
                server_name,
            } => {
                // The same config with the run's key recorder beside its
                // own key log; the session store is shared, as before.
                let mut config = (**config).clone();
                config.key_log = keys.wrapping(config.key_log.clone());
                Engine::client(
                    &ClientContext::new(Arc::new(config))?,
                    server_name.clone(),
                    rbio,
                    wbio,
                )?
            }
            Self::Server(config) => {
                Engine::server(&ServerContext::new(recording(config, keys))?, rbio, wbio)
            }
            Self::PausedServer(_) => Engine::server_paused(rbio, wbio),
        })
    }

    /// The context a paused server's application chooses.
    pub(crate) fn choice(&self, keys: &Arc<Recorder>) -> Result<Option<ServerContext>, Error> {
        match self {
            Self::PausedServer(config) => Ok(Some(ServerContext::new(recording(config, keys))?)),
            _ => Ok(None),
        }
    }
}

/// `config` with the run's key recorder beside its own key log.
fn recording(config: &Arc<ServerConfig>, keys: &Arc<Recorder>) -> Arc<ServerConfig> {
    let mut config = (**config).clone();
    config.key_log = keys.wrapping(config.key_log.clone());
    Arc::new(config)
}

/// Something that goes wrong on the link. Offsets count the bytes the
/// *sender* wrote in that direction, from 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// After `at` bytes in `dir`, the link dies: both receivers see the
    /// end of the stream once they have read what was delivered, and
    /// anything sent later is lost. A TCP reset or a pulled cable.
    Cut {
        /// The direction whose byte count triggers the cut.
        dir: Dir,
        /// Bytes delivered in `dir` before the cut.
        at: u64,
    },
    /// The byte at `at` in `dir` arrives XORed with `xor` (which must not
    /// be zero).
    Corrupt {
        /// Which way.
        dir: Dir,
        /// The byte's offset.
        at: u64,
        /// What it is XORed with.
        xor: u8,
    },
    /// `bytes` arrive in `dir` just before the sender's byte `at`, as if a
    /// third party (or a broken peer) wrote them.
    Inject {
        /// Which way.
        dir: Dir,
        /// The sender offset they go before.
        at: u64,
        /// What is injected.
        bytes: Vec<u8>,
    },
}

impl std::str::FromStr for Fault {
    type Err = FaultParseError;

    /// Parses the command-line form: `cut:DIR:AT`, `corrupt:DIR:AT[:XOR]`
    /// (XOR in hex, default `01`) or `inject:DIR:AT:HEX`, where DIR is
    /// `c2s` or `s2c` (or `c>s` / `s>c`, which a shell must see quoted)
    /// and AT a byte offset of the sender's stream.
    ///
    /// ```
    /// use tlsbio_memory::{Dir, Fault};
    ///
    /// let fault: Fault = "corrupt:s2c:11".parse().unwrap();
    /// assert_eq!(fault, Fault::Corrupt { dir: Dir::ServerToClient, at: 11, xor: 1 });
    /// assert!("melt:c2s:1".parse::<Fault>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fault(s).map_err(FaultParseError)
    }
}

/// Why a [`Fault`] did not parse: a message for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultParseError(String);

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultParseError {}

fn parse_fault(s: &str) -> Result<Fault, String> {
    let dir = |d: &str| match d {
        "c>s" | "c2s" => Ok(Dir::ClientToServer),
        "s>c" | "s2c" => Ok(Dir::ServerToClient),
        _ => Err(format!(
            "direction {d:?}: expected c2s or s2c (or c>s, s>c)"
        )),
    };
    let at = |p: &str| {
        p.parse::<u64>()
            .map_err(|_| format!("offset {p:?} is not a number"))
    };
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        ["cut", d, offset] => Ok(Fault::Cut {
            dir: dir(d)?,
            at: at(offset)?,
        }),
        ["corrupt", d, offset, rest @ ..] if rest.len() <= 1 => {
            let xor = match rest {
                [x] => {
                    u8::from_str_radix(x, 16).map_err(|_| format!("xor {x:?} is not a hex byte"))?
                }
                _ => 0x01,
            };
            if xor == 0 {
                return Err("xor 00 would change nothing".into());
            }
            Ok(Fault::Corrupt {
                dir: dir(d)?,
                at: at(offset)?,
                xor,
            })
        }
        ["inject", d, offset, hex] if !hex.is_empty() => Ok(Fault::Inject {
            dir: dir(d)?,
            at: at(offset)?,
            bytes: crate::transcript::unhex(hex)?,
        }),
        _ => Err("expected cut:DIR:AT, corrupt:DIR:AT[:XOR] or inject:DIR:AT:HEX".into()),
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Both sides ended, cleanly or with an error.
    Finished,
    /// Neither side can make progress, and at least one has not ended:
    /// every kind of action was tried since the last progress and none
    /// changed anything.
    Stalled,
    /// The action limit was reached first.
    LimitReached,
}

/// What a run came to: how it ended and how far each side got.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// How the run ended.
    pub end: End,
    /// Actions taken.
    pub actions: u64,
    /// The client's progress.
    pub client: SideReport,
    /// The server's progress.
    pub server: SideReport,
    /// What the client's script sent.
    pub client_sent: Vec<u8>,
    /// What the server's script sent.
    pub server_sent: Vec<u8>,
    /// The first breach of the engine's contract the harness saw (a
    /// want-read asking for more than the read BIO can take), if any.
    pub violation: Option<String>,
}

impl Report {
    /// One side's progress.
    pub fn side(&self, side: Side) -> &SideReport {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    /// Whether each side received exactly what the other's script sent.
    pub fn data_intact(&self) -> bool {
        self.client.received == self.server_sent && self.server.received == self.client_sent
    }

    /// Whether both sides closed cleanly with all data intact.
    pub fn is_clean(&self) -> bool {
        self.end == End::Finished
            && self.client.closed
            && self.server.closed
            && self.data_intact()
            && self.violation.is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:?} after {} actions", self.end, self.actions)?;
        if let Some(v) = &self.violation {
            writeln!(f, "  contract violated: {v}")?;
        }
        for (side, sent_by_peer) in [
            (&self.client, self.server_sent.len()),
            (&self.server, self.client_sent.len()),
        ] {
            write!(
                f,
                "  {:<6} {:<8} handshake {:<3} sent {:>7} received {:>7}/{:<7} turns {:>6} \
                 bio rx/tx {}/{} engine holds {}",
                side.side.name(),
                side.state.short(),
                if side.handshake_complete { "ok" } else { "no" },
                side.sent,
                side.received.len(),
                sent_by_peer,
                side.turns,
                side.bio_pending.0,
                side.bio_pending.1,
                side.engine_buffered,
            )?;
            match (&side.error, side.closed, &side.last_turn) {
                (Some(e), _, _) => writeln!(f, " failed: {e}")?,
                (None, true, _) => writeln!(f, " closed")?,
                (None, false, Some(turn)) => writeln!(f, " last turn: {turn}")?,
                (None, false, None) => writeln!(f, " never ran")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Default)]
struct Link {
    /// Sender bytes taken off the sender's write BIO.
    taken: u64,
    /// Bytes of the pending injection already delivered.
    injected: usize,
    /// Whether the receiver was told the stream ended.
    eof_delivered: bool,
}

/// Sets up a [`Harness`].
pub struct Builder {
    client: Endpoint,
    server: Endpoint,
    schedule: Schedule,
    client_script: Script,
    server_script: Script,
    client_app: Option<Box<dyn App>>,
    server_app: Option<Box<dyn App>>,
    faults: Vec<Fault>,
    max_actions: u64,
    bios: BioKind,
    strict: bool,
    exact: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("schedule", &self.schedule)
            .field("client_script", &self.client_script)
            .field("server_script", &self.server_script)
            .field("client_app", &self.client_app.is_some())
            .field("server_app", &self.server_app.is_some())
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Which [`Bio`] the engines get (default [`BioKind::Ring`]).
    /// Transcripts do not record it: [`replay`](crate::replay) rebuilds
    /// ring BIOs, so replay only runs made with the default.
    pub fn bios(mut self, kind: BioKind) -> Self {
        self.bios = kind;
        self
    }

    /// Strict mode, the test oracle for "no lost wake-ups": a side is
    /// given a turn only when what its last turn waited for has happened
    /// (the bytes its want-read asked for are in its read BIO, or the end
    /// of the stream; some of its output was taken after a want-write).
    /// A correct engine never needs an extra call, so a pair that stalls
    /// in strict mode without a fault to blame has a lost wake-up; the
    /// [`Report`] shows both sides.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Moves into a side that wants to read deliver exactly what its
    /// want-read still asks for, no more (and nothing once it is met),
    /// like a driver that reads the socket `at_least` bytes at a time.
    /// Moves into a side that does not want to read are as the schedule
    /// says.
    pub fn deliver_exact_minimum(mut self) -> Self {
        self.exact = true;
        self
    }

    /// The schedule (default [`Schedule::lockstep`]).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The client's application is `app`, your protocol's code, instead
    /// of a script ([`App`]).
    pub fn client_app(mut self, app: impl App + 'static) -> Self {
        self.client_app = Some(Box::new(app));
        self
    }

    /// The server's application is `app` ([`App`]).
    pub fn server_app(mut self, app: impl App + 'static) -> Self {
        self.server_app = Some(Box::new(app));
        self
    }

    /// What the client's application does (default: send nothing, close).
    pub fn client_script(mut self, script: Script) -> Self {
        self.client_script = script;
        self
    }

    /// What the server's application does (default: send nothing, close).
    pub fn server_script(mut self, script: Script) -> Self {
        self.server_script = script;
        self
    }

    /// Adds a fault on the link.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// The most actions [`Harness::run`] takes (default 10 000 000, far
    /// more than a megabyte trickled one byte at a time needs).
    pub fn max_actions(mut self, max: u64) -> Self {
        self.max_actions = max;
        self
    }

    /// Builds both engines.
    pub fn build(mut self) -> Result<Harness, Error> {
        let capacities = self.schedule.capacities();
        let keys = Recorder::new();
        let bios = self.bios;
        let peer = |endpoint: &Endpoint, script: &Script, expect: usize, app| {
            let side = endpoint.side();
            let (rx, tx) = capacities.of(side);
            Ok::<_, Error>(
                Peer::new(
                    side,
                    endpoint.engine(bios, rx, tx, &keys)?,
                    script.clone(),
                    expect,
                )
                .with_app(app)
                .choosing(endpoint.choice(&keys)?),
            )
        };
        let client = peer(
            &self.client,
            &self.client_script,
            self.server_script.send.len(),
            self.client_app.take(),
        )?;
        let server = peer(
            &self.server,
            &self.server_script,
            self.client_script.send.len(),
            self.server_app.take(),
        )?;
        Ok(Harness {
            transcript: Transcript {
                schedule: self.schedule.name(),
                capacities,
                client: self.client_script,
                server: self.server_script,
                entries: Vec::new(),
                secrets: Vec::new(),
            },
            keys,
            client,
            server,
            schedule: self.schedule,
            links: Default::default(),
            faults: self.faults,
            cut: None,
            actions: 0,
            max_actions: self.max_actions,
            quiet: 0,
            strict: self.strict,
            exact: self.exact,
            violation: None,
        })
    }
}

/// A client engine and a server engine joined by an in-memory link.
///
/// Each [`Action`] either gives one side a turn (it calls its engine until
/// it has to wait) or moves bytes across the link in one direction. Every
/// byte that crosses, and every turn, goes into a [`Transcript`].
///
/// Once a side has ended (closed, or failed) and all its output has
/// crossed, its driver closes the transport: the next move in its
/// direction delivers the end of the stream, as a socket close would. A
/// peer waiting on it then sees [`Error::UnexpectedEof`] instead of
/// waiting forever.
///
/// ```
/// use std::sync::Arc;
/// use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
/// use tlsbio_memory::rustls::version::TLS13;
/// use tlsbio_memory::{Endpoint, Harness, Schedule, Script, Side};
///
/// let crypto = InsecureDeterministicCrypto::new(1);
/// let pki = DeterministicPki::new(1, &["localhost"]);
/// let mut pair = Harness::builder(
///     Endpoint::client(Arc::new(crypto.client_config(&pki, &[&TLS13])), "localhost")?,
///     Endpoint::Server(Arc::new(crypto.server_config(&pki, &[&TLS13]))),
/// )
/// .schedule(Schedule::seeded(42))
/// .client_script(Script::sending(Side::Client, 1000))
/// .server_script(Script::sending(Side::Server, 5000))
/// .build()?;
///
/// let report = pair.run();
/// assert!(report.is_clean(), "{report}");
/// # Ok::<(), tlsbio::Error>(())
/// ```
pub struct Harness {
    client: Peer,
    server: Peer,
    schedule: Schedule,
    links: [Link; 2],
    faults: Vec<Fault>,
    /// The direction whose fault cut the link, once it is cut.
    cut: Option<Dir>,
    transcript: Transcript,
    actions: u64,
    max_actions: u64,
    /// One bit per action kind tried without progress since the last
    /// progress.
    quiet: u8,
    strict: bool,
    exact: bool,
    /// The first breach of the engine's contract the harness saw.
    violation: Option<String>,
    /// The secrets both sides log, copied into the transcript.
    keys: Arc<Recorder>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("schedule", &self.transcript.schedule)
            .field("actions", &self.actions)
            .field("client", &self.client.engine)
            .field("server", &self.server.engine)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Starts setting up a pair. `client` and `server` must be a client
    /// and a server endpoint.
    pub fn builder(client: Endpoint, server: Endpoint) -> Builder {
        Builder {
            client,
            server,
            schedule: Schedule::lockstep(),
            client_script: Script::sending(Side::Client, 0),
            server_script: Script::sending(Side::Server, 0),
            client_app: None,
            server_app: None,
            faults: Vec::new(),
            max_actions: 10_000_000,
            bios: BioKind::Ring,
            strict: false,
            exact: false,
        }
    }

    /// Takes the schedule's next action. Returns whether anything changed.
    pub fn step(&mut self) -> bool {
        let action = self.schedule.next_action();
        self.apply(action)
    }

    /// Takes one action, whatever the schedule says. Returns whether
    /// anything changed.
    pub fn apply(&mut self, action: Action) -> bool {
        self.actions += 1;
        let (progress, kind) = match action {
            Action::Run(side) => (self.run_side(side), side as u8),
            Action::Move { dir, max } => (self.move_bytes(dir, max), 2 + dir as u8),
        };
        if self.keys.len() != self.transcript.secrets.len() {
            self.transcript.secrets = self.keys.secrets();
        }
        // An app's bytes are known only as it sends them.
        for (peer, script) in [
            (&self.client, &mut self.transcript.client),
            (&self.server, &mut self.transcript.server),
        ] {
            if peer.script.send.len() != script.send.len() {
                script.send.clone_from(&peer.script.send);
            }
        }
        if progress {
            self.quiet = 0;
        } else {
            self.quiet |= 1 << kind;
        }
        progress
    }

    /// Runs until both sides end, nothing can progress, or the action
    /// limit; never hangs.
    pub fn run(&mut self) -> Report {
        let end = loop {
            if self.client.is_done() && self.server.is_done() {
                break End::Finished;
            }
            if self.quiet == 0b1111 {
                break End::Stalled;
            }
            if self.actions >= self.max_actions {
                break End::LimitReached;
            }
            self.step();
        };
        self.report_as(end)
    }

    /// Cuts the link now, as a timeout would: both receivers see the end of
    /// the stream after what was already delivered. Use it to end a stall.
    pub fn cut_now(&mut self) {
        self.cut(Dir::ClientToServer);
        self.quiet = 0;
    }

    /// The report as things stand, with [`End::Finished`] if both sides
    /// ended and [`End::Stalled`] otherwise.
    pub fn report(&self) -> Report {
        let done = self.client.is_done() && self.server.is_done();
        self.report_as(if done { End::Finished } else { End::Stalled })
    }

    fn report_as(&self, end: End) -> Report {
        Report {
            end,
            actions: self.actions,
            client: self.client.report(),
            server: self.server.report(),
            client_sent: self.transcript.client.send.clone(),
            server_sent: self.transcript.server.send.clone(),
            violation: self.violation.clone(),
        }
    }

    /// Everything recorded so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// One side's engine, for inspection.
    pub fn engine(&self, side: Side) -> &Engine<AnyBio, AnyBio> {
        &self.peer(side).engine
    }

    /// The schedule, as it has advanced.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    fn peer(&self, side: Side) -> &Peer {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn run_side(&mut self, side: Side) -> bool {
        let peer = match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        };
        if peer.is_done() || (self.strict && !peer.is_ready()) {
            return false;
        }
        let before = peer.fingerprint();
        let turn = peer.turn();
        let changed = peer.fingerprint() != before;
        let note = (turn == Turn::Failed)
            .then(|| peer.report().error.map(|e| e.to_string()))
            .flatten();
        self.transcript.entries.push(Entry::Run {
            side,
            state: peer.engine.state(),
            turn,
            note,
        });
        changed
    }

    /// Moves bytes from the sender's write BIO into the receiver's read
    /// BIO, applying faults on the way.
    fn move_bytes(&mut self, dir: Dir, max: usize) -> bool {
        if self.cut.is_some() {
            return self.drain_after_cut(dir);
        }
        let taken = self.links[dir as usize].taken;
        if self.cut_due(dir, taken) {
            self.cut(dir);
            self.drain_after_cut(dir);
            return true;
        }
        let (sender, receiver) = match dir {
            Dir::ClientToServer => (&mut self.client, &mut self.server),
            Dir::ServerToClient => (&mut self.server, &mut self.client),
        };
        let link = &mut self.links[dir as usize];
        if sender.is_finished_sending() {
            // The sender's driver closes the transport once an ended
            // connection's output is out, so the peer sees the end of the
            // stream rather than waiting forever.
            if link.eof_delivered {
                return false;
            }
            self.deliver_eof(dir);
            return true;
        }

        // An injection due at this offset goes first, as far as it fits.
        if let Some(bytes) = self.faults.iter().find_map(|f| match f {
            Fault::Inject { dir: d, at, bytes } if *d == dir && *at == taken => Some(bytes),
            _ => None,
        }) {
            if link.injected < bytes.len() {
                let room = receiver.engine.rbio().write_guarantee();
                let n = (bytes.len() - link.injected).min(room).min(max);
                let chunk = &bytes[link.injected..link.injected + n];
                let written = receiver.engine.rbio_mut().write(chunk);
                debug_assert_eq!(written, n);
                link.injected += n;
                if n > 0 {
                    self.transcript.entries.push(Entry::Inject {
                        dir,
                        bytes: chunk.to_vec(),
                    });
                }
                return n > 0;
            }
        }

        // Stop at the next fault boundary so that it applies on time.
        let next_boundary = self
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::Cut { dir: d, at } | Fault::Inject { dir: d, at, .. }
                    if *d == dir && *at > taken =>
                {
                    Some(*at - taken)
                }
                _ => None,
            })
            .min()
            .unwrap_or(u64::MAX);
        let asked = match (self.exact, receiver.read_shortfall()) {
            (true, Some(shortfall)) => shortfall,
            _ => usize::MAX,
        };
        let room = receiver.engine.rbio().write_guarantee();
        if asked > room && asked != usize::MAX && self.violation.is_none() {
            // The contract: a want-read never asks for more than fits.
            self.violation = Some(format!(
                "{} wants {asked} more bytes but its read BIO has room for {room}",
                receiver.side.name()
            ));
        }
        let n = max
            .min(asked)
            .min(sender.engine.pending_output())
            .min(room)
            .min(usize::try_from(next_boundary).unwrap_or(usize::MAX));
        if n == 0 {
            return false;
        }
        let mut chunk = vec![0u8; n];
        let got = sender.take_output(&mut chunk);
        debug_assert_eq!(got, n);
        for fault in &self.faults {
            if let Fault::Corrupt { dir: d, at, xor } = *fault {
                if d == dir && (taken..taken + n as u64).contains(&at) {
                    chunk[(at - taken) as usize] ^= xor;
                    self.transcript.entries.push(Entry::Corrupt {
                        dir,
                        offset: at,
                        xor,
                    });
                }
            }
        }
        let written = receiver.engine.rbio_mut().write(&chunk);
        debug_assert_eq!(written, n);
        link.taken += n as u64;
        link.injected = 0;
        self.transcript.entries.push(Entry::Data {
            dir,
            offset: taken,
            bytes: chunk,
        });
        if self.cut_due(dir, taken + n as u64) {
            self.cut(dir);
        }
        true
    }

    fn cut_due(&self, dir: Dir, taken: u64) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f, Fault::Cut { dir: d, at } if *d == dir && *at <= taken))
    }

    fn cut(&mut self, dir: Dir) {
        if self.cut.is_some() {
            return;
        }
        self.cut = Some(dir);
        self.transcript.entries.push(Entry::Cut { dir });
        for d in [Dir::ClientToServer, Dir::ServerToClient] {
            self.deliver_eof(d);
        }
    }

    fn deliver_eof(&mut self, dir: Dir) {
        let link = &mut self.links[dir as usize];
        if link.eof_delivered {
            return;
        }
        link.eof_delivered = true;
        let receiver = match dir.receiver() {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        };
        receiver.engine.rbio_mut().shutdown_wr();
        self.transcript.entries.push(Entry::Eof { dir });
    }

    /// After a cut, whatever the sender writes goes nowhere.
    fn drain_after_cut(&mut self, dir: Dir) -> bool {
        let sender = match dir.sender() {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        };
        let mut sink = [0u8; 4096];
        let mut len = 0;
        loop {
            let n = sender.take_output(&mut sink);
            if n == 0 {
                break;
            }
            len += n;
        }
        if len > 0 {
            self.links[dir as usize].taken += len as u64;
            self.transcript.entries.push(Entry::Lost { dir, len });
        }
        len > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_bad_ones_say_why() {
        let parse = |s: &str| s.parse::<Fault>().map_err(|e| e.to_string());
        assert_eq!(
            parse("inject:c2s:0:16ff").unwrap(),
            Fault::Inject {
                dir: Dir::ClientToServer,
                at: 0,
                bytes: vec![0x16, 0xff]
            }
        );
        assert_eq!(
            parse("cut:c>s:100").unwrap(),
            Fault::Cut {
                dir: Dir::ClientToServer,
                at: 100
            }
        );
        assert_eq!(parse("cut:c2s:100"), parse("cut:c>s:100"));
        assert_eq!(
            parse("corrupt:s2c:7:80").unwrap(),
            Fault::Corrupt {
                dir: Dir::ServerToClient,
                at: 7,
                xor: 0x80
            }
        );
        assert!(parse("cut:x:1").unwrap_err().contains("c2s or s2c"));
        assert!(parse("cut:c2s:-1").unwrap_err().contains("not a number"));
        assert!(parse("corrupt:c2s:1:00").unwrap_err().contains("nothing"));
        assert!(parse("inject:c2s:1:1").unwrap_err().contains("hex"));
        assert!(parse("inject:c2s:1:\u{e9}0").is_err());
        assert!(parse("inject:c2s:1:").is_err());
        assert!(parse("melt").is_err());
    }
}
