//! Copies of record-sized data, made in pieces of at most 2 KiB.
//!
//! glibc's `memcpy` switches to `rep movsb` above about 2 KiB on CPUs that
//! advertise fast string moves, and on AMD Zen CPUs that instruction runs
//! far slower when the destination sits just after the source modulo
//! 4096: on this project's AMD EPYC machines (glibc 2.36) a 16 KiB copy
//! ran at 2.2-2.7 GB/s with the destination 1 to 31 bytes ahead, 14 GB/s
//! at 33 to 63, and 40-90 GB/s otherwise (docs/benchmarks.md, "A memcpy
//! that depends on addresses"). Where two
//! buffers land is the allocator's choice, so one connection in several
//! paid that on every record. Below the threshold glibc copies with vector
//! loops, which have no such case; a piece of 2 KiB costs one more call
//! and nothing else. Only tlsbio's own copies of ciphertext and plaintext
//! go through here; the copies inside rustls and aws-lc are theirs.

/// The largest piece handed to `memcpy` at once: under glibc's default
/// `rep movsb` threshold (2 048 bytes or more, by vector width).
const PIECE: usize = 2048;

/// `dst.copy_from_slice(src)`, in pieces.
///
/// # Panics
///
/// If the lengths differ, as `copy_from_slice` does.
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    if src.len() <= PIECE {
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

/// `vec.extend_from_slice(src)`, in pieces.
#[inline]
pub(crate) fn extend(vec: &mut Vec<u8>, src: &[u8]) {
    vec.reserve(src.len());
    for piece in pieces(src) {
        vec.extend_from_slice(piece);
    }
}

/// `src` in pieces of at most [`PIECE`] bytes, for buffers other than
/// `Vec` to append one by one (reserve the whole length first).
#[inline]
pub(crate) fn pieces(src: &[u8]) -> std::slice::Chunks<'_, u8> {
    src.chunks(PIECE)
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
    #[should_panic(expected = "different lengths")]
    fn lengths_must_match() {
        copy(&mut [0u8; 3 * PIECE], &[1u8; 3 * PIECE + 1]);
    }
}
