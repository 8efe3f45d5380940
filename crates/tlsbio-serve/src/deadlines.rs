//! Deadlines on the caller's clock, earliest first, and the quiet check
//! that releases buffers and ends idle connections.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::{Expiry, Limits};

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The handshake must be done by now.
    Handshake,
    /// Look whether the connection moved bytes since the last look.
    Quiet,
    /// A closing connection's time to send its close_notify is up.
    Linger,
}

/// Deadlines for connections named by `K`, earliest first.
///
/// Entries are never removed when they stop applying (the handshake
/// finished, the connection left, its key was reused): the server says
/// which still apply when they surface ([`next`](Self::next)), so a
/// deadline costs one push and one pop.
#[derive(Debug)]
pub struct Deadlines<K> {
    heap: BinaryHeap<Reverse<(Instant, K, Timer)>>,
}

impl<K: Ord + Copy> Default for Deadlines<K> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord + Copy> Deadlines<K> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a deadline.
    pub fn push(&mut self, at: Instant, key: K, timer: Timer) {
        self.heap.push(Reverse((at, key, timer)));
    }

    /// Removes and returns the earliest deadline at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, K, Timer)> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// The earliest deadline that `live` says still applies; the ones
    /// before it that do not are dropped (so that they cause no early
    /// wake-ups).
    pub fn next(&mut self, mut live: impl FnMut(Instant, K, Timer) -> bool) -> Option<Instant> {
        while let Some(&Reverse((at, key, timer))) = self.heap.peek() {
            if live(at, key, timer) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }
}

/// One connection's quiet bookkeeping: when it last moved bytes, and
/// whether its buffers were given back since.
#[derive(Clone, Copy, Debug)]
pub struct Quiet {
    seen: (u64, u64),
    since: Instant,
    released: bool,
}

/// What a quiet check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietCheck {
    /// Quiet for the idle timeout: end the connection.
    Expired(Expiry),
    /// Quiet long enough to give its buffers back (once per quiet spell).
    Release,
    /// Nothing to do; look again in [`Limits::quiet_interval`].
    Fine,
}

impl Quiet {
    /// A connection that starts now.
    pub fn new(now: Instant) -> Self {
        Self {
            seen: (0, 0),
            since: now,
            released: false,
        }
    }

    /// Looks at the connection's byte counters (`moved`: in, out) at
    /// `now`: whether it has been quiet long enough to end it or to
    /// release its buffers.
    pub fn check(&mut self, moved: (u64, u64), now: Instant, limits: &Limits) -> QuietCheck {
        if moved != self.seen {
            self.seen = moved;
            self.since = now;
            self.released = false;
        }
        let quiet = now.saturating_duration_since(self.since);
        if limits.idle_timeout.is_some_and(|idle| quiet >= idle) {
            return QuietCheck::Expired(Expiry::Idle);
        }
        if !self.released && limits.release_memory_after.is_some_and(|d| quiet >= d) {
            self.released = true;
            return QuietCheck::Release;
        }
        QuietCheck::Fine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn deadlines_come_due_in_order_and_stale_ones_are_skipped() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut d = Deadlines::new();
        d.push(t0 + 3 * s, 1, Timer::Quiet);
        d.push(t0 + s, 2, Timer::Handshake);
        d.push(t0 + 2 * s, 3, Timer::Linger);
        assert_eq!(d.pop_due(t0), None);
        assert_eq!(d.pop_due(t0 + s), Some((t0 + s, 2, Timer::Handshake)));
        // Key 3 no longer applies: `next` drops it and shows key 1's.
        assert_eq!(d.next(|_, key, _| key != 3), Some(t0 + 3 * s));
        assert_eq!(d.pop_due(t0 + 5 * s), Some((t0 + 3 * s, 1, Timer::Quiet)));
        assert_eq!(d.next(|_, _, _| true), None);
    }

    #[test]
    fn quiet_releases_once_then_expires_and_traffic_resets_it() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let limits = Limits::default()
            .release_memory_after(Some(s))
            .idle_timeout(Some(3 * s));
        assert_eq!(limits.quiet_interval(), Some(s));
        let mut q = Quiet::new(t0);
        assert_eq!(q.check((0, 0), t0 + s / 2, &limits), QuietCheck::Fine);
        assert_eq!(q.check((0, 0), t0 + s, &limits), QuietCheck::Release);
        assert_eq!(q.check((0, 0), t0 + 2 * s, &limits), QuietCheck::Fine);
        // Bytes moved: quiet starts over, and may release again.
        assert_eq!(q.check((5, 0), t0 + 2 * s, &limits), QuietCheck::Fine);
        assert_eq!(q.check((5, 0), t0 + 3 * s, &limits), QuietCheck::Release);
        assert_eq!(
            q.check((5, 0), t0 + 5 * s, &limits),
            QuietCheck::Expired(Expiry::Idle)
        );
    }
}
