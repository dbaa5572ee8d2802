//! Resource limits for the transports: sizes, connection counts and timeouts.

use std::time::Duration;

/// How often blocking socket calls wake up to check timeouts and shutdown.
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// Size of the UDP receive buffer: the largest datagram the OS can hand us.
pub(crate) const UDP_RECV_BUFFER: usize = 64 * 1024;

/// Bytes read from a stream per `read` call.
pub(crate) const STREAM_READ_CHUNK: usize = 16 * 1024;

/// How long a stream closed after an error answer is still read (and discarded), so the close
/// does not reset the connection before the peer has read the answer.
pub(crate) const LINGER: Duration = Duration::from_secs(1);

/// Most bytes read (and discarded) during [`LINGER`].
pub(crate) const LINGER_BYTES: usize = 1024 * 1024;

/// Stack size for per-connection reader threads (they keep no large buffers on the stack).
pub(crate) const READER_STACK: usize = 256 * 1024;

/// Limits the transports enforce. Every field has a safe default ([`Limits::default`]).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest UDP datagram accepted (and sent); larger ones are dropped and counted.
    pub max_udp_datagram: usize,
    /// Largest header section of a stream message; over it a request is answered 513 (when the
    /// part read holds a Via, From, To, Call-ID and CSeq) and the connection is closed.
    pub max_header_bytes: usize,
    /// Largest body (Content-Length) of a stream message; over it a request is answered 413
    /// (when it can be) and the connection is closed.
    pub max_body_bytes: usize,
    /// Most live stream connections (accepted and outbound together). At the limit a new
    /// inbound connection is accepted and closed at once, and an outbound connect fails;
    /// both are counted in [`Stats::connections_refused`](super::Stats::connections_refused).
    pub max_connections: usize,
    /// A stream message whose first byte has arrived must be complete within this
    /// (slow-loris guard); it is also the write timeout on stream connections.
    pub message_timeout: Duration,
    /// A connection with no traffic in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// Timeout for opening an outbound TCP connection.
    pub connect_timeout: Duration,
    /// SO_RCVBUF / SO_SNDBUF requested for UDP sockets (failure is ignored: the OS may cap it).
    pub socket_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_udp_datagram: 65_535,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            max_connections: 1024,
            message_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(3),
            socket_buffer_bytes: 4 * 1024 * 1024,
        }
    }
}
