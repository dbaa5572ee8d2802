use super::*;

#[test]
fn local_addr_for_picks_the_remote_family() {
    let v6 = ipv6_available();
    let mut listeners = vec![
        (Transport::Udp, "127.0.0.1:0"),
        (Transport::Tcp, "127.0.0.1:0"),
    ];
    if v6 {
        listeners.push((Transport::Udp, "[::1]:0"));
        listeners.push((Transport::Tcp, "[::1]:0"));
    }
    let (t, _rx) = start(&listeners);
    let remote4: SocketAddr = "192.0.2.7:5060".parse().expect("addr");
    let remote6: SocketAddr = "[2001:db8::7]:5060".parse().expect("addr");
    let mapped: SocketAddr = "[::ffff:192.0.2.7]:5060".parse().expect("addr");
    for transport in [Transport::Udp, Transport::Tcp] {
        let v4 = t.local_addr_for(transport, remote4).expect("IPv4 listener");
        assert_eq!(v4, bound(&t, transport, true));
        assert_eq!(t.local_addr_for(transport, mapped), Some(v4));
        let got6 = t.local_addr_for(transport, remote6);
        if v6 {
            assert_eq!(got6, Some(bound(&t, transport, false)));
        } else {
            assert_eq!(got6, None);
        }
    }
    assert_eq!(t.local_addr_for(Transport::Tls, remote4), None);
    assert_eq!(t.local_addrs().len(), listeners.len());
    t.shutdown();
}

#[test]
fn local_addr_for_wildcard_reports_the_routed_address() {
    let (t, _rx) = start(&[(Transport::Udp, "0.0.0.0:0")]);
    let port = bound(&t, Transport::Udp, true).port();
    let got = t
        .local_addr_for(Transport::Udp, "127.0.0.1:5060".parse().expect("addr"))
        .expect("IPv4 listener");
    assert_eq!(got, SocketAddr::from(([127, 0, 0, 1], port)));
    t.shutdown();
}
