//! Paired wall-clock comparison, for a machine whose speed drifts.
//!
//! `tlsbio bench` times each implementation for a slice of a second in
//! turn, so anything that changes the machine's speed between two slices
//! (another tenant, frequency, a fuzzer waking) lands in the ratio. Here
//! every implementation runs *one unit at a time* in rotation (A B C, B C
//! A, ...), each unit timed alone, and the comparison is made inside short
//! blocks of such rotations: per block, the median unit time of each
//! implementation, and their ratio. Drift slower than a block cancels in
//! the ratio; a unit that was preempted is an outlier the median ignores.
//! What is reported is the median of the block ratios and the spread of
//! the middle half of them, which says how far the number can be trusted.
//!
//! ```
//! use tlsbio_bench::paired::{block_ratio, Summary};
//!
//! // Two blocks: B took 2x A's time per unit in both, with one outlier.
//! let a = [vec![1.0, 1.0, 9.0], vec![2.0, 2.0, 2.0]];
//! let b = [vec![2.0, 2.0, 2.0], vec![4.0, 4.0, 4.0]];
//! let ratios: Vec<f64> = a.iter().zip(&b).map(|(a, b)| block_ratio(a, b).unwrap()).collect();
//! assert_eq!(ratios, [2.0, 2.0]); // A is 2x as fast as B, in both blocks
//! let s = Summary::of(&ratios).unwrap();
//! assert_eq!((s.median, s.low, s.high), (2.0, 2.0, 2.0));
//! ```

/// The median of `values` (the upper one of the middle two for an even
/// count); `None` when empty. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// How much faster `ours` ran than `theirs` in one block: the ratio of
/// their median unit times, `theirs / ours` (above 1: ours is faster).
/// `None` if either is empty or `ours`' median is not positive.
pub fn block_ratio(ours: &[f64], theirs: &[f64]) -> Option<f64> {
    let (ours, theirs) = (median(ours)?, median(theirs)?);
    (ours > 0.0).then(|| theirs / ours)
}

/// The block ratios of one comparison, summarised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The median block ratio.
    pub median: f64,
    /// The lower quartile of the block ratios.
    pub low: f64,
    /// The upper quartile of the block ratios.
    pub high: f64,
    /// How many blocks.
    pub blocks: usize,
}

impl Summary {
    /// Summarises `ratios`; `None` when there are none.
    pub fn of(ratios: &[f64]) -> Option<Self> {
        if ratios.is_empty() {
            return None;
        }
        let mut v = ratios.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: usize| v[(v.len() - 1) * q / 4];
        Some(Self {
            median: median(&v)?,
            low: at(1),
            high: at(3),
            blocks: v.len(),
        })
    }

    /// "ahead" when even the lower quartile is at least 1, "behind" when
    /// even the upper quartile is under 1, else "level": the middle half
    /// of the blocks straddles parity.
    pub fn verdict(&self) -> &'static str {
        if self.low >= 1.0 {
            "ahead"
        } else if self.high < 1.0 {
            "behind"
        } else {
            "level"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outlier_in_a_block_does_not_move_its_ratio() {
        assert_eq!(block_ratio(&[1.0, 1.0, 100.0], &[1.5, 1.5, 1.5]), Some(1.5));
        assert_eq!(block_ratio(&[], &[1.0]), None);
        assert_eq!(block_ratio(&[0.0], &[1.0]), None);
    }

    #[test]
    fn drift_between_blocks_cancels() {
        // The machine gets 3x slower half-way; ours stays 10% faster.
        let ratios: Vec<f64> = [1.0, 1.0, 3.0, 3.0]
            .iter()
            .map(|speed| block_ratio(&[1.0 * speed], &[1.1 * speed]).unwrap())
            .collect();
        let s = Summary::of(&ratios).unwrap();
        assert!((s.median - 1.1).abs() < 1e-9 && (s.low - 1.1).abs() < 1e-9);
        assert_eq!(s.verdict(), "ahead");
    }

    #[test]
    fn quartiles_and_verdicts() {
        let s = Summary::of(&[0.9, 0.95, 1.0, 1.05, 1.1]).unwrap();
        assert_eq!((s.low, s.median, s.high, s.blocks), (0.95, 1.0, 1.05, 5));
        assert_eq!(s.verdict(), "level");
        assert_eq!(Summary::of(&[0.8, 0.9, 0.95]).unwrap().verdict(), "behind");
        assert_eq!(Summary::of(&[]), None);
    }
}
