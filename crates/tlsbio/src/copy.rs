//! Copies of record-sized data, made in pieces of at most 2 KiB when a
//! single `memcpy` would be slow.
//!
//! glibc's `memcpy` switches to `rep movsb` above about 2 KiB on CPUs that
//! advertise fast string moves, and on AMD Zen CPUs that instruction runs
//! far slower when the destination sits just after the source modulo
//! 4096: on this project's AMD EPYC machines (glibc 2.36) a 16 KiB copy
//! ran at 2.2-2.7 GB/s with the destination 1 to 31 bytes ahead, 14 GB/s
//! at 33 to 63, and 40-90 GB/s otherwise (docs/benchmarks.md, "A memcpy
//! that depends on addresses"). Where two buffers land is the allocator's
//! choice, so one connection in several paid that on every record. Below
//! the threshold glibc copies with vector loops, which have no such case.
//! So a copy whose destination is 1 to 63 bytes ahead of its source
//! (modulo 4096) is made in pieces of 2 KiB; any other copy is one
//! `memcpy`, as before. Reading an address is safe Rust; nothing here
//! dereferences one. Only tlsbio's own copies of ciphertext and plaintext
//! go through here; the copies inside rustls and aws-lc are theirs.

/// The largest piece handed to `memcpy` at once: under glibc's default
/// `rep movsb` threshold (2 048 bytes or more, by vector width).
const PIECE: usize = 2048;

/// Whether a copy of `len` bytes from `src` to `dst` is one `rep movsb`
/// may run slowly: more than [`PIECE`] bytes, the destination 1 to 63
/// bytes ahead of the source within a 4 KiB page.
#[inline]
fn unlucky(len: usize, dst: *const u8, src: *const u8) -> bool {
    len > PIECE && (1..64).contains(&((dst as usize).wrapping_sub(src as usize) % 4096))
}

/// `dst.copy_from_slice(src)`, in pieces when the addresses are unlucky.
///
/// # Panics
///
/// If the lengths differ, as `copy_from_slice` does.
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    if !unlucky(src.len(), dst.as_ptr(), src.as_ptr()) {
        dst.copy_from_slice(src);
        return;
    }
    assert_eq!(
        dst.len(),
        src.len(),
        "copy between slices of different lengths"
    );
    for (dst, src) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        dst.copy_from_slice(src);
    }
}

/// `vec.extend_from_slice(src)`, in pieces when the addresses are
/// unlucky.
#[inline]
pub(crate) fn extend(vec: &mut Vec<u8>, src: &[u8]) {
    vec.reserve(src.len());
    let end = vec.as_ptr().wrapping_add(vec.len());
    for piece in pieces(end, src) {
        vec.extend_from_slice(piece);
    }
}

/// `src` whole, or in pieces of at most [`PIECE`] bytes when appending it
/// at `dst` is unlucky: for a buffer other than `Vec` to append piece by
/// piece (reserve the whole length first, so that `dst` is where the
/// bytes go).
#[inline]
pub(crate) fn pieces(dst: *const u8, src: &[u8]) -> std::slice::Chunks<'_, u8> {
    match unlucky(src.len(), dst, src.as_ptr()) {
        true => src.chunks(PIECE),
        false => src.chunks(src.len().max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_around_the_piece_copies_exactly() {
        let src: Vec<u8> = (0..5 * PIECE + 3).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 5 * PIECE + 3] {
            let mut dst = vec![0u8; len];
            copy(&mut dst, &src[..len]);
            assert_eq!(dst, src[..len]);
            let mut vec = b"head".to_vec();
            extend(&mut vec, &src[..len]);
            assert_eq!(&vec[..4], b"head");
            assert_eq!(vec[4..], src[..len]);
        }
    }

    #[test]
    fn every_distance_copies_exactly() {
        let src: Vec<u8> = (0..3 * PIECE + 7).map(|i| (i * 13 % 251) as u8).collect();
        let mut dst = vec![0u8; src.len() + 4096 + 64];
        let mut took_pieces = false;
        for shift in 0..4096 + 64 {
            let at = &mut dst[shift..shift + src.len()];
            took_pieces |= unlucky(src.len(), at.as_ptr(), src.as_ptr());
            copy(at, &src);
            assert_eq!(dst[shift..shift + src.len()], src);
        }
        assert!(
            took_pieces,
            "no shift was unlucky, so the pieces were not tested"
        );
    }

    #[test]
    fn only_a_long_copy_just_ahead_in_its_page_is_unlucky() {
        let at = |a: usize| a as *const u8;
        let (long, short) = (PIECE + 1, PIECE);
        assert!(unlucky(long, at(4096 + 1), at(4096)));
        assert!(unlucky(long, at(8192 + 63), at(4096)));
        assert!(unlucky(long, at(17), at(4096 * 3 + 16)));
        assert!(!unlucky(short, at(4096 + 1), at(4096)));
        assert!(!unlucky(long, at(4096), at(4096)));
        assert!(!unlucky(long, at(4096 + 64), at(4096)));
        assert!(!unlucky(long, at(4096 - 1), at(4096))); // behind, not ahead
        let src = [0u8; 3 * PIECE];
        let ahead = |by: usize| src.as_ptr().wrapping_add(4096 + by);
        assert_eq!(pieces(ahead(1), &src).len(), 3);
        assert_eq!(pieces(ahead(64), &src).len(), 1);
        assert_eq!(pieces(ahead(1), &[]).len(), 0);
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn lengths_must_match() {
        let src = [1u8; 3 * PIECE + 1];
        let mut dst = [0u8; 3 * PIECE + 4096];
        // Unlucky on purpose, so that the piecewise path checks lengths.
        let shift = (0..4096)
            .find(|&s| unlucky(src.len(), dst[s..].as_ptr(), src.as_ptr()))
            .unwrap();
        copy(&mut dst[shift..shift + 3 * PIECE], &src);
    }
}
