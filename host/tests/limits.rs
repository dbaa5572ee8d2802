//! The proxy's limits against the running binary, on loopback: each abuse is met at a bounded cost
//! with a clear answer or a close, and normal calls keep going through.
//!
//! - a UDP datagram over `max_udp_bytes`: dropped unread (logged), the next call works;
//! - a stream header section over `max_header_bytes`: `513` then close; a Content-Length over
//!   `max_body_bytes`: `413` then close, before the body is read;
//! - more header fields than `max_headers` (10 000 in one datagram) and a 60 KB header line: `513`
//!   with a Warning saying why, at once; exactly `max_headers` fields still go through;
//! - 50 slow-loris TCP clients (a byte a second): each closed after `message_timeout_s`, while a
//!   normal UDP and a normal TCP call go through promptly;
//! - a connection flood over `max_connections`: the extra connections closed at once, the reader
//!   threads (one per connection) bounded by `max_connections`, and a new client served afterwards.
//!
//! Every proxy is a `sip-interop run` child stopped by its PID when its handle drops. About 10 s in
//! all, the tests running side by side.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_interop_abi::sip::header_name::kind;
use sip_interop_abi::sip::{frame, Frame, Message};
use support::sipp::{proxy_with, Proc};
use support::{status_field, temp_dir};

/// Longest a prompt answer may take (a debug build on two busy cores).
const PROMPT: Duration = Duration::from_secs(2);

/// A UDP callee answering every INVITE with 486; stops (by its flag) when dropped.
struct Callee {
    addr: SocketAddr,
    invites: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Callee {
    fn start() -> Callee {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let invites = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (invites.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while !halt.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(m) = Message::parse(&buf[..n]) else {
                    continue;
                };
                if m.method().map(|x| x.as_str().to_string()).as_deref() != Some("INVITE") {
                    continue;
                }
                count.fetch_add(1, Ordering::Relaxed);
                let mut r = String::from("SIP/2.0 486 Busy Here\r\n");
                for e in m.header_entries() {
                    if e.kind == kind::VIA {
                        r.push_str(&format!("Via: {}\r\n", m.value_of(e)));
                    }
                }
                for (k, name) in [
                    (kind::FROM, "From"),
                    (kind::CALL_ID, "Call-ID"),
                    (kind::CSEQ, "CSeq"),
                ] {
                    r.push_str(&format!("{name}: {}\r\n", m.first_value(k).unwrap_or("")));
                }
                r.push_str(&format!(
                    "To: {};tag=callee\r\nContent-Length: 0\r\n\r\n",
                    m.first_value(kind::TO).unwrap_or("")
                ));
                let _ = sock.send_to(r.as_bytes(), from);
            }
        });
        Callee {
            addr,
            invites,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Callee {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An INVITE from `local` over `transport` ("UDP"/"TCP") to the callee at `to`, with `extra` header
/// lines and `body`.
fn invite(
    tag: &str,
    transport: &str,
    local: SocketAddr,
    to: SocketAddr,
    extra: &str,
    body: &str,
) -> Vec<u8> {
    format!(
        "INVITE sip:bob@{to} SIP/2.0\r\nVia: SIP/2.0/{transport} {local};branch=z9hG4bK-{tag}\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=a-{tag}\r\nTo: <sip:bob@{to}>\r\nCall-ID: {tag}@127.0.0.1\r\nCSeq: 1 INVITE\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The first final answer `sock` receives within `limit` (provisional ones skipped).
fn final_over_udp(sock: &UdpSocket, limit: Duration) -> Option<String> {
    let t0 = Instant::now();
    let mut buf = vec![0u8; 65_536];
    while t0.elapsed() < limit {
        if let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("SIP/2.0 1") {
                return Some(text);
            }
        }
    }
    None
}

/// A caller socket on loopback, reading in short steps.
fn udp_caller() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s
}

/// A normal call over UDP: the callee's 486 comes back within [`PROMPT`]; returns how long it took.
fn udp_call(port: u16, callee: &Callee, tag: &str) -> Duration {
    let sock = udp_caller();
    let t0 = Instant::now();
    let local = sock.local_addr().unwrap();
    sock.send_to(
        &invite(tag, "UDP", local, callee.addr, "", ""),
        ("127.0.0.1", port),
    )
    .unwrap();
    let answer =
        final_over_udp(&sock, PROMPT).unwrap_or_else(|| panic!("no answer to the UDP call {tag}"));
    assert!(
        answer.starts_with("SIP/2.0 486 "),
        "UDP call {tag}: {answer}"
    );
    t0.elapsed()
}

/// Reads framed messages from `s` until a final answer, the close, or `limit`; returns the
/// messages read and whether the proxy closed the connection.
fn read_stream(s: &mut TcpStream, limit: Duration) -> (Vec<String>, bool) {
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let t0 = Instant::now();
    let (mut buf, mut out) = (Vec::new(), Vec::new());
    let mut chunk = [0u8; 4096];
    while t0.elapsed() < limit {
        match s.read(&mut chunk) {
            Ok(0) => return (out, true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (out, true),
        }
        while let Frame::Complete { len } = frame(&buf, 1 << 20, 1 << 20) {
            let msg: Vec<u8> = buf.drain(..len).collect();
            let text = String::from_utf8_lossy(&msg).into_owned();
            let is_final = !text.starts_with("SIP/2.0 1");
            out.push(text);
            if is_final {
                return (out, false);
            }
        }
    }
    (out, false)
}

/// A normal call over TCP: the callee's 486 comes back on the connection within [`PROMPT`].
fn tcp_call(port: u16, callee: &Callee, tag: &str) -> Duration {
    let t0 = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the proxy");
    let local = s.local_addr().unwrap();
    s.write_all(&invite(tag, "TCP", local, callee.addr, "", ""))
        .unwrap();
    let (msgs, _) = read_stream(&mut s, PROMPT);
    let last = msgs.last().cloned().unwrap_or_default();
    assert!(last.starts_with("SIP/2.0 486 "), "TCP call {tag}: {msgs:?}");
    t0.elapsed()
}

/// Whether the proxy closed `s` (EOF or reset) within `wait`.
fn is_closed(s: &TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut b = [0u8; 16];
    match (&*s).read(&mut b) {
        Ok(n) => n == 0,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

fn start(tag: &str, proxy_settings: &str) -> (Proc, u16, std::path::PathBuf) {
    let dir = temp_dir(tag);
    let (p, port) = proxy_with(&dir, &format!("[proxy]\nt1_ms = 100\n{proxy_settings}"), "");
    (p, port, dir)
}

fn log(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default()
}

/// The header the proxy says why in.
fn warning(answer: &str) -> &str {
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Warning: "))
        .unwrap_or("")
}

#[test]
fn a_datagram_over_max_udp_bytes_is_dropped_unread() {
    let (_proxy, port, dir) = start("limits-udp-size", "max_udp_bytes = 4096\n");
    let callee = Callee::start();
    let sock = udp_caller();
    let local = sock.local_addr().unwrap();
    let big = invite(
        "udp-big",
        "UDP",
        local,
        callee.addr,
        "",
        &"v=0\r\n".repeat(1000),
    );
    assert!(big.len() > 4096);
    sock.send_to(&big, ("127.0.0.1", port)).unwrap();
    assert_eq!(
        final_over_udp(&sock, Duration::from_millis(500)),
        None,
        "no answer"
    );
    assert_eq!(callee.invites.load(Ordering::Relaxed), 0, "not forwarded");
    assert!(
        log(&dir).contains("UDP datagram too large: dropped"),
        "{}",
        log(&dir)
    );
    // Just under the limit still goes through.
    let fits = invite(
        "udp-fits",
        "UDP",
        local,
        callee.addr,
        "",
        &"v=0\r\n".repeat(700),
    );
    assert!(fits.len() < 4096);
    sock.send_to(&fits, ("127.0.0.1", port)).unwrap();
    let answer = final_over_udp(&sock, PROMPT).expect("an answer");
    assert!(answer.starts_with("SIP/2.0 486 "), "{answer}");
}

#[test]
fn stream_messages_over_the_size_limits_are_answered_then_closed() {
    let (_proxy, port, _dir) = start(
        "limits-stream-size",
        "max_header_bytes = 2048\nmax_body_bytes = 4096\n",
    );
    let callee = Callee::start();
    // Header section over 2048 bytes (a header still growing): 513, then the close.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let local = s.local_addr().unwrap();
    let head = invite("tcp-head", "TCP", local, callee.addr, "", "");
    let cut = head.len() - "Content-Length: 0\r\n\r\n".len();
    let t0 = Instant::now();
    s.write_all(&head[..cut]).unwrap();
    let _ = s.write_all(format!("X-Long: {}", "a".repeat(100_000)).as_bytes());
    let (msgs, closed) = read_stream(&mut s, PROMPT);
    let (msgs2, closed2) = if closed {
        (vec![], true)
    } else {
        read_stream(&mut s, PROMPT)
    };
    assert!(
        closed || closed2,
        "connection left open: {msgs:?} {msgs2:?}"
    );
    assert!(t0.elapsed() < PROMPT * 2);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with("SIP/2.0 513 Message Too Large\r\n"),
        "{}",
        msgs[0]
    );
    assert_eq!(
        warning(&msgs[0]),
        "399 sip-interop \"header section over 2048 bytes\""
    );
    assert!(
        msgs[0].contains("Call-ID: tcp-head@127.0.0.1\r\n"),
        "{}",
        msgs[0]
    );

    // Content-Length over 4096: 413 before any of the body is sent, then the close.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let local = s.local_addr().unwrap();
    let req = invite("tcp-body", "TCP", local, callee.addr, "", &"x".repeat(5000));
    let body_at = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    s.write_all(&req[..body_at]).unwrap();
    let (msgs, _) = read_stream(&mut s, PROMPT);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(
        msgs[0].starts_with("SIP/2.0 413 Request Entity Too Large\r\n"),
        "{}",
        msgs[0]
    );
    assert_eq!(
        warning(&msgs[0]),
        "399 sip-interop \"body over 4096 bytes\""
    );
    let (_, closed) = read_stream(&mut s, PROMPT);
    assert!(closed, "connection left open after 413");
    assert_eq!(
        callee.invites.load(Ordering::Relaxed),
        0,
        "nothing forwarded"
    );
    // Within the limits, the same connection setup carries a call.
    tcp_call(port, &callee, "tcp-normal");
}

#[test]
fn too_many_header_fields_and_a_60_kb_line_get_513_at_once() {
    let (_proxy, port, _dir) = start("limits-fields", "");
    let callee = Callee::start();
    let sock = udp_caller();
    let local = sock.local_addr().unwrap();
    let send = |tag: &str, extra: &str| -> (String, Duration) {
        let t0 = Instant::now();
        let m = invite(tag, "UDP", local, callee.addr, extra, "");
        assert!(m.len() <= 65_507, "{} bytes", m.len());
        sock.send_to(&m, ("127.0.0.1", port)).unwrap();
        let a = final_over_udp(&sock, PROMPT).unwrap_or_else(|| panic!("no answer to {tag}"));
        (a, t0.elapsed())
    };
    // The INVITE has 7 header fields of its own: 249 more make the default 256, accepted.
    let (a, _) = send("fields-256", &"X: y\r\n".repeat(249));
    assert!(a.starts_with("SIP/2.0 486 "), "{a}");
    let (a, _) = send("fields-257", &"X: y\r\n".repeat(250));
    assert!(a.starts_with("SIP/2.0 513 Message Too Large\r\n"), "{a}");
    assert_eq!(
        warning(&a),
        "399 sip-interop \"257 header fields: more than the 256 this proxy accepts\""
    );
    // 10 000 tiny header fields in one datagram.
    let (a, took) = send("fields-10000", &"X: y\r\n".repeat(10_000));
    assert!(a.starts_with("SIP/2.0 513 "), "{a}");
    assert!(warning(&a).contains("10007 header fields"), "{a}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // One header line of 60 KB: the header section is over max_header_bytes (16384).
    let (a, took) = send("line-60k", &format!("X-Long: {}\r\n", "a".repeat(60_000)));
    assert!(a.starts_with("SIP/2.0 513 "), "{a}");
    assert!(
        warning(&a).contains("more than the 16384 this proxy accepts"),
        "{a}"
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(
        callee.invites.load(Ordering::Relaxed),
        1,
        "only the call within the limits was forwarded"
    );
}

#[test]
fn slow_loris_clients_are_closed_while_normal_calls_go_through() {
    let (proxy, port, dir) = start("limits-loris", "message_timeout_s = 2\n");
    let callee = Callee::start();
    let pid = proxy.child.id();
    let threads_idle = status_field(pid, "Threads:");
    let mut loris: Vec<(TcpStream, Option<Duration>)> = (0..50)
        .map(|_| {
            let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            s.set_nonblocking(true).unwrap();
            (s, None)
        })
        .collect();
    let request = b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-loris\r\n";
    let t0 = Instant::now();
    let mut sent = 0;
    let mut calls = Vec::new();
    let mut peak_threads = 0;
    // A byte a second from each client; the calls run while they hang.
    while t0.elapsed() < Duration::from_secs(6) && loris.iter().any(|(_, c)| c.is_none()) {
        if t0.elapsed() >= Duration::from_secs(sent) {
            for (s, closed) in loris.iter_mut().filter(|(_, c)| c.is_none()) {
                if s.write_all(&request[sent as usize..sent as usize + 1])
                    .is_err()
                {
                    *closed = Some(t0.elapsed());
                }
            }
            sent += 1;
        }
        peak_threads = peak_threads.max(status_field(pid, "Threads:"));
        if sent == 1 && calls.is_empty() {
            calls.push(udp_call(port, &callee, "during-loris-udp"));
            calls.push(tcp_call(port, &callee, "during-loris-tcp"));
        }
        for (s, closed) in loris.iter_mut().filter(|(_, c)| c.is_none()) {
            let mut b = [0u8; 64];
            match s.read(&mut b) {
                Ok(0) => *closed = Some(t0.elapsed()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                _ => *closed = Some(t0.elapsed()),
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let closed: Vec<Duration> = loris.iter().filter_map(|(_, c)| *c).collect();
    eprintln!(
        "slow loris: {} of 50 closed, after {:?} to {:?}; calls meanwhile {calls:?}; threads {threads_idle} idle, {peak_threads} with 50 clients",
        closed.len(),
        closed.iter().min(),
        closed.iter().max()
    );
    assert_eq!(
        closed.len(),
        50,
        "every slow client is closed:\n{}",
        log(&dir)
    );
    assert!(
        closed
            .iter()
            .all(|c| *c >= Duration::from_millis(1900) && *c < Duration::from_secs(4)),
        "closed after message_timeout_s (2 s): {closed:?}"
    );
    assert!(
        calls.iter().all(|c| *c < Duration::from_secs(1)),
        "calls during the slow clients: {calls:?}"
    );
    // One reader thread per connection, and no more.
    assert!(
        peak_threads <= threads_idle + 50 + 1,
        "{peak_threads} threads with 50 clients ({threads_idle} idle)"
    );
}

#[test]
fn a_connection_flood_is_cut_at_max_connections_and_served_afterwards() {
    let max = 32;
    let (proxy, port, dir) = start("limits-flood", &format!("max_connections = {max}\n"));
    let callee = Callee::start();
    let pid = proxy.child.id();
    let threads_idle = status_field(pid, "Threads:");
    let flood: Vec<TcpStream> = (0..3 * max)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    // The extra ones are closed at once; the first `max` stay open.
    let t0 = Instant::now();
    let mut extra_closed = Vec::new();
    for (i, s) in flood.iter().enumerate() {
        let closed = is_closed(s, Duration::from_millis(if i < max { 20 } else { 1000 }));
        if i >= max {
            extra_closed.push(closed);
        } else {
            assert!(
                !closed,
                "connection {i} (within max_connections) was closed"
            );
        }
    }
    let cut_in = t0.elapsed();
    let threads_flood = status_field(pid, "Threads:");
    eprintln!(
        "flood: {} connections, {} extra closed in {cut_in:?}; threads {threads_idle} idle, {threads_flood} during the flood (max_connections {max})",
        flood.len(),
        extra_closed.iter().filter(|c| **c).count()
    );
    assert!(
        extra_closed.iter().all(|c| *c),
        "every connection over max_connections is closed at once"
    );
    assert!(cut_in < Duration::from_secs(3), "took {cut_in:?}");
    assert!(
        threads_flood <= threads_idle + max as u64,
        "{threads_flood} threads during the flood ({threads_idle} idle): not bounded by max_connections"
    );
    // UDP is not affected while the table is full.
    udp_call(port, &callee, "during-flood");
    drop(flood);
    // Once the flood is gone, the reader threads end and a new TCP client is served.
    let t1 = Instant::now();
    while status_field(pid, "Threads:") > threads_idle && t1.elapsed() < PROMPT {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        status_field(pid, "Threads:") <= threads_idle,
        "reader threads left after the flood"
    );
    tcp_call(port, &callee, "after-flood");
    assert!(
        log(&dir).contains("connection limit reached"),
        "{}",
        log(&dir)
    );
}
