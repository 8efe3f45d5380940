//! `tlsbio`: simulate and replay TLS handshakes in memory, and run a TLS
//! server or client over real sockets.
//!
//! ```text
//! tlsbio simulate [--seed N] [--tls12] [--chunk N] [--schedule S] [--fault KIND] [--save FILE]
//!                 [--pcap CAPTURE] [--keylog KEYS]
//! tlsbio replay FILE
//! tlsbio export FILE [--pcap CAPTURE] [--keylog KEYS]
//! tlsbio server [--listen ADDR] [--cert PEM --key PEM] [--alpn P]... [--http]
//! tlsbio client HOST:PORT [--ca PEM] [--sni NAME] [--alpn P]... [--tls12]
//! tlsbio bench [--quick] [--json] [--runs N]
//! ```
//!
//! docs/cli.md has a transcript of each command. Errors are one line on
//! stderr and a non-zero exit status.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tlsbio::rustls::{version, SupportedProtocolVersion};

mod backend;
mod bench;
mod client;
mod pem;
mod server;
mod simulate;
mod summary;
mod trust;

/// A sans-IO TLS engine's command line: in-memory simulations, transcript
/// replay, and a server and client for interop with real peers.
#[derive(Parser, Debug)]
#[command(name = "tlsbio", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a client and a server in memory, deterministically, and print
    /// the ladder diagram and a summary.
    Simulate(simulate::SimulateArgs),
    /// Replay a transcript saved by `simulate --save` and say whether it
    /// reproduces, byte for byte.
    Replay(simulate::ReplayArgs),
    /// Write a saved transcript as a pcapng capture and an SSLKEYLOGFILE,
    /// for Wireshark.
    Export(simulate::ExportArgs),
    /// Serve TLS on a TCP port: echo, or a minimal HTTP/1.1 responder.
    Server(server::ServerArgs),
    /// Connect to a TLS server, print the handshake, then pipe stdin to the
    /// server and the server's data to stdout.
    Client(client::ClientArgs),
    /// Compare tlsbio (each BIO kind) with raw rustls and OpenSSL in memory:
    /// handshakes, resumption, bulk transfer.
    Bench(bench::BenchArgs),
}

/// What `server` and `client` negotiate: ALPN and protocol versions.
#[derive(clap::Args, Debug)]
struct Negotiation {
    /// An ALPN protocol, in order of preference (repeatable).
    #[arg(long = "alpn", value_name = "PROTOCOL")]
    alpn: Vec<String>,
    /// Only TLS 1.2.
    #[arg(long, conflicts_with = "tls13")]
    tls12: bool,
    /// Only TLS 1.3.
    #[arg(long)]
    tls13: bool,
}

impl Negotiation {
    /// The versions the flags select: one, or both.
    fn versions(&self) -> &'static [&'static SupportedProtocolVersion] {
        versions(self.tls12, self.tls13)
    }

    /// The ALPN protocols as rustls takes them (`Vec<u8>` on 0.23,
    /// `ApplicationProtocol` on 0.24).
    #[allow(clippy::useless_conversion)]
    fn alpn<T: From<Vec<u8>>>(&self) -> Vec<T> {
        self.alpn
            .iter()
            .map(|p| p.as_bytes().to_vec().into())
            .collect()
    }
}

/// The protocol versions `--tls12` / `--tls13` select: one, or both.
fn versions(tls12: bool, tls13: bool) -> &'static [&'static SupportedProtocolVersion] {
    static TLS12_ONLY: &[&SupportedProtocolVersion] = &[&version::TLS12];
    static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&version::TLS13];
    match (tls12, tls13) {
        (true, false) => TLS12_ONLY,
        (false, true) => TLS13_ONLY,
        _ => tlsbio::rustls::ALL_VERSIONS,
    }
}

/// A failure the user can act on, already worded for them.
type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::simulate(&args),
        Command::Replay(args) => simulate::replay(&args),
        Command::Export(args) => simulate::export(&args),
        Command::Server(args) => server::run(&args),
        Command::Client(args) => client::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("tlsbio: error: {message}");
            ExitCode::FAILURE
        }
    }
}
