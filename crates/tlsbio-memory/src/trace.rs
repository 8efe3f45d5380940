//! Tracing a real connection the way the ladder draws a harness run
//! (`openssl s_client -msg`): every record each way, with its handshake
//! messages or alerts, decrypted with the secrets the traced side logs.
//!
//! Put [`Tracer::key_log`] on the config of the side being traced, feed
//! the tracer every ciphertext byte sent and received
//! ([`sent`](Tracer::sent), [`received`](Tracer::received)), and take the
//! [`lines`](Tracer::lines) after each call into the engine: a record is
//! described once the engine has processed it, when its keys are known.
//!
//! ```
//! use tlsbio_memory::trace::Tracer;
//!
//! let mut tracer = Tracer::new();
//! // config.key_log = tracer.key_log();
//! tracer.sent(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
//! assert_eq!(tracer.lines(), [">>> Alert 2 [fatal HandshakeFailure]"]);
//! ```

use std::sync::Arc;

use crate::rustls::KeyLog;

use crate::decrypt::{Decryptor, Recorder};
use crate::records::Walker;
use crate::schedule::Dir;

/// Records sent (`>>>`) and received (`<<<`), described in order.
pub struct Tracer {
    recorder: Arc<Recorder>,
    walkers: [Walker; 2],
    keys: Decryptor,
    /// Bytes not yet described, in the order they crossed.
    pending: Vec<(Dir, Vec<u8>)>,
}

impl Default for Tracer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracer {
    /// A tracer with no secrets yet.
    pub fn new() -> Self {
        Self {
            recorder: Recorder::new(),
            walkers: Default::default(),
            keys: Decryptor::new(Vec::new()),
            pending: Vec::new(),
        }
    }

    /// A tracer for the next connection from the same config: the same
    /// key log (so the secrets keep arriving), a fresh record stream.
    pub fn fresh(&self) -> Self {
        Self {
            recorder: self.recorder.clone(),
            ..Self::new()
        }
    }

    /// The `KeyLog` to put on the traced side's config.
    pub fn key_log(&self) -> Arc<dyn KeyLog> {
        self.recorder.clone()
    }

    /// Ciphertext the traced side sent.
    pub fn sent(&mut self, bytes: &[u8]) {
        self.pending.push((Dir::ClientToServer, bytes.to_vec()));
    }

    /// Ciphertext the traced side received.
    pub fn received(&mut self, bytes: &[u8]) {
        self.pending.push((Dir::ServerToClient, bytes.to_vec()));
    }

    /// One line per record completed since the last call: `>>>` sent,
    /// `<<<` received, as the ladder labels them.
    pub fn lines(&mut self) -> Vec<String> {
        self.keys.set_secrets(self.recorder.secrets());
        let mut out = Vec::new();
        for (dir, bytes) in std::mem::take(&mut self.pending) {
            self.walkers[dir as usize].tls13 = self.keys.is_tls13();
            for record in self.walkers[dir as usize].push(&bytes) {
                for (typ, body) in &record.hellos {
                    self.keys.hello(*typ, body);
                }
                let opened = record
                    .sealed
                    .as_ref()
                    .and_then(|(header, body)| self.keys.open(dir, *header, body));
                let arrow = match dir {
                    Dir::ClientToServer => ">>>",
                    Dir::ServerToClient => "<<<",
                };
                out.push(format!(
                    "{arrow} {}",
                    record.summary_opened(opened.as_ref())
                ));
            }
        }
        out
    }
}
