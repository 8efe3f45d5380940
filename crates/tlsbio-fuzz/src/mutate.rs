//! `mutated_transcript`: a recorded conversation, mutated at the record
//! and byte level, replayed into a fresh engine.

use tlsbio::bio::VecBio;

use crate::fixture::{self, Version};
use crate::flight::{absorb, Arrival};

/// The most mutations one input applies.
const MAX_MUTATIONS: usize = 64;

/// Structure-aware mutation of a valid conversation.
///
/// The input is [`server_flight`](crate::server_flight)'s 3-byte header
/// (with byte 0 bit 2 picking the direction:
/// set, the server's stream into a client; clear, the client's stream into
/// a server), then mutations, each an opcode byte and its operand bytes
/// (missing bytes read as zero):
///
/// | op % 12 | operands | effect |
/// |---|---|---|
/// | 0 | rec, type | set a record's content type |
/// | 1 | rec, hi, lo | set a record's version field |
/// | 2 | rec, hi, lo | set a record's length field (body unchanged) |
/// | 3 | rec, keep | cut a record to `keep` bytes (header included) |
/// | 4 | rec | duplicate a record |
/// | 5 | rec | drop a record |
/// | 6 | a, b | swap two records |
/// | 7 | rec, src | insert the other direction's record `src` before `rec` |
/// | 8 | rec, at | split a record's body in two records |
/// | 9 | hi, lo, xor | XOR one byte of the stream |
/// | 10 | hi, lo, n, bytes | insert `n % 16` bytes into the stream |
/// | 11 | hi, lo | cut the stream |
///
/// Record indices wrap around the record count; stream offsets wrap around
/// the stream length. The engine's side is built from the same seed as the
/// recording, so the unmutated prefix is valid byte for byte and the
/// mutation is met deep in the handshake (or in application data).
/// Properties: as [`server_flight`](crate::server_flight).
pub fn mutated_transcript(data: &[u8]) {
    let (arrival, ops) = Arrival::parse(data);
    // Bit 2 is the direction here, and bit 3 is unused: no paused or
    // retrying server. Bits 4-7 pick the certificates and a resumed
    // conversation, as in `server_flight`.
    let into_client = data.first().is_some_and(|b| b & 4 != 0);
    let arrival = Arrival {
        paused: false,
        retry: false,
        ..arrival
    };
    fixture::variant(arrival.version, arrival.identity, |v| {
        let [c2s, s2c] = if arrival.resume {
            &v.resumed
        } else {
            &v.streams
        };
        let (stream, other) = if into_client { (s2c, c2s) } else { (c2s, s2c) };
        let mutated = mutate(stream, other, ops);
        let mut engine = v.engine(!into_client, arrival.resume, arrival.rbio(), VecBio::new());
        absorb(&mut engine, &mutated, arrival);
    });
}

/// The header of a `mutated_transcript` input.
pub(crate) fn header(version: Version, into_client: bool, chunk: u8, capacity: u8) -> [u8; 3] {
    let mut h = Arrival::header(version, false, chunk, capacity);
    h[0] |= u8::from(into_client) << 2;
    h
}

/// Applies the mutations `ops` encodes to `stream`.
fn mutate(stream: &[u8], other: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut records = split(stream);
    let donors = split(other);
    let mut ops = Operands(ops);
    let mut bytes: Option<Vec<u8>> = None;
    for _ in 0..MAX_MUTATIONS {
        let Some(op) = ops.next() else { break };
        // Record-level operations work on the record list; once a
        // byte-level one has run, the stream is bytes from then on.
        if let (Some(stream), 9..) = (&mut bytes, op % 12) {
            mutate_bytes(stream, op % 12, &mut ops);
            continue;
        }
        if op % 12 >= 9 {
            let stream = bytes.insert(records.concat());
            mutate_bytes(stream, op % 12, &mut ops);
            continue;
        }
        if bytes.is_some() {
            // A record operation after a byte one: re-split the bytes.
            records = split(&bytes.take().unwrap_or_default());
        }
        mutate_records(&mut records, &donors, op % 12, &mut ops);
    }
    bytes.unwrap_or_else(|| records.concat())
}

fn mutate_records(records: &mut Vec<Vec<u8>>, donors: &[Vec<u8>], op: u8, ops: &mut Operands<'_>) {
    let count = records.len();
    if count == 0 {
        return;
    }
    let rec = usize::from(ops.byte()) % count;
    match op {
        0 => set(&mut records[rec], 0, &[ops.byte()]),
        1 => set(&mut records[rec], 1, &[ops.byte(), ops.byte()]),
        2 => set(&mut records[rec], 3, &[ops.byte(), ops.byte()]),
        3 => {
            let keep = usize::from(ops.byte());
            records[rec].truncate(keep);
        }
        4 => records.insert(rec, records[rec].clone()),
        5 => {
            records.remove(rec);
        }
        6 => records.swap(rec, usize::from(ops.byte()) % count),
        7 => {
            let src = usize::from(ops.byte());
            if !donors.is_empty() {
                records.insert(rec, donors[src % donors.len()].clone());
            }
        }
        _ => {
            let at = usize::from(ops.byte());
            let record = &records[rec];
            if record.len() > 5 {
                let body = &record[5..];
                let at = at % body.len();
                let (a, b) = (
                    with_body(record, &body[..at]),
                    with_body(record, &body[at..]),
                );
                records.splice(rec..=rec, [a, b]);
            }
        }
    }
}

fn mutate_bytes(stream: &mut Vec<u8>, op: u8, ops: &mut Operands<'_>) {
    let offset = usize::from(u16::from_be_bytes([ops.byte(), ops.byte()]));
    match op {
        9 => {
            let xor = ops.byte();
            let at = offset.checked_rem(stream.len()).unwrap_or(0);
            if let Some(b) = stream.get_mut(at) {
                *b ^= xor;
            }
        }
        10 => {
            let n = usize::from(ops.byte() % 16);
            let insert: Vec<u8> = (0..n).map(|_| ops.byte()).collect();
            let at = offset % (stream.len() + 1);
            stream.splice(at..at, insert);
        }
        _ => stream.truncate(offset % (stream.len() + 1)),
    }
}

/// Overwrites `record[at..]` with `bytes`, as far as the record reaches.
fn set(record: &mut [u8], at: usize, bytes: &[u8]) {
    for (slot, b) in record.iter_mut().skip(at).zip(bytes) {
        *slot = *b;
    }
}

/// A record with `record`'s type and version and the given body.
fn with_body(record: &[u8], body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes();
    let mut out = Vec::with_capacity(5 + body.len());
    out.extend_from_slice(&record[..3]);
    out.extend_from_slice(&len);
    out.extend_from_slice(body);
    out
}

/// Cuts a stream into records (header and body); a tail that is not a
/// whole record is the last element.
fn split(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let len = match rest {
            [_, _, _, hi, lo, ..] => 5 + usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => rest.len(),
        };
        let (record, tail) = rest.split_at(len.min(rest.len()));
        records.push(record.to_vec());
        rest = tail;
    }
    records
}

/// The mutation bytes, read one at a time; missing bytes read as zero.
struct Operands<'a>(&'a [u8]);

impl Operands<'_> {
    fn next(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn byte(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_concat_round_trip() {
        let [c2s, s2c] = fixture::with(Version::Tls13, |f| f.streams.clone());
        for stream in [&c2s, &s2c] {
            let records = split(stream);
            assert!(records.len() >= 3);
            assert_eq!(&records.concat(), stream);
            assert_eq!(mutate(stream, &[], &[]), *stream, "no ops, no change");
        }
        assert_eq!(split(&[22, 3, 1, 0, 9, 1]), vec![vec![22, 3, 1, 0, 9, 1]]);
    }

    #[test]
    fn each_operation_changes_the_stream_as_documented() {
        // Two records: a 2-byte body, an empty one.
        let stream: &[u8] = &[22, 3, 3, 0, 2, 1, 2, 23, 3, 3, 0, 0];
        let other = [21u8, 3, 3, 0, 2, 2, 40];
        let m = |ops: &[u8]| mutate(stream, &other, ops);
        assert_eq!(m(&[0, 0, 21])[0], 21);
        assert_eq!(m(&[2, 0, 0, 1])[..7], [22, 3, 3, 0, 1, 1, 2]);
        assert_eq!(m(&[4, 1]).len(), 17);
        assert_eq!(m(&[5, 0]), stream[7..]);
        assert_eq!(m(&[7, 0, 0])[..7], other);
        assert_eq!(m(&[8, 0, 1])[..12], [22, 3, 3, 0, 1, 1, 22, 3, 3, 0, 1, 2]);
        assert_eq!(m(&[9, 0, 1, 0xff])[1], 3 ^ 0xff);
        assert_eq!(m(&[10, 0, 0, 2, 7, 8])[..3], [7, 8, 22]);
        assert_eq!(m(&[11, 0, 4]), stream[..4]);
        // A record op after a byte op sees the re-split stream.
        assert_eq!(m(&[9, 0, 0, 1, 5, 0]), stream[7..]);
    }
}
