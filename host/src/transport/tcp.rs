//! TCP: listeners with an acceptor thread each, outbound connects, and sending on a
//! connection (reusing the peer's own connection when there is one, RFC 3261 §18.2.2).

use super::connections::Connection;
use super::limits::{READER_STACK, TICK};
use super::shared::Shared;
use super::{family, stream, Destination, SendError, Transport};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Pending connections the kernel queues for us.
const BACKLOG: i32 = 1024;

/// Pause after an accept error (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Binds a listening socket. IPv6 sockets are IPv6-only (so `0.0.0.0` and `[::]` can share
/// a port); the read timeout makes `accept` return every tick (Linux applies SO_RCVTIMEO
/// to accept), so the acceptor notices shutdown.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_read_timeout(Some(TICK))?;
    Ok(socket.into())
}

/// Starts the acceptor thread of `listener`, bound at `local`.
pub(crate) fn spawn_acceptor(
    shared: &Arc<Shared>,
    listener: TcpListener,
    local: SocketAddr,
) -> std::io::Result<()> {
    shared.spawn(format!("sip-tcp {local}"), None, move |shared| {
        accept_loop(&shared, &listener, local);
    })
}

/// Accepts connections until shutdown; the listener closes when this returns.
fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener, local: SocketAddr) {
    tracing::debug!(%local, "TCP acceptor started");
    while !shared.is_stopped() {
        match listener.accept() {
            Ok((stream, remote)) => {
                if shared.is_stopped() {
                    break;
                }
                if let Err(e) = start_connection(shared, stream, remote, local) {
                    tracing::debug!(%local, %remote, error = %e, "inbound connection not started");
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(%local, error = %e, "TCP accept failed");
                std::thread::sleep(ACCEPT_ERROR_PAUSE);
            }
        }
    }
    tracing::debug!(%local, "TCP acceptor stopped");
}

/// Configures `stream`, registers it (closing it at once over `max_connections`) and
/// starts its reader thread.
fn start_connection(
    shared: &Arc<Shared>,
    stream: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
) -> std::io::Result<Arc<Connection>> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(TICK))?;
    stream.set_write_timeout(Some(shared.limits.message_timeout))?;
    let writer = stream.try_clone()?;
    let socket = stream.try_clone()?;
    let id = shared.connections.next_id();
    let conn = Arc::new(Connection::new(
        id,
        Transport::Tcp,
        remote,
        local,
        socket,
        Box::new(writer),
    ));
    if !shared.connections.insert(Arc::clone(&conn), &shared.stats) {
        // Dropping the last handle closes the socket.
        tracing::warn!(
            %remote,
            max = shared.limits.max_connections,
            "connection limit reached: connection refused"
        );
        return Err(std::io::Error::other(format!(
            "connection limit ({}) reached",
            shared.limits.max_connections
        )));
    }
    tracing::debug!(id, %remote, %local, "TCP connection open");
    let reader_conn = Arc::clone(&conn);
    let spawned = shared.spawn(
        format!("sip-tcp-conn {id}"),
        Some(READER_STACK),
        move |shared| stream::serve(&shared, &reader_conn, stream),
    );
    if let Err(e) = spawned {
        shared.connections.close(&conn, &shared.stats);
        return Err(e);
    }
    if shared.is_stopped() {
        // Shutdown raced with this connection: do not leave it behind.
        shared.connections.close(&conn, &shared.stats);
        return Err(std::io::Error::other("transports shut down"));
    }
    Ok(conn)
}

/// Sends on `dest.connection` if it is alive, else on a live connection to `dest.addr`,
/// else on a new connection from a listener of the same family (`listeners`).
pub(crate) fn send(
    shared: &Arc<Shared>,
    listeners: &[SocketAddr],
    dest: &Destination,
    data: &[u8],
) -> Result<(), SendError> {
    let existing = dest
        .connection
        .and_then(|id| shared.connections.get(id))
        .filter(|c| c.transport == dest.transport)
        .or_else(|| shared.connections.find(dest.transport, dest.addr));
    let conn = match existing {
        Some(conn) => conn,
        None => connect(shared, listeners, dest.addr)?,
    };
    conn.write(data).inspect_err(|e| {
        tracing::debug!(id = conn.id, remote = %conn.remote, error = %e, "write failed: closing");
        shared.connections.close(&conn, &shared.stats);
    })
}

/// Opens, registers and starts reading a connection to `addr`.
fn connect(
    shared: &Arc<Shared>,
    listeners: &[SocketAddr],
    addr: SocketAddr,
) -> Result<Arc<Connection>, SendError> {
    if !listeners.iter().any(|l| l.is_ipv4() == addr.is_ipv4()) {
        return Err(SendError::NoListener(Transport::Tcp, family(addr)));
    }
    let stream = TcpStream::connect_timeout(&addr, shared.limits.connect_timeout)
        .map_err(SendError::Connect)?;
    let local = stream.local_addr().map_err(SendError::Connect)?;
    tracing::debug!(%addr, %local, "TCP connection opened");
    start_connection(shared, stream, addr, local).map_err(SendError::Connect)
}
