use super::*;
use crate::transport::{Destination, SendError};
use std::net::UdpSocket;

fn round_trip(listen: &str, peer_bind: &str, v4: bool) {
    let (t, rx) = start(&[(Transport::Udp, listen)]);
    let local = bound(&t, Transport::Udp, v4);
    let peer = UdpSocket::bind(peer_bind).expect("peer socket");
    peer.set_read_timeout(Some(WAIT)).expect("read timeout");
    let request = msg("udp", "hello");
    peer.send_to(&request, local).expect("peer sends");

    let got = next(&rx);
    assert_eq!(got.data, request);
    assert_eq!(got.source, peer.local_addr().expect("peer addr"));
    assert_eq!(got.local, local);
    assert_eq!(got.transport, Transport::Udp);
    assert_eq!(got.connection, None);

    let reply = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    let dest = Destination {
        transport: Transport::Udp,
        addr: got.source,
        connection: None,
    };
    t.send(&dest, reply).expect("send");
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).expect("peer receives the reply");
    assert_eq!(&buf[..n], reply);
    assert_eq!(from, local);
    assert_eq!(get(&t.stats().received), 1);
    assert_eq!(get(&t.stats().sent), 1);
    t.shutdown();
}

#[test]
fn udp_round_trip_ipv4() {
    round_trip("127.0.0.1:0", "127.0.0.1:0", true);
}

#[test]
fn udp_round_trip_ipv6() {
    if ipv6_available() {
        round_trip("[::1]:0", "[::1]:0", false);
    }
}

#[test]
fn udp_keepalive_ignored_and_oversize_dropped() {
    let limits = Limits {
        max_udp_datagram: 300,
        ..Limits::default()
    };
    let (t, rx) = start_with(&[(Transport::Udp, "127.0.0.1:0")], limits, 8);
    let local = bound(&t, Transport::Udp, true);
    let peer = UdpSocket::bind("127.0.0.1:0").expect("peer socket");
    peer.send_to(b"\r\n\r\n", local).expect("ping");
    peer.send_to(&msg("big", &"x".repeat(400)), local)
        .expect("big");
    let small = msg("small", "");
    peer.send_to(&small, local).expect("small");
    assert_eq!(next(&rx).data, small);
    assert_eq!(get(&t.stats().keepalives_ignored), 1);
    assert_eq!(get(&t.stats().dropped_too_large), 1);
    assert_eq!(get(&t.stats().received), 1);

    let dest = Destination {
        transport: Transport::Udp,
        addr: peer.local_addr().expect("peer addr"),
        connection: None,
    };
    assert!(matches!(
        t.send(&dest, &[b'x'; 301]),
        Err(SendError::TooLarge(301))
    ));
    t.shutdown();
}

#[test]
fn udp_full_queue_drops_and_counts() {
    let (t, rx) = start_with(&[(Transport::Udp, "127.0.0.1:0")], Limits::default(), 1);
    let local = bound(&t, Transport::Udp, true);
    let peer = UdpSocket::bind("127.0.0.1:0").expect("peer socket");
    for i in 0..3 {
        peer.send_to(&msg(&format!("q{i}"), ""), local)
            .expect("send");
    }
    eventually("three datagrams received", || get(&t.stats().received) == 3);
    assert_eq!(get(&t.stats().dropped_queue_full), 2);
    assert_eq!(next(&rx).data, msg("q0", ""));
    t.shutdown();
}

#[test]
fn udp_send_without_listener_of_that_family() {
    let (t, _rx) = start(&[(Transport::Udp, "127.0.0.1:0")]);
    let dest = Destination {
        transport: Transport::Udp,
        addr: "[::1]:5060".parse().expect("addr"),
        connection: None,
    };
    let err = t.send(&dest, b"x").expect_err("no IPv6 listener");
    assert!(
        matches!(err, SendError::NoListener(Transport::Udp, "IPv6")),
        "{err}"
    );
    assert_eq!(err.to_string(), "no udp listener for IPv6 destinations");
    t.shutdown();
}
