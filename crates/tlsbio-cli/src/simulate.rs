//! `simulate` and `replay`: a client and a server in memory, on the
//! deterministic crypto provider, and the replay of a saved run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use tlsbio::rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use tlsbio_memory::deterministic::{DeterministicPki, InsecureDeterministicCrypto};
use tlsbio_memory::{
    ladder, Capacities, Dir, End, Endpoint, Fault, Harness, Report, Schedule, Script, Side,
    Transcript,
};

use crate::Result;

/// The name the embedded certificate is for.
const SERVER_NAME: &str = "localhost";

/// The ALPN protocol both sides offer, so the summary shows one.
const ALPN: &[u8] = b"tlsbio/1";

/// The line `--save` writes after the format version, so that `replay` can
/// rebuild the same crypto. The transcript format ignores `#` lines.
const SAVED_BY: &str = "# tlsbio simulate";

#[derive(Args, Debug)]
pub(crate) struct SimulateArgs {
    /// Seed for all randomness: key shares, randoms, the certificate.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Negotiate TLS 1.2 instead of TLS 1.3.
    #[arg(long)]
    tls12: bool,
    /// Give every BIO this many bytes, so at most this many cross the link
    /// at a time (1 is the slowest possible link).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1 << 20))]
    chunk: Option<u32>,
    /// Who runs when and how many bytes move: lockstep, trickle or
    /// seeded:N.
    #[arg(long, default_value = "lockstep", value_parser = parse_schedule)]
    schedule: String,
    /// Run exactly the actions in FILE (a schedule shrunk by
    /// `tlsbio_memory::shrink`, written by `Schedule::to_text`), then
    /// lockstep until the run ends.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["schedule", "chunk"])]
    replay_schedule: Option<PathBuf>,
    /// A fault on the link: cut:DIR:AT, corrupt:DIR:AT[:XOR] or
    /// inject:DIR:AT:HEX, with DIR c2s or s2c and AT a byte offset of the
    /// sender's stream. Example: corrupt:s2c:11.
    #[arg(long, value_parser = clap::value_parser!(Fault))]
    fault: Option<Fault>,
    /// Application bytes each side sends before closing.
    #[arg(long, default_value_t = 64)]
    bytes: usize,
    /// Write the transcript to FILE, for `tlsbio replay FILE`.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    #[command(flatten)]
    export: ExportFiles,
}

/// Where to write a run for Wireshark.
#[derive(Args, Debug)]
pub(crate) struct ExportFiles {
    /// Write the run as a pcapng capture (Ethernet, IPv4, TCP; one segment
    /// per harness move), for Wireshark or tshark.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Write both sides' secrets as an SSLKEYLOGFILE, so that Wireshark
    /// decrypts the capture (`-o tls.keylog_file:FILE`).
    #[arg(long, value_name = "FILE")]
    keylog: Option<PathBuf>,
}

impl ExportFiles {
    fn is_empty(&self) -> bool {
        self.pcap.is_none() && self.keylog.is_none()
    }

    fn write(&self, transcript: &tlsbio_memory::Transcript) -> Result<()> {
        if let Some(path) = &self.pcap {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            tlsbio_memory::pcap::write(transcript, std::io::BufWriter::new(file))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("capture      {}", path.display());
        }
        if let Some(path) = &self.keylog {
            std::fs::write(path, transcript.keylog())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "keylog       {} ({} secrets)",
                path.display(),
                transcript.secrets.len()
            );
        }
        Ok(())
    }
}

/// `tlsbio export`: a saved transcript for Wireshark.
#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// A transcript (from `tlsbio simulate --save` or `Transcript::to_text`).
    transcript: PathBuf,
    #[command(flatten)]
    files: ExportFiles,
}

/// Writes a saved transcript's capture and keylog.
pub(crate) fn export(args: &ExportArgs) -> Result<ExitCode> {
    if args.files.is_empty() {
        return Err("nothing to export: give --pcap FILE and/or --keylog FILE".into());
    }
    let path = args.transcript.display();
    let text = std::fs::read_to_string(&args.transcript)
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let transcript = tlsbio_memory::Transcript::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    if transcript.secrets.is_empty() && args.files.keylog.is_some() {
        return Err(format!(
            "{path}: no secrets (a version 1 transcript?): record it again with tlsbio simulate --save"
        ));
    }
    args.files.write(&transcript)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// A transcript written by `tlsbio simulate --save`.
    file: PathBuf,
}

/// How a run was set up: everything `replay` needs to rebuild the
/// engines. The schedule, capacities and scripts live in the transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Setup {
    seed: u64,
    tls12: bool,
}

impl Setup {
    fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        crate::versions(self.tls12, !self.tls12)
    }

    fn configs(self) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
        let crypto = InsecureDeterministicCrypto::new(self.seed);
        let pki = DeterministicPki::new(self.seed, &[SERVER_NAME]);
        let mut client = crypto.client_config(&pki, self.versions());
        // `Vec<u8>` on rustls 0.23, `ApplicationProtocol` on 0.24.
        #[allow(clippy::useless_conversion)]
        {
            client.alpn_protocols = vec![ALPN.to_vec().into()];
        }
        let mut server = crypto.server_config(&pki, self.versions());
        #[allow(clippy::useless_conversion)]
        {
            server.alpn_protocols = vec![ALPN.to_vec().into()];
        }
        (Arc::new(client), Arc::new(server))
    }

    fn endpoints(self) -> Result<(Endpoint, Endpoint)> {
        let (client, server) = self.configs();
        let client = Endpoint::client(client, SERVER_NAME).map_err(|e| e.to_string())?;
        Ok((client, Endpoint::Server(server)))
    }

    fn comment(self) -> String {
        format!(
            "{SAVED_BY} --seed {}{}",
            self.seed,
            if self.tls12 { " --tls12" } else { "" }
        )
    }

    /// Reads the comment line back.
    fn from_comment(text: &str) -> Option<Self> {
        let line = text.lines().find(|l| l.starts_with(SAVED_BY))?;
        let mut setup = Self {
            seed: 1,
            tls12: false,
        };
        let mut words = line[SAVED_BY.len()..].split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "--seed" => setup.seed = words.next()?.parse().ok()?,
                "--tls12" => setup.tls12 = true,
                _ => return None,
            }
        }
        Some(setup)
    }
}

pub(crate) fn simulate(args: &SimulateArgs) -> Result<ExitCode> {
    let setup = Setup {
        seed: args.seed,
        tls12: args.tls12,
    };
    let mut schedule = match &args.replay_schedule {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Schedule::from_text(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Schedule::from_name(&args.schedule)
            .ok_or_else(|| format!("unknown schedule {:?}", args.schedule))?,
    };
    if let Some(chunk) = args.chunk {
        schedule = schedule.with_capacities(Capacities::uniform(chunk as usize));
    }
    let (client, server) = setup.endpoints()?;

    let start = Instant::now();
    let mut builder = Harness::builder(client, server)
        .schedule(schedule)
        .client_script(Script::sending(Side::Client, args.bytes))
        .server_script(Script::sending(Side::Server, args.bytes));
    if let Some(fault) = &args.fault {
        builder = builder.fault(fault.clone());
    }
    let mut pair = builder.build().map_err(|e| e.to_string())?;
    let mut report = pair.run();
    let mut cut = false;
    if report.end == End::Stalled {
        // A fault can leave both sides waiting for bytes that will never
        // come (a corrupted length). A real peer would time out: do that.
        pair.cut_now();
        report = pair.run();
        cut = true;
    }
    let elapsed = start.elapsed();

    println!(
        "tlsbio simulate: seed {}, {}{}",
        setup.seed,
        if setup.tls12 { "TLS 1.2" } else { "TLS 1.3" },
        match &args.fault {
            Some(f) => format!(", fault {f:?}"),
            None => String::new(),
        }
    );
    println!();
    print!("{}", ladder(pair.transcript()));
    println!();
    print_summary(&pair, &report, cut, elapsed);

    args.export.write(pair.transcript())?;
    if let Some(path) = &args.save {
        let text = pair.transcript().to_text();
        // The version line must stay first; our comment goes right after.
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let saved = format!("{first}\n{}\n{rest}", setup.comment());
        std::fs::write(path, saved).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "saved        {} (replay: tlsbio replay {})",
            path.display(),
            path.display()
        );
    }

    // Without a fault anything but a clean run is a failure; with one, an
    // error is the expected outcome, and only a run that never ended is.
    let ok = if args.fault.is_some() {
        report.end == End::Finished
    } else {
        report.is_clean()
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(pair: &Harness, report: &Report, cut: bool, elapsed: std::time::Duration) {
    let client = pair.engine(Side::Client);
    let transcript = pair.transcript();
    let outcome = if report.is_clean() {
        "clean: handshake, data intact both ways, close_notify both ways".to_string()
    } else {
        let mut parts = vec![format!("{:?}", report.end)];
        if cut {
            parts.push("stalled, then the link was cut (a timeout)".into());
        }
        for side in [&report.client, &report.server] {
            match &side.error {
                Some(e) => parts.push(format!("{} failed: {e}", side.side.name())),
                None if side.closed => parts.push(format!("{} closed cleanly", side.side.name())),
                None => parts.push(format!("{} did not finish", side.side.name())),
            }
        }
        parts.join("; ")
    };
    println!("outcome      {outcome}");
    println!(
        "version      {}",
        client
            .protocol_version()
            .map_or("-".into(), |v| format!("{v:?}"))
    );
    println!(
        "suite        {}",
        client
            .cipher_suite()
            .map_or("-".into(), |s| format!("{:?}", s.suite()))
    );
    println!(
        "alpn         {}",
        client
            .alpn_protocol()
            .map_or("-".into(), |p| String::from_utf8_lossy(p).into_owned())
    );
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        println!(
            "{}          {} bytes in {} records",
            dir.arrow(),
            transcript.stream(dir).len(),
            transcript.record_count(dir)
        );
    }
    println!(
        "steps        {} harness actions; engine steps client {}, server {}",
        report.actions, report.client.stats.steps, report.server.stats.steps
    );
    println!("time         {elapsed:.2?} wall clock for the whole run, both sides");
}

pub(crate) fn replay(args: &ReplayArgs) -> Result<ExitCode> {
    let path = args.file.display();
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {path}: {e}"))?;
    let transcript = Transcript::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    let setup = Setup::from_comment(&text).ok_or_else(|| {
        format!("{path}: no valid '{SAVED_BY} ...' line: only files saved by `tlsbio simulate --save` can be replayed")
    })?;
    let (client, server) = setup.endpoints()?;
    println!(
        "replaying {path}: seed {}, {}, schedule {}",
        setup.seed,
        if setup.tls12 { "TLS 1.2" } else { "TLS 1.3" },
        transcript.schedule
    );
    let mut reproduced = true;
    for endpoint in [client, server] {
        let side = endpoint.side().name();
        match tlsbio_memory::replay(&transcript, &endpoint) {
            Ok(r) => println!(
                "{side:<6} reproduces: {} turns, {} bytes in, {} bytes out identical",
                r.turns, r.bytes_in, r.bytes_out
            ),
            Err(d) => {
                reproduced = false;
                println!("{side:<6} DIVERGES: {d}");
            }
        }
    }
    Ok(if reproduced {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_schedule(s: &str) -> std::result::Result<String, String> {
    Schedule::from_name(s)
        .map(|_| s.to_string())
        .ok_or_else(|| "expected lockstep, trickle or seeded:N".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_by_line_round_trips() {
        for setup in [
            Setup {
                seed: 7,
                tls12: true,
            },
            Setup {
                seed: u64::MAX,
                tls12: false,
            },
        ] {
            let text = format!("tlsbio-transcript 1\n{}\nend\n", setup.comment());
            assert_eq!(Setup::from_comment(&text), Some(setup));
        }
        assert_eq!(Setup::from_comment("# tlsbio simulate --seed x"), None);
        assert_eq!(Setup::from_comment("# tlsbio simulate --melt"), None);
    }
}
