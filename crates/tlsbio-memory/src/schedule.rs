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
    Lockstep { next: u8 },
    Trickle { next: u8 },
    Seeded { rng: Box<ChaCha8Rng> },
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
