//! The connection table: limits, reuse of the peer's connection, outbound connects, shutdown.

use super::*;
use crate::transport::{Destination, SendError};
use std::io::Write;
use std::net::TcpListener;

const REPLY: &[u8] = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn tcp_max_connections_closes_the_extra_one_at_once() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let (t, rx) = start_with(&[(Transport::Tcp, "127.0.0.1:0")], limits, 64);
    let local = bound(&t, Transport::Tcp, true);
    let mut first = connect(local);
    let mut second = connect(local);
    eventually("two connections open", || {
        get(&t.stats().connections_open) == 2
    });
    let mut third = connect(local);
    let took = wait_closed(&mut third);
    assert!(
        took < Duration::from_millis(1000),
        "closed too late: {took:?}"
    );
    assert_eq!(get(&t.stats().connections_refused), 1);
    assert_eq!(get(&t.stats().connections_open), 2);
    for (i, peer) in [&mut first, &mut second].into_iter().enumerate() {
        let m = msg(&format!("kept{i}"), "");
        peer.write_all(&m).expect("write");
        assert_eq!(next(&rx).data, m);
    }
    t.shutdown();
}

#[test]
fn tcp_send_reuses_the_connection_the_peer_opened() {
    let (t, rx) = start(&[(Transport::Tcp, "127.0.0.1:0")]);
    let mut peer = connect(bound(&t, Transport::Tcp, true));
    peer.write_all(&msg("reuse", "")).expect("write");
    let got = next(&rx);

    // By address only (in-dialog request to the peer's address) ...
    let by_addr = Destination {
        transport: Transport::Tcp,
        addr: got.source,
        connection: None,
    };
    t.send(&by_addr, REPLY).expect("send by address");
    assert_eq!(read_n(&mut peer, REPLY.len()), REPLY);

    // ... and by connection id (a response), even with another address.
    let by_id = Destination {
        transport: Transport::Tcp,
        addr: "127.0.0.1:9".parse().expect("addr"),
        connection: got.connection,
    };
    t.send(&by_id, REPLY).expect("send by connection");
    assert_eq!(read_n(&mut peer, REPLY.len()), REPLY);
    assert_eq!(get(&t.stats().connections_open), 1);
    assert_eq!(get(&t.stats().sent), 2);
    t.shutdown();
}

#[test]
fn tcp_send_opens_a_connection_and_reads_the_reply_on_it() {
    let (t, rx) = start(&[(Transport::Tcp, "127.0.0.1:0")]);
    let remote = TcpListener::bind("127.0.0.1:0").expect("remote listener");
    let remote_addr = remote.local_addr().expect("remote addr");
    let request = msg("out", "ping");
    let dest = Destination {
        transport: Transport::Tcp,
        addr: remote_addr,
        connection: None,
    };
    t.send(&dest, &request).expect("send opens a connection");
    let (mut accepted, _) = remote.accept().expect("remote accepts");
    accepted.set_read_timeout(Some(WAIT)).expect("read timeout");
    assert_eq!(read_n(&mut accepted, request.len()), request);
    accepted.write_all(REPLY).expect("reply");

    let got = next(&rx);
    assert_eq!(got.data, REPLY);
    assert_eq!(got.source, remote_addr);
    assert_eq!(got.transport, Transport::Tcp);
    assert_eq!(got.local, accepted.peer_addr().expect("our end"));
    assert!(got.connection.is_some());
    assert_eq!(get(&t.stats().connections_open), 1);

    // A second send goes on the same connection.
    t.send(&dest, &request).expect("second send");
    assert_eq!(read_n(&mut accepted, request.len()), request);
    assert_eq!(get(&t.stats().connections_open), 1);
    t.shutdown();
    wait_closed(&mut accepted);
}

#[test]
fn tcp_connect_refused_is_a_connect_error() {
    let (t, _rx) = start(&[(Transport::Tcp, "127.0.0.1:0")]);
    let closed = TcpListener::bind("127.0.0.1:0").expect("port");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let dest = Destination {
        transport: Transport::Tcp,
        addr,
        connection: None,
    };
    let err = t.send(&dest, b"x").expect_err("nobody listens");
    assert!(matches!(err, SendError::Connect(_)), "{err}");
    t.shutdown();
}

#[test]
fn shutdown_stops_listeners_connections_and_sends() {
    let (t, rx) = start(&[
        (Transport::Tcp, "127.0.0.1:0"),
        (Transport::Udp, "127.0.0.1:0"),
    ]);
    let tcp = bound(&t, Transport::Tcp, true);
    let mut peer = connect(tcp);
    peer.write_all(&msg("before", "")).expect("write");
    let got = next(&rx);

    let t0 = Instant::now();
    t.shutdown();
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "shutdown took {:?}",
        t0.elapsed()
    );
    wait_closed(&mut peer);
    assert!(TcpStream::connect_timeout(&tcp, Duration::from_millis(500)).is_err());
    assert_eq!(get(&t.stats().connections_open), 0);
    let dest = Destination {
        transport: Transport::Tcp,
        addr: got.source,
        connection: got.connection,
    };
    assert!(matches!(
        t.send(&dest, REPLY),
        Err(SendError::NoListener(..))
    ));
    t.shutdown(); // idempotent
}
