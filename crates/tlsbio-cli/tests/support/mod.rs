//! Interop test support: certificates on disk, peers found on PATH, child
//! processes that are always killed, and output watched with deadlines.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedKey, DnType, IsCa, KeyPair};

/// No step of an interop test waits longer than this.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The `tlsbio` binary under test.
pub const TLSBIO: &str = env!("CARGO_BIN_EXE_tlsbio");

/// Whether `program` is on PATH. When it is not, the test prints why it
/// skips, unless `TLSBIO_REQUIRE_PEERS` is set (CI sets it after
/// installing every peer), in which case a missing peer fails the test.
pub fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            std::env::var_os("TLSBIO_REQUIRE_PEERS").is_none(),
            "{program} is not installed but TLSBIO_REQUIRE_PEERS is set"
        );
        eprintln!("skipping: {program} is not installed (CI installs it; see .ci/run)");
    }
    found
}

/// A CA, a server certificate for localhost and 127.0.0.1, and a client
/// certificate, as PEM files in a temporary directory (ECDSA P-256, which
/// every peer reads).
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "tlsbio interop ca");
        let ca_key = KeyPair::generate().unwrap();
        let ca = CertifiedKey {
            cert: params.self_signed(&ca_key).unwrap(),
            key_pair: ca_key,
        };
        std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).unwrap();
        for (name, sans, cn) in [
            ("server", vec!["localhost", "127.0.0.1"], "localhost"),
            (
                "client",
                vec!["client.tlsbio.test"],
                "tlsbio interop client",
            ),
        ] {
            let mut params =
                CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            params.distinguished_name.push(DnType::CommonName, cn);
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &ca.cert, &ca.key_pair).unwrap();
            std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.path().join(format!("{name}.key")), key.serialize_pem()).unwrap();
        }
        Self { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.path().join(file).to_str().unwrap().to_string()
    }
}

/// A free port on 127.0.0.1 (free when this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on the port.
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A child process whose output is collected as it comes, and which is
/// killed when dropped.
pub struct Proc {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(program: &str, args: &[&str]) -> Self {
        Self::spawn_in(program, args, None)
    }

    pub fn spawn_in(program: &str, args: &[&str], dir: Option<&Path>) -> Self {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Self {
            name: format!("{program} {}", args.join(" ")),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    pub fn send(&mut self, data: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(data.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Closes the child's stdin (EOF).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stdout or stderr contains `needle`; panics with both
    /// on timeout.
    pub fn expect(&self, needle: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.stdout().contains(needle) && !self.stderr().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "{:?} never printed {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
                self.name,
                self.stdout(),
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit (closing its stdin first) and returns
    /// whether it succeeded; kills it on timeout.
    pub fn finish(&mut self) -> bool {
        self.close_stdin();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the collectors drain the pipes.
                thread::sleep(Duration::from_millis(50));
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not exit\n--- stdout\n{}\n--- stderr\n{}",
                self.name,
                self.stdout(),
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Both outputs, for assertion messages.
    pub fn output(&self) -> String {
        format!(
            "{}\n--- stdout\n{}\n--- stderr\n{}",
            self.name,
            self.stdout(),
            self.stderr()
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    out
}

/// `openssl s_client` to the server on `port`, verifying it against the
/// PKI's CA as `localhost`, with `extra` arguments.
pub fn s_client(port: u16, pki: &Pki, extra: &[&str]) -> Proc {
    let ca = pki.path("ca.pem");
    let connect = format!("127.0.0.1:{port}");
    let mut args = vec![
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "localhost",
        "-CAfile",
        &ca,
        "-verify_return_error",
    ];
    args.extend_from_slice(extra);
    Proc::spawn("openssl", &args)
}

/// `tlsbio server` on a free port with the PKI's server certificate;
/// returns the process and its port once it listens.
pub fn tlsbio_server(pki: &Pki, extra: &[&str]) -> (Proc, u16) {
    tlsbio_server_with(&pki.path("server.pem"), &pki.path("server.key"), extra)
}

/// `tlsbio server` on a free port with the given certificate and key.
pub fn tlsbio_server_with(cert: &str, key: &str, extra: &[&str]) -> (Proc, u16) {
    let mut args = vec![
        "server",
        "--listen",
        "127.0.0.1:0",
        "--cert",
        cert,
        "--key",
        key,
    ];
    args.extend_from_slice(extra);
    let server = Proc::spawn(TLSBIO, &args);
    server.expect("listening");
    let port = server
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("listening"))
        .and_then(|a| a.trim().rsplit(':').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no port in {}", server.output()));
    (server, port)
}

/// A path in the PKI's directory for a scratch file.
pub fn scratch(pki: &Pki, name: &str) -> PathBuf {
    pki.dir.path().join(name)
}
