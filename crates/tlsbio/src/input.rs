//! The input: the read BIO, the engine's bounded staging, and what the
//! size hints know about record boundaries.
//!
//! The session is always shown one contiguous buffer that it decrypts in
//! place, and that changes between calls only by bytes discarded from the
//! front (what the session said it is done with) and bytes appended at the
//! back. Both rustls APIs need exactly that: 0.23's unbuffered deframer
//! and 0.24's `TlsInputBuffer` keep offsets into the buffer while a
//! handshake message spans records.
//!
//! Normally that buffer is the read BIO itself. When the read BIO is full
//! and the session still cannot progress (a record, or a message spanning
//! records, bigger than the BIO), its bytes move into the staging here,
//! and the buffer is the staging from then on, fed from the read BIO just
//! enough to complete each record, until the session has discarded it all.

use crate::bio::Bio;
use crate::error::Limit;
use crate::record::{self, Scanner, HEADER_LEN, MAX_WIRE_RECORD};

/// The most input the engine will stage: the largest handshake message
/// rustls accepts (2^16 bytes) spread over records, plus one record.
pub(crate) const MAX_STAGED_INPUT: usize = 65_536 + 4 * HEADER_LEN + MAX_WIRE_RECORD;

/// What [`Input::need_more`] found.
#[derive(Debug)]
pub(crate) enum Need {
    /// The engine moved bytes itself; step again before asking.
    Found,
    /// The driver must supply this many bytes (never more than the read
    /// BIO can take now).
    Read(usize),
    /// The transport ended; this many bytes of a partial record are left.
    Eof { partial: usize },
    /// Staging would pass its bound.
    Overflow(Limit),
}

pub(crate) struct Input<R> {
    pub(crate) rbio: R,
    staged: Vec<u8>,
    scan: Scanner,
    /// The last step read from the staging, so bytes in the read BIO may
    /// not have been offered to the session yet.
    stepped_on_staging: bool,
    /// Where the first incomplete record was when the last want-read was
    /// returned: every complete record before it was offered to the
    /// session. `None` once input was discarded since (the front is then
    /// unseen).
    want_mark: Option<usize>,
    /// Bytes copied into the staging.
    pub(crate) staged_total: u64,
}

impl<R> Input<R> {
    /// Bytes the engine holds itself, beyond the read BIO.
    pub(crate) fn staged(&self) -> usize {
        self.staged.len()
    }
}

impl<R: Bio> Input<R> {
    pub(crate) fn new(rbio: R) -> Self {
        Self {
            rbio,
            staged: Vec::new(),
            scan: Scanner::default(),
            stepped_on_staging: false,
            want_mark: None,
            staged_total: 0,
        }
    }

    /// Shows the session its input; `f` returns how many bytes at the front
    /// it is done with, which are removed.
    pub(crate) fn with<T>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, T)) -> T {
        let Self {
            rbio, staged, scan, ..
        } = self;
        self.stepped_on_staging = !staged.is_empty();
        let (discard, value) = if staged.is_empty() {
            rbio.read_in_place(|input| {
                scan.scan(input);
                let (discard, value) = f(input);
                let discard = discard.min(input.len());
                scan.discard(discard);
                (discard, (discard, value))
            })
        } else {
            scan.scan(staged);
            let (discard, value) = f(staged);
            let discard = discard.min(staged.len());
            staged.drain(..discard);
            scan.discard(discard);
            (discard, value)
        };
        if discard > 0 {
            self.want_mark = None;
        }
        value
    }

    /// The session needs more input: find it in the read BIO, or say what
    /// the driver must supply.
    pub(crate) fn need_more(&mut self) -> Need {
        let available = self.rbio.pending();
        if !self.staged.is_empty() {
            if available > 0 {
                self.scan.scan(&self.staged);
                let take = self.scan.needed(&self.staged).min(available);
                return self.stage(take);
            }
        } else if available > 0 && self.stepped_on_staging {
            // The step finished staged input; what the read BIO holds
            // behind it has not been offered yet. Offer it before asking
            // for more (or calling a complete record a truncated stream).
            return Need::Found;
        } else if available > 0 && self.rbio.write_guarantee() == 0 {
            // The read BIO is full and still not enough: it cannot hold
            // the record (or message) whole. Take its bytes so the driver
            // can supply the rest.
            return self.stage(available);
        }
        if self.rbio.is_shutdown_wr() {
            return Need::Eof {
                partial: self.partial(),
            };
        }
        let needed = self.bytes_to_complete_record();
        self.want_mark = Some(self.scan.cursor());
        Need::Read(needed.min(self.rbio.write_guarantee()).max(1))
    }

    /// Our output is stuck: take the peer's bytes into staging (up to the
    /// bound) so that a peer stuck on its own output to us can go on.
    pub(crate) fn absorb(&mut self) -> Result<(), Limit> {
        let room = MAX_STAGED_INPUT.saturating_sub(self.staged.len());
        let take = self.rbio.pending().min(room);
        if take > 0 {
            if let Need::Overflow(limit) = self.stage(take) {
                return Err(limit);
            }
        }
        Ok(())
    }

    fn stage(&mut self, n: usize) -> Need {
        if self.staged.len() + n > MAX_STAGED_INPUT {
            return Need::Overflow(Limit::StagedInput {
                limit: MAX_STAGED_INPUT,
            });
        }
        let start = self.staged.len();
        self.staged.resize(start + n, 0);
        let got = self.rbio.read(&mut self.staged[start..]);
        self.staged.truncate(start + got);
        self.staged_total += got as u64;
        Need::Found
    }

    /// `BIO_ctrl_get_read_request`: the rest of the current record, capped
    /// at what the read BIO can take now.
    pub(crate) fn read_request(&mut self) -> usize {
        let needed = self.bytes_to_complete_record();
        needed.min(self.rbio.write_guarantee()).max(1)
    }

    fn bytes_to_complete_record(&mut self) -> usize {
        if self.staged.is_empty() {
            let scan = &mut self.scan;
            self.rbio.read_in_place(|input| {
                scan.scan(input);
                (0, scan.needed(input))
            })
        } else {
            self.scan.scan(&self.staged);
            self.scan
                .needed(&self.staged)
                .saturating_sub(self.rbio.pending())
        }
    }

    /// Bytes left unprocessed when the stream ended: what the read BIO
    /// holds, or the incomplete record at the end of the staging.
    pub(crate) fn partial(&mut self) -> usize {
        if self.staged.is_empty() {
            self.rbio.pending()
        } else {
            self.scan.scan(&self.staged);
            self.scan.partial(&self.staged)
        }
    }

    /// What the front of the input is if it is not the start of a TLS
    /// record (see [`record::not_tls`]). Looks at a few bytes, takes none.
    pub(crate) fn not_tls(&mut self) -> Option<crate::NotTls> {
        let staged = &self.staged;
        self.rbio.read_in_place(|bytes| {
            let mut front = [0u8; 16];
            let have = (staged.len() + bytes.len()).min(front.len());
            for (i, byte) in front[..have].iter_mut().enumerate() {
                *byte = if i < staged.len() {
                    staged[i]
                } else {
                    bytes[i - staged.len()]
                };
            }
            (0, record::not_tls(&front[..have]))
        })
    }

    /// Whether a complete record is waiting that the session has not been
    /// offered, or a full read BIO that the next call will stage.
    pub(crate) fn has_unseen_record(&mut self) -> bool {
        if self.rbio.write_guarantee() == 0 && self.rbio.pending() > 0 {
            return true;
        }
        let start = self.want_mark.unwrap_or(0);
        let staged = &self.staged;
        self.rbio.read_in_place(|bytes| {
            let complete = if start <= staged.len() {
                record::front_record_complete(&staged[start..], bytes)
            } else {
                let rest = bytes.get(start - staged.len()..).unwrap_or(&[]);
                record::front_record_complete(&[], rest)
            };
            (0, complete)
        })
    }

    /// The peer's close_notify was processed: anything after it is ignored
    /// (RFC 8446 section 6.1).
    pub(crate) fn discard_all(&mut self) {
        self.staged.clear();
        let pending = self.rbio.pending();
        self.rbio.read_in_place(|_| (pending, ()));
        self.scan.reset();
        self.want_mark = None;
    }

    pub(crate) fn release_memory(&mut self) {
        if self.staged.is_empty() {
            self.staged = Vec::new();
        }
        self.rbio.release_memory();
    }
}
