//! Transport counters, readable at any time from any thread.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters kept by the transports. All are monotonic except `connections_open`, a gauge.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages received (datagrams and framed stream messages), before queueing.
    pub received: AtomicU64,
    /// Messages written successfully.
    pub sent: AtomicU64,
    /// Received messages dropped because the inbound channel was full.
    pub dropped_queue_full: AtomicU64,
    /// UDP datagrams dropped for being over `max_udp_datagram`.
    pub dropped_too_large: AtomicU64,
    /// Stream connections closed because the byte stream could not be framed
    /// (bad or missing Content-Length, header section or body over the limits).
    pub invalid_frames: AtomicU64,
    /// Of those, the ones whose request was answered (513, 413 or 400) before the close.
    pub invalid_frames_answered: AtomicU64,
    /// Stream connections open now (gauge).
    pub connections_open: AtomicU64,
    /// Stream connections refused at `max_connections` (inbound closed at once, outbound not opened).
    pub connections_refused: AtomicU64,
    /// Stream connections closed by the message (slow-loris) or idle timeout.
    pub connections_closed_timeout: AtomicU64,
    /// CRLFCRLF pings on streams answered with a CRLF pong (RFC 5626 §3.5.1).
    pub keepalives_answered: AtomicU64,
    /// CRLF-only UDP datagrams (keep-alives) ignored.
    pub keepalives_ignored: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Subtracts one from a gauge.
pub(crate) fn dec(counter: &AtomicU64) {
    counter.fetch_sub(1, Ordering::Relaxed);
}
