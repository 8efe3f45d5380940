//! Shrinking a failing seeded schedule, tested on a bug injected on
//! purpose into the code under test (never into the engine): a server
//! that assumes every read holds whole lines. Small write BIOs on the
//! client make the engine split the client's one write into several
//! records, which the server then reads line by broken line; shrinking
//! finds a schedule of a handful of actions and tiny BIOs that still
//! shows it, and prints how to rerun it.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use support::*;
use tlsbio_memory::{ladder, shrink, App, Harness, Schedule};

/// Sends three lines in one write.
struct Lines {
    sent: bool,
}

impl App for Lines {
    fn received(&mut self, _: &[u8]) {}
    fn send(&mut self) -> Vec<u8> {
        if std::mem::replace(&mut self.sent, true) {
            Vec::new()
        } else {
            b"one\ntwo\nthree\n".to_vec()
        }
    }
    fn finished(&self) -> bool {
        self.sent
    }
}

/// The injected bug: a read is assumed to end at the end of a line.
struct AssumesWholeLines {
    torn: Arc<AtomicBool>,
    lines: usize,
}

impl App for AssumesWholeLines {
    fn received(&mut self, data: &[u8]) {
        if !data.ends_with(b"\n") {
            self.torn.store(true, Ordering::SeqCst);
        }
        self.lines += data.iter().filter(|&&b| b == b'\n').count();
    }
    fn send(&mut self) -> Vec<u8> {
        Vec::new()
    }
    fn finished(&self) -> bool {
        self.lines >= 3 || self.torn.load(Ordering::SeqCst)
    }
}

/// Runs the pair on `schedule`: whether the bug showed, and the ladder.
fn run(schedule: &Schedule) -> (bool, String) {
    let (client, server) = endpoints(21, TLS13);
    let torn = Arc::new(AtomicBool::new(false));
    let mut pair = Harness::builder(client, server)
        .schedule(schedule.clone())
        .client_app(Lines { sent: false })
        .server_app(AssumesWholeLines {
            torn: torn.clone(),
            lines: 0,
        })
        .build()
        .unwrap();
    pair.run();
    (torn.load(Ordering::SeqCst), ladder(pair.transcript()))
}

fn actions(schedule: &Schedule) -> usize {
    let (client, server) = endpoints(21, TLS13);
    let mut pair = Harness::builder(client, server)
        .schedule(schedule.clone())
        .client_app(Lines { sent: false })
        .server_app(AssumesWholeLines {
            torn: Arc::new(AtomicBool::new(false)),
            lines: 0,
        })
        .build()
        .unwrap();
    pair.run().actions as usize
}

#[test]
fn a_failing_seed_shrinks_to_a_small_schedule_that_still_fails() {
    let seed = (0..500)
        .find(|&s| run(&Schedule::seeded(s)).0)
        .expect("some seeded schedule splits the client's write");
    let failing = Schedule::seeded(seed);
    let taken = actions(&failing);
    let shrunk = shrink::shrink(&failing, taken, |s| run(s).0);
    assert!(
        shrunk.reproduced,
        "the scripted replay of seed {seed} did not fail"
    );

    let script = shrunk.schedule.script().unwrap();
    let (still_fails, drawn) = run(&shrunk.schedule);
    assert!(still_fails, "the shrunk schedule no longer fails:\n{drawn}");
    assert!(
        script.len() < taken && script.len() <= 12,
        "seed {seed}: {} actions shrank only to {}",
        taken,
        script.len()
    );
    let caps = shrunk.schedule.capacities();
    assert!(
        caps.client_tx < 64 && caps.client_rx == 1 && caps.server_tx == 1,
        "the BIOs that do not matter go to one byte, the one that does stays small: {caps:?}"
    );
    // Shrinking is deterministic: the same failure, the same minimum.
    let again = shrink::shrink(&failing, taken, |s| run(s).0);
    assert_eq!(again.schedule.to_text(), shrunk.schedule.to_text());

    // What a failing test prints: the file, and how to rerun it.
    let text = shrunk.schedule.to_text().unwrap();
    let file = std::env::temp_dir().join(format!("tlsbio-shrunk-{}.schedule", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let reread = Schedule::from_text(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(run(&reread).0, "the saved schedule reproduces the failure");
    eprintln!(
        "seed {seed} ({taken} actions) shrank to {} actions in {} runs; rerun with \
         Schedule::from_text(&std::fs::read_to_string({:?})?)\n{text}\n{drawn}",
        script.len(),
        shrunk.runs,
        file
    );
}

#[test]
fn schedule_files_round_trip_and_bad_ones_name_the_line() {
    let s = Schedule::scripted(
        Schedule::seeded(4).first_actions(30),
        Schedule::seeded(4).capacities(),
    );
    let text = s.to_text().unwrap();
    let back = Schedule::from_text(&text).unwrap();
    assert_eq!(back.script(), s.script());
    assert_eq!(back.capacities(), s.capacities());
    assert!(
        Schedule::seeded(4).to_text().is_none(),
        "a seeded schedule is its name"
    );
    for (bad, why) in [
        (
            text.replacen("tlsbio-schedule 1", "tlsbio-schedule 7", 1),
            "line 1",
        ),
        (text.replacen("\nend\n", "\n", 1), "cut off"),
        (
            text.replacen("run client", "run nobody", 1),
            "not a schedule line",
        ),
        (
            text.replacen("capacities ", "capacities 0 ", 1),
            "not a schedule line",
        ),
        (text.replacen("move c>s", "move up", 1), "is not c>s or s>c"),
    ] {
        let e = Schedule::from_text(&bad).unwrap_err();
        assert!(e.contains(why), "{why}: {e}");
    }
    let e = Schedule::from_text("tlsbio-schedule 1\ncapacities 1 2 3 x\nend\n").unwrap_err();
    assert!(
        e.starts_with("line 2:") && e.contains("positive number"),
        "{e}"
    );
}
