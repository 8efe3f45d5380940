//! Making a failing schedule small: fewest actions, smallest moves,
//! smallest BIOs, so that the ladder of the failure fits on a screen.
//!
//! A seeded schedule that makes a test fail is a few hundred or thousand
//! actions. [`shrink`] replays exactly those actions as a
//! [`Schedule::scripted`] and then, as long as the test still fails,
//! drops actions (halves, quarters, ... single actions), shrinks each
//! move's size and each BIO's capacity, and repeats until nothing more can
//! go. The test is a function of the schedule, so anything the test
//! builds (configs, scripts, apps, faults) stays as it was.
//!
//! ```
//! use tlsbio_memory::{shrink, Action, Capacities, Schedule};
//!
//! // A stand-in for a real test: it "fails" while the schedule still has
//! // two moves in it.
//! let fails = |s: &Schedule| {
//!     let moves = s.script().unwrap().iter().filter(|a| matches!(a, Action::Move { .. }));
//!     moves.count() >= 2
//! };
//! let shrunk = shrink::shrink(&Schedule::seeded(5), 300, fails);
//! let script = shrunk.schedule.script().unwrap();
//! assert_eq!(script.len(), 2);
//! assert!(script.iter().all(|a| matches!(a, Action::Move { max: 1, .. })));
//! assert_eq!(shrunk.schedule.capacities(), Capacities::uniform(1));
//! ```

use crate::schedule::{Action, Capacities, Schedule};

/// The runs [`shrink`] may make, so that shrinking always ends.
pub const MAX_RUNS: usize = 20_000;

/// A shrunk failing schedule.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest schedule found that still fails (scripted).
    pub schedule: Schedule,
    /// How many actions the schedule it started from had.
    pub from_actions: usize,
    /// How many times the test was run.
    pub runs: usize,
    /// Whether the starting point failed at all (if not, `schedule` is it,
    /// unshrunk).
    pub reproduced: bool,
}

/// Shrinks the first `actions` actions of `schedule` (how many a failing
/// run took: [`Report::actions`](crate::Report::actions)) while `fails`
/// still says the test fails with the schedule it is given.
pub fn shrink(
    schedule: &Schedule,
    actions: usize,
    mut fails: impl FnMut(&Schedule) -> bool,
) -> Shrunk {
    let mut runs = 0;
    // Past the budget every candidate "passes", so nothing more changes
    // and the loop below ends.
    let mut test = |list: &[Action], caps: Capacities| {
        if runs >= MAX_RUNS {
            return false;
        }
        runs += 1;
        fails(&Schedule::scripted(list.to_vec(), caps))
    };
    let mut list = schedule.first_actions(actions);
    let mut caps = schedule.capacities();
    let from_actions = list.len();
    if !test(&list, caps) {
        return Shrunk {
            schedule: Schedule::scripted(list, caps),
            from_actions,
            runs: 1,
            reproduced: false,
        };
    }
    loop {
        let before = (list.clone(), caps);
        drop_actions(&mut list, caps, &mut test);
        smaller_moves(&mut list, caps, &mut test);
        smaller_capacities(&list, &mut caps, &mut test);
        if (list.clone(), caps) == before {
            break;
        }
    }
    Shrunk {
        schedule: Schedule::scripted(list, caps),
        from_actions,
        runs,
        reproduced: true,
    }
}

/// Delta debugging over the action list: remove chunks of halving size
/// while the test still fails.
fn drop_actions(
    list: &mut Vec<Action>,
    caps: Capacities,
    test: &mut impl FnMut(&[Action], Capacities) -> bool,
) {
    let mut chunk = list.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        while start < list.len() {
            let end = (start + chunk).min(list.len());
            let candidate: Vec<Action> =
                list[..start].iter().chain(&list[end..]).copied().collect();
            if test(&candidate, caps) {
                *list = candidate;
            } else {
                start = end;
            }
        }
        if chunk == 1 {
            return;
        }
        chunk = chunk.div_ceil(2);
    }
}

/// Each move as small as still fails: one byte, else halving.
fn smaller_moves(
    list: &mut [Action],
    caps: Capacities,
    test: &mut impl FnMut(&[Action], Capacities) -> bool,
) {
    for i in 0..list.len() {
        let Action::Move { dir, max } = list[i] else {
            continue;
        };
        let mut fails_with = |size: usize, list: &mut [Action]| {
            list[i] = Action::Move { dir, max: size };
            let ok = test(list, caps);
            list[i] = Action::Move { dir, max };
            ok
        };
        let mut best = max;
        if max > 1 && fails_with(1, list) {
            best = 1;
        } else {
            // A move of "everything" first becomes 64 KiB, then halves.
            let mut size = max.min(1 << 16) / 2;
            while size >= 1 && size < best && fails_with(size, list) {
                best = size;
                size /= 2;
            }
        }
        list[i] = Action::Move { dir, max: best };
    }
}

/// Each BIO as small as still fails: one byte, else halving.
fn smaller_capacities(
    list: &[Action],
    caps: &mut Capacities,
    test: &mut impl FnMut(&[Action], Capacities) -> bool,
) {
    for field in 0..4 {
        let get = |c: &Capacities| [c.client_rx, c.client_tx, c.server_rx, c.server_tx][field];
        let set = |c: &mut Capacities, v: usize| match field {
            0 => c.client_rx = v,
            1 => c.client_tx = v,
            2 => c.server_rx = v,
            _ => c.server_tx = v,
        };
        let mut candidate = *caps;
        set(&mut candidate, 1);
        if get(caps) > 1 && test(list, candidate) {
            *caps = candidate;
            continue;
        }
        loop {
            let now = get(caps);
            if now <= 1 {
                break;
            }
            let mut candidate = *caps;
            set(&mut candidate, now / 2);
            if test(list, candidate) {
                *caps = candidate;
            } else {
                break;
            }
        }
    }
}
