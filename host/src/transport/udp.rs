//! UDP: one socket and one receive thread per listener; sending from the listener socket.

use super::limits::{TICK, UDP_RECV_BUFFER};
use super::shared::Shared;
use super::stats::inc;
use super::{family, Inbound, SendError, Transport};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pause after an unexpected receive error.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// A bound UDP listener; the socket is shared by its receive thread and senders.
pub(crate) struct UdpEndpoint {
    pub(crate) socket: Arc<UdpSocket>,
    pub(crate) local: SocketAddr,
}

/// Binds `addr` (IPv6 sockets are IPv6-only so `0.0.0.0` and `[::]` can share a port),
/// asks for `buffer_bytes` socket buffers (ignoring refusal) and sets the read tick.
pub(crate) fn bind(addr: SocketAddr, buffer_bytes: usize) -> std::io::Result<UdpEndpoint> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if let Err(e) = socket.set_recv_buffer_size(buffer_bytes) {
        tracing::debug!(%addr, error = %e, "SO_RCVBUF not set");
    }
    if let Err(e) = socket.set_send_buffer_size(buffer_bytes) {
        tracing::debug!(%addr, error = %e, "SO_SNDBUF not set");
    }
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(TICK))?;
    let local = socket.local_addr()?;
    Ok(UdpEndpoint {
        socket: Arc::new(socket),
        local,
    })
}

/// Starts the receive thread of `endpoint`.
pub(crate) fn spawn_receiver(shared: &Arc<Shared>, endpoint: &UdpEndpoint) -> std::io::Result<()> {
    let socket = Arc::clone(&endpoint.socket);
    let local = endpoint.local;
    shared.spawn(format!("sip-udp {local}"), None, move |shared| {
        receive_loop(&shared, &socket, local);
    })
}

/// Receives datagrams until shutdown.
fn receive_loop(shared: &Shared, socket: &UdpSocket, local: SocketAddr) {
    tracing::debug!(%local, "UDP receiver started");
    let mut buf = vec![0u8; UDP_RECV_BUFFER];
    while !shared.is_stopped() {
        let (n, source) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => {
                // ICMP reports of earlier sends (ECONNREFUSED/RESET) and the like: keep
                // going, pausing briefly so a persistent error cannot spin the thread.
                tracing::debug!(%local, error = %e, "UDP receive error");
                if !matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                ) {
                    std::thread::sleep(RECEIVE_ERROR_PAUSE);
                }
                continue;
            }
        };
        let data = &buf[..n];
        if n > shared.limits.max_udp_datagram {
            inc(&shared.stats.dropped_too_large);
            tracing::warn!(%local, %source, bytes = n, "UDP datagram too large: dropped");
        } else if data.iter().all(|b| *b == b'\r' || *b == b'\n') {
            // Empty datagrams and CRLF keep-alives carry no message.
            inc(&shared.stats.keepalives_ignored);
        } else {
            shared.deliver(Inbound {
                data: data.to_vec(),
                source,
                local,
                transport: Transport::Udp,
                connection: None,
                received_at: Instant::now(),
            });
        }
    }
    tracing::debug!(%local, "UDP receiver stopped");
}

/// Sends one datagram to `addr` from the first listener of the same address family.
pub(crate) fn send(
    shared: &Shared,
    endpoints: &[UdpEndpoint],
    addr: SocketAddr,
    data: &[u8],
) -> Result<(), SendError> {
    if data.len() > shared.limits.max_udp_datagram {
        return Err(SendError::TooLarge(data.len()));
    }
    let endpoint = endpoints
        .iter()
        .find(|e| e.local.is_ipv4() == addr.is_ipv4())
        .ok_or(SendError::NoListener(Transport::Udp, family(addr)))?;
    let n = endpoint.socket.send_to(data, addr).map_err(SendError::Io)?;
    if n != data.len() {
        return Err(SendError::Io(std::io::Error::new(
            ErrorKind::WriteZero,
            format!("datagram truncated to {n} of {} bytes", data.len()),
        )));
    }
    Ok(())
}
