//! The idle-memory bench on rustls 0.23 (see `../idle.rs`): tlsbio-mio's
//! server, with and without `Options::release_buffers`, and raw rustls.

#[path = "../../examples/common/echo.rs"]
mod echo;
#[path = "harness.rs"]
mod harness;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{announce, pki, LOOPBACK};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use tlsbio::rustls::ServerConnection;
use tlsbio::ServerContext;
use tlsbio_mio::{Limits, Server};

const LISTENER: Token = Token(0);

pub(crate) fn main() {
    let servers = [
        ("tlsbio", "tlsbio-mio Server"),
        (
            "tlsbio-release",
            "tlsbio-mio Server, Options::release_buffers",
        ),
        ("rustls", "raw rustls over mio"),
    ];
    harness::main(&servers, |which| match which {
        "tlsbio" => Some(serve_tlsbio(false)),
        "tlsbio-release" => Some(serve_tlsbio(true)),
        "rustls" => Some(serve_rustls()),
        _ => None,
    });
}

fn serve_tlsbio(release_buffers: bool) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let context = ServerContext::new(Arc::new(pki().stock_server_config()))
        .map_err(io::Error::other)?
        .with_options(tlsbio::Options::default().release_buffers(release_buffers));
    let limits = Limits::default().max_connections(20_000);
    let mut server: echo::EchoServer =
        Server::bind(LOOPBACK, context, limits, poll.registry(), LISTENER)?;
    announce(server.local_addr()?)?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            echo::on_event(&mut server, poll.registry(), event, &mut buf)?;
        }
        let now = Instant::now();
        echo::retry_accept(&mut server, poll.registry(), now)?;
        server.expire(poll.registry(), now);
    }
}

/// The obvious raw rustls server: a `ServerConnection` per socket, echo.
fn serve_rustls() -> io::Result<()> {
    let config = Arc::new(pki().stock_server_config());
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(LOOPBACK)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    announce(listener.local_addr()?)?;
    let mut conns: HashMap<Token, (TcpStream, ServerConnection)> = HashMap::new();
    let mut next = 1usize;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((mut socket, _)) = listener.accept() {
                    socket.set_nodelay(true)?;
                    let token = Token(next);
                    next += 1;
                    poll.registry().register(
                        &mut socket,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    let tls = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
                    conns.insert(token, (socket, tls));
                }
                continue;
            }
            let token = event.token();
            let Some((socket, tls)) = conns.get_mut(&token) else {
                continue;
            };
            let mut closed = false;
            loop {
                match tls.read_tls(socket) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
                if tls.process_new_packets().is_err() {
                    closed = true;
                    break;
                }
            }
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let _ = tls.writer().write_all(&buf[..n]);
                    }
                    Err(_) => break,
                }
            }
            while tls.wants_write() {
                match tls.write_tls(socket) {
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            if closed {
                if let Some((mut socket, _)) = conns.remove(&token) {
                    let _ = poll.registry().deregister(&mut socket);
                }
            }
        }
    }
}
