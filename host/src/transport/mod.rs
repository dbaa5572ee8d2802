//! SIP transports for the standalone proxy: UDP datagrams and TCP streams framed by
//! Content-Length, with keep-alives, size limits, slow-loris and idle timeouts, and a
//! connection table so responses and in-dialog requests reuse the peer's connection
//! (RFC 3261 §18).
//!
//! Threads, no async runtime: one receive thread per UDP listener, one acceptor per TCP
//! listener and one reader per connection (bounded by [`Limits::max_connections`]).
//! Every blocking call wakes at least every 250 ms to check timeouts and shutdown.
//! Received messages go to a bounded crossbeam channel with `try_send`: a full queue
//! drops the message and counts it rather than stalling the sockets.

mod connections;
mod error;
mod limits;
mod refusal;
mod shared;
mod stats;
mod stream;
mod tcp;
mod udp;

#[cfg(test)]
mod tests;

pub use error::SendError;
pub use limits::Limits;
pub use sip_interop_abi::sdk::Transport;
pub use stats::Stats;

use shared::Shared;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

/// Identifies one stream connection for as long as the process runs (ids are never reused).
pub type ConnectionId = u64;

/// A socket to listen on. Port 0 picks a free port (see [`Transports::local_addrs`]).
#[derive(Clone, Debug)]
pub struct ListenerSpec {
    /// `Udp` or `Tcp`.
    pub transport: Transport,
    /// Address to bind.
    pub addr: SocketAddr,
}

/// One received message: a whole datagram, or one framed stream message.
#[derive(Debug)]
pub struct Inbound {
    /// The message bytes, exactly (no trailing bytes of the next message).
    pub data: Vec<u8>,
    /// The peer's address.
    pub source: SocketAddr,
    /// Our address it arrived on.
    pub local: SocketAddr,
    /// Transport it arrived on.
    pub transport: Transport,
    /// The stream connection it arrived on (`None` for UDP); pass it back in
    /// [`Destination::connection`] to answer on the same connection.
    pub connection: Option<ConnectionId>,
    /// When it was read from the socket.
    pub received_at: Instant,
}

/// Where to send a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Destination {
    /// `Udp` or `Tcp`.
    pub transport: Transport,
    /// The peer's address.
    pub addr: SocketAddr,
    /// A connection to prefer (streams only); ignored when it has closed.
    pub connection: Option<ConnectionId>,
}

/// The running transports. Shared as `Arc<Transports>`; every method takes `&self`.
/// Dropping the last handle shuts the transports down.
pub struct Transports {
    shared: Arc<Shared>,
    udp: Vec<udp::UdpEndpoint>,
    tcp: Vec<SocketAddr>,
}

impl Transports {
    /// Binds every listener (port 0 allowed) and starts its threads. Received messages are
    /// queued on `inbound` with `try_send`; a full channel drops the message and counts it.
    ///
    /// Fails on the first listener that cannot be bound (or a thread that cannot be
    /// started); threads already started are stopped again.
    pub fn start(
        listeners: &[ListenerSpec],
        limits: Limits,
        inbound: crossbeam_channel::Sender<Inbound>,
    ) -> std::io::Result<Arc<Transports>> {
        let socket_buffer = limits.socket_buffer_bytes;
        let mut transports = Transports {
            shared: Arc::new(Shared::new(limits, inbound)),
            udp: Vec::new(),
            tcp: Vec::new(),
        };
        // On an early return `transports` is dropped, which stops what was started.
        for spec in listeners {
            let addr = normalise(spec.addr);
            let with_addr = |e: std::io::Error| {
                std::io::Error::new(
                    e.kind(),
                    format!("{} listener {addr}: {e}", spec.transport.as_str()),
                )
            };
            match spec.transport {
                Transport::Udp => {
                    let endpoint = udp::bind(addr, socket_buffer).map_err(with_addr)?;
                    udp::spawn_receiver(&transports.shared, &endpoint).map_err(with_addr)?;
                    tracing::debug!(local = %endpoint.local, "UDP listener bound");
                    transports.udp.push(endpoint);
                }
                Transport::Tcp => {
                    let listener = tcp::bind(addr).map_err(with_addr)?;
                    let local = listener.local_addr().map_err(with_addr)?;
                    tcp::spawn_acceptor(&transports.shared, listener, local).map_err(with_addr)?;
                    tracing::debug!(%local, "TCP listener bound");
                    transports.tcp.push(local);
                }
                other => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::Unsupported,
                        format!(
                            "{} listener {addr}: transport not supported",
                            other.as_str()
                        ),
                    ))
                }
            }
        }
        Ok(Arc::new(transports))
    }

    /// The actual bound address of every listener, in the order they were given.
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.udp
            .iter()
            .map(|e| (Transport::Udp, e.local))
            .chain(self.tcp.iter().map(|a| (Transport::Tcp, *a)))
            .collect()
    }

    /// Our address for `transport` in `remote`'s address family (for Via / Record-Route).
    /// A wildcard listener (`0.0.0.0`, `[::]`) reports the address the OS would route
    /// `remote` from, with the listener's port. `None` without such a listener.
    pub fn local_addr_for(&self, transport: Transport, remote: SocketAddr) -> Option<SocketAddr> {
        let remote = normalise(remote);
        let mut local = self
            .local_addrs()
            .into_iter()
            .find(|(t, a)| *t == transport && a.is_ipv4() == remote.is_ipv4())?
            .1;
        if local.ip().is_unspecified() {
            if let Some(ip) = route_source(remote) {
                local.set_ip(ip);
            }
        }
        Some(local)
    }

    /// Sends one message. UDP: from the listener of `dest.addr`'s family. TCP: on
    /// `dest.connection` if alive, else on a live connection to `dest.addr`, else on a new
    /// connection (opened within `connect_timeout`, then read like an accepted one).
    /// Blocks for at most `connect_timeout` plus `message_timeout`.
    pub fn send(&self, dest: &Destination, data: &[u8]) -> Result<(), SendError> {
        let addr = normalise(dest.addr);
        if self.shared.is_stopped() {
            return Err(SendError::NoListener(dest.transport, family(addr)));
        }
        let dest = Destination { addr, ..*dest };
        match dest.transport {
            Transport::Udp => udp::send(&self.shared, &self.udp, addr, data)?,
            Transport::Tcp => tcp::send(&self.shared, &self.tcp, &dest, data)?,
            other => return Err(SendError::NoListener(other, family(addr))),
        }
        stats::inc(&self.shared.stats.sent);
        Ok(())
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Stops accepting and reading, closes every connection and waits for the threads
    /// (they notice within about 250 ms). Afterwards `send` fails with `NoListener`.
    /// Idempotent.
    pub fn shutdown(&self) {
        if !self.shared.stop() {
            return;
        }
        for conn in self.shared.connections.all() {
            self.shared.connections.close(&conn, &self.shared.stats);
        }
        self.shared.join_threads();
        tracing::debug!("transports stopped");
    }
}

impl Drop for Transports {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `"IPv4"` or `"IPv6"`, as in [`SendError::NoListener`].
fn family(addr: SocketAddr) -> &'static str {
    if addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// Turns an IPv4-mapped IPv6 address (`[::ffff:a.b.c.d]`) into plain IPv4: listeners
/// are single-family, so such a peer is reached from the IPv4 socket.
fn normalise(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

/// The source address the OS would use towards `remote` (a connected UDP socket sends nothing).
fn route_source(remote: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if remote.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = UdpSocket::bind(any).ok()?;
    probe.connect(remote).ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}
