//! A transcript as a Wireshark capture: pcapng with Ethernet, IPv4 and TCP
//! framing, one TCP segment per harness move, so fragmentation shows as it
//! happened. With [`Transcript::keylog`] as the `SSLKEYLOGFILE`, Wireshark
//! and tshark decrypt it.
//!
//! The framing is made up but real: a three-way handshake, sequence and
//! acknowledgement numbers that follow the bytes delivered, checksums, a
//! FIN where a side's stream ended and an RST where the link was cut. The
//! client is 10.0.0.1:49152, the server 10.0.0.2:4433; timestamps start
//! at 2026-01-01 and advance a millisecond per packet, so the same
//! transcript always gives the same file. The file format and the packet
//! headers come from the `pcap-file` and `etherparse` crates.
//!
//! ```no_run
//! # fn demo(transcript: &tlsbio_memory::Transcript) -> std::io::Result<()> {
//! let mut file = std::fs::File::create("run.pcapng")?;
//! tlsbio_memory::pcap::write(transcript, &mut file)?;
//! std::fs::write("run.keys", transcript.keylog())?;
//! // wireshark -o tls.keylog_file:run.keys run.pcapng
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

use crate::schedule::Dir;
use crate::transcript::{Entry, Transcript};

/// The client's address and port.
pub const CLIENT: ([u8; 4], u16) = ([10, 0, 0, 1], 49152);
/// The server's address and port.
pub const SERVER: ([u8; 4], u16) = ([10, 0, 0, 2], 4433);

/// 2026-01-01T00:00:00Z.
const START: u64 = 1_767_225_600;
/// The largest TCP payload per packet; a bigger move becomes several.
const MSS: usize = 1460;
const ISN: [u32; 2] = [0x1000_0000, 0x2000_0000];

/// Writes `transcript` as a pcapng capture to `out`.
pub fn write(transcript: &Transcript, out: impl Write) -> io::Result<()> {
    let mut capture = Capture::new(out)?;
    capture.handshake()?;
    for entry in &transcript.entries {
        match entry {
            Entry::Data { dir, bytes, .. } | Entry::Inject { dir, bytes } => {
                for chunk in bytes.chunks(MSS) {
                    capture.segment(*dir, Flags::Data, chunk)?;
                }
            }
            Entry::Eof { dir } => capture.segment(*dir, Flags::Fin, &[])?,
            Entry::Cut { dir } => capture.segment(*dir, Flags::Rst, &[])?,
            Entry::Run { .. } | Entry::Corrupt { .. } | Entry::Lost { .. } => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
}

struct Capture<W: Write> {
    writer: PcapNgWriter<W>,
    /// Next sequence number to send, per direction (the sender's).
    seq: [u32; 2],
    packets: u64,
}

fn error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write> Capture<W> {
    fn new(out: W) -> io::Result<Self> {
        let mut writer = PcapNgWriter::new(out).map_err(error)?;
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            // pcap-file writes timestamps in nanoseconds.
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        writer.write_pcapng_block(interface).map_err(error)?;
        Ok(Self {
            writer,
            seq: ISN,
            packets: 0,
        })
    }

    fn handshake(&mut self) -> io::Result<()> {
        self.segment(Dir::ClientToServer, Flags::Syn, &[])?;
        self.segment(Dir::ServerToClient, Flags::SynAck, &[])?;
        self.segment(Dir::ClientToServer, Flags::Ack, &[])
    }

    /// One TCP segment from `dir`'s sender.
    fn segment(&mut self, dir: Dir, flags: Flags, payload: &[u8]) -> io::Result<()> {
        let (from, to) = match dir {
            Dir::ClientToServer => (CLIENT, SERVER),
            Dir::ServerToClient => (SERVER, CLIENT),
        };
        let (d, back) = (dir as usize, dir.reverse() as usize);
        let seq = self.seq[d];
        let ack = self.seq[back];
        let mac = |(ip, _): ([u8; 4], u16)| [0x02, 0, ip[0], ip[1], ip[2], ip[3]];
        let mut tcp = PacketBuilder::ethernet2(mac(from), mac(to))
            .ipv4(from.0, to.0, 64)
            .tcp(from.1, to.1, seq, 65535);
        tcp = match flags {
            Flags::Syn => tcp.syn(),
            Flags::SynAck => tcp.syn().ack(ack),
            Flags::Ack => tcp.ack(ack),
            Flags::Data => tcp.psh().ack(ack),
            Flags::Fin => tcp.fin().ack(ack),
            Flags::Rst => tcp.rst().ack(ack),
        };
        let mut frame = Vec::with_capacity(64 + payload.len());
        tcp.write(&mut frame, payload).map_err(error)?;
        // SYN and FIN take a sequence number; RST does not.
        let advance = payload.len() as u32
            + u32::from(matches!(flags, Flags::Syn | Flags::SynAck | Flags::Fin));
        self.seq[d] = seq.wrapping_add(advance);

        let packet = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_secs(START) + Duration::from_millis(self.packets),
            original_len: frame.len() as u32,
            data: Cow::Owned(frame),
            options: vec![],
        };
        self.packets += 1;
        self.writer.write_pcapng_block(packet).map_err(error)?;
        Ok(())
    }
}
