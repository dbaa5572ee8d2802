//! Loopback tests of the transports. Every test uses port 0, bounds its waits, and shuts
//! its transports down (dropping the last `Arc<Transports>` joins every thread).

mod local_addr;
mod tcp;
mod tcp_connections;
mod udp;

use super::{Inbound, Limits, ListenerSpec, Transport, Transports};
use crossbeam_channel::Receiver;
use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest any single wait in a test may take.
const WAIT: Duration = Duration::from_secs(3);

/// A SIP request with a correct Content-Length.
fn msg(tag: &str, body: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:{tag}@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK{tag}\r\n\
         Call-ID: {tag}\r\nCSeq: 1 OPTIONS\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Starts transports on `listeners` with an inbound queue of `queue` messages.
fn start_with(
    listeners: &[(Transport, &str)],
    limits: Limits,
    queue: usize,
) -> (Arc<Transports>, Receiver<Inbound>) {
    let specs: Vec<ListenerSpec> = listeners
        .iter()
        .map(|(transport, addr)| ListenerSpec {
            transport: *transport,
            addr: addr.parse().expect("test address"),
        })
        .collect();
    let (tx, rx) = crossbeam_channel::bounded(queue);
    let t = Transports::start(&specs, limits, tx).expect("transports start");
    (t, rx)
}

/// Starts transports on `listeners` with default limits.
fn start(listeners: &[(Transport, &str)]) -> (Arc<Transports>, Receiver<Inbound>) {
    start_with(listeners, Limits::default(), 64)
}

/// The bound address of the first listener of `transport` and `addr`'s family.
fn bound(t: &Transports, transport: Transport, v4: bool) -> SocketAddr {
    t.local_addrs()
        .into_iter()
        .find(|(tr, a)| *tr == transport && a.is_ipv4() == v4)
        .expect("listener bound")
        .1
}

/// The next inbound message, failing the test after [`WAIT`].
fn next(rx: &Receiver<Inbound>) -> Inbound {
    rx.recv_timeout(WAIT).expect("an inbound message in time")
}

/// Whether [`super::Transports::start`] can bind `[::1]` here.
fn ipv6_available() -> bool {
    let ok = std::net::UdpSocket::bind("[::1]:0").is_ok();
    if !ok {
        eprintln!("note: IPv6 loopback unavailable, skipping the IPv6 part of this test");
    }
    ok
}

/// A client connection with bounded reads.
fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, WAIT).expect("connect to listener");
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Reads exactly `n` bytes.
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).expect("peer reads the data");
    buf
}

/// Waits until the other side closes `s`; returns how long that took.
fn wait_closed(s: &mut TcpStream) -> Duration {
    let t0 = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return t0.elapsed(),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return t0.elapsed()
            }
            Err(e) => panic!("connection not closed after {:?}: {e}", t0.elapsed()),
        }
        assert!(t0.elapsed() < WAIT, "connection not closed in time");
    }
}

/// Polls `cond` until it holds, failing after [`WAIT`].
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(t0.elapsed() < WAIT, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a counter.
fn get(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.load(std::sync::atomic::Ordering::Relaxed)
}
