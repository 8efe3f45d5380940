//! tlsbio engines, joined in memory.

use std::any::Any;
use std::cell::RefCell;

use tlsbio::bio::{Bio, BytesBio, RingBio, VecBio};
use tlsbio::{Engine, Error, Options, Want};

use crate::fixture::{server_name, Bench, Configs};
use crate::{bulk_chunk, fail, BenchError, BioKind, Scenario, Work, WRITE_SIZE};

/// BIO capacity on every side: four records.
const CAPACITY: usize = 4 * (16 * 1024 + 2048 + 5);

/// A BIO the harness can move ciphertext between.
trait Link: Bio + Sized {
    fn make() -> Self;

    /// Moves everything `from` holds that `to` takes; returns (bytes moved,
    /// bytes copied doing it).
    fn transfer(from: &mut Self, to: &mut Self) -> (u64, u64);
}

/// One copy, straight from one queue into the other.
fn copy_across(from: &mut impl Bio, to: &mut impl Bio) -> (u64, u64) {
    let n = from.read_in_place(|data| {
        let n = to.write(data);
        (n, n)
    }) as u64;
    (n, n)
}

impl Link for VecBio {
    fn make() -> Self {
        VecBio::with_limit(CAPACITY)
    }

    fn transfer(from: &mut Self, to: &mut Self) -> (u64, u64) {
        copy_across(from, to)
    }
}

impl Link for RingBio {
    fn make() -> Self {
        RingBio::with_capacity(CAPACITY)
    }

    fn transfer(from: &mut Self, to: &mut Self) -> (u64, u64) {
        copy_across(from, to)
    }
}

impl Link for BytesBio {
    fn make() -> Self {
        BytesBio::with_limit(CAPACITY)
    }

    /// Hands the chunks over, still writable: no copy.
    fn transfer(from: &mut Self, to: &mut Self) -> (u64, u64) {
        let mut moved = 0;
        while to.write_guarantee() >= from.pending() {
            let Some(chunk) = from.pop_bytes_mut() else {
                break;
            };
            moved += chunk.len() as u64;
            // It fits: the guarantee covered everything `from` held.
            let _ = to.push_bytes_mut(chunk);
        }
        (moved, 0)
    }
}

type Pair<B> = (Engine<B, B>, Engine<B, B>);

/// How a run gets its BIOs and what it does with them at the end.
struct Bios<B> {
    make: fn() -> B,
    done: fn(Engine<B, B>),
}

impl<B: Link> Bios<B> {
    /// Fresh BIOs, dropped with their engines.
    const FRESH: Self = Self {
        make: B::make,
        done: drop,
    };
}

thread_local! {
    /// The `vec+reuse` pool: buffers of finished connections.
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// `VecBio`s from the pool (a fresh one when it is empty), given back when
/// the connection ends.
const REUSED: Bios<VecBio> = Bios {
    make: || {
        let buf = POOL
            .with(|pool| pool.borrow_mut().pop())
            .unwrap_or_default();
        VecBio::with_buffer(buf, CAPACITY)
    },
    done: |engine| {
        let (rbio, wbio) = engine.into_bios();
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            pool.push(rbio.into_vec());
            pool.push(wbio.into_vec());
        });
    },
};

pub(crate) fn run(bench: &Bench, kind: BioKind, scenario: Scenario) -> Result<Work, BenchError> {
    let none = Options::default();
    match kind {
        BioKind::Vec => run_with(bench, scenario, none, Bios::<VecBio>::FRESH),
        BioKind::VecReleasing => run_with(bench, scenario, releasing(), Bios::<VecBio>::FRESH),
        BioKind::VecReused => run_with(bench, scenario, none, REUSED),
        BioKind::Ring => run_with(bench, scenario, none, Bios::<RingBio>::FRESH),
        BioKind::Bytes => run_with(bench, scenario, none, Bios::<BytesBio>::FRESH),
    }
}

/// `SSL_MODE_RELEASE_BUFFERS`: buffers go back whenever they are empty.
fn releasing() -> Options {
    Options::default().release_buffers(true)
}

pub(crate) fn idle(bench: &Bench, kind: BioKind) -> Result<Box<dyn Any>, BenchError> {
    let configs = bench.configs(Scenario::HandshakeTls13P256);
    let mut work = Work::default();
    // An idle server gives back what it does not need, as a driver
    // keeping many quiet connections should (`Engine::release_memory`).
    fn quiet<B: Link + 'static>(mut engine: Engine<B, B>) -> Box<dyn Any> {
        engine.release_memory();
        Box::new(engine)
    }
    let none = Options::default();
    Ok(match kind {
        BioKind::Vec => quiet(handshake(configs, &mut work, none, VecBio::make)?.1),
        // Gave its buffers back by itself: no `release_memory` call.
        BioKind::VecReleasing => {
            Box::new(handshake(configs, &mut work, releasing(), VecBio::make)?.1)
        }
        BioKind::VecReused => quiet(handshake(configs, &mut work, none, REUSED.make)?.1),
        BioKind::Ring => quiet(handshake(configs, &mut work, none, RingBio::make)?.1),
        BioKind::Bytes => quiet(handshake(configs, &mut work, none, BytesBio::make)?.1),
    })
}

fn run_with<B: Link>(
    bench: &Bench,
    scenario: Scenario,
    options: Options,
    bios: Bios<B>,
) -> Result<Work, BenchError> {
    let configs = bench.configs(scenario);
    let mut work = Work::default();
    let (mut client, mut server) = handshake(configs, &mut work, options, bios.make)?;
    work.resumed = server.is_resumed();
    match scenario {
        Scenario::BulkTls13 => {
            let chunk = bulk_chunk();
            let mut buf = vec![0u8; WRITE_SIZE];
            for _ in 0..bench.bulk_bytes / WRITE_SIZE {
                send(&mut client, &mut server, &chunk, &mut buf, &mut work)?;
                send(&mut server, &mut client, &chunk, &mut buf, &mut work)?;
            }
            work.units = bench.bulk_bytes as f64 / f64::from(1 << 20);
        }
        Scenario::ResumedTls13 => {
            // Take in the server's tickets, for the next run to resume.
            cross(&mut server, &mut client, &mut work);
            want_read(client.read(&mut [0u8; 1]))?;
            work.units = 1.0;
        }
        _ => work.units = 1.0,
    }
    add_bio_copies(&client, &server, &mut work);
    (bios.done)(client);
    (bios.done)(server);
    Ok(work)
}

/// A full (or resumed) handshake in lockstep.
fn handshake<B: Link>(
    configs: &Configs,
    work: &mut Work,
    options: Options,
    make: fn() -> B,
) -> Result<Pair<B>, BenchError> {
    let mut client = Engine::client(&configs.client_context, server_name(), make(), make())
        .map_err(fail)?
        .with_options(options);
    let mut server = Engine::server(&configs.server_context, make(), make()).with_options(options);
    for _ in 0..16 {
        let c = done(client.do_handshake())?;
        cross(&mut client, &mut server, work);
        let s = done(server.do_handshake())?;
        cross(&mut server, &mut client, work);
        if c && s {
            return Ok((client, server));
        }
    }
    Err(fail("the handshake did not finish in 16 rounds"))
}

/// Writes `data` on `from`, moves it, reads all of it on `to`.
fn send<B: Link>(
    from: &mut Engine<B, B>,
    to: &mut Engine<B, B>,
    data: &[u8],
    buf: &mut [u8],
    work: &mut Work,
) -> Result<(), BenchError> {
    let (mut sent, mut received) = (0, 0);
    while received < data.len() {
        if sent < data.len() {
            match from.write(&data[sent..]) {
                Ok(n) => sent += n,
                Err(Error::Want(Want::Write)) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        cross(from, to, work);
        loop {
            match to.read(buf) {
                Ok(n) => received += n,
                Err(Error::Want(Want::Read { .. })) => break,
                Err(e) => return Err(fail(e)),
            }
        }
    }
    Ok(())
}

/// Moves all of `from`'s output that `to`'s read BIO takes, through the
/// BIO's own transfer (zero-copy for `BytesBio`).
fn cross<B: Link>(from: &mut Engine<B, B>, to: &mut Engine<B, B>, work: &mut Work) {
    loop {
        let rbio = to.rbio_mut();
        let (moved, copied) = from.take_output(|wbio| B::transfer(wbio, rbio));
        work.ciphertext += moved;
        work.copied += copied;
        if from.pending_output() == 0 || moved == 0 {
            return;
        }
    }
}

/// Copies the BIOs and the engines made on their own: bytes moved to make
/// queues contiguous, chunks copied in, records staged, output copied from
/// the engine's scratch into the write BIO (all counted by tlsbio); and on
/// rustls 0.23 one copy of every ciphertext byte inside rustls, which its
/// unbuffered API encrypts into a fresh `Vec` and copies into the caller's
/// buffer (`CommonState::write_fragments`; rustls counts nothing, so this
/// one is the ciphertext total). rustls 0.24 writes into the `Vec` the
/// engine gives it, so there the engine's own counter is the whole story.
fn add_bio_copies<B: Link>(client: &Engine<B, B>, server: &Engine<B, B>, work: &mut Work) {
    if !cfg!(feature = "rustls-0-24") {
        work.copied += work.ciphertext;
    }
    for engine in [client, server] {
        for stats in [engine.rbio().stats(), engine.wbio().stats()] {
            work.copied += stats.bytes_moved + stats.bytes_copied;
        }
        let stats = engine.stats();
        work.copied += stats.input_staged + stats.output_staged + stats.output_copied;
    }
}

fn done(result: Result<(), Error>) -> Result<bool, BenchError> {
    match result {
        Ok(()) => Ok(true),
        Err(Error::Want(_)) => Ok(false),
        Err(e) => Err(fail(e)),
    }
}

fn want_read(result: Result<usize, Error>) -> Result<(), BenchError> {
    match result {
        Err(Error::Want(Want::Read { .. })) => Ok(()),
        other => Err(fail(format!("after the tickets: {other:?}"))),
    }
}
