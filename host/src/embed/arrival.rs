//! What the embedding proxy knows about a message it hands over.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use sip_interop_abi::sdk::Transport;

/// A message as the proxy received it.
#[derive(Clone, Debug)]
pub struct Arrival<'a> {
    /// The raw message bytes (start line, headers, body).
    pub bytes: &'a [u8],
    /// Where it came from.
    pub source: SocketAddr,
    /// The proxy's address it arrived on (`0.0.0.0:0` when the proxy does not say).
    pub local: SocketAddr,
    /// The transport it arrived on.
    pub transport: Transport,
    /// The TLS peer's verified certificate names (empty without TLS).
    pub tls_peer_names: Vec<String>,
}

impl<'a> Arrival<'a> {
    /// A message from `source` over `transport`, local address unknown, no TLS names.
    pub fn new(bytes: &'a [u8], source: SocketAddr, transport: Transport) -> Self {
        Arrival {
            bytes,
            source,
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            transport,
            tls_peer_names: Vec::new(),
        }
    }
}

/// An IP address as proxies print it: `192.0.2.1`, `2001:db8::1` or `[2001:db8::1]`.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}
