//! `tlsbio::proxy` on arbitrary input and arbitrary arrival: never a
//! panic, a header is decided by its own bytes alone, and feeding a BIO in
//! any chunks ends in the same header (or error) as feeding it at once.

use proptest::prelude::*;
use tlsbio::bio::{Bio, VecBio};
use tlsbio::proxy::{self, Error};

fn v1_line() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(s, d, sp, dp)| {
            format!(
                "PROXY TCP4 {}.{}.{}.{} {}.{}.{}.{} {sp} {dp}\r\n",
                s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3]
            )
            .into_bytes()
        })
}

fn v2_header() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..2,
        prop::sample::select(vec![0x00u8, 0x11, 0x21, 0x31]),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(command, family, mut body)| {
            let need = match family >> 4 {
                1 => 12,
                2 => 36,
                3 => 216,
                _ => 0,
            };
            body.resize(body.len().max(need), 7);
            let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
            h.extend_from_slice(&[0x20 | command, family]);
            h.extend_from_slice(&(body.len() as u16).to_be_bytes());
            h.extend_from_slice(&body);
            h
        })
}

/// Feeds `input` into a BIO `chunk` bytes at a time, stripping after each,
/// then ends the stream; the first decision.
fn strip_in_chunks(input: &[u8], chunk: usize) -> Result<Option<proxy::Header>, Error> {
    let mut bio = VecBio::with_limit(8192);
    for piece in input.chunks(chunk.max(1)) {
        bio.write(piece);
        match proxy::strip(&mut bio) {
            Ok(None) => continue,
            decided => return decided,
        }
    }
    bio.shutdown_wr();
    proxy::strip(&mut bio)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_and_a_header_is_self_contained(
        input in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        if let Ok(Some(header)) = proxy::parse(&input) {
            prop_assert!(header.len() <= input.len());
            prop_assert_eq!(proxy::parse(&input[..header.len()]), Ok(Some(header)));
        }
    }

    #[test]
    fn valid_headers_parse_in_any_chunks_and_leave_the_rest(
        header in prop_oneof![v1_line(), v2_header()],
        rest in prop::collection::vec(any::<u8>(), 0..50),
        chunk in 1usize..64,
    ) {
        let whole = [header.clone(), rest.clone()].concat();
        let at_once = proxy::parse(&whole).unwrap().expect("a whole header");
        prop_assert_eq!(at_once.len(), header.len());
        let mut bio = VecBio::with_limit(8192);
        let mut got = None;
        for piece in whole.chunks(chunk) {
            bio.write(piece);
            if got.is_none() {
                got = proxy::strip(&mut bio).unwrap();
            }
        }
        prop_assert_eq!(got, Some(at_once));
        let mut left = vec![0u8; rest.len() + 1];
        let n = bio.read(&mut left);
        prop_assert_eq!(&left[..n], &rest[..]);
    }

    #[test]
    fn chunking_never_changes_the_decision(
        input in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            v1_line().prop_map(|mut l| { let n = l.len(); l.truncate(n / 2); l }),
            v2_header(),
        ],
        chunk in 1usize..64,
    ) {
        let whole = strip_in_chunks(&input, usize::MAX);
        prop_assert_eq!(strip_in_chunks(&input, chunk), whole);
    }
}
