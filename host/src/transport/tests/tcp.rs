//! TCP framing, keep-alives, limits and timeouts on accepted connections.

use super::*;
use std::io::Write;

fn tcp_v4() -> (Arc<Transports>, Receiver<Inbound>, SocketAddr) {
    tcp_v4_with(Limits::default())
}

fn tcp_v4_with(limits: Limits) -> (Arc<Transports>, Receiver<Inbound>, SocketAddr) {
    let (t, rx) = start_with(&[(Transport::Tcp, "127.0.0.1:0")], limits, 64);
    let local = bound(&t, Transport::Tcp, true);
    (t, rx, local)
}

#[test]
fn tcp_two_messages_in_one_write() {
    let (t, rx, local) = tcp_v4();
    let mut peer = connect(local);
    let (a, b) = (msg("a", "first"), msg("b", ""));
    peer.write_all(&[a.clone(), b.clone()].concat())
        .expect("write");
    let first = next(&rx);
    let second = next(&rx);
    assert_eq!(first.data, a);
    assert_eq!(second.data, b);
    assert_eq!(first.transport, Transport::Tcp);
    assert_eq!(first.source, peer.local_addr().expect("peer addr"));
    assert_eq!(first.local, local);
    assert!(first.connection.is_some());
    assert_eq!(first.connection, second.connection);
    t.shutdown();
}

#[test]
fn tcp_one_message_in_three_chunks() {
    let (t, rx, local) = tcp_v4();
    let mut peer = connect(local);
    let m = msg("chunks", "body bytes");
    let (head, rest) = m.split_at(20);
    let (middle, tail) = rest.split_at(rest.len() - 4);
    for part in [head, middle, tail] {
        peer.write_all(part).expect("write");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(next(&rx).data, m);
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    assert_eq!(get(&t.stats().received), 1);
    t.shutdown();
}

#[test]
fn tcp_message_then_partial_next_in_one_write() {
    let (t, rx, local) = tcp_v4();
    let mut peer = connect(local);
    let (a, b) = (msg("a", "x"), msg("b", "yy"));
    let (b1, b2) = b.split_at(30);
    peer.write_all(&[a.as_slice(), b1].concat()).expect("write");
    assert_eq!(next(&rx).data, a);
    std::thread::sleep(Duration::from_millis(50));
    peer.write_all(b2).expect("write");
    assert_eq!(next(&rx).data, b);
    t.shutdown();
}

#[test]
fn tcp_crlf_ping_gets_crlf_pong() {
    let (t, rx, local) = tcp_v4();
    let mut peer = connect(local);
    peer.write_all(b"\r\n\r\n").expect("ping");
    assert_eq!(read_n(&mut peer, 2), b"\r\n");
    eventually("pong counted", || get(&t.stats().keepalives_answered) == 1);
    // The connection still carries messages afterwards.
    let m = msg("after-ping", "");
    peer.write_all(&m).expect("write");
    assert_eq!(next(&rx).data, m);
    t.shutdown();
}

#[test]
fn tcp_garbage_content_length_closes() {
    for value in ["-5", "ten"] {
        let (t, rx, local) = tcp_v4();
        let mut peer = connect(local);
        let bad = format!("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: {value}\r\n\r\n");
        peer.write_all(bad.as_bytes()).expect("write");
        wait_closed(&mut peer);
        assert!(rx.try_recv().is_err());
        assert_eq!(get(&t.stats().invalid_frames), 1);
        eventually("connection removed", || {
            get(&t.stats().connections_open) == 0
        });
        t.shutdown();
    }
}

#[test]
fn tcp_header_section_over_limit_closes() {
    let limits = Limits {
        max_header_bytes: 256,
        ..Limits::default()
    };
    let (t, rx, local) = tcp_v4_with(limits);
    let mut peer = connect(local);
    let mut long = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
    while long.len() < 400 {
        long.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n");
    }
    peer.write_all(&long).expect("write");
    // No Via, From, To, Call-ID or CSeq to copy into an answer: just closed.
    assert_eq!(read_to_close(&mut peer), b"");
    assert!(rx.try_recv().is_err());
    assert_eq!(get(&t.stats().invalid_frames), 1);
    assert_eq!(get(&t.stats().invalid_frames_answered), 0);
    t.shutdown();
}

/// The start of a request with every header a response copies.
const HEAD: &str = "INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKlim\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: limits-1\r\nCSeq: 1 INVITE\r\n";

/// Reads until the peer closes; returns everything read.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("connection not closed after {:?}: {e}", t0.elapsed()),
        }
        assert!(t0.elapsed() < WAIT, "connection not closed in time");
    }
}

/// Writes `data` (the server may stop reading part way) and returns everything read until close.
fn exchange(local: SocketAddr, data: &[u8]) -> String {
    let mut peer = connect(local);
    let _ = peer.write_all(data);
    String::from_utf8(read_to_close(&mut peer)).expect("UTF-8 answer")
}

#[test]
fn tcp_request_over_a_limit_is_answered_then_closed() {
    let limits = Limits {
        max_header_bytes: 1024,
        max_body_bytes: 4096,
        ..Limits::default()
    };
    let (t, rx, local) = tcp_v4_with(limits);
    // Header section over the limit, with a long header still being sent: 513 before the close,
    // and the answer survives the unread bytes (lingering close, no reset).
    let mut big = HEAD.as_bytes().to_vec();
    big.extend_from_slice(format!("X-Long: {}\r\n", "a".repeat(200_000)).as_bytes());
    let answer = exchange(local, &big);
    assert!(answer.starts_with("SIP/2.0 513 Message Too Large\r\nVia: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKlim\r\n"), "{answer}");
    assert!(
        answer.contains("Call-ID: limits-1\r\n")
            && answer.contains("To: <sip:b@127.0.0.1>;tag=sih0\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("Warning: 399 sip-interop \"header section over 1024 bytes\"\r\n"),
        "{answer}"
    );
    // Content-Length over the body limit: 413, before any of the body is read.
    let answer = exchange(
        local,
        format!("{HEAD}Content-Length: 4097\r\n\r\n").as_bytes(),
    );
    assert!(
        answer.starts_with("SIP/2.0 413 Request Entity Too Large\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\"body over 4096 bytes\""), "{answer}");
    // No Content-Length on a stream: 400.
    let answer = exchange(local, format!("{HEAD}\r\n").as_bytes());
    assert!(
        answer.starts_with("SIP/2.0 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Content-Length required"), "{answer}");
    // A response is never answered.
    let resp = HEAD.replace("INVITE sip:b@127.0.0.1 SIP/2.0", "SIP/2.0 180 Ringing");
    assert_eq!(
        exchange(
            local,
            format!("{resp}Content-Length: 99999\r\n\r\n").as_bytes()
        ),
        ""
    );
    assert!(rx.try_recv().is_err());
    assert_eq!(get(&t.stats().invalid_frames), 4);
    assert_eq!(get(&t.stats().invalid_frames_answered), 3);
    eventually("connections removed", || {
        get(&t.stats().connections_open) == 0
    });
    t.shutdown();
}

#[test]
fn tcp_slow_loris_closed_after_message_timeout() {
    let limits = Limits {
        message_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (t, rx, local) = tcp_v4_with(limits);
    let mut peer = connect(local);
    peer.write_all(b"OPTIONS sip:slow@b SIP/2.0\r\nVia: ")
        .expect("write");
    let took = wait_closed(&mut peer);
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "closed too late: {took:?}"
    );
    assert!(rx.try_recv().is_err());
    assert_eq!(get(&t.stats().connections_closed_timeout), 1);
    t.shutdown();
}

#[test]
fn tcp_idle_connection_closed_after_idle_timeout() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (t, _rx, local) = tcp_v4_with(limits);
    let mut peer = connect(local);
    let took = wait_closed(&mut peer);
    assert!(
        took < Duration::from_millis(1500),
        "closed too late: {took:?}"
    );
    assert_eq!(get(&t.stats().connections_closed_timeout), 1);
    t.shutdown();
}

#[test]
fn tcp_ipv6_round_trip() {
    if !ipv6_available() {
        return;
    }
    let (t, rx) = start(&[(Transport::Tcp, "[::1]:0")]);
    let local = bound(&t, Transport::Tcp, false);
    let mut peer = connect(local);
    let m = msg("v6", "hi");
    peer.write_all(&m).expect("write");
    let got = next(&rx);
    assert_eq!(got.data, m);
    assert!(got.source.is_ipv6());
    let reply = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    let dest = crate::transport::Destination {
        transport: Transport::Tcp,
        addr: got.source,
        connection: got.connection,
    };
    t.send(&dest, reply).expect("send");
    assert_eq!(read_n(&mut peer, reply.len()), reply);
    t.shutdown();
}
