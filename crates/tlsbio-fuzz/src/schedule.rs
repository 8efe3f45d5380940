//! `schedule`: a real client/server pair through the in-memory driver,
//! under a schedule, scripts and a fault the fuzzer picks.

use arbitrary::{Arbitrary, Unstructured};
use tlsbio_memory::{
    Action, Capacities, Close, Dir, End, Fault, Harness, Report, Schedule, Script, Side,
};

use crate::fixture::{self, Version};

/// The most application bytes a side sends: enough to fill small BIOs
/// many times over and to span records; more only slows the fuzzer (the
/// first campaign, at 8 KiB, ran about 100 inputs a second).
const MAX_SEND: usize = 2 * 1024;

/// The most actions the fuzzer dictates before the seeded schedule takes
/// over.
const MAX_DICTATED: usize = 512;

/// The action limit. A run of [`MAX_SEND`] bytes each way over one-byte
/// BIOs needs about a tenth of this; reaching it means something spun.
const MAX_ACTIONS: u64 = 2_000_000;

#[derive(Arbitrary, Debug)]
struct Plan {
    tls12: bool,
    /// Seeds the schedule that runs after the dictated actions.
    seed: u64,
    /// Each BIO's capacity, minus one.
    capacities: [u16; 4],
    client: App,
    server: App,
    fault: Option<FaultPlan>,
    /// Actions taken first, in order.
    dictated: Vec<Step>,
}

#[derive(Arbitrary, Debug)]
struct App {
    send: u16,
    half_close: bool,
    never_reads: bool,
}

#[derive(Arbitrary, Debug)]
enum FaultPlan {
    Cut { c2s: bool, at: u16 },
    Corrupt { c2s: bool, at: u16, xor: u8 },
    Inject { c2s: bool, at: u16, bytes: Vec<u8> },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Step {
    Run { client: bool },
    Move { c2s: bool, max: u16 },
}

/// An arbitrary schedule (BIO capacities, which side runs, how many bytes
/// cross per move), scripts (how much each side sends, half-close, a side
/// that never reads) and at most one link fault, run to the end.
///
/// The pair runs under the harness's strict driver (a side is called only
/// when its want is met), with exact-minimum delivery when the seed's low
/// bit is set.
///
/// Properties: the run ends (finished, or a reported stall; never the
/// action limit); no want-read ever asks for more than its read BIO can
/// take; without a fault no side fails, and if both sides read, the
/// handshake completes and both close with the data byte-identical (so a
/// lost wake-up, which stalls a strict pair, is a failure); with a fault,
/// a side that closed cleanly got exactly what its peer sent (truncation
/// and corruption are never a clean close) and every error is fatal.
pub fn schedule(data: &[u8]) {
    let Ok(plan) = Plan::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let version = Version::from_bit(plan.tls12);
    let (client, server) = fixture::with(version, |f| f.endpoints());
    let [client_rx, client_tx, server_rx, server_tx] = plan.capacities.map(|c| usize::from(c) + 1);
    let mut builder = Harness::builder(client, server)
        .schedule(Schedule::seeded(plan.seed).with_capacities(Capacities {
            client_rx,
            client_tx,
            server_rx,
            server_tx,
        }))
        .client_script(plan.client.script(Side::Client))
        .server_script(plan.server.script(Side::Server))
        .max_actions(MAX_ACTIONS)
        .strict();
    if plan.seed & 1 == 1 {
        builder = builder.deliver_exact_minimum();
    }
    let faulty = plan.fault.is_some();
    if let Some(fault) = plan.fault {
        builder = builder.fault(fault.into_fault());
    }
    let mut pair = builder.build().expect("the fixture's configs are valid");
    for step in plan.dictated.iter().take(MAX_DICTATED) {
        pair.apply(step.action());
    }
    let mut report = pair.run();
    let a_side_never_reads = plan.client.never_reads || plan.server.never_reads;
    if faulty && !a_side_never_reads && report.end == End::Stalled {
        // A fault that leaves both waiting (a length grew) ends with the
        // peer's timeout: cut the link; then both sides must end.
        pair.cut_now();
        report = pair.run();
        assert_eq!(
            report.end,
            End::Finished,
            "after a fault and a timeout a side still did not end\n{report}"
        );
    }
    check(&report, faulty, a_side_never_reads);
}

fn check(r: &Report, faulty: bool, a_side_never_reads: bool) {
    assert_ne!(r.end, End::LimitReached, "the run spun\n{r}");
    assert_eq!(r.violation, None, "the want-read contract broke\n{r}");
    for (me, peer_sent) in [(&r.client, &r.server_sent), (&r.server, &r.client_sent)] {
        if me.closed {
            assert_eq!(
                &me.received, peer_sent,
                "{}: clean close with other data than was sent\n{r}",
                me.side
            );
        }
        assert!(
            peer_sent.starts_with(&me.received),
            "{}: received bytes that were never sent\n{r}",
            me.side
        );
        if let Some(e) = &me.error {
            assert!(e.is_fatal(), "{}: non-fatal error {e}\n{r}", me.side);
            assert!(faulty, "{}: failed without a fault: {e}\n{r}", me.side);
        }
    }
    if !faulty && !a_side_never_reads {
        assert!(r.is_clean(), "a fault-free run did not complete\n{r}");
    }
}

impl App {
    fn script(&self, side: Side) -> Script {
        let mut script = Script::sending(side, usize::from(self.send) % (MAX_SEND + 1));
        if self.half_close {
            script = script.close(Close::HalfClose);
        }
        if self.never_reads {
            script = script.never_reads();
        }
        script
    }
}

fn dir(c2s: bool) -> Dir {
    if c2s {
        Dir::ClientToServer
    } else {
        Dir::ServerToClient
    }
}

impl FaultPlan {
    fn into_fault(self) -> Fault {
        match self {
            Self::Cut { c2s, at } => Fault::Cut {
                dir: dir(c2s),
                at: at.into(),
            },
            Self::Corrupt { c2s, at, xor } => Fault::Corrupt {
                dir: dir(c2s),
                at: at.into(),
                xor: xor.max(1),
            },
            Self::Inject { c2s, at, mut bytes } => {
                bytes.truncate(64);
                if bytes.is_empty() {
                    bytes.push(0);
                }
                Fault::Inject {
                    dir: dir(c2s),
                    at: at.into(),
                    bytes,
                }
            }
        }
    }
}

impl Step {
    fn action(self) -> Action {
        match self {
            Self::Run { client: true } => Action::Run(Side::Client),
            Self::Run { client: false } => Action::Run(Side::Server),
            Self::Move { c2s, max } => Action::Move {
                dir: dir(c2s),
                max: usize::from(max) + 1,
            },
        }
    }
}
