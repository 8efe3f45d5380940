//! `compat`: the int-returning API against the enum API, call for call.

use arbitrary::{Arbitrary, Unstructured};
use tlsbio::bio::{Bio, RingBio, VecBio};
use tlsbio::compat::Ssl;
use tlsbio::Want;
use tlsbio::{Engine, Error, Shutdown};

use crate::fixture::{self, Version};

/// The most calls one input makes.
const MAX_CALLS: usize = 1024;

type Pair<T> = [T; 2];
type TestEngine = Engine<RingBio, VecBio>;

#[derive(Arbitrary, Debug)]
struct Input {
    tls12: bool,
    /// Read and write BIO capacities, minus one.
    rx: u16,
    tx: u16,
    calls: Vec<Call>,
}

/// One call; `client` picks the side.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Call {
    Handshake {
        client: bool,
    },
    Read {
        client: bool,
        len: u16,
    },
    Write {
        client: bool,
        len: u16,
    },
    Shutdown {
        client: bool,
    },
    /// The driver moves up to `max` bytes from one side's write BIO to the
    /// other's read BIO.
    Move {
        c2s: bool,
        max: u16,
    },
    /// The transport towards one side ends.
    Eof {
        client: bool,
    },
}

/// Differential: two identical connections (same deterministic crypto,
/// same BIO capacities) get the same arbitrary call sequence, one through
/// `compat::Ssl` (OpenSSL's 1 / 0 / -1 returns and `SSL_get_error`), the
/// other through the `Engine`'s `Result`s.
///
/// Properties: every int return agrees with the enum result (`Ok(n)` is
/// `n` with `SSL_ERROR_NONE`; a clean close is 0 with
/// `SSL_ERROR_ZERO_RETURN`; any other error is -1 and `get_error` gives
/// `error_code` of the same error); `SSL_shutdown`'s 0 / 1 are
/// `Shutdown::Sent` / `Complete`; the plaintext read and the ciphertext
/// written are byte-identical, and so are `state()` and `pending()`.
pub fn compat(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let (rx, tx) = (usize::from(input.rx) + 1, usize::from(input.tx) + 1);
    let bios = || (RingBio::with_capacity(rx), VecBio::with_limit(tx));
    let (mut ints, mut enums) = fixture::with(Version::from_bit(input.tls12), |f| {
        let engine = |client: bool, which: usize| {
            let (r, w) = bios();
            if client {
                f.client(which, r, w)
            } else {
                f.server(which, r, w)
            }
        };
        (
            [Ssl::new(engine(true, 0)), Ssl::new(engine(false, 0))],
            [engine(true, 1), engine(false, 1)],
        )
    });
    for call in input.calls.iter().take(MAX_CALLS) {
        step(&mut ints, &mut enums, *call);
        for side in 0..2 {
            let (a, b) = (ints[side].engine(), &enums[side]);
            assert_eq!(a.state(), b.state(), "{call:?}: states differ");
            assert_eq!(a.pending(), b.pending(), "{call:?}: pending differs");
            assert_eq!(
                a.wbio().pending(),
                b.wbio().pending(),
                "{call:?}: output differs"
            );
        }
    }
}

fn step(ints: &mut Pair<Ssl<RingBio, VecBio>>, enums: &mut Pair<TestEngine>, call: Call) {
    let at = |client: bool| usize::from(!client);
    match call {
        Call::Handshake { client } => {
            let ret = ints[at(client)].do_handshake();
            let result = enums[at(client)].do_handshake().map(|()| 1);
            agree(&ints[at(client)], ret, &result, call);
        }
        Call::Read { client, len } => {
            let (mut a, mut b) = (vec![0; usize::from(len)], vec![0; usize::from(len)]);
            let ret = ints[at(client)].read(&mut a);
            let result = enums[at(client)].read(&mut b);
            agree(&ints[at(client)], ret, &result, call);
            if let Ok(n) = result {
                assert_eq!(a[..n], b[..n], "{call:?}: plaintext differs");
            }
        }
        Call::Write { client, len } => {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ret = ints[at(client)].write(&data);
            let result = enums[at(client)].write(&data);
            agree(&ints[at(client)], ret, &result, call);
        }
        Call::Shutdown { client } => {
            let ret = ints[at(client)].shutdown();
            let result = enums[at(client)].shutdown().map(|s| match s {
                Shutdown::Sent => 0,
                Shutdown::Complete => 1,
            });
            agree(&ints[at(client)], ret, &result, call);
        }
        Call::Move { c2s, max } => {
            let (from, to) = if c2s { (0, 1) } else { (1, 0) };
            let max = usize::from(max);
            let a = carry(ints, from, to, max, |ssl| ssl.engine());
            let b = carry(enums, from, to, max, |engine| engine);
            assert_eq!(a, b, "{call:?}: ciphertext differs");
        }
        Call::Eof { client } => {
            ints[at(client)].engine().rbio_mut().shutdown_wr();
            enums[at(client)].rbio_mut().shutdown_wr();
        }
    }
}

/// Moves up to `max` bytes between the two sides of one connection and
/// returns them.
fn carry<T>(
    pair: &mut Pair<T>,
    from: usize,
    to: usize,
    max: usize,
    engine: impl Fn(&mut T) -> &mut TestEngine,
) -> Vec<u8> {
    let room = engine(&mut pair[to]).rbio().write_guarantee();
    let moved = engine(&mut pair[from]).send_output(|out| {
        let n = out.len().min(max).min(room);
        (n, out[..n].to_vec())
    });
    let written = engine(&mut pair[to]).rbio_mut().write(&moved);
    assert_eq!(
        written,
        moved.len(),
        "the read BIO took less than it promised"
    );
    moved
}

/// The int return `ret` (and `get_error`) says what `result` says.
fn agree(ssl: &Ssl<RingBio, VecBio>, ret: i32, result: &Result<usize, Error>, call: Call) {
    match result {
        Ok(n) => {
            assert_eq!(usize::try_from(ret).ok(), Some(*n), "{call:?}: count");
            assert_eq!(ssl.get_error(ret), 0, "{call:?}: get_error after success");
        }
        Err(e) => {
            let expected = match (e, call) {
                (Error::ZeroReturn, Call::Read { .. }) => 0,
                _ => -1,
            };
            assert_eq!(ret, expected, "{call:?}: return for {e:?}");
            assert_eq!(
                ssl.get_error(ret),
                openssl_code(e),
                "{call:?}: get_error for {e:?}"
            );
            assert_eq!(ssl.last_error(), Some(e), "{call:?}: last_error");
        }
    }
}

/// What OpenSSL's `SSL_get_error` returns for the situation `e` describes,
/// from its documented values (`ssl.h`: `SSL_ERROR_SSL` 1, `_WANT_READ` 2,
/// `_WANT_WRITE` 3, `_SYSCALL` 5, `_ZERO_RETURN` 6,
/// `_WANT_CLIENT_HELLO_CB` 11), written out here rather than taken from
/// `tlsbio::compat`, so that a wrong mapping there fails.
fn openssl_code(e: &Error) -> i32 {
    match e {
        Error::Want(Want::Read { .. }) => 2,
        Error::Want(Want::Write) => 3,
        Error::Want(Want::ClientHello) => 11,
        // The transport ended without close_notify: SSL_ERROR_SYSCALL
        // with errno 0, OpenSSL's EOF report.
        Error::UnexpectedEof { .. } => 5,
        Error::ZeroReturn => 6,
        // Protocol errors, limits, not-TLS input and misuse all come back
        // from OpenSSL as SSL_ERROR_SSL with the reason in its error queue.
        _ => 1,
    }
}
