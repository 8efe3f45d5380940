//! Draws a transcript as a text sequence ("ladder") diagram.

use std::fmt::Write as _;

use crate::decrypt::Decryptor;
use crate::records::Walker;
use crate::schedule::{Dir, Side};
use crate::transcript::{Entry, Transcript};

const LEFT: usize = 24;
const MID: usize = 58;

/// Renders `transcript` as a ladder diagram: the client's column on the
/// left, the server's on the right, and each TLS record as an arrow at the
/// moment its last byte reached the receiver, with its content type,
/// length, and (while it is plaintext) the handshake messages or alert
/// inside. A side's engine state and why it stopped appear in its column
/// whenever they change. Faults on the link appear as `~~` lines.
///
/// Protected records are decrypted with the secrets the transcript
/// carries (version 2; both sides' `KeyLog`): `ApplicationData 474 =>
/// Handshake 453 [EncryptedExtensions(2), Certificate(...), ...]` shows
/// the record as sent, then its inner content type, length and messages
/// (alerts by name, application data by length). A record no key opens
/// says `did not decrypt` (a corrupted byte); without secrets (a version 1
/// transcript) protected records show as `(encrypted)`. The output
/// depends only on the transcript, so it is stable enough for snapshot
/// tests.
///
/// ```text
///       client state      |                                                          | server state
///          HS want-read:5 |                                                          |
///                         |-- Handshake 244 [ClientHello(240)] --------------------->|
///                         |                                                          | HS want-read:5
/// ```
pub fn ladder(transcript: &Transcript) -> String {
    let mut out = String::new();
    let c = &transcript.capacities;
    let _ = writeln!(
        out,
        "schedule {}; bio capacities client rx/tx {}/{}, server rx/tx {}/{}",
        transcript.schedule, c.client_rx, c.client_tx, c.server_rx, c.server_tx
    );
    let _ = writeln!(
        out,
        "client sends {} bytes, server sends {} bytes",
        transcript.client.send.len(),
        transcript.server.send.len()
    );
    row(&mut out, "client state", "", "server state");

    let mut walkers = [Walker::default(), Walker::default()];
    let mut keys = Decryptor::new(transcript.secrets.clone());
    let mut totals = [0u64; 2];
    let mut last_run: [Option<String>; 2] = [None, None];
    for entry in &transcript.entries {
        match entry {
            Entry::Run {
                side,
                state,
                turn,
                note,
            } => {
                let mut text = format!("{} {turn}", state.short());
                if let Some(note) = note {
                    text.push_str(&format!(" ({note})"));
                }
                let last = &mut last_run[*side as usize];
                if last.as_deref() != Some(text.as_str()) {
                    match side {
                        Side::Client => row(&mut out, &text, "", ""),
                        Side::Server => row(&mut out, "", "", &text),
                    }
                    *last = Some(text);
                }
            }
            Entry::Data { dir, bytes, .. } | Entry::Inject { dir, bytes } => {
                totals[*dir as usize] += bytes.len() as u64;
                walkers[*dir as usize].tls13 = keys.is_tls13();
                for record in walkers[*dir as usize].push(bytes) {
                    for (typ, body) in &record.hellos {
                        keys.hello(*typ, body);
                    }
                    let opened = record
                        .sealed
                        .as_ref()
                        .and_then(|(header, body)| keys.open(*dir, *header, body));
                    let label = record.summary_opened(opened.as_ref());
                    row(&mut out, "", &arrow(*dir, &label), "");
                }
            }
            Entry::Corrupt { dir, offset, xor } => fault(
                &mut out,
                &format!("corrupt {dir} byte {offset} ^ {xor:02x}"),
            ),
            Entry::Cut { dir } => fault(&mut out, &format!("link cut ({dir})")),
            Entry::Lost { dir, len } => fault(&mut out, &format!("{len} bytes {dir} lost")),
            Entry::Eof { dir } => fault(
                &mut out,
                &format!("end of stream reaches the {}", dir.receiver()),
            ),
        }
        if let Entry::Inject { dir, bytes } = entry {
            fault(&mut out, &format!("{} bytes injected {dir}", bytes.len()));
        }
    }
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let held = walkers[dir as usize].held();
        let _ = write!(out, "{dir}: {} bytes delivered", totals[dir as usize]);
        if held > 0 {
            let _ = write!(out, ", {held} of them in an unfinished record");
        }
        out.push('\n');
    }
    out
}

fn row(out: &mut String, left: &str, mid: &str, right: &str) {
    let line = format!("{left:>LEFT$} |{mid:<MID$}| {right}");
    out.push_str(line.trim_end());
    out.push('\n');
}

fn fault(out: &mut String, text: &str) {
    row(out, "", &format!("~~ {text} ~~"), "");
}

fn arrow(dir: Dir, label: &str) -> String {
    let body = MID.saturating_sub(label.len() + 5);
    match dir {
        Dir::ClientToServer => format!("-- {label} {}>", "-".repeat(body)),
        Dir::ServerToClient => format!("<{} {label} --", "-".repeat(body)),
    }
}
