//! Who runs next, how many bytes cross the link, and how big the BIOs are.

use std::fmt;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One of the two endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The TLS client.
    Client,
    /// The TLS server.
    Server,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }

    /// The direction this side sends in.
    pub fn sending(self) -> Dir {
        match self {
            Self::Client => Dir::ClientToServer,
            Self::Server => Dir::ServerToClient,
        }
    }

    /// `"client"` or `"server"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A direction on the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server (`c>s` in transcripts).
    ClientToServer,
    /// Server to client (`s>c` in transcripts).
    ServerToClient,
}

impl Dir {
    /// The side that sends in this direction.
    pub fn sender(self) -> Side {
        match self {
            Self::ClientToServer => Side::Client,
            Self::ServerToClient => Side::Server,
        }
    }

    /// The side that receives in this direction.
    pub fn receiver(self) -> Side {
        self.sender().peer()
    }

    /// The other direction.
    pub fn reverse(self) -> Self {
        self.receiver().sending()
    }

    /// `"c>s"` or `"s>c"`, as in transcripts.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::ClientToServer => "c>s",
            Self::ServerToClient => "s>c",
        }
    }
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arrow())
    }
}

/// One thing the harness does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Give one side a turn: it calls into its engine until it has to wait.
    Run(Side),
    /// Move at most `max` bytes across the link in one direction (limited
    /// by what the sender's write BIO holds and the receiver's read BIO can
    /// take).
    Move {
        /// Which way.
        dir: Dir,
        /// The most bytes to move.
        max: usize,
    },
}

/// The four BIO capacities of a pair, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacities {
    /// The client's read BIO.
    pub client_rx: usize,
    /// The client's write BIO.
    pub client_tx: usize,
    /// The server's read BIO.
    pub server_rx: usize,
    /// The server's write BIO.
    pub server_tx: usize,
}

impl Capacities {
    /// Every BIO the same size.
    pub const fn uniform(bytes: usize) -> Self {
        Self {
            client_rx: bytes,
            client_tx: bytes,
            server_rx: bytes,
            server_tx: bytes,
        }
    }

    /// `side`'s read and write BIO capacities.
    pub fn of(&self, side: Side) -> (usize, usize) {
        match side {
            Side::Client => (self.client_rx, self.client_tx),
            Side::Server => (self.server_rx, self.server_tx),
        }
    }
}

impl Default for Capacities {
    /// 64 KiB each: room for four full records.
    fn default() -> Self {
        Self::uniform(64 * 1024)
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Lockstep {
        next: u8,
    },
    Trickle {
        next: u8,
    },
    Seeded {
        rng: Box<ChaCha8Rng>,
    },
    /// Exactly these actions, then lockstep so that the run can end.
    Scripted {
        actions: std::sync::Arc<[Action]>,
        next: usize,
        tail: u8,
    },
}

/// Decides the order of [`Action`]s and the BIO capacities.
///
/// - [`Schedule::lockstep`]: client runs, everything it wrote crosses,
///   server runs, everything crosses back; large BIOs. The shape of a
///   ladder diagram.
/// - [`Schedule::trickle`]: the same order, but one byte crosses per move
///   and every BIO holds one byte. The slowest possible link.
/// - [`Schedule::seeded`]: a seeded generator picks the capacities (from 1
///   byte to 64 KiB), the next action and each move's size (down to one
///   byte). The same seed always gives the same schedule.
///
/// ```
/// use tlsbio_memory::{Schedule, Action};
///
/// let mut a = Schedule::seeded(9);
/// let mut b = Schedule::seeded(9);
/// assert_eq!(a.capacities(), b.capacities());
/// for _ in 0..100 {
///     assert_eq!(a.next_action(), b.next_action());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Schedule {
    kind: Kind,
    seed: Option<u64>,
    capacities: Capacities,
}

impl Schedule {
    /// Alternate sides, moving everything each time.
    pub fn lockstep() -> Self {
        Self {
            kind: Kind::Lockstep { next: 0 },
            seed: None,
            capacities: Capacities::default(),
        }
    }

    /// Alternate sides, moving one byte at a time through one-byte BIOs.
    pub fn trickle() -> Self {
        Self {
            kind: Kind::Trickle { next: 0 },
            seed: None,
            capacities: Capacities::uniform(1),
        }
    }

    /// A random schedule drawn from `seed`.
    pub fn seeded(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cap = || capacity(&mut rng);
        let capacities = Capacities {
            client_rx: cap(),
            client_tx: cap(),
            server_rx: cap(),
            server_tx: cap(),
        };
        Self {
            kind: Kind::Seeded { rng: Box::new(rng) },
            seed: Some(seed),
            capacities,
        }
    }

    /// Exactly `actions`, in order, with `capacities`; after the last one,
    /// lockstep, so that a run always ends. A shrunk failing schedule is
    /// one of these ([`shrink`](crate::shrink)); [`to_text`](Self::to_text)
    /// writes it to a file that [`from_text`](Self::from_text) and `tlsbio
    /// simulate --replay-schedule` read back.
    pub fn scripted(actions: Vec<Action>, capacities: Capacities) -> Self {
        Self {
            kind: Kind::Scripted {
                actions: actions.into(),
                next: 0,
                tail: 0,
            },
            seed: None,
            capacities,
        }
    }

    /// The first `n` actions this schedule would give, from where it
    /// stands (it is not advanced).
    pub fn first_actions(&self, n: usize) -> Vec<Action> {
        let mut copy = self.clone();
        (0..n).map(|_| copy.next_action()).collect()
    }

    /// The actions of a [`scripted`](Self::scripted) schedule.
    pub fn script(&self) -> Option<&[Action]> {
        match &self.kind {
            Kind::Scripted { actions, .. } => Some(actions),
            _ => None,
        }
    }

    /// A scripted schedule as text (`None` for the others, which their
    /// [`name`](Self::name) describes):
    ///
    /// ```text
    /// tlsbio-schedule 1
    /// capacities 65536 1 3 65536
    /// run client
    /// move c>s 5
    /// run server
    /// end
    /// ```
    pub fn to_text(&self) -> Option<String> {
        let actions = self.script()?;
        let c = self.capacities;
        let mut out = format!(
            "tlsbio-schedule 1\ncapacities {} {} {} {}\n",
            c.client_rx, c.client_tx, c.server_rx, c.server_tx
        );
        for action in actions {
            match action {
                Action::Run(side) => out.push_str(&format!("run {side}\n")),
                Action::Move { dir, max } if *max == usize::MAX => {
                    out.push_str(&format!("move {dir} all\n"))
                }
                Action::Move { dir, max } => out.push_str(&format!("move {dir} {max}\n")),
            }
        }
        out.push_str("end\n");
        Some(out)
    }

    /// Reads [`to_text`](Self::to_text)'s format; an error names the line
    /// and what is wrong.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        match lines.next() {
            Some((_, "tlsbio-schedule 1")) => {}
            Some((n, other)) => {
                return Err(format!(
                    "line {n}: expected \"tlsbio-schedule 1\", found {other:?}"
                ))
            }
            None => return Err("line 1: empty schedule file".into()),
        }
        let mut capacities = None;
        let mut actions = Vec::new();
        let mut ended = false;
        for (n, line) in lines {
            let err = |m: String| format!("line {n}: {m}");
            if ended {
                return Err(err("content after \"end\"".into()));
            }
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            match words.as_slice() {
                ["end"] => ended = true,
                ["capacities", a, b, c, d] => {
                    let num = |s: &str| {
                        s.parse::<usize>()
                            .ok()
                            .filter(|&v| v > 0)
                            .ok_or_else(|| err(format!("capacity {s:?} is not a positive number")))
                    };
                    capacities = Some(Capacities {
                        client_rx: num(a)?,
                        client_tx: num(b)?,
                        server_rx: num(c)?,
                        server_tx: num(d)?,
                    });
                }
                ["run", "client"] => actions.push(Action::Run(Side::Client)),
                ["run", "server"] => actions.push(Action::Run(Side::Server)),
                ["move", dir, max] => {
                    let dir = match *dir {
                        "c>s" => Dir::ClientToServer,
                        "s>c" => Dir::ServerToClient,
                        other => return Err(err(format!("{other:?} is not c>s or s>c"))),
                    };
                    let max = match *max {
                        "all" => usize::MAX,
                        n => n.parse::<usize>().ok().filter(|&v| v > 0).ok_or_else(|| {
                            err(format!("move size {n:?} is not a positive number"))
                        })?,
                    };
                    actions.push(Action::Move { dir, max });
                }
                _ => return Err(err(format!("not a schedule line: {line:?}"))),
            }
        }
        if !ended {
            return Err("missing \"end\": the file is cut off".into());
        }
        let capacities = capacities.ok_or("no capacities line")?;
        Ok(Self::scripted(actions, capacities))
    }

    /// The same schedule with other BIO capacities.
    pub fn with_capacities(mut self, capacities: Capacities) -> Self {
        self.capacities = capacities;
        self
    }

    /// The seed of a seeded schedule.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The BIO capacities this schedule runs with.
    pub fn capacities(&self) -> Capacities {
        self.capacities
    }

    /// A name that [`Schedule::from_name`] turns back into this schedule,
    /// as it stood when it was made: `lockstep`, `trickle` or `seeded:N`.
    pub fn name(&self) -> String {
        match (&self.kind, self.seed) {
            (Kind::Lockstep { .. }, _) => "lockstep".into(),
            (Kind::Trickle { .. }, _) => "trickle".into(),
            (Kind::Seeded { .. }, Some(seed)) => format!("seeded:{seed}"),
            (Kind::Seeded { .. }, None) => unreachable!("seeded schedules keep their seed"),
            (Kind::Scripted { actions, .. }, _) => format!("scripted:{}", actions.len()),
        }
    }

    /// Parses a [`Schedule::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "lockstep" => Some(Self::lockstep()),
            "trickle" => Some(Self::trickle()),
            _ => name
                .strip_prefix("seeded:")
                .and_then(|n| n.parse().ok())
                .map(Self::seeded),
        }
    }

    /// The next action.
    pub fn next_action(&mut self) -> Action {
        const CYCLE: [Action; 4] = [
            Action::Run(Side::Client),
            Action::Move {
                dir: Dir::ClientToServer,
                max: usize::MAX,
            },
            Action::Run(Side::Server),
            Action::Move {
                dir: Dir::ServerToClient,
                max: usize::MAX,
            },
        ];
        match &mut self.kind {
            Kind::Lockstep { next } => {
                let action = CYCLE[usize::from(*next)];
                *next = (*next + 1) % 4;
                action
            }
            Kind::Trickle { next } => {
                let action = match CYCLE[usize::from(*next)] {
                    Action::Move { dir, .. } => Action::Move { dir, max: 1 },
                    run => run,
                };
                *next = (*next + 1) % 4;
                action
            }
            Kind::Seeded { rng } => {
                let pick = rng.next_u32();
                let side = if pick & 1 == 0 {
                    Side::Client
                } else {
                    Side::Server
                };
                if pick & 2 == 0 {
                    Action::Run(side)
                } else {
                    Action::Move {
                        dir: side.sending(),
                        max: chunk(rng),
                    }
                }
            }
            Kind::Scripted {
                actions,
                next,
                tail,
            } => match actions.get(*next) {
                Some(action) => {
                    *next += 1;
                    *action
                }
                None => {
                    let action = CYCLE[usize::from(*tail)];
                    *tail = (*tail + 1) % 4;
                    action
                }
            },
        }
    }
}

/// Mostly tiny or huge, sometimes in between: small capacities find
/// want-write paths, large ones find whole-flight paths.
fn capacity(rng: &mut ChaCha8Rng) -> usize {
    match rng.next_u32() % 8 {
        0 => 1,
        1 => 2 + below(rng, 31),
        2 | 3 => 64 + below(rng, 4096),
        4 => 4096 + below(rng, 16 * 1024),
        _ => 64 * 1024,
    }
}

fn chunk(rng: &mut ChaCha8Rng) -> usize {
    match rng.next_u32() % 8 {
        0 | 1 => 1,
        2 | 3 => 1 + below(rng, 16),
        4 => 1 + below(rng, 1024),
        _ => usize::MAX,
    }
}

fn below(rng: &mut ChaCha8Rng, n: u32) -> usize {
    (rng.next_u32() % n) as usize
}
