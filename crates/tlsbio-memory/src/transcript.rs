//! What crossed the link, in order, with each side's turns between: a
//! versioned text format that can be written, read back, replayed and
//! drawn.
//!
//! # Format, version 2
//!
//! UTF-8 text, one item per line. Blank lines and lines starting with `#`
//! are ignored. The first line is the version; a reader refuses versions
//! it does not know. Then the header, then entries, then `end` (so that a
//! cut-off file is an error, not a shorter transcript).
//!
//! ```text
//! tlsbio-transcript 2
//! schedule lockstep
//! capacities 65536 65536 65536 65536
//! script client send=payload:11 close=full reads=yes
//! script server send=hex:68656c6c6f close=half reads=yes
//! run client HS want-read:5
//! c>s 0 16030100f4010000f00303...
//! run server HS want-read:5
//! s>c 0 160303007a020000760303...
//! corrupt c>s 612 01
//! c>s 600 17030300...
//! cut c>s
//! lost s>c 24
//! eof c>s
//! secret CLIENT_HANDSHAKE_TRAFFIC_SECRET 5e3b...c1 8f0a...d2
//! end
//! ```
//!
//! | line | meaning |
//! |---|---|
//! | `schedule NAME` | the [`Schedule`](crate::Schedule) (`lockstep`, `trickle`, `seeded:N`) |
//! | `capacities CRX CTX SRX STX` | BIO capacities: client read, client write, server read, server write |
//! | `script SIDE send=… close=full\|half reads=yes\|no [key_update=yes] [early=hex:…]` | what a side's application does; `send=payload:N` is [`payload`]`(side, N)`, `send=hex:…` anything else; `early` is a client's 0-RTT data (a server's, non-empty: it reads early data) |
//! | `run SIDE STATE TURN` | a side took a turn and ended in engine state `STATE` ([`HandshakeState::short`]) with `TURN`: `want-read:N`, `want-write`, `want-client-hello`, `idle`, `closed` or `failed` (a `#` comment after it gives the error) |
//! | `c>s OFFSET HEX`, `s>c OFFSET HEX` | bytes taken from the sender's write BIO and delivered into the receiver's read BIO; `OFFSET` counts the sender's bytes in that direction from 0 |
//! | `inject DIR HEX` | bytes delivered that the sender never wrote; they take no sender offset |
//! | `corrupt DIR OFFSET XOR` | the byte at `OFFSET` was XORed with `XOR` (hex) on the way; the data line holds the corrupted byte |
//! | `cut DIR` | the link was cut in that direction's stream; both directions stop delivering |
//! | `lost DIR N` | `N` bytes left the sender after the cut and went nowhere |
//! | `eof DIR` | the receiver's read BIO was told no more bytes will come |
//! | `secret LABEL CLIENT_RANDOM SECRET` | a secret a side logged (rustls' `KeyLog`, NSS key log labels, hex), for the ladder to decrypt with; written before `end` |
//!
//! Version 1 is version 2 without `secret` lines; it still loads, and its
//! ladders show protected records as `(encrypted)`.
//!
//! Offsets let a reader check that nothing is missing: each direction's
//! data and `lost` lines must be contiguous.
//!
//! A `payload:N` or hex script longer than 64 MiB is refused, so a hostile
//! file cannot make the reader allocate without bound.

use std::fmt::{self, Write as _};

use tlsbio::HandshakeState;

use crate::peer::{payload, Close, Script, Turn};
use crate::records::Walker;
use crate::schedule::{Capacities, Dir, Side};

/// The format version this crate writes.
pub const VERSION: u32 = 2;

/// The versions this crate reads.
const READS: [u32; 2] = [1, 2];

const MAGIC: &str = "tlsbio-transcript";

/// The largest script a transcript may describe.
const MAX_SCRIPT_BYTES: usize = 64 << 20;

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// A side took a turn.
    Run {
        /// Which side.
        side: Side,
        /// Its engine state after the turn.
        state: HandshakeState,
        /// How the turn ended.
        turn: Turn,
        /// The error's text, for failed turns (not compared on replay).
        note: Option<String>,
    },
    /// Bytes were delivered into the receiver's read BIO.
    Data {
        /// Which way.
        dir: Dir,
        /// Where in that direction's stream the bytes start.
        offset: u64,
        /// The bytes, as delivered (after any corruption).
        bytes: Vec<u8>,
    },
    /// A byte was corrupted on the way.
    Corrupt {
        /// Which way.
        dir: Dir,
        /// The byte's offset in that direction's stream.
        offset: u64,
        /// What it was XORed with.
        xor: u8,
    },
    /// Bytes that did not come from the sender were delivered (a
    /// [`Fault::Inject`](crate::Fault::Inject)).
    Inject {
        /// Which way.
        dir: Dir,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The link was cut, starting in this direction.
    Cut {
        /// The direction whose fault cut the link.
        dir: Dir,
    },
    /// Bytes left the sender after the cut and were not delivered.
    Lost {
        /// Which way.
        dir: Dir,
        /// How many.
        len: usize,
    },
    /// The receiver in this direction was told the stream ended.
    Eof {
        /// Which way.
        dir: Dir,
    },
}

/// A recorded run of a pair. See the [module docs](self) for the format.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// The schedule's name.
    pub schedule: String,
    /// The BIO capacities.
    pub capacities: Capacities,
    /// The client's script.
    pub client: Script,
    /// The server's script.
    pub server: Script,
    /// What happened, in order.
    pub entries: Vec<Entry>,
    /// The secrets both sides logged, in the order they were logged
    /// (empty for a version 1 transcript).
    pub secrets: Vec<crate::Secret>,
}

impl Transcript {
    /// The secrets in the NSS key log format, one line each: what
    /// Wireshark reads as an `SSLKEYLOGFILE`.
    pub fn keylog(&self) -> String {
        self.secrets.iter().map(|s| format!("{s}\n")).collect()
    }

    /// Every byte delivered in `dir`, in order: the input a fresh receiver
    /// would see. A client-to-server stream is a ready-made fuzz seed for a
    /// server target.
    pub fn stream(&self, dir: Dir) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in &self.entries {
            match entry {
                Entry::Data { dir: d, bytes, .. } | Entry::Inject { dir: d, bytes }
                    if *d == dir =>
                {
                    out.extend_from_slice(bytes)
                }
                _ => {}
            }
        }
        out
    }

    /// How many whole TLS records crossed in `dir` (bytes of an
    /// unfinished record at the end are not counted).
    pub fn record_count(&self, dir: Dir) -> usize {
        Walker::default().push(&self.stream(dir)).len()
    }

    /// The script of `side`.
    pub fn script(&self, side: Side) -> &Script {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    /// Reads a transcript, checking the version, every field and that each
    /// direction's offsets are contiguous.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Parser::default().parse(text)
    }

    /// Writes the transcript in the current format version.
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.capacities;
        writeln!(f, "{MAGIC} {VERSION}")?;
        writeln!(f, "schedule {}", self.schedule)?;
        writeln!(
            f,
            "capacities {} {} {} {}",
            c.client_rx, c.client_tx, c.server_rx, c.server_tx
        )?;
        for side in [Side::Client, Side::Server] {
            let script = self.script(side);
            let send = if script.send == payload(side, script.send.len()) {
                format!("payload:{}", script.send.len())
            } else {
                format!("hex:{}", hex(&script.send))
            };
            let close = match script.close {
                Close::Full => "full",
                Close::HalfClose => "half",
            };
            let reads = if script.reads { "yes" } else { "no" };
            // Written only when set, so transcripts without it read as before.
            let key_update = if script.key_update {
                " key_update=yes"
            } else {
                ""
            };
            // Written only when set, as key_update.
            let early = match script.early.is_empty() {
                true => String::new(),
                false => format!(" early=hex:{}", hex(&script.early)),
            };
            writeln!(
                f,
                "script {side} send={send} close={close} reads={reads}{key_update}{early}"
            )?;
        }
        for entry in &self.entries {
            match entry {
                Entry::Run {
                    side,
                    state,
                    turn,
                    note,
                } => {
                    write!(f, "run {side} {} {turn}", state.short())?;
                    if let Some(note) = note {
                        // One line, whatever the error says.
                        write!(f, " # {}", note.replace(['\n', '\r'], " "))?;
                    }
                    writeln!(f)?;
                }
                Entry::Data { dir, offset, bytes } => writeln!(f, "{dir} {offset} {}", hex(bytes))?,
                Entry::Corrupt { dir, offset, xor } => {
                    writeln!(f, "corrupt {dir} {offset} {xor:02x}")?
                }
                Entry::Inject { dir, bytes } => writeln!(f, "inject {dir} {}", hex(bytes))?,
                Entry::Cut { dir } => writeln!(f, "cut {dir}")?,
                Entry::Lost { dir, len } => writeln!(f, "lost {dir} {len}")?,
                Entry::Eof { dir } => writeln!(f, "eof {dir}")?,
            }
        }
        for secret in &self.secrets {
            writeln!(f, "secret {secret}")?;
        }
        writeln!(f, "end")
    }
}

/// Why a transcript could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transcript line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex at character {i}"))
        })
        .collect()
}

const STATES: [HandshakeState; 9] = [
    HandshakeState::Before,
    HandshakeState::ReadingClientHello,
    HandshakeState::ClientHelloPaused,
    HandshakeState::Handshaking,
    HandshakeState::Established,
    HandshakeState::ShutdownSent,
    HandshakeState::PeerClosed,
    HandshakeState::Closed,
    HandshakeState::Failed,
];

fn parse_state(s: &str) -> Result<HandshakeState, String> {
    STATES
        .into_iter()
        .find(|state| state.short() == s)
        .ok_or_else(|| format!("unknown engine state {s:?}"))
}

fn parse_turn(s: &str) -> Result<Turn, String> {
    Ok(match s {
        "want-write" => Turn::Want(tlsbio::Want::Write),
        "want-client-hello" => Turn::Want(tlsbio::Want::ClientHello),
        "idle" => Turn::Idle,
        "closed" => Turn::Closed,
        "failed" => Turn::Failed,
        _ => match s.strip_prefix("want-read:").map(str::parse) {
            Some(Ok(at_least)) => Turn::Want(tlsbio::Want::Read { at_least }),
            _ => return Err(format!("unknown turn ending {s:?}")),
        },
    })
}

fn parse_side(s: &str) -> Result<Side, String> {
    match s {
        "client" => Ok(Side::Client),
        "server" => Ok(Side::Server),
        _ => Err(format!("expected client or server, found {s:?}")),
    }
}

fn parse_dir(s: &str) -> Result<Dir, String> {
    match s {
        "c>s" => Ok(Dir::ClientToServer),
        "s>c" => Ok(Dir::ServerToClient),
        _ => Err(format!("expected c>s or s>c, found {s:?}")),
    }
}

fn number<T: std::str::FromStr>(s: Option<&str>, what: &str) -> Result<T, String> {
    let s = s.ok_or_else(|| format!("missing {what}"))?;
    s.parse()
        .map_err(|_| format!("{what} {s:?} is not a number"))
}

#[derive(Default)]
struct Parser {
    schedule: Option<String>,
    capacities: Option<Capacities>,
    client: Option<Script>,
    server: Option<Script>,
    entries: Vec<Entry>,
    secrets: Vec<crate::Secret>,
    version: u32,
    next_offset: [u64; 2],
}

impl Parser {
    fn parse(mut self, text: &str) -> Result<Transcript, ParseError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let err = |line, message: String| ParseError { line, message };

        let (n, first) = lines
            .next()
            .ok_or_else(|| err(1, "empty transcript".into()))?;
        match first.split_once(' ') {
            Some((MAGIC, v)) if READS.iter().any(|r| v.trim() == r.to_string()) => {
                self.version = v.trim().parse().unwrap_or(VERSION);
            }
            Some((MAGIC, v)) => {
                return Err(err(
                    n,
                    format!(
                        "transcript version {v} is not supported (this reader knows {READS:?})"
                    ),
                ))
            }
            _ => {
                return Err(err(
                    n,
                    format!("not a transcript: expected \"{MAGIC} {VERSION}\""),
                ))
            }
        }
        let mut ended = false;
        for (n, line) in lines {
            if ended {
                return Err(err(n, "content after \"end\"".into()));
            }
            if line == "end" {
                ended = true;
                continue;
            }
            self.line(line).map_err(|m| err(n, m))?;
        }
        let last = text.lines().count().max(1);
        if !ended {
            return Err(err(
                last,
                "missing \"end\": the transcript is cut off".into(),
            ));
        }
        let missing = |what: &str| err(last, format!("header has no {what} line"));
        Ok(Transcript {
            schedule: self.schedule.ok_or_else(|| missing("schedule"))?,
            capacities: self.capacities.ok_or_else(|| missing("capacities"))?,
            client: self.client.ok_or_else(|| missing("client script"))?,
            server: self.server.ok_or_else(|| missing("server script"))?,
            entries: self.entries,
            secrets: self.secrets,
        })
    }

    fn line(&mut self, line: &str) -> Result<(), String> {
        // A run line may end in a comment holding the error.
        let (body, note) = match line.split_once(" # ") {
            Some((body, note)) => (body, Some(note.to_string())),
            None => (line, None),
        };
        let mut words = body.split_ascii_whitespace();
        let keyword = words.next().unwrap_or_default();
        let entry = match keyword {
            "schedule" => {
                self.schedule = Some(words.next().ok_or("missing schedule name")?.to_string());
                None
            }
            "capacities" => {
                let mut cap = || number::<usize>(words.next(), "capacity");
                self.capacities = Some(Capacities {
                    client_rx: cap()?,
                    client_tx: cap()?,
                    server_rx: cap()?,
                    server_tx: cap()?,
                });
                None
            }
            "script" => {
                let side = parse_side(words.next().unwrap_or_default())?;
                let script = parse_script(side, words.by_ref())?;
                match side {
                    Side::Client => self.client = Some(script),
                    Side::Server => self.server = Some(script),
                }
                None
            }
            "secret" if self.version >= 2 => {
                let label = words.next().ok_or("missing secret label")?;
                if label.is_empty()
                    || !label
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
                {
                    return Err(format!("{label:?} is not a key log label"));
                }
                let client_random = unhex(words.next().ok_or("missing client random")?)?;
                if client_random.len() != 32 {
                    return Err(format!(
                        "a client random is 32 bytes, this one {}",
                        client_random.len()
                    ));
                }
                let secret = unhex(words.next().ok_or("missing secret")?)?;
                if secret.is_empty() || secret.len() > 64 {
                    return Err(format!("a secret of {} bytes", secret.len()));
                }
                self.secrets.push(crate::Secret {
                    label: label.to_string(),
                    client_random,
                    secret,
                });
                None
            }
            "run" => Some(Entry::Run {
                side: parse_side(words.next().unwrap_or_default())?,
                state: parse_state(words.next().unwrap_or_default())?,
                turn: parse_turn(words.next().unwrap_or_default())?,
                note,
            }),
            "c>s" | "s>c" => {
                let dir = parse_dir(keyword)?;
                let offset: u64 = number(words.next(), "offset")?;
                let bytes = unhex(words.next().ok_or("missing bytes")?)?;
                let next = &mut self.next_offset[dir as usize];
                if offset != *next {
                    return Err(format!(
                        "{dir} data starts at offset {offset}, but {next} bytes came before it"
                    ));
                }
                *next += bytes.len() as u64;
                Some(Entry::Data { dir, offset, bytes })
            }
            "corrupt" => {
                let dir = parse_dir(words.next().unwrap_or_default())?;
                let offset = number(words.next(), "offset")?;
                let xor = words.next().ok_or("missing xor byte")?;
                let xor = u8::from_str_radix(xor, 16).map_err(|_| format!("bad xor {xor:?}"))?;
                Some(Entry::Corrupt { dir, offset, xor })
            }
            "inject" => Some(Entry::Inject {
                dir: parse_dir(words.next().unwrap_or_default())?,
                bytes: unhex(words.next().ok_or("missing bytes")?)?,
            }),
            "cut" => Some(Entry::Cut {
                dir: parse_dir(words.next().unwrap_or_default())?,
            }),
            "lost" => {
                let dir = parse_dir(words.next().unwrap_or_default())?;
                let len: usize = number(words.next(), "length")?;
                self.next_offset[dir as usize] += len as u64;
                Some(Entry::Lost { dir, len })
            }
            "eof" => Some(Entry::Eof {
                dir: parse_dir(words.next().unwrap_or_default())?,
            }),
            other => return Err(format!("unknown line kind {other:?}")),
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected {extra:?} at end of line"));
        }
        if let Some(entry) = entry {
            if self.schedule.is_none()
                || self.capacities.is_none()
                || self.client.is_none()
                || self.server.is_none()
            {
                return Err("entry before the header is complete".into());
            }
            self.entries.push(entry);
        }
        Ok(())
    }
}

fn parse_script<'a>(side: Side, words: impl Iterator<Item = &'a str>) -> Result<Script, String> {
    let mut script = Script::sending(side, 0);
    for word in words {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, found {word:?}"))?;
        match key {
            "send" => {
                script.send = if let Some(len) = value.strip_prefix("payload:") {
                    let len: usize = number(Some(len), "payload length")?;
                    if len > MAX_SCRIPT_BYTES {
                        return Err(format!("payload of {len} bytes is over the 64 MiB limit"));
                    }
                    payload(side, len)
                } else if let Some(h) = value.strip_prefix("hex:") {
                    if h.len() / 2 > MAX_SCRIPT_BYTES {
                        return Err("hex script is over the 64 MiB limit".into());
                    }
                    unhex(h)?
                } else {
                    return Err(format!(
                        "send must be payload:N or hex:..., found {value:?}"
                    ));
                }
            }
            "close" => {
                script.close = match value {
                    "full" => Close::Full,
                    "half" => Close::HalfClose,
                    _ => return Err(format!("close must be full or half, found {value:?}")),
                }
            }
            "reads" => {
                script.reads = match value {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(format!("reads must be yes or no, found {value:?}")),
                }
            }
            "key_update" => {
                script.key_update = match value {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(format!("key_update must be yes or no, found {value:?}")),
                }
            }
            "early" => {
                let h = value
                    .strip_prefix("hex:")
                    .ok_or_else(|| format!("early must be hex:..., found {value:?}"))?;
                if h.len() / 2 > MAX_SCRIPT_BYTES {
                    return Err("early data is over the 64 MiB limit".into());
                }
                script.early = unhex(h)?;
            }
            _ => return Err(format!("unknown script key {key:?}")),
        }
    }
    Ok(script)
}
